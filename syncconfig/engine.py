"""The sync engine: read → plan → apply, one page at a time.

1. **read** the source's changes since the watermark, a page at a time;
2. **plan** each record: find its partner (stored link first, then the key mapping), then
   create / update (field by field, under each mapping's policy) / skip / reject, with a reason;
3. **apply** the plan in the target's batches, store outcomes and links, and only then move
   the watermark past the page — so a run killed half-way resumes without loss, and creates
   go through an idempotency key so that a replayed page never creates twice.

A two-way sync runs both directions, each with its own watermark. A preview computes plans
without applying anything.
"""
from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from django.db import OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from connectors.base import (
    ANSWER_LOST,
    TAGS_IF_CREATED,
    AuthExpired,
    ConnectorError,
    Duplicate,
    NotFound,
    PermissionDenied,
    RateLimited,
    Record,
    Unavailable,
    ValidationFailed,
    WriteResult,
)

from . import echoes, preflight
from .integrations import Integration, integration_for
from .models import Connection, OwnWrite, RecordError, RecordLink, RecordLinkEvent, Sync, SyncRule, SyncRun, UpdatePolicy

log = logging.getLogger(__name__)

AUTO_RETRIES = 5  # a record failing on a passing fault is retried by itself up to this many times
RUN_CHANGES_KEPT = 200  # records whose changes a run's page shows, field by field
FOUND_WHEN_WRITTEN = "Found by its key when written: it was there already, and was updated."
FOLLOW_UP = "follow-up:"  # a pending entry written and recorded, whose integration follow-up is not done yet


def run_phase(run: SyncRun, phase: str) -> None:
    """Note what ``run`` is doing now (``SyncRun.Phase``) for its live page: one update when
    the phase changes, a few times a page, never per record."""
    if run.phase != phase:
        SyncRun.objects.filter(pk=run.pk).update(phase=phase)
        run.phase = phase


def api_calls_unstored(run: SyncRun) -> dict:
    """The API calls the run's connectors made since they were last stored, as increments
    for an update of the run, which stores them with each batch (a running run's page shows
    its cost so far, not 0 until the end). Empty before the connectors exist."""
    connectors = getattr(run, "connectors", None)
    if not connectors:
        return {}
    made = tuple(c.api_calls if c is not None else 0 for c in connectors)
    stored = getattr(run, "api_calls_stored", (0, 0))
    run.api_calls_stored = made
    return {"source_api_calls": F("source_api_calls") + (made[0] - stored[0]),
            "target_api_calls": F("target_api_calls") + (made[1] - stored[1])}


def _follows_up(integration: Integration, hook: str) -> bool:
    """Whether the integration does anything in ``hook`` (``after_write``, ``after_run``):
    only then does a run show its follow-up phase."""
    return getattr(type(integration), hook) is not getattr(Integration, hook)


def _shown(value: Any) -> Any:
    """A value as the run's page shows it (long texts cut)."""
    return value[:200] if isinstance(value, str) else value


class Stop(Exception):
    """Ends a run early (a limit, an outage, a configuration mistake): status and message, and
    for a pause, when the run may go on by itself."""

    def __init__(self, status: str, message: str, *, resume_after: timedelta | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.resume_after = resume_after


class TakenOver(Exception):
    """This execution lost its run to another (its heartbeat was missed): it stops writing."""


HEARTBEAT_EVERY = timedelta(seconds=15)  # well inside services.RUN_STALE_AFTER
PAUSE_FOR_BUDGET = timedelta(minutes=30)  # a budget is a rolling day: look again in a while
PAUSE_FOR_LIMIT = timedelta(hours=1)  # a spent daily allowance whose reset the vendor did not say
PAUSE_FOR_DATABASE = timedelta(minutes=1)  # the portal's database was locked or away for a moment
PAUSE_FOR_OUTAGE = timedelta(minutes=3)  # a vendor still unreachable after the connector's retries


class Heartbeat:
    """Beats on a run from a thread of its own while the run executes, so that a long vendor
    call or back-off never looks like a lost worker, and notices when the run was taken over
    (its claim is no longer this execution's)."""

    def __init__(self, run: SyncRun, every: timedelta = HEARTBEAT_EVERY):
        import threading

        self.run_id, self.claim, self.every = run.pk, run.claim, every.total_seconds()
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-run-{run.pk}", daemon=True)

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=self.every + 5)

    def _beat(self) -> None:
        from django.db import connection

        try:
            while not self._stop.wait(self.every):
                if not SyncRun.objects.filter(pk=self.run_id, claim=self.claim).update(heartbeat_at=timezone.now()):
                    self.lost = True
                    return
        except Exception:  # noqa: BLE001 - a missed beat must not end the run; the next one tries again
            log.warning("Heartbeat of run %s failed", self.run_id, exc_info=True)
        finally:
            connection.close()

    def check(self) -> None:
        if self.lost:
            raise TakenOver()


# --- one direction of a sync ------------------------------------------------------------------
@dataclass
class Direction:
    """A sync seen from one side: which connection is read, which is written, with which
    fields and policies, and where the watermark is kept."""

    sync: Sync
    forward: bool
    source: Any  # Connector
    target: Any  # Connector
    pairs: list[tuple[str, str, str]]  # (source field, target field, policy), policy in this direction
    key: tuple[str, str] | None  # (source field, target field) to find partners by
    rules: list[SyncRule]
    integration: Integration
    # The target object when the integration routes records to another object than the
    # sync's (see ``Integration.route``).
    target_object_name: str = ""
    # Records a person (or a retry) chose, rather than read from the change feed.
    chosen: bool = False

    @property
    def source_object(self) -> str:
        return self.sync.source_object if self.forward else self.sync.target_object

    @property
    def target_object(self) -> str:
        if self.target_object_name:
            return self.target_object_name
        return self.sync.target_object if self.forward else self.sync.source_object

    @property
    def watermark_field(self) -> str:
        return "source_watermark" if self.forward else "target_watermark"

    @property
    def id_field(self) -> str:
        """The target's external-id field that carries the source id (idempotent creates)."""
        return self.sync.target_id_field if self.forward else self.sync.source_id_field

    @property
    def record_digest_field(self) -> str:
        """The link's digest of the side this direction reads."""
        return "source_digest" if self.forward else "target_digest"

    @property
    def partner_digest_field(self) -> str:
        return "target_digest" if self.forward else "source_digest"

    def source_fields(self) -> list[str]:
        fields = [s for s, _, _ in self.pairs]  # all mapped fields: the digests cover them all
        fields += [self.key[0]] if self.key else []
        fields += [r.field for r in self.rules]
        fields += self.integration.extra_source_fields(self)
        return list(dict.fromkeys(fields))

    def target_fields(self) -> list[str]:
        fields = [t for _, t, _ in self.pairs]
        return list(dict.fromkeys(fields + ([self.key[1]] if self.key else [])))

    # Links are stored source→target of the sync; the way back reads them the other way round.
    def links_for(self, ids: Iterable[str]) -> dict[str, RecordLink]:
        ids = list(ids)
        if self.forward:
            links = RecordLink.objects.filter(sync=self.sync, source_object=self.source_object, source_id__in=ids)
            return {link.source_id: link for link in links}
        links = RecordLink.objects.filter(sync=self.sync, target_object=self.source_object, target_id__in=ids)
        return {link.target_id: link for link in links}

    def partners_linked(self, partner_ids: list[str]) -> set[str]:
        """Those of ``partner_ids`` already linked to some record of this side."""
        if self.forward:
            rows = RecordLink.objects.filter(sync=self.sync, target_object=self.target_object, target_id__in=partner_ids)
            return set(rows.values_list("target_id", flat=True))
        rows = RecordLink.objects.filter(sync=self.sync, source_object=self.target_object, source_id__in=partner_ids)
        return set(rows.values_list("source_id", flat=True))

    def partner_of(self, link: RecordLink) -> str:
        return link.target_id if self.forward else link.source_id


