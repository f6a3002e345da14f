"""Reads for the sync pages."""
from datetime import date, datetime, time, timedelta

from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from .models import RecordError, Sync, SyncDay, SyncRun

CHART_DAYS = 30  # the span of the sync page's and the dashboard's charts


def syncs_for_page():
    """Syncs with what their page shows, in a fixed number of queries."""
    return Sync.objects.select_related("source", "target", "schedule__interval", "schedule__crontab").prefetch_related("mappings", "rules", "record_types")


def sync_runs(sync: Sync, limit: int = 20):
    return SyncRun.objects.filter(sync=sync).select_related("started_by").defer("changes").order_by("-started_at")[:limit]


REASONS_SHOWN = 3  # of each class of failed records, the commonest (field, code)


def sync_error_classes(sync: Sync) -> list[dict]:
    """Open failed records of a sync by class, with what fixes each class and its commonest
    reasons: per field and code, how many and one record's own words (which name the field,
    the value and the fix)."""
    open_errors = RecordError.objects.filter(sync=sync, state__in=[RecordError.State.OPEN, RecordError.State.RETRY_SCHEDULED])
    rows = open_errors.values("error_class").annotate(count=Count("pk")).order_by("-count")
    reasons: dict[str, list[dict]] = {}
    for r in (open_errors.values("error_class", "field", "code").annotate(count=Count("pk"), example=Max("message"))
              .order_by("error_class", "-count", "field")):
        shown = reasons.setdefault(r["error_class"], [])
        if len(shown) < REASONS_SHOWN:
            shown.append({"field": r["field"], "code": r["code"], "count": r["count"], "example": r["example"]})
    labels = dict(RecordError.ErrorClass.choices)
    return [{"key": r["error_class"], "label": labels[r["error_class"]], "count": r["count"],
             "fix": RecordError.FIXES[r["error_class"]], "reasons": reasons.get(r["error_class"], [])} for r in rows]


def run_errors(run: SyncRun):
    return run.errors.order_by("error_class", "pk")


def sync_links(sync: Sync, *, show: str = "", q: str = ""):
    """A sync's links with how often each moved, for the HubSpot links page."""
    from django.db.models import Prefetch, Q

    from .models import RecordLink, RecordLinkEvent

    links = (RecordLink.objects.filter(sync=sync)
             .annotate(moves=Count("events", filter=Q(events__action=RecordLinkEvent.Action.MOVED)))
             .prefetch_related(Prefetch("events", queryset=RecordLinkEvent.objects.select_related("user")))
             .order_by("-updated_at", "-pk"))
    if show == "moved":
        links = links.filter(moves__gt=0)
    elif show == "pinned":
        links = links.filter(pinned=True)
    if q:
        q = q.strip()
        links = links.filter(Q(source_id=q) | Q(target_id=q) | Q(label__icontains=q))
    return links


def partner_gone_errors(sync: Sync):
    """Contacts held back because their Salesforce record no longer exists (HS-8)."""
    return RecordError.objects.filter(sync=sync, code="PARTNER_GONE", state=RecordError.State.OPEN).order_by("-pk")


# --- charts -----------------------------------------------------------------------------------
LIVE_DAYS = 2  # today and yesterday: summed from their runs on each view, since those may still change
_SUMS = ("runs", "created", "updated", "failed", "finished", "seconds_total", "seconds_max", "source_api_calls", "target_api_calls")


def _chart_days(days: int) -> list[date]:
    """The last ``days`` local days, oldest first."""
    today = timezone.localdate()
    return [today - timedelta(days=n) for n in range(days - 1, -1, -1)]


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _runs_summed(sync_ids, first: date, until: date | None = None) -> dict[tuple[int, date], dict]:
    """The runs of ``sync_ids`` that started from ``first`` (until ``until``), summed per sync
    and local day in one grouped query over the (sync, -started_at) index."""
    runs = SyncRun.objects.filter(sync__in=list(sync_ids), started_at__gte=_midnight(first))
    if until is not None:
        runs = runs.filter(started_at__lt=_midnight(until))
    took = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    rows = (runs.annotate(day=TruncDate("started_at", tzinfo=timezone.get_current_timezone()))
            .values("sync_id", "day")
            .annotate(runs=Count("pk"), created=Sum("created_count"), updated=Sum("updated_count"), failed=Sum("failed_count"),
                      finished=Count("finished_at"), seconds_total=Sum(took), seconds_max=Max(took),
                      source_api_calls=Sum("source_api_calls"), target_api_calls=Sum("target_api_calls"))
            .order_by())  # no ordering: Meta's "-started_at" would split the groups
    return {(row["sync_id"], row["day"]): {
        **{key: row[key] or 0 for key in _SUMS if not key.startswith("seconds")},
        "seconds_total": _seconds(row["seconds_total"]) or 0.0, "seconds_max": _seconds(row["seconds_max"]),
    } for row in rows}


