"""Contact properties: HubSpot's defaults every account has, the account's own, and how
written values are checked and stored.

Every value is stored as a string, as the API hands it out: numbers as written, booleans
``true``/``false``, dates ``YYYY-MM-DD``, datetimes ``…T…Z``, multiple checkboxes ``a;b``.
An empty string (or ``null`` in the request) clears a value. Unknown or archived
properties and read-only ones are refused with the vendor's 400 (``PROPERTY_DOESNT_EXIST``,
``READ_ONLY_VALUE``), every refused property of the request at once.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from connectors.sandbox.models.hubspot import HsAccount, HsProperty

from . import errors
from .dates import from_ms, iso, now, parse_ms

LIFECYCLE_STAGES = (
    ("Subscriber", "subscriber"), ("Lead", "lead"), ("Marketing Qualified Lead", "marketingqualifiedlead"),
    ("Sales Qualified Lead", "salesqualifiedlead"), ("Opportunity", "opportunity"), ("Customer", "customer"),
    ("Evangelist", "evangelist"), ("Other", "other"),
)
FIELD_TYPES = ("text", "textarea", "date", "file", "number", "select", "radio", "checkbox", "booleancheckbox",
               "calculation_equation", "phonenumber")
MULTI_VALUE = "checkbox"
STRING_LENGTH = 65_536  # "A plain text string, limited to 65,536 characters" (CRM properties guide)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Default:
    """One of HubSpot's own contact properties."""

    name: str
    label: str
    type: str = "string"
    field_type: str = "text"
    group: str = "contactinformation"
    options: tuple[tuple[str, str], ...] = ()
    read_only: bool = False
    calculated: bool = False
    hidden: bool = False


DEFAULTS = (
    Default("email", "Email"),
    Default("firstname", "First Name"),
    Default("lastname", "Last Name"),
    Default("phone", "Phone Number", field_type="phonenumber"),
    Default("company", "Company Name"),
    Default("jobtitle", "Job Title"),
    Default("address", "Street Address"),
    Default("city", "City"),
    Default("zip", "Postal Code"),
    Default("country", "Country/Region"),
    Default("lifecyclestage", "Lifecycle Stage", "enumeration", "radio", options=LIFECYCLE_STAGES),
    Default("hs_object_id", "Record ID", "number", "number", read_only=True),
    Default("createdate", "Create Date", "datetime", "date", read_only=True),
    Default("lastmodifieddate", "Last Modified Date", "datetime", "date", read_only=True),
    Default("hs_merged_object_ids", "Merged Contact IDs", "enumeration", "checkbox", read_only=True),
    Default("hs_additional_emails", "Additional email addresses", "enumeration", "checkbox", read_only=True),
    Default("num_notes", "Number of Sales Activities", "number", "number", group="sales_properties", read_only=True,
            calculated=True),
    # What HubSpot's Salesforce integration keeps on a synced contact; read-write here so
    # that a test or demo can link a contact to a Salesforce record.
    Default("salesforceleadid", "Salesforce Lead ID", group="salesforceinformation"),
    Default("salesforcecontactid", "Salesforce Contact ID", group="salesforceinformation"),
    Default("salesforceobjecttype", "Salesforce Object Type", group="salesforceinformation"),
)
# Always on a record the API hands out, whatever was asked for.
ALWAYS = ("createdate", "hs_object_id", "lastmodifieddate")
# What a read without ``properties`` returns (the vendor's documented defaults).
DEFAULT_READ = ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname")


def options_of(pairs: tuple[tuple[str, str], ...]) -> list[dict[str, Any]]:
    return [{"label": label, "value": value, "displayOrder": n, "hidden": False} for n, (label, value) in enumerate(pairs)]


def defaults_create(account: HsAccount) -> None:
    """Give a new account HubSpot's default contact properties."""
    moment = now()
    HsProperty.objects.bulk_create(
        HsProperty(
            account=account, name=d.name, label=d.label, type=d.type, field_type=d.field_type, group_name=d.group,
            options=options_of(d.options), display_order=n, read_only_value=d.read_only, calculated=d.calculated,
            hidden=d.hidden, hubspot_defined=True, created_at=moment, updated_at=moment,
        )
        for n, d in enumerate(DEFAULTS)
    )


