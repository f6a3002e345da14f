"""Completeness checks: is every record in a sync's scope on the other side, provably?

A check reads the ids of both ends of a sync (and only the fields its scope rules and key
mapping need), decides which records are in scope the way a run does, and compares them with
the sync's links:

- **missing**: in scope, but not linked, or linked to a partner that no longer exists;
- **failed**: missing, and a run already failed on it (its open failure says why);
- **not linked yet**: not linked, but an unlinked record on the other end has the same key
  (the next run of the record links the two);
- **orphaned link**: a link one of whose ends is gone while the other is not expected across.

Records out of scope are counted, never listed: the sync does not promise them. A two-way sync
is checked both ways. "Sync the missing now" runs the records found through the sync.

Memory: a check holds sets of ids (and the key values of unlinked records), never whole
records, and reads a page at a time: fine up to a few hundred thousand records a side (about
a hundred bytes per id).
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from connectors.base import ConnectorError, RateLimited, Record

from . import engine
from .models import CompletenessCheck, CompletenessItem, RecordError, RecordLink, Sync, SyncRun

log = logging.getLogger(__name__)

ITEMS_KEPT = 2000  # findings a check lists; its counts cover every one
STUCK_AFTER = timedelta(hours=12)  # a check still unfinished then was killed with its worker
BUDGET_REPORT_FRESH = timedelta(hours=1)  # a stored API usage older than this is not trusted
SIDES = ("source", "target")


def _other(side: str) -> str:
    return "target" if side == "source" else "source"


def _norm(value) -> str:
    """A key value as the engine compares keys."""
    return str(value or "").strip().lower()


# --- what a check found -----------------------------------------------------------------------
@dataclass
class SideRead:
    """What one end of the sync holds, as far as the check needs it."""

    name: str  # the connection's name, for reasons
    object_name: str
    ids: set[str] = field(default_factory=set)
    in_scope: set[str] = field(default_factory=set)  # empty when no direction reads from this end
    keys: dict[str, str] = field(default_factory=dict)  # id → key value, of unlinked records in scope
    unlinked_by_key: dict[str, str] = field(default_factory=dict)  # normalised key → id, of unlinked records
    out_of_scope: int = 0


@dataclass
class Findings:
    counts: Counter = field(default_factory=Counter)
    items: list[CompletenessItem] = field(default_factory=list)

    def add(self, count: str, **item) -> None:
        self.counts[count] += 1
        if len(self.items) < ITEMS_KEPT:
            self.items.append(CompletenessItem(**item))


# --- the check --------------------------------------------------------------------------------
def completeness_compare(sync: Sync, source, target, *, on_page=None) -> tuple[Findings, dict[str, SideRead], int]:
    """Compare both ends of ``sync`` (through the connectors ``source`` and ``target``) with its
    links: the findings, what was read of each end, and the number of links. ``on_page()`` is
    called after every page read (the budget check)."""
    directions = {("source" if d.forward else "target"): d for d in engine.directions(sync, source, target)}
    key = next(((m.source_field, m.target_field) for m in sync.mappings.all() if m.is_key), None)
    key_field = {"source": key[0], "target": key[1]} if key else {}
    links = list(RecordLink.objects.filter(sync=sync, source_object=sync.source_object, target_object=sync.target_object)
                 .values_list("source_id", "target_id"))
    partner = {"source": {s: t for s, t in links}, "target": {t: s for s, t in links}}
    ends = {"source": (source, sync.source), "target": (target, sync.target)}
    reads: dict[str, SideRead] = {}
    for side in SIDES:
        connector, connection = ends[side]
        reads[side] = _read(side, connector, connection.name, sync.source_object if side == "source" else sync.target_object,
                            directions.get(side), key_field.get(side), partner[side], on_page)

    findings = Findings()
    open_errors = {}  # (end the record lives in, id) → its latest open failure's reason
    for written_to, record_id, message in (RecordError.objects.filter(
            sync=sync, state__in=[RecordError.State.OPEN, RecordError.State.RETRY_SCHEDULED]).order_by("pk")
            .values_list("side", "record_id", "message")):
        open_errors[(_other(written_to), record_id)] = message
    for side in directions:
        _compare_direction(side, reads, partner, key_field, open_errors, findings)
    _orphans(links, reads, findings)
    return findings, reads, len(links)


def _read(side, connector, name, object_name, direction, key_field, partner, on_page) -> SideRead:
    """Stream one end's records (ids, key, and what the scope rules read), a page at a time."""
    read = SideRead(name=name, object_name=object_name)
    fields = []
    if direction is not None:
        fields += [r.field for r in direction.rules] + direction.integration.extra_source_fields(direction)
    fields += [key_field] if key_field else []
    for page in connector.changes(object_name, None, list(dict.fromkeys(fields))):
        for record in page:
            if record.id in read.ids:  # a change feed may hand a record out twice
                continue
            read.ids.add(record.id)
            key_value = record.fields.get(key_field) if key_field else None
            linked = record.id in partner
            if not linked and _norm(key_value):
                read.unlinked_by_key.setdefault(_norm(key_value), record.id)
            if direction is None:
                continue
            if _skip_reason(direction, record) or (not linked and direction.integration.create_skip_reason(direction, record)):
                read.out_of_scope += 1
                continue
            read.in_scope.add(record.id)
            if not linked and key_value not in (None, ""):
                read.keys[record.id] = str(key_value)
        if on_page is not None:
            on_page()
    return read


