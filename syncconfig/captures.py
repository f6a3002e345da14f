"""Captured contacts: receiving them (webhook, CSV import), who may push them, the push itself
and its summary email. Plain functions, tested without HTTP; the contract they receive lives
in ``connectors/lemontaps.py``, what a push does in ``integrations/lemontaps_salesforce.py``."""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from datetime import timezone as tz

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import CharField, OuterRef, Q, Subquery
from django.db.models.functions import Cast
from django.utils import timezone

from connectors.lemontaps import OBJECT, Capture, CaptureInvalid, capture_parse, csv_captures, xlsx_captures

from .duplicates import LikelyDuplicate
from .integrations.lemontaps_salesforce import CreateAs, LemontapsOptions, lemontaps_syncs, likely_duplicates
from .models import CapturedContact, Connection, RecordError, Sync, SyncRun

log = logging.getLogger(__name__)


# --- receiving ----------------------------------------------------------------------------------
def capture_secret(connection: Connection) -> str:
    """The secret a capturing app sends with each capture (made once per connection)."""
    if not connection.webhook_secret:
        connection.webhook_secret = secrets.token_urlsafe(32)
        connection.save(update_fields=["webhook_secret"])
    return connection.webhook_secret


def capture_secret_matches(connection: Connection, sent: str) -> bool:
    return bool(connection.webhook_secret and sent) and secrets.compare_digest(sent.encode(), connection.webhook_secret.encode())


@transaction.atomic
def capture_store(*, connection: Connection, capture: Capture) -> tuple[CapturedContact, bool]:
    """Store a capture (a capture sent again with its id updates the stored one); returns it
    and whether it is new. A capture changed after its export is marked so (LT-12)."""
    user = get_user_model().objects.filter(email__iexact=capture.captured_by, is_active=True).order_by("pk").first()
    now = timezone.now()
    values = {"captured_by": user, "captured_by_email": capture.captured_by, "target": capture.create_as,
              "data": capture.fields, "modified_at": now}
    if capture.captured_at is not None:
        values["captured_at"] = capture.captured_at
    existing = CapturedContact.objects.select_for_update().filter(connection=connection, capture_id=capture.capture_id).first()
    if existing is None:
        return CapturedContact.objects.create(connection=connection, capture_id=capture.capture_id, received_at=now, **values), True
    if existing.data == capture.fields and existing.target == capture.create_as:
        return existing, False  # sent twice: nothing changed
    for name, value in values.items():
        setattr(existing, name, value)
    existing.changed_after_export = bool(existing.exported_id)
    existing.save()
    return existing, False


def capture_accept(*, connection: Connection, body) -> tuple[CapturedContact, bool]:
    """One capture from the webhook: checked (``CaptureInvalid`` names the field), stored, and
    the automatic push told once it is committed."""
    capture = capture_parse(body)
    stored, created = capture_store(connection=connection, capture=capture)
    _notify(connection)
    return stored, created


def _notify(connection: Connection) -> None:
    from .services import connection_notified

    transaction.on_commit(lambda: connection_notified(connection=connection))


@dataclass
class ImportResult:
    stored: int
    refused: list[tuple[int, str]]  # (line, reason)


def captures_import_csv(*, connection: Connection, text: str) -> ImportResult:
    """A CSV export of captured contacts: each row stored like a webhook capture; refused rows
    are listed with their line and reason, the others go in."""
    return _import(connection, csv_captures(text))


def captures_import_xlsx(*, connection: Connection, content: bytes) -> ImportResult:
    """An Excel export (.xlsx) of captured contacts, imported as a CSV one is; a file that is
    no workbook raises ``CaptureInvalid`` before anything is stored."""
    rows = xlsx_captures(content)
    first = next(rows, None)  # opens the workbook: a broken file fails here, whole
    return _import(connection, [first, *rows] if first is not None else [])


def _import(connection: Connection, rows) -> ImportResult:
    stored, refused = 0, []
    for line, item in rows:
        if isinstance(item, CaptureInvalid):
            refused.append((line, f"{item.field} {item.reason}"))
            continue
        capture_store(connection=connection, capture=item)
        stored += 1
    if stored:
        _notify(connection)
    return ImportResult(stored, refused)


