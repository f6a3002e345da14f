"""Person Accounts: an Account with a person record type and the Contact behind it.

An Account whose RecordTypeId is a person record type (``IsPersonType``) is a Person
Account: it is written with FirstName/LastName and the ``Person…`` fields, its Name is
computed, and Salesforce keeps a Contact (``PersonContactId``, ``IsPersonAccount`` true)
in step with it. Custom Contact fields show on the Account as ``…__pc``.
See the SOAP API Developer Guide, "Person Accounts".
"""
from __future__ import annotations

from typing import Any

from . import errors
from .schema import SObjectSchema

# Account person field -> the person Contact's field.
ACCOUNT_TO_CONTACT = {
    "FirstName": "FirstName",
    "LastName": "LastName",
    "Salutation": "Salutation",
    "Phone": "Phone",
    "PersonMobilePhone": "MobilePhone",
    "PersonHomePhone": "HomePhone",
    "PersonEmail": "Email",
    "PersonTitle": "Title",
    "PersonDepartment": "Department",
    "PersonLeadSource": "LeadSource",
    "PersonBirthdate": "Birthdate",
    "PersonHasOptedOutOfEmail": "HasOptedOutOfEmail",
    "PersonMailingStreet": "MailingStreet",
    "PersonMailingCity": "MailingCity",
    "PersonMailingState": "MailingState",
    "PersonMailingPostalCode": "MailingPostalCode",
    "PersonMailingCountry": "MailingCountry",
    "OwnerId": "OwnerId",
}


def is_person(account: SObjectSchema, data: dict[str, Any]) -> bool:
    """Whether Account values ``data`` describe a Person Account (by record type)."""
    record_type = account.record_type(data["RecordTypeId"]) if data.get("RecordTypeId") else None
    return bool(record_type and record_type.is_person)


def check_fields(account: SObjectSchema, changes: dict[str, Any], *, person: bool) -> None:
    """Refuse Name on a Person Account and person fields on a business account."""
    if person and "Name" in changes:
        raise errors.bad_field_names("Account", ["Name"])
    if not person:
        misplaced = [name for name, value in changes.items() if account.field(name).person_only and value not in (None, False)]
        if misplaced:
            raise errors.bad_field_names("Account", misplaced)


def full_name(data: dict[str, Any]) -> str:
    """Name as Salesforce computes it for people: "First Last"."""
    return " ".join(part for part in (data.get("FirstName"), data.get("LastName")) if part)


def contact_values(account: SObjectSchema, account_data: dict[str, Any]) -> dict[str, Any]:
    """The person Contact's field values for a Person Account's values."""
    result = {contact_field: account_data.get(account_field) for account_field, contact_field in ACCOUNT_TO_CONTACT.items()}
    for spec in account.fields:
        if spec.twin_of:
            result[spec.twin_of] = account_data.get(spec.name)
    return result