def _skip_reason(direction: engine.Direction, record: Record) -> str:
    """Why a run would leave ``record`` out: the same rules as ``engine.plan_page``."""
    return direction.integration.skip_reason(direction, record) or engine.rule_skip_reason(direction.rules, record.fields)


def _compare_direction(side, reads, partner, key_field, open_errors, findings: Findings) -> None:
    """Every record in scope on ``side`` needs a partner on the other end that exists."""
    mine, theirs = reads[side], reads[_other(side)]
    missing_count = "missing_in_target" if side == "source" else "missing_in_source"
    for record_id in sorted(mine.in_scope):
        partner_id = partner[side].get(record_id)
        if partner_id is not None and partner_id in theirs.ids:
            continue
        key_value = mine.keys.get(record_id, "")
        category, count, match = CompletenessItem.Category.MISSING, missing_count, ""
        if partner_id is not None:
            reason = f"Linked to {theirs.object_name} {partner_id}, which no longer exists in {theirs.name}."
            match = partner_id
        elif key_value and (match := theirs.unlinked_by_key.get(_norm(key_value), "")):
            category, count = CompletenessItem.Category.UNLINKED, "unlinked_count"
            reason = (f"Not linked yet: {theirs.object_name} {match} in {theirs.name} has the same "
                      f"{key_field[_other(side)]}; the next run of this record links the two.")
        elif key_field:
            reason = (f"Never synced: not linked, and no {theirs.object_name} in {theirs.name} has its "
                      f"{key_field[side]}{f' ({key_value})' if key_value else ' (it has none)'}.")
        else:
            reason = f"Never synced: not linked to any {theirs.object_name} in {theirs.name}."
        failure = open_errors.get((side, record_id))
        if failure is not None:
            category, count = CompletenessItem.Category.FAILED, "failed_count"
            reason = f"A run failed on it: {failure}"
        findings.add(count, side=side, object_name=mine.object_name, record_id=record_id, partner_id=match,
                     key_value=key_value[:300], category=category, reason=reason)


def _orphans(links, reads, findings: Findings) -> None:
    """Links with an end gone. Where the other end is in scope it is listed as missing
    (linked to a partner that no longer exists), not again as an orphan."""
    source, target = reads["source"], reads["target"]
    for source_id, target_id in links:
        source_gone, target_gone = source_id not in source.ids, target_id not in target.ids
        if not (source_gone or target_gone):
            continue
        if source_gone and target_gone:
            side, record_id, partner_id = "source", source_id, target_id
            reason = f"Both ends are gone: {source.object_name} {source_id} from {source.name}, {target.object_name} {target_id} from {target.name}."
        elif source_gone:
            if target_id in target.in_scope:
                continue
            side, record_id, partner_id = "source", source_id, target_id
            reason = (f"{source.object_name} {source_id} no longer exists in {source.name}; its partner "
                      f"{target.object_name} {target_id} is still in {target.name}.")
        else:
            if source_id in source.in_scope:
                continue
            side, record_id, partner_id = "target", target_id, source_id
            reason = (f"{target.object_name} {target_id} no longer exists in {target.name}; its partner "
                      f"{source.object_name} {source_id} is out of the sync's scope.")
        findings.add("orphaned_count", side=side, object_name=reads[side].object_name, record_id=record_id,
                     partner_id=partner_id, category=CompletenessItem.Category.ORPHANED, reason=reason)


