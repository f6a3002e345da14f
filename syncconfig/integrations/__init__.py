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


def integration_for(sync: Sync) -> Integration:
    from .person_accounts import PersonAccountIntegration

    kinds = {sync.source.kind, sync.target.kind}
    if kinds == {"activecampaign", "salesforce"}:
        return PersonAccountIntegration(sync)
    return Integration(sync)
