"""What Zoho CRM and Zoho Campaigns connectors share: Zoho's OAuth and one HTTP session.

Zoho runs one accounts server per data centre (``https://accounts.zoho.eu``, ``.com``,
``.in``, …). A connection holds that server's URL (``accounts_url``), an OAuth client
(``client_id``, ``client_secret``) and a grant (``refresh_token``); the connector trades
the grant for an access token (``POST {accounts_url}/oauth/v2/token``,
``grant_type=refresh_token``), which lasts an hour and goes in ``Authorization:
Zoho-oauthtoken <token>`` (not ``Bearer``). The token's answer names the data centre's API
domain. Tokens are refreshed a few minutes before they expire and handed to
``on_credentials_changed`` (with their expiry) so that the next connector reuses them:
Zoho gives one grant only ten access tokens per ten minutes.

Zoho refuses a revoked or expired grant with HTTP 200 and ``{"error":"invalid_code"}``:
that is a permanent failure of the connection (``AuthExpired``), which only a new grant
mends.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import requests

from .base import AuthExpired, Connector, ConnectorError, RateLimited, Unavailable

log = logging.getLogger(__name__)

REFRESH_MARGIN = 300  # seconds before expiry at which a token is refreshed
TOKEN_BACKOFF = 60  # after "Access Denied" (too many token requests), try again in a minute
ACCESS_TOKEN, EXPIRES_AT, API_DOMAIN = "access_token", "access_token_expires_at", "api_domain"


class ZohoConnector(Connector):
    """Base of the Zoho connectors: the token, the session and counting calls."""

    service = "Zoho"  # how the product is named in messages

    def __init__(self, *, base_url, credentials, on_credentials_changed=None, max_retries: int = 4,
                 backoff: float = 0.5, sleep=time.sleep, timeout: float = 30, session: requests.Session | None = None,
                 clock: Callable[[], float] = time.time):
        super().__init__(base_url=base_url, credentials=credentials, on_credentials_changed=on_credentials_changed,
                         max_retries=max_retries, backoff=backoff, sleep=sleep)
        self.timeout = timeout
        self.clock = clock
        self.session = session or requests.Session()
        self.token_refreshes = 0

    def close(self) -> None:
        self.session.close()

    # --- the token ------------------------------------------------------------------------------
    @property
    def accounts_url(self) -> str:
        return str(self.credentials.get("accounts_url") or "").rstrip("/")

    def _token_expires_at(self) -> float:
        text = str(self.credentials.get(EXPIRES_AT) or "")
        try:
            return datetime.fromisoformat(text).timestamp()
        except ValueError:
            return 0.0

    def access_token(self) -> str:
        """A live access token: the stored one while it has more than a few minutes left,
        else a new one from the grant."""
        token = str(self.credentials.get(ACCESS_TOKEN) or "")
        if token and self._token_expires_at() - self.clock() > REFRESH_MARGIN:
            return token
        return self.refresh()

    def forget_token(self) -> None:
        self.credentials.pop(ACCESS_TOKEN, None)
        self.credentials.pop(EXPIRES_AT, None)

    def refresh(self) -> str:
        """Trade the grant for a new access token (one request, counted) and store it."""
        if not self.accounts_url:
            raise AuthExpired(f"The {self.service} connection has no accounts URL (e.g. https://accounts.zoho.eu).",
                              code="accounts_url")
        form = {"grant_type": "refresh_token", "client_id": self.credentials.get("client_id", ""),
                "client_secret": self.credentials.get("client_secret", ""),
                "refresh_token": self.credentials.get("refresh_token", "")}
        self.api_calls += 1
        try:
            response = self.session.post(f"{self.accounts_url}/oauth/v2/token", data=form, timeout=self.timeout)
        except requests.RequestException as exc:
            raise Unavailable(f"Zoho's accounts server could not be reached ({exc.__class__.__name__}).") from exc
        if response.status_code >= 500:
            raise Unavailable(f"Zoho's accounts server answered HTTP {response.status_code}.",
                              code=str(response.status_code))
        try:
            body: dict[str, Any] = response.json()
        except ValueError:
            body = {}
        if body.get("access_token"):
            self.token_refreshes += 1
            expires_at = datetime.fromtimestamp(self.clock() + int(body.get("expires_in") or 3600), timezone.utc)
            fresh = {ACCESS_TOKEN: body["access_token"], EXPIRES_AT: expires_at.isoformat()}
            if body.get("api_domain"):
                fresh[API_DOMAIN] = str(body["api_domain"]).rstrip("/")
            self.credentials.update(fresh)
            if self.on_credentials_changed is not None:
                self.on_credentials_changed(dict(fresh))
            return body["access_token"]
        raise _token_refusal(body, response.status_code)

    # --- requests -------------------------------------------------------------------------------
    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One request with the current token, counted; network failures become Unavailable."""
        headers = {"Authorization": f"Zoho-oauthtoken {self.access_token()}", **kwargs.pop("headers", {})}
        self.api_calls += 1
        try:
            return self.session.request(method, url, headers=headers, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise Unavailable(f"{self.service} could not be reached ({exc.__class__.__name__}).") from exc

    def _with_token(self, attempt: Callable[[], Any], what: str) -> Any:
        """Run ``attempt`` through ``retrying``; a token refused as invalid (revoked
        sessions, a clock ahead of Zoho's) is refreshed once and the call made again."""
        refreshed = False

        def mend(error: ConnectorError) -> bool:
            nonlocal refreshed
            if isinstance(error, AuthExpired) and error.code in TOKEN_REFUSALS and not refreshed:
                refreshed = True
                self.forget_token()
                return True
            return False

        return self.retrying(attempt, what=what, mend=mend)


TOKEN_REFUSALS = {"INVALID_TOKEN", "1007"}  # the API's words for a token it does not (or no longer) accept


def _token_refusal(body: dict[str, Any], status: int) -> ConnectorError:
    error = str(body.get("error") or "")
    if error == "invalid_code":
        return AuthExpired(
            "Zoho refused the refresh token (invalid_code): the grant was revoked or has expired. Generate a new "
            "refresh token for the client in the Zoho API console and enter it in the connection.", code="invalid_code")
    if error == "invalid_client":
        return AuthExpired("Zoho refused the client ID or client secret (invalid_client). Check them, and that the "
                           "accounts URL is your data centre's.", code="invalid_client")
    if error.lower() == "access denied":
        return RateLimited("Zoho refused another access token for now (too many token requests in ten minutes).",
                           retry_after=TOKEN_BACKOFF, code="access_denied")
    return AuthExpired(f"Zoho's accounts server refused the token request ({error or f'HTTP {status}'}).",
                       code=error or str(status))
