"""The portal's own capture contract for lead-capture apps (Lemontaps), and its connector.

PROVISIONAL, and ours: Lemontaps publishes no API reference or webhook format (see the
Salesforce-integration articles in its help centre, the only public source). Until it does,
the portal defines how captured contacts reach it, in this one module, so that a real
Lemontaps API can replace it here without touching the rest:

- **Webhook**: ``POST /captures/<connection id>/`` with the header ``X-Capture-Secret`` (the
  connection's secret, never in the URL) and a JSON object, at most ``MAX_BODY_BYTES``:

  ==================  =====================================================================
  key                 meaning
  ==================  =====================================================================
  id                  required; the capture's id in the capturing app (sent again = update)
  captured_by         required; the capturing user's email
  captured_at         ISO date-time of the capture (default: when it arrives)
  create_as           "Lead", "Contact" or blank (the per-contact choice of SPEC LT-2)
  prefix … notes      the predefined fields below (SPEC LT-6), strings
  met_on              ISO date the contact was met
  ``<Name>__c``       custom fields, exported into the CRM field of the same API name (LT-8)
  ==================  =====================================================================

  Unknown keys are refused (400, naming the key), so a typo never loses a value silently.
- **CSV or Excel (.xlsx) import** of a Lemontaps export: a header row with the same keys (or
  the labels of ``FIELDS``), one capture a row; a refused row names its number and reason.

``LemontapsConnector`` reads the captures the portal stored (``syncconfig.CapturedContact``)
as any connector reads its vendor: pages of records in change order, or records by id.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import timezone as tz

from .base import (
    CURSOR_SEPARATOR,
    CheckResult,
    Connector,
    ConnectorError,
    FieldDescription,
    NotSupported,
    ObjectDescription,
    ObjectSummary,
    Record,
    parse_instant,
)

MAX_BODY_BYTES = 64 * 1024  # a capture with notes and a few custom fields is a few kB
SECRET_HEADER = "X-Capture-Secret"
OBJECT = "captured_contact"  # the one object this "vendor" has

# The predefined fields of a capture: (key, label as Lemontaps' app and export name it, max length).
FIELDS: tuple[tuple[str, str, int], ...] = (
    ("prefix", "Name prefix", 40),
    ("first_name", "First name", 40),
    ("last_name", "Last name", 80),
    ("position", "Position", 128),
    ("role", "Role", 128),
    ("department", "Department", 80),
    ("company", "Company", 255),
    ("email", "Email", 80),
    ("email_work", "Work email", 80),
    ("phone_work", "Work phone", 40),
    ("phone_mobile", "Mobile phone", 40),
    ("website", "Website", 255),
    ("addressee", "Addressee", 255),
    ("address_line1", "Address line 1", 255),
    ("address_line2", "Address line 2", 255),
    ("zip", "Postal code", 20),
    ("city", "City", 40),
    ("country", "Country", 80),
    ("notes", "Notes", 32000),
    ("gdpr_consent", "GDPR consent", 10),
    ("language", "Language", 20),
)
FIELD_KEYS = {key for key, _, _ in FIELDS}
_BY_LABEL = {label.lower(): key for key, label, _ in FIELDS}
_ENVELOPE = {"id", "captured_by", "captured_at", "create_as", "met_on"}
_ENVELOPE_LABELS = {"capture id": "id", "captured by": "captured_by", "captured at": "captured_at",
                    "create as": "create_as", "met on": "met_on"}
CUSTOM_FIELD = re.compile(r"[A-Za-z](?:[A-Za-z0-9]|_(?!_))*__c")  # a Salesforce custom field's API name
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
TARGETS = ("Lead", "Contact")


class CaptureInvalid(ValueError):
    """A capture the contract refuses: ``field`` names the key, ``reason`` says why."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass
class Capture:
    """One capture as the contract defines it, checked."""

    capture_id: str
    captured_by: str  # the capturing user's email
    captured_at: datetime | None
    create_as: str  # "Lead", "Contact" or ""
    fields: dict[str, str]  # predefined keys, "met_on" (ISO date) and custom ``__c`` fields


