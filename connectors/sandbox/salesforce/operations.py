"""merge() and convertLead(): the two SOAP calls integrations need that REST lacks.

merge keeps a master record, applies the caller's chosen values to it, re-parents every
record that pointed at a loser and moves the losers to the recycle bin with
MasterRecordId set (SOAP API guide, merge()). convertLead turns a Lead into an Account
and a Contact — or, in an org with Person Accounts when the Lead has no Company (or a
person record type is asked for), into a Person Account — and marks the Lead converted
(SOAP API guide, convertLead()). Opportunities are not emulated: none is created.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction

from . import store
from .errors import ErrorDetail, RecordError
from .records import RecordService
from .schema import CONVERTED_LEAD_STATUSES, SObjectSchema
from .values import now

MERGEABLE = ("Account", "Contact", "Lead")
MAX_MERGED = 2  # plus the master: three records per request
_AUDIT_REFERENCES = frozenset({"CreatedById", "LastModifiedById", "MasterRecordId", "PersonContactId"})
# Lead field -> Contact field, Account field and Person Account field on conversion.
LEAD_TO_CONTACT = {
    "FirstName": "FirstName", "LastName": "LastName", "Salutation": "Salutation", "Title": "Title",
    "Email": "Email", "Phone": "Phone", "MobilePhone": "MobilePhone", "LeadSource": "LeadSource",
    "Description": "Description", "HasOptedOutOfEmail": "HasOptedOutOfEmail", "DoNotCall": "DoNotCall",
    "Street": "MailingStreet", "City": "MailingCity", "State": "MailingState", "PostalCode": "MailingPostalCode",
    "Country": "MailingCountry",
}
LEAD_TO_ACCOUNT = {
    "Company": "Name", "Website": "Website", "Phone": "Phone", "Industry": "Industry",
    "NumberOfEmployees": "NumberOfEmployees", "AnnualRevenue": "AnnualRevenue", "Street": "BillingStreet",
    "City": "BillingCity", "State": "BillingState", "PostalCode": "BillingPostalCode", "Country": "BillingCountry",
}
LEAD_TO_PERSON_ACCOUNT = {
    "FirstName": "FirstName", "LastName": "LastName", "Salutation": "Salutation", "Title": "PersonTitle",
    "Email": "PersonEmail", "Phone": "Phone", "MobilePhone": "PersonMobilePhone", "LeadSource": "PersonLeadSource",
    "HasOptedOutOfEmail": "PersonHasOptedOutOfEmail", "Street": "PersonMailingStreet", "City": "PersonMailingCity",
    "State": "PersonMailingState", "PostalCode": "PersonMailingPostalCode", "Country": "PersonMailingCountry",
    "Description": "Description",
}


def _error(code: str, message: str, fields: list[str] | None = None) -> RecordError:
    return RecordError(ErrorDetail(code, message, fields or []))


@dataclass
class MergeOutcome:
    """A MergeResult: the master, the merged-away ids and the re-parented related ids."""

    id: str
    merged_record_ids: list[str]
    updated_related_ids: list[str] = field(default_factory=list)


def merge(
    service: RecordService,
    *,
    sobject: str,
    master_id: str,
    loser_ids: list[str],
    master_values: dict[str, Any],
    fields_to_null: list[str],
) -> MergeOutcome:
    """Merge up to two records into ``master_id`` (one transaction); raises RecordError."""
    obj = service.schema.sobject(sobject or "")
    if obj is None or obj.name not in MERGEABLE:
        raise _error("INVALID_TYPE_FOR_OPERATION", "entity type does not support merge")
    if not 1 <= len(loser_ids) <= MAX_MERGED:
        raise _error(
            "INVALID_ARGUMENT_VALUE" if not loser_ids else "LIMIT_EXCEEDED",
            "A merge request names 1 or 2 records to merge into the master: up to 3 records at a time.",
        )
    master = service.get(obj, master_id, for_write=True)
    losers = [service.get(obj, loser_id, for_write=True) for loser_id in loser_ids]
    if master.record_id in {row.record_id for row in losers} or len({row.record_id for row in losers}) < len(losers):
        raise _error("INVALID_ID_FIELD", "Cannot merge a record with itself")
    records = [master, *losers]
    if obj.name == "Contact" and any(row.data.get("IsPersonAccount") for row in records):
        raise _error("INVALID_PERSON_ACCOUNT_OPERATION", "Merge person accounts through Account, not Contact.")
    if obj.name == "Account" and len({bool(row.data.get("IsPersonAccount")) for row in records}) > 1:
        raise _error("INVALID_PERSON_ACCOUNT_OPERATION", "Cannot merge a person account with a business account.")
    if obj.name == "Lead" and any(row.data.get("IsConverted") for row in records):
        raise _error("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")
    with transaction.atomic():
        changes = service.clean(obj, master_values, creating=False)
        for name in fields_to_null:
            spec = obj.field(name)
            if spec is None:
                raise _error("INVALID_FIELD", f"No such column '{name}' on sobject of type {obj.name}")
            changes[spec.name] = None
        service.apply(obj, master, changes, check_duplicates=False)
        moment = service.now()
        outcome = MergeOutcome(master.record_id, [loser.record_id for loser in losers])
        for loser in losers:
            if loser.data.get("PersonContactId"):
                # A Person Account's Contact goes with it, merged into the master's Contact.
                contact, master_contact = store.get(service.org, loser.data["PersonContactId"]), master.data["PersonContactId"]
                outcome.updated_related_ids += _reparent(service, "Contact", contact.record_id, master_contact, moment)
                service.mark_deleted(service.schema.objects["Contact"], contact, moment, master_id=master_contact)
            outcome.updated_related_ids += _reparent(service, obj.name, loser.record_id, master.record_id, moment)
            service.mark_deleted(obj, loser, moment, master_id=master.record_id)
    return outcome


def _reparent(service: RecordService, sobject: str, old_id: str, new_id: str, moment: datetime) -> list[str]:
    """Point every live reference to ``old_id`` at ``new_id``; returns the changed ids."""
    changed = []
    for obj in service.schema.objects.values():
        for spec in obj.fields:
            if sobject not in spec.reference_to or spec.name in _AUDIT_REFERENCES:
                continue
            for row in store.related(service.org, obj.name, spec.name, [old_id]):
                service.save(obj, row, {**row.data, spec.name: new_id}, moment)
                changed.append(row.record_id)
    return changed


@dataclass
class ConvertOutcome:
    """A LeadConvertResult."""

    lead_id: str
    account_id: str
    contact_id: str


def convert_lead(
    service: RecordService,
    *,
    lead_id: str,
    converted_status: str,
    account_id: str | None = None,
    contact_id: str | None = None,
    owner_id: str | None = None,
    overwrite_lead_source: bool = False,
    account_record_type_id: str | None = None,
) -> ConvertOutcome:
    """Convert a Lead (one transaction); raises RecordError."""
    schema = service.schema
    lead_obj, account_obj, contact_obj = (schema.objects[name] for name in ("Lead", "Account", "Contact"))
    lead = service.get(lead_obj, lead_id, for_write=True)
    if lead.data.get("IsConverted"):
        raise _error("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")
    if converted_status not in CONVERTED_LEAD_STATUSES:
        raise _error("INVALID_STATUS", f"invalid convertedStatus: {converted_status}")
    if contact_id and not account_id:
        raise _error("REQUIRED_FIELD_MISSING", "Required fields are missing: [accountId]", ["accountId"])
    existing_account = service.get(account_obj, account_id, for_write=True) if account_id else None
    asked_type = account_obj.record_type(account_record_type_id) if account_record_type_id else None
    person = schema.person_accounts and (
        bool(existing_account.data.get("IsPersonAccount")) if existing_account
        else bool(asked_type.is_person) if asked_type else not lead.data.get("Company")
    )
    owner = owner_id or lead.data.get("OwnerId")
    with transaction.atomic():
        if person:
            account, contact = _convert_to_person(service, lead, existing_account, owner, asked_type)
        else:
            if existing_account is None and not lead.data.get("Company"):
                raise _error("REQUIRED_FIELD_MISSING", "Required fields are missing: [Company]", ["Company"])
            account = existing_account or service.insert(
                account_obj, {**_mapped(lead.data, LEAD_TO_ACCOUNT), "OwnerId": owner}, check_duplicates=False,
            )
            if existing_account:
                _fill_empty(service, account_obj, account, _mapped(lead.data, LEAD_TO_ACCOUNT))
            contact_values = {**_mapped(lead.data, LEAD_TO_CONTACT), **_custom(lead_obj, contact_obj, lead.data)}
            if contact_id:
                contact = service.get(contact_obj, contact_id, for_write=True)
                if contact.data.get("AccountId") != account.record_id:
                    raise _error("INVALID_CROSS_REFERENCE_KEY", "The contact isn't associated with the account.", ["contactId"])
                _fill_empty(service, contact_obj, contact, contact_values, overwrite_lead_source=overwrite_lead_source)
            else:
                contact = service.insert(
                    contact_obj, {**contact_values, "AccountId": account.record_id, "OwnerId": owner}, check_duplicates=False,
                )
        service.apply(
            lead_obj, lead,
            {
                "IsConverted": True, "Status": converted_status, "ConvertedDate": now().date().isoformat(),
                "ConvertedAccountId": account.record_id, "ConvertedContactId": contact.record_id,
            },
            check_duplicates=False,
        )
    return ConvertOutcome(lead.record_id, account.record_id, contact.record_id)


def _convert_to_person(service: RecordService, lead: Any, existing: Any, owner: str, asked_type: Any) -> tuple[Any, Any]:
    account_obj = service.schema.objects["Account"]
    lead_obj = service.schema.objects["Lead"]
    values = _mapped(lead.data, LEAD_TO_PERSON_ACCOUNT)
    for name, value in _custom(lead_obj, service.schema.objects["Contact"], lead.data).items():
        values[name[:-3] + "__pc"] = value
    if existing is not None:
        _fill_empty(service, account_obj, existing, values)
        account = existing
    else:
        record_type = asked_type if asked_type and asked_type.is_person else account_obj.person_record_type
        account = service.insert(
            account_obj, {**values, "RecordTypeId": record_type.id, "OwnerId": owner}, check_duplicates=False,
        )
    return account, store.get(service.org, account.data["PersonContactId"])


def _mapped(data: dict[str, Any], mapping: dict[str, str]) -> dict[str, Any]:
    return {target: data.get(source) for source, target in mapping.items() if data.get(source) not in (None, "")}


def _custom(lead: SObjectSchema, target: SObjectSchema, data: dict[str, Any]) -> dict[str, Any]:
    """Custom Lead fields copied to same-named custom fields of ``target`` (the usual mapping)."""
    return {
        spec.name: data[spec.name]
        for spec in lead.fields
        if spec.custom and target.has(spec.name) and data.get(spec.name) not in (None, "")
    }


def _fill_empty(
    service: RecordService, obj: SObjectSchema, row: Any, values: dict[str, Any], *, overwrite_lead_source: bool = False
) -> None:
    """Merge lead data into an existing record: only empty fields are written."""
    changes = {
        name: value for name, value in values.items()
        if row.data.get(name) in (None, "") or (overwrite_lead_source and name == "LeadSource")
    }
    if changes:
        service.apply(obj, row, changes, check_duplicates=False)