def directions(sync: Sync, source, target) -> list[Direction]:
    """The directions a run goes: source → target, and back for a two-way sync."""
    mappings = list(sync.mappings.all())
    rules = [r for r in sync.rules.all() if r.enabled]
    key_mapping = next((m for m in mappings if m.is_key), None)
    integration = integration_for(sync)
    forward = Direction(
        sync, True, source, target,
        [(m.source_field, m.target_field, m.to_target) for m in mappings],
        (key_mapping.source_field, key_mapping.target_field) if key_mapping else None,
        [r for r in rules if r.side == "source"],
        integration,
    )
    if sync.direction != Sync.Direction.TWO_WAY:
        return [forward]
    back = Direction(
        sync, False, target, source,
        [(m.target_field, m.source_field, m.to_source) for m in mappings],
        (key_mapping.target_field, key_mapping.source_field) if key_mapping else None,
        [r for r in rules if r.side == "target"],
        integration,
    )
    return [forward, back]


# --- planning -----------------------------------------------------------------------------------
@dataclass
class Change:
    """What the engine will do (or would do, in a preview) with one source record."""

    action: str  # "create" | "update" | "skip" | "reject"
    record: Record
    target_id: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    diffs: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # target field → (old, new)
    after: dict[str, Any] = field(default_factory=dict)  # the partner's mapped values once written
    tags_owed: list[str] = field(default_factory=list)  # tags the write applies if it creates (create_tags)
    reason: str = ""
    matched_by: str = ""  # "link" | "key" | "policy" (a link moved by the integration's policy) | ""
    link_reason: str = ""  # why the record was (re)linked to this partner, for the link's history
    code: str = ""  # a machine-readable reason for a reject
    field: str = ""  # the target field a reject is about, where it is about one
    digests: tuple[str, str] = ("", "")  # (record's side, partner's side) once applied
    echo: bool = False  # read again unchanged since it was applied (the lag window, a write-back): not counted


_LABEL_PARTS = {"firstname": "first", "lastname": "last", "name": "name", "fullname": "name", "email": "email",
                "personemail": "email", "emailaddress": "email", "contactemail": "email"}


def record_label(fields: dict[str, Any]) -> str:
    """Who a record is, for people to read beside its id: "Jane Francis <jane@example.com>",
    from whichever name and email fields the record has, whatever the vendor calls them."""
    found: dict[str, str] = {}
    for name, value in fields.items():
        part = _LABEL_PARTS.get(name.replace("_", "").lower())
        if part and part not in found and isinstance(value, str) and value.strip():
            found[part] = " ".join(value.split())
    name = " ".join(p for p in (found.get("first"), found.get("last")) if p) or found.get("name", "")
    email = found.get("email", "")
    label = f"{name} <{email}>" if name and email else name or email
    return storable(label)[:LABEL_LENGTH]


LABEL_LENGTH = 200


def digest(values: list[Any]) -> str:
    """A stable fingerprint of mapped values (blank and None alike, whitespace trimmed)."""
    import hashlib
    import json

    normal = ["" if _blank(v) else (v.strip() if isinstance(v, str) else v) for v in values]
    return hashlib.sha256(json.dumps(normal, sort_keys=True, default=str).encode()).hexdigest()


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == []


def _same(old: Any, new: Any) -> bool:
    if _blank(old) and _blank(new):
        return True
    if isinstance(old, str) and isinstance(new, str):
        return old.strip() == new.strip()
    return old == new


def rule_skip_reason(rules: list[SyncRule], values: dict[str, Any]) -> str:
    """Why the rules keep this record out of the sync ("" when they let it through)."""
    for rule in rules:
        value = values.get(rule.field)
        text = "" if value is None else str(value)
        holds = {
            SyncRule.Operator.EQUALS: text.lower() == rule.value.lower(),
            SyncRule.Operator.NOT_EQUALS: text.lower() != rule.value.lower(),
            SyncRule.Operator.IS_SET: bool(value) and text.lower() not in ("false", "0"),
            SyncRule.Operator.IS_BLANK: not value or text.lower() in ("false", "0"),
            SyncRule.Operator.CONTAINS: rule.value.lower() in text.lower(),
        }[rule.operator]
        if rule.kind == SyncRule.Kind.OPT_OUT:
            if holds:
                return f"Opted out ({rule.field})."
        elif not holds:
            return f"Outside the sync's scope: {rule}."
    return ""


def follow_merges(direction: Direction, records: list[Record]) -> None:
    """A vendor merge that gave its survivor a new id (HubSpot's): the link of an id it
    absorbed follows it, with the reason in the link's history. A second absorbed id's link
    is dropped (its record is gone; its partner is another record of the same person, which
    matching puts in the merge queue)."""
    absorbed = {old: r.id for r in records for old in r.merged_ids}
    if not absorbed:
        return
    have = set(direction.links_for(set(absorbed.values())))
    side = "source_id" if direction.forward else "target_id"
    for old_id, link in direction.links_for(absorbed).items():
        new_id = absorbed[old_id]
        if new_id in have:
            log.info("Sync %s: link of %s dropped, merged into %s which is linked already", direction.sync.pk, old_id, new_id)
            link.delete()
            continue
        setattr(link, side, new_id)
        link.source_digest = link.target_digest = ""
        link.save(update_fields=[side, "source_digest", "target_digest", "updated_at"])
        RecordLinkEvent.objects.create(link=link, action=RecordLinkEvent.Action.MOVED,
                                       old_target_id=old_id if not direction.forward else link.target_id,
                                       new_target_id=new_id if not direction.forward else link.target_id,
                                       reason=f"Merged in {direction.source.label}: {old_id} is now {new_id}.")
        have.add(new_id)


def plan_page(direction: Direction, records: list[Record]) -> list[Change]:
    """Plan one page: partners by link, then by key; fields by policy."""
    follow_merges(direction, records)
    links = direction.links_for(r.id for r in records)
    changes: list[Change] = []
    unlinked: list[Change] = []
    for record in records:
        reason = direction.integration.skip_reason(direction, record) or rule_skip_reason(direction.rules, record.fields)
        if reason:
            changes.append(Change("skip", record, reason=reason))
            continue
        change = Change("create", record)
        link = links.get(record.id)
        if link is not None and getattr(link, direction.record_digest_field) == digest([record.fields.get(f) for f, _, _ in direction.pairs]):
            change.action, change.reason = "skip", "Unchanged since the last sync (the echo of its own write)."
            change.target_id, change.echo = direction.partner_of(link), True
        elif link is not None:
            change.target_id, change.matched_by = direction.partner_of(link), "link"
        else:
            unlinked.append(change)
        changes.append(change)

    relink = [c for c in changes if c.matched_by == "link" and direction.integration.relinks(direction)
              and not links[c.record.id].pinned]
    lookup = unlinked + relink
    _lookup(direction, lookup)

    current = _current(direction, changes)
    gone = []
    for change in changes:
        if change.action not in ("skip", "reject") and change.target_id and change.target_id not in current:
            reason = direction.integration.partner_gone(direction, change)
            if reason:  # the integration wants a person to decide (e.g. HubSpot's Resync)
                change.action, change.reason, change.code = "reject", reason, "PARTNER_GONE"
                continue
            # The partner is gone (deleted or merged away): find another by key, or create one.
            change.target_id, change.matched_by = None, ""
            gone.append(change)
    if gone:
        _lookup(direction, gone)
        current.update(_current(direction, gone))
    for change in changes:
        if change.action not in ("skip", "reject"):
            _decide(direction, change, current.get(change.target_id) if change.target_id else None)
    preflight_check(direction, [c for c in changes if c.action in ("create", "update")])
    return changes


