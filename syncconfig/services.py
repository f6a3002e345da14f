"""What people and schedules do to the configuration: plain functions, tested without HTTP."""
from __future__ import annotations

import json
import logging
import secrets
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask, PeriodicTasks

from connectors.base import ConnectorError, NotSupported
from connectors.registry import connector_for

from . import credentials as crypto
from .models import Connection, RecordError, Sync, SyncRun

log = logging.getLogger(__name__)

RUN_SYNC_TASK = "syncconfig.tasks.run_scheduled_sync"


# --- connections --------------------------------------------------------------------------
def connection_set_credentials(*, connection: Connection, values: dict[str, str]) -> None:
    """Merge new credential values into the stored ones; a blank value keeps what is stored."""
    current = connection.credentials
    current.update({name: value for name, value in values.items() if value})
    connection.credentials = current
    if not connection.webhook_secret:
        connection.webhook_secret = secrets.token_urlsafe(32)


def connection_connector(connection: Connection, *, patient: bool = True):
    """The connector for a connection; refreshed tokens are stored back, encrypted. Pages
    people wait on use ``patient=False`` (no back-off on passing faults)."""

    def store(new_values: dict[str, str]) -> None:
        connection_set_credentials(connection=connection, values=new_values)
        Connection.objects.filter(pk=connection.pk).update(credentials_encrypted=connection.credentials_encrypted)

    connector = connector_for(
        connection.kind, base_url=connection.base_url, credentials=connection.credentials, on_credentials_changed=store,
        patient=patient, bulk_read_from=connection.bulk_read_from,
    )
    connector.connection_id = connection.pk
    return connector


CONNECTIONS_CHECK_EVERY = timedelta(minutes=15)


def connection_test(*, connection: Connection) -> bool:
    """Try the connection's credentials and store the outcome on the row for the admin to show."""
    return _connection_try(connection)[0]


def _connection_try(connection: Connection, *, patient: bool = False) -> tuple[bool, bool]:
    """Test ``connection`` and store the outcome; returns (passed, failure is permanent). A
    person waiting on the answer gets it at once (``patient=False``); the scheduled check
    backs off on a passing limit as runs do."""
    permanent = False
    try:
        result = connection_connector(connection, patient=patient).check()
    except NotSupported as exc:
        ok, message = False, exc.message
    except ConnectorError as exc:
        ok, message, permanent = False, exc.message, not exc.retriable
    except crypto.CredentialsUnreadable as exc:
        ok, message, permanent = False, str(exc), True
    else:
        ok = True
        details = "; ".join(f"{key}: {value}" for key, value in result.details.items())
        message = f"Connected to {result.account_name}" + (f" ({details})" if details else "")
    connection.last_checked_at = timezone.now()
    connection.last_check_ok = ok
    connection.last_check_message = message
    if ok:  # whatever stopped its syncs is mended
        connection.blocked_at, connection.blocked_reason = None, ""
    connection.save(update_fields=["last_checked_at", "last_check_ok", "last_check_message", "blocked_at",
                                   "blocked_reason", "updated_at"])
    log.info("Connection %s tested: %s", connection.pk, "ok" if ok else "failed")
    return ok, permanent


def connections_health_check() -> dict[str, int]:
    """Test every active connection (on the schedule, and when the workers start): one that
    fails for good (credentials refused or revoked) stops its syncs until it passes again;
    one that cannot be reached for the moment is only shown as failing. Then ask the vendors
    to notify the portal for each enabled immediate sync whose connections are not registered
    yet (a sync switched on while its vendor was down, or the demo's)."""
    tested = stopped = registered = unregistered = passing_faults = 0
    for connection in Connection.objects.filter(is_active=True):
        ok, permanent = _connection_try(connection, patient=True)
        tested += 1
        passing_faults += not ok and not permanent
        if not ok and permanent and Connection.objects.filter(pk=connection.pk, blocked_at__isnull=True).update(
                blocked_at=timezone.now(), blocked_reason=connection.last_check_message):
            log.warning("Connection %s stopped: %s", connection.pk, connection.last_check_message)
            stopped += 1
    readers: dict[int, Connection] = {}
    for sync in runnable_syncs().filter(trigger=Sync.Trigger.IMMEDIATE).select_related("source", "target"):
        for connection in [sync.source] + ([sync.target] if sync.direction == Sync.Direction.TWO_WAY else []):
            if connection.webhook_registered_at is None:
                readers[connection.pk] = connection
    for connection in readers.values():
        outcome = _webhook_register(connection)
        registered += outcome == REGISTERED
        unregistered += outcome == REFUSED
    return {"tested": tested, "stopped": stopped, "webhooks_registered": registered, "webhooks_missing": unregistered,
            "failing_for_now": passing_faults}


