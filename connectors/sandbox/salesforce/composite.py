"""sObject Collections: up to 200 records created, updated, upserted or deleted in one call.

Each record gets its own result, in request order; with ``allOrNone`` one failure rolls
every record back and the others report ALL_OR_NONE_OPERATION_ROLLED_BACK. A call counts
as one API request whatever its size (REST API guide, "sObject Collections").
"""
from __future__ import annotations

from typing import Any, Callable

from django.db import transaction
from django.http import HttpResponse

from . import errors, ids
from .api import ApiRequest, json_response, rest_endpoint
from .errors import ApiError, ErrorDetail, RecordError
from .records import RecordService

MAX_RECORDS = 200
MAX_RETRIEVE_IDS = 2000
ROLLED_BACK = ErrorDetail(
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using AllOrNone header",
    [],
)

Result = dict[str, Any]


def _too_many() -> ApiError:
    return ApiError.of(400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records into this call")


def _envelope(api: ApiRequest) -> tuple[list[Any], bool]:
    body = api.json_object()
    records = body.get("records")
    if not isinstance(records, list):
        raise ApiError.of(400, "INVALID_FIELD", "The request body must have a list of records.")
    if len(records) > MAX_RECORDS:
        raise _too_many()
    return records, bool(body.get("allOrNone"))


def _run(items: list[Any], operation: Callable[[Any], Result], all_or_none: bool) -> list[Result]:
    """Apply ``operation`` to each item; collect per-record results; honour allOrNone.

    An item that names an existing record carries its id as ``__id``, so that a failure
    (or a rollback) can still say which record it was about.
    """
    results: list[Result] = []
    with transaction.atomic():
        for item in items:
            try:
                results.append(operation(item))
            except RecordError as error:
                results.append(_failed(item, error.detail))
        if all_or_none and not all(result["success"] for result in results):
            transaction.set_rollback(True)
            results = [
                _failed(item, ROLLED_BACK) if result["success"] else result for item, result in zip(items, results)
            ]
    return results


def _failed(item: Any, detail: ErrorDetail) -> Result:
    result: Result = {"success": False, "errors": [detail.as_collection()]}
    if isinstance(item, dict) and item.get("__id"):
        result = {"id": item["__id"], **result}
    return result


def _typed(api: ApiRequest, record: Any) -> tuple[Any, dict[str, Any]]:
    """The record's object (from ``attributes.type``) and its field values."""
    if not isinstance(record, dict):
        raise RecordError(ErrorDetail("JSON_PARSER_ERROR", "Each record must be a JSON object.", []))
    sobject = (record.get("attributes") or {}).get("type")
    if not sobject:
        raise RecordError(ErrorDetail("INVALID_TYPE", "Must send a concrete entity type.", []))
    obj = api.schema.sobject(sobject)
    if obj is None:
        raise RecordError(ErrorDetail("INVALID_TYPE", f"sObject type '{sobject}' is not supported.", []))
    return obj, {k: v for k, v in record.items() if k != "attributes"}


def _saved(record_id: str, **extra: Any) -> Result:
    return {"id": record_id, "success": True, "errors": [], **extra}


@rest_endpoint("POST", "PATCH", "DELETE")
def collection(api: ApiRequest) -> HttpResponse:
    """``/composite/sobjects``: POST creates, PATCH updates (records carry ``id``), DELETE
    deletes ``?ids=a,b``."""
    service = api.records()
    if api.request.method == "DELETE":
        record_ids = [i for i in api.request.GET.get("ids", "").split(",") if i]
        if len(record_ids) > MAX_RECORDS:
            raise _too_many()
        all_or_none = api.request.GET.get("allOrNone", "").lower() == "true"
        return json_response(_run([{"__id": i} for i in record_ids], lambda item: _delete(api, service, item["__id"]), all_or_none))
    records, all_or_none = _envelope(api)
    if api.request.method == "POST":
        service.reserve(2 * len(records))
        return json_response(_run(records, lambda record: _create(api, service, record), all_or_none))
    items = [{**record, "__id": record.get("id") or record.get("Id")} if isinstance(record, dict) else record for record in records]
    return json_response(_run(items, lambda record: _update(api, service, record), all_or_none))


def _create(api: ApiRequest, service: RecordService, record: Any) -> Result:
    obj, values = _typed(api, record)
    if values.get("id"):
        raise RecordError(ErrorDetail("INVALID_FIELD_FOR_INSERT_UPDATE", "Record ID: cannot specify Id in an insert call", ["Id"]))
    return _saved(service.create(obj, values).record_id)


def _update(api: ApiRequest, service: RecordService, record: Any) -> Result:
    obj, values = _typed(api, record)
    record_id = values.pop("__id", None)
    values = {k: v for k, v in values.items() if k.lower() != "id"}
    if not record_id:
        raise RecordError(ErrorDetail("MISSING_ARGUMENT", "Id not specified in an update call", []))
    return _saved(service.update(obj, record_id, values).record_id)


def _delete(api: ApiRequest, service: RecordService, record_id: str) -> Result:
    sobject = ids.sobject_of(record_id) if ids.is_id(record_id) else None
    obj = api.schema.sobject(sobject) if sobject else None
    if obj is None:
        raise RecordError(ErrorDetail("MALFORMED_ID", f"malformed id {record_id}", []))
    service.delete(obj, record_id)
    return _saved(ids.to18(record_id))


@rest_endpoint("GET", "POST")
def retrieve(api: ApiRequest, sobject: str) -> HttpResponse:
    """``/composite/sobjects/X``: records by id, ``null`` for ids that match nothing."""
    obj = api.sobject(sobject)
    if api.request.method == "GET":
        record_ids = [i for i in api.request.GET.get("ids", "").split(",") if i]
        field_names = [f for f in api.request.GET.get("fields", "").split(",") if f]
    else:
        body = api.json_object()
        record_ids, field_names = list(body.get("ids") or []), list(body.get("fields") or [])
    if not field_names:
        raise ApiError.of(400, "MISSING_ARGUMENT", "fields parameter is required")
    if len(record_ids) > MAX_RETRIEVE_IDS:
        raise ApiError.of(400, "EXCEEDED_ID_LIMIT", f"Cannot retrieve more than {MAX_RETRIEVE_IDS} records at a time")
    names = []
    for name in field_names:
        spec = obj.field(name.strip())
        if spec is None:
            raise ApiError.from_record_error(errors.no_such_column(name, obj.name))
        names.append(spec.name)
    service = api.records()
    answers: list[dict[str, Any] | None] = []
    for record_id in record_ids:
        try:
            answers.append(service.body(obj, service.get(obj, record_id), names))
        except RecordError:
            answers.append(None)
    return json_response(answers)


@rest_endpoint("PATCH")
def upsert(api: ApiRequest, sobject: str, field: str) -> HttpResponse:
    """``/composite/sobjects/X/{ExternalIdField}``: upsert each record by its key value."""
    obj = api.sobject(sobject)
    service = api.records()
    key_field = service.key_field(obj, field)
    records, all_or_none = _envelope(api)
    service.reserve(2 * len(records))

    def one(record: Any) -> Result:
        record_obj, values = _typed(api, record)
        if record_obj.name != obj.name:
            raise RecordError(ErrorDetail("INVALID_TYPE", f"Record type {record_obj.name} doesn't match {obj.name}.", []))
        key = next((v for k, v in values.items() if k.lower() == key_field.lower()), None)
        if key in (None, ""):
            raise RecordError(ErrorDetail("MISSING_ARGUMENT", f"{key_field} not specified", [key_field]))
        row, created = service.upsert(obj, key_field, str(key), values)
        return _saved(row.record_id, created=created)

    return json_response(_run(records, one, all_or_none))