PREFLIGHT_PROBLEMS_SHOWN = 3  # of one record, in its reason


def preflight_check(direction: Direction, changes: list[Change]) -> None:
    """Reject, before anything is sent, the planned writes whose values the target's own
    description refuses (``preflight``): each fails alone, naming the field, the value and
    the fix, and costs no API call. The target is described once per run."""
    if not changes:
        return
    try:
        description = preflight.description_of(direction.target, direction.target_object)
    except ConnectorError as exc:  # its writes will tell; the vendor stays the last line of defence
        log.warning("Sync %s: %s %s not described, nothing checked before sending: %s", direction.sync.pk,
                    direction.target.label, direction.target_object, exc.message)
        return
    if description is None:
        return
    mapped = {target for _, target, policy in direction.pairs if policy != UpdatePolicy.SKIP}
    natural_key = direction.target.natural_key(direction.target_object)
    upsert_key = natural_key if natural_key and _creates_upsert_by(direction, natural_key) else None
    for change in changes:
        problems = preflight.record_problems(description, change.values, creating=change.action == "create",
                                             required_mapped=mapped, ascii_email_only=direction.target.ascii_email_only,
                                             upsert_key=upsert_key)
        if not problems:
            continue
        shown = problems[:PREFLIGHT_PROBLEMS_SHOWN]
        more = len(problems) - len(shown)
        change.action, change.code, change.field = "reject", shown[0].code, shown[0].field
        change.reason = " ".join(p.message for p in shown) + (f" ({more} more.)" if more else "")


def _current(direction: Direction, changes: list[Change]) -> dict[str, dict]:
    """The partners' current values, by id (partners that no longer exist are left out). A
    partner the vendor merged into a record with a new id is followed there: the change goes
    to the survivor, and its link moves when the write is stored."""
    ids = [c.target_id for c in changes if c.target_id and c.action not in ("skip", "reject")]
    if not ids:
        return {}
    if _partners_unread(direction):
        return {target_id: UNREAD for target_id in ids}
    found = direction.target.fetch(direction.target_object, ids, direction.target_fields())
    survivors = {old: r.id for r in found for old in r.merged_ids}
    for change in changes:
        new_id = survivors.get(change.target_id)
        if new_id and change.action not in ("skip", "reject") and change.target_id not in {r.id for r in found}:
            change.link_reason = f"Merged in {direction.target.label}: {change.target_id} is now {new_id}."
            change.target_id, change.matched_by = new_id, "policy"
    return {r.id: r.fields for r in found}


def _lookup(direction: Direction, lookup: list[Change]) -> None:
    """Find partners by the key mapping for ``lookup`` (records without a partner, or whose
    link the integration's policy may move)."""
    if not (direction.key and lookup and (direction.integration.looks_up_before_upsert(direction)
                                          or not _upsert_makes_lookup_needless(direction))):
        return
    source_key, target_key = direction.key
    wanted: dict[str, list[Change]] = {}
    for c in lookup:  # several records may share a key: each is decided on its own
        wanted.setdefault(str(c.record.fields.get(source_key) or "").strip().lower(), []).append(c)
    wanted.pop("", None)
    found = direction.target.find(direction.target_object, target_key, list(wanted), direction.target_fields()) if wanted else []
    candidates: dict[str, list[Record]] = {}
    for partner in found:  # newest first
        candidates.setdefault(str(partner.fields.get(target_key) or "").strip().lower(), []).append(partner)
    taken = direction.partners_linked([p.id for p in found])  # a partner has one record at most
    by_upsert = _creates_upsert_by(direction, target_key)
    for key_value, group in wanted.items():
        creating = None
        for change in group:
            _choose(direction, change, candidates.get(key_value, []), taken, target_key)
            if by_upsert and change.action == "create" and change.target_id is None:
                if creating is not None:  # one upsert by this key creates; a second would overwrite it
                    change.action, change.code = "reject", "PARTNER_TAKEN"
                    change.reason = (f"Record {creating.record.id} with the same {source_key} is created in this run: "
                                     "the two are probably duplicates. Merge them, then retry.")
                creating = creating or change


def _choose(direction: Direction, change: Change, pool: list[Record], taken: set[str], target_key: str) -> None:
    """Pick ``change``'s partner among the records found by key (newest first), through the
    integration's policy; a partner is taken by one record at most."""
    if change.matched_by == "link":
        free = [p for p in pool if p.id not in taken or p.id == change.target_id]
    else:
        free = [p for p in pool if p.id not in taken]
    chosen, reason = direction.integration.choose_partner(direction, change, free, pool)
    if chosen is None and pool and change.matched_by != "link" and _creates_upsert_by(direction, target_key):
        # Every record with its key is another's partner: writing would overwrite that one
        # (an upsert by the key finds it), so the two are flagged instead.
        holders = ", ".join(p.id for p in pool)
        change.action, change.code = "reject", "PARTNER_TAKEN"
        change.reason = (f"{direction.target_object} {holders} with the same {target_key} is already linked to "
                         "another record: the two are probably duplicates. Merge them, then retry.")
        return
    if chosen is None or chosen.id == change.target_id:
        return
    if change.matched_by == "link":
        taken.discard(change.target_id)
        change.matched_by = "policy"
    else:
        change.matched_by = "key"
    change.target_id, change.link_reason = chosen.id, reason
    taken.add(chosen.id)


def _creates_upsert_by(direction: Direction, field: str) -> bool:
    """Whether a create goes through an upsert by ``field`` (and so would land on any record
    that has the same value)."""
    return not direction.id_field and direction.target.natural_key(direction.target_object) == field


# A partner's values that were not read (see ``_partners_unread``): its record is written whole.
UNREAD: dict[str, Any] = {}


def _overwrites_only(direction: Direction) -> bool:
    return all(policy in (UpdatePolicy.ALWAYS, UpdatePolicy.SKIP) for _, _, policy in direction.pairs)


def _partners_unread(direction: Direction) -> bool:
    """When the target reads no record short of reading them all (``reads_partners``), its
    upsert by the key takes every field, and every mapping overwrites, a linked partner whose
    source changed is written without reading it: every mapped value, blanks included. Its
    values read back would change nothing that the write does not."""
    natural_key = direction.target.natural_key(direction.target_object)
    return (not direction.target.reads_partners and natural_key is not None and not direction.id_field
            and _overwrites_only(direction))


def _upsert_makes_lookup_needless(direction: Direction) -> bool:
    """When the target upserts by the key itself and every mapping always overwrites, looking
    partners up first would cost a call per record and change nothing: the upsert finds them."""
    natural_key = direction.target.natural_key(direction.target_object)
    return (natural_key is not None and natural_key == direction.key[1] and not direction.id_field
            and _overwrites_only(direction))


def _decide(direction: Direction, change: Change, target_values: dict[str, Any] | None) -> None:
    creating = target_values is None
    for source_field, target_field, policy in direction.pairs:
        if policy == UpdatePolicy.SKIP or source_field not in change.record.fields:
            continue
        new = change.record.fields[source_field]
        if target_values is UNREAD:
            change.values[target_field] = new
            change.diffs[target_field] = (None, new)
            continue
        if creating:
            if not _blank(new):
                change.values[target_field] = new
            continue
        old = target_values.get(target_field)
        if policy == UpdatePolicy.ON_CREATE or _same(old, new):
            continue
        if policy == UpdatePolicy.IF_BLANK and not _blank(old):
            continue
        change.values[target_field] = new
        change.diffs[target_field] = (old, new)
    if creating:
        change.action = "create"
        if reason := direction.integration.create_skip_reason(direction, change.record):
            change.action, change.reason = "skip", reason
        elif not change.values:
            change.action, change.reason = "reject", "No mapped field has a value to create the record with."
        else:
            direction.integration.prepare_create(direction, change)
    elif change.values:
        change.action = "update"
    else:
        change.action, change.reason = "skip", "Already up to date."
    after = change.after = {**(target_values or {}), **change.values}
    change.digests = (digest([change.record.fields.get(s) for s, _, _ in direction.pairs]),
                      digest([after.get(t) for _, t, _ in direction.pairs]))


