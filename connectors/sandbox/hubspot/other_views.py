"""Notes (``/crm/v3/objects/notes``, ``/crm/v4/objects/contacts/{id}/associations/notes``),
contact properties (``/crm/v3/properties/contacts``) and the account's details
(``/account-info/v3/details``)."""
from __future__ import annotations

from django.http import HttpResponse

from connectors.sandbox.models.hubspot import HsNote, HsProperty

from . import errors
from .api import ApiRequest, api_endpoint, json_response, no_content
from .contacts import contact_get, parse_id
from .notes import CONTACT_TO_NOTE, note_archive, note_from_api, note_shape
from .properties import property_archive, property_create, property_get, property_shape, property_update


@api_endpoint("POST")
def note_list(api: ApiRequest) -> HttpResponse:
    return json_response(note_shape(note_from_api(api.account, api.json(), api.events)), 201)


@api_endpoint("GET", "DELETE")
def note_detail(api: ApiRequest, object_id: str) -> HttpResponse:
    note = HsNote.objects.filter(account=api.account, number=parse_id(object_id) or 0, archived=False).first()
    if note is None:
        raise errors.not_found()
    if api.request.method == "DELETE":
        note_archive(note, api.events)
        return no_content()
    return json_response(note_shape(note))


@api_endpoint("GET")
def contact_note_associations(api: ApiRequest, object_id: str) -> HttpResponse:
    contact = contact_get(api.account, object_id)
    notes = HsNote.objects.filter(contact=contact, archived=False).order_by("number")
    return json_response({"results": [
        {"toObjectId": n.number, "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": CONTACT_TO_NOTE, "label": None}]}
        for n in notes
    ]})


def _object_type(object_type: str) -> None:
    if object_type not in ("contacts", "contact", "0-1"):
        raise errors.validation(f"Unable to infer object type from: {object_type}")


@api_endpoint("GET", "POST")
def property_list(api: ApiRequest, object_type: str) -> HttpResponse:
    _object_type(object_type)
    if api.request.method == "POST":
        return json_response(property_shape(property_create(api.account, api.json())), 201)
    rows = HsProperty.objects.filter(account=api.account, archived=api.flag("archived"))
    return json_response({"results": [property_shape(p) for p in rows]})


@api_endpoint("GET", "PATCH", "DELETE")
def property_detail(api: ApiRequest, object_type: str, name: str) -> HttpResponse:
    _object_type(object_type)
    prop = property_get(api.account, name, archived=api.flag("archived") and api.request.method == "GET")
    if api.request.method == "DELETE":
        property_archive(prop)
        return no_content()
    if api.request.method == "PATCH":
        prop = property_update(prop, api.json())
    return json_response(property_shape(prop))


@api_endpoint("GET", setup=True)
def account_details(api: ApiRequest) -> HttpResponse:
    return json_response({
        "portalId": api.account.portal_id, "accountType": "SANDBOX", "timeZone": "Europe/Berlin",
        "companyCurrency": "EUR", "additionalCurrencies": [], "utcOffset": "+01:00", "utcOffsetMilliseconds": 3600000,
        "uiDomain": "app.hubspot.com", "dataHostingLocation": "eu1",
    })
