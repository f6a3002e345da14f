"""Pre-flight: each outgoing record checked against the target's own description of its
fields (the connector's ``describe``) before it is sent, so that a bad value fails its own
record alone, with a reason naming the field, the value (shortened) and the fix, and costs
no API call and no place in a vendor batch.

What is checked, for the fields a record would write: required fields left blank or only
whitespace, fields the target does not let the integration write, control characters (a
null byte is never sent), lengths, values of restricted picklists, and the shape of dates,
date-times, booleans, numbers, emails, phones and URLs. The vendor's own refusal stays the
last line of defence and is recorded the same way.

Emails are checked with ``email-validator`` (syntax only, no DNS): what it refuses no CRM
accepts. Some vendors are stricter (``Connector.ascii_email_only``: Salesforce refuses
addresses with non-ASCII characters).
"""
from __future__ import annotations

import math
import re
import unicodedata
import weakref
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email

from connectors.base import Connector, FieldDescription, NotSupported, ObjectDescription

SHOWN_CHARACTERS = 40  # of a value, in a reason
NUMBER_TYPES = ("double", "currency", "percent", "int", "long", "number")
_PHONE = re.compile(r"\+?[\d\s().\-/]+(?:\s*(?:ext\.?|x|#)\s*\d+)?", re.IGNORECASE)
_URL_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):", re.IGNORECASE)
_HOST = re.compile(r"^(?:[^\W_](?:[\w\-]*[^\W_])?\.)+[^\W\d_]{2,}(?::\d+)?$|^localhost(?::\d+)?$")
_ALLOWED_CONTROLS = "\t\n\r"
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# A number as the vendors parse one: ASCII digits, a point, an exponent. Not Python's float()
# (which also takes "1_000" and digits of every script, and the vendors refuse them).
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NOT_IN_URLS = '"<>\\^`{|}'  # never in a web address (RFC 3986, section 2): markup, for one

# Codes of a pre-flight refusal (``RecordError.code``). A required value missing and a
# read-only field have classes of their own; every other code is a value to correct.
PREFIX = "PREFLIGHT_"
REQUIRED = "PREFLIGHT_REQUIRED"
READ_ONLY = "PREFLIGHT_READ_ONLY"
INVALID = "PREFLIGHT_INVALID"  # a value of the wrong type or shape
TOO_LONG = "PREFLIGHT_TOO_LONG"
NOT_IN_PICKLIST = "PREFLIGHT_NOT_IN_PICKLIST"
CONTROL_CHARACTER = "PREFLIGHT_CONTROL_CHARACTER"
INVALID_EMAIL = "PREFLIGHT_INVALID_EMAIL"


@dataclass(frozen=True)
class Problem:
    """Why one field of a record may not be sent, and what would fix it."""

    field: str
    label: str
    value: Any
    reason: str
    fix: str
    code: str = INVALID

    @property
    def message(self) -> str:
        shown = "" if self.value is None else f" “{shorten(self.value)}”"
        return f"{self.label} ({self.field}){shown}: {self.reason} {self.fix}"


def shorten(value: Any) -> str:
    """A value as a reason shows it: control characters made visible, cut to a few words."""
    text = value if isinstance(value, str) else ";".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
    visible = "".join(f"\\x{ord(c):02x}" if _is_control(c) or c in _ALLOWED_CONTROLS else c for c in text)
    return visible if len(visible) <= SHOWN_CHARACTERS else f"{visible[:SHOWN_CHARACTERS - 1]}…"


def _is_control(character: str) -> bool:
    return character not in _ALLOWED_CONTROLS and unicodedata.category(character) == "Cc"


# --- the target's description, read once per connector --------------------------------------------
_descriptions: "weakref.WeakKeyDictionary[Connector, dict[str, ObjectDescription | None]]" = weakref.WeakKeyDictionary()


def description_of(connector: Connector, object_name: str) -> ObjectDescription | None:
    """The target object's description, asked of the vendor once per connector (so once per
    run); None where the vendor cannot describe it (nothing is checked before sending then)."""
    known = _descriptions.setdefault(connector, {})
    if object_name not in known:
        try:
            known[object_name] = connector.describe(object_name)
        except NotSupported:
            known[object_name] = None
    return known[object_name]


