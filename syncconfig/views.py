"""The sync page, its preview, run pages and the change-notification endpoint: thin shells
around services and selectors."""
from django.conf import settings as django_settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseForbidden, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from connectors.base import ConnectorError

from . import completeness, engine, selectors, services
from .integrations import integration_class
from .models import CompletenessCheck, Connection, RecordError, Sync, SyncRun


COMPLETENESS_ITEMS_SHOWN = 200  # findings of the latest check listed on the sync page


@login_required
@permission_required("syncconfig.view_sync", raise_exception=True)
def sync_detail(request, pk):
    sync = get_object_or_404(selectors.syncs_for_page(), pk=pk)
    every, crontab = services.sync_schedule_describe(sync)
    runs = list(selectors.sync_runs(sync))
    activity = selectors.sync_daily_activity(sync)
    check = completeness.latest_check(sync)
    checking = check is not None and check.status in (CompletenessCheck.Status.QUEUED, CompletenessCheck.Status.RUNNING)
    return render(request, "syncconfig/sync_detail.html", {
        "sync": sync, "runs": runs, "error_classes": selectors.sync_error_classes(sync),
        "check": check, "check_items": check.items.all()[:COMPLETENESS_ITEMS_SHOWN] if check else [],
        "items_shown": COMPLETENESS_ITEMS_SHOWN, "checking": checking,
        "every_minutes": every, "crontab": crontab,
        "stopped_connections": [c for c in {sync.source_id: sync.source, sync.target_id: sync.target}.values() if c.blocked_at],
        "echoing_connections": [c for c in {sync.source_id: sync.source, sync.target_id: sync.target}.values()
                                if c.echoes_ignored_today],
        "settings_pages": integration_class(sync.integration).settings_pages,
        "live_runs": [r for r in runs[:3] if r.live], "activity": activity, "chart_days": selectors.CHART_DAYS,
    })


PREVIEW_RECORDS = 200  # records a preview looks at: a sample of what switching on would do


@login_required
@permission_required("syncconfig.view_sync", raise_exception=True)
def sync_preview(request, pk):
    sync = get_object_or_404(Sync, pk=pk)
    try:
        preview, error = engine.sync_preview(sync, limit=PREVIEW_RECORDS), ""
    except (ConnectorError, engine.Stop) as exc:
        preview, error = None, exc.message
    return render(request, "syncconfig/sync_preview.html", {"sync": sync, "preview": preview, "error": error})


@require_POST
@login_required
@permission_required("syncconfig.run_sync", raise_exception=True)
def sync_run_now(request, pk):
    sync = get_object_or_404(Sync, pk=pk)
    run, said = services.sync_run_now(sync=sync, user=request.user)
    if run is None:
        messages.warning(request, said)
        return redirect("sync_detail", sync.pk)
    messages.success(request, said)
    return redirect("run_detail", run.pk)


@require_POST
@login_required
@permission_required("syncconfig.run_sync", raise_exception=True)
def completeness_check(request, pk):
    sync = get_object_or_404(Sync, pk=pk)
    check = completeness.completeness_check_request(sync=sync, user=request.user)
    if check is None:
        messages.warning(request, "A completeness check of this sync is already under way.")
    else:
        messages.success(request, "The completeness check is queued; this page shows its result when it is done.")
    return redirect(f"{reverse('sync_detail', args=[sync.pk])}#completeness")


@require_POST
@login_required
@permission_required("syncconfig.run_sync", raise_exception=True)
def completeness_sync_missing(request, pk, check_id):
    check = get_object_or_404(CompletenessCheck, pk=check_id, sync_id=pk)
    run = completeness.completeness_sync_missing(check=check, user=request.user)
    if run is None:
        messages.warning(request, "Nothing to sync: the check found no missing record, or a run of this sync is under way.")
        return redirect(f"{reverse('sync_detail', args=[pk])}#completeness")
    count = run.records_requested
    note = (f" The check listed the first {count:,} of {check.to_sync:,}: check again afterwards for the rest."
            if count < check.to_sync else " Check again afterwards to confirm.")
    messages.success(request, ngettext("Syncing %d missing record.", "Syncing %d missing records.", count) % count + note)
    return redirect("run_detail", run.pk)


@require_POST
@login_required
@permission_required("syncconfig.change_sync", raise_exception=True)
def sync_toggle(request, pk):
    sync = get_object_or_404(Sync, pk=pk)
    services.sync_enable(sync=sync, enabled=request.POST.get("enabled") == "1")
    messages.success(request, f"“{sync.name}” is {'on' if sync.enabled else 'off'}.")
    return redirect("sync_detail", sync.pk)