# --- running a check ----------------------------------------------------------------------------
def budget_check_stored(sync: Sync, *, now: datetime | None = None) -> None:
    """Stop (paused) before a single call when an account last reported, recently, a usage
    past its budget: a check reads every record and would only make things worse."""
    now = now or timezone.now()
    for connection in (sync.source, sync.target):
        budget = connection.api_budget
        if (budget is not None and connection.api_used is not None and connection.api_reported_at
                and connection.api_reported_at > now - BUDGET_REPORT_FRESH and connection.api_used >= budget):
            raise engine.Stop(CompletenessCheck.Status.PAUSED,
                              f"Not checked: “{connection.name}” has used {connection.api_used:,} of its {connection.api_limit:,} "
                              f"daily API calls, past its budget of {connection.api_budget_percent}%. Check again later.")


def completeness_check_execute(check: CompletenessCheck) -> CompletenessCheck:
    """Run one check to its end and store its result: counts, the first findings, API calls."""
    from .services import connection_connector

    sync = Sync.objects.select_related("source", "target").get(pk=check.sync_id)
    CompletenessCheck.objects.filter(pk=check.pk).update(status=CompletenessCheck.Status.RUNNING)
    source = target = None
    findings, reads, links = None, {}, 0
    message = ""
    try:
        for connection in (sync.source, sync.target):
            if not connection.is_active:
                raise engine.Stop(CompletenessCheck.Status.FAILED, f"The connection “{connection.name}” is inactive; activate it to check this sync.")
        budget_check_stored(sync)
        source, target = connection_connector(sync.source), connection_connector(sync.target)
        findings, reads, links = completeness_compare(sync, source, target, on_page=lambda: engine.check_budget(sync, source, target))
        status = CompletenessCheck.Status.COMPLETE
        if findings.counts["missing_in_target"] or findings.counts["missing_in_source"] or findings.counts["failed_count"] or findings.counts["unlinked_count"]:
            status = CompletenessCheck.Status.INCOMPLETE
    except engine.Stop as stop:
        status = CompletenessCheck.Status.PAUSED if stop.status == SyncRun.Status.PAUSED else CompletenessCheck.Status.FAILED
        message = stop.message.replace("Paused:", "Paused before the end:", 1) if stop.status == SyncRun.Status.PAUSED else stop.message
    except RateLimited as exc:
        status, message = CompletenessCheck.Status.PAUSED, f"Paused by the vendor's API limit: {exc.message} Check again later."
    except ConnectorError as exc:
        status, message = CompletenessCheck.Status.FAILED, exc.message
    except Exception as exc:  # noqa: BLE001 - a check must end with a status whatever happened
        log.exception("Completeness check %s of sync %s failed unexpectedly", check.pk, sync.pk)
        status, message = CompletenessCheck.Status.FAILED, f"The check stopped on an unexpected error ({exc.__class__.__name__}); it is logged for the portal's maintainers."
    with transaction.atomic():
        check.status, check.message, check.finished_at = status, message, timezone.now()
        check.source_api_calls, check.target_api_calls = (source.api_calls, target.api_calls) if source else (0, 0)
        updated = ["status", "message", "finished_at", "source_api_calls", "target_api_calls"]
        if findings is not None:
            for name in ("missing_in_target", "missing_in_source", "failed_count", "unlinked_count", "orphaned_count"):
                setattr(check, name, findings.counts[name])
            check.source_read, check.target_read = len(reads["source"].ids), len(reads["target"].ids)
            check.in_scope = len(reads["source"].in_scope) + len(reads["target"].in_scope)
            check.out_of_scope = reads["source"].out_of_scope + reads["target"].out_of_scope
            check.links_count = links
            updated += ["missing_in_target", "missing_in_source", "failed_count", "unlinked_count", "orphaned_count",
                        "source_read", "target_read", "in_scope", "out_of_scope", "links_count"]
            for item in findings.items:
                item.completeness_check = check
            CompletenessItem.objects.bulk_create(findings.items)
        check.save(update_fields=updated)
    log.info("Completeness check %s of sync %s ended: %s", check.pk, sync.pk, status)
    return check


