"""The Bulk Contact Importer (developers.activecampaign.com/reference/bulk-import-contacts).

``POST /import/bulk_import`` queues up to 250 contacts and answers with a batch id at once;
the import is carried out afterwards by the :data:`importer` — from a background thread of
the sandbox process, or (for tests) at once when the request commits, or only when
``imports_process_pending()`` is called — so that a status read right after the answer
finds it not yet known (``false``), as the vendor's does for about a second.

Each contact is created, or updated by email with the keys it names (snake_case, unlike the
rest of v3): tags by name (made when the account lacks one), custom fields by id, list
subscriptions. An invalid contact fails alone and is reported by its email; the import
fires no webhooks.
"""
from __future__ import annotations

import logging
import uuid
from collections import Counter
from typing import Any

import requests
from django.db import transaction

from connectors.sandbox.dispatch import Dispatcher
from connectors.sandbox.models.activecampaign import AcAccount, AcContactList, AcField, AcImport, AcList, AcTag

from . import contacts, errors, schema
from .dates import account_zone, now
from .values import ContactInput, checked_email, field_value, text_value
from .webhooks import IMPORT

log = logging.getLogger(__name__)

MAX_CONTACTS = 250
STANDARD = {"first_name": "first_name", "last_name": "last_name", "phone": "phone", "customer_acct_name": "orgname"}
CALLBACK_TIMEOUT = 10


def _bad(message: str) -> errors.ApiError:
    # (emulator) wording and shape: the vendor documents a 400 "with a message".
    return errors.ApiError(400, {"success": 0, "message": message})


def import_queue(account: AcAccount, body: Any) -> AcImport:
    """Check the request's shape (400 naming the problem) and queue it; the contacts
    themselves are checked when the import runs, each on its own."""
    if not isinstance(body, dict):
        raise _bad("The request body must be an object with a contacts list.")
    items = body.get("contacts")
    if not isinstance(items, list) or not items:
        raise _bad("contacts must be a list of at least one contact.")
    if len(items) > MAX_CONTACTS:
        raise _bad(f"A bulk import takes at most {MAX_CONTACTS} contacts; this one has {len(items)}.")
    if any(not isinstance(item, dict) for item in items):
        raise _bad("Every contact must be an object.")
    callback = body.get("callback")
    if callback is not None and not (isinstance(callback, dict) and callback.get("url")):
        raise _bad("callback must be an object with a url.")
    batch = AcImport.objects.create(
        account=account, batch_id=str(uuid.uuid4()), contacts=items, exclude_automations=bool(body.get("exclude_automations")),
        callback=callback, created_at=now(),
    )
    transaction.on_commit(importer.schedule)
    return batch


def import_status(batch: AcImport) -> dict[str, Any]:
    """``GET /import/info``: the status (``false`` until the importer has picked the batch
    up), the ids of the contacts it created and the emails that failed."""
    return {
        "status": False if batch.state == AcImport.QUEUED else batch.state,
        "success": [str(number) for number in batch.created_ids],
        "failure": list(batch.failed_emails),
    }


def imports_by_day(account: AcAccount) -> dict[str, Any]:
    """``GET /import/bulk_import``: batches and contacts per day (the account's dates), those
    still to finish and those completed."""
    zone = account_zone(account.utc_offset_minutes)
    outstanding: Counter = Counter()
    outstanding_contacts: Counter = Counter()
    done: Counter = Counter()
    done_contacts: Counter = Counter()
    for state, created_at, items in AcImport.objects.filter(account=account).values_list("state", "created_at", "contacts"):
        day = created_at.astimezone(zone).date().isoformat()
        if state in (AcImport.COMPLETED, AcImport.FAILED, AcImport.INTERRUPTED):
            done[day] += 1
            done_contacts[day] += len(items)
        else:
            outstanding[day] += 1
            outstanding_contacts[day] += len(items)
    return {
        "outstanding": [{"forDate": d, "batches": outstanding[d], "contacts": outstanding_contacts[d]} for d in sorted(outstanding)],
        "recentlyCompleted": [{"forDate": d, "batches": done[d], "contacts": done_contacts[d]} for d in sorted(done)],
    }


def imports_process_pending() -> int:
    """Carry out every queued import, oldest first; returns how many. Each is claimed
    before it runs, so two callers never run the same one."""
    done = 0
    while True:
        batch = AcImport.objects.filter(state=AcImport.QUEUED).order_by("id").first()
        if batch is None:
            return done
        if AcImport.objects.filter(pk=batch.pk, state=AcImport.QUEUED).update(state=AcImport.CLAIMED):
            import_run(batch)
            done += 1


