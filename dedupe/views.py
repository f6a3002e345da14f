"""The duplicate-review pages: the queue, a group's merge screen, merges and bulk batches.

Thin shells: reads come from ``selectors``, decisions go to ``services`` and ``merging``.
"""
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from . import merging, selectors, services, tasks
from .models import DuplicateGroup, MergeJob

VIEW = "dedupe.view_duplicategroup"
MERGE = "dedupe.merge_duplicategroup"


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(label="Status", choices=DuplicateGroup.Status.choices, required=False)
    kind = forms.ChoiceField(label="Kind", choices=[("", "Any kind"), *DuplicateGroup.Kind.choices], required=False)
    system = forms.ChoiceField(label="System", choices=[("", "Any system"), *selectors.SYSTEM_CHOICES], required=False)
    min_confidence = forms.IntegerField(label="Minimum confidence (%)", min_value=0, max_value=100, required=False)
    q = forms.CharField(label="Search name, email or company", max_length=100, required=False)

    def filters(self) -> selectors.QueueFilters:
        self.is_valid()  # a bad value is shown next to its field; the valid ones still filter
        data = getattr(self, "cleaned_data", {})
        confidence = data.get("min_confidence")
        return selectors.QueueFilters(
            status=data.get("status") or DuplicateGroup.Status.OPEN, kind=data.get("kind", ""), system=data.get("system", ""),
            min_confidence=confidence / 100 if confidence is not None else None, search=data.get("q", "").strip(),
        )


@login_required
@permission_required(VIEW, raise_exception=True)
def queue(request):
    form = QueueFilterForm(request.GET or None)
    page = selectors.queue_page(form.filters(), after=request.GET.get("after", ""), before=request.GET.get("before", ""))
    params = request.GET.copy()
    for name in ("after", "before"):
        params.pop(name, None)
    return render(request, "dedupe/queue.html", {
        "form": form, "page": page, "filter_query": params.urlencode(),
        "last_run": selectors.last_match_run(), "can_merge": request.user.has_perm(MERGE),
        "page_is_open": form.filters().status == DuplicateGroup.Status.OPEN,
    })


@require_POST
@login_required
@permission_required(MERGE, raise_exception=True)
def queue_merge_selected(request):
    """Merge the ticked groups with their proposed masters and default field choices."""
    groups = list(selectors.groups_for_bulk_merge(request.POST.getlist("group")))
    if not groups:
        messages.warning(request, "Nothing to merge: tick groups that are still to review first.")
        return redirect("duplicate_queue")
    batch = merging.merge_bulk_request(groups=groups, user=request.user)
    tasks.merge_batch_enqueue(batch)
    queued = MergeJob.objects.filter(batch=batch).count()
    left = len(groups) - queued
    if not queued:
        messages.error(request, ngettext(
            "The group cannot be merged with its proposed master; open it to choose the master yourself.",
            "None of the %(n)d groups can be merged with their proposed masters; open them to choose the masters yourself.",
            len(groups)) % {"n": len(groups)})
        return redirect("duplicate_queue")
    messages.success(request, ngettext("Queued %(n)d merge.", "Queued %(n)d merges.", queued) % {"n": queued})
    if left:
        messages.warning(request, ngettext(
            "%(n)d group cannot be merged with its proposed master and stays in the queue for review.",
            "%(n)d groups cannot be merged with their proposed masters and stay in the queue for review.", left) % {"n": left})
    return redirect("merge_batch", batch)


@require_POST
@login_required
@permission_required(MERGE, raise_exception=True)
def match_now(request):
    """Start a matching pass now (it reads only what changed since the last one)."""
    from .tasks import match_people

    if selectors.match_run_under_way():
        messages.warning(request, "A matching pass is already under way; its groups appear in the queue when it ends.")
    else:
        match_people.delay(trigger="manual")
        messages.success(request, "Matching started; new groups appear in the queue when it ends.")
    return redirect("duplicate_queue")


def _merge_choices(request, screen: selectors.MergeScreen) -> dict[str, str]:
    """The reviewer's pick for each field that differs (fields that agree need none)."""
    return {row.name: request.POST[f"field-{row.name}"] for row in screen.differing if request.POST.get(f"field-{row.name}")}


@login_required
@permission_required(VIEW, raise_exception=True)
def group_detail(request, pk):
    """The merge screen (HS-4, HS-5, HS-7): side by side, pick the master and each differing
    value, then merge, or say these are different people."""
    group = get_object_or_404(selectors.groups_for_page(), pk=pk)
    master_key = request.POST.get("master") or request.GET.get("master") or None
    screen = selectors.merge_screen(group, master_key=master_key)
    hubspot_action = request.POST.get("hubspot_action", "")
    if request.method == "POST":
        if not request.user.has_perm(MERGE):
            raise PermissionDenied
        action = request.POST.get("action")
        if action == "not_duplicate":
            return _reject(request, group)
        if action == "undo_not_duplicate":
            if services.group_reject_undo(group=group, user=request.user):
                messages.success(request, "Taken back: the group is to review again.")
            return redirect("duplicate_group", group.pk)
        if action == "merge":
            choices = _merge_choices(request, screen)
            try:
                job = merging.merge_request(group=group, user=request.user, master_key=master_key, choices=choices,
                                            hubspot_action=hubspot_action)
            except merging.MergeRefused as exc:
                messages.error(request, f"Not merged: {exc}")
                screen = selectors.merge_screen(group, master_key=master_key, choices=choices)
            else:
                tasks.merge_enqueue(job)
                messages.success(request, "The merge is queued; this page follows its progress.")
                return redirect("merge_job", job.pk)
    return render(request, "dedupe/group_detail.html", {
        "group": group, "screen": screen, "can_merge": request.user.has_perm(MERGE),
        # A failed merge can be decided again: it takes up where the last attempt stopped.
        "reviewable": group.status in (DuplicateGroup.Status.OPEN, DuplicateGroup.Status.FAILED) and bool(screen.columns),
        "hubspot_action": hubspot_action or merging.HubSpotAction.MERGE,
        "merges": selectors.group_merges(group) if group.status != DuplicateGroup.Status.OPEN else [],
    })


def _reject(request, group):
    if group.status != DuplicateGroup.Status.OPEN:
        messages.error(request, f"This group is {group.get_status_display().lower()} already; only groups to review can be marked.")
        return redirect("duplicate_group", group.pk)
    services.group_reject(group=group, user=request.user)
    messages.success(request, f"Marked “{group.title or group}” as not a duplicate; these records will not be grouped again.")
    return redirect("duplicate_queue")


@login_required
@permission_required(VIEW, raise_exception=True)
def merge_job(request, pk):
    job = get_object_or_404(selectors.merge_jobs_for_page(), pk=pk)
    return render(request, "dedupe/merge_job.html", {
        "job": job, "steps": selectors.merge_job_steps(job), "master": selectors.member_by_key(job.group, job.master_key),
        "hubspot_action": dict(merging.HubSpotAction.CHOICES).get(job.hubspot_action, job.hubspot_action),
        "live": job.status in (MergeJob.Status.QUEUED, MergeJob.Status.RUNNING),
    })


@login_required
@permission_required(VIEW, raise_exception=True)
def merge_batch(request, batch):
    progress = merging.merge_batch_progress(batch)
    if not progress["total"]:
        raise Http404("No merges in this batch.")
    return render(request, "dedupe/merge_batch.html", {
        "batch": batch, "progress": progress, "jobs": selectors.batch_jobs(batch), "live": not progress["done"],
    })
