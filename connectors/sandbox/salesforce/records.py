"""Reading and writing records the way the Salesforce API does, every rule checked.

:class:`RecordService` is the one place that creates, updates, deletes and upserts
records; REST, sObject Collections and the SOAP calls (merge, convertLead) all go
through it, so they enforce the same rules with the same errors. Every public write runs
in its own transaction (a savepoint inside an outer one), so a refused record leaves
nothing behind.
"""
from __future__ import annotations

from collections import deque
from datetime import datetime
from typing import Any

from django.db import transaction

from connectors.sandbox.lag import clock as lag_clock
from connectors.sandbox.lag import lag_draw
from connectors.sandbox.models import SandboxOrg, SandboxRecord

from . import duplicates, errors, ids, person_accounts, store
from .errors import ErrorDetail, RecordError
from .schema import OrgSchema, SObjectSchema
from .values import coerce, now

DEFAULT_API_VERSION = "59.0"
_NAMED_BY_PERSON = frozenset({"Contact", "Lead", "User"})


class MultipleMatches(RecordError):
    """An external id matched several records; REST answers 300 with their URLs."""

    def __init__(self, sobject: str, field: str, rows: list[SandboxRecord], api_version: str):
        found = ", ".join(row.record_id for row in rows)
        super().__init__(
            ErrorDetail("DUPLICATE_EXTERNAL_ID", f"{field}: more than one record found for external id field: [{found}]", [field]),
            status=300,
        )
        self.urls = [f"/services/data/v{api_version}/sobjects/{sobject}/{row.record_id}" for row in rows]


def _person_operation() -> RecordError:
    return RecordError(
        ErrorDetail(
            "INVALID_PERSON_ACCOUNT_OPERATION",
            "A person account's contact can't be edited or deleted directly; edit or delete the account.",
            [],
        )
    )


