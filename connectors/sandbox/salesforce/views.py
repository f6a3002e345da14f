"""REST resources under ``/services/data``: versions, limits, describe, records, query,
and the updated/deleted replication resources."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from pathlib import Path

from django.http import Http404, HttpRequest, HttpResponse
from django.template import Context, Engine

from connectors.sandbox.models import SandboxRecord

from . import access, describe, errors
from .api import SUPPORTED_VERSIONS, ApiRequest, json_response, rest_endpoint
from .errors import ApiError
from .query import QueryRunner, batch_size_from_header, invalid_locator
from .values import format_datetime, now, parse_datetime

_SEASONS = ("Winter", "Spring", "Summer")
# Replication windows (REST API guide, "Get Updated Records" / "Get Deleted Records").
UPDATED_WINDOW_DAYS = 30
DELETED_WINDOW_DAYS = 15
MAX_REPLICATION_IDS = 600_000


def _label(version: str) -> str:
    """Release name of an API version: 20.0 was Winter '11, three releases a year since."""
    index = int(float(version)) - 20
    return f"{_SEASONS[index % 3]} '{11 + index // 3}"


def versions(request: HttpRequest) -> HttpResponse:
    """``GET /services/data/``: every API version the sandbox speaks (no login needed)."""
    return json_response(
        [{"label": _label(v), "url": f"/services/data/v{v}", "version": v} for v in SUPPORTED_VERSIONS]
    )


@rest_endpoint("GET")
def resources(api: ApiRequest) -> HttpResponse:
    base = f"/services/data/v{api.version}"
    names = ("sobjects", "query", "queryAll", "limits", "composite")
    return json_response({name: f"{base}/{name}" for name in names})


@rest_endpoint("GET")
def limits(api: ApiRequest) -> HttpResponse:
    usage = access.usage(api.org)
    unlimited = {"Max": 15000, "Remaining": 15000}
    return json_response(
        {
            "DailyApiRequests": {"Max": usage.allowed, "Remaining": max(0, usage.allowed - usage.used)},
            "DailyBulkApiBatches": unlimited,
            "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
            "DataStorageMB": {"Max": 1024, "Remaining": 1024},
            "FileStorageMB": {"Max": 1024, "Remaining": 1024},
            "SingleEmail": {"Max": 5000, "Remaining": 5000},
        }
    )


@rest_endpoint("GET")
def describe_global(api: ApiRequest) -> HttpResponse:
    return json_response(describe.describe_global(api.schema, api.version))


@rest_endpoint("GET", "POST")
def sobject(api: ApiRequest, sobject: str) -> HttpResponse:
    """``/sobjects/X/``: GET the summary, POST a new record (201 ``{"id","success","errors"}``)."""
    obj = api.sobject(sobject)
    if api.request.method == "GET":
        return json_response(describe.sobject_basic(obj, api.version))
    row = api.records().create(obj, api.json_object())
    return json_response({"id": row.record_id, "success": True, "errors": []}, 201)


@rest_endpoint("GET")
def sobject_describe(api: ApiRequest, sobject: str) -> HttpResponse:
    return json_response(describe.describe_sobject(api.schema, api.sobject(sobject), api.version))


def _requested_fields(api: ApiRequest, obj: Any) -> list[str] | None:
    raw = api.request.GET.get("fields")
    if not raw:
        return None
    names = []
    for name in (part.strip() for part in raw.split(",") if part.strip()):
        spec = obj.field(name)
        if spec is None:
            raise ApiError.from_record_error(errors.no_such_column(name, obj.name))
        names.append(spec.name)
    return names


@rest_endpoint("GET", "PATCH", "DELETE")
def record(api: ApiRequest, sobject: str, record_id: str) -> HttpResponse:
    """``/sobjects/X/{id}``: GET (``?fields=``), PATCH (204), DELETE (204)."""
    obj = api.sobject(sobject)
    service = api.records()
    if api.request.method == "GET":
        return json_response(service.body(obj, service.get(obj, record_id), _requested_fields(api, obj)))
    if api.request.method == "PATCH":
        service.update(obj, record_id, api.json_object())
    else:
        service.delete(obj, record_id)
    return HttpResponse(status=204)


@rest_endpoint("GET", "PATCH", "DELETE")
def record_by_key(api: ApiRequest, sobject: str, field: str, key: str) -> HttpResponse:
    """``/sobjects/X/{ExternalIdField}/{value}``: read, upsert or delete by external id."""
    obj = api.sobject(sobject)
    service = api.records()
    if api.request.method == "PATCH":
        update_only = api.request.GET.get("updateOnly", "").lower() == "true"
        row, created = service.upsert(obj, field, key, api.json_object(), update_only=update_only)
        if not created and float(api.version) < 46:
            return HttpResponse(status=204)  # before API 46.0 an update by upsert answered 204
        return json_response({"id": row.record_id, "success": True, "errors": [], "created": created}, 201 if created else 200)
    found = service.find(obj, field, key)
    if not found:
        raise errors.not_found()
    if len(found) > 1:
        return json_response([f"/services/data/v{api.version}/sobjects/{obj.name}/{row.record_id}" for row in found], 300)
    if api.request.method == "DELETE":
        service.delete(obj, found[0].record_id)
        return HttpResponse(status=204)
    return json_response(service.body(obj, found[0], _requested_fields(api, obj)))


