"""The CRM modules the sandbox knows (Leads, Contacts, Accounts and a custom module,
Event_Guests, with the fields Zoho gives a new custom module plus two of an admin's), their fields as
``GET /crm/v2/settings/fields?module=`` describes them, and checking written values.

Email is kept unique in Leads and in Contacts (Zoho lets an admin make a field unique;
the sandbox's organisations have it so): a second record with an address in use is
refused DUPLICATE_DATA, and Email is what upsert matches on by default.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Field:
    api_name: str
    label: str
    data_type: str  # text, email, phone, picklist, boolean, lookup, ownerlookup, datetime, textarea, website, bigint
    mandatory: bool = False
    read_only: bool = False
    length: int = 255
    unique: bool = False
    picklist: tuple[str, ...] = ()
    lookup: str = ""
    custom: bool = False

    def describe(self) -> dict[str, Any]:
        json_type = {"boolean": "boolean", "lookup": "jsonobject", "ownerlookup": "jsonobject",
                     "bigint": "string"}.get(self.data_type, "string")
        body: dict[str, Any] = {
            "api_name": self.api_name, "field_label": self.label, "display_label": self.label,
            "data_type": self.data_type, "json_type": json_type, "system_mandatory": self.mandatory,
            "read_only": self.read_only, "custom_field": self.custom, "length": self.length, "visible": True,
            "unique": {"casesensitive": False} if self.unique else {},
            "pick_list_values": [{"display_value": v, "actual_value": v} for v in self.picklist],
            "lookup": {"module": {"api_name": self.lookup}} if self.lookup else {},
        }
        return body


LEAD_SOURCES = ("Advertisement", "Cold Call", "Employee Referral", "External Referral", "Online Store", "Partner",
                "Public Relations", "Seminar Partner", "Trade Show", "Web Download", "Web Research", "Chat")
_SYSTEM = (
    Field("Owner", "Lead Owner", "ownerlookup"),
    Field("Created_Time", "Created Time", "datetime", read_only=True),
    Field("Modified_Time", "Modified Time", "datetime", read_only=True),
    Field("Created_By", "Created By", "ownerlookup", read_only=True),
    Field("Modified_By", "Modified By", "ownerlookup", read_only=True),
)
MODULES: dict[str, tuple[Field, ...]] = {
    "Leads": (
        Field("First_Name", "First Name", "text", length=40),
        Field("Last_Name", "Last Name", "text", mandatory=True, length=80),
        Field("Email", "Email", "email", length=100, unique=True),
        Field("Company", "Company", "text", length=200),
        Field("Designation", "Title", "text", length=100),
        Field("Phone", "Phone", "phone", length=30),
        Field("Mobile", "Mobile", "phone", length=30),
        Field("Lead_Source", "Lead Source", "picklist", picklist=LEAD_SOURCES),
        Field("Lead_Status", "Lead Status", "picklist",
              picklist=("Attempted to Contact", "Contact in Future", "Contacted", "Junk Lead", "Not Contacted",
                        "Pre-Qualified")),
        Field("City", "City", "text", length=100),
        Field("Country", "Country", "text", length=100),
        Field("Email_Opt_Out", "Email Opt Out", "boolean"),
        Field("Description", "Description", "textarea", length=32000),
        *_SYSTEM,
    ),
    "Contacts": (
        Field("First_Name", "First Name", "text", length=40),
        Field("Last_Name", "Last Name", "text", mandatory=True, length=80),
        Field("Email", "Email", "email", length=100, unique=True),
        Field("Secondary_Email", "Secondary Email", "email", length=100),
        Field("Account_Name", "Account Name", "lookup", lookup="Accounts"),
        Field("Title", "Title", "text", length=100),
        Field("Department", "Department", "text", length=100),
        Field("Phone", "Phone", "phone", length=30),
        Field("Mobile", "Mobile", "phone", length=30),
        Field("Lead_Source", "Lead Source", "picklist", picklist=LEAD_SOURCES),
        Field("Mailing_City", "Mailing City", "text", length=100),
        Field("Mailing_Country", "Mailing Country", "text", length=100),
        Field("Email_Opt_Out", "Email Opt Out", "boolean"),
        Field("Description", "Description", "textarea", length=32000),
        *_SYSTEM,
    ),
    "Accounts": (
        Field("Account_Name", "Account Name", "text", mandatory=True, length=200),
        Field("Website", "Website", "website", length=255),
        Field("Phone", "Phone", "phone", length=30),
        Field("Industry", "Industry", "picklist",
              picklist=("Communications", "Consulting", "Energy", "Food", "Logistics", "Media", "Software")),
        Field("Billing_City", "Billing City", "text", length=100),
        Field("Billing_Country", "Billing Country", "text", length=100),
        Field("Description", "Description", "textarea", length=32000),
        *_SYSTEM,
    ),
}
# A custom module (Zoho names its API name after the plural the admin chose): Name, Owner,
# Email, Secondary Email and Email Opt Out come with every new one; the names are an admin's.
MODULES["Event_Guests"] = (
    Field("Name", "Event Guest Name", "text", mandatory=True, length=120),
    Field("Email", "Email", "email", length=100),
    Field("Secondary_Email", "Secondary Email", "email", length=100),
    Field("Email_Opt_Out", "Email Opt Out", "boolean"),
    Field("First_Name", "First Name", "text", length=40, custom=True),
    Field("Last_Name", "Last Name", "text", length=80, custom=True),
    *_SYSTEM,
)
DEDUPE_FIELDS = {"Leads": ("Email",), "Contacts": ("Email",), "Accounts": ("Account_Name",), "Event_Guests": ("Name",)}
DISPLAY_FIELD = {"Leads": "Last_Name", "Contacts": "Last_Name", "Accounts": "Account_Name", "Event_Guests": "Name"}


def module_name(text: str) -> str | None:
    """The module's API name as written in a URL (case-insensitive), or None."""
    return next((m for m in MODULES if m.lower() == text.lower()), None)


