"""Celery tasks: thin shells that hand rows to the engine."""
from celery import shared_task

from .models import Sync, SyncRun


@shared_task(name="syncconfig.tasks.execute_run")
def execute_run(run_id: int) -> None:
    from .engine import sync_run_execute

    run = SyncRun.objects.select_related("sync__source", "sync__target").get(pk=run_id)
    if run.status == SyncRun.Status.QUEUED:
        sync_run_execute(run)


@shared_task(name="syncconfig.tasks.run_scheduled_sync")
def run_scheduled_sync(sync_id: int) -> None:
    from .engine import sync_run_execute

    sync = Sync.objects.filter(pk=sync_id, enabled=True).select_related("source", "target").first()
    if sync is not None:
        sync_run_execute(SyncRun.objects.create(sync=sync, trigger=SyncRun.Trigger.PERIODIC))
