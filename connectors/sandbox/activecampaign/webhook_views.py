"""Webhooks: ``/webhooks``, ``/webhooks/{id}``, ``/webhook/events``."""
from __future__ import annotations

from typing import Any

from django.http import HttpResponse

from connectors.sandbox.models.activecampaign import AcWebhook

from . import errors
from .api import ApiRequest, api_endpoint, json_response
from .webhooks import EVENT_TYPES, SOURCES, webhook_create


def _hook(api: ApiRequest, number: str) -> AcWebhook:
    hook = AcWebhook.objects.filter(account=api.account, number=int(number)).first() if number.isdigit() else None
    if hook is None:
        raise errors.not_found("Webhook", number)
    return hook


def _checked(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """The webhook attributes of a create (all required) or update body."""
    values: dict[str, Any] = {}
    for key in ("name", "url"):
        if key in data or not partial:
            text = str(data.get(key) or "").strip()
            if not text:
                raise errors.validation(f"Webhook {key} is required.", code="field_missing", pointer=f"/data/attributes/{key}")
            values[key] = text
    if "url" in values and not values["url"].startswith(("http://", "https://")):
        raise errors.validation("Webhook url must be an http or https URL.", code="field_invalid", pointer="/data/attributes/url")
    for key, allowed in (("events", EVENT_TYPES), ("sources", SOURCES)):
        if key in data or not partial:
            chosen = data.get(key)
            if not isinstance(chosen, list) or not chosen or any(item not in allowed for item in chosen):
                raise errors.validation(
                    f"Webhook {key} must be a list of: {', '.join(allowed)}.", code="field_invalid",
                    pointer=f"/data/attributes/{key}",
                )
            values[key] = list(dict.fromkeys(chosen))
    if "listid" in data:
        values["listid"] = int(data["listid"]) if str(data["listid"]).isdigit() else 0
    return values


@api_endpoint("GET", "POST", setup=True)
def webhook_list(api: ApiRequest) -> HttpResponse:
    """GET with ``filters[url]``, ``filters[name]``, ``filters[listid]``; POST creates."""
    if api.request.method == "POST":
        hook = webhook_create(api.account, _checked(api.body_object("webhook"), partial=False))
        return json_response({"webhook": api.shapes.webhook(hook)}, 201)
    rows = AcWebhook.objects.filter(account=api.account)
    for key in ("url", "name"):
        if api.params.get(f"filters[{key}]"):
            rows = rows.filter(**{key: api.params[f"filters[{key}]"]})
    if api.params.get("filters[listid]", "").isdigit():
        rows = rows.filter(listid=int(api.params["filters[listid]"]))
    page, total = api.page(rows.order_by("number"))
    return json_response({"webhooks": [api.shapes.webhook(h) for h in page], "meta": {"total": str(total)}})


@api_endpoint("GET", "PUT", "DELETE", setup=True)
def webhook_detail(api: ApiRequest, number: str) -> HttpResponse:
    hook = _hook(api, number)
    if api.request.method == "DELETE":
        hook.delete()
        return json_response({})
    if api.request.method == "PUT":
        for key, value in _checked(api.body_object("webhook"), partial=True).items():
            setattr(hook, key, value)
        hook.save()
    return json_response({"webhook": api.shapes.webhook(hook)})


@api_endpoint("GET", setup=True)
def webhook_events(api: ApiRequest) -> HttpResponse:
    return json_response({"webhookEvents": list(EVENT_TYPES), "meta": {"total": len(EVENT_TYPES)}})

