"""Reads for the sync pages."""
from datetime import date, datetime, time, timedelta

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Max, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from .models import Connection, RecordError, Sync, SyncRun

CHART_DAYS = 30  # the span of the sync page's and the dashboard's charts


def syncs_for_page():
    """Syncs with what their page shows, in a fixed number of queries."""
    return Sync.objects.select_related("source", "target", "schedule__interval", "schedule__crontab").prefetch_related("mappings", "rules", "record_types")


def sync_runs(sync: Sync, limit: int = 20):
    return SyncRun.objects.filter(sync=sync).select_related("started_by").defer("changes").order_by("-started_at")[:limit]


def sync_error_classes(sync: Sync) -> list[dict]:
    """Open failed records of a sync by class, with what fixes each class."""
    rows = (RecordError.objects.filter(sync=sync, state__in=[RecordError.State.OPEN, RecordError.State.RETRY_SCHEDULED])
            .values("error_class").annotate(count=Count("pk")).order_by("-count"))
    labels = dict(RecordError.ErrorClass.choices)
    return [{"key": r["error_class"], "label": labels[r["error_class"]], "count": r["count"],
             "fix": RecordError.FIXES[r["error_class"]]} for r in rows]


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
        links = links.filter(Q(source_id__icontains=q) | Q(target_id__icontains=q))
    return links


def partner_gone_errors(sync: Sync):
    """Contacts held back because their Salesforce record no longer exists (HS-8)."""
    return RecordError.objects.filter(sync=sync, code="PARTNER_GONE", state=RecordError.State.OPEN).order_by("-pk")


# --- charts -----------------------------------------------------------------------------------
def _chart_days(days: int) -> tuple[list[date], datetime]:
    """The last ``days`` local days, oldest first, and the instant the first one began."""
    today = timezone.localdate()
    first = today - timedelta(days=days - 1)
    return [first + timedelta(days=n) for n in range(days)], timezone.make_aware(datetime.combine(first, time.min))


def _runs_by_day(queryset, *group, **sums):
    """``queryset``'s runs grouped by their local start day (and ``group``), in the database."""
    return (queryset.annotate(day=TruncDate("started_at", tzinfo=timezone.get_current_timezone()))
            .values(*group, "day").annotate(**sums)
            .order_by())  # no ordering: Meta's "-started_at" would split the groups


def sync_daily_activity(sync: Sync, *, days: int = CHART_DAYS) -> dict:
    """What a sync's runs did per day over the last ``days`` days: ``rows`` (one per day,
    oldest first, zero when nothing ran: runs, records created, updated and failed, average
    and longest run in seconds), their ``totals``, and the same as columns in ``chart`` for
    the page's charts. One grouped query that reads the days' part of the (sync, -started_at)
    index, however many runs the sync has had before."""
    day_list, since = _chart_days(days)
    took = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    found = {row["day"]: row for row in _runs_by_day(
        SyncRun.objects.filter(sync=sync, started_at__gte=since),
        runs=Count("pk"), created=Sum("created_count"), updated=Sum("updated_count"), failed=Sum("failed_count"),
        took_avg=Avg(took), took_max=Max(took))}
    rows = []
    for day in day_list:
        row = found.get(day, {})
        rows.append({"day": day.isoformat(), **{key: row.get(key) or 0 for key in ("runs", "created", "updated", "failed")},
                     "duration_avg": _seconds(row.get("took_avg")), "duration_max": _seconds(row.get("took_max"))})
    totals = {key: sum(r[key] for r in rows) for key in ("runs", "created", "updated", "failed")}
    timed = [(r["duration_avg"], r["runs"]) for r in rows if r["duration_avg"] is not None]
    totals["duration_avg"] = round(sum(a * n for a, n in timed) / sum(n for _, n in timed), 1) if timed else None
    totals["duration_max"] = max((r["duration_max"] for r in rows if r["duration_max"] is not None), default=None)
    return {"rows": rows, "totals": totals, "chart": {key: [r[key] for r in rows] for key in rows[0]}}


def _seconds(value) -> float | None:
    """A duration from the database as seconds (a timedelta, or microseconds where the
    database averages durations as numbers), or None for a day without a finished run."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        return round(value.total_seconds(), 1)
    return round(float(value) / 1_000_000, 1)


def connections_daily_api_calls(connections, *, days: int = CHART_DAYS) -> dict[int, dict]:
    """API calls per day over the last ``days`` days for each of ``connections``, by id: what
    the runs of the syncs using it spent on it (as their source or their target), as
    ``chart`` columns, with the ``total`` and the busiest day (``peak``). Two queries whatever
    the number of connections and runs: the syncs, then their runs grouped by sync and day
    over the (sync, -started_at) index."""
    day_list, since = _chart_days(days)
    ids = {c.pk for c in connections}
    calls = {pk: [0] * days for pk in ids}
    syncs = {pk: (source_id, target_id) for pk, source_id, target_id in
             Sync.objects.filter(Q(source__in=ids) | Q(target__in=ids)).values_list("pk", "source_id", "target_id")}
    index = {d: n for n, d in enumerate(day_list)}
    rows = _runs_by_day(SyncRun.objects.filter(sync__in=list(syncs), started_at__gte=since), "sync_id",
                        source=Sum("source_api_calls"), target=Sum("target_api_calls")) if syncs else []
    for row in rows:
        n = index.get(row["day"])
        for connection_id, spent in zip(syncs[row["sync_id"]], (row["source"], row["target"])):
            if n is not None and connection_id in calls and spent:
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
