"""Celery tasks: thin shells that hand rows to the engine."""
from celery import shared_task
from celery.signals import worker_ready

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
    sync = services.runnable_syncs().filter(pk=sync_id).first()
    if sync is not None:
        services.sync_run_request_if_idle(sync=sync, trigger=SyncRun.Trigger.PERIODIC)


@shared_task(name="syncconfig.tasks.check_connections")
def check_connections(again: int = 0) -> None:
    outcome = services.connections_health_check()
    if (outcome["webhooks_missing"] or outcome["failing_for_now"]) and again < CHECK_AGAIN_TIMES:
        # A vendor refused for the moment (a busy rate limit): try again soon, not in 15 minutes.
        check_connections.apply_async(kwargs={"again": again + 1}, countdown=CHECK_AGAIN_AFTER)


CHECK_AGAIN_TIMES, CHECK_AGAIN_AFTER = 5, 60  # times, seconds


@worker_ready.connect
def _check_connections_at_start(**kwargs) -> None:
    """Connections are tested when the portal starts (and on beat's schedule): a few seconds
    later, so that the processes started with the worker (the sandbox) answer by then."""
    check_connections.apply_async(countdown=START_CHECK_DELAY)


START_CHECK_DELAY = 8  # seconds


@shared_task(name="syncconfig.tasks.poll_immediate_syncs")
def poll_immediate_syncs() -> None:
    services.immediate_syncs_poll()


@shared_task(name="syncconfig.tasks.execute_completeness_check")
def execute_completeness_check(check_id: int) -> None:
    from .completeness import completeness_check_claim, completeness_check_execute
    from .models import CompletenessCheck

    if completeness_check_claim(check_id):
        completeness_check_execute(CompletenessCheck.objects.get(pk=check_id))


@shared_task(name="syncconfig.tasks.check_due_completeness")
def check_due_completeness() -> None:
    from .completeness import completeness_checks_due

    completeness_checks_due()


@shared_task(name="syncconfig.tasks.execute_missing")
def execute_missing(run_id: int, ids_by_side: dict[str, list[str]]) -> None:
    from .engine import sync_records_execute

    if services.run_claim(run_id):
        sync_records_execute(SyncRun.objects.select_related("sync__source", "sync__target").get(pk=run_id), ids_by_side)


@shared_task(name="syncconfig.tasks.execute_push")
def execute_push(run_id: int, ids: list[str]) -> None:
    """A push of chosen captured contacts; while another run of its sync is under way (an
    automatic push), it waits a few seconds rather than failing."""
    from .captures import captures_push_execute

    run = SyncRun.objects.filter(pk=run_id, status=SyncRun.Status.QUEUED).first()
    if run is None:
        return
    if SyncRun.objects.filter(sync_id=run.sync_id, status=SyncRun.Status.RUNNING).exists():
        execute_push.apply_async((run_id, ids), countdown=3)
        return
    if services.run_claim(run_id):
        captures_push_execute(SyncRun.objects.select_related("sync__source", "sync__target", "started_by").get(pk=run_id), ids)


@shared_task(name="syncconfig.tasks.migrate_due_zoho_configurations")
def migrate_due_zoho_configurations() -> None:
    """Daily: past Zoho's cut-off, legacy Zoho Campaigns configurations move to the new model."""
    from .zoho import migrate_due

    migrate_due()


@shared_task(name="syncconfig.tasks.renew_zoho_channels")
def renew_zoho_channels() -> None:
    """Every few hours: Zoho CRM notification channels expire after a day."""
    from .zoho import notification_channels_renew

    notification_channels_renew()
