"""Per-organisation ids: a large base plus a running number per kind, so that ids look like
Zoho's (``4150868000000224005``) and never collide between organisations."""
from __future__ import annotations

from django.db import transaction

from connectors.sandbox.models.zoho import ZohoOrg


def allocate_ids(org: ZohoOrg, kind: str, count: int = 1) -> int:
    """Reserve ``count`` consecutive ids of ``kind``; returns the first. The organisation
    row is locked meanwhile, so concurrent writers never share an id."""
    with transaction.atomic():
        counters = ZohoOrg.objects.select_for_update().values_list("next_ids", flat=True).get(pk=org.pk)
        first = counters.get(kind, 0) + 1
        counters[kind] = first + count - 1
        ZohoOrg.objects.filter(pk=org.pk).update(next_ids=counters)
    return org.id_base + first * 1000 + 5 if kind == "record" else org.id_base + first


def record_ids(org: ZohoOrg, count: int) -> list[int]:
    """``count`` fresh record ids, increasing (spaced like Zoho's, which are not consecutive)."""
    first = allocate_ids(org, "record", count)
    return [first + n * 1000 for n in range(count)]