# --- applying -------------------------------------------------------------------------------------
def error_class(error: ConnectorError) -> str:
    if isinstance(error, Duplicate):
        return RecordError.ErrorClass.DUPLICATE
    if isinstance(error, PermissionDenied):
        return RecordError.ErrorClass.PERMISSION
    if isinstance(error, RateLimited):
        return RecordError.ErrorClass.LIMIT
    if isinstance(error, ValidationFailed):
        if error.code == "REQUIRED_FIELD_MISSING":
            return RecordError.ErrorClass.REQUIRED_FIELD
        if error.code in ("INVALID_FIELD", "INVALID_FIELD_FOR_INSERT_UPDATE"):
            return RecordError.ErrorClass.MAPPING
        return RecordError.ErrorClass.VALIDATION
    return RecordError.ErrorClass.OTHER


def refusal_reason(direction: Direction, error: ConnectorError) -> str:
    """The vendor's refusal of one record as its failure shows it: a duplicate rule's names
    the records it matched, so that a person can open them."""
    if isinstance(error, Duplicate) and error.matching_ids:
        ids = list(dict.fromkeys(error.matching_ids))
        named = ", ".join(ids[:3]) + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")
        return f"{error.message} It matches the existing {direction.target.label} record{'s' if len(ids) > 1 else ''} {named}."
    return error.message


def _write(direction: Direction, action: str, changes: list[Change]) -> list[WriteResult]:
    """One batch write. Creates are idempotent: they carry the source id in the target's
    external-id field, or go by the target's natural key (e.g. an email), so that a page
    replayed after a crash updates what it created instead of creating it twice."""
    target, obj = direction.target, direction.target_object
    if action == "update":
        return target.update(obj, [{"Id": c.target_id, **c.values} for c in changes])
    records = [c.values for c in changes]
    owed = [direction.integration.create_tags(direction, c) for c in changes]
    for change, tags in zip(changes, owed):
        change.tags_owed = tags
    if any(owed):  # tags owed to what is created go with the records (see Integration.create_tags)
        records = [{**values, TAGS_IF_CREATED: tags} if tags else values for values, tags in zip(records, owed)]
    if direction.id_field:
        return target.upsert(obj, [{**r, direction.id_field: c.record.id} for r, c in zip(records, changes)], key=direction.id_field)
    natural_key = target.natural_key(obj)
    if natural_key:
        return target.upsert(obj, records, key=natural_key)
    return target.create(obj, records)


@dataclass
class Outcome:
    """What applying one page did, to be stored in one short transaction."""

    counts: dict[str, int] = field(default_factory=lambda: {"created": 0, "updated": 0, "skipped": 0, "failed": 0})
    links: list[tuple[str, str, str]] = field(default_factory=list)  # (source id, target id, how)
    labels: dict[str, str] = field(default_factory=dict)  # record id → who it is (record_label)
    digests: dict[str, tuple[str, str]] = field(default_factory=dict)  # record id → digests of both sides
    errors: list[RecordError] = field(default_factory=list)
    succeeded: list[str] = field(default_factory=list)  # source ids that went through
    written: list[dict] = field(default_factory=list)  # what was written, for the run's page
    own_writes: list[OwnWrite] = field(default_factory=list)  # what was written, for recognising its echo
    passed_over: int = 0  # read again, already applied: not news, and not among the records the run expects