def connections_stop_failing(*, sync: Sync) -> list[Connection]:
    """A run was refused its credentials: test both ends, and stop the syncs of each that
    fails (one recorded failure, not a failed run every poll) until it is tested again."""
    stopped = []
    for connection in {sync.source_id: sync.source, sync.target_id: sync.target}.values():
        if not connection_test(connection=connection):
            Connection.objects.filter(pk=connection.pk, blocked_at__isnull=True).update(
                blocked_at=timezone.now(), blocked_reason=connection.last_check_message)
            log.warning("Connection %s stopped: %s", connection.pk, connection.last_check_message)
            stopped.append(connection)
    return stopped


def sync_stop(*, sync: Sync, reason: str) -> None:
    """A configuration mistake no retry mends: the sync stops running by itself until fixed."""
    Sync.objects.filter(pk=sync.pk, blocked_at__isnull=True).update(blocked_at=timezone.now(), blocked_reason=reason)
    log.warning("Sync %s stopped: %s", sync.pk, reason)


def sync_unstop(*, sync: Sync) -> None:
    """The sync was fixed (saved again, or a run went through)."""
    Sync.objects.filter(pk=sync.pk).exclude(blocked_at=None).update(blocked_at=None, blocked_reason="")
    sync.blocked_at, sync.blocked_reason = None, ""


def runnable_syncs():
    """Syncs that may run by themselves: on, with both connections active, and not stopped by
    a failure a person has to mend."""
    return Sync.objects.filter(enabled=True, blocked_at__isnull=True, source__is_active=True, target__is_active=True,
                               source__blocked_at__isnull=True, target__blocked_at__isnull=True)


def credentials_rotate() -> int:
    """Re-encrypt every connection's credentials under the primary key; returns the count."""
    count = 0
    with transaction.atomic():
        for connection in Connection.objects.select_for_update().exclude(credentials_encrypted=""):
            connection.credentials_encrypted = crypto.rotate(connection.credentials_encrypted)
            connection.save(update_fields=["credentials_encrypted"])
            count += 1
    return count


# --- schedules ----------------------------------------------------------------------------
def parse_crontab(expression: str) -> dict[str, str]:
    """Split "m h dom mon dow" into CrontabSchedule fields; ValueError with a readable reason."""
    parts = expression.split()
    if len(parts) != 5:
        raise ValueError("A schedule needs five fields: minute hour day-of-month month day-of-week, e.g. “0 6 * * 1”.")
    keys = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")
    return dict(zip(keys, parts))


@transaction.atomic
def sync_schedule_set(*, sync: Sync, every_minutes: int | None = None, crontab: str = "") -> None:
    """Make (or update, or drop) the beat schedule of a sync.

    A periodic sync runs on its interval or crontab; any other sync keeps no schedule. The
    schedule is enabled only while the sync is.
    """
    if sync.trigger != Sync.Trigger.PERIODIC or not (every_minutes or crontab):
        if sync.schedule_id:
            schedule, sync.schedule = sync.schedule, None
            sync.save(update_fields=["schedule"])
            schedule.delete()
        return
    task = sync.schedule or PeriodicTask(name=f"sync {sync.pk}: {sync.name}"[:200], task=RUN_SYNC_TASK)
    task.name = f"sync {sync.pk}: {sync.name}"[:200]
    task.kwargs = json.dumps({"sync_id": sync.pk})
    task.enabled = sync.enabled
    task.description = f"Runs the sync “{sync.name}”. Edit it on the sync's page."
    if crontab:
        task.crontab, _ = CrontabSchedule.objects.get_or_create(**parse_crontab(crontab), timezone=timezone.get_current_timezone_name())
        task.interval = None
    else:
        task.interval, _ = IntervalSchedule.objects.get_or_create(every=every_minutes, period=IntervalSchedule.MINUTES)
        task.crontab = None
    task.save()
    if sync.schedule_id != task.pk:
        sync.schedule = task
        sync.save(update_fields=["schedule"])


