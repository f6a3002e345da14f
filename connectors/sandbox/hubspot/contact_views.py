"""Contacts: ``/crm/v3/objects/contacts`` (list, create), ``…/{id}`` (read, update,
archive), ``…/batch/{read,create,update,upsert,archive}``, ``…/search`` and ``…/merge``."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpResponse

from connectors.sandbox.models.hubspot import HsContact

from . import errors
from .api import ApiRequest, api_endpoint, json_response, no_content
from .contacts import (
    batch_inputs,
    checked_batch,
    contact_archive,
    contact_create,
    contact_find,
    contact_get,
    contact_merge,
    contact_update,
    duplicates,
    live_contacts,
    parse_id,
    requested,
    shape,
)
from .dates import iso, now
from .properties import checked_values, live_properties
from .search import search

LIST_DEFAULT, LIST_MAX = 10, 100


def _limit(api: ApiRequest) -> int:
    raw = api.params.get("limit", "")
    limit = int(raw) if raw.isdigit() else LIST_DEFAULT
    if not 1 <= limit <= LIST_MAX:
        raise errors.validation(f"limit must be between 1 and {LIST_MAX}; got {limit}.")  # (emulator) wording
    return limit


@api_endpoint("GET", "POST")
def contact_list(api: ApiRequest) -> HttpResponse:
    """GET pages by id (``after`` is the next id); POST creates one contact (201)."""
    if api.request.method == "POST":
        body = api.json()
        values = checked_values(live_properties(api.account), (body or {}).get("properties") or {})
        contact = contact_create(api.account, values, api.events)
        return json_response(shape(contact, requested(api.account, [*values] or None)), 201)
    limit = _limit(api)
    rows = HsContact.objects.filter(account=api.account, archived=api.flag("archived"), merged_into__isnull=True)
    after = parse_id(api.params.get("after", ""))
    if after:
        rows = rows.filter(number__gte=after)
    page = list(rows.order_by("number")[:limit + 1])
    names = requested(api.account, api.names())
    body: dict[str, Any] = {"results": [shape(c, names) for c in page[:limit]]}
    if len(page) > limit:
        following = str(page[limit].number)
        query = {k: v for k, v in api.params.items() if k != "after"}
        body["paging"] = {"next": {
            "after": following, "link": f"{api.base}/crm/v3/objects/contacts?{urlencode({**query, 'after': following})}",
        }}
    return json_response(body)


@api_endpoint("GET", "PATCH", "DELETE")
def contact_detail(api: ApiRequest, object_id: str) -> HttpResponse:
    id_property = api.params.get("idProperty") or None
    if api.request.method == "DELETE":
        contact = contact_find(api.account, object_id, id_property=id_property)
        if contact is None:
            if contact_find(api.account, object_id, id_property=id_property, archived=True) is None:
                raise errors.not_found()
            return no_content()  # archiving twice is harmless
        contact_archive(api.account, contact, api.events)
        return no_content()
    if api.request.method == "PATCH":
        contact = contact_get(api.account, object_id, id_property=id_property)
        body = api.json()
        values = checked_values(live_properties(api.account), (body or {}).get("properties") or {})
        contact = contact_update(api.account, contact, values, api.events)
        return json_response(shape(contact, requested(api.account, [*values] or None)))
    contact = contact_get(api.account, object_id, id_property=id_property, archived=api.flag("archived"))
    return json_response(shape(contact, requested(api.account, api.names())))


def _batch_answer(results: list[dict], missing: list[str], started, status: int = 200) -> HttpResponse:
    body: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": iso(started), "completedAt": iso(now())}
    if missing:
        body["numErrors"] = 1
        body["errors"] = [errors.standard_error(
            "Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.",
            "OBJECT_NOT_FOUND", context={"ids": missing},
        )]
        status = 207
    return json_response(body, status)


@api_endpoint("POST")
def contact_batch(api: ApiRequest, action: str) -> HttpResponse:
    started = now()
    body = api.json()
    handler = {"read": _batch_read, "create": _batch_create, "update": _batch_update, "upsert": _batch_upsert,
               "archive": _batch_archive}.get(action)
    if handler is None:
        raise errors.not_found()
    return handler(api, body, batch_inputs(body), started)


def _batch_read(api: ApiRequest, body: dict, inputs: list[dict], started) -> HttpResponse:
    id_property = body.get("idProperty") or None
    names = requested(api.account, body.get("properties") or [])
    results, missing, seen = [], [], set()
    for item in inputs:
        key = str(item.get("id", ""))
        contact = contact_find(api.account, key, id_property=id_property, archived=api.flag("archived"))
        if contact is None:
            missing.append(key)
        elif contact.pk not in seen:
            seen.add(contact.pk)
            results.append(shape(contact, names))
    return _batch_answer(results, missing, started)


def _traced(result: dict, item: dict) -> dict:
    if item.get("objectWriteTraceId"):
        result["objectWriteTraceId"] = item["objectWriteTraceId"]
    return result


def _batch_create(api: ApiRequest, body: dict, inputs: list[dict], started) -> HttpResponse:
    properties = live_properties(api.account)
    values = checked_batch(properties, inputs)
    results = []
    for item, stored in zip(inputs, values, strict=True):
        # An email already taken, or twice in the batch, fails the whole batch (409).
        contact = contact_create(api.account, stored, api.events)
        results.append(_traced(shape(contact, requested(api.account, [*stored] or None, properties=properties)), item))
    return _batch_answer(results, [], started, 201)


def _batch_update(api: ApiRequest, body: dict, inputs: list[dict], started) -> HttpResponse:
    properties = live_properties(api.account)
    duplicates([str(item.get("id", "")) for item in inputs])
    values = checked_batch(properties, inputs)
    results, missing = [], []
    for item, stored in zip(inputs, values, strict=True):
        contact = contact_find(api.account, item.get("id", ""), id_property=item.get("idProperty") or None)
        if contact is None:
            missing.append(str(item.get("id", "")))
            continue
        contact = contact_update(api.account, contact, stored, api.events)
        results.append(_traced(shape(contact, requested(api.account, [*stored] or None, properties=properties)), item))
    return _batch_answer(results, missing, started)


def _batch_upsert(api: ApiRequest, body: dict, inputs: list[dict], started) -> HttpResponse:
    """Create or update by ``idProperty`` (email or a unique property); results say ``new``."""
    properties = live_properties(api.account)
    for item in inputs:
        id_property = item.get("idProperty") or ""
        prop = properties.get(id_property)
        if id_property != "email" and (prop is None or not prop.has_unique_value):
            raise errors.validation(
                f"idProperty {id_property or '(missing)'} must be email or a property with unique values.")
        if not str(item.get("id") or "").strip():
            raise errors.validation("Every input needs an id: the value of its idProperty.")  # (emulator) wording
    keys = [f"{i['idProperty']}:{str(i['id']).strip().lower() if i['idProperty'] == 'email' else i['id']}" for i in inputs]
    duplicates(keys)
    values = checked_batch(properties, inputs)
    results = []
    for item, stored in zip(inputs, values, strict=True):
        id_property, key = item["idProperty"], str(item["id"]).strip()
        contact = contact_find(api.account, key, id_property=id_property)
        created = contact is None
        if created:  # the new contact takes the id as its value (an existing one keeps its own spelling)
            stored = {**stored, id_property: checked_values(properties, {id_property: key})[id_property]}
            contact = contact_create(api.account, stored, api.events)
        else:
            contact = contact_update(api.account, contact, stored, api.events)
        result = shape(contact, requested(api.account, [*stored, id_property], properties=properties))
        results.append(_traced({**result, "new": created}, item))
    return _batch_answer(results, [], started)


def _batch_archive(api: ApiRequest, body: dict, inputs: list[dict], started) -> HttpResponse:
    """Archive the contacts named; ids that do not exist are passed over, as the vendor does."""
    for item in inputs:
        contact = contact_find(api.account, item.get("id", ""))
        if contact is not None:
            contact_archive(api.account, contact, api.events)
    return no_content()


@api_endpoint("POST", search=True)
def contact_search(api: ApiRequest) -> HttpResponse:
    body = api.json()
    page = search(api.account, body)
    names = requested(api.account, (body or {}).get("properties") or [])
    answer: dict[str, Any] = {"total": page.total, "results": [shape(c, names) for c in page.contacts]}
    if page.next_after is not None:
        answer["paging"] = {"next": {"after": str(page.next_after)}}
    return json_response(answer)


@api_endpoint("POST")
def contact_merge_view(api: ApiRequest) -> HttpResponse:
    """``{"primaryObjectId", "objectIdToMerge"}`` → 200 with the contact the merge made (a
    new id; both old ids read as it from now on)."""
    body = api.json() or {}
    primary_id, other_id = body.get("primaryObjectId"), body.get("objectIdToMerge")
    if not primary_id or not other_id:
        raise errors.validation("primaryObjectId and objectIdToMerge are required.")  # (emulator) wording
    if str(primary_id).strip() == str(other_id).strip():
        raise errors.validation("Cannot merge a contact into itself.")  # (emulator) wording
    live = live_contacts(api.account)
    primary = live.filter(number=parse_id(primary_id) or 0).first()
    other = live.filter(number=parse_id(other_id) or 0).first()
    if primary is None or other is None:
        raise errors.not_found(f"Contact {primary_id if primary is None else other_id} was not found.")  # (emulator)
    merged = contact_merge(api.account, primary, other, api.events)
    return json_response(shape(merged, requested(api.account, None)))