def import_run(batch: AcImport) -> None:
    """Import each contact of a claimed batch, then report (and call back)."""
    AcImport.objects.filter(pk=batch.pk).update(state=AcImport.ACTIVE)
    account = batch.account
    created: list[int] = []
    failed: list[str] = []
    for item in batch.contacts:
        try:
            with transaction.atomic():
                contact, was_created = _import_one(account, item)
        except errors.ApiError:
            failed.append(str(item.get("email") or ""))
            continue
        if was_created:
            created.append(contact.number)
    batch.state, batch.created_ids, batch.failed_emails, batch.completed_at = AcImport.COMPLETED, created, failed, now()
    batch.save(update_fields=["state", "created_ids", "failed_emails", "completed_at"])
    if batch.callback:
        _call_back(batch)


def _import_one(account: AcAccount, item: dict) -> tuple[Any, bool]:
    """Create or update one contact by email with what ``item`` names; ApiError if invalid."""
    data = ContactInput(email=checked_email(item.get("email")))
    for key, attribute in STANDARD.items():
        if key in item:
            data.standard[attribute] = text_value(item[key], key)
    values = item.get("fields") or []
    if not isinstance(values, list):
        raise errors.validation("fields must be a list.", code="field_invalid")
    specs = {str(f.number): f for f in AcField.objects.filter(account=account)}
    for index, value in enumerate(values):
        spec = specs.get(str(value.get("id"))) if isinstance(value, dict) else None
        if spec is None:
            raise errors.validation("Custom field does not exist.", code="field_invalid")
        data.field_values.append((spec, field_value(spec, value.get("value"), pointer=f"/fields/{index}/value")))
    lists = [(AcContactList.ACTIVE, entry) for entry in item.get("subscribe") or []]
    lists += [(AcContactList.UNSUBSCRIBED, entry) for entry in item.get("unsubscribe") or []]
    targets = []
    for status, entry in lists:
        number = str(entry.get("listid") if isinstance(entry, dict) else "")
        target = AcList.objects.filter(account=account, number=int(number)).first() if number.isdigit() else None
        if target is None:
            raise errors.validation("List does not exist.", code="field_invalid")
        targets.append((status, target))
    tags = item.get("tags") or []
    if not isinstance(tags, list) or any(not str(name).strip() for name in tags):
        raise errors.validation("tags must be a list of names.", code="field_invalid")
    contact, created = contacts.contact_sync(account, data, source=IMPORT)
    for name in dict.fromkeys(str(name).strip() for name in tags):
        contacts.tag_add(account, contact, _tag_named(account, name), source=IMPORT)
    for status, target in targets:
        contacts.list_status_set(account, contact, target, status, source=IMPORT)
    return contact, created


def _tag_named(account: AcAccount, name: str) -> AcTag:
    """The tag spelled ``name`` (the oldest, as names need not be unique), made if missing."""
    tag = AcTag.objects.filter(account=account, tag=name).order_by("number").first()
    return tag or schema.tag_create(account, name=name)


def _call_back(batch: AcImport) -> None:
    """Tell the import's callback URL it is done (with the outcome when ``detailed_results``)."""
    callback = batch.callback or {}
    pairs = [(str(p.get("key")), str(p.get("value"))) for p in callback.get("params") or [] if isinstance(p, dict)]
    if str(callback.get("detailed_results", "")).lower() == "true":
        pairs += [("batchId", batch.batch_id), ("success", ",".join(map(str, batch.created_ids))),
                  ("failure", ",".join(batch.failed_emails))]
    headers = {str(h.get("key")): str(h.get("value")) for h in callback.get("headers") or [] if isinstance(h, dict)}
    method = "GET" if str(callback.get("requestType", "POST")).upper() == "GET" else "POST"
    try:
        requests.request(method, callback["url"], params=pairs if method == "GET" else None,
                         data=pairs if method == "POST" else None, headers=headers, timeout=CALLBACK_TIMEOUT)
    except requests.RequestException as exc:
        log.info("Sandbox bulk import %s: callback failed (%s)", batch.batch_id, exc.__class__.__name__)


importer = Dispatcher("activecampaign-imports", imports_process_pending)
