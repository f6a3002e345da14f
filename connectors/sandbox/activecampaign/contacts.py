"""Changing contacts and what hangs on them — field values, tags, list subscriptions,
automation runs — through the API (``source="api"``) or the vendor app (``"admin"``).

Every change that alters something bumps the contact's ``udate`` and records the webhook
event the vendor sends for it: ``subscribe`` (a new contact, list 0, or a subscription),
``update``, ``unsubscribe``, ``contact_tag_added`` / ``contact_tag_removed``. A write that
changes nothing changes neither ``udate`` nor fires anything. Deleting a contact fires
nothing: the vendor has no webhook event for it (``GET /webhook/events``).
"""
from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from connectors.sandbox.models.activecampaign import (
    AcAccount,
    AcAutomation,
    AcContact,
    AcContactAutomation,
    AcContactList,
    AcContactTag,
    AcField,
    AcFieldValue,
    AcList,
    AcTag,
)

from . import errors
from .dates import now
from .ids import allocate_ids
from .values import ContactInput
from .webhooks import event_record


def live_contacts(account: AcAccount) -> QuerySet[AcContact]:
    """The account's contacts that are not deleted."""
    return AcContact.objects.filter(account=account, deleted=False)


def contact_get(account: AcAccount, number: object) -> AcContact:
    """The live contact with this id; raises the vendor's 404."""
    text = str(number).strip()
    contact = live_contacts(account).filter(number=int(text)).first() if text.isdigit() else None
    if contact is None:
        raise errors.not_found("Contact", number)
    return contact


def contact_by_email(account: AcAccount, email: str) -> AcContact | None:
    return live_contacts(account).filter(email_key=email.strip().lower()).first()


def contact_create(account: AcAccount, data: ContactInput, *, source: str) -> AcContact:
    """A new contact (``data.email`` set); raises 422 ``duplicate`` if a live contact has the email."""
    email = data.email or ""
    with transaction.atomic():
        if contact_by_email(account, email):
            raise errors.duplicate_email()
        moment = now()
        try:
            with transaction.atomic():
                contact = AcContact.objects.create(
                    account=account, number=allocate_ids(account, "contact"), email=email, email_key=email.lower(),
                    cdate=moment, udate=moment, **data.standard,
                )
        except IntegrityError:  # a concurrent create took the email first
            raise errors.duplicate_email() from None
        _write_values(account, contact, data.field_values, moment)
        event_record(account, "subscribe", contact, source=source)
    return contact


def contact_sync(account: AcAccount, data: ContactInput, *, source: str) -> tuple[AcContact, bool]:
    """Create or update by email (``POST /contact/sync``); returns (contact, created)."""
    with transaction.atomic():
        existing = contact_by_email(account, data.email or "")
        if existing is None:
            try:
                return contact_create(account, data, source=source), True
            except errors.ApiError:
                existing = contact_by_email(account, data.email or "")  # a concurrent sync made it first
                if existing is None:
                    raise
        return contact_update(account, existing, ContactInput(None, data.standard, data.field_values), source=source), False


def contact_update(account: AcAccount, contact: AcContact, data: ContactInput, *, source: str) -> AcContact:
    """Write what ``data`` names; a new email must not belong to another live contact."""
    with transaction.atomic():
        changed = [attr for attr, value in data.standard.items() if getattr(contact, attr) != value]
        for attr in changed:
            setattr(contact, attr, data.standard[attr])
        if data.email is not None and data.email != contact.email:
            other = contact_by_email(account, data.email)
            if other is not None and other.pk != contact.pk:
                raise errors.duplicate_email()
            contact.email, contact.email_key = data.email, data.email.lower()
            changed += ["email", "email_key"]
        moment = now()
        if _write_values(account, contact, data.field_values, moment) or changed:
            contact.udate = moment
            contact.save(update_fields=[*changed, "udate"])
            event_record(account, "update", contact, source=source)
    return contact


def contact_delete(contact: AcContact) -> None:
    """Delete: the row stays, marked, so that the id is never handed out again."""
    moment = now()
    contact.deleted, contact.deleted_at, contact.udate = True, moment, moment
    contact.save(update_fields=["deleted", "deleted_at", "udate"])


