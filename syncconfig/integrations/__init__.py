"""Integration-specific behaviour, in small modules the engine calls at fixed points.

The engine knows nothing of Person Accounts or tags; a sync between two kinds of system may
have an :class:`Integration` that narrows what is synced, completes what is created and does
the follow-up writes (such as tags) that the integration promises.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from connectors.base import Record, WriteResult
    from syncconfig.engine import Change, Direction
    from syncconfig.models import Sync


class Integration:
    """The hooks, each doing nothing by default."""

    def __init__(self, sync: Sync):
        self.sync = sync

    def extra_source_fields(self, direction: Direction) -> list[str]:
        """Fields the integration needs to read besides the mapped ones."""
        return []

    def skip_reason(self, direction: Direction, record: Record) -> str:
        """Why this record stays out of the sync ("" to let it through)."""
        return ""

    def prepare_create(self, direction: Direction, change: Change) -> None:
        """Complete the values of a record about to be created (e.g. its record type)."""

    def after_write(self, direction: Direction, written: list[tuple[Change, WriteResult]]) -> None:
        """Follow-up writes for records just created or updated (e.g. tags)."""

    def after_run(self, direction: Direction) -> None:
        """Work at the end of a direction's run (e.g. a clean-up automation)."""

    def looks_up_before_upsert(self, direction: Direction) -> bool:
        """Whether partners are looked up by key even where an upsert by that key would find
        them: so that a record never overwrites a partner that belongs to another record."""
        return False

    def relinks(self, direction: Direction) -> bool:
        """Whether linked records look their partner up by key again on every run, so that the
        integration's link policy may move a link (never a pinned one)."""
        return False

    def choose_partner(self, direction: Direction, change: Change, free: list[Record], all_found: list[Record]) -> tuple[Record | None, str]:
        """The partner among those found by key (newest first; ``free`` are not linked to
        another record) and why; the first free one by default."""
        return (free[0], "") if free else (None, "")

    def partner_gone(self, direction: Direction, change: Change) -> str:
        """A linked partner no longer exists: a reason to stop and ask a person, or "" to
        create a new partner and relink (the default)."""
        return ""


def integration_for(sync: Sync) -> Integration:
    from .hubspot_salesforce import HubSpotSalesforceIntegration
    from .person_accounts import PersonAccountIntegration

    kinds = {sync.source.kind, sync.target.kind}
    if kinds == {"activecampaign", "salesforce"}:
        return PersonAccountIntegration(sync)
    if kinds == {"hubspot", "salesforce"}:
        return HubSpotSalesforceIntegration(sync)
    return Integration(sync)