# --- checking -------------------------------------------------------------------------------------
def record_problems(description: ObjectDescription, values: dict[str, Any], *, creating: bool,
                    required_mapped: set[str] = frozenset(), ascii_email_only: bool = False,
                    upsert_key: str | None = None) -> list[Problem]:
    """Every problem of one outgoing record (``values`` by target field). On a create, the
    required fields among ``required_mapped`` (those the sync maps) must have a value, and so
    must ``upsert_key`` where a create goes by an upsert on it (a record without an email
    cannot be upserted by email, whatever the vendor requires of a record made otherwise)."""
    key = description.field(upsert_key) if creating and upsert_key else None

    def spec_of(name: str) -> FieldDescription | None:
        spec = description.field(name)
        return replace(spec, required=True) if spec is not None and spec == key else spec

    problems: list[Problem] = []
    for name, value in values.items():
        spec = spec_of(name)
        if spec is None:
            continue  # not described (an id field, a lookup by name): the vendor decides
        problem = field_problem(spec, value, creating=creating, ascii_email_only=ascii_email_only)
        if problem is not None:
            problems.append(problem)
    if creating:
        for name in sorted(set(required_mapped) | ({key.name} if key else set())):
            spec = spec_of(name)
            if spec is not None and spec.required and spec.name not in values and name not in values:
                problems.append(Problem(spec.name, spec.label, None, "is required and the record has no value for it.",
                                        "Fill it where the record comes from, or map a field that has a value.", REQUIRED))
    return problems


def field_problem(spec: FieldDescription, value: Any, *, creating: bool, ascii_email_only: bool = False) -> Problem | None:
    """The first problem of one value for one described field, or None."""
    def problem(reason: str, fix: str, code: str = INVALID) -> Problem:
        return Problem(spec.name, spec.label, value, reason, fix, code)

    if not (spec.createable if creating else spec.updateable):
        return problem(f"cannot be {'set on a new record' if creating else 'changed'} by the integration (read-only).",
                       "Remove it from the field mappings, or set its policy to “on create” / “never”.", READ_ONLY)
    blank = value is None or value == "" or value == [] or (isinstance(value, str) and not value.strip())
    if blank:
        if spec.required and spec.type != "boolean":
            what = "only whitespace" if isinstance(value, str) and value else "empty"
            return problem(f"is required and the value is {what}.", "Fill it where the record comes from.", REQUIRED)
        return None
    for text in _texts(value):
        bad = next((c for c in text if _is_control(c)), None)
        if bad is not None:
            return problem(f"holds a control character (\\x{ord(bad):02x}), which is never sent.",
                           "Remove it where the record comes from.", CONTROL_CHARACTER)
        # Line breaks and tabs pass: the vendors keep them even in one-line text fields.
    kind = spec.type
    if kind in NUMBER_TYPES:
        return _number_problem(spec, value, problem)
    if kind == "boolean":
        if isinstance(value, bool) or (isinstance(value, str) and value.strip().lower() in ("true", "false")):
            return None
        return problem("is not a yes/no value.", "Send true or false.")
    if kind == "date":
        if _is_date(value):
            return None
        what = "has a time of day; the field takes a date alone." if _is_datetime(value) else "is not a date."
        return problem(what, "Use the form YYYY-MM-DD, e.g. 2024-12-31.")
    if kind == "datetime":
        return None if _is_datetime(value) else problem(
            "is not a date and time.", "Use ISO 8601 with a time zone, e.g. 2024-12-31T17:30:00Z.")
    if isinstance(value, (dict, list, tuple)) and kind != "multipicklist":
        return problem("is a list or structure where one value is expected.", "Map a field holding one value.")
    text = value if isinstance(value, str) else str(value)
    if spec.length and len(text) > spec.length:
        return problem(f"is {len(text):,} characters long; the field takes at most {spec.length:,}.",
                       "Shorten it where the record comes from.", TOO_LONG)
    if kind == "email":
        return _email_problem(text, problem, ascii_only=ascii_email_only)
    if kind == "phone" and (not _PHONE.fullmatch(text.strip()) or sum(c.isdigit() for c in text) < 3):
        return problem("is not a phone number.", "Use digits with an optional leading + and spaces, e.g. +49 30 1234567.")
    if kind == "url":
        return _url_problem(text, problem)
    if kind in ("picklist", "multipicklist") and spec.restricted and spec.picklist_values:
        chosen = value if isinstance(value, (list, tuple)) else (text.split(";") if kind == "multipicklist" else [text])
        wrong = [v for v in (str(c) for c in chosen) if v not in spec.picklist_values]
        if wrong:
            near = next((p for p in spec.picklist_values if p.lower() == wrong[0].strip().lower()), None)
            allowed = ", ".join(spec.picklist_values[:8]) + (", …" if len(spec.picklist_values) > 8 else "")
            hint = f"Did you mean “{near}”? " if near else ""
            return problem(f"“{shorten(wrong[0])}” is not one of the field's values.",
                           f"{hint}Use one of: {allowed} (or add the value to the picklist).", NOT_IN_PICKLIST)
    return None


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, str)]
    return []


