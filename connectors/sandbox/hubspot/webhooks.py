"""Webhooks of the account's app: which subscriptions a change reaches, the events it
makes, and their delivery (developers.hubspot.com, "Webhooks API" and "Validating requests").

A change records one event per active subscription that wants it, in the change's
transaction; after the commit the :data:`dispatcher` posts the due events of an account to
its target URL as a JSON array of at most 100, signed with the app's client secret:

- ``X-HubSpot-Signature-v3``: base64 of HMAC-SHA256 over ``POST`` + the target URL +
  the raw body + the ``X-HubSpot-Request-Timestamp`` header (milliseconds);
- ``X-HubSpot-Signature`` (version 1, ``X-HubSpot-Signature-Version: v1``): hex SHA-256
  of client secret + body, for receivers that still check the old one.

Delivery is at least once: a post that fails (no answer, 5xx, 429) is tried again later,
at most ``MAX_ATTEMPTS`` times, each event carrying its ``attemptNumber``; other 4xx
answers are not retried, as the vendor does. The vendor spreads its retries over a day;
the sandbox waits ``RETRY_BASE_SECONDS`` doubled per attempt, so a demo sees them.
Posts go from a background thread of the sandbox process, or — for tests — at once in
the committing thread, or only when ``deliver_pending()`` is called.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from datetime import datetime, timedelta
from typing import Any

import requests
from django.db import transaction

from connectors.sandbox.dispatch import Dispatcher
from connectors.sandbox.models.hubspot import HsAccount, HsContact, HsSubscription, HsWebhookEvent

from .dates import epoch_ms, now
from .ids import allocate_ids


MAX_EVENTS_PER_POST = 100
MAX_ATTEMPTS = 10
RETRY_BASE_SECONDS = 2.0
RETRY_MAX_SECONDS = 3600.0
DELIVERY_TIMEOUT = 5  # the vendor gives a receiver five seconds
USER_AGENT = "HubSpot Connect 2.0 (http://dev.hubspot.com/) (sandbox)"

# changeSource of a change made through the API with the private app token, and in the app.
SOURCE_API = "INTEGRATION"
SOURCE_UI = "CRM_UI"


def signature_v3(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """The ``X-HubSpot-Signature-v3`` value of a request."""
    message = method.encode() + uri.encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def signature_v1(secret: str, body: bytes) -> str:
    return hashlib.sha256(secret.encode() + body).hexdigest()


class EventLog:
    """Collects the events of one request's changes; ``flush()`` records them (inside the
    request's transaction) and asks for delivery after the commit."""

    def __init__(self, account: HsAccount, source: str):
        self.account = account
        self.source = source
        self._subscriptions: list[HsSubscription] | None = None
        self._events: list[dict[str, Any]] = []

    def _wanted(self, event_type: str, property_name: str = "") -> list[HsSubscription]:
        if self._subscriptions is None:
            # Without a target URL the vendor has nowhere to send anything.
            self._subscriptions = list(HsSubscription.objects.filter(account=self.account, active=True)) \
                if self.account.webhook_url else []
        return [s for s in self._subscriptions
                if s.event_type == event_type and (event_type != "contact.propertyChange" or s.property_name == property_name)]

    def _add(self, event_type: str, object_id: int, *, property_name: str = "", **extra: Any) -> None:
        moment = epoch_ms(now())
        for subscription in self._wanted(event_type, property_name):
            event = {
                "subscriptionId": subscription.number, "portalId": self.account.portal_id, "appId": self.account.app_id,
                "occurredAt": moment, "subscriptionType": event_type, "objectId": object_id,
                "changeSource": self.source,
                "sourceId": str(self.account.app_id) if self.source == SOURCE_API else "userId:1",
            }
            if property_name:
                event["propertyName"] = property_name
            event.update(extra)
            self._events.append(event)

    def created(self, contact: HsContact) -> None:
        self._add("contact.creation", contact.number)

    def changed(self, contact: HsContact, values: dict[str, str]) -> None:
        for name, value in values.items():
            self._add("contact.propertyChange", contact.number, property_name=name, propertyValue=value)

    def deleted(self, contact: HsContact) -> None:
        self._add("contact.deletion", contact.number)

    def merged(self, new: HsContact, primary_id: int, merged_ids: list[int], moved: int) -> None:
        """A merge: ``new`` is the contact it made, taking the place of ``primary_id`` and
        ``merged_ids``."""
        self._add("contact.merge", new.number, primaryObjectId=primary_id, mergedObjectIds=merged_ids,
                  newObjectId=new.number, numberOfPropertiesMoved=moved)

    def flush(self) -> int:
        """Record the collected events; returns how many."""
        if not self._events:
            return 0
        first = allocate_ids(self.account, "event", len(self._events))
        moment = now()
        HsWebhookEvent.objects.bulk_create(
            HsWebhookEvent(account=self.account, event_id=first + n, payload={"eventId": first + n, **event},
                           not_before=moment)
            for n, event in enumerate(self._events)
        )
        count, self._events = len(self._events), []
        transaction.on_commit(dispatcher.schedule)
        return count


