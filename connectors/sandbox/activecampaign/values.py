"""What a client may write on a contact: the ``{"contact": {...}}`` body read and checked,
custom field values included (multi-value fields as ``||A||B||``, dates as YYYY-MM-DD)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from connectors.sandbox.models.activecampaign import AcAccount, AcField

from . import errors
from .schema import CHOICE_TYPES, MULTI_VALUE_TYPES

EMAIL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
STANDARD = {"firstName": "first_name", "lastName": "last_name", "phone": "phone"}
MAX_LENGTH = 255


@dataclass
class ContactInput:
    """The writable parts of a contact a request named; ``None`` means "not sent"."""

    email: str | None = None
    standard: dict[str, str] = field(default_factory=dict)  # model attribute → value
    field_values: list[tuple[AcField, str]] = field(default_factory=list)


def contact_input(account: AcAccount, body: Any, *, require_email: bool) -> ContactInput:
    """Read ``{"contact": {...}}``; raises ApiError 422 with the vendor's error shape."""
    data = body.get("contact") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        # (emulator) wording
        raise errors.validation("Contact data is required.", code="field_missing", pointer="/data/attributes")
    parsed = ContactInput()
    if "email" in data or require_email:
        parsed.email = checked_email(data.get("email"))
    for key, attribute in STANDARD.items():
        if key in data:
            parsed.standard[attribute] = _text(data[key], key)
    values = data.get("fieldValues") or []
    if not isinstance(values, list):
        raise errors.validation("fieldValues must be a list.", code="field_invalid", pointer="/data/attributes/fieldValues")
    fields = {str(f.number): f for f in AcField.objects.filter(account=account)}
    for index, item in enumerate(values):
        pointer = f"/data/attributes/fieldValues/{index}"
        spec = fields.get(str(item.get("field"))) if isinstance(item, dict) else None
        if spec is None:
            # (emulator) wording: the vendor's answer to an unknown field id is not documented.
            raise errors.validation("Custom field does not exist.", code="field_invalid", pointer=f"{pointer}/field")
        parsed.field_values.append((spec, field_value(spec, item.get("value"), pointer=f"{pointer}/value")))
    return parsed


def checked_email(value: Any) -> str:
    email = value.strip() if isinstance(value, str) else ""
    if not email:
        raise errors.validation("Contact Email is required.", code="field_missing", pointer="/data/attributes/email")
    if len(email) > MAX_LENGTH or not EMAIL.fullmatch(email):
        raise errors.validation("Email address is not valid.", code="email_invalid", pointer="/data/attributes/email")
    return email


def text_value(value: Any, key: str) -> str:
    """A standard text value, stripped; 422 when longer than the vendor keeps."""
    return _text(value, key)


def _text(value: Any, key: str) -> str:
    text = "" if value is None else str(value).strip()
    if len(text) > MAX_LENGTH:
        raise errors.validation(f"{key} is too long.", code="field_invalid", pointer=f"/data/attributes/{key}")
    return text


def field_value(spec: AcField, value: Any, *, pointer: str) -> str:
    """The stored form of ``value`` for ``spec``; options, dates and datetimes are checked.
    (emulator) The vendor's answers to a value outside a field's options are not documented."""
    text = "" if value is None else str(value).strip()
    if not text:
        return ""
    if spec.field_type in CHOICE_TYPES:
        allowed = set(spec.options.values_list("value", flat=True))
        chosen = [part for part in text.split("||") if part] if spec.field_type in MULTI_VALUE_TYPES else [text]
        if not chosen or any(part not in allowed for part in chosen):
            raise errors.validation(
                f"{spec.title}: value is not one of the field's options.", code="field_invalid", pointer=pointer,
            )
        return f"||{'||'.join(chosen)}||" if spec.field_type in MULTI_VALUE_TYPES else text
    try:
        if spec.field_type == "date":
            return date.fromisoformat(text).isoformat()
        if spec.field_type == "datetime":
            return datetime.fromisoformat(text.replace("Z", "+00:00")).isoformat()
    except ValueError:
        raise errors.validation(f"{spec.title}: not a valid date.", code="field_invalid", pointer=pointer) from None
    return text
