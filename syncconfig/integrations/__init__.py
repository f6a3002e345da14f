"""Integration-specific behaviour, in small modules the engine calls at fixed points.

The engine knows nothing of Person Accounts or tags; a sync between two kinds of system may
have an :class:`Integration` that narrows what is synced, completes what is created and does
the follow-up writes (such as tags) that the integration promises.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from connectors.base import Record, WriteResult
    from syncconfig.engine import Change, Direction
    from syncconfig.models import Sync, SyncRun


REGISTRY: dict[str, type["Integration"]] = {}


@dataclass
class IntegrationOptions:
    """An integration's settings (a dataclass of these), kept in ``Sync.options``."""

    @classmethod
    def of(cls, sync: Sync):
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in (sync.options or {}).items() if k in known})

    def save(self, sync: Sync) -> None:
        sync.options = {**(sync.options or {}), **asdict(self)}
        sync.save(update_fields=["options", "updated_at"])


def register(cls: type["Integration"]) -> type["Integration"]:
    """Class decorator: make an integration available to syncs under its ``key``."""
    if cls.key in REGISTRY and REGISTRY[cls.key] is not cls:
        raise ValueError(f"Two integrations share the key {cls.key!r}.")
    REGISTRY[cls.key] = cls
    return cls


class Integration:
    """A sync's integration: what it joins, its settings pages and its hooks, each doing
    nothing by default. A sync names its integration (``Sync.integration``); several may join
    the same kinds of system (a vendor's legacy and new model, say)."""

    key: ClassVar[str] = "generic"
    label: ClassVar[str] = "Plain sync (fields as mapped)"
    kinds: ClassVar[frozenset[str]] = frozenset()  # the systems it joins; empty: any two
    default_for_kinds: ClassVar[bool] = True  # offered first for a new sync between its kinds
    settings_pages: ClassVar[tuple[tuple[str, str], ...]] = ()  # (button label, URL name taking the sync's pk)
    options_class: ClassVar[type[IntegrationOptions]] = IntegrationOptions  # its settings

    def __init__(self, sync: Sync):
        self.sync = sync

    @classmethod
    def joins(cls, kinds: set[str]) -> bool:
        return not cls.kinds or set(kinds) == set(cls.kinds)

    @classmethod
    def after_merge(cls, *, master, primary, gone, job, primary_was=()) -> dict | None:
        """Duplicates were merged (``master``, ``primary`` and each of ``gone`` are (connection
        id, object, record id)): put this integration's links right. None when it has none."""
        return None

    @classmethod
    def fills_on_create(cls, kind: str, object_name: str) -> frozenset[str]:
        """Fields of a new ``object_name`` record in a ``kind`` system that the integration (or
        the system, for the records the integration makes) fills without a mapping: the
        set-up does not flag them as required and unmapped."""
        return frozenset()

    def extra_source_fields(self, direction: Direction) -> list[str]:
        """Fields the integration needs to read besides the mapped ones."""
        return []

    def route(self, direction: Direction, records: list[Record]) -> list[tuple[Direction, list[Record]]]:
        """Split a page among the objects its records go to, each part with the direction that
        writes it (``dataclasses.replace(direction, target_object_name=..., pairs=...)``); the
        place, too, for look-ups a whole page needs at once. All to the sync's object by default."""
        return [(direction, records)]

    def before_run(self, direction: Direction, run: SyncRun) -> None:
        """Called as a run starts a direction, before anything is read: may end the run by
        raising ``engine.Stop`` (e.g. a vendor's allowance of runs per month is spent)."""

    def skip_reason(self, direction: Direction, record: Record) -> str:
        """Why this record stays out of the sync ("" to let it through)."""
        return ""

    def create_skip_reason(self, direction: Direction, record: Record) -> str:
        """Why a record in scope that has no partner yet is not created ("" to create it):
        e.g. a contact that came from the target and lost its partner is not made again."""
        return ""

    def prepare_create(self, direction: Direction, change: Change) -> None:
        """Complete the values of a record about to be created (e.g. its record type)."""

    def create_tags(self, direction: Direction, change: Change) -> list[str]:
        """Tags a record is owed if the write creates it (AC-8's): handed to the target with
        the record, so that a target able to write them in the same request does; those it
        did are ``WriteResult.tagged``, the rest are for ``after_write``."""
        return []

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


register(Integration)


def _load() -> None:
    """Import the integration modules so that they register (once)."""
    from . import (  # noqa: F401
        hubspot_activecampaign,
        hubspot_salesforce,
        lemontaps_salesforce,
        person_accounts,
        zoho_campaigns,
        zoho_campaigns_legacy,
    )


def integration_class(key: str) -> type[Integration]:
    _load()
    return REGISTRY.get(key or "generic", Integration)


def integration_for(sync: Sync) -> Integration:
    return integration_class(sync.integration)(sync)


def all_integrations() -> list[type[Integration]]:
    _load()
    return list(REGISTRY.values())


def integrations_joining(kinds: set[str]) -> list[type[Integration]]:
    """The integrations a sync between these kinds of system may use, the default first."""
    _load()
    fitting = [cls for cls in REGISTRY.values() if cls.kinds and cls.joins(kinds)]
    fitting.sort(key=lambda cls: (not cls.default_for_kinds, cls.label))
    return fitting + [Integration]


def default_integration(kinds: set[str]) -> str:
    return integrations_joining(kinds)[0].key
