"""The vendor app: a few server-rendered pages where a person edits contacts "in
ActiveCampaign" — search, open, edit names, phone and custom fields, add and remove tags —
and sees the webhook deliveries. Its edits fire webhooks with ``initiated_from=admin``.
The sandbox has no login: whoever knows the account's URL may use its app.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template import Context, Engine
from django.views.decorators.csrf import csrf_exempt

from connectors.sandbox.models.activecampaign import AcAccount, AcContact, AcContactTag, AcField, AcTag, AcWebhookDelivery

from . import contacts, schema
from .errors import ApiError
from .listing import contact_query
from .schema import MULTI_VALUE_TYPES
from .values import ContactInput, field_value

SOURCE = "admin"
PAGE_SIZE = 50
ENGINE = Engine(dirs=[str(Path(__file__).parent / "templates")], autoescape=True)


def _render(name: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    return HttpResponse(ENGINE.get_template(name).render(Context(context)), status=status)


def _account(slug: str) -> AcAccount:
    account = AcAccount.objects.filter(slug=slug).first()
    if account is None:
        raise Http404("No such account.")
    return account


def _contact(account: AcAccount, number: int) -> AcContact:
    try:
        return contacts.contact_get(account, number)
    except ApiError:
        raise Http404("No such contact.") from None


def _base(account: AcAccount) -> str:
    return f"/activecampaign/{account.slug}/app"


def contact_list(request: HttpRequest, account: str) -> HttpResponse:
    """Contacts, newest change first, filtered by the search box."""
    target = _account(account)
    query = request.GET.get("q", "").strip()
    params = request.GET.copy()
    params.setlist("search", [query] if query else [])
    params["orders[udate]"] = "DESC"
    rows = contact_query(target, params)
    return _render("contact_list.html", {
        "account": target, "base": _base(target), "query": query, "total": rows.count(), "contacts": rows[:PAGE_SIZE],
    })


@csrf_exempt
def contact_detail(request: HttpRequest, account: str, number: int) -> HttpResponse:
    """Show a contact; POST saves its names, phone and custom fields."""
    target = _account(account)
    contact = _contact(target, number)
    fields = list(AcField.objects.filter(account=target).prefetch_related("options"))
    error = ""
    if request.method == "POST":
        try:
            data = ContactInput(
                standard={name: request.POST.get(name, "").strip() for name in ("first_name", "last_name", "phone")},
                field_values=[(f, _posted_value(request, f)) for f in fields],
            )
            contacts.contact_update(target, contact, data, source=SOURCE)
            return HttpResponseRedirect(f"{_base(target)}/contacts/{contact.number}?saved=1")
        except ApiError as failure:
            error = failure.body["errors"][0]["title"]
    return _render("contact_detail.html", {
        "account": target, "base": _base(target), "contact": contact, "fields": _field_rows(contact, fields),
        "tags": AcContactTag.objects.filter(contact=contact).select_related("tag").order_by("number"),
        "saved": request.GET.get("saved") == "1" and not error, "error": error,
    }, 422 if error else 200)


def _posted_value(request: HttpRequest, field: AcField) -> str:
    name = f"field-{field.perstag}"
    if field.field_type in MULTI_VALUE_TYPES:
        chosen = [value for value in request.POST.getlist(name) if value]
        raw = f"||{'||'.join(chosen)}||" if chosen else ""
    else:
        raw = request.POST.get(name, "")
    return field_value(field, raw, pointer=f"/data/attributes/fieldValues/{field.perstag}")


def _field_rows(contact: AcContact, fields: list[AcField]) -> list[dict[str, Any]]:
    values = dict(contact.field_values.values_list("field_id", "value"))
    rows = []
    for field in fields:
        value = values.get(field.pk, "")
        chosen = [part for part in value.split("||") if part] if field.field_type in MULTI_VALUE_TYPES else [value]
        rows.append({
            "field": field, "input": f"field-{field.perstag}", "value": value, "chosen": chosen,
            "options": list(field.options.all()), "multi": field.field_type in MULTI_VALUE_TYPES,
        })
    return rows


@csrf_exempt
def contact_tag_add(request: HttpRequest, account: str, number: int) -> HttpResponse:
    """Apply the tag named in the form, creating the tag if the account has none of that name."""
    target = _account(account)
    contact = _contact(target, number)
    name = request.POST.get("tag", "").strip()
    if request.method == "POST" and name:
        tag = AcTag.objects.filter(account=target, tag=name).order_by("number").first()
        contacts.tag_add(target, contact, tag or schema.tag_create(target, name=name), source=SOURCE)
    return HttpResponseRedirect(f"{_base(target)}/contacts/{contact.number}")


@csrf_exempt
def contact_tag_remove(request: HttpRequest, account: str, number: int, applied: int) -> HttpResponse:
    target = _account(account)
    contact = _contact(target, number)
    row = AcContactTag.objects.filter(contact=contact, number=applied).select_related("tag").first()
    if request.method == "POST" and row is not None:
        contacts.tag_remove(target, row, source=SOURCE)
    return HttpResponseRedirect(f"{_base(target)}/contacts/{contact.number}")


def webhook_list(request: HttpRequest, account: str) -> HttpResponse:
    """The account's webhooks and their latest deliveries."""
    target = _account(account)
    deliveries = AcWebhookDelivery.objects.filter(webhook__account=target).select_related("webhook").order_by("-id")
    return _render("webhooks.html", {
        "account": target, "base": _base(target), "webhooks": target.webhooks.order_by("number"),
        "deliveries": deliveries[:PAGE_SIZE],
    })