class RecordService:
    """Records of one org, as seen by the integration user ``user_id``.

    ``allow_duplicates`` mirrors ``Sforce-Duplicate-Rule-Header: allowSave=true``;
    ``api_version`` only shapes the URLs inside answers.
    """

    def __init__(
        self,
        org: SandboxOrg,
        schema: OrgSchema,
        *,
        user_id: str,
        api_version: str = DEFAULT_API_VERSION,
        allow_duplicates: bool = False,
    ):
        self.org = org
        self.schema = schema
        self.user_id = user_id
        self.api_version = api_version
        self.allow_duplicates = allow_duplicates
        self._numbers: deque[int] = deque()
        # With the org's one_instant_per_request, every write of this service (one API
        # call: a whole sObject Collection, a merge) is stamped with the same moment.
        self._moment = now() if org.one_instant_per_request else None

    def now(self) -> datetime:
        """The moment a write made now is stamped with."""
        return self._moment or now()

    def visible_at(self, moment: datetime) -> datetime | None:
        """When SOQL first sees a write stamped ``moment``: None (at once) unless the org
        has a commit lag (see :mod:`connectors.sandbox.lag`)."""
        lag = lag_draw(self.org, max_seconds=self.org.commit_lag_seconds, seed=self.org.commit_lag_seed,
                       counter="commit_lag_writes")
        return lag_clock.at(moment) + lag if lag else None

    def reserve(self, count: int) -> None:
        """Reserve record numbers for ``count`` new records ahead of a transaction.

        Reserving locks the org's counter; taken inside a batch's transaction, that lock
        would be held (on PostgreSQL) until the whole batch commits.
        """
        first = store.reserve_numbers(self.org, count)
        self._numbers.extend(range(first, first + count))

    def _next_number(self) -> int:
        if not self._numbers:
            self.reserve(1)
        return self._numbers.popleft()

    # --- reading --------------------------------------------------------------------------
    def get(self, obj: SObjectSchema, record_id: str, *, for_write: bool = False) -> SandboxRecord:
        """The live record ``record_id`` of ``obj``; a deleted one is "not found" to read and
        "entity is deleted" to write."""
        if not ids.is_id(record_id) or ids.sobject_of(record_id) != obj.name:
            raise errors.malformed_id(obj.name, record_id)
        row = store.get(self.org, record_id)
        if row is None or row.sobject != obj.name:
            raise errors.not_found()
        if row.is_deleted:
            raise errors.entity_is_deleted() if for_write else errors.not_found()
        return row

    def key_field(self, obj: SObjectSchema, field_name: str) -> str:
        """The canonical name of a field that can identify records (Id or an external id)."""
        spec = obj.field(field_name)
        if spec is None or not (spec.external_id or spec.name == "Id"):
            raise RecordError(
                ErrorDetail("NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {field_name}"),
                status=404,
            )
        return spec.name

    def find(self, obj: SObjectSchema, field_name: str, key: str) -> list[SandboxRecord]:
        """Live records of ``obj`` whose Id or external id ``field_name`` equals ``key``."""
        name = self.key_field(obj, field_name)
        if name == "Id":
            return [self.get(obj, key)]
        return store.find(self.org, obj.name, name, key)

    def body(self, obj: SObjectSchema, row: SandboxRecord, fields: list[str] | None = None) -> dict[str, Any]:
        """The record as REST returns it: attributes, then the fields in describe order."""
        values = store.values(obj, row)
        names = [spec.name for spec in obj.fields] if fields is None else fields
        attributes = {"type": obj.name, "url": f"/services/data/v{self.api_version}/sobjects/{obj.name}/{row.record_id}"}
        return {"attributes": attributes, **{name: values.get(name) for name in names}}

    # --- writing --------------------------------------------------------------------------
    def create(self, obj: SObjectSchema, values: dict[str, Any]) -> SandboxRecord:
        """Insert a record from API values."""
        if not obj.spec.createable:
            raise RecordError(ErrorDetail("INVALID_TYPE_FOR_OPERATION", "entity type cannot be inserted", []))
        if not self._numbers:
            self.reserve(2)  # a Person Account takes two
        with transaction.atomic():
            return self.insert(obj, self.clean(obj, values, creating=True))

    def update(self, obj: SObjectSchema, record_id: str, values: dict[str, Any]) -> SandboxRecord:
        """Change a record's fields from API values."""
        row = self.get(obj, record_id, for_write=True)
        if obj.name == "Contact" and row.data.get("IsPersonAccount"):
            raise _person_operation()
        if obj.name == "Lead" and row.data.get("IsConverted"):
            raise RecordError(ErrorDetail("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead", []))
        with transaction.atomic():
            return self.apply(obj, row, self.clean(obj, values, creating=False))

    def delete(self, obj: SObjectSchema, record_id: str) -> None:
        """Move a record to the recycle bin; an Account takes its Contacts with it."""
        if not obj.spec.deletable:
            raise RecordError(ErrorDetail("INVALID_TYPE_FOR_OPERATION", "entity type cannot be deleted", []))
        row = self.get(obj, record_id, for_write=True)
        if obj.name == "Contact" and row.data.get("IsPersonAccount"):
            raise _person_operation()
        with transaction.atomic():
            moment = self.now()
            self.mark_deleted(obj, row, moment)
            if obj.name == "Account":
                contact = self.schema.objects["Contact"]
                for child in store.related(self.org, "Contact", "AccountId", [row.record_id]):
                    self.mark_deleted(contact, child, moment)

    def upsert(
        self, obj: SObjectSchema, field_name: str, key: str, values: dict[str, Any], *, update_only: bool = False
    ) -> tuple[SandboxRecord, bool]:
        """Update the record whose ``field_name`` is ``key`` or create it; returns (row, created)."""
        name = self.key_field(obj, field_name)
        found = self.find(obj, name, key)
        if len(found) > 1:
            raise MultipleMatches(obj.name, name, found, self.api_version)
        values = {k: v for k, v in values.items() if k.lower() != name.lower()}
        if found:
            return self.update(obj, found[0].record_id, values), False
        if update_only:
            raise errors.not_found()
        return self.create(obj, {**values, name: key}), True

    # --- the steps, shared with merge and convertLead ---------------------------------------
    def clean(self, obj: SObjectSchema, values: dict[str, Any], *, creating: bool) -> dict[str, Any]:
        """API values as stored values under canonical names; refuses unknown and read-only fields."""
        changes: dict[str, Any] = {}
        read_only = []
        for key, value in values.items():
            if key == "attributes":
                continue
            spec = obj.field(key)
            if spec is None and isinstance(value, dict) and obj.relationship(key):
                spec = obj.relationship(key)
                value = self._resolve_foreign_key(spec.reference_to[0], value)
            if spec is None:
                raise errors.no_such_column(key, obj.name)
            if spec.name == "Id":
                if creating:
                    raise RecordError(
                        ErrorDetail("INVALID_FIELD_FOR_INSERT_UPDATE", "Record ID: cannot specify Id in an insert call", ["Id"])
                    )
                continue
            if not (spec.createable if creating else spec.updateable):
                read_only.append(spec.name)
                continue
            changes[spec.name] = coerce(spec, value)
        if read_only:
            raise errors.not_writable(read_only)
        return changes

    def _resolve_foreign_key(self, sobject: str, reference: dict[str, Any]) -> str:
        """``{"Account": {"External_Id__c": "A-1"}}`` names a parent by external id."""
        target = self.schema.objects[sobject]
        pairs = [(name, value) for name, value in reference.items() if name != "attributes"]
        field_name, key = pairs[0] if len(pairs) == 1 else ("", None)
        spec = target.field(field_name)
        if spec is None or not spec.external_id:
            raise errors.no_such_column(field_name, sobject)
        found = store.find(self.org, sobject, spec.name, key)
        if len(found) != 1:
            raise RecordError(
                ErrorDetail(
                    "INVALID_FIELD",
                    f"Foreign key external ID: {key} not found for field {spec.name} in entity {sobject}",
                    [],
                )
            )
        return found[0].record_id

    def defaults(self, obj: SObjectSchema) -> dict[str, Any]:
        """What a new record gets for fields the caller left out."""
        data = {spec.name: spec.default for spec in obj.fields if spec.default is not None and spec.name not in store.SYSTEM_COLUMNS}
        for name in ("OwnerId", "CreatedById", "LastModifiedById"):
            if obj.has(name):
                data[name] = self.user_id
        if obj.has("RecordTypeId") and obj.default_record_type:
            data["RecordTypeId"] = obj.default_record_type.id
        return data

    def insert(self, obj: SObjectSchema, changes: dict[str, Any], *, check_duplicates: bool = True) -> SandboxRecord:
        """Validate and save a new record from cleaned ``changes``."""
        data = {**self.defaults(obj), **changes}
        person = self._prepare(obj, data, changes, previous=None)
        self._check_references(obj, changes)
        self._check_unique(obj, data, exclude_id=None)
        if check_duplicates:
            self._check_duplicates(obj, data, exclude_id=None)
        moment = self.now()
        row = store.new_row(self.org, obj, self._next_number(), data, moment)
        contact = self._person_contact(obj, row, self._next_number(), moment) if person else None
        if contact:
            self._check_unique(self.schema.objects["Contact"], contact.data, exclude_id=None)
        row.visible_at = self.visible_at(moment)
        if contact:
            contact.visible_at = row.visible_at
        row.save()
        store.index(obj, [row])
        if contact:
            contact.save()
            store.index(self.schema.objects["Contact"], [contact])
        return row

    def bulk_create(self, obj: SObjectSchema, rows: list[dict[str, Any]]) -> list[str]:
        """Insert many records at once (seed data, benchmarks); returns their ids in order.

        Values are cleaned, defaulted and checked for required fields like any create,
        but references, uniqueness and duplicate rules are not checked: use it for
        trusted data only.
        """
        prepared = []
        for values in rows:
            changes = self.clean(obj, values, creating=True)
            data = {**self.defaults(obj), **changes}
            prepared.append((data, self._prepare(obj, data, changes, previous=None)))
        number = store.reserve_numbers(self.org, sum(2 if person else 1 for _, person in prepared))
        moment = self.now()
        records, contacts = [], []
        for data, person in prepared:
            row = store.new_row(self.org, obj, number, data, moment)
            records.append(row)
            if person:
                contacts.append(self._person_contact(obj, row, number + 1, moment))
            number += 2 if person else 1
        with transaction.atomic():
            SandboxRecord.objects.bulk_create(records, batch_size=1000)
            SandboxRecord.objects.bulk_create(contacts, batch_size=1000)
            store.index(obj, records)
            store.index(self.schema.objects["Contact"], contacts)
        return [row.record_id for row in records]

    def _person_contact(self, account: SObjectSchema, row: SandboxRecord, number: int, moment: datetime) -> SandboxRecord:
        """The (unsaved) Contact behind a new Person Account; links the two."""
        contact_obj = self.schema.objects["Contact"]
        data = {
            **self.defaults(contact_obj),
            **person_accounts.contact_values(account, row.data),
            "AccountId": row.record_id,
            "IsPersonAccount": True,
        }
        data["Name"] = person_accounts.full_name(data)
        contact = store.new_row(self.org, contact_obj, number, data, moment)
        row.data["PersonContactId"] = contact.record_id
        return contact

    def apply(
        self, obj: SObjectSchema, row: SandboxRecord, changes: dict[str, Any], *, check_duplicates: bool = True
    ) -> SandboxRecord:
        """Validate and save ``changes`` to an existing record (and its person Contact)."""
        data = {**row.data, **changes}
        person = self._prepare(obj, data, changes, previous=row.data)
        self._check_references(obj, changes)
        self._check_unique(obj, data, exclude_id=row.record_id)
        email_changed = "Email" in changes and (changes["Email"] or "").lower() != (row.data.get("Email") or "").lower()
        if check_duplicates and email_changed:
            self._check_duplicates(obj, data, exclude_id=row.record_id)
        moment = self.now()
        self.save(obj, row, data, moment)
        if person:
            contact_obj = self.schema.objects["Contact"]
            contact = store.get(self.org, data["PersonContactId"])
            contact_data = {**contact.data, **person_accounts.contact_values(obj, data)}
            contact_data["Name"] = person_accounts.full_name(contact_data)
            self._check_unique(contact_obj, contact_data, exclude_id=contact.record_id)
            self.save(contact_obj, contact, contact_data, moment)
        return row

    def mark_deleted(self, obj: SObjectSchema, row: SandboxRecord, moment: datetime, *, master_id: str = "") -> None:
        """Put a record in the recycle bin (IsDeleted), optionally as a merge loser."""
        row.is_deleted = True
        row.deleted_date = row.last_modified_date = row.system_modstamp = moment
        row.master_record_id = master_id
        row.data["LastModifiedById"] = self.user_id
        row.visible_at = self.visible_at(moment)
        row.save(update_fields=[
            "is_deleted", "deleted_date", "last_modified_date", "system_modstamp", "master_record_id", "data", "visible_at",
        ])
        store.reindex(obj, row)

    def save(self, obj: SObjectSchema, row: SandboxRecord, data: dict[str, Any], moment: datetime) -> None:
        """Store already-checked values ``data`` on ``row`` (and refresh its index entries)."""
        data["LastModifiedById"] = self.user_id
        row.data = data
        row.last_modified_date = row.system_modstamp = moment
        row.visible_at = self.visible_at(moment)
        row.save(update_fields=["data", "last_modified_date", "system_modstamp", "visible_at"])
        store.reindex(obj, row)

    def _prepare(
        self, obj: SObjectSchema, data: dict[str, Any], changes: dict[str, Any], previous: dict[str, Any] | None
    ) -> bool:
        """Apply computed fields and check required ones; returns whether it is a Person Account."""
        person = obj.name == "Account" and self.schema.person_accounts and person_accounts.is_person(obj, data)
        if obj.name == "Account" and self.schema.person_accounts:
            if previous is not None and bool(previous.get("IsPersonAccount")) != person:
                raise RecordError(
                    ErrorDetail(
                        "INVALID_PERSON_ACCOUNT_OPERATION",
                        "The record type can't change between a person account and a business account.",
                        ["RecordTypeId"],
                    )
                )
            person_accounts.check_fields(obj, changes, person=person)
            data["IsPersonAccount"] = person
            if person:
                data["Name"] = person_accounts.full_name(data)
        if obj.name in _NAMED_BY_PERSON:
            data["Name"] = person_accounts.full_name(data)
        missing = [
            spec.name for spec in obj.fields
            if spec.required and data.get(spec.name) in (None, "") and not (person and spec.name == "Name")
        ]
        if person and not data.get("LastName"):
            missing.append("LastName")
        if missing:
            raise errors.required_missing(missing)
        return person

    def _check_references(self, obj: SObjectSchema, changes: dict[str, Any]) -> None:
        references = {name: value for name, value in changes.items() if value and obj.field(name).type == "reference"}
        rows = store.get_many(self.org, references.values())
        for name, value in references.items():
            if name == "RecordTypeId":
                if obj.record_type(value) is None:
                    raise RecordError(
                        ErrorDetail(
                            "INVALID_CROSS_REFERENCE_KEY",
                            f"Record Type ID: this ID value isn't valid for the user: {value}",
                            ["RecordTypeId"],
                        )
                    )
                continue
            row = rows.get(value)
            if row is None:
                raise RecordError(ErrorDetail("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [name]))
            if row.is_deleted:
                raise RecordError(ErrorDetail("ENTITY_IS_DELETED", "entity is deleted", [name]))

    def _check_unique(self, obj: SObjectSchema, data: dict[str, Any], *, exclude_id: str | None) -> None:
        for spec in obj.fields:
            if not spec.unique or data.get(spec.name) in (None, ""):
                continue
            clash = next((r for r in store.find(self.org, obj.name, spec.name, data[spec.name]) if r.record_id != exclude_id), None)
            if clash:
                raise RecordError(
                    ErrorDetail(
                        "DUPLICATE_VALUE",
                        f"duplicate value found: {spec.name} duplicates value on record with id: {clash.record_id}",
                        [],
                    )
                )

    def _check_duplicates(self, obj: SObjectSchema, data: dict[str, Any], *, exclude_id: str | None) -> None:
        if not self.allow_duplicates:
            duplicates.check(self.org, obj.name, data, exclude_id=exclude_id, api_version=self.api_version)
