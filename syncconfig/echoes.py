"""Echoes: a vendor's notification of nothing but the portal's own writes starts no run.

Each write the portal makes to a system that notifies comes back as a change notification,
and each notification starts a run of the immediate syncs reading that system: a run that
reads the write back, finds it unchanged, and costs its API calls for nothing. So the portal
notes what it wrote, per record (``OwnWrite``: a fingerprint of each field's value after the
write, whether it created the record, the tags it applied), for ``ECHO_WINDOW``; a
notification all of whose changes are such writes, with the same values in every field the
immediate syncs read, is an echo and starts nothing. A person's change of a field a sync
reads makes a value differ, and a run starts as before.

The cost is kept small: a write is noted only where an immediate sync reads the object from
a connection whose notifications are registered, fingerprints are 16 hex characters (never
the value), a batch's notes go in one insert with its outcome, and the immediate-sync poll
deletes notes past the window. A notification the connector cannot read, or one that
arrives after the window, starts a run as before; and the poll still runs every immediate
sync, so nothing a notification wrongly taken for an echo carried is lost, only later.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from connectors.base import WebhookEvent, WriteResult

from .models import Connection, OwnWrite, Sync
from .services import runnable_syncs

log = logging.getLogger(__name__)

# How long a write's notification is recognised. Vendors notify within seconds (HubSpot
# batches for a few, ActiveCampaign posts at once); a retry of a failed delivery comes later,
# and starts a run that finds nothing, as before.
ECHO_WINDOW = timedelta(minutes=5)

# What a write of the portal can cause. Deletions, merges, restores, list subscriptions and
# tags taken off are never taken for echoes: a run looks at each.
CREATED, UPDATED, TAG_ADDED = "created", "updated", "tag_added"
ECHOING = frozenset({CREATED, UPDATED, TAG_ADDED})


def fingerprint(value: Any) -> str:
    """A short fingerprint of a value as the vendor sends it back: blanks alike, text trimmed,
    true and false in lower case, several values joined with ";" (HubSpot's way)."""
    return hashlib.sha256(_as_sent(value).encode()).hexdigest()[:16]


def _as_sent(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, set, frozenset)):
        return ";".join(_as_sent(v) for v in value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value).strip()


def _reading(connection_id: int, object_name: str = ""):
    """The runnable immediate syncs that read ``connection_id`` (its ``object_name``, when given):
    as its source, or as the target of a two-way sync."""
    as_source = Q(source_id=connection_id) & (Q(source_object=object_name) if object_name else Q())
    as_target = Q(target_id=connection_id, direction=Sync.Direction.TWO_WAY) & (
        Q(target_object=object_name) if object_name else Q())
    return runnable_syncs().filter(trigger=Sync.Trigger.IMMEDIATE).filter(as_source | as_target)


def own_writes_listened(connection_id: int | None, object_name: str) -> bool:
    """Whether a write to ``object_name`` of the connection would come back as a notification
    that starts a run: an immediate sync reads it, and the vendor was asked to notify."""
    if connection_id is None:
        return False
    return (Connection.objects.filter(pk=connection_id, webhook_registered_at__isnull=False).exists()
            and _reading(connection_id, object_name).exists())


def own_write(connection_id: int, object_name: str, record_id: str, values: dict[str, Any], *,
              created: bool = False, tags: Iterable[str] = ()) -> OwnWrite:
    """The note (unsaved) of one record the portal wrote: ``values`` are what its fields hold
    after the write, as far as the portal knows (at least every field it wrote)."""
    return OwnWrite(connection_id=connection_id, object_name=object_name, record_id=str(record_id),
                    values={name: fingerprint(value) for name, value in values.items()}, created=created,
                    tags=list(dict.fromkeys(tags)))


def own_writes_note(*, connector, object_name: str, records: list[dict], results: list[WriteResult]) -> int:
    """Note the follow-up writes an integration made by itself (each record with its ``Id``),
    e.g. a partner's id written back: their notifications then start no run. Returns how
    many were noted."""
    if not own_writes_listened(connector.connection_id, object_name):
        return 0
    notes = [own_write(connector.connection_id, object_name, result.id or record.get("Id"),
                       {k: v for k, v in record.items() if k not in ("Id", "id")})
             for record, result in zip(records, results) if result.ok and (result.id or record.get("Id"))]
    OwnWrite.objects.bulk_create(notes)
    return len(notes)


def own_writes_prune(*, now: datetime | None = None) -> int:
    """Forget the writes past the window (the immediate-sync poll does, every few seconds)."""
    deleted, _ = OwnWrite.objects.filter(written_at__lt=(now or timezone.now()) - ECHO_WINDOW).delete()
    return deleted


def watched_fields(connection: Connection) -> dict[str, set[str]]:
    """By object, the fields of ``connection`` that the immediate syncs reading it read: the
    mapped ones (the key among them) and those their scope rules test. A change of any other
    field changes nothing a run would do."""
    watched: dict[str, set[str]] = {}
    for sync in _reading(connection.pk).prefetch_related("mappings", "rules"):
        for side in ("source", "target"):
            if getattr(sync, f"{side}_id") != connection.pk or (
                    side == "target" and sync.direction != Sync.Direction.TWO_WAY):
                continue
            fields = watched.setdefault(getattr(sync, f"{side}_object"), set())
            fields.update(getattr(m, f"{side}_field") for m in sync.mappings.all())
            fields.update(r.field for r in sync.rules.all() if r.enabled and r.side == side)
    return watched


def delivery_is_echo(*, connection: Connection, changes: list[WebhookEvent] | None, now: datetime | None = None) -> bool:
    """Whether a notification reports nothing but the portal's own writes of the last few
    minutes: every change is a creation, an update or a tag added, of a record the portal
    wrote within ``ECHO_WINDOW`` (created it, for a creation; applied the tag, for a tag),
    and every field it carries that an immediate sync reads has a value the portal wrote.
    A notification the connector could not read (None) or that reports nothing is no echo."""
    if not changes or any(c.type not in ECHOING or not c.record_id for c in changes):
        return False
    watched = watched_fields(connection)
    if not watched:
        return False  # nothing would run for it either way
    notes = OwnWrite.objects.filter(connection=connection, record_id__in={c.record_id for c in changes},
                                    written_at__gte=(now or timezone.now()) - ECHO_WINDOW)
    written: dict[tuple[str, str], dict[str, set[str]]] = {}
    created: set[tuple[str, str]] = set()
    tags: dict[tuple[str, str], set[str]] = {}
    for note in notes.only("object_name", "record_id", "created", "values", "tags"):
        key = (note.object_name, note.record_id)
        fields = written.setdefault(key, {})
        for name, mark in (note.values or {}).items():
            fields.setdefault(name, set()).add(mark)
        if note.created:
            created.add(key)
        tags.setdefault(key, set()).update(note.tags or [])
    for change in changes:
        key = (change.object, change.record_id)
        if key not in written:
            return False
        if change.type == CREATED and key not in created:
            return False
        if change.type == TAG_ADDED and change.tag not in tags[key]:
            return False
        read = watched.get(change.object, set())
        for name, value in change.fields.items():
            if name in read and fingerprint(value) not in written[key].get(name, ()):
                return False
    return True


def connection_echo_count(*, connection: Connection) -> None:
    """Count one notification ignored as an echo on the connection, for today (the count
    starts again on a new day)."""
    today = timezone.localdate()
    Connection.objects.filter(pk=connection.pk).update(
        echoes_ignored=Case(When(echoes_day=today, then=F("echoes_ignored") + 1), default=Value(1)),
        echoes_day=today)
