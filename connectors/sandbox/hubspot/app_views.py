"""The vendor app: a few server-rendered pages where a person works "in HubSpot" during a
demo — search contacts, open one, edit its properties, add a note, merge another contact
into it, archive it — and sees the webhook events. Its changes fire webhooks like the
API's, with ``changeSource`` CRM_UI. The sandbox has no login: whoever knows the account's
URL may use its app.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template import Context, Engine
from django.views.decorators.csrf import csrf_exempt

from connectors.sandbox.models.hubspot import HsAccount, HsContact, HsNote, HsWebhookEvent

from . import contacts
from .errors import ApiError
from .notes import note_create
from .properties import checked_values, live_properties
from .search import search
from .webhooks import SOURCE_UI, EventLog

PAGE_SIZE = 50
ENGINE = Engine(dirs=[str(Path(__file__).parent / "templates")], autoescape=True)


def _render(name: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    return HttpResponse(ENGINE.get_template(name).render(Context(context)), status=status)


def _account(slug: str) -> HsAccount:
    account = HsAccount.objects.filter(slug=slug).first()
    if account is None:
        raise Http404("No such account.")
    return account


def _contact(account: HsAccount, number: int) -> HsContact:
    contact = contacts.live_contacts(account).filter(number=number).first()
    if contact is None:
        raise Http404("No such contact.")
    return contact


def _merged_away(account: HsAccount, number: int) -> HttpResponseRedirect | None:
    """The page of the contact a merge made of ``number``, if it was merged."""
    found = contacts.contact_find(account, number)
    return _redirect(account, found.number) if found is not None and found.number != number else None


def _base(account: HsAccount) -> str:
    return f"/hubspot/{account.slug}/app"


def _message(error: ApiError) -> str:
    """The first problem of an API error, as a person reads it."""
    listed = error.body.get("errors") or []
    return listed[0]["message"] if listed and listed[0].get("message") else error.body.get("message", "")


def _redirect(account: HsAccount, number: int | None = None, **flags: str) -> HttpResponseRedirect:
    target = f"{_base(account)}/contacts" + (f"/{number}" if number else "")
    query = "&".join(f"{k}={v}" for k, v in flags.items())
    return HttpResponseRedirect(target + (f"?{query}" if query else ""))


def contact_list(request: HttpRequest, account: str) -> HttpResponse:
    """Contacts, most recently modified first, filtered by the search box."""
    target = _account(account)
    query = request.GET.get("q", "").strip()
    page = search(target, {"query": query, "sorts": [{"propertyName": "lastmodifieddate", "direction": "DESCENDING"}],
                           "limit": PAGE_SIZE})
    return _render("hubspot/contact_list.html", {
        "account": target, "base": _base(target), "query": query, "total": page.total,
        "contacts": [{"number": c.number, **contacts.values_of(c)} for c in page.contacts],
        "archived": request.GET.get("archived") == "1",
    })


@csrf_exempt
def contact_detail(request: HttpRequest, account: str, number: int) -> HttpResponse:
    """Show a contact (a merged one's old id leads to the new one); POST saves the
    properties the form sends."""
    target = _account(account)
    if request.method == "GET" and (moved := _merged_away(target, number)) is not None:
        return moved
    contact = _contact(target, number)
    properties = live_properties(target)
    error = ""
    if request.method == "POST":
        posted = {name: request.POST.get(name, "") for name, p in properties.items()
                  if not p.read_only_value and name in request.POST}
        try:
            with transaction.atomic():
                events = EventLog(target, SOURCE_UI)
                contacts.contact_update(target, contact, checked_values(properties, posted), events)
                events.flush()
            return _redirect(target, contact.number, saved="1")
        except ApiError as failure:
            error = _message(failure)
            contact.refresh_from_db()
    values = contacts.values_of(contact)
    rows = [{"name": name, "label": p.label, "value": values.get(name, ""), "read_only": p.read_only_value,
             "options": p.options if p.type == "enumeration" and p.field_type != "checkbox" else []}
            for name, p in sorted(properties.items(), key=lambda item: (item[1].display_order, item[0]))]
    return _render("hubspot/contact_detail.html", {
        "account": target, "base": _base(target), "contact": contact, "values": values, "rows": rows,
        "notes": HsNote.objects.filter(contact=contact, archived=False).order_by("-timestamp", "-number"),
        "saved": request.GET.get("saved") == "1" and not error, "merged": request.GET.get("merged", ""),
        "noted": request.GET.get("noted") == "1", "error": error,
    }, 400 if error else 200)


@csrf_exempt
def contact_note_add(request: HttpRequest, account: str, number: int) -> HttpResponse:
    target = _account(account)
    contact = _contact(target, number)
    body = request.POST.get("body", "").strip()
    if request.method == "POST" and body:
        with transaction.atomic():
            events = EventLog(target, SOURCE_UI)
            note_create(target, body=body, timestamp=None, contact=contact, events=events)
            events.flush()
        return _redirect(target, contact.number, noted="1")
    return _redirect(target, contact.number)


@csrf_exempt
def contact_merge(request: HttpRequest, account: str, number: int) -> HttpResponse:
    """Merge the contact named in the form (by id or email) into this one; as in HubSpot the
    merge makes a new contact with a new id, whose page it then shows."""
    target = _account(account)
    contact = _contact(target, number)
    other_key = request.POST.get("other", "").strip()
    if request.method != "POST" or not other_key:
        return _redirect(target, contact.number)
    other = contacts.contact_find(target, other_key, id_property="email" if "@" in other_key else None)
    if other is None or other.pk == contact.pk:
        return _render("hubspot/message.html", {
            "account": target, "base": _base(target), "back": f"{_base(target)}/contacts/{contact.number}",
            "message": f"No other contact {other_key} to merge.",
        }, 400)
    with transaction.atomic():
        events = EventLog(target, SOURCE_UI)
        merged = contacts.contact_merge(target, contact, other, events)
        events.flush()
    return _redirect(target, merged.number, merged=f"{contact.number},{other.number}")


@csrf_exempt
def contact_archive(request: HttpRequest, account: str, number: int) -> HttpResponse:
    target = _account(account)
    contact = _contact(target, number)
    if request.method != "POST":
        return _redirect(target, contact.number)
    with transaction.atomic():
        events = EventLog(target, SOURCE_UI)
        contacts.contact_archive(target, contact, events)
        events.flush()
    return _redirect(target, archived="1")


def webhook_list(request: HttpRequest, account: str) -> HttpResponse:
    """The app's target URL, subscriptions and latest events."""
    target = _account(account)
    return _render("hubspot/webhooks.html", {
        "account": target, "base": _base(target), "subscriptions": target.subscriptions.order_by("number"),
        "events": HsWebhookEvent.objects.filter(account=target).order_by("-id")[:PAGE_SIZE],
    })
