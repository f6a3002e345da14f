"""Zoho CRM's records API (v2): listing with ``page``/``per_page`` (200 at most, the first
2,000 records) and ``page_token`` beyond, ``If-Modified-Since`` (304 when nothing changed,
204 on an empty listing), records by id, deleted records, search, COQL, insert/update/
upsert/delete, module fields, the organisation and notification channels."""
from __future__ import annotations

import base64
import hashlib
import json
import time
from datetime import datetime, timedelta
from typing import Any

from django.http import HttpResponse

from connectors.sandbox.models.zoho import ZohoRecord, ZohoWatch

from . import errors, query, records, schema
from .api import CrmRequest, crm_endpoint, json_response
from .dates import crm_time, now, parse

PER_PAGE = 200
PAGE_LIMIT = 2000  # records page/per_page reach; page_token goes on from there
SEARCH_LIMIT = 2000
COQL_LIMIT, COQL_OFFSET_LIMIT = 200, 10_000
TOKEN_LIFE = 24 * 3600
SORTABLE = {"id": "record_id", "created_time": "created_at", "modified_time": "modified_at"}
WATCH_MAX = timedelta(days=1)
WATCH_DEFAULT = timedelta(hours=1)


def _module(name: str) -> str:
    module = schema.module_name(name)
    if module is None:
        raise errors.invalid_module(name)
    return module


def _int(api: CrmRequest, name: str, default: int) -> int:
    text = api.params.get(name, "")
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise errors.invalid_data("invalid data", api_name=name, param_name=name)
    return int(text)


def _since(api: CrmRequest) -> datetime | None:
    header = api.request.headers.get("If-Modified-Since", "").strip()
    if not header:
        return None
    try:
        return parse(header)
    except ValueError:
        raise errors.invalid_data("invalid data", param_name="If-Modified-Since") from None


def _fingerprint(*parts: Any) -> str:
    return hashlib.sha1(json.dumps(parts, default=str).encode()).hexdigest()[:16]