def _runner(api: ApiRequest) -> QueryRunner:
    return QueryRunner(api.org, api.schema, api.version)


def _run_query(api: ApiRequest, *, include_deleted: bool) -> HttpResponse:
    text = api.request.GET.get("q")
    if text is None:
        raise ApiError.of(400, "MALFORMED_QUERY", "SOQL statements cannot be empty or null")
    batch_size = batch_size_from_header(api.request.headers.get("Sforce-Query-Options", ""))
    return json_response(_runner(api).run(text, include_deleted=include_deleted, batch_size=batch_size))


@rest_endpoint("GET")
def query(api: ApiRequest) -> HttpResponse:
    return _run_query(api, include_deleted=False)


@rest_endpoint("GET")
def query_all(api: ApiRequest) -> HttpResponse:
    return _run_query(api, include_deleted=True)


@rest_endpoint("GET")
def query_more(api: ApiRequest, locator: str) -> HttpResponse:
    """``nextRecordsUrl``: ``/query/{locator}-{position}``."""
    cursor, _, position = locator.rpartition("-")
    if not cursor or not position.isdigit():
        raise invalid_locator()
    return json_response(_runner(api).more(cursor, int(position)))


def _replication_window(api: ApiRequest, days: int) -> tuple[Any, Any]:
    """start/end of /updated/ and /deleted/: seconds are ignored, at most ``days`` back."""
    start = parse_datetime(api.request.GET.get("start", ""))
    end = parse_datetime(api.request.GET.get("end", ""))
    if start is None or end is None:
        raise ApiError.of(400, "MISSING_ARGUMENT", "start and end must be ISO 8601 dateTimes, e.g. 2024-05-01T00:00:00+00:00")
    start, end = start.replace(second=0, microsecond=0), end.replace(second=0, microsecond=0)
    if end < start:
        raise ApiError.of(400, "INVALID_REPLICATION_DATE", "end date cannot be before start date")
    if start < now() - timedelta(days=days):
        raise ApiError.of(400, "INVALID_REPLICATION_DATE", f"startDate cannot be more than {days} days ago")
    # Clipped to now rather than to the last whole minute, so a change is visible at once.
    return start, min(end, now())


@rest_endpoint("GET")
def updated(api: ApiRequest, sobject: str) -> HttpResponse:
    obj = api.sobject(sobject)
    start, end = _replication_window(api, UPDATED_WINDOW_DAYS)
    record_ids = list(
        SandboxRecord.objects.filter(
            org=api.org, sobject=obj.name, is_deleted=False, system_modstamp__gte=start, system_modstamp__lt=end,
        ).order_by("system_modstamp", "number").values_list("record_id", flat=True)[: MAX_REPLICATION_IDS + 1]
    )
    if len(record_ids) > MAX_REPLICATION_IDS:
        raise ApiError.of(400, "EXCEEDED_ID_LIMIT", "Too many ids were requested; narrow the start and end dates")
    return json_response({"ids": record_ids, "latestDateCovered": format_datetime(end)})


@rest_endpoint("GET")
def deleted(api: ApiRequest, sobject: str) -> HttpResponse:
    obj = api.sobject(sobject)
    start, end = _replication_window(api, DELETED_WINDOW_DAYS)
    rows = SandboxRecord.objects.filter(
        org=api.org, sobject=obj.name, is_deleted=True, deleted_date__gte=start, deleted_date__lt=end,
    ).order_by("deleted_date", "number").values_list("record_id", "deleted_date")
    return json_response(
        {
            "deletedRecords": [{"id": record_id, "deletedDate": format_datetime(moment)} for record_id, moment in rows],
            "earliestDateAvailable": format_datetime(now().replace(second=0, microsecond=0) - timedelta(days=DELETED_WINDOW_DAYS)),
            "latestDateCovered": format_datetime(end),
        }
    )


PAGES = Engine(dirs=[str(Path(__file__).parent / "templates")], autoescape=True)


def record_page(request: HttpRequest, record_id: str) -> HttpResponse:
    """A record's page in the org's app (the sandbox asks no log-in): its fields, by name."""
    from .ids import to18

    record = SandboxRecord.objects.select_related("org").filter(record_id=to18(record_id) if len(record_id) == 15 else record_id).first()
    if record is None:
        raise Http404("No record with this id.")
    data = record.data or {}
    title = data.get("Name") or " ".join(str(data.get(k) or "") for k in ("FirstName", "LastName")).strip() or record.record_id
    fields = sorted((k, v) for k, v in data.items() if v not in (None, "") and k != "attributes")
    return HttpResponse(PAGES.get_template("salesforce/record.html").render(Context(
        {"record": record, "title": title, "fields": fields})))