def capture_parse(body: dict) -> Capture:
    """Check one capture (the webhook's JSON object, or a CSV row as a dict)."""
    if not isinstance(body, dict):
        raise CaptureInvalid("body", "must be a JSON object.")
    for key in body:
        if key not in FIELD_KEYS and key not in _ENVELOPE and not CUSTOM_FIELD.fullmatch(str(key)):
            raise CaptureInvalid(str(key), "is not a field of the capture contract (custom fields end in __c).")
    capture_id = _text(body, "id", 100)
    if not capture_id:
        raise CaptureInvalid("id", "is required.")
    captured_by = _text(body, "captured_by", 254).lower()
    if not _EMAIL.fullmatch(captured_by):
        raise CaptureInvalid("captured_by", "must be the capturing user's email.")
    captured_at = None
    if _text(body, "captured_at", 40):
        try:
            captured_at = parse_instant(body["captured_at"])
        except ValueError:
            raise CaptureInvalid("captured_at", "must be an ISO date-time, e.g. 2025-03-01T14:05:00Z.") from None
    create_as = _text(body, "create_as", 10)
    match = {t.lower(): t for t in TARGETS}.get(create_as.lower()) if create_as else ""
    if match is None:
        raise CaptureInvalid("create_as", "must be Lead, Contact or blank.")
    fields: dict[str, str] = {}
    for key, _, length in FIELDS:
        value = _text(body, key, length)
        if value:
            fields[key] = value
    if fields.get("email") and not _EMAIL.fullmatch(fields["email"]):
        raise CaptureInvalid("email", "is not an email address.")
    met_on = _text(body, "met_on", 40)
    if met_on:
        try:
            fields["met_on"] = date.fromisoformat(met_on[:10]).isoformat()
        except ValueError:
            raise CaptureInvalid("met_on", "must be an ISO date, e.g. 2025-03-01.") from None
    for key in body:
        if CUSTOM_FIELD.fullmatch(str(key)):
            value = body[key]
            if value is not None and not isinstance(value, (str, int, float, bool)):
                raise CaptureInvalid(key, "must be a text, number or true/false.")
            if isinstance(value, str) and "\x00" in value:
                raise CaptureInvalid(key, "contains a null byte (\\x00); remove it.")
            if value not in (None, ""):
                fields[key] = value
    return Capture(capture_id, captured_by, captured_at, match, fields)


def _text(body: dict, key: str, length: int) -> str:
    value = body.get(key)
    if value is None:
        return ""
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise CaptureInvalid(key, "must be text.")
    value = str(value).strip()
    if len(value) > length:
        raise CaptureInvalid(key, f"is longer than {length} characters.")
    if "\x00" in value:  # no CRM takes it, and it could not be stored
        raise CaptureInvalid(key, "contains a null byte (\\x00); remove it.")
    return value


def csv_captures(text: str) -> Iterator[tuple[int, Capture | CaptureInvalid]]:
    """The captures of a CSV export, each with its line number: a checked capture, or why the
    row was refused. Headers are the contract's keys or the labels of ``FIELDS``."""
    yield from _table_captures(csv.reader(io.StringIO(text.lstrip("\ufeff")), dialect=_dialect(text)))


def xlsx_captures(content: bytes) -> Iterator[tuple[int, Capture | CaptureInvalid]]:
    """The captures of an Excel export (.xlsx, its first sheet), each with its row number, as
    ``csv_captures`` reads a CSV. A file that is no workbook raises ``CaptureInvalid``."""
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError) as exc:
        raise CaptureInvalid("file", "is not an Excel workbook (.xlsx).") from exc
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is not None:
            yield from _table_captures([_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True))
    finally:
        workbook.close()


