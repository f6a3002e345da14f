"""Reads for the sync pages."""
from django.db.models import Count, Max

from .models import RecordError, Sync, SyncRun


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
