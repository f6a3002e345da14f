"""Lists and subscriptions (``/lists``, ``/contactLists``), automations and the contacts'
runs through them (``/automations``, ``/contactAutomations``)."""
from __future__ import annotations

from django.db.models import Count, Q
from django.http import HttpResponse

from connectors.sandbox.models.activecampaign import AcAutomation, AcContactAutomation, AcList

from . import contacts, errors, schema
from .api import ApiRequest, api_endpoint, json_response


def _list(api: ApiRequest, number: object) -> AcList:
    target = AcList.objects.filter(account=api.account, number=int(number)).first() if str(number).isdigit() else None
    if target is None:
        raise errors.not_found("List", number)
    return target


@api_endpoint("GET", "POST")
def list_list(api: ApiRequest) -> HttpResponse:
    if api.request.method == "POST":
        data = api.body_object("list")
        target = schema.list_create(
            api.account, name=str(data.get("name") or ""), stringid=str(data.get("stringid") or ""),
            sender_url=str(data.get("sender_url") or ""), sender_reminder=str(data.get("sender_reminder") or ""),
        )
        return json_response({"list": api.shapes.list(target)}, 201)
    rows, total = api.page(AcList.objects.filter(account=api.account).order_by("number"))
    return json_response({"lists": [api.shapes.list(r) for r in rows], "meta": {"total": str(total)}})


@api_endpoint("GET")
def list_detail(api: ApiRequest, number: str) -> HttpResponse:
    return json_response({"list": api.shapes.list(_list(api, number))})


@api_endpoint("POST")
def contact_list_create(api: ApiRequest) -> HttpResponse:
    """``{"contactList": {"list", "contact", "status"}}``: sets the status (1 subscribed,
    2 unsubscribed); posting the same status again changes nothing."""
    data = api.body_object("contactList")
    contact = contacts.contact_get(api.account, data.get("contact"))
    status = str(data.get("status", 1))
    row, created = contacts.list_status_set(
        api.account, contact, _list(api, data.get("list")), int(status) if status.isdigit() else -1, source="api",
    )
    return json_response(
        {"contacts": [api.shapes.contact(contact)], "contactList": api.shapes.contact_list(row)}, 201 if created else 200,
    )


def _automations(api: ApiRequest):
    return AcAutomation.objects.filter(account=api.account).annotate(
        entered=Count("contact_automations"), exited=Count("contact_automations", filter=Q(contact_automations__status=2)),
    ).order_by("number")


@api_endpoint("GET")
def automation_list(api: ApiRequest) -> HttpResponse:
    rows, total = api.page(_automations(api))
    return json_response({
        "automations": [api.shapes.automation(a, entered=a.entered, exited=a.exited) for a in rows],
        "meta": {"total": str(total)},
    })


@api_endpoint("GET")
def automation_detail(api: ApiRequest, number: str) -> HttpResponse:
    automation = _automations(api).filter(number=int(number)).first() if number.isdigit() else None
    if automation is None:
        raise errors.not_found("Automation", number)
    return json_response({"automation": api.shapes.automation(automation, entered=automation.entered, exited=automation.exited)})


@api_endpoint("GET", "POST")
def contact_automation_list(api: ApiRequest) -> HttpResponse:
    """POST ``{"contactAutomation": {"contact", "automation"}}`` enrols a contact."""
    if api.request.method == "POST":
        data = api.body_object("contactAutomation")
        contact = contacts.contact_get(api.account, data.get("contact"))
        number = str(data.get("automation"))
        automation = AcAutomation.objects.filter(account=api.account, number=int(number)).first() if number.isdigit() else None
        if automation is None:
            raise errors.not_found("Automation", number)
        run = contacts.automation_enrol(api.account, contact, automation)
        return json_response(
            {"contacts": [api.shapes.contact(contact)], "contactAutomation": api.shapes.contact_automation(run)}, 201,
        )
    rows = AcContactAutomation.objects.filter(account=api.account, contact__deleted=False).select_related("contact", "automation")
    page, total = api.page(rows.order_by("number"))
    return json_response({"contactAutomations": [api.shapes.contact_automation(r) for r in page], "meta": {"total": str(total)}})


@api_endpoint("GET", "DELETE")
def contact_automation_detail(api: ApiRequest, number: str) -> HttpResponse:
    run = (
        AcContactAutomation.objects.filter(account=api.account, number=int(number), contact__deleted=False)
        .select_related("contact", "automation").first() if number.isdigit() else None
    )
    if run is None:
        raise errors.not_found("ContactAutomation", number)
    if api.request.method == "DELETE":
        run.delete()
        return json_response({})
    return json_response({"contactAutomation": api.shapes.contact_automation(run)})
