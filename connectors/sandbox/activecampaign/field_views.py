"""Custom fields: ``/fields``, ``/fieldRels``, ``/fieldOption/bulk``, ``/fieldValues``."""
from __future__ import annotations

from django.db import transaction
from django.db.models import Prefetch
from django.http import HttpResponse

from connectors.sandbox.models.activecampaign import AcField, AcFieldOption, AcFieldRel, AcFieldValue

from . import contacts, errors, schema
from .api import ApiRequest, api_endpoint, json_response
from .values import field_value


def _fields(api: ApiRequest):
    return AcField.objects.filter(account=api.account).prefetch_related(
        Prefetch("options", AcFieldOption.objects.select_related("field")),
        Prefetch("relations", AcFieldRel.objects.select_related("field")),
    )


def _field(api: ApiRequest, number: object) -> AcField:
    field = _fields(api).filter(number=int(number)).first() if str(number).isdigit() else None
    if field is None:
        raise errors.not_found("Field", number)
    return field


def _flag(value: object) -> bool:
    return str(value).strip().lower() in ("1", "true")


@api_endpoint("GET", "POST")
def field_list(api: ApiRequest) -> HttpResponse:
    """GET: the fields with their options and list relations sideloaded; POST creates one."""
    if api.request.method == "POST":
        data = api.body_object("field")
        field = schema.field_create(
            api.account, title=str(data.get("title") or ""), field_type=str(data.get("type") or ""),
            perstag=str(data.get("perstag") or ""), descript=str(data.get("descript") or ""),
            isrequired=_flag(data.get("isrequired", 0)), visible=_flag(data.get("visible", 1)),
            defval=str(data.get("defval") or ""),
        )
        return json_response({"field": api.shapes.field(_field(api, field.number))}, 201)
    rows, total = api.page(_fields(api))
    shapes = api.shapes
    return json_response({
        "fieldOptions": [shapes.field_option(o) for f in rows for o in f.options.all()],
        "fieldRels": [shapes.field_rel(r) for f in rows for r in f.relations.all()],
        "fields": [shapes.field(f) for f in rows], "meta": {"total": str(total)},
    })


@api_endpoint("GET", "DELETE")
def field_detail(api: ApiRequest, number: str) -> HttpResponse:
    field = _field(api, number)
    if api.request.method == "DELETE":
        field.delete()
        return json_response({})
    shapes = api.shapes
    return json_response({
        "field": shapes.field(field), "fieldOptions": [shapes.field_option(o) for o in field.options.all()],
        "fieldRels": [shapes.field_rel(r) for r in field.relations.all()],
    })


@api_endpoint("POST")
def field_rel_create(api: ApiRequest) -> HttpResponse:
    """``{"fieldRel": {"field": id, "relid": 0}}``: show a field on a list (0: all lists)."""
    data = api.body_object("fieldRel")
    field = _field(api, data.get("field"))
    relid = str(data.get("relid", 0))
    rel = schema.field_rel_create(api.account, field, int(relid) if relid.isdigit() else 0)
    return json_response({"fieldRel": api.shapes.field_rel(rel)}, 201)


@api_endpoint("POST")
def field_options_bulk(api: ApiRequest) -> HttpResponse:
    """``{"fieldOptions": [{"field", "label", "value"}, …]}``: add choices to fields."""
    body = api.json()
    items = body.get("fieldOptions") if isinstance(body, dict) else None
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise errors.validation("fieldOptions must be a list.", code="field_invalid", pointer="/data/attributes/fieldOptions")
    created: list[AcFieldOption] = []
    with transaction.atomic():
        for item in items:
            field = _field(api, item.get("field"))
            value = str(item.get("value") or item.get("label") or "")
            created += schema.field_options_create(api.account, field, [(str(item.get("label") or value), value)])
    return json_response({"fieldOptions": [api.shapes.field_option(o) for o in created]}, 201)


def _value_for(api: ApiRequest, data: dict) -> tuple[object, AcField, str]:
    contact = contacts.contact_get(api.account, data.get("contact"))
    field = _field(api, data.get("field"))
    return contact, field, field_value(field, data.get("value"), pointer="/data/attributes/value")


@api_endpoint("POST")
def field_value_create(api: ApiRequest) -> HttpResponse:
    """``{"fieldValue": {"contact", "field", "value"}}``: sets the value (over an existing one)."""
    contact, field, value = _value_for(api, api.body_object("fieldValue"))
    existed = AcFieldValue.objects.filter(contact=contact, field=field).exists()
    row = contacts.field_value_set(api.account, contact, field, value, source="api")
    return _value_answer(api, row, 200 if existed else 201)


@api_endpoint("GET", "PUT", "DELETE")
def field_value_detail(api: ApiRequest, number: str) -> HttpResponse:
    row = AcFieldValue.objects.filter(account=api.account, number=int(number)).first() if number.isdigit() else None
    if row is None or row.contact.deleted:
        raise errors.not_found("FieldValue", number)
    if api.request.method == "PUT":
        contact, field, value = _value_for(api, api.body_object("fieldValue"))
        row = contacts.field_value_set(api.account, contact, field, value, source="api")
    elif api.request.method == "DELETE":
        contacts.field_value_set(api.account, row.contact, row.field, "", source="api")
        row.delete()
        return json_response({})
    return _value_answer(api, row, 200)


def _value_answer(api: ApiRequest, row: AcFieldValue, status: int) -> HttpResponse:
    return json_response(
        {"contacts": [api.shapes.contact(row.contact)], "fieldValue": api.shapes.field_value(row)}, status,
    )
