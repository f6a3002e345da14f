"""Celery tasks: thin shells that hand rows to the engine."""
from celery import shared_task

from . import services
from .models import Sync, SyncRun


@shared_task(name="syncconfig.tasks.execute_run")
def execute_run(run_id: int) -> None:
    from .engine import sync_run_execute

    if services.run_claim(run_id):
        sync_run_execute(SyncRun.objects.select_related("sync__source", "sync__target").get(pk=run_id))


@shared_task(name="syncconfig.tasks.execute_retry")
def execute_retry(run_id: int, error_ids: list[int]) -> None:
    from .engine import sync_retry_execute

    if services.run_claim(run_id):
        sync_retry_execute(SyncRun.objects.select_related("sync__source", "sync__target").get(pk=run_id), error_ids)


@shared_task(name="syncconfig.tasks.run_scheduled_sync")
def run_scheduled_sync(sync_id: int) -> None:
    sync = Sync.objects.filter(pk=sync_id, enabled=True).first()
    if sync is not None:
        services.sync_run_request_if_idle(sync=sync, trigger=SyncRun.Trigger.PERIODIC)


@shared_task(name="syncconfig.tasks.poll_immediate_syncs")
def poll_immediate_syncs() -> None:
    services.immediate_syncs_poll()