def live_properties(account: HsAccount) -> dict[str, HsProperty]:
    """The account's contact properties that are not archived, by name."""
    return {p.name: p for p in HsProperty.objects.filter(account=account, archived=False)}


def property_get(account: HsAccount, name: str, *, archived: bool = False) -> HsProperty:
    prop = HsProperty.objects.filter(account=account, name=name, archived=archived).first()
    if prop is None:
        raise errors.not_found(f"Unable to find property {name} for object type 0-1")  # (emulator) wording
    return prop


# --- values ---------------------------------------------------------------------------------------
def checked_values(properties: dict[str, HsProperty], values: Any) -> dict[str, str]:
    """The stored form of the ``properties`` object of a write; 400 naming every refused one."""
    if not isinstance(values, dict):
        raise errors.validation("Invalid input JSON: properties must be an object.")  # (emulator) wording
    stored: dict[str, str] = {}
    problems: list[dict[str, str]] = []
    for name, raw in values.items():
        prop = properties.get(name)
        if prop is None:
            problems.append({"name": name, "error": "PROPERTY_DOESNT_EXIST", "message": f'Property "{name}" does not exist'})
            continue
        if prop.read_only_value:
            problems.append({"name": name, "error": "READ_ONLY_VALUE",
                             "message": f'"{name}" is a read only property; its value cannot be set.'})
            continue
        try:
            stored[name] = _stored(prop, raw)
        except ValueError as reason:
            error, message = reason.args
            problems.append({"name": name, "error": error, "message": message})
    if problems:
        raise errors.property_errors(problems)
    return stored


def _stored(prop: HsProperty, raw: Any) -> str:
    """One value as stored; ValueError(code, message) if the property cannot take it."""
    if raw is None:
        return ""
    if isinstance(raw, bool):
        text = "true" if raw else "false"
    elif isinstance(raw, (list, tuple)):
        text = ";".join(str(part) for part in raw)
    else:
        text = str(raw)
    text = text.strip() if prop.type != "string" or prop.name == "email" else text
    if text == "":
        return ""
    if prop.name == "email" and not _EMAIL.match(text):
        raise ValueError("INVALID_EMAIL", f"Email address {text} is invalid")
    if prop.type == "string" and len(text) > STRING_LENGTH:
        # (emulator) wording and code: the vendor documents the limit, not its refusal.
        raise ValueError("INVALID_STRING_LENGTH", f"{prop.name} is longer than {STRING_LENGTH:,} characters.")
    if prop.type == "number":
        try:
            float(text)
        except ValueError:
            raise ValueError("INVALID_FLOAT", f"{text} was not a valid number.") from None  # (emulator) wording
    elif prop.type == "bool":
        if text.lower() not in ("true", "false"):
            raise ValueError("INVALID_BOOLEAN", f"{text} was not a valid boolean.")  # (emulator) wording
        text = text.lower()
    elif prop.type in ("date", "datetime"):
        ms = parse_ms(text)
        if ms is None:
            raise ValueError("INVALID_DATE", f"{text} is not a valid date.")  # (emulator) wording
        moment = from_ms(ms)
        if prop.type == "date":
            if ms % 86_400_000:
                raise ValueError("INVALID_DATE", f"{text} is not a midnight UTC timestamp.")  # (emulator) wording
            return moment.date().isoformat()
        return iso(moment)
    elif prop.type == "enumeration" and prop.options:
        allowed = [o["value"] for o in prop.options]
        chosen = text.split(";") if prop.field_type == MULTI_VALUE else [text]
        wrong = [c for c in chosen if c not in allowed]
        if wrong:
            raise ValueError("INVALID_OPTION", f"{wrong[0]} was not one of the allowed options: [{', '.join(allowed)}]")
    return text