def sync_schedule_describe(sync: Sync) -> tuple[int | None, str]:
    """The (every_minutes, crontab) of a sync's schedule, for its form."""
    task = sync.schedule
    if task is None:
        return None, ""
    if task.crontab_id:
        c = task.crontab
        return None, f"{c.minute} {c.hour} {c.day_of_month} {c.month_of_year} {c.day_of_week}"
    if task.interval_id:
        factor = {"minutes": 1, "hours": 60, "days": 1440}.get(task.interval.period, 1)
        return task.interval.every * factor, ""
    return None, ""


# --- runs ---------------------------------------------------------------------------------
QUEUED_STALE_AFTER = timedelta(minutes=10)  # a queued run no worker took up this long was lost by the broker
RUN_STALE_AFTER = timedelta(minutes=1)  # a running run beats every few seconds (engine.HEARTBEAT_EVERY)


# What starts a run, where the trigger alone says it.
_CAUSE_OF_TRIGGER = {SyncRun.Trigger.MANUAL: SyncRun.Cause.MANUAL, SyncRun.Trigger.PERIODIC: SyncRun.Cause.SCHEDULE,
                     SyncRun.Trigger.RETRY: SyncRun.Cause.RETRY, SyncRun.Trigger.COMPLETENESS: SyncRun.Cause.COMPLETENESS}


def sync_run_request(*, sync: Sync, trigger: str, user=None, cause: str = "") -> SyncRun:
    """Queue a run of ``sync``; the worker picks it up (inline when tasks run eagerly).
    ``cause`` says what started it where the trigger does not (a webhook or the poll)."""
    run = SyncRun.objects.create(sync=sync, trigger=trigger, started_by=user,
                                 cause=cause or _CAUSE_OF_TRIGGER.get(trigger, ""))
    _dispatch(run)
    return run


def _dispatch(run: SyncRun) -> None:
    from .tasks import execute_run

    transaction.on_commit(lambda: execute_run.delay(run.pk))


def sync_run_now(*, sync: Sync, user=None) -> tuple[SyncRun | None, str]:
    """A person's "Run now": a new run, or the run under way; one whose worker was lost, or
    that waits for a vendor's limit, is taken up again at once where it stopped. Returns the
    run and what happened, in words for the person."""
    taken = runs_reap(sync=sync)
    if taken:
        return taken[0], "The run under way had lost its worker; it goes on where it stopped."
    if sync.runs.filter(status__in=[SyncRun.Status.QUEUED, SyncRun.Status.RUNNING]).exists():
        return None, "A run of this sync is already under way; it reads every change since the last one."
    paused = sync.runs.filter(status=SyncRun.Status.PAUSED, resume_at__isnull=False).first()
    if paused is not None and run_resume(run=paused):
        return paused, "The paused run goes on where it stopped."
    return sync_run_request(sync=sync, trigger=SyncRun.Trigger.MANUAL, user=user), "The run is queued; this page follows its progress."


def run_resume(*, run: SyncRun) -> bool:
    """Queue a paused run again, to go on where it stopped (its counts carry on)."""
    with transaction.atomic():
        taken = SyncRun.objects.filter(pk=run.pk, status=SyncRun.Status.PAUSED).update(
            status=SyncRun.Status.QUEUED, resume_at=None, finished_at=None, claim="")
    if taken:
        _dispatch(run)
    return bool(taken)