def completeness_check_claim(check_id: int) -> bool:
    """Take a queued check for this worker, atomically."""
    return bool(CompletenessCheck.objects.filter(pk=check_id, status=CompletenessCheck.Status.QUEUED)
                .update(status=CompletenessCheck.Status.RUNNING))


def completeness_check_request(*, sync: Sync, trigger: str = CompletenessCheck.Trigger.MANUAL, user=None) -> CompletenessCheck | None:
    """Queue a check of ``sync`` unless one is already waiting or running."""
    from .tasks import execute_completeness_check

    if sync.completeness_checks.filter(status__in=[CompletenessCheck.Status.QUEUED, CompletenessCheck.Status.RUNNING]).exists():
        return None
    check = CompletenessCheck.objects.create(sync=sync, trigger=trigger, started_by=user)
    transaction.on_commit(lambda: execute_completeness_check.delay(check.pk))
    return check


def completeness_checks_reap(*, now: datetime | None = None) -> int:
    """End checks that never finished (their worker was stopped), so that new ones can start."""
    now = now or timezone.now()
    return CompletenessCheck.objects.filter(
        status__in=[CompletenessCheck.Status.QUEUED, CompletenessCheck.Status.RUNNING], started_at__lt=now - STUCK_AFTER,
    ).update(status=CompletenessCheck.Status.FAILED, finished_at=now,
             message="The check never finished (the worker was stopped?). The next one starts afresh.")


def completeness_checks_due(*, now: datetime | None = None) -> list[CompletenessCheck]:
    """Queue a check of every enabled sync whose interval has passed since its last check."""
    now = now or timezone.now()
    completeness_checks_reap(now=now)
    syncs = (Sync.objects.filter(enabled=True, completeness_every_hours__isnull=False, completeness_every_hours__gt=0,
                                 source__is_active=True, target__is_active=True)
             .annotate(last_checked=Max("completeness_checks__started_at")))
    checks = []
    for sync in syncs:
        if sync.last_checked is None or sync.last_checked <= now - timedelta(hours=sync.completeness_every_hours):
            check = completeness_check_request(sync=sync, trigger=CompletenessCheck.Trigger.SCHEDULED)
            if check is not None:
                checks.append(check)
    return checks


# --- sync the missing now -----------------------------------------------------------------------
def missing_ids(check: CompletenessCheck) -> dict[str, list[str]]:
    """The records a check found missing (failed, not linked yet), by the end they live in."""
    ids: dict[str, list[str]] = {side: [] for side in SIDES}
    rows = check.items.filter(category__in=[CompletenessItem.Category.MISSING, CompletenessItem.Category.FAILED,
                                            CompletenessItem.Category.UNLINKED]).values_list("side", "record_id")
    for side, record_id in rows.order_by("pk"):
        ids[side].append(record_id)
    return {side: values for side, values in ids.items() if values}


def completeness_sync_missing(*, check: CompletenessCheck, user=None) -> SyncRun | None:
    """Queue a run of the records ``check`` found missing through its sync; None when nothing
    is to sync or a run of the sync is already under way."""
    from .tasks import execute_missing

    ids = missing_ids(check)
    busy = SyncRun.objects.filter(sync_id=check.sync_id, status__in=[SyncRun.Status.QUEUED, SyncRun.Status.RUNNING]).exists()
    if not ids or busy:
        return None
    run = SyncRun.objects.create(sync_id=check.sync_id, trigger=SyncRun.Trigger.COMPLETENESS,
                                 cause=SyncRun.Cause.COMPLETENESS, started_by=user)
    run.records_requested = sum(len(v) for v in ids.values())
    transaction.on_commit(lambda: execute_missing.delay(run.pk, ids))
    return run


# --- reads for the pages ------------------------------------------------------------------------
def latest_check(sync: Sync) -> CompletenessCheck | None:
    return sync.completeness_checks.select_related("sync__source", "sync__target", "started_by").order_by("-started_at").first()

