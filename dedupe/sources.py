"""Which fields of each system's person objects mean name, email, phone, company and address.

Matching speaks neutral names; this table says where each comes from, so that reading a
Salesforce Lead, a Salesforce Contact or a HubSpot contact yields the same shape, and so that a
reviewer's field choice on the merge screen can be written back under the system's own name.
"""
from __future__ import annotations

from typing import Any

from connectors.salesforce import id18

NEUTRAL_FIELDS = ("first_name", "last_name", "email", "phone", "company", "street", "city", "postcode", "country")

# (kind, object) → neutral name → the system's field (a dotted path reads a parent record).
FIELD_MAPS: dict[tuple[str, str], dict[str, str]] = {
    ("salesforce", "Lead"): {
        "first_name": "FirstName", "last_name": "LastName", "email": "Email", "phone": "Phone",
        "company": "Company", "street": "Street", "city": "City", "postcode": "PostalCode", "country": "Country",
    },
    ("salesforce", "Contact"): {
        "first_name": "FirstName", "last_name": "LastName", "email": "Email", "phone": "Phone",
        "company": "Account.Name", "street": "MailingStreet", "city": "MailingCity",
        "postcode": "MailingPostalCode", "country": "MailingCountry",
    },
    ("hubspot", "contacts"): {
        "first_name": "firstname", "last_name": "lastname", "email": "email", "phone": "phone",
        "company": "company", "street": "address", "city": "city", "postcode": "zip", "country": "country",
    },
}

# HubSpot keeps the id of the Salesforce record it syncs with on the contact (HS-4).
HUBSPOT_SALESFORCE_ID_FIELDS = {"Contact": "salesforcecontactid", "Lead": "salesforceleadid"}

LABELS = {
    "first_name": "First name", "last_name": "Last name", "email": "Email", "phone": "Phone",
    "company": "Company", "street": "Street", "city": "City", "postcode": "Postcode", "country": "Country",
}

SYSTEM_LABELS = {"salesforce": "Salesforce", "hubspot": "HubSpot"}


def supported(kind: str, object_name: str) -> bool:
    return (kind, object_name) in FIELD_MAPS


def read_fields(kind: str, object_name: str, extra: list[str] = ()) -> list[str]:
    """The system's fields to read for matching (plus custom keys and HubSpot's link ids)."""
    fields = list(FIELD_MAPS[(kind, object_name)].values()) + list(extra)
    if kind == "hubspot":
        fields += list(HUBSPOT_SALESFORCE_ID_FIELDS.values())
    return list(dict.fromkeys(fields))


def _get(values: dict[str, Any], path: str) -> Any:
    value: Any = values
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def neutral(kind: str, object_name: str, values: dict[str, Any], extra: list[str] = ()) -> dict[str, Any]:
    """A record's values under neutral names; custom keys keep their own names."""
    out = {name: _get(values, path) for name, path in FIELD_MAPS[(kind, object_name)].items()}
    out.update({name: values.get(name) for name in extra})
    return {k: (str(v).strip() if v is not None else "") for k, v in out.items() if v not in (None, "")}


def linked_salesforce_id(kind: str, values: dict[str, Any]) -> str:
    """For a HubSpot contact: the Salesforce record it syncs with, Contact before Lead."""
    if kind != "hubspot":
        return ""
    return next((id18(str(values[f])) for f in ("salesforcecontactid", "salesforceleadid") if values.get(f)), "")


def system_field(kind: str, object_name: str, neutral_name: str) -> str | None:
    """The system's own field for a neutral one, if it can be written (parent fields cannot)."""
    path = FIELD_MAPS.get((kind, object_name), {}).get(neutral_name, neutral_name)
    return None if "." in path else path