def apply_changes(direction: Direction, changes: list[Change], run: SyncRun) -> None:
    """Write the planned creates and updates in batches, storing each batch's outcome as soon
    as the vendor has answered (never while a database transaction is open), so that a failure
    half-way through a page loses nothing that was already written."""
    outcome = Outcome()
    unfinished = getattr(run, "unfinished", None)
    if unfinished is None:
        unfinished = run.unfinished = {}
    for record_id in _answers_lost(direction, changes):  # created, perhaps: counted as such if found
        unfinished.setdefault(f"{direction.source_object}:{record_id}", "create")
    _find_what_was_written(direction, [c for c in changes if c.action == "create"
                                       and f"{direction.source_object}:{c.record.id}" in unfinished])
    recovered: dict[str, str] = {}  # record id → what a lost worker wrote for it
    # A person who chose the records (a retry, "sync the missing") wants each tried afresh.
    known = set() if getattr(run, "chosen_records", False) else _refused_before(direction, [c for c in changes if c.action != "skip"])
    run_phase(run, SyncRun.Phase.WRITING)
    for change in changes:
        if change.record.id in known and change.action != "skip":
            # Read again (the vendor's lag window) unchanged since it failed for good: its open
            # failure already says why, and writing it again would fail the same way.
            outcome.counts["skipped"] += 1
            change.action, change.reason = "known", "Failed before as it is now; its open failure says why."
            continue
        if change.action == "skip":
            # Written by a lost worker before it could record it: counted as what it was.
            written = unfinished.pop(f"{direction.source_object}:{change.record.id}", "")
            if written.startswith(FOLLOW_UP):
                # Written and recorded, but the worker was lost before the integration's follow-up
                # (e.g. AC-8's tag): counted already; the follow-up is done now.
                recovered[change.record.id] = written = written[len(FOLLOW_UP):]
                if not change.echo:
                    outcome.counts["skipped"] += 1
                else:
                    outcome.passed_over += 1
            else:
                if written or not change.echo:  # what was applied already and read again is not news
                    outcome.counts[{"create": "created", "update": "updated"}.get(written, "skipped")] += 1
                else:
                    outcome.passed_over += 1
                if written:
                    recovered[change.record.id] = written
            outcome.succeeded.append(change.record.id)
            if change.target_id and change.digests[0]:
                outcome.digests[change.record.id] = change.digests
            if change.matched_by in ("key", "policy"):  # a partner found by key is linked even when up to date
                outcome.links.append((change.record.id, change.target_id, change.link_reason or change.matched_by))
                outcome.labels[change.record.id] = record_label(change.record.fields)
        elif change.action == "reject":
            outcome.counts["failed"] += 1
            error_class_ = {"": RecordError.ErrorClass.MAPPING, "PARTNER_TAKEN": RecordError.ErrorClass.DUPLICATE,
                            "DUPLICATE": RecordError.ErrorClass.DUPLICATE, "VALIDATION": RecordError.ErrorClass.VALIDATION,
                            preflight.REQUIRED: RecordError.ErrorClass.REQUIRED_FIELD,
                            preflight.READ_ONLY: RecordError.ErrorClass.MAPPING}.get(
                change.code, RecordError.ErrorClass.VALIDATION if change.code.startswith(preflight.PREFIX)
                else RecordError.ErrorClass.OTHER)
            outcome.errors.append(_record_error(direction, run, change, error_class_, change.reason, code=change.code,
                                                field=change.field))
    store_outcome(direction, outcome, run)
    # Linked without a write now (what a lost worker wrote is followed up as written).
    linked = [(replace(c, action=recovered.get(c.record.id, c.action)),
               WriteResult(c.target_id, created=True if recovered.get(c.record.id) == "create" else None))
              for c in changes if c.action == "skip" and c.target_id]
    if linked:  # linked without a write now: the integration may still record the pairing
        direction.integration.after_write(direction, linked)
    for action in ("create", "update"):
        todo = [c for c in changes if c.action == action]
        size = direction.target.write_batch_size
        bulk_from = direction.target.bulk_write_from
        if action == "create" and direction.target.bulk_batch_size and bulk_from and len(todo) >= bulk_from:
            # A large load goes in the vendor's bulk write; the pending journal below covers
            # the whole of each such batch, so a lost worker leaves none of it unaccounted for.
            size = max(size, direction.target.bulk_batch_size)
        for start in range(0, len(todo), size):
            batch = todo[start:start + size]
            if getattr(run, "heartbeat", None) is not None:
                run.heartbeat.check()  # never write for a run another execution has taken over
            SyncRun.objects.filter(pk=run.pk).update(
                pending={f"{direction.source_object}:{c.record.id}": action for c in batch}, phase=SyncRun.Phase.WRITING)
            run.phase = SyncRun.Phase.WRITING
            results = _write(direction, action, batch)
            if len(results) != len(batch):  # never let a short answer drop records unseen
                log.error("Sync %s: %s answered %d results for %d records", direction.sync.pk,
                          direction.target.label, len(results), len(batch))
                results = list(results[:len(batch)]) + [
                    WriteResult(None, Unavailable(f"{direction.target.label} gave no answer for this record; it is tried again."))
                    for _ in range(len(batch) - len(results))]
            if action == "create" and unfinished:
                # An upsert that found a record a lost worker created (its create was pending):
                # this run created it, and the integration's follow-up (AC-8's tag) is still due.
                results = [replace(result, created=True) if result.ok and result.created is False
                           and unfinished.get(f"{direction.source_object}:{change.record.id}", "").endswith("create")
                           else result for change, result in zip(batch, results)]
            outcome = Outcome()
            for change, result in zip(batch, results):
                if result.ok:
                    # A create goes by an upsert (see _write): one that landed on a record that was
                    # there already (e.g. read back from the other side before its link was stored)
                    # updated it, and counts so; counted as created is what the target did not hold.
                    found = action == "create" and result.created is False
                    outcome.counts["created" if action == "create" and not found else "updated"] += 1
                    outcome.succeeded.append(change.record.id)
                    label = outcome.labels[change.record.id] = record_label(change.record.fields)
                    outcome.written.append({
                        "side": direction.target_object, "end": "target" if direction.forward else "source",
                        "record": change.record.id, "label": label,
                        "partner": result.id or change.target_id,
                        "action": "update" if found else action,
                        "fields": {f: [_shown(o), _shown(n)] for f, (o, n) in change.diffs.items()}
                        if action == "update" else {f: [None, _shown(v)] for f, v in change.values.items()},
                    })
                    outcome.digests[change.record.id] = change.digests
                    if action == "create" or change.matched_by in ("key", "policy"):
                        outcome.links.append((change.record.id, result.id or change.target_id, change.link_reason
                                              or change.matched_by or (FOUND_WHEN_WRITTEN if found else "created")))
                else:
                    outcome.counts["failed"] += 1
                    error = _record_error(direction, run, change, error_class(result.error), refusal_reason(direction, result.error),
                                          code=result.error.code, field=getattr(result.error, "field", ""))
                    error.retriable = result.error.retriable
                    outcome.errors.append(error)
            # Until the integration's follow-up of the batch is done, the run notes it as pending:
            # a worker lost in between leaves it to the execution that takes the run over.
            ok = [(c, r) for c, r in zip(batch, results) if r.ok]
            outcome.own_writes = _own_writes(direction, action, ok)
            store_outcome(direction, outcome, run,
                          pending={f"{direction.source_object}:{c.record.id}": f"{FOLLOW_UP}{action}" for c, _ in ok},
                          phase=SyncRun.Phase.FOLLOW_UP if ok and _follows_up(direction.integration, "after_write") else "")
            direction.integration.after_write(direction, ok)
            if ok:
                SyncRun.objects.filter(pk=run.pk).update(pending={})


@transaction.atomic
def store_outcome(direction: Direction, outcome: Outcome, run: SyncRun, *, pending: dict | None = None, phase: str = "") -> None:
    """Links, failed records, counts and API calls of one written batch, all or nothing;
    ``pending`` is what is left to do for the batch (its follow-up) and ``phase`` what the run
    does next, noted on the run in the same transaction."""
    clashes = _link_batch(direction, outcome.links, run, labels=outcome.labels)
    for source_id, target_id, how in outcome.links:
        if source_id in clashes:
            outcome.counts["failed"] += 1
            outcome.counts["created" if how == "created" else "updated"] -= 1
            outcome.succeeded.remove(source_id)
            outcome.digests.pop(source_id, None)
            outcome.errors.append(RecordError(
                run=run, sync=direction.sync, side="target" if direction.forward else "source",
                object_name=direction.source_object, record_id=source_id, error_class=RecordError.ErrorClass.DUPLICATE,
                message=clashes[source_id], payload={"target_id": target_id},
            ))
    links = list(direction.links_for(outcome.digests).items())
    for record_id, link in links:
        record_digest, partner_digest = outcome.digests[record_id]
        setattr(link, direction.record_digest_field, record_digest)
        setattr(link, direction.partner_digest_field, partner_digest)
    RecordLink.objects.bulk_update([link for _, link in links], ["source_digest", "target_digest"])
    # A record that went through now closes its earlier failures.
    RecordError.objects.filter(
        sync=direction.sync, object_name=direction.source_object, record_id__in=outcome.succeeded,
        state__in=[RecordError.State.OPEN, RecordError.State.RETRY_SCHEDULED],
    ).update(state=RecordError.State.RESOLVED, resolved_at=timezone.now())
    # A record failing again: its earlier failure is superseded, the new one counts the attempts.
    earlier = RecordError.objects.filter(
        sync=direction.sync, object_name=direction.source_object, record_id__in=[e.record_id for e in outcome.errors],
        state__in=[RecordError.State.OPEN, RecordError.State.RETRY_SCHEDULED],
    )
    attempts = {row["record_id"]: row["attempts"] for row in earlier.values("record_id", "attempts")}
    earlier.update(state=RecordError.State.SUPERSEDED, resolved_at=timezone.now())
    now = timezone.now()
    for error in outcome.errors:
        error.attempts = attempts.get(error.record_id, 0) + 1
        if getattr(error, "retriable", False) and error.attempts < AUTO_RETRIES:
            # A passing fault (a lock, a limit) is retried by itself, later and later.
            error.state = RecordError.State.RETRY_SCHEDULED
            error.not_before = now + timedelta(minutes=2 ** (error.attempts - 1))
    RecordError.objects.bulk_create(outcome.errors)
    OwnWrite.objects.bulk_create(outcome.own_writes)
    if outcome.written:
        kept = SyncRun.objects.filter(pk=run.pk).values_list("changes", flat=True).first() or []
        if len(kept) < RUN_CHANGES_KEPT:  # one worker writes a run: read, extend, write is safe
            SyncRun.objects.filter(pk=run.pk).update(changes=kept + outcome.written[:RUN_CHANGES_KEPT - len(kept)])
    c = outcome.counts
    SyncRun.objects.filter(pk=run.pk).update(
        pending=pending or {},
        # A record counts as read with its outcome, in one transaction: a page read again after
        # a pause or a lost worker counts again, with its new outcome, and the two always agree.
        read_count=F("read_count") + sum(c.values()),
        created_count=F("created_count") + c["created"],
        updated_count=F("updated_count") + c["updated"], skipped_count=F("skipped_count") + c["skipped"],
        failed_count=F("failed_count") + c["failed"], heartbeat_at=timezone.now(),
        **api_calls_unstored(run), **({"phase": phase} if phase else {}),
        **({"records_expected": F("records_expected") - outcome.passed_over} if outcome.passed_over else {}),
    )
    if phase:
        run.phase = phase


