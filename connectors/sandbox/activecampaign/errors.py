"""ActiveCampaign's error answers (developers.activecampaign.com/reference/errors).

Validation failures are ``{"errors":[{"title","detail","code","source":{"pointer"}}]}``
(400 or 422); a missing object is 404 ``{"message":"No Result found for Contact with id 999"}``;
a refused key is 403 ``{"message": ...}``; a throttled call is 429. Titles the vendor does not
document are worded in the same style and marked (emulator) where they are made.
"""
from __future__ import annotations

import math
from typing import Any


class ApiError(Exception):
    """A request answered with ``status`` and JSON ``body`` (and optional headers)."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}


def validation(title: str, *, code: str, pointer: str = "", detail: str = "", status: int = 422) -> ApiError:
    error: dict[str, Any] = {"title": title, "detail": detail, "code": code}
    if pointer:
        error["source"] = {"pointer": pointer}
    return ApiError(status, {"errors": [error]})


def duplicate_email() -> ApiError:
    return validation(
        "Email address already exists in the system.", code="duplicate", pointer="/data/attributes/email",
    )


def not_found(kind: str, object_id: Any) -> ApiError:
    return ApiError(404, {"message": f"No Result found for {kind} with id {object_id}"})


def forbidden() -> ApiError:
    return ApiError(403, {"message": "You are not authorized to access this resource"})


def rate_limited(retry_after: float) -> ApiError:
    seconds = max(1, math.ceil(retry_after))
    return ApiError(429, {"message": "Too Many Requests"}, {"Retry-After": str(seconds)})


def method_not_allowed(method: str) -> ApiError:
    return ApiError(405, {"message": f"Method {method} is not allowed on this resource"})


def bad_json() -> ApiError:
    # (emulator) wording: the vendor answers 400 to a body it cannot read.
    return validation("The request body is not valid JSON.", code="invalid_json", status=400)


def server_error() -> ApiError:
    return ApiError(500, {"message": "An unexpected error occurred."})


def server_unavailable(status: int) -> ApiError:
    """An injected 502 or 503 (emulator wording: the vendor's gateway pages are not documented)."""
    return ApiError(status, {"message": {502: "Bad Gateway", 503: "Service Temporarily Unavailable"}[status]})
