"""OAuth 2.0 at ``/services/oauth2/token`` and the identity URL it hands out.

Grants: ``password`` (client id/secret plus the integration user's login) and
``client_credentials`` (client id/secret in the form or as HTTP Basic, as
simple-salesforce sends them). Errors use OAuth's ``{"error","error_description"}``
(Salesforce Help, "OAuth 2.0 Username-Password Flow" and "Client Credentials Flow").
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from django.http import HttpRequest, HttpResponse

from connectors.sandbox import faults
from connectors.sandbox.models import SandboxOrg, SandboxRecord

from . import access
from .api import bearer_token, error_response, json_response, origin
from .errors import ApiError, invalid_session


def _oauth_error(error: str, description: str, status: int = 400) -> HttpResponse:
    return json_response({"error": error, "error_description": description}, status)


def _client_credentials(request: HttpRequest) -> tuple[str, str]:
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
            return client_id, secret
        except (binascii.Error, UnicodeDecodeError):
            return "", ""
    return request.POST.get("client_id", ""), request.POST.get("client_secret", "")


def token(request: HttpRequest) -> HttpResponse:
    """Issue an access token; the answer's ``instance_url`` is the sandbox itself."""
    if request.method != "POST":
        return _oauth_error("invalid_request", "must use HTTP POST")
    client_id, client_secret = _client_credentials(request)
    org = SandboxOrg.objects.filter(client_id=client_id).first() if client_id else None
    if org is None:
        return _oauth_error("invalid_client_id", "client identifier invalid")
    hangs = False
    if org.faults_on_auth:
        try:
            hangs = access.inject_faults(org)
        except ApiError as error:
            return error_response(error)
        if hangs:
            faults.hang(org)
    if not hmac.compare_digest(client_secret, org.client_secret):
        return _oauth_error("invalid_client", "invalid client credentials")
    grant_type = request.POST.get("grant_type", "")
    if grant_type == "password":
        login_ok = request.POST.get("username") == org.username and hmac.compare_digest(
            request.POST.get("password", ""), org.password
        )
        if not login_ok:
            return _oauth_error("invalid_grant", "authentication failure")
    elif grant_type != "client_credentials":
        return _oauth_error("unsupported_grant_type", "grant type not supported")
    issued = access.token_issue(org)
    identity = f"{origin(request)}/id/{org.org_id}/{issued.user_id}"
    issued_at = str(int(issued.issued_at.timestamp() * 1000))
    # signature: HMAC-SHA256 of id + issued_at with the client secret, base64 (OAuth flow docs).
    signature = base64.b64encode(
        hmac.new(org.client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256).digest()
    ).decode()
    return json_response(
        {
            "access_token": issued.key,
            "instance_url": origin(request),
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
            "signature": signature,
        }
    )


def identity(request: HttpRequest, org_id: str, user_id: str) -> HttpResponse:
    """``GET /id/{orgId}/{userId}``: who the token belongs to."""
    issued = access.token_resolve(bearer_token(request))
    if issued is None or issued.org.org_id[:15] != org_id[:15]:
        return error_response(invalid_session())
    user = SandboxRecord.objects.filter(org=issued.org, sobject="User", record_id__startswith=user_id[:15]).first()
    if user is None:
        return _oauth_error("Bad_Id", "Bad id " + user_id, 404)
    base = origin(request)
    return json_response(
        {
            "id": f"{base}/id/{issued.org.org_id}/{user.record_id}",
            "asserted_user": user.record_id == issued.user_id,
            "user_id": user.record_id,
            "organization_id": issued.org.org_id,
            "username": user.data.get("Username"),
            "nick_name": user.data.get("Alias"),
            "display_name": user.data.get("Name"),
            "email": user.data.get("Email"),
            "active": user.data.get("IsActive", True),
            "user_type": "STANDARD",
            "language": "en_US",
            "locale": "de_DE",
            "utcOffset": 3600000,
            "urls": {
                "rest": f"{base}/services/data/v{{version}}/",
                "sobjects": f"{base}/services/data/v{{version}}/sobjects/",
                "query": f"{base}/services/data/v{{version}}/query/",
                "partner": f"{base}/services/Soap/u/{{version}}/{issued.org.org_id[:15]}",
            },
        }
    )
