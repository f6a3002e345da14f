"""Salesforce's errors, in the shapes its REST API, sObject Collections and SOAP use.

A record-level failure (validation, duplicate, missing record) is an :class:`ErrorDetail`
carried by :class:`RecordError`; REST answers it as ``[{"message","errorCode","fields"}]``,
Collections as ``{"statusCode","message","fields"}`` per record. Request-level failures
(bad token, exhausted limit, malformed request) are :class:`ApiError` with an HTTP status.
Codes and wording follow the REST API Developer Guide's "Status Codes and Error Responses".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ErrorDetail:
    """One Salesforce error: ``code`` (errorCode / statusCode), ``message``, ``fields``.

    ``fields`` is ``None`` when Salesforce leaves the key out of a REST error; ``extra``
    holds additional keys such as ``duplicateResult``.
    """

    code: str
    message: str
    fields: list[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_rest(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "errorCode": self.code}
        if self.fields is not None:
            body["fields"] = self.fields
        body.update(self.extra)
        return body

    def as_collection(self) -> dict[str, Any]:
        return {"statusCode": self.code, "message": self.message, "fields": self.fields or [], **self.extra}


class RecordError(Exception):
    """A write or read of one record failed; ``status`` is the REST status for a single call."""

    def __init__(self, detail: ErrorDetail, *, status: int = 400):
        super().__init__(f"{detail.code}: {detail.message}")
        self.detail = detail
        self.status = status


class ApiError(Exception):
    """A whole request failed: answered with ``status`` and a JSON array of ``details``."""

    def __init__(self, status: int, *details: ErrorDetail):
        super().__init__(", ".join(f"{d.code}: {d.message}" for d in details))
        self.status = status
        self.details = list(details)

    @classmethod
    def of(cls, status: int, code: str, message: str) -> ApiError:
        return cls(status, ErrorDetail(code, message))

    @classmethod
    def from_record_error(cls, error: RecordError) -> ApiError:
        return cls(error.status, error.detail)

    def body(self) -> list[dict[str, Any]]:
        return [detail.as_rest() for detail in self.details]


# --- the common ones, worded as Salesforce words them ------------------------------------
def not_found() -> RecordError:
    return RecordError(ErrorDetail("NOT_FOUND", "The requested resource does not exist"), status=404)


def entity_is_deleted() -> RecordError:
    return RecordError(ErrorDetail("ENTITY_IS_DELETED", "entity is deleted", []), status=404)


def malformed_id(sobject: str, value: str) -> RecordError:
    return RecordError(ErrorDetail("MALFORMED_ID", f"{sobject} ID: id value of incorrect type: {value}", ["Id"]))


def no_such_column(field_name: str, sobject: str) -> RecordError:
    return RecordError(ErrorDetail("INVALID_FIELD", f"No such column '{field_name}' on sobject of type {sobject}"))


def not_writable(field_names: list[str]) -> RecordError:
    return RecordError(
        ErrorDetail(
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            f"Unable to create/update fields: {', '.join(field_names)}. Please check the security settings "
            "of this field and verify that it is read/write for your profile or permission set.",
            field_names,
        )
    )


def bad_field_names(sobject: str, field_names: list[str]) -> RecordError:
    # Writing Name on a Person Account, or Person fields on a business account
    # (Salesforce Help, "Error 'bad field names' when you import Person Accounts").
    return RecordError(
        ErrorDetail(
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            f"{sobject}: bad field names on insert/update call: {', '.join(field_names)}",
            field_names,
        )
    )


def required_missing(field_names: list[str]) -> RecordError:
    return RecordError(
        ErrorDetail("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(field_names)}]", field_names)
    )


def unknown_sobject() -> ApiError:
    # An unknown object in a REST path is "not found", not INVALID_TYPE (that is SOQL's).
    return ApiError.of(404, "NOT_FOUND", "The requested resource does not exist")


def invalid_session() -> ApiError:
    return ApiError.of(401, "INVALID_SESSION_ID", "Session expired or invalid")


def limit_exceeded() -> ApiError:
    return ApiError.of(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")


def server_unavailable() -> ApiError:
    return ApiError.of(503, "SERVER_UNAVAILABLE", "Service Unavailable")


def json_parser_error(message: str) -> ApiError:
    return ApiError.of(400, "JSON_PARSER_ERROR", message)