def runs_resume_due(*, now=None) -> int:
    """Take up the paused runs whose vendor limit has passed (manual runs too), unless a later
    run of their sync has started since."""
    now = now or timezone.now()
    resumed = 0
    for run in SyncRun.objects.filter(status=SyncRun.Status.PAUSED, resume_at__lte=now).select_related("sync"):
        later = run.sync.runs.filter(started_at__gt=run.started_at).exclude(pk=run.pk).exists()
        if later:
            SyncRun.objects.filter(pk=run.pk).update(resume_at=None)  # its work is the later run's now
        elif run.sync.enabled or run.trigger == SyncRun.Trigger.MANUAL:
            resumed += run_resume(run=run)
    return resumed

def sync_enable(*, sync: Sync, enabled: bool) -> None:
    """Switch a sync on or off; its beat schedule follows, and an immediate sync asks the
    systems it reads from to notify the portal of changes."""
    sync.enabled = enabled
    sync.save(update_fields=["enabled", "updated_at"])
    if sync.schedule_id:
        PeriodicTask.objects.filter(pk=sync.schedule_id).update(enabled=enabled)
        PeriodicTasks.update_changed()  # beat does not see QuerySet.update() by itself
    if enabled and sync.trigger == Sync.Trigger.IMMEDIATE:
        readers = [sync.source] + ([sync.target] if sync.direction == Sync.Direction.TWO_WAY else [])
        for connection in readers:
            connection_webhook_register(connection=connection)


def connection_webhook_url(connection: Connection) -> str:
    """The address to register with the vendor: the portal's notification URL, with proof of
    origin as the vendor can give it (see ``Connector.webhook_url``); no secret in its path."""
    from .notifications import notification_url

    if not connection.webhook_secret:
        connection.webhook_secret = secrets.token_urlsafe(32)
        connection.save(update_fields=["webhook_secret"])
    return connection_connector(connection).webhook_url(notification_url(connection), secret=connection.webhook_secret)


def connection_webhook_register(*, connection: Connection) -> bool:
    """Register the portal's notification URL with the vendor, where the vendor has
    webhooks; others are covered by the short-interval poll. True when registered."""
    return _webhook_register(connection) == REGISTERED


REGISTERED, UNSUPPORTED, REFUSED = "registered", "unsupported", "refused"


def _webhook_register(connection: Connection) -> str:
    connector = connection_connector(connection)
    try:
        connector.webhook_register(connection_webhook_url(connection))
    except NotSupported:
        return UNSUPPORTED
    except ConnectorError as exc:
        log.warning("Connection %s: webhook not registered: %s", connection.pk, exc.message)
        return REFUSED
    Connection.objects.filter(pk=connection.pk).update(webhook_registered_at=timezone.now())
    return REGISTERED


def sync_run_request_if_idle(*, sync: Sync, trigger: str, user=None, cause: str = "") -> SyncRun | None:
    """Queue a run unless one is already waiting, running or paused until a vendor's limit
    passes: a burst of change notifications becomes one run, which reads everything since the
    watermark."""
    busy = sync.runs.filter(Q(status__in=[SyncRun.Status.QUEUED, SyncRun.Status.RUNNING])
                            | Q(status=SyncRun.Status.PAUSED, resume_at__gt=timezone.now())).exists()
    return None if busy else sync_run_request(sync=sync, trigger=trigger, user=user, cause=cause)


def connection_notified(*, connection: Connection) -> list[SyncRun]:
    """A vendor told us that something changed in ``connection``: run the immediate syncs
    that read from it (both ends of a two-way sync read). A sync with a run under way gets
    none now; that run is followed by another when it ends (``sync_run_follow_up``)."""
    syncs = runnable_syncs().filter(trigger=Sync.Trigger.IMMEDIATE).filter(
        Q(source=connection) | Q(target=connection, direction=Sync.Direction.TWO_WAY))
    # Noted (and committed) before asking for runs: a run ending meanwhile sees it.
    Sync.objects.filter(pk__in=syncs.values("pk")).update(notified_at=timezone.now())
    return [run for sync in syncs if (run := sync_run_request_if_idle(
        sync=sync, trigger=SyncRun.Trigger.IMMEDIATE, cause=SyncRun.Cause.WEBHOOK))]


