"""Per-account ids: every kind of object counts 1, 2, 3, … within its account, as each
ActiveCampaign account is its own database."""
from __future__ import annotations

from django.db import transaction

from connectors.sandbox.models.activecampaign import AcAccount


def allocate_ids(account: AcAccount, kind: str, count: int = 1) -> int:
    """Reserve ``count`` consecutive ids of ``kind`` (contact, tag, …); returns the first.
    The account row is locked meanwhile, so concurrent writers never share an id."""
    with transaction.atomic():
        counters = AcAccount.objects.select_for_update().values_list("next_ids", flat=True).get(pk=account.pk)
        first = counters.get(kind, 0) + 1
        counters[kind] = first + count - 1
        AcAccount.objects.filter(pk=account.pk).update(next_ids=counters)
    return first
