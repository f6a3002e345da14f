"""The sync engine: read → plan → apply. This module holds run bookkeeping; the steps
are filled in as each integration lands."""
from __future__ import annotations

import logging

from django.utils import timezone

from connectors.base import ConnectorError

from .models import SyncRun

log = logging.getLogger(__name__)


def sync_run_execute(run: SyncRun) -> SyncRun:
    """Run one queued SyncRun to its end, storing status, counts and API calls on it."""
    from .services import connection_connector

    run.status = SyncRun.Status.RUNNING
    run.heartbeat_at = timezone.now()
    run.save(update_fields=["status", "heartbeat_at"])
    sync = run.sync
    source = connection_connector(sync.source)
    try:
        for connection in (sync.source, sync.target):
            if not connection.is_active:
                raise ConnectorError(f"The connection “{connection.name}” is inactive; activate it to run this sync.")
        changes = getattr(source, "changes", None)
        if changes is None:
            raise ConnectorError(f"Reading changes from {sync.source.get_kind_display()} is not available yet.")
        raise ConnectorError("This integration's sync steps are not available yet.")
    except ConnectorError as exc:
        run.status = SyncRun.Status.FAILED
        run.message = exc.message
    run.finished_at = timezone.now()
    run.source_api_calls = source.api_calls
    run.save()
    log.info("Run %s of sync %s ended: %s", run.pk, sync.pk, run.status)
    return run