@login_required
@permission_required("syncconfig.view_syncrun", raise_exception=True)
def run_detail(request, pk):
    run = get_object_or_404(SyncRun.objects.select_related("sync", "started_by"), pk=pk)
    errors = Paginator(selectors.run_errors(run), 100).get_page(request.GET.get("page"))
    return render(request, "syncconfig/run_detail.html", {"run": run, "errors": errors})


@never_cache
@login_required
@permission_required("syncconfig.view_syncrun", raise_exception=True)
def run_progress(request, pk):
    """A run's progress as JSON, for the run page and the sync page to follow it live."""
    try:
        run = selectors.run_for_progress(pk)
    except SyncRun.DoesNotExist:
        raise Http404("No such run.") from None
    return JsonResponse(selectors.run_progress(run))


@require_POST
@login_required
@permission_required("syncconfig.run_sync", raise_exception=True)
def errors_retry(request, pk):
    """Retry failed records of a sync: the ticked ones, or a whole class."""
    sync = get_object_or_404(Sync, pk=pk)
    errors = RecordError.objects.filter(sync=sync)
    if request.POST.get("error_class"):
        errors = errors.filter(error_class=request.POST["error_class"])
    else:
        errors = errors.filter(pk__in=[v for v in request.POST.getlist("error") if v.isdigit()])
    runs = services.record_errors_retry(errors=errors, user=request.user)
    if not runs:
        messages.warning(request, "Nothing to retry: pick failed records that are still open.")
        return redirect("sync_detail", sync.pk)
    count = sum(r.errors_retried for r in runs)
    messages.success(request, ngettext("Retrying %d failed record.", "Retrying %d failed records.", count) % count)
    return redirect("run_detail", runs[0].pk)


def _refused(status: int, message: str) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    response._has_been_logged = True  # logged once already, without the path (see notifications.refusal_log)
    return response


@csrf_exempt
@require_POST
def connection_webhook(request, pk):
    """A vendor's change notification: bounded, then checked the vendor's way (its signature,
    or the connection's secret sent as basic authentication, never in the path). The runs
    it starts read everything since their watermark; its body only tells whether it reports
    nothing but the portal's own writes (then it starts none)."""
    from connectors.base import WebhookRefused

    from . import notifications

    try:
        body = notifications.request_body(request, limit=notifications.MAX_NOTIFICATION_BYTES)
    except notifications.BodyTooLarge as exc:
        notifications.refusal_log(what="notification", pk=pk, reason=str(exc), request=request)
        return _refused(413, str(exc))
    connection = Connection.objects.filter(pk=pk).first()
    try:
        runs = notifications.notification_accept(connection=connection, request=request, body=body)
    except WebhookRefused as exc:
        notifications.refusal_log(what="notification", pk=pk, reason=exc.message, request=request)
        if exc.malformed:
            return _refused(400, exc.message)
        return _refused(401, "Not a genuine notification for this address." if connection is None else exc.message)
    return JsonResponse({"runs_started": len(runs)}, status=202)


@csrf_exempt
def connection_webhook_retired(request, pk, secret):
    """The old notification address, which carried the connection's secret in its path (and
    so in access logs). Refused whatever it holds; the secret is never compared, logged or
    echoed. Registering the notifications again (switch an immediate sync off and on) gives
    the vendor the new address."""
    from . import notifications

    notifications.refusal_log(what="notification to the retired address", pk=pk, reason="old address", request=request)
    return _refused(410, "This notification address is retired: it carried a secret in its path. Register the "
                         "connection's notifications again (switch its immediate sync off and on) to use the new address.")