def _token(offset: int, fingerprint: str) -> str:
    raw = json.dumps({"o": offset, "f": fingerprint, "x": int(time.time()) + TOKEN_LIFE}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _page_window(api: CrmRequest, fingerprint: str, *, limit: int | None = PAGE_LIMIT) -> tuple[int, int, int]:
    """(offset, per_page, page) of a listing; ``page_token`` continues past ``limit``."""
    per_page = _int(api, "per_page", PER_PAGE)
    if per_page > PER_PAGE:
        raise errors.invalid_data("invalid data", api_name="per_page", maximum=PER_PAGE)
    given = api.params.get("page_token", "")
    if given:
        try:
            state = json.loads(base64.urlsafe_b64decode(given + "=" * (-len(given) % 4)))
            offset = int(state["o"])
        except (ValueError, KeyError, TypeError):
            raise errors.invalid_page_token() from None
        if state.get("f") != fingerprint or state.get("x", 0) < time.time():
            raise errors.invalid_page_token()
        return offset, per_page, offset // per_page + 1
    page = _int(api, "page", 1)
    if limit is not None and page * per_page > limit:
        raise errors.pagination_limit()
    return (page - 1) * per_page, per_page, page


def _info(per_page: int, count: int, page: int, more: bool, fingerprint: str | None, offset: int,
          **extra: Any) -> dict[str, Any]:
    info: dict[str, Any] = {"per_page": per_page, "count": count, "page": page, **extra, "more_records": more}
    if fingerprint is not None:
        info["next_page_token"] = _token(offset + count, fingerprint) if more else None
        info["previous_page_token"] = None
        info["page_token_expiry"] = (now() + timedelta(seconds=TOKEN_LIFE)).isoformat() if more else None
    return info


def _fields(api: CrmRequest) -> list[str] | None:
    names = [n.strip() for n in api.params.get("fields", "").split(",") if n.strip()]
    return names or None


# --- records -------------------------------------------------------------------------------------
@crm_endpoint("GET", "POST", "PUT", "DELETE")
def record_list(api: CrmRequest, module: str) -> HttpResponse:
    module = _module(module)
    if api.request.method == "POST":
        data = records.check_batch(api.json().get("data"))
        entries = records.insert(api.org, module, data, api.changes)
        return json_response({"data": entries}, records.status_of(entries, created=True))
    if api.request.method == "PUT":
        data = records.check_batch(api.json().get("data"))
        entries = [records.update_one(api.org, module, item if isinstance(item, dict) else {}, api.changes)
                   for item in data]
        return json_response({"data": entries}, records.status_of(entries, created=False))
    if api.request.method == "DELETE":
        ids = [i.strip() for i in api.params.get("ids", "").split(",") if i.strip()]
        if not ids:
            raise errors.CrmError(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing",
                                  {"param": "ids"})
        if len(ids) > records.MAX_WRITE:
            raise errors.limit_exceeded(records.MAX_WRITE)
        entries = records.delete(api.org, module, ids, api.changes)
        return json_response({"data": entries}, records.status_of(entries, created=False))
    return _listing(api, module)


def _listing(api: CrmRequest, module: str) -> HttpResponse:
    since = _since(api)
    rows = ZohoRecord.objects.filter(org=api.org, module=module, deleted_at__isnull=True)
    ids = [i.strip() for i in api.params.get("ids", "").split(",") if i.strip()]
    if ids:
        if len(ids) > records.MAX_WRITE:
            raise errors.limit_exceeded(records.MAX_WRITE)
        rows = rows.filter(record_id__in=[int(i) for i in ids if i.isdigit()])
    if since is not None:
        rows = rows.filter(modified_at__gt=since)  # records modified after the given moment
    sort_by = api.params.get("sort_by", "id")
    column = SORTABLE.get(sort_by.lower())
    if column is None:
        raise errors.invalid_data("invalid data", param_name="sort_by")
    order = api.params.get("sort_order", "desc").lower()
    if order not in ("asc", "desc"):
        raise errors.invalid_data("invalid data", param_name="sort_order")
    rows = rows.order_by(column if order == "asc" else f"-{column}", "record_id")
    fingerprint = _fingerprint(module, sort_by, order, since, ids, _fields(api))
    offset, per_page, page = _page_window(api, fingerprint)
    window = list(rows[offset:offset + per_page + 1])
    if not window:
        if since is not None and not rows.exists():
            return HttpResponse(status=304)
        return HttpResponse(status=204)
    more = len(window) > per_page
    window = window[:per_page]
    names = _fields(api)
    return json_response({
        "data": [records.shape(api.org, row, names) for row in window],
        "info": _info(per_page, len(window), page, more, fingerprint, offset, sort_by=sort_by, sort_order=order),
    })


@crm_endpoint("GET", "PUT", "DELETE")
def record_detail(api: CrmRequest, module: str, record_id: str) -> HttpResponse:
    module = _module(module)
    if api.request.method == "PUT":
        data = records.check_batch(api.json().get("data"))
        entry = records.update_one(api.org, module, data[0] if isinstance(data[0], dict) else {}, api.changes,
                                   record_id=record_id)
        return json_response({"data": [entry]}, records.status_of([entry], created=False))
    if api.request.method == "DELETE":
        entries = records.delete(api.org, module, [record_id], api.changes)
        return json_response({"data": entries}, records.status_of(entries, created=False))
    row = ZohoRecord.objects.filter(org=api.org, module=module, deleted_at__isnull=True,
                                    record_id=int(record_id) if record_id.isdigit() else -1).first()
    if row is None:
        return HttpResponse(status=204)
    return json_response({"data": [records.shape(api.org, row, _fields(api))]})


@crm_endpoint("POST")
def record_upsert(api: CrmRequest, module: str) -> HttpResponse:
    module = _module(module)
    body = api.json()
    data = records.check_batch(body.get("data"))
    given = body.get("duplicate_check_fields")
    if isinstance(given, str):
        given = [n.strip() for n in given.split(",") if n.strip()]
    check = list(given or schema.DEDUPE_FIELDS[module])
    for name in check:
        if schema.field(module, name) is None:
            raise errors.invalid_data("invalid data", api_name="duplicate_check_fields", value=name)
    entries = records.upsert(api.org, module, data, check, api.changes)
    created = all(e.get("action") == "insert" for e in entries)
    return json_response({"data": entries}, records.status_of(entries, created=created))


@crm_endpoint("GET")
def record_deleted(api: CrmRequest, module: str) -> HttpResponse:
    module = _module(module)
    kind = api.params.get("type", "all").lower()
    if kind not in ("all", "recycle", "permanent"):
        raise errors.invalid_data("invalid data", param_name="type")
    since = _since(api)
    rows = ZohoRecord.objects.filter(org=api.org, module=module, deleted_at__isnull=False)
    if kind != "all":
        rows = rows.filter(deleted_type=kind)
    if since is not None:
        rows = rows.filter(deleted_at__gt=since)
    rows = rows.order_by("-deleted_at", "record_id")  # most recently deleted first
    fingerprint = _fingerprint(module, "deleted", kind, since)
    offset, per_page, page = _page_window(api, fingerprint)
    window = list(rows[offset:offset + per_page + 1])
    if not window:
        return HttpResponse(status=304 if since is not None and not rows.exists() else 204)
    more = len(window) > per_page
    who = records.user(api.org)
    data = [{
        "deleted_by": {"name": who["name"], "id": who["id"]}, "id": str(row.record_id),
        "display_name": row.values.get(schema.DISPLAY_FIELD[module]), "type": row.deleted_type,
        "created_by": {"name": who["name"], "id": who["id"]},
        "deleted_time": crm_time(row.deleted_at, api.org.utc_offset_minutes),
    } for row in window[:per_page]]
    return json_response({"data": data, "info": _info(per_page, len(data), page, more, fingerprint, offset)})


@crm_endpoint("GET", credits=1)
def record_search(api: CrmRequest, module: str) -> HttpResponse:
    module = _module(module)
    params = api.params
    try:
        if params.get("criteria"):
            test = query.criteria(params["criteria"])
        elif params.get("email"):
            email = params["email"].lower()
            test = lambda row: any(str(row.get(f) or "").lower() == email for f in ("Email", "Secondary_Email"))  # noqa: E731
        elif params.get("phone"):
            phone = params["phone"]
            test = lambda row: phone in (row.get("Phone"), row.get("Mobile"))  # noqa: E731
        elif params.get("word"):
            word = params["word"].lower()
            test = lambda row: any(isinstance(v, str) and word in v.lower() for v in row.values())  # noqa: E731
        else:
            raise errors.CrmError(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing",
                                  {"param": "criteria"})
    except query.QueryError as problem:
        raise errors.CrmError(400, "INVALID_QUERY", str(problem), {"param": "criteria"}) from None
    per_page = _int(api, "per_page", PER_PAGE)
    page = _int(api, "page", 1)
    if per_page > PER_PAGE:
        raise errors.invalid_data("invalid data", api_name="per_page", maximum=PER_PAGE)
    if page * per_page > SEARCH_LIMIT:
        raise errors.CrmError(400, "LIMIT_REACHED", "search results are limited to the first 2000 records",
                              {"limit": SEARCH_LIMIT})  # (emulator) wording
    rows = ZohoRecord.objects.filter(org=api.org, module=module, deleted_at__isnull=True).order_by("record_id")
    found = [shaped for shaped in (records.shape(api.org, row) for row in rows) if test(shaped)][:SEARCH_LIMIT]
    window = found[(page - 1) * per_page:page * per_page]
    if not window:
        return HttpResponse(status=204)
    names = _fields(api)
    if names:
        wanted = {n.lower() for n in names} | {"id"}
        window = [{k: v for k, v in row.items() if k.lower() in wanted} for row in window]
    return json_response({"data": window, "info": _info(per_page, len(window), page,
                                                        len(found) > page * per_page, None, 0)})


@crm_endpoint("POST", credits=1)
def coql(api: CrmRequest) -> HttpResponse:
    text = str(api.json().get("select_query") or "")
    try:
        parsed = query.coql(text)
    except query.QueryError as problem:
        raise errors.syntax_error(str(problem)) from None
    module = schema.module_name(parsed.module)
    if module is None:
        raise errors.CrmError(400, "INVALID_QUERY", "invalid module given", {"module": parsed.module})
    for name in [*parsed.fields, *(n for n, _ in parsed.order)]:
        if name.lower() != "id" and schema.field(module, name.split(".")[0]) is None:
            raise errors.CrmError(400, "INVALID_QUERY", "column given seems to be invalid", {"column_name": name})
    if parsed.limit > COQL_LIMIT or parsed.limit < 1:
        raise errors.limit_exceeded(COQL_LIMIT)
    if parsed.offset + parsed.limit > COQL_OFFSET_LIMIT:
        raise errors.CrmError(400, "LIMIT_EXCEEDED", "offset exceeds the limit", {"limit": COQL_OFFSET_LIMIT})
    rows = ZohoRecord.objects.filter(org=api.org, module=module, deleted_at__isnull=True).order_by("record_id")
    matched = [shaped for shaped in (records.shape(api.org, row) for row in rows) if parsed.where(shaped)]
    for name, descending in reversed(parsed.order or [("id", False)]):
        matched.sort(key=query.sort_key(name), reverse=descending)
    window = matched[parsed.offset:parsed.offset + parsed.limit]
    if not window:
        return HttpResponse(status=204)
    wanted = {n.lower() for n in parsed.fields} | {"id"}
    data = [{k: v for k, v in row.items() if k.lower() in wanted} for row in window]
    return json_response({"data": data, "info": {"count": len(data),
                                                 "more_records": len(matched) > parsed.offset + parsed.limit}})


# --- settings, organisation, users -------------------------------------------------------------------
@crm_endpoint("GET")
def field_list(api: CrmRequest) -> HttpResponse:
    name = api.params.get("module", "")
    if not name:
        raise errors.CrmError(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing",
                              {"param": "module"})
    module = _module(name)
    return json_response({"fields": [f.describe() for f in schema.MODULES[module]]})


@crm_endpoint("GET")
def module_list(api: CrmRequest) -> HttpResponse:
    """``GET /settings/modules``: the modules the sandbox keeps, as the API lists them."""
    return json_response({"modules": [
        {"api_name": name, "module_name": name, "singular_label": name[:-1], "plural_label": name,
         "api_supported": True, "creatable": True, "editable": True, "viewable": True, "generated_type": "default"}
        for name in schema.MODULES]})


@crm_endpoint("GET")
def organisation(api: CrmRequest) -> HttpResponse:
    org = api.org
    hours, minutes = divmod(abs(org.utc_offset_minutes), 60)
    return json_response({"org": [{
        "id": str(org.id_base), "company_name": org.name, "zgid": str(org.org_id),
        "primary_email": records.user(org)["email"], "time_zone": f"GMT{'+' if org.utc_offset_minutes >= 0 else '-'}"
        f"{hours:02d}:{minutes:02d}", "country_code": "DE", "iso_code": "EUR", "currency_symbol": "€",
    }]})


@crm_endpoint("GET")
def users(api: CrmRequest) -> HttpResponse:
    who = records.user(api.org)
    return json_response({"users": [{**who, "full_name": who["name"], "status": "active",
                                     "role": {"name": "CEO", "id": str(api.org.id_base + 2)},
                                     "profile": {"name": "Administrator", "id": str(api.org.id_base + 3)}}],
                          "info": {"per_page": 200, "count": 1, "page": 1, "more_records": False}})


# --- notifications ----------------------------------------------------------------------------------
def _watch_body(api: CrmRequest, watch: ZohoWatch) -> dict[str, Any]:
    return {
        "channel_expiry": crm_time(watch.channel_expiry, api.org.utc_offset_minutes),
        "resource_uri": f"{api.domain}/crm/v2/{watch.events[0].split('.')[0] if watch.events else ''}",
        "resource_id": str(api.org.id_base + 100), "resource_name": watch.events[0].split(".")[0] if watch.events else "",
        "channel_id": watch.channel_id,
    }


def _watch_values(item: dict, existing: ZohoWatch | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    events = item.get("events", existing.events if existing else None)
    if not isinstance(events, list) or not events:
        raise errors.mandatory_not_found("events")
    for event in events:
        module, _, operation = str(event).partition(".")
        if schema.module_name(module) is None or operation.lower() not in ("all", "create", "edit", "delete"):
            raise errors.invalid_data("invalid data", api_name="events", value=str(event))
    values["events"] = [str(e) for e in events]
    url = item.get("notify_url", existing.notify_url if existing else "")
    if not url:
        raise errors.mandatory_not_found("notify_url")
    values["notify_url"] = url
    token = item.get("token", existing.token if existing else "") or ""
    if len(str(token)) > 50:
        raise errors.invalid_data("invalid data", api_name="token", maximum_length=50)
    values["token"] = str(token)
    expiry_text = item.get("channel_expiry")
    if expiry_text:
        try:
            expiry = parse(str(expiry_text))
        except ValueError:
            raise errors.invalid_data("invalid data", api_name="channel_expiry") from None
        if expiry > now() + WATCH_MAX or expiry <= now():
            raise errors.invalid_data("invalid data", api_name="channel_expiry", maximum="1 day")  # (emulator)
    else:
        expiry = existing.channel_expiry if existing else now() + WATCH_DEFAULT
    values["channel_expiry"] = expiry
    values["return_affected_field_values"] = bool(item.get("return_affected_field_values", False))
    return values


@crm_endpoint("GET", "POST", "PATCH", "DELETE")
def watch(api: CrmRequest) -> HttpResponse:
    if api.request.method == "GET":
        live = ZohoWatch.objects.filter(org=api.org, channel_expiry__gt=now())
        if not live:
            return HttpResponse(status=204)
        return json_response({"watch": [{**_watch_body(api, w), "events": w.events, "notify_url": w.notify_url,
                                         **({"token": w.token} if w.token else {})} for w in live]})
    if api.request.method == "DELETE":
        ids = [i.strip() for i in api.params.get("channel_ids", "").split(",") if i.strip()]
        if not ids:
            raise errors.CrmError(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing",
                                  {"param": "channel_ids"})
        gone = list(ZohoWatch.objects.filter(org=api.org, channel_id__in=ids))
        answers = [{"code": "SUCCESS", "details": {"events": [_watch_body(api, w)]},
                    "message": "Successfully unsubscribed from actions-watch", "status": "success"} for w in gone]
        ZohoWatch.objects.filter(pk__in=[w.pk for w in gone]).delete()
        return json_response({"watch": answers})
    items = api.json().get("watch")
    if not isinstance(items, list) or not items:
        raise errors.mandatory_not_found("watch")
    answers = []
    for item in items:
        channel = str((item or {}).get("channel_id") or "")
        if not channel:
            raise errors.mandatory_not_found("channel_id")
        existing = ZohoWatch.objects.filter(org=api.org, channel_id=channel).first()
        if api.request.method == "PATCH" and existing is None:
            raise errors.invalid_data("invalid data", api_name="channel_id", value=channel)
        values = _watch_values(item, existing if api.request.method == "PATCH" else None)
        saved, _ = ZohoWatch.objects.update_or_create(org=api.org, channel_id=channel, defaults=values)
        answers.append({"code": "SUCCESS", "details": {"events": [_watch_body(api, saved)]},
                        "message": "Successfully subscribed for actions-watch of the given module", "status": "success"})
    return json_response({"watch": answers})
