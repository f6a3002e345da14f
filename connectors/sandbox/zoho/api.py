"""The front doors of ``/zoho/<organisation>/crm/v2/…`` and ``…/campaigns/api/v1.1/…``.

``crm_endpoint`` checks ``Authorization: Zoho-oauthtoken <access token>`` (401
INVALID_TOKEN for an unknown or expired one), counts the call's API credits (429
TOO_MANY_REQUESTS past the day's), injects the organisation's faults, runs the view in one
transaction and turns errors into Zoho's JSON. ``campaigns_endpoint`` does the same in
Campaigns' words: every answer is an envelope, errors (the token's included) with HTTP
200, and each method has its own limit with a lock-out.
"""
from __future__ import annotations

import functools
import json
import logging
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, Callable

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from connectors.sandbox import faults
from connectors.sandbox.models.zoho import ZohoOrg

from . import errors
from .dates import one_instant
from .errors import CampaignsError, CrmError
from .notify import ChangeLog
from .oauth import api_domain, bearer
from .ratelimit import CAMPAIGNS_LIMITS, limiter

logger = logging.getLogger(__name__)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(json.dumps(body), status=status, content_type="application/json;charset=UTF-8")
    for name, value in (headers or {}).items():
        response[name] = value
    return response


@dataclass
class CrmRequest:
    """One authenticated, admitted CRM request."""

    request: HttpRequest
    org: ZohoOrg
    changes: ChangeLog = field(init=False)

    def __post_init__(self) -> None:
        self.changes = ChangeLog(self.org, self.domain)

    @property
    def domain(self) -> str:
        return api_domain(self.request, self.org)

    @property
    def params(self):
        return self.request.GET

    def json(self) -> Any:
        try:
            return json.loads(self.request.body or b"{}")
        except ValueError:
            raise errors.invalid_data("body is not a valid JSON") from None  # (emulator) wording


def _fault(org: ZohoOrg) -> tuple[str | None, bool]:
    outcome = faults.fault_draw(org)
    return outcome, outcome == faults.HANG


def crm_endpoint(*methods: str, credits: int = 1) -> Callable:
    """Wrap ``view(api: CrmRequest, **kwargs)`` answering ``methods``."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @functools.wraps(view)
        def endpoint(request: HttpRequest, org: str, **kwargs: Any) -> HttpResponse:
            hangs, target = False, ZohoOrg.objects.filter(slug=org).first()
            try:
                if target is None:
                    raise errors.invalid_url()
                problem = bearer(request, target)
                if problem:
                    raise errors.authentication_failure() if problem == "missing" else errors.invalid_token()
                if limiter.admit_crm(target.slug, target.crm_daily_credits, credits) is not None:
                    raise errors.too_many_requests()
                outcome, hangs = _fault(target)
                if outcome == faults.LIMIT:
                    raise errors.too_many_requests()
                if outcome == faults.ERROR:
                    raise errors.internal_error(faults.fault_variant(target, (500, 503)))
                if request.method not in methods:
                    raise errors.method_not_allowed()
                api = CrmRequest(request, target)
                with transaction.atomic(), (one_instant() if target.one_instant_per_request else nullcontext()):
                    response = view(api, **kwargs)
                    api.changes.flush()
            except CrmError as error:
                response = json_response(error.body, error.status, error.headers)
            except Exception:
                logger.exception("Sandbox Zoho CRM failed on %s %s", request.method, request.path)
                error = errors.internal_error()
                response = json_response(error.body, error.status)
            if hangs:
                faults.hang(target)
            return response

        return endpoint

    return decorate


@dataclass
class CampaignsRequest:
    """One authenticated, admitted Campaigns request; parameters from the query or a form."""

    request: HttpRequest
    org: ZohoOrg

    def param(self, name: str, default: str = "") -> str:
        return self.request.GET.get(name) or self.request.POST.get(name) or default

    def required(self, name: str) -> str:
        value = self.param(name).strip()
        if not value:
            raise errors.campaigns("903", f"Mandatory parameter {name} missing.")  # (emulator) wording
        return value


def campaigns_endpoint(method: str) -> Callable:
    """Wrap ``view(api: CampaignsRequest) -> dict`` (the success body without the envelope's
    ``uri`` and ``version``) as the Campaigns API method ``method``."""

    def decorate(view: Callable[..., dict]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @functools.wraps(view)
        def endpoint(request: HttpRequest, org: str, **kwargs: Any) -> HttpResponse:
            uri = "/api/v1.1/" + request.path.split("/api/v1.1/", 1)[-1]
            hangs, target = False, ZohoOrg.objects.filter(slug=org).first()
            try:
                if target is None:
                    raise errors.campaigns("1004")
                if request.method not in ("GET", "POST"):
                    raise errors.campaigns("1004")
                if bearer(request, target):
                    raise errors.campaigns("1007")
                limit = tuple(target.campaigns_limits.get(method) or CAMPAIGNS_LIMITS[method])
                locked = limiter.admit_method(target.slug, method, limit)  # type: ignore[arg-type]
                if locked is not None:
                    raise errors.locked(method, locked)
                outcome, hangs = _fault(target)
                if outcome == faults.LIMIT:
                    raise CampaignsError("429", "Too many requests. Please try again after some time.", 429)  # (emulator)
                if outcome == faults.ERROR:
                    status = faults.fault_variant(target, (500, 503))
                    raise CampaignsError(str(status), "Internal error. Please try again.", status)  # (emulator)
                fmt = (CampaignsRequest(request, target).param("resfmt") or "JSON").upper()
                if fmt != "JSON":
                    raise errors.campaigns("1005", "The sandbox answers resfmt=JSON only.")
                with transaction.atomic():
                    body = view(CampaignsRequest(request, target), **kwargs)
                response = json_response({**body, "uri": uri, "version": "1.1"})
            except CampaignsError as error:
                response = json_response(error.body(uri), error.http_status)
            except Exception:
                logger.exception("Sandbox Zoho Campaigns failed on %s %s", request.method, request.path)
                response = json_response(errors.CampaignsError("500", "Internal error.").body(uri), 500)
            if hangs:
                faults.hang(target)
            return response

        return endpoint

    return decorate
