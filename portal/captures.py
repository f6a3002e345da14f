"""Captured contacts, for field users and admins: the overview with its export status, the
push of chosen contacts and a CSV import (SPEC LT-3, LT-5, LT-11). Thin shells around
``syncconfig.captures``."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from connectors.lemontaps import CaptureInvalid
from syncconfig import captures
from syncconfig.integrations.lemontaps_salesforce import LemontapsOptions, lemontaps_syncs, not_duplicate_key
from syncconfig.models import CapturedContact, Connection, SyncRun

PAGE_SIZE = 100


def _may_see(user) -> bool:
    return captures.is_capture_admin(user) or user.has_perm("syncconfig.push_captured_contacts")


@login_required
def captures_overview(request):
    if not _may_see(request.user):
        raise PermissionDenied
    syncs = list(lemontaps_syncs())
    visible = captures.captures_with_status(captures.captures_visible_to(request.user), syncs)
    page = Paginator(visible, PAGE_SIZE).get_page(request.GET.get("page"))
    run = None
    if request.GET.get("run", "").isdigit():
        run = SyncRun.objects.filter(pk=int(request.GET["run"]), started_by=request.user).first()
    pushable = {s.source_id: s for s in syncs if captures.may_push(request.user, s)}
    base_urls = {s.source_id: s.target.base_url for s in syncs}
    likely = captures.captures_likely_duplicates(captures=list(page), syncs=syncs)
    for capture in page:
        capture.failure_url = f"{base_urls.get(capture.connection_id, '')}/{capture.failure_target}" if capture.failure_target else ""
        capture.likely = likely.get(capture.pk)
        if capture.likely is not None:
            capture.likely_key = not_duplicate_key(capture.likely)
            if capture.likely.object_name:
                capture.likely_url = f"{base_urls.get(capture.connection_id, '')}/{capture.likely.candidate_id}"
    return render(request, "portal/captures.html", {
        "page": page, "run": run, "running": run is not None and run.status in (SyncRun.Status.QUEUED, SyncRun.Status.RUNNING),
        "may_push": bool(pushable), "is_admin": captures.is_capture_admin(request.user),
        "lemontaps_connections": Connection.objects.filter(kind="lemontaps", is_active=True),
        "no_sync": not syncs, "update_existing": {s.source_id for s in syncs if LemontapsOptions.of(s).update_existing},
    })


@require_POST
@login_required
def captures_push(request):
    """LT-3: push the ticked contacts (one push per connection they came through)."""
    ids = [int(i) for i in request.POST.getlist("capture") if i.isdigit()]
    chosen = captures.captures_visible_to(request.user).filter(pk__in=ids)
    runs = []
    for connection_id in chosen.order_by().values_list("connection_id", flat=True).distinct():
        sync = captures.push_sync_for(connection_id)
        if sync is None or not captures.may_push(request.user, sync):
            raise PermissionDenied
        runs.append(captures.captures_push_request(
            sync=sync, ids=list(chosen.filter(connection_id=connection_id).values_list("pk", flat=True)), user=request.user))
    if not runs:
        messages.warning(request, "Tick the contacts to push first.")
        return redirect("captures")
    messages.success(request, f"Pushing {len(ids)} contact(s) to Salesforce; you get an email with the result.")
    return redirect(f"{reverse('captures')}?run={runs[0].pk}")


@require_POST
@login_required
def capture_not_duplicate(request, pk):
    """The person pushing says a flagged capture is not the record matching found."""
    capture = get_object_or_404(captures.captures_visible_to(request.user), pk=pk)
    sync = captures.push_sync_for(capture.connection_id)
    if sync is None or not captures.may_push(request.user, sync):
        raise PermissionDenied
    captures.capture_not_duplicate(capture=capture, candidate=request.POST.get("candidate", "").strip()[:100])
    messages.success(request, f"{capture} is no longer flagged as that duplicate; a push creates it.")
    return redirect("captures")


@require_POST
@login_required
def captures_import(request):
    """A CSV or Excel (.xlsx) export of captured contacts, for admins."""
    if not captures.is_capture_admin(request.user):
        raise PermissionDenied
    connection = get_object_or_404(Connection, pk=request.POST.get("connection") or 0, kind="lemontaps")
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "Choose a CSV or Excel file.")
        return redirect("captures")
    content = upload.read()
    try:
        if upload.name.lower().endswith((".xlsx", ".xlsm")) or content[:2] == b"PK":  # a workbook is a zip file
            result = captures.captures_import_xlsx(connection=connection, content=content)
        else:
            result = captures.captures_import_csv(connection=connection, text=content.decode("utf-8-sig", errors="replace"))
    except CaptureInvalid as exc:
        messages.error(request, f"The file {upload.name} {exc.reason}")
        return redirect("captures")
    messages.success(request, f"Imported {result.stored} captured contact(s).")
    if result.refused:
        messages.warning(request, f"{len(result.refused)} row(s) refused; the others are imported.")
    for line, reason in result.refused[:20]:
        messages.error(request, f"Row {line}: {reason}")
    return redirect("captures")