def _own_writes(direction: Direction, action: str, written: list[tuple[Change, WriteResult]]) -> list[OwnWrite]:
    """Notes of what a batch wrote (see ``echoes``), where the target would notify a sync of
    them (not of a silent write, such as a bulk import): each record's mapped fields as they
    are after the write, the id it carries of its source record, and the tags owed to what
    it created."""
    connection_id = direction.target.connection_id
    if not written or not echoes.own_writes_listened(connection_id, direction.target_object):
        return []
    fields = direction.target_fields()
    notes = []
    for change, result in written:
        record_id = result.id or change.target_id
        if not record_id or result.silent:
            continue
        created = action == "create" and result.created is not False
        values = {**{f: change.after.get(f) for f in fields}, **change.values}
        if direction.id_field:
            values[direction.id_field] = change.record.id
        notes.append(echoes.own_write(connection_id, direction.target_object, record_id, values, created=created,
                                      tags=change.tags_owed if created else ()))
    return notes


def _record_error(direction, run, change, error_class_, message, *, code="", field="") -> RecordError:
    return RecordError(
        run=run, sync=direction.sync, side="target" if direction.forward else "source",
        object_name=direction.source_object, record_id=change.record.id, error_class=error_class_,
        code=code, field=field, message=storable(message),
        payload=storable({"target_id": change.target_id, "values": change.values, "modified_at": change.record.modified_at,
                          "label": record_label(change.record.fields)}),
    )


def storable(value: Any) -> Any:
    """``value`` with every null byte written out as ``\\x00``: a failed record keeps what it
    carried, and PostgreSQL stores no null byte in text or JSON."""
    if isinstance(value, str):
        return value.replace("\x00", "\\x00")
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [storable(v) for v in value]
    return value


def _find_what_was_written(direction: Direction, creates: list[Change]) -> None:
    """Creates a lost worker (or a lost answer) may already have made: look for them by the
    key the create goes by (the target's id field, or its natural key) and decide them against
    what is there, so that what landed is linked (and counted once) rather than written again."""
    if not creates:
        return
    field = direction.id_field or direction.target.natural_key(direction.target_object)
    if not field:
        return  # a plain create: the key mapping's look-up already found what landed
    wanted = [(c, (c.record.id if direction.id_field else str(c.values.get(field) or "")).strip()) for c in creates]
    values = sorted({v for _, v in wanted if v})
    if not values:
        return
    found = {str(r.fields.get(field) or "").strip().lower(): r
             for r in direction.target.find(direction.target_object, field, values, [*direction.target_fields(), field])}
    for change, value in wanted:
        partner = found.get(value.lower())
        if partner is None:
            continue
        change.target_id, change.matched_by = partner.id, "key"
        change.link_reason = "Written by a run whose worker was lost, or whose answer was lost: found by its key."
        change.values, change.diffs = {}, {}
        _decide(direction, change, partner.fields)


def _answers_lost(direction: Direction, changes: list[Change]) -> list[str]:
    """Ids of ``changes`` whose last create was sent but never answered (it may have landed):
    if the plan now finds its partner by key, the create went through and counts as one."""
    ids = [c.record.id for c in changes]
    if not ids:
        return []
    return list(RecordError.objects.filter(
        sync=direction.sync, object_name=direction.source_object, record_id__in=ids, code=ANSWER_LOST,
        state__in=[RecordError.State.OPEN, RecordError.State.RETRY_SCHEDULED], payload__target_id=None,
    ).values_list("record_id", flat=True))


def _refused_before(direction: Direction, changes: list[Change]) -> set[str]:
    """Ids of ``changes`` whose open (not retriable) failure was of this same version of the
    record — refused by the plan for the same reason, or by the target when written: a read of
    the lag window found them again, unchanged."""
    versions = {c.record.id: c for c in changes if c.record.modified_at}
    if not versions:
        return set()
    open_errors = RecordError.objects.filter(
        sync=direction.sync, object_name=direction.source_object, record_id__in=list(versions),
        state=RecordError.State.OPEN,
    ).values_list("record_id", "message", "payload")
    known = set()
    for record_id, message, payload in open_errors:
        change = versions[record_id]
        if (payload or {}).get("modified_at") == change.record.modified_at and (change.action != "reject" or change.reason == message):
            known.add(record_id)
    return known


def _link_batch(direction: Direction, pairs: list[tuple[str, str, str]], run: SyncRun, *,
                labels: dict[str, str] | None = None) -> dict[str, str]:
    """Store (or move) the links of a batch between records and their partners, with history,
    in a few queries whatever the batch's size; each link keeps who its record is (``labels``).
    Returns, by record id, why a link could not be made: its partner is already linked to
    another record."""
    labels = labels or {}
    if not pairs:
        return {}
    sync = direction.sync
    existing = direction.links_for(record_id for record_id, _, _ in pairs)
    partner_field = "target_id" if direction.forward else "source_id"
    record_field = "source_id" if direction.forward else "target_id"
    taken = {getattr(link, partner_field): getattr(link, record_field)
             for link in RecordLink.objects.filter(sync=sync, **{f"{partner_field}__in": [p for _, p, _ in pairs]})}
    clashes: dict[str, str] = {}
    reasons: dict[str, str] = {}
    new_links: list[RecordLink] = []
    relabelled: list[RecordLink] = []
    events: list[RecordLinkEvent] = []
    for record_id, partner_id, how in pairs:
        holder = taken.get(partner_id)
        if holder is not None and holder != record_id:
            clashes[record_id] = (f"Its partner {partner_id} (same key) is already linked to {holder}: the two are "
                                  "probably duplicates. Merge them, then retry.")
            continue
        taken[partner_id] = record_id
        reason = reasons[record_id] = {"key": "Matched by the key mapping.", "created": "Created by the sync."}.get(how, how)
        ends = ({"source_id": record_id, "target_id": partner_id} if direction.forward
                else {"source_id": partner_id, "target_id": record_id})
        link = existing.get(record_id)
        if link is None:
            objects = (direction.source_object, direction.target_object) if direction.forward else (direction.target_object, direction.source_object)
            new_links.append(RecordLink(sync=sync, source_object=objects[0], target_object=objects[1],
                                        label=labels.get(record_id, ""), **ends))
            continue
        if labels.get(record_id) and link.label != labels[record_id]:
            link.label = labels[record_id]
            relabelled.append(link)
        if (link.source_id, link.target_id) != (ends["source_id"], ends["target_id"]) and not link.pinned:
            old = link.target_id
            link.source_id, link.target_id = ends["source_id"], ends["target_id"]
            link.save(update_fields=["source_id", "target_id", "updated_at"])  # rare: a partner was replaced
            events.append(RecordLinkEvent(link=link, action=RecordLinkEvent.Action.MOVED, old_target_id=old,
                                          new_target_id=link.target_id, reason=reason, run=run))
    for link in RecordLink.objects.bulk_create(new_links):
        events.append(RecordLinkEvent(link=link, action=RecordLinkEvent.Action.LINKED, new_target_id=link.target_id,
                                      reason=reasons[getattr(link, record_field)], run=run))
    RecordLinkEvent.objects.bulk_create(events)
    RecordLink.objects.bulk_update(relabelled, ["label"])
    return clashes


# --- running --------------------------------------------------------------------------------------
def _pages(direction: Direction, since: str) -> Iterator[list[Record]]:
    return direction.source.changes(direction.source_object, since or None, direction.source_fields())


