"""HubSpot's error answers: the envelope ``{"status":"error","message","correlationId",
"category", …}`` (developers.hubspot.com, "Error handling"); bodies the vendor is known to
send are copied word for word (409 ``Contact already exists. Existing ID: N``, the 429
bodies, ``PROPERTY_DOESNT_EXIST``). Wording the docs do not show is marked (emulator).
"""
from __future__ import annotations

import json
import math
import uuid
from typing import Any

AUTH_MESSAGE = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more "
    "details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)


class ApiError(Exception):
    """A request answered with ``status`` and JSON ``body`` (and optional headers)."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(f"{status}: {body.get('message')}")
        self.status = status
        self.body = body
        self.headers = headers or {}


def envelope(message: str, category: str, **extra: Any) -> dict[str, Any]:
    return {"status": "error", "message": message, "correlationId": str(uuid.uuid4()), "category": category, **extra}


def standard_error(message: str, category: str, *, context: dict[str, list[str]] | None = None,
                   errors: list[dict] | None = None) -> dict[str, Any]:
    """One entry of a batch answer's ``errors`` (the client's StandardError shape)."""
    return {"status": "error", "category": category, "message": message, "context": context or {}, "links": {},
            "errors": errors or []}


def unauthenticated() -> ApiError:
    return ApiError(401, envelope(AUTH_MESSAGE, "INVALID_AUTHENTICATION"))


def not_found(message: str = "resource not found") -> ApiError:
    return ApiError(404, envelope(message, "OBJECT_NOT_FOUND"))


def validation(message: str, *, errors: list[dict] | None = None, **extra: Any) -> ApiError:
    body = envelope(message, "VALIDATION_ERROR", **extra)
    if errors:
        body["errors"] = errors
    return ApiError(400, body)


def contact_exists(existing_id: int) -> ApiError:
    return ApiError(409, envelope(f"Contact already exists. Existing ID: {existing_id}", "CONFLICT"))


def property_errors(problems: list[dict[str, str]]) -> ApiError:
    """400 for property values the account refuses; each problem has ``name``, ``error``
    (PROPERTY_DOESNT_EXIST, READ_ONLY_VALUE, INVALID_OPTION, …) and ``message``."""
    listed = [{"isValid": False, "message": p["message"], "error": p["error"], "name": p["name"],
               "localizedErrorMessage": p["message"]} for p in problems]
    return validation(
        f"Property values were not valid: {json.dumps(listed, separators=(',', ':'))}",
        errors=[{"message": p["message"], "code": p["error"], "context": {"propertyName": [p["name"]]}} for p in problems],
    )


def ten_secondly(retry_after: float, portal_id: int, headers: dict[str, str]) -> ApiError:
    body = {
        "status": "error", "message": "You have reached your ten_secondly_rolling limit.", "errorType": "RATE_LIMIT",
        "correlationId": str(uuid.uuid4()), "policyName": "TEN_SECONDLY_ROLLING",
        "groupName": f"privateapps-api-calls:{portal_id}",
    }
    return ApiError(429, body, {**headers, "Retry-After": str(max(1, math.ceil(retry_after)))})


def daily(retry_after: float, portal_id: int, headers: dict[str, str]) -> ApiError:
    body = {
        "status": "error", "message": "You have reached your daily limit.", "errorType": "RATE_LIMIT",
        "correlationId": str(uuid.uuid4()), "policyName": "DAILY", "groupName": f"privateapps-api-calls:{portal_id}",
    }
    return ApiError(429, body, {**headers, "Retry-After": str(max(1, math.ceil(retry_after)))})


def secondly(retry_after: float) -> ApiError:
    body = envelope("You have reached your secondly limit.", "RATE_LIMITS")
    return ApiError(429, body, {"Retry-After": str(max(1, math.ceil(retry_after)))})


def method_not_allowed(method: str) -> ApiError:
    return ApiError(405, envelope(f"HTTP method {method} is not supported by this resource", "VALIDATION_ERROR"))


def bad_json() -> ApiError:
    return validation("Invalid input JSON on line 1: the body could not be parsed.")  # (emulator) wording


def server_error() -> ApiError:
    return ApiError(500, envelope("internal error", "INTERNAL_ERROR"))


def injected_limit(portal_id: int, headers: dict[str, str]) -> ApiError:
    """An injected 429: the ten-second body, with ``category`` RATE_LIMITS as the secondly
    variant carries it, the rate headers showing nothing left and ``Retry-After: 1``."""
    body = {
        "status": "error", "message": "You have reached your ten_secondly_rolling limit.", "errorType": "RATE_LIMIT",
        "correlationId": str(uuid.uuid4()), "policyName": "TEN_SECONDLY_ROLLING", "category": "RATE_LIMITS",
        "groupName": f"privateapps-api-calls:{portal_id}",
    }
    drained = {name: "0" if name.endswith("-Remaining") and "Daily" not in name else value
               for name, value in headers.items()}
    return ApiError(429, body, {**drained, "Retry-After": "1"})


def server_unavailable(status: int) -> ApiError:
    """An injected 502 or 503 (emulator wording: the vendor's gateway pages are not documented)."""
    message = {502: "Bad Gateway", 503: "Service Unavailable: the request could not be served; please retry."}[status]
    return ApiError(status, envelope(message, "INTERNAL_ERROR" if status == 502 else "SERVICE_UNAVAILABLE"))