def _day_sums(sync_ids, day_list: list[date]) -> dict[tuple[int, date], dict]:
    """Sums per (sync, day) of ``day_list``: the days that are over from ``SyncDay``, summing
    once (one grouped query) those not summed yet, the last ``LIVE_DAYS`` from their runs. A
    few queries, whatever the number of runs: a busy sync's month is ~250,000 of them."""
    zone = timezone.get_current_timezone_name()
    live_from = timezone.localdate() - timedelta(days=LIVE_DAYS - 1)
    closed = [d for d in day_list if d < live_from]
    out: dict[tuple[int, date], dict] = {}
    if closed:
        stored = SyncDay.objects.filter(sync__in=list(sync_ids), time_zone=zone, day__gte=closed[0], day__lte=closed[-1])
        for row in stored.values("sync_id", "day", *_SUMS):
            out[(row.pop("sync_id"), row.pop("day"))] = row
        missing = [(sync_id, day) for sync_id in sync_ids for day in closed if (sync_id, day) not in out]
        if missing:
            summed = _runs_summed({sync_id for sync_id, _ in missing}, min(day for _, day in missing), live_from)
            zero = {key: 0 for key in _SUMS} | {"seconds_max": None, "seconds_total": 0.0}
            for key in missing:
                out[key] = summed.get(key, zero)
            SyncDay.objects.bulk_create([SyncDay(sync_id=sync_id, day=day, time_zone=zone, **out[(sync_id, day)])
                                         for sync_id, day in missing], ignore_conflicts=True)
    out.update(_runs_summed(sync_ids, max(live_from, day_list[0])))
    return out


def sync_daily_activity(sync: Sync, *, days: int = CHART_DAYS) -> dict:
    """What a sync's runs did per day over the last ``days`` days: ``rows`` (one per day,
    oldest first, zero when nothing ran: runs, records created, updated and failed, average
    and longest run in seconds), their ``totals``, and the same as columns in ``chart`` for
    the page's charts."""
    day_list = _chart_days(days)
    sums = _day_sums([sync.pk], day_list)
    rows = []
    for day in day_list:
        got = sums.get((sync.pk, day)) or {}
        finished = got.get("finished") or 0
        rows.append({"day": day.isoformat(), **{key: got.get(key) or 0 for key in ("runs", "created", "updated", "failed")},
                     "duration_avg": round(got["seconds_total"] / finished, 1) if finished else None,
                     "duration_max": round(got["seconds_max"], 1) if got.get("seconds_max") is not None else None})
    totals = {key: sum(r[key] for r in rows) for key in ("runs", "created", "updated", "failed")}
    finished = sum((sums.get((sync.pk, day)) or {}).get("finished", 0) for day in day_list)
    seconds = sum((sums.get((sync.pk, day)) or {}).get("seconds_total", 0) for day in day_list)
    totals["duration_avg"] = round(seconds / finished, 1) if finished else None
    totals["duration_max"] = max((r["duration_max"] for r in rows if r["duration_max"] is not None), default=None)
    return {"rows": rows, "totals": totals, "chart": {key: [r[key] for r in rows] for key in rows[0]}}


def _seconds(value) -> float | None:
    """A duration from the database as seconds (a timedelta, or microseconds where the
    database adds durations up as numbers); None stays None."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value) / 1_000_000


def connections_daily_api_calls(connections, *, days: int = CHART_DAYS) -> dict[int, dict]:
    """API calls per day over the last ``days`` days for each of ``connections``, by id: what
    the runs of the syncs using it spent on it (as their source or their target), as
    ``chart`` columns and ``rows``, with the ``total`` and the busiest day (``peak``). A few
    queries whatever the number of connections and runs: the syncs, then their days."""
    day_list = _chart_days(days)
    ids = {c.pk for c in connections}
    calls = {pk: [0] * days for pk in ids}
    syncs = {pk: (source_id, target_id) for pk, source_id, target_id in
             Sync.objects.filter(Q(source__in=ids) | Q(target__in=ids)).values_list("pk", "source_id", "target_id")}
    sums = _day_sums(list(syncs), day_list) if syncs else {}
    for n, day in enumerate(day_list):
        for sync_id, ends in syncs.items():
            got = sums.get((sync_id, day))
            if got is None:
                continue
            for connection_id, spent in zip(ends, (got["source_api_calls"], got["target_api_calls"])):
                if connection_id in calls:
                    calls[connection_id][n] += spent
    out = {}
    for pk, series in calls.items():
        peak = max(range(days), key=series.__getitem__)
        out[pk] = {"chart": {"day": [d.isoformat() for d in day_list], "calls": series}, "total": sum(series),
                   "rows": [(d.isoformat(), n) for d, n in zip(day_list, series)],
                   "peak": {"day": day_list[peak].isoformat(), "calls": series[peak]} if series[peak] else None}
    return out


# --- live runs ----------------------------------------------------------------------------------
def run_for_progress(pk: int) -> SyncRun:
    """A run with what its live progress shows (not the changes it kept)."""
    return SyncRun.objects.defer("changes", "pending").get(pk=pk)


def run_progress(run: SyncRun) -> dict:
    """What a run's page and its sync's page show of a run under way, as JSON."""
    return {
        "id": run.pk, "status": run.status, "status_label": run.get_status_display(), "live": run.live,
        "phase": run.phase, "phase_label": run.get_phase_display() if run.phase else "",
        "done": run.records_done, "expected": run.records_expected, "percent": run.percent_done,
        "read": run.read_count, "created": run.created_count, "updated": run.updated_count,
        "skipped": run.skipped_count, "failed": run.failed_count,
        "source_api_calls": run.source_api_calls, "target_api_calls": run.target_api_calls,
        "message": run.message,
    }