# --- who may push, and what ------------------------------------------------------------------------
def is_capture_admin(user) -> bool:
    return user.is_superuser or user.has_perm("syncconfig.run_sync")


def push_sync_for(connection_id: int) -> Sync | None:
    return lemontaps_syncs().filter(source_id=connection_id).order_by("pk").first()


def may_push(user, sync: Sync) -> bool:
    """LT-11: admins always; field users when the sync's setting lets them."""
    if is_capture_admin(user):
        return True
    return user.has_perm("syncconfig.push_captured_contacts") and LemontapsOptions.of(sync).field_users_may_push


def captures_visible_to(user):
    """An admin's overview holds every capture; a field user's, their own."""
    captures = CapturedContact.objects.select_related("connection")
    if is_capture_admin(user):
        return captures
    mine = Q(captured_by=user)
    if user.email:  # captured before the user's account existed
        mine |= Q(captured_by__isnull=True, captured_by_email__iexact=user.email)
    return captures.filter(mine)


def captures_with_status(captures, syncs):
    """Each capture with its open failure, if any (``failure``, and ``failure_target``: the
    record a duplicate clashed with), read from the failed records of the push syncs."""
    errors = RecordError.objects.filter(
        sync__in=syncs, object_name=OBJECT, record_id=Cast(OuterRef("pk"), CharField()),
        state__in=[RecordError.State.OPEN, RecordError.State.RETRY_SCHEDULED]).order_by("-created_at")
    return captures.annotate(failure=Subquery(errors.values("message")[:1]),
                             failure_class=Subquery(errors.values("error_class")[:1]),
                             failure_target=Subquery(errors.values("payload__target_id")[:1]))


def captures_likely_duplicates(*, captures, syncs) -> dict[int, LikelyDuplicate]:
    """The captures (not exported yet) that likely duplicate a Lead or Contact in Salesforce, or
    another capture, by matching rather than only the same email: shown before anyone pushes."""
    first_sync: dict[int, Sync] = {}
    for sync in sorted(syncs, key=lambda s: s.pk):
        first_sync.setdefault(sync.source_id, sync)
    found: dict[int, LikelyDuplicate] = {}
    for connection_id, sync in first_sync.items():
        rows = [c for c in captures if c.connection_id == connection_id]
        if rows:
            found.update({int(record_id): likely for record_id, likely in likely_duplicates(sync=sync, rows=rows).items()})
    return found


def capture_not_duplicate(*, capture: CapturedContact, candidate: str) -> None:
    """A person said the capture is not the record matching flagged (``not_duplicate_key`` of
    it): it is flagged no more against that one, and the push creates it."""
    pairs = [(capture, candidate)]
    other_id = candidate.removeprefix("capture:")
    if candidate.startswith("capture:") and other_id.isdigit():  # two captures: said of both
        other = CapturedContact.objects.filter(pk=int(other_id), connection_id=capture.connection_id).first()
        if other is not None:
            pairs.append((other, f"capture:{capture.pk}"))
    for row, key in pairs:
        if key and key not in row.not_duplicate_of:
            row.not_duplicate_of = [*row.not_duplicate_of, key]
            row.save(update_fields=["not_duplicate_of"])
            log.info("Capture %s: not the same person as %s", row.pk, key)


# --- pushing ----------------------------------------------------------------------------------------
def captures_push_request(*, sync: Sync, ids: list[int], user=None) -> SyncRun:
    """LT-3: push the chosen captures now; the run's page (or the overview) follows it."""
    from .tasks import execute_push

    run = SyncRun.objects.create(sync=sync, trigger=SyncRun.Trigger.MANUAL, cause=SyncRun.Cause.PUSH, started_by=user)
    chosen = [str(i) for i in ids]
    transaction.on_commit(lambda: execute_push.delay(run.pk, chosen))
    return run