def sync_run_follow_up(*, sync: Sync, since) -> SyncRun | None:
    """A run of ``sync`` that began at ``since`` has ended: when a change was notified
    meanwhile, queue the run its notification could not start (the sync was busy), as the
    run may have read that system before the change. Otherwise the change would wait for
    the poll."""
    if not runnable_syncs().filter(pk=sync.pk, trigger=Sync.Trigger.IMMEDIATE, notified_at__gte=since).exists():
        return None
    return sync_run_request_if_idle(sync=sync, trigger=SyncRun.Trigger.IMMEDIATE, cause=SyncRun.Cause.WEBHOOK)


def record_errors_retry_due(*, now=None) -> list[SyncRun]:
    """Retry the failed records whose automatic retry is due (passing faults, see the engine)."""
    due = RecordError.objects.filter(state=RecordError.State.RETRY_SCHEDULED, not_before__lte=now or timezone.now(),
                                     sync__in=runnable_syncs())
    return record_errors_retry(errors=due) if due.exists() else []


def immediate_syncs_poll() -> list[SyncRun]:
    """The short-interval fallback for vendors without notifications: every enabled immediate
    sync gets a run when none is under way. Also ends runs that stopped reporting progress,
    retries failed records whose automatic retry is due, and forgets the portal's own writes
    too old for their notifications to be recognised (``echoes``)."""
    from .echoes import own_writes_prune

    runs_reap()
    runs_resume_due()
    record_errors_retry_due()
    own_writes_prune()
    syncs = runnable_syncs().filter(trigger=Sync.Trigger.IMMEDIATE)
    return [run for sync in syncs if (run := sync_run_request_if_idle(
        sync=sync, trigger=SyncRun.Trigger.IMMEDIATE, cause=SyncRun.Cause.POLL))]


def run_claim(run_id: int) -> str:
    """Take a queued run for this execution, atomically, unless another run of its sync is
    already running (then the queued one ends, saying so): one run per sync at a time.
    Returns the claim the execution holds the run by ("" when it is not to run it)."""
    with transaction.atomic():
        run = SyncRun.objects.select_for_update().filter(pk=run_id, status=SyncRun.Status.QUEUED).first()
        if run is None:
            return ""
        if SyncRun.objects.filter(sync_id=run.sync_id, status=SyncRun.Status.RUNNING).exclude(pk=run.pk).exists():
            if run.trigger == SyncRun.Trigger.RETRY:  # its records are due again in a minute, not stranded
                RecordError.objects.filter(sync_id=run.sync_id, state=RecordError.State.RETRY_SCHEDULED,
                                           not_before__isnull=True).update(not_before=timezone.now() + timedelta(minutes=1))
            automatic = run.trigger in (SyncRun.Trigger.IMMEDIATE, SyncRun.Trigger.PERIODIC) or (
                run.trigger == SyncRun.Trigger.RETRY and run.started_by_id is None)
            if automatic and not run.takeovers:
                # The run under way reads every change since the last one (and an automatic
                # retry comes again in a minute): this one has nothing to add.
                SyncRun.objects.filter(pk=run.pk).delete()
            else:
                SyncRun.objects.filter(pk=run.pk).update(
                    status=SyncRun.Status.FAILED, finished_at=timezone.now(),
                    message="Another run of this sync was under way; run this one again once it has ended.")
            return ""
        claim = secrets.token_hex(8)
        SyncRun.objects.filter(pk=run.pk).update(status=SyncRun.Status.RUNNING, heartbeat_at=timezone.now(), claim=claim)
    return claim


