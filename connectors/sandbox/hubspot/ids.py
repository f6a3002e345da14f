"""Per-account ids: contacts, notes, subscriptions and webhook events each count 1, 2, 3, …
within their account."""
from __future__ import annotations

from django.db import transaction

from connectors.sandbox.models.hubspot import HsAccount


def allocate_ids(account: HsAccount, kind: str, count: int = 1) -> int:
    """Reserve ``count`` consecutive ids of ``kind``; returns the first. The account row is
    locked meanwhile, so concurrent writers never share an id."""
    with transaction.atomic():
        counters = HsAccount.objects.select_for_update().values_list("next_ids", flat=True).get(pk=account.pk)
        first = counters.get(kind, 0) + 1
        counters[kind] = first + count - 1
        HsAccount.objects.filter(pk=account.pk).update(next_ids=counters)
    return first
