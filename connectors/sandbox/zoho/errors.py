"""Zoho's error answers.

Zoho CRM answers ``{"code","details","message","status":"error"}`` with a meaningful HTTP
status (developers' "Status codes" page); per-record outcomes of a write come inside
``{"data":[…]}`` with the same keys. Zoho Campaigns wraps every answer in an envelope
``{"code","message","status","uri","version"}`` and answers most errors with HTTP 200,
so a client must read ``status``/``code``. The accounts server answers a refused grant
``{"error":"invalid_code"}``, also with HTTP 200. Wording the docs do not show is marked
(emulator).
"""
from __future__ import annotations

from typing import Any


class CrmError(Exception):
    """A CRM request answered with ``status`` and ``{"code","details","message","status"}``."""

    def __init__(self, status: int, code: str, message: str, details: dict | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message
        self.details = details or {}
        self.headers = headers or {}

    @property
    def body(self) -> dict[str, Any]:
        return {"code": self.code, "details": self.details, "message": self.message, "status": "error"}


def invalid_token() -> CrmError:
    return CrmError(401, "INVALID_TOKEN", "invalid oauth token")


def authentication_failure() -> CrmError:
    return CrmError(401, "AUTHENTICATION_FAILURE", "Authentication failed")


def invalid_module(module: str) -> CrmError:
    return CrmError(400, "INVALID_MODULE", "the module name given seems to be invalid", {"module": module})


def invalid_url() -> CrmError:
    return CrmError(404, "INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one")


def method_not_allowed() -> CrmError:
    return CrmError(405, "INVALID_REQUEST_METHOD", "The http request method type is not a valid one")


def invalid_data(message: str, **details: Any) -> CrmError:
    return CrmError(400, "INVALID_DATA", message, details)


def invalid_request(message: str, **details: Any) -> CrmError:
    return CrmError(400, "INVALID_REQUEST", message, details)


def mandatory_not_found(api_name: str) -> CrmError:
    return CrmError(400, "MANDATORY_NOT_FOUND", "required field not found", {"api_name": api_name})


def limit_exceeded(limit: int) -> CrmError:
    return CrmError(400, "LIMIT_EXCEEDED", f"the number of records exceeds the limit of {limit}", {"limit": limit})


def pagination_limit() -> CrmError:
    """Paging by ``page`` past the first 2,000 records: use ``page_token`` (v3+ wording)."""
    return CrmError(400, "DISCRETE_PAGINATION_LIMIT_EXCEEDED",
                    "You can fetch only 2000 records using the page parameter; use page_token to fetch more",
                    {"limit": 2000})


def invalid_page_token() -> CrmError:
    return CrmError(400, "INVALID_DATA", "invalid page token", {"param_name": "page_token"})  # (emulator) wording


def too_many_requests() -> CrmError:
    return CrmError(429, "TOO_MANY_REQUESTS", "The number of API requests has exceeded the allowed limit",  # (emulator)
                    {}, {"Retry-After": "1"})


def internal_error(status: int = 500) -> CrmError:
    return CrmError(status, "INTERNAL_ERROR", "Internal Server Error")


def syntax_error(message: str) -> CrmError:
    """A COQL statement the subset does not understand."""
    return CrmError(400, "SYNTAX_ERROR", message)


# --- per-record outcomes ------------------------------------------------------------------------
def record_success(action: str, details: dict[str, Any], *, duplicate_field: str | None = None,
                   upsert: bool = False) -> dict[str, Any]:
    message = {"insert": "record added", "update": "record updated", "delete": "record deleted"}[action]
    entry: dict[str, Any] = {"code": "SUCCESS", "details": details, "message": message, "status": "success"}
    if upsert:
        entry["action"] = action
        entry["duplicate_field"] = duplicate_field
    return entry


def record_error(code: str, message: str, **details: Any) -> dict[str, Any]:
    return {"code": code, "details": details, "message": message, "status": "error"}


# --- Campaigns ------------------------------------------------------------------------------------
class CampaignsError(Exception):
    """A Campaigns request answered with an error envelope (HTTP 200 unless ``http_status``)."""

    def __init__(self, code: str, message: str, http_status: int = 200):
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.http_status = code, message, http_status

    def body(self, uri: str) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "status": "error", "uri": uri, "version": "1.1"}


CAMPAIGNS_MESSAGES = {
    "903": "Mandatory parameter missing.",
    "1004": "Unable to find the resource you're looking for. Please recheck the documentation and try again.",
    "1005": "Invalid data type.",
    "1007": "Unauthorized access. Please check the authorization token.",  # (emulator) wording
    "2001": "Subscription error. Please try again.",
    "2003": "Contact exists in this list.",
    "2103": "Contact does not exist.",
    "2203": "This list has been deleted.",
    "2206": "This list has been deleted.",
    "2501": "Listkey is empty or invalid.",
    "2602": "No segments found for this list.",
    "2604": "This segment has no contacts.",
    "2606": "Invalid segment id.",  # (emulator)
    "2302": "Contact limit reached.",
}


def campaigns(code: str, message: str | None = None, http_status: int = 200) -> CampaignsError:
    return CampaignsError(code, message or CAMPAIGNS_MESSAGES.get(code, "Error."), http_status)


def locked(method: str, seconds: float) -> CampaignsError:
    """A method called more often than its limit allows is locked for its lock period
    (each method's documentation gives duration, number of calls and lock period). The
    envelope's code and wording are (emulator)."""
    minutes = max(1, round(seconds / 60))
    return CampaignsError("429", f"API limit of {method} reached; the method is locked for {minutes} minutes.")