# --- delivery ---------------------------------------------------------------------------------------
_sending = threading.Lock()  # one sender at a time in this process, so no event goes out twice at once


def deliver_pending(at: datetime | None = None) -> int:
    """Post every event due at ``at`` (now by default), oldest first, up to 100 per post
    and account; returns how many posts were made."""
    moment = at or now()
    posts = 0
    with _sending:
        while True:
            due = HsWebhookEvent.objects.filter(state=HsWebhookEvent.PENDING, not_before__lte=moment).order_by("id")
            first = due.first()
            if first is None:
                return posts
            batch = list(due.filter(account_id=first.account_id)[:MAX_EVENTS_PER_POST])
            HsWebhookEvent.objects.filter(pk__in=[e.pk for e in batch]).update(state=HsWebhookEvent.SENDING)
            _post(HsAccount.objects.get(pk=first.account_id), batch, moment)
            posts += 1


def next_due() -> datetime | None:
    """When the earliest pending event is due, if any."""
    return HsWebhookEvent.objects.filter(state=HsWebhookEvent.PENDING).order_by("not_before") \
        .values_list("not_before", flat=True).first()


def _post(account: HsAccount, batch: list[HsWebhookEvent], moment: datetime) -> None:
    """POST one array of events and record the outcome on each."""
    url = account.webhook_url
    body = json.dumps([{**e.payload, "attemptNumber": e.attempts} for e in batch]).encode()
    timestamp = str(epoch_ms(now()))
    headers = {
        "Content-Type": "application/json", "User-Agent": USER_AGENT,
        "X-HubSpot-Signature-v3": signature_v3(account.client_secret, "POST", url, body, timestamp),
        "X-HubSpot-Request-Timestamp": timestamp,
        "X-HubSpot-Signature": signature_v1(account.client_secret, body), "X-HubSpot-Signature-Version": "v1",
    }
    status, error, retry = None, "", True
    if not url:
        error, retry = "The app has no target URL.", False
    else:
        try:
            response = requests.post(url, data=body, headers=headers, timeout=DELIVERY_TIMEOUT, allow_redirects=False)
        except requests.RequestException as exc:
            error = f"{exc.__class__.__name__}: could not reach the target URL."
        else:
            status = response.status_code
            if 200 <= status < 300:
                retry = False
            else:
                error = f"HTTP {status}"
                retry = status >= 500 or status == 429
    for event in batch:
        event.attempts += 1
        event.last_status, event.last_error = status, error[:255]
        if not error:
            event.state, event.sent_at = HsWebhookEvent.SENT, now()
        elif retry and event.attempts < MAX_ATTEMPTS:
            delay = min(RETRY_BASE_SECONDS * 2 ** (event.attempts - 1), RETRY_MAX_SECONDS)
            event.state, event.not_before = HsWebhookEvent.PENDING, moment + timedelta(seconds=delay)
        else:
            event.state = HsWebhookEvent.FAILED
    HsWebhookEvent.objects.bulk_update(batch, ["attempts", "last_status", "last_error", "state", "sent_at", "not_before"])


dispatcher = Dispatcher("hubspot-webhooks", lambda: deliver_pending(), next_due=lambda: next_due(), now=lambda: now(), retry_after=RETRY_BASE_SECONDS)
