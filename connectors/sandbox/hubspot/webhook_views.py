"""The app's webhook settings and subscriptions: ``/webhooks/v3/{appId}/settings`` and
``/webhooks/v3/{appId}/subscriptions[/{id}]``.

The vendor authenticates these with the developer account's API key (``hapikey``), which a
private app does not have; the sandbox takes the account's bearer token instead, so one
credential sets up everything.
"""
from __future__ import annotations

from typing import Any

from django.http import HttpResponse

from connectors.sandbox.models.hubspot import HsSubscription

from . import errors
from .api import ApiRequest, api_endpoint, json_response, no_content
from .contacts import parse_id
from .dates import iso, now
from .ids import allocate_ids
from .properties import live_properties

DEFAULT_CONCURRENCY = 10


def _app(api: ApiRequest, app_id: str) -> None:
    if parse_id(app_id) != api.account.app_id:
        raise errors.not_found(f"App {app_id} was not found.")  # (emulator) wording


def _settings(api: ApiRequest) -> dict[str, Any]:
    moment = iso(api.account.webhook_settings_at or now())
    return {"createdAt": moment, "updatedAt": moment, "targetUrl": api.account.webhook_url,
            "throttling": {"maxConcurrentRequests": api.account.webhook_max_concurrent}}


@api_endpoint("GET", "PUT", "DELETE", setup=True)
def settings_detail(api: ApiRequest, app_id: str) -> HttpResponse:
    _app(api, app_id)
    account = api.account
    if api.request.method == "DELETE":
        account.webhook_url, account.webhook_settings_at = "", None
        account.save(update_fields=["webhook_url", "webhook_settings_at"])
        return no_content()
    if api.request.method == "PUT":
        body = api.json() or {}
        url = str(body.get("targetUrl") or "").strip()
        if not url.startswith(("http://", "https://")):
            raise errors.validation("targetUrl must be an http or https URL.")  # (emulator) wording
        concurrency = ((body.get("throttling") or {}).get("maxConcurrentRequests")) or DEFAULT_CONCURRENCY
        account.webhook_url, account.webhook_max_concurrent = url, int(concurrency)
        account.webhook_settings_at = now()
        account.save(update_fields=["webhook_url", "webhook_max_concurrent", "webhook_settings_at"])
    elif not account.webhook_url:
        raise errors.not_found("No webhook settings for this app.")  # (emulator) wording
    return json_response(_settings(api))


def subscription_shape(subscription: HsSubscription) -> dict[str, Any]:
    body = {"id": str(subscription.number), "eventType": subscription.event_type, "active": subscription.active,
            "createdAt": iso(subscription.created_at), "updatedAt": iso(subscription.updated_at)}
    if subscription.property_name:
        body["propertyName"] = subscription.property_name
    return body


@api_endpoint("GET", "POST", setup=True)
def subscription_list(api: ApiRequest, app_id: str) -> HttpResponse:
    _app(api, app_id)
    if api.request.method == "GET":
        rows = HsSubscription.objects.filter(account=api.account).order_by("number")
        return json_response({"results": [subscription_shape(s) for s in rows]})
    body = api.json() or {}
    event_type, name = str(body.get("eventType") or ""), str(body.get("propertyName") or "")
    if event_type not in HsSubscription.EVENT_TYPES:
        raise errors.validation(f"eventType must be one of: {', '.join(HsSubscription.EVENT_TYPES)}.")
    if event_type == "contact.propertyChange":
        if not name:
            raise errors.validation("propertyName is required for contact.propertyChange subscriptions.")
        if name not in live_properties(api.account):
            raise errors.validation(f'Property "{name}" does not exist')
    else:
        name = ""
    if HsSubscription.objects.filter(account=api.account, event_type=event_type, property_name=name).exists():
        raise errors.ApiError(409, errors.envelope(
            f"A subscription for {event_type} {name}".rstrip() + " already exists.", "CONFLICT"))  # (emulator) wording
    moment = now()
    subscription = HsSubscription.objects.create(
        account=api.account, number=allocate_ids(api.account, "subscription"), event_type=event_type,
        property_name=name, active=bool(body.get("active", True)), created_at=moment, updated_at=moment,
    )
    return json_response(subscription_shape(subscription), 201)


@api_endpoint("GET", "PATCH", "DELETE", setup=True)
def subscription_detail(api: ApiRequest, app_id: str, subscription_id: str) -> HttpResponse:
    _app(api, app_id)
    subscription = HsSubscription.objects.filter(account=api.account, number=parse_id(subscription_id) or 0).first()
    if subscription is None:
        raise errors.not_found()
    if api.request.method == "DELETE":
        subscription.delete()
        return no_content()
    if api.request.method == "PATCH":
        body = api.json() or {}
        if "active" in body:
            subscription.active, subscription.updated_at = bool(body["active"]), now()
            subscription.save(update_fields=["active", "updated_at"])
    return json_response(subscription_shape(subscription))