@login_required
@permission_required("syncconfig.change_sync", raise_exception=True)
def person_account_settings(request, pk):
    """The ActiveCampaign ⇄ Salesforce settings of a sync (AC-2, AC-5, AC-6, AC-7, AC-11, AC-13)."""
    from django.core.exceptions import ValidationError

    from .integrations import person_accounts as pa
    from .services import connection_connector

    sync = get_object_or_404(Sync.objects.select_related("source", "target"), pk=pk, integration=pa.PersonAccountIntegration.key)
    facts = pa.salesforce_facts(sync)
    ac = connection_connector(pa.activecampaign_connection(sync))
    cleanup_count = None
    if request.method == "POST":
        action = request.POST.get("action", "save")
        try:
            if action == "save":
                pa.person_account_options_save(
                    sync=sync, facts=facts, outbound=request.POST.get("outbound", ""), marker_field=request.POST.get("marker_field", ""),
                    record_type_id=request.POST.get("record_type_id", ""), tag_cleanup=request.POST.get("tag_cleanup") == "on",
                    allow_lead_without_company=request.POST.get("allow_lead_without_company") == "on",
                )
                messages.success(request, "Saved.")
                return redirect("person_account_settings", sync.pk)
            cleanup_count = pa.tag_cleanup(ac, apply=action == "cleanup_run")
            messages.success(request, (f"Removed the Contact tags of {cleanup_count} contact(s)." if action == "cleanup_run"
                                       else f"The clean-up would touch {cleanup_count} contact(s)."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        except ConnectorError as exc:
            messages.error(request, exc.message)
    options = pa.PersonAccountOptions.of(sync)
    chosen = sync.record_types.filter(object_name="Account", is_default=True).first()
    return render(request, "syncconfig/person_account_settings.html", {
        "sync": sync, "facts": facts, "options": options, "outbound_choices": pa.Outbound.CHOICES,
        "uses_person_accounts": pa.uses_person_accounts(sync), "chosen_record_type": chosen.record_type_id if chosen else "",
        "problems": pa.troubleshooting(sync, facts, conflicting_tags=cleanup_count), "tags": {"pa": pa.PA_TAGS, "contact": pa.CONTACT_TAGS},
    })


@login_required
@permission_required("syncconfig.view_sync", raise_exception=True)
def hubspot_links(request, pk):
    """The HubSpot ⇄ Salesforce page of a sync: link policy and HS-6 setting, matching
    warnings (HS-1), each contact's link with its history and pin (HS-2), and Resync (HS-8)."""
    from django.core.exceptions import ValidationError

    from .integrations import hubspot_salesforce as hs

    sync = get_object_or_404(Sync.objects.select_related("source", "target"), pk=pk, integration=hs.HubSpotSalesforceIntegration.key)
    if request.method == "POST":
        if not request.user.has_perm("syncconfig.change_sync"):
            return HttpResponseForbidden("You may not change this sync.")
        try:
            hs.hubspot_options_save(sync=sync, link_policy=request.POST.get("link_policy", ""),
                                    on_salesforce_delete=request.POST.get("on_salesforce_delete", ""))
            messages.success(request, "Saved.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("hubspot_links", sync.pk)
    links = Paginator(selectors.sync_links(sync, show=request.GET.get("show", ""), q=request.GET.get("q", "")), 50).get_page(request.GET.get("page"))
    return render(request, "syncconfig/hubspot_links.html", {
        "sync": sync, "options": hs.HubSpotOptions.of(sync), "policies": hs.LinkPolicy.CHOICES,
        "on_delete_choices": hs.OnSalesforceDelete.CHOICES, "warnings": hs.matching_warnings(sync),
        "links": links, "candidates": hs.duplicate_candidates(sync, links.object_list),
        "gone": selectors.partner_gone_errors(sync)[:200], "gone_count": selectors.partner_gone_errors(sync).count(),
        "show": request.GET.get("show", ""), "q": request.GET.get("q", ""),
    })


@require_POST
@login_required
@permission_required("syncconfig.change_sync", raise_exception=True)
def link_pin(request, pk, link_id):
    from django.core.exceptions import ValidationError

    from .integrations import hubspot_salesforce as hs
    from .models import RecordLink

    link = get_object_or_404(RecordLink.objects.select_related("sync__source", "sync__target"), pk=link_id, sync_id=pk)
    salesforce_id = request.POST.get("salesforce_id", "").strip()
    try:
        if salesforce_id:
            hs.salesforce_record_check(sync=link.sync, salesforce_id=salesforce_id)
        hs.link_pin(link=link, user=request.user, pinned=request.POST.get("pinned") == "1", salesforce_id=salesforce_id)
        messages.success(request, "Pinned: the sync keeps this link." if link.pinned else "Unpinned: the link policy applies again.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except ConnectorError as exc:
        messages.error(request, f"Salesforce could not be asked: {exc.message}")
    return redirect(f"{request.build_absolute_uri(reverse('hubspot_links', args=[pk]))}#link-{link.pk}")


@require_POST
@login_required
@permission_required("syncconfig.run_sync", raise_exception=True)
def hubspot_resync(request, pk):
    """HS-8's Resync: the ticked contacts, or every one held back."""
    from .integrations import hubspot_salesforce as hs

    sync = get_object_or_404(Sync, pk=pk)
    errors = selectors.partner_gone_errors(sync)
    if request.POST.get("all") != "1":
        errors = errors.filter(pk__in=[v for v in request.POST.getlist("error") if v.isdigit()])
    runs = hs.resync(errors=list(errors), user=request.user)
    if not runs:
        messages.warning(request, "Nothing to resync: tick contacts that are still held back.")
        return redirect("hubspot_links", sync.pk)
    count = sum(r.errors_retried for r in runs)
    messages.success(request, ngettext("Resyncing %d contact.", "Resyncing %d contacts.", count) % count)
    return redirect("run_detail", runs[0].pk)


@csrf_exempt
@require_POST
def capture_webhook(request, pk):
    """A captured contact, posted under the portal's capture contract (``connectors/lemontaps.py``):
    the connection's secret in a header, a bounded JSON body; stored before the answer."""
    import json

    from connectors.lemontaps import MAX_BODY_BYTES, SECRET_HEADER, CaptureInvalid

    from . import captures, notifications

    try:
        raw = notifications.request_body(request, limit=MAX_BODY_BYTES)
    except notifications.BodyTooLarge:
        notifications.refusal_log(what="capture", pk=pk, reason="body over the limit", request=request)
        response = JsonResponse({"error": f"A capture may be at most {MAX_BODY_BYTES} bytes.", "field": "body"}, status=413)
        response._has_been_logged = True
        return response
    connection = Connection.objects.filter(pk=pk, kind="lemontaps", is_active=True).first()
    if connection is None or not captures.capture_secret_matches(connection, request.headers.get(SECRET_HEADER, "")):
        notifications.refusal_log(what="capture", pk=pk, reason="unknown connection or wrong secret", request=request)
        response = JsonResponse({"error": f"Unknown connection or wrong secret (send it in the {SECRET_HEADER} header)."}, status=403)
        response._has_been_logged = True
        return response
    try:
        body = json.loads(raw or b"null")
    except ValueError:
        return JsonResponse({"error": "The body is not JSON.", "field": "body"}, status=400)
    try:
        stored, created = captures.capture_accept(connection=connection, body=body)
    except CaptureInvalid as exc:
        return JsonResponse({"error": str(exc), "field": exc.field}, status=400)
    return JsonResponse({"id": stored.pk, "created": created}, status=201 if created else 200)


@login_required
@permission_required("syncconfig.change_sync", raise_exception=True)
def lemontaps_settings(request, pk):
    """The Lemontaps → Salesforce push settings of a sync (LT-2, LT-4, LT-11, LT-12)."""
    from django.core.exceptions import ValidationError

    from . import captures
    from .integrations import lemontaps_salesforce as lt

    sync = get_object_or_404(Sync.objects.select_related("source", "target"), pk=pk, integration=lt.LemontapsSalesforceIntegration.key)
    if request.method == "POST":
        try:
            captures.lemontaps_options_save(
                sync=sync, create_as=request.POST.get("create_as", ""),
                field_users_may_push=request.POST.get("field_users_may_push") == "on",
                update_existing=request.POST.get("update_existing") == "on",
                push_updates=request.POST.get("push_updates") == "on", met_on_field=request.POST.get("met_on_field", ""),
                automatic=request.POST.get("automatic") == "on")
            messages.success(request, "Saved.")
            return redirect("lemontaps_settings", sync.pk)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    sync.refresh_from_db()
    return render(request, "syncconfig/lemontaps_settings.html", {
        "sync": sync, "options": lt.LemontapsOptions.of(sync), "create_as_choices": lt.CreateAs.CHOICES,
        "capture_url": f"{django_settings.PORTAL_URL}{reverse('capture_webhook', args=[sync.source_id])}",
        "secret": captures.capture_secret(sync.source), "mapping": lt.MAPPING,
    })


@require_POST
@login_required
@permission_required("syncconfig.change_sync", raise_exception=True)
def lemontaps_reauthorise(request, pk):
    """LT-1: authorise the Salesforce connection anew and read its custom fields again."""
    from . import captures
    from .integrations import lemontaps_salesforce as lt

    sync = get_object_or_404(Sync.objects.select_related("source", "target"), pk=pk, integration=lt.LemontapsSalesforceIntegration.key)
    ok, message = captures.lemontaps_reauthorise(sync=sync)
    (messages.success if ok else messages.error)(request, message)
    return redirect("lemontaps_settings", sync.pk)


@login_required
@permission_required("syncconfig.change_sync", raise_exception=True)
def zoho_campaigns_settings(request, pk):
    """The new model's settings of a Zoho CRM → Campaigns sync: the marketing rule with its
    counts (ZO-3), opt-outs and what unsubscribes and bounces do (ZO-4), the flow-back log."""
    from django.core.exceptions import ValidationError

    from . import zoho
    from .integrations import zoho_campaigns as zc
    from .models import SyncRule

    sync = get_object_or_404(Sync.objects.select_related("source", "target"), pk=pk,
                             integration=zc.ZohoCampaignsIntegration.key)
    if request.method == "POST":
        try:
            if "count" in request.POST:
                zoho.marketing_counts(sync=sync)
                messages.success(request, "Counted.")
            elif "modules" in request.POST:
                custom = [m for m in request.POST.get("custom_modules", "").replace(";", ",").split(",")]
                members = zoho.zoho_modules_set(sync=sync, modules=request.POST.getlist("module") + custom)
                covered = [m.source_object for m in members if zc.ZohoCampaignsOptions.of(m).covered]
                messages.success(request, f"The configuration covers {', '.join(covered)}.")
            else:
                zoho.zoho_options_save(
                    sync=sync, marketing_field=request.POST.get("marketing_field", "").strip(),
                    marketing_operator=request.POST.get("marketing_operator", SyncRule.Operator.IS_SET),
                    marketing_value=request.POST.get("marketing_value", "").strip(),
                    opt_out_field=request.POST.get("opt_out_field", "").strip(),
                    on_unsubscribe=request.POST.get("on_unsubscribe", ""), on_bounce=request.POST.get("on_bounce", ""))
                messages.success(request, "Saved.")
            return redirect("zoho_campaigns_settings", sync.pk)
        except (ValidationError, ConnectorError) as exc:
            messages.error(request, " ".join(exc.messages) if isinstance(exc, ValidationError) else exc.message)
    sync.refresh_from_db()
    return render(request, "syncconfig/zoho_campaigns_settings.html", {
        "sync": sync, "options": zc.ZohoCampaignsOptions.of(sync), "operators": SyncRule.Operator.choices,
        "flow_back_choices": zc.FlowBack.CHOICES, "pairs": zc.pairs_for(sync.source_object),
        "members": zoho.configuration_syncs(sync=sync), "covered": zoho.configuration_modules(sync=sync),
        "standard_modules": zc.STANDARD_MODULES,
    })


@login_required
@permission_required("syncconfig.change_sync", raise_exception=True)
def zoho_legacy_settings(request, pk):
    """A legacy Zoho CRM → Campaigns sync: its kind and frequency with the monthly limit
    (ZO-1), and the migration of the whole legacy configuration after a preview (ZO-6)."""
    from django.core.exceptions import ValidationError

    from . import zoho
    from .integrations import zoho_campaigns_legacy as legacy

    sync = get_object_or_404(Sync.objects.select_related("source", "target"), pk=pk,
                             integration=legacy.ZohoCampaignsLegacyIntegration.key)
    if request.method == "POST":
        if "migrate" in request.POST:
            moved = zoho.migrate(source=sync.source, target=sync.target)
            messages.success(request, ngettext("%d sync moved to the new model.", "%d syncs moved to the new model.",
                                               len(moved)) % len(moved))
            return redirect("sync_detail", sync.pk)
        try:
            zoho.legacy_options_save(sync=sync, trigger=request.POST.get("trigger", ""),
                                     frequency=request.POST.get("frequency", ""),
                                     monthly_limit=int(request.POST.get("monthly_limit") or 0))
            messages.success(request, "Saved.")
            return redirect("zoho_legacy_settings", sync.pk)
        except (ValidationError, ValueError) as exc:
            messages.error(request, " ".join(exc.messages) if isinstance(exc, ValidationError) else "The limit is a number.")
    sync.refresh_from_db()
    return render(request, "syncconfig/zoho_legacy_settings.html", {
        "sync": sync, "options": legacy.ZohoLegacyOptions.of(sync), "frequencies": legacy.Frequency.CHOICES,
        "runs_this_month": legacy.runs_this_month(sync), "cutoff": django_settings.ZOHO_LEGACY_CUTOFF,
        "preview": zoho.migration_preview(source=sync.source, target=sync.target) if "preview" in request.GET else None,
    })
