"""The API's front door, shared by every ``/activecampaign/<account>/api/3/`` resource.

``api_endpoint`` finds the account, checks the ``Api-Token`` header (403), admits the call
under the account's rate limit (429 + ``Retry-After``), runs the view and turns errors into
the vendor's JSON. Views get an :class:`ApiRequest`.
"""
from __future__ import annotations

import functools
import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any, Callable

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from connectors.sandbox import faults
from connectors.sandbox.models.activecampaign import AcAccount

from . import errors
from .errors import ApiError
from .ratelimit import limiter
from .shapes import Shapes

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(json.dumps(body), status=status, content_type="application/json")
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def error_response(error: ApiError) -> HttpResponse:
    return json_response(error.body, error.status, error.headers)


def origin(request: HttpRequest) -> str:
    """``scheme://host[:port]`` as the client reached the sandbox (the Host header as sent,
    not checked against the portal's ALLOWED_HOSTS)."""
    host = request.META.get("HTTP_HOST") or f"{request.META['SERVER_NAME']}:{request.META['SERVER_PORT']}"
    return f"{request.scheme}://{host}"


@dataclass
class ApiRequest:
    """One authenticated, admitted API request: the account and how to render for it."""

    request: HttpRequest
    account: AcAccount

    @property
    def shapes(self) -> Shapes:
        return Shapes(self.account, f"{origin(self.request)}/activecampaign/{self.account.slug}/api/3")

    @property
    def params(self):
        return self.request.GET

    def json(self) -> Any:
        try:
            return json.loads(self.request.body or b"{}")
        except ValueError:
            raise errors.bad_json() from None

    def body_object(self, key: str) -> dict[str, Any]:
        """``body[key]`` of a ``{"key": {...}}`` body; 422 if it is missing."""
        body = self.json()
        data = body.get(key) if isinstance(body, dict) else None
        if not isinstance(data, dict):
            # (emulator) wording
            raise errors.validation(f"The {key} object is required.", code="field_missing", pointer="/data/attributes")
        return data

    def limit_offset(self) -> tuple[int, int]:
        """``limit`` (default 20, at most 100) and ``offset`` (0-based) of a list request."""
        limit = _int(self.params.get("limit"), DEFAULT_LIMIT)
        return min(limit if limit > 0 else DEFAULT_LIMIT, MAX_LIMIT), max(_int(self.params.get("offset"), 0), 0)

    def page(self, rows: QuerySet) -> tuple[list[Any], int]:
        """One page of ``rows`` and the total count."""
        limit, offset = self.limit_offset()
        return list(rows[offset:offset + limit]), rows.count()


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


def _authenticate(request: HttpRequest, slug: str) -> AcAccount:
    account = AcAccount.objects.filter(slug=slug).first()
    token = request.headers.get("Api-Token", "")
    if account is None or not token or not secrets.compare_digest(token, account.api_key):
        raise errors.forbidden()
    wait = limiter.admit(account.slug, account.rate_limit)
    if wait is not None:
        raise errors.rate_limited(wait)
    return account


def _inject_fault(account: AcAccount) -> bool:
    """Refuse the call (429, 502/503) or slow it if the account's fault settings say so
    (:mod:`connectors.sandbox.faults`); True if its answer must hang."""
    outcome = faults.fault_draw(account)
    if outcome == faults.LIMIT:
        raise errors.rate_limited(1)
    if outcome == faults.ERROR:
        raise errors.server_unavailable(faults.fault_variant(account, (502, 503)))
    return outcome == faults.HANG


def api_endpoint(*methods: str, setup: bool = False) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Wrap a view ``view(api: ApiRequest, **kwargs)`` that answers ``methods``; a ``setup``
    call (webhooks, users/me) gets injected faults only if the account asks."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @functools.wraps(view)
        def endpoint(request: HttpRequest, account: str, **kwargs: Any) -> HttpResponse:
            hangs, target = False, None
            try:
                target = _authenticate(request, account)
                if not setup or target.faults_on_auth:
                    hangs = _inject_fault(target)
                api = ApiRequest(request, target)
                if request.method not in methods:
                    raise errors.method_not_allowed(request.method or "")
                response = view(api, **kwargs)
            except ApiError as error:
                response = error_response(error)
            except Exception:
                logger.exception("Sandbox ActiveCampaign API failed on %s %s", request.method, request.path)
                response = error_response(errors.server_error())
            if hangs:
                faults.hang(target)
            return response

        return endpoint

    return decorate