def field(module: str, api_name: str) -> Field | None:
    return next((f for f in MODULES[module] if f.api_name.lower() == api_name.lower()), None)


class Invalid(Exception):
    """A per-record refusal: ``code`` (INVALID_DATA, MANDATORY_NOT_FOUND), message, details."""

    def __init__(self, code: str, message: str, **details: Any):
        super().__init__(message)
        self.code, self.message, self.details = code, message, details


def clean(module: str, values: dict[str, Any], *, creating: bool, lookup_exists) -> dict[str, Any]:
    """The values of one written record as stored, or raise Invalid. Unknown fields are
    passed over, as Zoho does; read-only ones too. ``lookup_exists(module, id)`` checks a
    lookup's target."""
    cleaned: dict[str, Any] = {}
    for name, value in values.items():
        spec = field(module, name)
        if spec is None or spec.read_only or spec.data_type == "ownerlookup" or name == "id":
            continue
        if value is None or value == "":
            cleaned[spec.api_name] = None
            continue
        if spec.data_type == "boolean":
            if not isinstance(value, bool):
                raise Invalid("INVALID_DATA", "invalid data", api_name=spec.api_name, expected_data_type="boolean")
        elif spec.data_type == "lookup":
            target = value.get("id") if isinstance(value, dict) else value
            if not str(target or "").isdigit() or not lookup_exists(spec.lookup, int(target)):
                raise Invalid("INVALID_DATA", "the related id given seems to be invalid", api_name=spec.api_name,
                              expected_data_type="lookup")
            value = {"id": str(target)}
        else:
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                raise Invalid("INVALID_DATA", "invalid data", api_name=spec.api_name,
                              expected_data_type=spec.data_type)
            value = str(value)
            if len(value) > spec.length:
                raise Invalid("INVALID_DATA", "invalid data", api_name=spec.api_name, maximum_length=spec.length)
            if spec.data_type == "email" and not EMAIL.match(value):
                raise Invalid("INVALID_DATA", "invalid data", api_name=spec.api_name, expected_data_type="email")
        cleaned[spec.api_name] = value
    if creating:
        for spec in MODULES[module]:
            if spec.mandatory and cleaned.get(spec.api_name) in (None, ""):
                raise Invalid("MANDATORY_NOT_FOUND", "required field not found", api_name=spec.api_name)
    else:
        for spec in MODULES[module]:
            if spec.mandatory and spec.api_name in cleaned and cleaned[spec.api_name] in (None, ""):
                raise Invalid("MANDATORY_NOT_FOUND", "required field not found", api_name=spec.api_name)
    return cleaned
