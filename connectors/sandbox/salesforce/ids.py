"""Salesforce record ids: key prefixes, the 18-character checksum and id generation.

An id is a 3-character key prefix (the object), 2 characters of instance, 1 reserved
character and 9 base-62 characters of sequence: 15 case-sensitive characters. The API
returns the 18-character form, which appends a case-insensitive checksum of 3 characters
(see "Working with Record IDs" in the SOAP API Developer Guide).
"""
from __future__ import annotations

import re
import secrets

ORG_PREFIX = "00D"
KEY_PREFIXES = {
    "Account": "001",
    "Contact": "003",
    "User": "005",
    "RecordType": "012",
    "Lead": "00Q",
    "Organization": ORG_PREFIX,
}
QUERY_LOCATOR_PREFIX = "01g"
MASTER_RECORD_TYPE_ID = "012000000000000AAA"

_INSTANCE = "5b"  # the emulator's "pod"; real ids carry e.g. "5g", "Dn"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CHECKSUM_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_SEQUENCE_WIDTH = 9
# Record numbers are org-scoped: org pk * ORG_STRIDE + n keeps ids unique across orgs.
ORG_STRIDE = 62**5
_ID_SHAPE = re.compile(r"[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?")


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, rest = divmod(number, 62)
        digits.append(_BASE62[rest])
    if number:
        raise ValueError("number too large for an id")
    return "".join(reversed(digits))


def _checksum(id15: str) -> str:
    suffix = ""
    for chunk in (id15[0:5], id15[5:10], id15[10:15]):
        bits = sum(1 << i for i, ch in enumerate(chunk) if "A" <= ch <= "Z")
        suffix += _CHECKSUM_CHARS[bits]
    return suffix


def make_id(prefix: str, number: int) -> str:
    """The 18-character id with ``prefix`` and sequence ``number``."""
    id15 = f"{prefix}{_INSTANCE}0{_base62(number, _SEQUENCE_WIDTH)}"
    return id15 + _checksum(id15)


def random_id(prefix: str) -> str:
    """An unpredictable 18-character id (orgs, query locators)."""
    return make_id(prefix, secrets.randbelow(62**_SEQUENCE_WIDTH))


def is_id(value: object) -> bool:
    """Whether ``value`` has the shape of a 15- or 18-character id."""
    return isinstance(value, str) and _ID_SHAPE.fullmatch(value) is not None


def to18(value: str) -> str:
    """The 18-character form of a 15- or 18-character id (the suffix is recomputed)."""
    id15 = value[:15]
    return id15 + _checksum(id15)


def sobject_of(record_id: str) -> str | None:
    """The object an id belongs to, by its key prefix."""
    prefix = record_id[:3]
    return next((name for name, p in KEY_PREFIXES.items() if p == prefix), None)
