"""Field values on the wire: Salesforce's datetime format and checking written values.

``coerce`` turns a JSON (or SOAP text) value into what the record stores, or raises the
error Salesforce gives for it: JSON_PARSER_ERROR for a value of the wrong kind,
STRING_TOO_LONG, INVALID_EMAIL_ADDRESS, INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST, MALFORMED_ID.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from typing import Any

from . import ids
from .errors import ErrorDetail, RecordError
from .schema import NUMBER_TYPES, TEXT_TYPES, FieldSpec

# Salesforce's own datetime format: 2013-05-20T20:49:32.000+0000 (REST API guide, "Valid Date and DateTime Formats").
_EMAIL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def now() -> datetime:
    """The current UTC time, truncated to milliseconds as Salesforce keeps it."""
    moment = datetime.now(timezone.utc)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def format_datetime(moment: datetime) -> str:
    moment = moment.astimezone(timezone.utc)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}+0000"


def parse_datetime(text: str) -> datetime | None:
    """ISO 8601 and Salesforce's ``+0000`` form; naive values are UTC. ``None`` if unparseable."""
    text = text.strip().replace(" ", "+")  # a "+" in a query string arrives as a space
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _parser_error(kind: str, value: Any) -> RecordError:
    token = "VALUE_STRING" if isinstance(value, str) else "VALUE_NUMBER_INT" if isinstance(value, int) else "START_OBJECT"
    return RecordError(
        ErrorDetail(
            "JSON_PARSER_ERROR",
            f"Cannot deserialize instance of {kind} from {token} value {value} or request may be missing a required field",
        )
    )


def coerce(spec: FieldSpec, value: Any) -> Any:
    """The stored form of ``value`` written to ``spec``; raises :class:`RecordError`."""
    if value is None or value == "":
        return False if spec.type == "boolean" else None
    if spec.type == "boolean":
        return _boolean(value)
    if spec.type in NUMBER_TYPES:
        return _number(spec, value)
    if spec.type == "date":
        return _date(value)
    if spec.type == "datetime":
        moment = parse_datetime(value) if isinstance(value, str) else None
        if moment is None:
            raise _parser_error("datetime", value)
        return format_datetime(moment)
    if spec.type in ("reference", "id"):
        return _reference(spec, value)
    if spec.type in TEXT_TYPES:
        return _text(spec, value)
    raise _parser_error(spec.type, value)


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _parser_error("boolean", value)


def _number(spec: FieldSpec, value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _parser_error("double", value)
    try:
        number = float(value)
    except ValueError:
        raise _parser_error("double", value) from None
    return int(number) if spec.type == "int" and number.is_integer() else number


def _date(value: Any) -> str:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10]).isoformat()
        except ValueError:
            pass
    raise _parser_error("date", value)


def _reference(spec: FieldSpec, value: Any) -> str:
    if not ids.is_id(value) or (spec.reference_to and ids.sobject_of(value) not in spec.reference_to):
        raise RecordError(
            ErrorDetail("MALFORMED_ID", f"{spec.label}: id value of incorrect type: {value}", [spec.name])
        )
    return ids.to18(value)


def _text(spec: FieldSpec, value: Any) -> str:
    if isinstance(value, (dict, list)):
        raise _parser_error("string", value)
    text = value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
    if spec.length and len(text) > spec.length:
        raise RecordError(
            ErrorDetail(
                "STRING_TOO_LONG", f"{spec.label}: data value too large: {text} (max length={spec.length})", [spec.name]
            )
        )
    if spec.type == "email" and not _EMAIL.fullmatch(text):
        raise RecordError(ErrorDetail("INVALID_EMAIL_ADDRESS", f"{spec.label}: invalid email address: {text}", [spec.name]))
    if spec.restricted and text not in spec.picklist:
        raise RecordError(
            ErrorDetail(
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"{spec.label}: bad value for restricted picklist field: {text}",
                [spec.name],
            )
        )
    return text
