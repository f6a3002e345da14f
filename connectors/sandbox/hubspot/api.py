"""The API's front door, shared by every ``/hubspot/<account>/`` resource.

``api_endpoint`` finds the account, checks ``Authorization: Bearer <private app token>``
(401), admits the call under the account's limits (429: the ten-second bucket and the
daily total for ordinary calls, with the ``X-HubSpot-RateLimit-*`` headers on every answer;
the per-second search limit for search, whose answers carry no such headers), runs the
view in one transaction and turns errors into the vendor's JSON. A view that raises leaves
nothing written, so a batch refused as a whole changes nothing.
"""
from __future__ import annotations

import functools
import json
import logging
import secrets
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, Callable

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from connectors.sandbox import faults
from connectors.sandbox.models.hubspot import HsAccount

from . import errors
from .dates import one_instant
from .errors import ApiError
from .ratelimit import TEN_SECONDS, limiter, secondly_limit
from .webhooks import SOURCE_API, EventLog

logger = logging.getLogger(__name__)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(json.dumps(body), status=status, content_type="application/json;charset=utf-8")
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def no_content() -> HttpResponse:
    return HttpResponse(status=204)


def origin(request: HttpRequest) -> str:
    """``scheme://host[:port]`` as the client reached the sandbox."""
    host = request.META.get("HTTP_HOST") or f"{request.META['SERVER_NAME']}:{request.META['SERVER_PORT']}"
    return f"{request.scheme}://{host}"


@dataclass
class ApiRequest:
    """One authenticated, admitted API request: the account, and the webhook events its
    changes make (recorded when the view succeeds)."""

    request: HttpRequest
    account: HsAccount
    events: EventLog = field(init=False)

    def __post_init__(self) -> None:
        self.events = EventLog(self.account, SOURCE_API)

    @property
    def base(self) -> str:
        return f"{origin(self.request)}/hubspot/{self.account.slug}"

    @property
    def params(self):
        return self.request.GET

    def json(self) -> Any:
        try:
            return json.loads(self.request.body or b"{}")
        except ValueError:
            raise errors.bad_json() from None

    def names(self, key: str = "properties") -> list[str]:
        """A list query parameter, given repeated or comma-separated."""
        return [n for value in self.params.getlist(key) for n in value.split(",") if n.strip()]

    def flag(self, key: str) -> bool:
        return self.params.get(key, "").lower() == "true"


def _rate_headers(account: HsAccount, admission) -> dict[str, str]:
    return {
        "X-HubSpot-RateLimit-Daily": str(account.daily_limit),
        "X-HubSpot-RateLimit-Daily-Remaining": str(admission.daily_remaining),
        "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(TEN_SECONDS * 1000)),
        "X-HubSpot-RateLimit-Max": str(account.rate_limit),
        "X-HubSpot-RateLimit-Remaining": str(admission.remaining),
        "X-HubSpot-RateLimit-Secondly": str(secondly_limit(account.rate_limit)),
        "X-HubSpot-RateLimit-Secondly-Remaining": str(admission.secondly_remaining),
    }


def _authenticate(request: HttpRequest, slug: str) -> HsAccount:
    account = HsAccount.objects.filter(slug=slug).first()
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if account is None or scheme.lower() != "bearer" or not token or not secrets.compare_digest(token.strip(), account.token):
        raise errors.unauthenticated()
    return account


def _inject_fault(account: HsAccount, headers: dict[str, str]) -> bool:
    """Refuse the call (429, 502/503) or slow it if the account's fault settings say so
    (:mod:`connectors.sandbox.faults`); True if its answer must hang."""
    outcome = faults.fault_draw(account)
    if outcome == faults.LIMIT:
        raise errors.injected_limit(account.portal_id, headers)
    if outcome == faults.ERROR:
        raise errors.server_unavailable(faults.fault_variant(account, (502, 503)))
    return outcome == faults.HANG


def api_endpoint(*methods: str, search: bool = False,
                 setup: bool = False) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Wrap a view ``view(api: ApiRequest, **kwargs)`` that answers ``methods``; ``search``
    puts it under the search limit instead of the ten-second bucket; a ``setup`` call
    (webhook settings, account details) gets injected faults only if the account asks."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @functools.wraps(view)
        def endpoint(request: HttpRequest, account: str, **kwargs: Any) -> HttpResponse:
            headers: dict[str, str] = {}
            hangs, target = False, None
            try:
                target = _authenticate(request, account)
                if search:
                    wait = limiter.admit_search(target.slug, target.search_rate_limit)
                    if wait is not None:
                        raise errors.secondly(wait)
                else:
                    admission = limiter.admit_api(target.slug, target.rate_limit, target.daily_limit)
                    headers = _rate_headers(target, admission)
                    if admission.wait is not None:
                        if admission.daily_remaining == 0:
                            raise errors.daily(admission.wait, target.portal_id, headers)
                        raise errors.ten_secondly(admission.wait, target.portal_id, headers)
                if not setup or target.faults_on_auth:
                    hangs = _inject_fault(target, headers)
                if request.method not in methods:
                    raise errors.method_not_allowed(request.method or "")
                api = ApiRequest(request, target)
                with transaction.atomic(), (one_instant() if target.one_instant_per_request else nullcontext()):
                    response = view(api, **kwargs)
                    api.events.flush()
            except ApiError as error:
                response = json_response(error.body, error.status, {**headers, **error.headers})
            except Exception:
                logger.exception("Sandbox HubSpot API failed on %s %s", request.method, request.path)
                error = errors.server_error()
                response = json_response(error.body, error.status, headers)
            else:
                for name, value in headers.items():
                    response[name] = value
            if hangs:
                faults.hang(target)
            return response

        return endpoint

    return decorate