def runs_reap(*, now=None, sync: Sync | None = None) -> list[SyncRun]:
    """Take over runs whose worker was lost: a running run whose heartbeat stopped goes on
    where it stopped (queued again, same counts), a retry's records are due for retry again,
    and a queued run no worker took up is ended. Returns the runs taken over."""
    now = now or timezone.now()
    runs = SyncRun.objects.all() if sync is None else sync.runs.all()
    lost = list(runs.filter(status=SyncRun.Status.RUNNING).filter(
        Q(heartbeat_at__lt=now - RUN_STALE_AFTER) | Q(heartbeat_at__isnull=True, started_at__lt=now - RUN_STALE_AFTER)))
    taken_over = []
    for run in lost:
        since = timezone.localtime(run.heartbeat_at or run.started_at).strftime("%H:%M:%S")
        if run.trigger == SyncRun.Trigger.RETRY:
            RecordError.objects.filter(sync_id=run.sync_id, state=RecordError.State.RETRY_SCHEDULED,
                                       not_before__isnull=True).update(not_before=now)
            SyncRun.objects.filter(pk=run.pk, status=SyncRun.Status.RUNNING).update(
                status=SyncRun.Status.FAILED, finished_at=now, claim="",
                message=f"Its worker was lost (no heartbeat since {since}); its records are retried again.")
            continue
        taken = SyncRun.objects.filter(pk=run.pk, status=SyncRun.Status.RUNNING, claim=run.claim).update(
            status=SyncRun.Status.QUEUED, claim="", takeovers=F("takeovers") + 1,
            message=f"Taken over: its worker was lost (no heartbeat since {since}). It goes on where it stopped.")
        if taken:
            log.warning("Run %s of sync %s lost its worker; taken over", run.pk, run.sync_id)
            taken_over.append(run)
            _dispatch(run)
    runs.filter(status=SyncRun.Status.QUEUED, heartbeat_at__isnull=True, started_at__lt=now - QUEUED_STALE_AFTER).update(
        status=SyncRun.Status.FAILED, finished_at=now,
        message="No worker took the run up (are the workers running?). The next run reads every change since the last one.")
    return taken_over


def record_errors_retry(*, errors, user=None) -> list[SyncRun]:
    """Retry failed records (one, many, or a whole class): one retry run per sync."""
    from .tasks import execute_retry

    runs = []
    open_errors = errors.filter(state__in=[RecordError.State.OPEN, RecordError.State.RETRY_SCHEDULED])
    for sync_id in open_errors.order_by().values_list("sync_id", flat=True).distinct():
        ids = list(open_errors.filter(sync_id=sync_id).values_list("pk", flat=True))
        # Queued now: not due again, so the poll does not queue it twice.
        RecordError.objects.filter(pk__in=ids).update(state=RecordError.State.RETRY_SCHEDULED, not_before=None)
        run = SyncRun.objects.create(sync_id=sync_id, trigger=SyncRun.Trigger.RETRY, cause=SyncRun.Cause.RETRY, started_by=user)
        run.errors_retried = len(ids)
        transaction.on_commit(lambda run=run, ids=ids: execute_retry.delay(run.pk, ids))
        runs.append(run)
    return runs


# --- mapping choices ----------------------------------------------------------------------------
def sync_field_choices(sync: Sync) -> dict[str, list[tuple[str, str]] | str]:
    """The fields each end of a sync offers for mapping, read from the systems (AC-3):
    ``{"source": [(name, label)], "target": [...]}``; a side that cannot be read gives its
    error message instead of a list."""
    choices: dict[str, list[tuple[str, str]] | str] = {}
    for side, connection, object_name in (("source", sync.source, sync.source_object), ("target", sync.target, sync.target_object)):
        try:
            described = connection_connector(connection, patient=False).describe(object_name)
        except ConnectorError as exc:
            choices[side] = f"{connection.name}: {exc.message}"
            continue
        choices[side] = sorted(
            ((f.name, f"{f.label} ({f.name}){' — required' if f.required else ''}{' — custom' if f.custom else ''}") for f in described.fields),
            key=lambda pair: pair[1].lower(),
        )
    return choices


# --- after duplicates are merged ---------------------------------------------------------------
def links_after_merge(*, master, primary, gone, job, primary_was=()) -> dict:
    """Duplicates were merged (``master``, ``primary`` and each of ``gone`` are (connection id,
    object, record id); ``primary_was`` the ids the surviving marketing record had before its
    vendor's merge gave it a new one): each integration puts its syncs' links right. Returns
    their summaries added up, with one message."""
    from .integrations import all_integrations

    summary: dict = {}
    messages = []
    for integration in all_integrations():
        result = integration.after_merge(master=master, primary=primary, gone=gone, job=job, primary_was=primary_was)
        for key, value in (result or {}).items():
            if key == "message":
                messages.append(value)
            elif isinstance(value, int):
                summary[key] = summary.get(key, 0) + value
    summary["message"] = " ".join(messages)
    return summary
