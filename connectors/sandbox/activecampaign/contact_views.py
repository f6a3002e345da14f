"""Contacts: ``/contacts``, ``/contacts/{id}`` and what hangs off it, ``/contact/sync``."""
from __future__ import annotations

from django.http import HttpResponse

from connectors.sandbox.models.activecampaign import (
    AcContact,
    AcContactAutomation,
    AcContactList,
    AcContactTag,
    AcFieldValue,
)

from . import contacts
from .api import ApiRequest, api_endpoint, json_response
from .listing import contact_query, page_input
from .values import contact_input


def _written(api: ApiRequest, contact: AcContact, status: int) -> HttpResponse:
    """The answer to a create, sync or update: the contact and its field values."""
    values = AcFieldValue.objects.filter(contact=contact).select_related("contact", "field").order_by("number")
    return json_response(
        {"fieldValues": [api.shapes.field_value(v) for v in values], "contact": api.shapes.contact(contact, with_related=True)},
        status,
    )


@api_endpoint("GET", "POST")
def contact_list(api: ApiRequest) -> HttpResponse:
    """GET lists (filters, orders, paging; ``meta.total`` as a string); POST creates."""
    if api.request.method == "POST":
        data = contact_input(api.account, api.json(), require_email=True)
        return _written(api, contacts.contact_create(api.account, data, source="api"), 201)
    limit, offset = api.limit_offset()
    rows, total = api.page(contact_query(api.account, api.params))
    return json_response({
        "scoreValues": [], "contacts": [api.shapes.contact(c) for c in rows],
        "meta": {"total": str(total), "page_input": page_input(api.params, limit, offset)},
    })


@api_endpoint("POST")
def contact_sync(api: ApiRequest) -> HttpResponse:
    """Create or update by email: 201 when created, 200 when it existed."""
    data = contact_input(api.account, api.json(), require_email=True)
    contact, created = contacts.contact_sync(api.account, data, source="api")
    return _written(api, contact, 201 if created else 200)


@api_endpoint("GET", "PUT", "DELETE")
def contact_detail(api: ApiRequest, number: str) -> HttpResponse:
    contact = contacts.contact_get(api.account, number)
    if api.request.method == "PUT":
        data = contact_input(api.account, api.json(), require_email=False)
        return _written(api, contacts.contact_update(api.account, contact, data, source="api"), 200)
    if api.request.method == "DELETE":
        contacts.contact_delete(contact)
        return json_response({})
    shapes = api.shapes
    body = shapes.contact(contact, with_related=True)
    runs = AcContactAutomation.objects.filter(contact=contact).select_related("contact", "automation")
    lists = AcContactList.objects.filter(contact=contact).select_related("contact", "list")
    values = AcFieldValue.objects.filter(contact=contact).select_related("contact", "field").order_by("number")
    body.update({
        "contactAutomations": [str(r.number) for r in runs], "contactLists": [str(r.number) for r in lists],
        "geoIps": [], "deals": [], "accountContacts": [],
    })
    return json_response({
        "contactAutomations": [shapes.contact_automation(r) for r in runs],
        "contactLists": [shapes.contact_list(r) for r in lists], "deals": [],
        "fieldValues": [shapes.field_value(v) for v in values], "geoAddresses": [], "geoIps": [], "contact": body,
    })


@api_endpoint("GET")
def contact_field_values(api: ApiRequest, number: str) -> HttpResponse:
    contact = contacts.contact_get(api.account, number)
    values = AcFieldValue.objects.filter(contact=contact).select_related("contact", "field").order_by("number")
    return json_response({"fieldValues": [api.shapes.field_value(v) for v in values]})


@api_endpoint("GET")
def contact_contact_tags(api: ApiRequest, number: str) -> HttpResponse:
    contact = contacts.contact_get(api.account, number)
    applied = AcContactTag.objects.filter(contact=contact).select_related("contact", "tag").order_by("number")
    return json_response({"contactTags": [api.shapes.contact_tag(a) for a in applied]})


@api_endpoint("GET")
def contact_contact_lists(api: ApiRequest, number: str) -> HttpResponse:
    contact = contacts.contact_get(api.account, number)
    rows = AcContactList.objects.filter(contact=contact).select_related("contact", "list").order_by("number")
    return json_response({"contactLists": [api.shapes.contact_list(r) for r in rows]})


@api_endpoint("GET")
def contact_contact_automations(api: ApiRequest, number: str) -> HttpResponse:
    contact = contacts.contact_get(api.account, number)
    runs = AcContactAutomation.objects.filter(contact=contact).select_related("contact", "automation").order_by("number")
    return json_response({
        "contactAutomations": [api.shapes.contact_automation(r) for r in runs], "meta": {"total": str(len(runs))},
    })
