"""Change notifications from vendors and other posts from outside: bounded bodies, genuine
deliveries only, and one log line (never a secret) for each one refused.

A notification's body is trusted for nothing beyond "something changed": the runs it
starts read everything since their watermark. So a replayed genuine delivery costs at
most a run that finds nothing new. Its body serves one more purpose: a notification of
nothing but the portal's own writes (their echo, see ``echoes``) starts no run at all.
"""
from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from connectors.base import WebhookDelivery, WebhookRefused

from .models import Connection, SyncRun

log = logging.getLogger(__name__)

# HubSpot posts at most 100 events at once, each a few hundred bytes (a long text property
# more): a megabyte is far past any genuine delivery. A notification refused for its size
# loses nothing: the next run reads every change since its watermark.
MAX_NOTIFICATION_BYTES = 1024 * 1024


class BodyTooLarge(Exception):
    """A request body over its endpoint's limit (refused before it is read)."""

    def __init__(self, limit: int):
        super().__init__(f"The body is over the limit of {limit:,} bytes for this address.")
        self.limit = limit


def request_body(request: HttpRequest, *, limit: int) -> bytes:
    """The request's body, read only when its declared length is within ``limit`` (Django
    never reads past the declared length; a missing or unreadable one counts as too large
    when the body is not empty)."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    try:
        length = int(declared)
    except ValueError:
        raise BodyTooLarge(limit) from None
    if length > limit or length < 0:
        raise BodyTooLarge(limit)
    return request.body


def notification_url(connection: Connection) -> str:
    """Where a vendor posts the notifications of ``connection``, without any secret."""
    return f"{settings.PORTAL_URL}{reverse('connection_webhook', args=[connection.pk])}"


def notification_accept(*, connection: Connection | None, request: HttpRequest, body: bytes) -> list[SyncRun]:
    """Check that a notification is genuine (the connection's connector knows how the vendor
    proves it) and start the immediate syncs reading the connection, unless it reports
    nothing but the portal's own writes (counted on the connection instead). Raises
    WebhookRefused for an unknown connection too, with the same words as for a wrong
    credential."""
    from . import echoes
    from .services import connection_connector, connection_notified

    if connection is None or not connection.is_active:
        raise WebhookRefused("Unknown connection.")
    delivery = WebhookDelivery(method=request.method, url=f"{settings.PORTAL_URL}{request.get_full_path()}",
                               headers=request.headers, body=body)
    connector = connection_connector(connection, patient=False)
    connector.webhook_verify(delivery, secret=connection.webhook_secret)
    changes = connector.webhook_changes(delivery)
    if echoes.delivery_is_echo(connection=connection, changes=changes):
        echoes.connection_echo_count(connection=connection)
        log.info("Notification for connection %s ignored: %d change%s, all the portal's own writes", connection.pk,
                 len(changes), "" if len(changes) == 1 else "s")
        return []
    return connection_notified(connection=connection)


def refusal_log(*, what: str, pk: int, reason: str, request: HttpRequest) -> None:
    """One warning line for a refused post: which address (never its path, which may be an
    old one holding a secret), why, and from where."""
    log.warning("Refused %s for connection %s from %s: %s", what, pk, request.META.get("REMOTE_ADDR", "?"), reason)