def field_value_set(account: AcAccount, contact: AcContact, field: AcField, value: str, *, source: str) -> AcFieldValue:
    """Set one custom field value (``POST /fieldValues`` writes over an existing one)."""
    with transaction.atomic():
        moment = now()
        if _write_values(account, contact, [(field, value)], moment):
            contact.udate = moment
            contact.save(update_fields=["udate"])
            event_record(account, "update", contact, source=source)
    return AcFieldValue.objects.get(contact=contact, field=field)


def _write_values(account: AcAccount, contact: AcContact, values: list[tuple[AcField, str]], moment) -> bool:
    """Store custom field values; True if any differs from what was stored."""
    changed = False
    for field, value in values:
        row = AcFieldValue.objects.filter(contact=contact, field=field).first()
        if row is None:
            AcFieldValue.objects.create(
                account=account, contact=contact, field=field, number=allocate_ids(account, "fieldValue"),
                value=value, cdate=moment, udate=moment,
            )
            changed = changed or value != ""
        elif row.value != value:
            row.value, row.udate = value, moment
            row.save(update_fields=["value", "udate"])
            changed = True
    return changed


def tag_add(account: AcAccount, contact: AcContact, tag: AcTag, *, source: str) -> tuple[AcContactTag, bool]:
    """Apply a tag; applying it again returns the existing contactTag (no event)."""
    with transaction.atomic():
        existing = AcContactTag.objects.filter(contact=contact, tag=tag).first()
        if existing:
            return existing, False
        moment = now()
        applied = AcContactTag.objects.create(
            account=account, contact=contact, tag=tag, number=allocate_ids(account, "contactTag"), cdate=moment,
        )
        _touch(contact, moment)
        event_record(account, "contact_tag_added", contact, source=source, extra=[("tag", tag.tag)])
    return applied, True


def tag_remove(account: AcAccount, applied: AcContactTag, *, source: str) -> None:
    """Take a tag off its contact."""
    with transaction.atomic():
        contact, name = applied.contact, applied.tag.tag
        applied.delete()
        _touch(contact, now())
        event_record(account, "contact_tag_removed", contact, source=source, extra=[("tag", name)])


def list_status_set(
    account: AcAccount, contact: AcContact, target: AcList, status: int, *, source: str, reason: str = "",
) -> tuple[AcContactList, bool]:
    """Subscribe (1) or unsubscribe (2) on a list; posting the same status again is a no-op."""
    if status not in dict(AcContactList.STATUS_CHOICES):
        raise errors.validation("Status must be 0, 1, 2 or 3.", code="field_invalid", pointer="/data/attributes/status")
    with transaction.atomic():
        moment = now()
        row = AcContactList.objects.filter(contact=contact, list=target).first()
        created = row is None
        if created:
            row = AcContactList.objects.create(
                account=account, contact=contact, list=target, number=allocate_ids(account, "contactList"),
                status=status, sdate=moment, udate=moment, unsubreason=reason,
            )
        elif row.status == status:
            return row, False
        else:
            row.status, row.udate, row.unsubreason = status, moment, reason
            row.save(update_fields=["status", "udate", "unsubreason"])
        _touch(contact, moment)
        if status == AcContactList.ACTIVE:
            event_record(account, "subscribe", contact, source=source, list_number=target.number)
        elif status == AcContactList.UNSUBSCRIBED:
            event_record(
                account, "unsubscribe", contact, source=source, list_number=target.number,
                extra=[("unsubscribe[reason]", reason)],
            )
    return row, created


def automation_enrol(account: AcAccount, contact: AcContact, automation: AcAutomation) -> AcContactAutomation:
    """Start a contact on an automation (the emulator runs no automation steps)."""
    return AcContactAutomation.objects.create(
        account=account, contact=contact, automation=automation, number=allocate_ids(account, "contactAutomation"),
        adddate=now(),
    )


def _touch(contact: AcContact, moment) -> None:
    contact.udate = moment
    contact.save(update_fields=["udate"])

