"""The dashboard and the health endpoint; everything else lives in the admin for now."""
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.utils import DatabaseError
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from dedupe import selectors as dedupe_selectors
from syncconfig import selectors as sync_selectors

from . import selectors


@login_required
def dashboard(request):
    user = request.user
    context = {"can_see_connections": user.has_perm("syncconfig.view_connection"), "can_see_syncs": user.has_perm("syncconfig.view_sync")}
    if context["can_see_connections"]:
        connections = list(selectors.dashboard_connections())
        calls = sync_selectors.connections_daily_api_calls(connections)
        for c in connections:
            c.api_calls_daily = {**calls[c.pk], "script_id": f"connection-calls-{c.pk}"}
        context["connections"], context["chart_days"] = connections, sync_selectors.CHART_DAYS
    if context["can_see_syncs"]:
        syncs = list(selectors.dashboard_syncs())
        runs = selectors.runs_by_id(s.last_run_id for s in syncs)
        checks = selectors.checks_by_id(s.last_check_id for s in syncs)
        for sync in syncs:
            sync.latest_run = runs.get(sync.last_run_id)
            sync.latest_check = checks.get(sync.last_check_id)
        context["syncs"] = syncs
    context["can_see_duplicates"] = user.has_perm("dedupe.view_duplicategroup")
    if context["can_see_duplicates"]:
        context["duplicates_to_review"] = dedupe_selectors.groups_to_review_count()
    return render(request, "portal/dashboard.html", context)


@never_cache
def health(request):
    """For load balancers: 200 when the database answers, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
