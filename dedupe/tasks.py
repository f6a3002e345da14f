"""Celery tasks: thin shells around matching and merging."""
from celery import shared_task
from celery.signals import worker_ready
from django.db import transaction

from . import merging, services
from .models import MergeJob


@shared_task(name="dedupe.tasks.match_people")
def match_people(full: bool = False, trigger: str = "periodic") -> int:
    return services.matching_run(trigger=trigger, full=full).pk


@worker_ready.connect
def _first_pass_at_start(**kwargs) -> None:
    """A new installation (the demo) gets its first matching pass when the workers start, so
    the queue shows what matching found, not only what syncs flagged on the way."""
    if services.first_pass_due():
        match_people.apply_async(kwargs={"full": True, "trigger": "start"}, countdown=FIRST_PASS_DELAY)


FIRST_PASS_DELAY = 20  # seconds: after the connections' start-up check


@shared_task(name="dedupe.tasks.merge_run")
def merge_run(job_id: int) -> None:
    job = MergeJob.objects.select_related("group", "requested_by").filter(pk=job_id, status=MergeJob.Status.QUEUED).first()
    if job is not None:
        merging.merge_execute(job)


@shared_task(name="dedupe.tasks.merge_batch_run")
def merge_batch_run(batch: str) -> None:
    """A bulk approval's merges, one after the other (they share the vendors' limits)."""
    for job in MergeJob.objects.select_related("group", "requested_by").filter(batch=batch, status=MergeJob.Status.QUEUED).order_by("pk"):
        merging.merge_execute(job)


def merge_enqueue(job: MergeJob) -> None:
    """Run a requested merge on a worker once the request is committed."""
    transaction.on_commit(lambda: merge_run.delay(job.pk))


def merge_batch_enqueue(batch: str) -> None:
    """Run a bulk approval's merges on a worker once the request is committed."""
    if MergeJob.objects.filter(batch=batch).exists():
        transaction.on_commit(lambda: merge_batch_run.delay(batch))