# --- the properties API -----------------------------------------------------------------------------
def property_shape(prop: HsProperty) -> dict[str, Any]:
    return {
        "updatedAt": iso(prop.updated_at), "createdAt": iso(prop.created_at), "name": prop.name, "label": prop.label,
        "type": prop.type, "fieldType": prop.field_type, "description": prop.description, "groupName": prop.group_name,
        "options": prop.options, "displayOrder": prop.display_order, "calculated": prop.calculated,
        "externalOptions": False, "hasUniqueValue": prop.has_unique_value, "hidden": prop.hidden,
        "hubspotDefined": prop.hubspot_defined,
        "modificationMetadata": {
            "archivable": not prop.hubspot_defined, "readOnlyDefinition": prop.hubspot_defined,
            "readOnlyValue": prop.read_only_value,
        },
        "formField": not prop.read_only_value, "archived": prop.archived,
    }


def _definition(data: Any, *, partial: bool) -> dict[str, Any]:
    """The attributes of a property create (name, label, type, fieldType, groupName
    required) or update body."""
    if not isinstance(data, dict):
        raise errors.validation("Invalid input JSON: expected an object.")  # (emulator) wording
    values: dict[str, Any] = {}
    missing = [key for key in ("name", "label", "type", "fieldType", "groupName") if not partial and not data.get(key)]
    if missing:
        raise errors.validation(f"Some required fields were not set: [{', '.join(missing)}]")  # (emulator) wording
    if "name" in data and not partial:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", str(data["name"])):
            raise errors.validation(f"Property name {data['name']} must be lower case letters, digits and _.")
        values["name"] = str(data["name"])
    for key, attr in (("label", "label"), ("groupName", "group_name"), ("description", "description")):
        if key in data:
            values[attr] = str(data[key] or "")
    if "type" in data:
        if data["type"] not in HsProperty.TYPES:
            raise errors.validation(f"{data['type']} is not a valid property type: {', '.join(HsProperty.TYPES)}")
        values["type"] = data["type"]
    if "fieldType" in data:
        if data["fieldType"] not in FIELD_TYPES:
            raise errors.validation(f"{data['fieldType']} is not a valid field type: {', '.join(FIELD_TYPES)}")
        values["field_type"] = data["fieldType"]
    if "options" in data:
        options = data["options"] or []
        if not isinstance(options, list) or any(not isinstance(o, dict) or not o.get("value") for o in options):
            raise errors.validation("Options must be a list of {label, value} objects.")  # (emulator) wording
        values["options"] = [
            {"label": str(o.get("label") or o["value"]), "value": str(o["value"]),
             "displayOrder": int(o.get("displayOrder", n)), "hidden": bool(o.get("hidden", False))}
            for n, o in enumerate(options)
        ]
    for key, attr in (("hasUniqueValue", "has_unique_value"), ("hidden", "hidden")):
        if key in data:
            values[attr] = bool(data[key])
    if "displayOrder" in data:
        values["display_order"] = int(data["displayOrder"])
    return values


def property_create(account: HsAccount, data: Any) -> HsProperty:
    values = _definition(data, partial=False)
    existing = HsProperty.objects.filter(account=account, name=values["name"]).first()
    if existing is not None and not existing.archived:
        raise errors.ApiError(409, errors.envelope(
            f"A property named '{values['name']}' already exists.", "OBJECT_ALREADY_EXISTS"))  # (emulator) wording
    moment = now()
    if existing is not None:  # re-creating an archived property brings it back with the new definition
        HsProperty.objects.filter(pk=existing.pk).update(archived=False, updated_at=moment, **values)
        return HsProperty.objects.get(pk=existing.pk)
    return HsProperty.objects.create(account=account, created_at=moment, updated_at=moment, **values)


def property_update(prop: HsProperty, data: Any) -> HsProperty:
    values = _definition(data, partial=True)
    if prop.hubspot_defined and set(values) - {"label", "description", "hidden", "display_order", "options"}:
        raise errors.validation(f"The definition of HubSpot-defined property {prop.name} cannot be changed.")
    for attr, value in values.items():
        setattr(prop, attr, value)
    prop.updated_at = now()
    prop.save()
    return prop


def property_archive(prop: HsProperty) -> None:
    """Archive a property the account made; its values stay on contacts but no longer show."""
    if prop.hubspot_defined:
        raise errors.validation(f"HubSpot-defined property {prop.name} cannot be archived.")  # (emulator) wording
    prop.archived, prop.updated_at = True, now()
    prop.save(update_fields=["archived", "updated_at"])
