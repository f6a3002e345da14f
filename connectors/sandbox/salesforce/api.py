"""The REST API's front door, shared by every ``/services/data/vNN.N/`` resource.

``rest_endpoint`` checks the version and the ``Authorization: Bearer`` token, admits the
call (faults, daily limit), runs the view and turns errors into Salesforce's JSON arrays,
and puts ``Sforce-Limit-Info`` on the answer. Views get an :class:`ApiRequest`.
"""
from __future__ import annotations

import functools
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from django.http import HttpRequest, HttpResponse

from connectors.sandbox import faults
from connectors.sandbox.models import SandboxOrg

from . import access, errors
from .errors import ApiError, RecordError
from .records import MultipleMatches, RecordService
from .schema import OrgSchema, SObjectSchema

logger = logging.getLogger(__name__)

SUPPORTED_VERSIONS = tuple(f"{major}.0" for major in range(20, 63))
JSON_CONTENT_TYPE = "application/json;charset=UTF-8"


def json_response(body: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(body), status=status, content_type=JSON_CONTENT_TYPE)


def error_response(error: ApiError | RecordError) -> HttpResponse:
    if isinstance(error, MultipleMatches):
        return json_response(error.urls, 300)
    if isinstance(error, RecordError):
        error = ApiError.from_record_error(error)
    return json_response(error.body(), error.status)


def origin(request: HttpRequest) -> str:
    """``scheme://host[:port]`` the client used to reach the sandbox.

    Read from the Host header as sent: the sandbox answers to whatever name it is reached
    by (a container name, a tunnel), where Django's ``get_host()`` would check the portal's
    ALLOWED_HOSTS.
    """
    host = request.META.get("HTTP_HOST") or f"{request.META['SERVER_NAME']}:{request.META['SERVER_PORT']}"
    return f"{request.scheme}://{host}"


def bearer_token(request: HttpRequest) -> str:
    """The token of ``Authorization: Bearer …`` (or the older ``OAuth …``)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() in ("bearer", "oauth") else ""


@dataclass
class ApiRequest:
    """One authenticated API request: the org, its schema, the API version, the caller."""

    request: HttpRequest
    org: SandboxOrg
    schema: OrgSchema
    version: str
    user_id: str

    def records(self) -> RecordService:
        header = self.request.headers.get("Sforce-Duplicate-Rule-Header", "")
        allow_save = "allowsave=true" in header.replace(" ", "").lower()
        return RecordService(
            self.org, self.schema, user_id=self.user_id, api_version=self.version, allow_duplicates=allow_save,
        )

    def sobject(self, name: str) -> SObjectSchema:
        obj = self.schema.sobject(name)
        if obj is None:
            raise errors.unknown_sobject()
        return obj

    def json(self) -> Any:
        try:
            return json.loads(self.request.body or b"null")
        except ValueError as error:
            message = f"Unexpected character: {error.msg} at [line:{error.lineno}, column:{error.colno}]"
            raise errors.json_parser_error(message) from None

    def json_object(self) -> dict[str, Any]:
        body = self.json()
        if not isinstance(body, dict):
            raise errors.json_parser_error("Cannot deserialize instance of SObject from START_ARRAY value")
        return body


def unexpected_error() -> ApiError:
    error_id = uuid.uuid4().int % 10**10
    return ApiError.of(
        500, "UNKNOWN_EXCEPTION",
        f"An unexpected error occurred. Please include this ErrorId if you contact support: {error_id}-0 (-{error_id})",
    )


def rest_endpoint(*methods: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Wrap a view ``view(api: ApiRequest, **kwargs)`` answering ``methods``."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def endpoint(request: HttpRequest, version: str, **kwargs: Any) -> HttpResponse:
            if version not in SUPPORTED_VERSIONS:
                return error_response(ApiError.from_record_error(errors.not_found()))
            if request.method not in methods:
                return error_response(
                    ApiError.of(
                        405, "METHOD_NOT_ALLOWED",
                        f"HTTP Method '{request.method}' not allowed. Allowed are {','.join(methods)}",
                    )
                )
            token = access.token_resolve(bearer_token(request))
            if token is None:
                return error_response(errors.invalid_session())
            org = token.org
            usage, hangs = None, False
            try:
                usage, hangs = access.api_call(org)
                response = view(ApiRequest(request, org, OrgSchema.load(org), version, token.user_id), **kwargs)
            except (ApiError, RecordError) as error:
                response = error_response(error)
            except Exception:
                logger.exception("Sandbox Salesforce API failed on %s %s", request.method, request.path)
                response = error_response(unexpected_error())
            response["Sforce-Limit-Info"] = (usage or access.usage(org)).header()
            if hangs:
                faults.hang(org)
            return response

        return endpoint

    return decorate

