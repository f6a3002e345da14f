"""The accounts server: ``POST {accounts}/oauth/v2/token`` (refresh-token grant; the
authorization-code grant for a code the sandbox printed) and ``/oauth/v2/token/revoke``.

Zoho answers a refused grant with HTTP 200 and ``{"error":"invalid_code"}``, a wrong
client with ``{"error":"invalid_client"}``; an answer that gives a token carries
``api_domain``, the data centre's API host the client must use from then on. Each grant
may be given a limited number of access tokens per ten minutes; past that, Zoho refuses
with "Access Denied" until the window passes.
"""
from __future__ import annotations

import json
import secrets
from datetime import timedelta

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from connectors.sandbox import faults
from connectors.sandbox.models.zoho import ZohoOrg, ZohoToken

from .dates import now

SCOPE = "ZohoCRM.modules.ALL,ZohoCRM.settings.ALL,ZohoCRM.notifications.ALL,ZohoCRM.coql.READ,ZohoCampaigns.contact.ALL"
TOKEN_WINDOW = timedelta(minutes=10)


def _json(body: dict, status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(body), status=status, content_type="application/json;charset=UTF-8")


def origin(request: HttpRequest) -> str:
    host = request.META.get("HTTP_HOST") or f"{request.META['SERVER_NAME']}:{request.META['SERVER_PORT']}"
    return f"{request.scheme}://{host}"


def api_domain(request: HttpRequest, org: ZohoOrg) -> str:
    """The organisation's stand-in for ``https://www.zohoapis.<dc>``."""
    return f"{origin(request)}/zoho/{org.slug}"


def token_issue(org: ZohoOrg) -> ZohoToken:
    """A new access token for the organisation's grant, valid ``token_lifetime`` seconds."""
    return ZohoToken.objects.create(org=org, token=f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}",
                                    expires_at=now() + timedelta(seconds=org.token_lifetime))


@csrf_exempt
def token(request: HttpRequest, org: str) -> HttpResponse:
    target = ZohoOrg.objects.filter(slug=org).first()
    if request.method != "POST" or target is None:
        return _json({"error": "invalid_request"}, 400)  # (emulator) wording
    if target.faults_on_auth:
        outcome = faults.fault_draw(target)
        if outcome == faults.ERROR:
            return HttpResponse("Service Unavailable", status=503)
        if outcome == faults.LIMIT:
            return _access_denied()
    form = request.POST
    if form.get("client_id") != target.client_id or not secrets.compare_digest(form.get("client_secret", ""),
                                                                               target.client_secret):
        return _json({"error": "invalid_client"})
    grant = form.get("grant_type")
    if grant == "refresh_token":
        if target.refresh_revoked or not secrets.compare_digest(form.get("refresh_token", ""), target.refresh_token):
            return _json({"error": "invalid_code"})
    elif grant == "authorization_code":
        # The sandbox's grant code is the refresh token itself; it hands the refresh token out once more.
        if target.refresh_revoked or not secrets.compare_digest(form.get("code", ""), target.refresh_token):
            return _json({"error": "invalid_code"})
    else:
        return _json({"error": "unsupported_grant_type"})
    with transaction.atomic():
        ZohoOrg.objects.select_for_update().filter(pk=target.pk).exists()
        recent = ZohoToken.objects.filter(org=target, created_at__gt=now() - TOKEN_WINDOW).count()
        if recent >= target.token_rate_limit:
            return _access_denied()
        issued = token_issue(target)
    body = {"access_token": issued.token, "api_domain": api_domain(request, target), "token_type": "Bearer",
            "expires_in": target.token_lifetime, "scope": SCOPE}
    if grant == "authorization_code":
        body["refresh_token"] = target.refresh_token
    return _json(body)


def _access_denied() -> HttpResponse:
    return _json({"error_description": "You have made too many requests continuously. Please try again after some time.",
                  "error": "Access Denied", "status": "failure"}, 400)


@csrf_exempt
def revoke(request: HttpRequest, org: str) -> HttpResponse:
    """``POST /oauth/v2/token/revoke?token=<refresh token>``: the grant is revoked, and every
    access token it gave stops working."""
    target = ZohoOrg.objects.filter(slug=org).first()
    given = request.GET.get("token") or request.POST.get("token", "")
    if request.method != "POST" or target is None:
        return _json({"error": "invalid_request"}, 400)
    if given and secrets.compare_digest(given, target.refresh_token):
        grant_revoke(target)
    return _json({"status": "success"})  # Zoho answers success for unknown tokens alike


def grant_revoke(org: ZohoOrg) -> None:
    """Revoke the organisation's grant (as a user removing the client's access would)."""
    with transaction.atomic():
        ZohoOrg.objects.filter(pk=org.pk).update(refresh_revoked=True)
        ZohoToken.objects.filter(org=org).delete()


def bearer(request: HttpRequest, org: ZohoOrg) -> str | None:
    """Whether the request carries a live access token of ``org`` in ``Authorization:
    Zoho-oauthtoken <token>``: None if so, else "missing" or "invalid"."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme != "Zoho-oauthtoken" or not value.strip():
        return "missing"
    if not ZohoToken.objects.filter(org=org, token=value.strip(), expires_at__gt=now()).exists():
        return "invalid"
    return None