def _cell_text(value) -> str:
    """A spreadsheet cell as the text a CSV export would hold: dates in ISO form, whole numbers
    (postal codes, phones typed as numbers) without a decimal point."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat() if value.time() != datetime.min.time() else value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _table_captures(rows: Iterable[list[str]]) -> Iterator[tuple[int, Capture | CaptureInvalid]]:
    rows = iter(rows)
    header = next(rows, None)
    if not header:
        return
    keys = [_column(name or "") for name in header]
    for number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        body = {key: cell for key, cell in zip(keys, row) if key and cell.strip()}
        try:
            yield number, capture_parse(body)
        except CaptureInvalid as exc:
            yield number, exc


def _dialect(text: str):
    try:
        return csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        return csv.excel


def _column(name: str) -> str:
    name = name.strip()
    if name in FIELD_KEYS or name in _ENVELOPE or CUSTOM_FIELD.fullmatch(name):
        return name
    return _BY_LABEL.get(name.lower()) or _ENVELOPE_LABELS.get(name.lower()) or name


# --- the connector -----------------------------------------------------------------------------
PAGE_SIZE = 500


class LemontapsConnector(Connector):
    """Captured contacts of one connection, read from where the portal stored them. The sync
    engine reads them like any source: ``changes`` in (changed at, id) order from a cursor,
    ``fetch`` by id. Nothing is written back to the capturing app."""

    kind = "lemontaps"
    label = "Lemontaps"
    stamp_resolution = timedelta(microseconds=1)

    def _captures(self):
        from syncconfig.models import CapturedContact  # the portal itself keeps this vendor's records

        if self.connection_id is None:
            raise ConnectorError("This connector reads the captures of a stored connection only.")
        return CapturedContact.objects.filter(connection_id=self.connection_id)

    def check(self) -> CheckResult:
        return CheckResult("Lemontaps captures (portal inbox)", {"captured contacts": self._captures().count()})

    def objects(self) -> list[ObjectSummary]:
        return [ObjectSummary(OBJECT, "Captured contact")]

    def describe(self, object_name: str) -> ObjectDescription:
        """The contract's fields, and the custom fields the captures so far carried."""
        custom: set[str] = set()
        for data in self._captures().values_list("data", flat=True).iterator():
            custom.update(key for key in data if CUSTOM_FIELD.fullmatch(key))
        fields = [FieldDescription(key, label, "string", length=length) for key, label, length in FIELDS]
        fields += [FieldDescription("met_on", "Met on", "date"), FieldDescription("create_as", "Create as", "picklist",
                                                                                  picklist_values=TARGETS)]
        fields += [FieldDescription(name, name, "string", custom=True) for name in sorted(custom)]
        return ObjectDescription(OBJECT, "Captured contact", fields)

    def changes(self, object_name: str, since: str | None, fields) -> Iterator[list[Record]]:
        from django.db.models import Q

        rows = self._captures().order_by("modified_at", "id")
        if since:
            stamp, _, last_id = since.partition(CURSOR_SEPARATOR)
            moment = parse_instant(stamp)
            rows = rows.filter(Q(modified_at__gt=moment) | Q(modified_at=moment, id__gt=int(last_id or 0)))
        while True:
            page = list(rows[:PAGE_SIZE])
            if not page:
                return
            yield [capture_record(c) for c in page]
            last = page[-1]
            rows = rows.filter(Q(modified_at__gt=last.modified_at) | Q(modified_at=last.modified_at, id__gt=last.id))
            if len(page) < PAGE_SIZE:
                return

    def fetch(self, object_name: str, ids: Iterable[str], fields) -> list[Record]:
        wanted = [int(i) for i in ids if str(i).isdigit()]
        return [capture_record(c) for c in self._captures().filter(id__in=wanted).order_by("id")]

    def find(self, object_name: str, field: str, values, fields) -> list[Record]:
        raise NotSupported("Captured contacts are not searched by field.")

    def format_instant(self, moment: datetime) -> str:
        return moment.astimezone(tz.utc).isoformat()


def capture_record(capture) -> Record:
    """A stored capture as a neutral record: the contract's fields, the choice made at
    capture (``create_as``), who captured it, and where it was exported to, if anywhere."""
    stamp = capture.modified_at.astimezone(tz.utc).isoformat()
    return Record(
        id=str(capture.pk), object=OBJECT, modified_at=stamp, cursor=f"{stamp}{CURSOR_SEPARATOR}{capture.pk}",
        fields={**capture.data, "create_as": capture.target, "captured_by": capture.captured_by_email,
                "captured_at": capture.captured_at.isoformat(), "received_at": capture.received_at.isoformat(),
                "exported_object": capture.exported_object, "exported_id": capture.exported_id},
    )