def captures_push_execute(run: SyncRun, ids: list[str]) -> SyncRun:
    """Run the chosen captures through the sync, then email the person who pushed them (LT-5)."""
    from .engine import sync_records_execute

    run = sync_records_execute(run, {"source": ids})
    if run.started_by is not None and run.started_by.email:
        push_summary_send(run=run, ids=ids)
    return run


def push_summary_send(*, run: SyncRun, ids: list[str]) -> None:
    exported = run.created_count + run.updated_count
    failures = list(RecordError.objects.filter(run=run, object_name=OBJECT, record_id__in=ids).order_by("pk"))
    names = {str(c.pk): str(c) for c in CapturedContact.objects.filter(pk__in=[int(i) for i in ids])}
    lines = [f"{exported} contact(s) exported to Salesforce, {len(failures)} failed."]
    if run.skipped_count:
        lines.append(f"{run.skipped_count} skipped (exported before, or nothing to do).")
    if run.message:
        lines.append(run.message)
    if failures:
        lines += ["", "Failed:"] + [f"! {names.get(e.record_id, e.record_id)}: {e.message}" for e in failures]
    lines += ["", f"Your captured contacts: {settings.PORTAL_URL}/captures/"]
    send_mail(f"Salesforce push: {exported} exported, {len(failures)} failed", "\n".join(lines),
              settings.DEFAULT_FROM_EMAIL, [run.started_by.email])


# --- settings ---------------------------------------------------------------------------------------
def lemontaps_options_save(*, sync: Sync, create_as: str, field_users_may_push: bool, update_existing: bool,
                           push_updates: bool, met_on_field: str, automatic: bool) -> LemontapsOptions:
    """Save the push settings. Switching the automatic push on makes the sync immediate and
    reads captures from that moment on: the older ones are left to a manual push (LT-4)."""
    from django.core.exceptions import ValidationError

    from .services import sync_enable

    if create_as not in dict(CreateAs.CHOICES):
        raise ValidationError("Pick Lead, Contact, or let users choose.")
    options = LemontapsOptions.of(sync)
    options.create_as, options.field_users_may_push = create_as, field_users_may_push
    options.update_existing, options.push_updates, options.met_on_field = update_existing, push_updates, met_on_field.strip()
    if automatic and not (sync.enabled and options.automatic_since):
        now = timezone.now()
        options.automatic_since = now.isoformat()
        sync.source_watermark = _cursor(now)
        sync.trigger = Sync.Trigger.IMMEDIATE
        sync.save(update_fields=["source_watermark", "trigger", "updated_at"])
    elif not automatic:
        options.automatic_since = ""
    options.save(sync)
    if automatic != sync.enabled:
        sync_enable(sync=sync, enabled=automatic)
    return options


def lemontaps_reauthorise(*, sync: Sync) -> tuple[bool, str]:
    """LT-1: authorise the sync's Salesforce connection anew (a fresh login, its outcome kept on
    the connection) and read again the custom fields of Lead and Contact that captures may
    carry (LT-8). Returns whether it worked, and what to tell the admin."""
    from connectors.base import ConnectorError

    from .integrations.lemontaps_salesforce import MAPPING
    from .services import connection_connector, connection_test

    if not connection_test(connection=sync.target):
        return False, f"Salesforce refused the authorisation: {sync.target.last_check_message}"
    connector = connection_connector(sync.target, patient=False)
    custom: dict[str, list[list[str]]] = {}
    try:
        for object_name in MAPPING:
            described = connector.describe(object_name)
            custom[object_name] = [[f.name, f.label] for f in described.fields if f.custom and f.createable]
    except ConnectorError as exc:
        return False, f"Authorised, but the fields could not be read: {exc.message}"
    options = LemontapsOptions.of(sync)
    options.custom_fields, options.custom_fields_at = custom, timezone.now().isoformat()
    options.save(sync)
    names = sorted({name for fields in custom.values() for name, _ in fields})
    return True, (f"Re-authorised; {len(names)} custom field(s) on Lead and Contact: {', '.join(names)}." if names
                  else "Re-authorised; Lead and Contact have no custom fields.")


def _cursor(moment: datetime) -> str:
    return moment.astimezone(tz.utc).isoformat()
