"""Webhooks: which registered hooks an event reaches, the form each one gets, and delivery.

Delivery follows the vendor (developers.activecampaign.com/page/webhooks): an HTTP POST,
``application/x-www-form-urlencoded`` with PHP-bracket keys (``contact[email]``), at least
once, never retried; a 410 answer turns the hook inactive for good (it still lists, and
sends nothing more). Each delivery is recorded with the change, in its transaction, and sent
after the commit by the :data:`dispatcher`: from a background thread of the sandbox process,
or — for tests — at once in the committing thread, or only when ``deliver_pending()`` is called.
"""
from __future__ import annotations

from typing import Any, Iterable

import requests
from django.db import transaction
from django.utils import timezone

from connectors.sandbox.dispatch import Dispatcher
from connectors.sandbox.models.activecampaign import (
    AcAccount,
    AcContact,
    AcField,
    AcWebhook,
    AcWebhookDelivery,
)

from .dates import format_datetime, now
from .ids import allocate_ids


# GET /webhook/events, as the vendor lists them.
EVENT_TYPES = (
    "bounce", "click", "contact_tag_added", "contact_tag_removed", "deal_add", "deal_note_add", "deal_pipeline_add",
    "deal_stage_add", "deal_task_add", "deal_task_complete", "deal_tasktype_add", "deal_update", "forward", "list_add",
    "open", "reply", "sent", "share", "sms_reply", "sms_sent", "sms_unsub", "subscribe", "subscriber_note",
    "unsubscribe", "update",
)
SOURCES = ("public", "admin", "api", "system")
# What the bulk importer writes: it fires no webhooks (reference: "Bulk import contacts").
IMPORT = "import"
# A hook's listid has no effect on these (reference: "Create a webhook", listid).
LIST_INDEPENDENT = frozenset({
    "subscriber_note", "contact_tag_added", "contact_tag_removed", "contact_task_add", "list_add", "sms_sent",
    "sms_reply", "sms_unsub", "deal_add", "deal_update", "deal_note_add", "deal_pipeline_add", "deal_stage_add",
    "deal_task_add", "deal_tasktype_add", "deal_task_complete",
})
DELIVERY_TIMEOUT = 10
USER_AGENT = "ActiveCampaign-Webhook (sandbox)"


def webhook_create(account: AcAccount, values: dict[str, Any]) -> AcWebhook:
    """Register a hook (``values``: name, url, events, sources, listid)."""
    return AcWebhook.objects.create(account=account, number=allocate_ids(account, "webhook"), cdate=now(), **values)


def contact_form(contact: AcContact) -> list[tuple[str, str]]:
    """The ``contact[...]`` block: standard fields, tags (comma list), custom fields by
    personalisation tag (lower case, as in the vendor's payload examples)."""
    tags = ", ".join(contact.contact_tags.order_by("number").values_list("tag__tag", flat=True))
    values = dict(contact.field_values.values_list("field_id", "value"))
    form = [
        ("contact[id]", str(contact.number)), ("contact[email]", contact.email),
        ("contact[first_name]", contact.first_name), ("contact[last_name]", contact.last_name),
        ("contact[phone]", contact.phone), ("contact[ip]", "127.0.0.1"), ("contact[tags]", tags),
        ("contact[customer_acct_name]", contact.orgname), ("contact[orgname]", contact.orgname),
    ]
    for field in AcField.objects.filter(account_id=contact.account_id):
        form.append((f"contact[fields][{field.perstag.lower()}]", values.get(field.pk, "")))
    return form


def event_record(
    account: AcAccount,
    event_type: str,
    contact: AcContact,
    *,
    source: str,
    list_number: int = 0,
    extra: Iterable[tuple[str, str]] = (),
) -> int:
    """Record one delivery per active hook that wants ``event_type`` from ``source``;
    they are sent once the current transaction commits. Returns how many. A bulk
    import's changes (``source`` :data:`IMPORT`) notify nobody."""
    if source == IMPORT:
        return 0
    hooks = [
        hook for hook in AcWebhook.objects.filter(account=account, active=True)
        if event_type in hook.events and source in hook.sources and _list_matches(hook, event_type, contact, list_number)
    ]
    if not hooks:
        return 0
    form = [
        ("type", event_type), ("date_time", format_datetime(now(), account.utc_offset_minutes)),
        ("initiated_from", source), ("initiated_by", "admin"), ("list", str(list_number)),
        *contact_form(contact), *extra,
        ("orgname", contact.orgname), ("customer_acct_name", contact.orgname), ("customer_acct_id", "0"),
    ]
    AcWebhookDelivery.objects.bulk_create(
        AcWebhookDelivery(webhook=hook, event_type=event_type, url=hook.url, payload=[list(pair) for pair in form])
        for hook in hooks
    )
    transaction.on_commit(dispatcher.schedule)
    return len(hooks)


def _list_matches(hook: AcWebhook, event_type: str, contact: AcContact, list_number: int) -> bool:
    if not hook.listid or event_type in LIST_INDEPENDENT:
        return True
    if list_number:
        return list_number == hook.listid
    return contact.contact_lists.filter(list__number=hook.listid).exists()


def deliver_pending() -> int:
    """Send every recorded delivery not yet sent, oldest first; returns how many were sent.
    Each row is claimed before it is sent, so two callers never send the same one."""
    sent = 0
    while True:
        delivery = AcWebhookDelivery.objects.filter(state=AcWebhookDelivery.PENDING).select_related("webhook").first()
        if delivery is None:
            return sent
        claimed = AcWebhookDelivery.objects.filter(pk=delivery.pk, state=AcWebhookDelivery.PENDING).update(
            state=AcWebhookDelivery.SENDING,
        )
        if claimed:
            _send(delivery)
            sent += 1


def _send(delivery: AcWebhookDelivery) -> None:
    """POST one delivery, once, and record the outcome on it and on its hook."""
    hook = AcWebhook.objects.get(pk=delivery.webhook_id)
    if not hook.active:
        delivery.state, delivery.error = AcWebhookDelivery.FAILED, "The webhook is inactive."
        delivery.save(update_fields=["state", "error"])
        return
    try:
        response = requests.post(
            delivery.url, data=[tuple(pair) for pair in delivery.payload], timeout=DELIVERY_TIMEOUT,
            allow_redirects=False, headers={"User-Agent": USER_AGENT},
        )
    except requests.RequestException as exc:
        delivery.state, delivery.error = AcWebhookDelivery.FAILED, f"{exc.__class__.__name__}: could not reach the URL."[:255]
        hook.last_status, hook.last_error = None, delivery.error
    else:
        ok = 200 <= response.status_code < 300
        delivery.state, delivery.status_code = AcWebhookDelivery.SENT if ok else AcWebhookDelivery.FAILED, response.status_code
        hook.last_status, hook.last_error = response.status_code, "" if ok else f"HTTP {response.status_code}"
        if response.status_code == 410:
            hook.active = False
    delivery.sent_at = timezone.now()
    delivery.save(update_fields=["state", "status_code", "error", "sent_at"])
    hook.save(update_fields=["last_status", "last_error", "active"])


dispatcher = Dispatcher("activecampaign-webhooks", lambda: deliver_pending())