GATHER_FOR = 60.0  # seconds a read holds pages for a bulk write once it has enough for one


def _gathered(direction: Direction, pages: Iterator[list[Record]], run: SyncRun, *,
              clock=time.monotonic) -> Iterator[list[Record]]:
    """The read's pages as they are applied: one by one, or, when the read is large (its
    vendor says how large with the first page) and the target has a bulk write, several at a
    time up to the bulk batch, so that a large load reaches the bulk write (one job for ten
    thousand records rather than fifty calls). A slow source (a call per record) has what
    it holds applied once it is enough for a bulk write and has waited ``GATHER_FOR``, so
    that the run's progress moves. Memory holds one bulk batch at most."""
    size, bulk_from = direction.target.bulk_batch_size, direction.target.bulk_write_from
    held: dict[str, Record] = {}  # a record read again further on (changed meanwhile) is held as read last
    since = 0.0  # when the pages held began
    counted = False
    for page in pages:
        total = direction.source.changes_total
        if not counted and total is not None:
            # What the run has done so far (an earlier direction, or before a pause) and what
            # this read will give, as its vendor says with the first page.
            SyncRun.objects.filter(pk=run.pk).update(records_expected=F("read_count") + total)
            counted = True
        if size and bulk_from and total is not None and total >= bulk_from:
            since = since if held else clock()
            for record in page:
                held.pop(record.id, None)
                held[record.id] = record
            if len(held) < size and (len(held) < bulk_from or clock() - since < GATHER_FOR):
                continue
            page, held = list(held.values()), {}
        yield page
    if held:
        yield list(held.values())


def check_budget(sync: Sync, *connectors) -> None:
    """Stop (paused) when an account's reported API usage has reached its budget."""
    for connection, connector in zip((sync.source, sync.target), connectors):
        usage = connector.api_usage
        if not usage:
            continue
        used, limit = usage
        Connection.objects.filter(pk=connection.pk).update(api_used=used, api_limit=limit, api_reported_at=timezone.now())
        budget = limit * connection.api_budget_percent // 100
        if used >= budget:
            raise Stop(SyncRun.Status.PAUSED, f"Paused: “{connection.name}” has used {used:,} of its {limit:,} daily API calls, "
                                              f"past its budget of {connection.api_budget_percent}%. The run goes on by itself "
                                              "where it stopped once the count has fallen.", resume_after=PAUSE_FOR_BUDGET)


def page_done(direction: Direction, run: SyncRun, *, watermark: str) -> None:
    """Move the watermark past a page: only once all of it is applied. An execution that has
    lost its run (taken over) stops there."""
    with transaction.atomic():
        if watermark:
            Sync.objects.filter(pk=direction.sync.pk).update(**{direction.watermark_field: watermark})
            setattr(direction.sync, direction.watermark_field, watermark)
        stored = getattr(run, "api_calls_stored", (0, 0))
        held = SyncRun.objects.filter(pk=run.pk, claim=run.claim).update(
            heartbeat_at=timezone.now(), phase=SyncRun.Phase.READING, **api_calls_unstored(run))
    if not held:
        run.api_calls_stored = stored  # not stored with the page: the execution stores them as it stops
        raise TakenOver()
    run.phase = SyncRun.Phase.READING


def run_direction(direction: Direction, run: SyncRun) -> None:
    """Read, plan and apply every page of one direction, moving its watermark page by page."""
    ends = (direction.source, direction.target) if direction.forward else (direction.target, direction.source)
    direction.integration.before_run(direction, run)
    run_phase(run, SyncRun.Phase.READING)
    started = timezone.now()
    since = getattr(direction.sync, direction.watermark_field)
    last = None
    for page in _gathered(direction, _pages(direction, since), run):
        if page:
            run_phase(run, SyncRun.Phase.PLANNING)
            planned = [(routed, plan_page(routed, records)) for routed, records in direction.integration.route(direction, page)]
            check_budget(direction.sync, *ends)  # before anything is written
            for routed, changes in planned:
                apply_changes(routed, changes, run)
            last = page[-1]
            page_done(direction, run, watermark=direction.source.settled_watermark(last, since, started, exhausted=False))
    # The read is over: the next one starts past it, less the window the vendor may still fill.
    final = direction.source.settled_watermark(last, since, started, exhausted=True)
    if final != getattr(direction.sync, direction.watermark_field):
        page_done(direction, run, watermark=final)
    # The read is over: what the run expects is what it did (the vendor's total may have
    # counted records read apart or dropped as already applied).
    SyncRun.objects.filter(pk=run.pk, records_expected__isnull=False).update(records_expected=F("read_count"))
    if _follows_up(direction.integration, "after_run"):
        run_phase(run, SyncRun.Phase.FOLLOW_UP)
    direction.integration.after_run(direction)


def _execute(run: SyncRun, work) -> SyncRun:
    """Run ``work(sync, source, target)`` as ``run``: hold it (claim and heartbeat), turn a stop,
    a limit or a vendor failure into its status and message, and store counts and API calls at
    the end. A run taken over, or paused and resumed, goes on with the counts it had."""
    import secrets

    from .services import connection_connector

    sync = run.sync
    began = timezone.now()  # a change notified from now on may come after this execution read it
    if not run.claim:  # called directly rather than through the task that claims it
        run.claim = secrets.token_hex(8)
    run.unfinished = dict(run.pending or {})  # a batch a lost worker wrote but did not record
    SyncRun.objects.filter(pk=run.pk).update(status=SyncRun.Status.RUNNING, heartbeat_at=timezone.now(), claim=run.claim,
                                             phase=SyncRun.Phase.READING)
    run.phase = SyncRun.Phase.READING
    source = target = None
    status, message, resume_after = SyncRun.Status.SUCCEEDED, "", None
    try:
        with Heartbeat(run) as run.heartbeat:
            source, target = connection_connector(sync.source), connection_connector(sync.target)
            run.connectors = (source, target)
            for connection in (sync.source, sync.target):
                if not connection.is_active:
                    raise Stop(SyncRun.Status.FAILED, f"The connection “{connection.name}” is inactive; activate it to run this sync.")
            work(sync, source, target)
    except TakenOver:
        log.warning("Run %s of sync %s was taken over by another execution; this one stops", run.pk, sync.pk)
        calls = api_calls_unstored(run)
        if calls:
            SyncRun.objects.filter(pk=run.pk).update(**calls)
        run.refresh_from_db()
        return run
    except Stop as stop:
        status, message, resume_after = stop.status, stop.message, stop.resume_after
    except RateLimited as exc:
        resume_after = timedelta(seconds=exc.retry_after) if exc.retry_after else PAUSE_FOR_LIMIT
        status = SyncRun.Status.PAUSED
        message = f"Paused by the vendor's API limit: {exc.message} It goes on by itself where it stopped"
        message += f" at about {timezone.localtime(timezone.now() + resume_after):%H:%M}."
    except ConnectorError as exc:
        if exc.retriable:  # still down after the connector's retries: go on by itself a little later
            status, resume_after = SyncRun.Status.PAUSED, PAUSE_FOR_OUTAGE
            message = f"Paused: {exc.message} The run goes on by itself in a few minutes, where it stopped."
        else:
            status, message = SyncRun.Status.FAILED, exc.message
            message += _stop_for_mistake(sync, exc)
    except OperationalError as exc:  # the portal's own database was busy (SQLite's lock) or away
        log.warning("Run %s of sync %s paused: database unavailable (%s)", run.pk, sync.pk, exc)
        status, resume_after = SyncRun.Status.PAUSED, PAUSE_FOR_DATABASE
        message = "Paused: the portal's database was busy. The run goes on by itself in a minute, where it stopped."
    except Exception as exc:  # noqa: BLE001 - a run must end with a status whatever happened
        log.exception("Run %s of sync %s failed unexpectedly", run.pk, sync.pk)
        status, message = SyncRun.Status.FAILED, f"The run stopped on an unexpected error ({exc.__class__.__name__}); it is logged for the portal's maintainers."
    try:
        if source is not None:
            check_budget(sync, source, target)  # store the usage the accounts last reported
    except Stop as stop:
        if status == SyncRun.Status.SUCCEEDED:
            message = stop.message
    run.refresh_from_db()
    if status == SyncRun.Status.SUCCEEDED and run.failed_count:
        status = SyncRun.Status.PARTIAL
    if status == SyncRun.Status.PAUSED and resume_after is None:
        resume_after = PAUSE_FOR_BUDGET
    if status in (SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL) and sync.blocked_at:
        from .services import sync_unstop

        sync_unstop(sync=sync)  # it runs again: whatever stopped it is mended
    finished = timezone.now()
    SyncRun.objects.filter(pk=run.pk, claim=run.claim).update(
        status=status, message=message, finished_at=finished,
        resume_at=finished + resume_after if status == SyncRun.Status.PAUSED else None, phase="",
        **api_calls_unstored(run))
    run.refresh_from_db()
    log.info("Run %s of sync %s ended: %s", run.pk, sync.pk, run.status)
    if (run.trigger == SyncRun.Trigger.IMMEDIATE and status == SyncRun.Status.SUCCEEDED and not message
            and not (run.created_count or run.updated_count or run.failed_count) and not run.takeovers):
        # A poll every few seconds that found nothing new would bury the runs that did
        # something; its API calls are counted on the connection all the same.
        SyncRun.objects.filter(pk=run.pk).delete()
    from .services import sync_run_follow_up

    sync_run_follow_up(sync=sync, since=began)  # once this run no longer counts as under way
    return run