def _number_problem(spec: FieldDescription, value: Any, problem) -> Problem | None:
    if isinstance(value, bool):
        return problem("is a yes/no value where a number is expected.", "Map a number field.")
    if isinstance(value, str) and not _NUMBER.fullmatch(value.strip()):
        return problem("is not a number.", "Use digits with a decimal point, e.g. 1234.5.")
    try:
        number = float(value.strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        return problem("is not a number.", "Use digits with a decimal point, e.g. 1234.5.")
    if not math.isfinite(number):
        return problem("is not a finite number.", "Use digits with a decimal point, e.g. 1234.5.")
    if spec.type in ("int", "long") and not number.is_integer():
        return problem("is not a whole number.", "Use a whole number, e.g. 42.")
    return None


def _is_date(value: Any) -> bool:
    """A day alone: a time of day is refused, as ActiveCampaign refuses any and HubSpot one
    that is not midnight UTC (and a date field takes only a date, see ``setup``)."""
    if isinstance(value, date):
        return True
    if not isinstance(value, str):
        return False
    text = value.strip()
    if not _ISO_DATE.fullmatch(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _is_datetime(value: Any) -> bool:
    if isinstance(value, datetime):
        return True
    if not isinstance(value, str) or not _ISO_DATE.match(value.strip()) or len(value.strip()) <= 10:
        return False  # a date alone is no moment
    try:
        datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return False
    return True


def _email_problem(text: str, problem, *, ascii_only: bool) -> Problem | None:
    if text != text.strip():
        return problem("has spaces before or after the address.", "Remove them where the record comes from.",
                       INVALID_EMAIL)
    if ascii_only and not text.isascii():
        return problem("has characters outside ASCII, which the receiving system refuses in email addresses.",
                       "Use the address's ASCII form.", INVALID_EMAIL)
    try:
        validate_email(text, check_deliverability=False, test_environment=True)
    except EmailNotValidError as error:
        return problem(f"is not an email address: {error}", "Correct it where the record comes from.", INVALID_EMAIL)
    return None


def _url_problem(text: str, problem) -> Problem | None:
    stripped = text.strip()
    fix = "Use a web address such as https://example.com/page."
    if any(c.isspace() for c in stripped):
        return problem("is not a web address: it holds spaces.", fix)
    wrong = next((c for c in stripped if c in _NOT_IN_URLS), None)
    if wrong is not None:
        return problem(f"is not a web address: it holds “{wrong}”, which web addresses never do.", fix)
    scheme = _URL_SCHEME.match(stripped)
    if scheme and scheme.group(1).lower() not in ("http", "https"):
        return problem(f"is not a web address: “{scheme.group(1)}:” addresses are not taken.", fix)
    rest = stripped[scheme.end():].lstrip("/") if scheme else stripped
    host = re.split(r"[/?#]", rest, maxsplit=1)[0].rsplit("@", 1)[-1]
    if not _HOST.match(host):
        return problem("is not a web address: it names no host.", fix)
    return None
