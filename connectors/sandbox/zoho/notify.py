"""Zoho CRM's notifications (``actions/watch``): a change to a watched module posts
``{"server_time","module","resource_uri","ids","operation","affected_fields",
"query_params","channel_id","token"}`` to the channel's URL, echoing its token (Zoho signs
nothing: the token is the receiver's check). One post per channel and call, recorded in
the transaction of the change and sent after it commits (:mod:`connectors.sandbox.dispatch`);
a channel past its expiry gets nothing. Zoho documents no retries: a failed post is
given up.
"""
from __future__ import annotations

import logging
from collections import defaultdict

import requests
from django.db import transaction

from connectors.sandbox.dispatch import Dispatcher
from connectors.sandbox.models.zoho import ZohoNotification, ZohoOrg, ZohoWatch

from .dates import now

log = logging.getLogger(__name__)
EVENT_WORD = {"insert": "create", "update": "edit", "delete": "delete"}
TIMEOUT = 10


def _covers(watch: ZohoWatch, module: str, operation: str) -> bool:
    wanted = {str(e).lower() for e in watch.events}
    return f"{module}.all".lower() in wanted or f"{module}.{EVENT_WORD[operation]}".lower() in wanted


class ChangeLog:
    """The changes of one API call, turned into notifications when it succeeds."""

    def __init__(self, org: ZohoOrg, api_domain: str):
        self.org, self.api_domain = org, api_domain
        self._changes: dict[tuple[str, str], list[str]] = defaultdict(list)
        self._fields: dict[tuple[str, str], set[str]] = defaultdict(set)

    def add(self, module: str, operation: str, record_id: int, fields=()) -> None:
        self._changes[(module, operation)].append(str(record_id))
        self._fields[(module, operation)].update(fields)

    def flush(self) -> None:
        if not self._changes:
            return
        watches = list(ZohoWatch.objects.filter(org=self.org, channel_expiry__gt=now()))
        made = []
        for (module, operation), ids in self._changes.items():
            for watch in watches:
                if not _covers(watch, module, operation):
                    continue
                payload = {
                    "server_time": int(now().timestamp() * 1000), "module": module,
                    "resource_uri": f"{self.api_domain}/crm/v2/{module}", "ids": ids, "operation": operation,
                    "affected_fields": sorted(self._fields[(module, operation)]) if operation == "update" else [],
                    "query_params": {}, "channel_id": watch.channel_id,
                }
                if watch.token:
                    payload["token"] = watch.token
                made.append(ZohoNotification(watch=watch, payload=payload))
        if made:
            ZohoNotification.objects.bulk_create(made)
            transaction.on_commit(dispatcher.schedule)
        self._changes.clear()


def deliver_pending() -> int:
    """Post every pending notification once; returns how many were posted successfully."""
    sent = 0
    for note in ZohoNotification.objects.filter(state=ZohoNotification.PENDING).select_related("watch").order_by("id"):
        claimed = ZohoNotification.objects.filter(pk=note.pk, state=ZohoNotification.PENDING).update(
            state=ZohoNotification.SENT)
        if not claimed:
            continue
        try:
            response = requests.post(note.watch.notify_url, json=note.payload, timeout=TIMEOUT)
            ok = response.status_code < 300
            error = "" if ok else f"HTTP {response.status_code}"
        except requests.RequestException as exc:
            ok, error = False, exc.__class__.__name__
        if ok:
            sent += 1
        else:
            ZohoNotification.objects.filter(pk=note.pk).update(state=ZohoNotification.FAILED, last_error=error[:255])
    return sent


dispatcher = Dispatcher("zoho-notifications", deliver_pending)