def _stop_for_mistake(sync: Sync, error: ConnectorError) -> str:
    """A failure no retry can mend stops the sync (or the connection) from running by itself,
    once, instead of failing a run every poll; returns what to add to the run's message."""
    from .services import connections_stop_failing, sync_stop

    if isinstance(error, AuthExpired):
        stopped = connections_stop_failing(sync=sync)
        if stopped:
            names = " and ".join(f"“{c.name}”" for c in stopped)
            return f" The syncs of {names} stop until the connection is tested again and passes."
        return ""
    if isinstance(error, (NotFound, PermissionDenied, ValidationFailed)):
        sync_stop(sync=sync, reason=error.message)
        return " The sync stops running by itself until it is saved again or Run now goes through."
    return ""


def sync_run_execute(run: SyncRun) -> SyncRun:
    """Run one queued SyncRun to its end, storing status, counts and API calls on it."""

    def work(sync, source, target):
        for direction in directions(sync, source, target):
            run_direction(direction, run)

    return _execute(run, work)


# --- preview ----------------------------------------------------------------------------------------
@dataclass
class Preview:
    changes: list[Change]
    counts: dict[str, int]
    read: int
    complete: bool  # False when the scope had more records than the preview looked at
    api_calls: int = 0  # what the preview cost, both ends together
    skip_reasons: list[tuple[str, int]] = field(default_factory=list)  # why records are left out, most common first


def sync_preview(sync: Sync, *, limit: int = 500) -> Preview:
    """What a run would do with (at most ``limit`` of) the records in scope, applying nothing.
    It reads as runs do — backing off on rate limits, within the connections' API budgets —
    so a momentary limit answer does not spoil it."""
    from .services import connection_connector

    source, target = connection_connector(sync.source), connection_connector(sync.target)
    check_budget(sync, source, target)
    changes: list[Change] = []
    complete = True
    for direction in directions(sync, source, target):
        for page in _pages(direction, getattr(sync, direction.watermark_field)):
            room = limit - len(changes)
            for routed, records in direction.integration.route(direction, page[:room]):
                changes += plan_page(routed, records)
            if len(page) > room:
                complete = False
            if len(changes) >= limit:
                complete = complete and len(page) <= room
                break
    counts = {action: sum(c.action == action for c in changes) for action in ("create", "update", "skip", "reject")}
    reasons = Counter(c.reason or "Left out." for c in changes if c.action == "skip")
    return Preview(changes=changes, counts=counts, read=len(changes), complete=complete,
                   api_calls=source.api_calls + target.api_calls, skip_reasons=reasons.most_common())


# --- retries ----------------------------------------------------------------------------------------
# --- chosen records ------------------------------------------------------------------------------
FETCH_BATCH = 200  # chosen records read back by id at once


def sync_records_execute(run: SyncRun, ids_by_side: dict[str, list[str]], *, compare_afresh: bool = True,
                         gone=None) -> SyncRun:
    """The engine's one way to run chosen records through a sync, whatever the watermark says
    (a retry of failed records, the missing ones a completeness check found, a Resync, a
    push): each is read again from its end (``"source"``, or ``"target"`` for the way back of
    a two-way sync), planned and applied in the target's batches.

    ``compare_afresh`` compares each with its partner anew (its last sync's digests would call
    it unchanged even though its partner may be gone). ``gone(direction, ids)`` hears of the
    chosen records that no longer exist."""

    run.chosen_records = True
    expected = sum(len(set(ids or [])) for ids in ids_by_side.values())
    SyncRun.objects.filter(pk=run.pk).update(records_expected=expected)
    run.records_expected = expected

    def work(sync, source, target):
        for direction in directions(sync, source, target):
            direction = replace(direction, chosen=True)
            ids = list(dict.fromkeys(ids_by_side.get("source" if direction.forward else "target") or []))
            if not ids:
                continue
            if compare_afresh:
                links = direction.links_for(ids)
                RecordLink.objects.filter(pk__in=[link.pk for link in links.values()]).update(**{direction.record_digest_field: ""})
            for start in range(0, len(ids), FETCH_BATCH):
                chunk = ids[start:start + FETCH_BATCH]
                check_budget(sync, source, target)
                run_phase(run, SyncRun.Phase.READING)
                records = direction.source.fetch(direction.source_object, chunk, direction.source_fields())
                run_phase(run, SyncRun.Phase.PLANNING)
                missing = set(chunk) - {r.id for r in records}
                if missing and gone is not None:
                    gone(direction, missing)
                for routed, some in direction.integration.route(direction, records) if records else []:
                    apply_changes(routed, plan_page(routed, some), run)
                page_done(direction, run, watermark="")

    return _execute(run, work)


def sync_retry_execute(run: SyncRun, error_ids: list[int]) -> SyncRun:
    """Try failed records of ``run.sync`` again: each is read again from its source, planned
    and applied; a record that no longer exists has its failure set aside."""
    errors = RecordError.objects.filter(sync=run.sync, pk__in=error_ids)
    sync = run.sync
    ids_by_side = {
        "source": list(errors.filter(side="target", object_name=sync.source_object).values_list("record_id", flat=True)),
        "target": list(errors.filter(side="source", object_name=sync.target_object).values_list("record_id", flat=True)),
    }

    def gone(direction, ids):
        errors.filter(side="target" if direction.forward else "source", object_name=direction.source_object,
                      record_id__in=ids).update(state=RecordError.State.IGNORED, resolved_at=timezone.now())

    try:
        return sync_records_execute(run, ids_by_side, compare_afresh=False, gone=gone)
    finally:
        # Whatever the outcome, failures not resolved by the retry are open again.
        RecordError.objects.filter(pk__in=error_ids, state=RecordError.State.RETRY_SCHEDULED).update(state=RecordError.State.OPEN)
