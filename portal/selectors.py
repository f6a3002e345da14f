"""Reads for the portal's own pages."""
from django.db.models import Count, OuterRef, Q, Subquery

from syncconfig.models import CompletenessCheck, Connection, RecordError, Sync, SyncRun


def dashboard_connections():
    return Connection.objects.order_by("name")


def dashboard_syncs():
    """Syncs with their latest run and completeness check (one query, whatever the number of
    runs) and open errors."""
    latest = SyncRun.objects.filter(sync=OuterRef("pk")).order_by("-started_at")
    latest_check = CompletenessCheck.objects.filter(sync=OuterRef("pk")).order_by("-started_at")
    return (
        Sync.objects.select_related("source", "target")
        .annotate(
            open_errors=Count("record_errors", filter=Q(record_errors__state=RecordError.State.OPEN)),
            retrying_errors=Count("record_errors", filter=Q(record_errors__state=RecordError.State.RETRY_SCHEDULED)),
            last_run_id=Subquery(latest.values("pk")[:1]),
            last_check_id=Subquery(latest_check.values("pk")[:1]),
        )
        .order_by("name")
    )


def runs_by_id(ids):
    return SyncRun.objects.defer("changes").in_bulk([i for i in ids if i])


def checks_by_id(ids):
    return CompletenessCheck.objects.select_related("sync__source", "sync__target").in_bulk([i for i in ids if i])
