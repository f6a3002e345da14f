"""The objects and fields of an emulated org: standard ones in code, custom ones per org.

Every org has Account, Contact, Lead, User, RecordType and Organization with the standard
fields integrations use. Person-Account fields exist only in orgs with Person Accounts; there,
each custom Contact field ``Foo__c`` also shows on Account as ``Foo__pc``
(SOAP API Developer Guide, "Person Accounts"). :class:`OrgSchema` answers the SOQL
engine's ``Schema`` protocol, so queries see exactly what describe shows.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Iterable

from connectors.sandbox import soql

from . import ids

# --- field types ----------------------------------------------------------------------------
TEXT_TYPES = frozenset({"string", "textarea", "email", "phone", "url", "picklist"})
NUMBER_TYPES = frozenset({"int", "double", "currency", "percent"})
SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
    "int": "xsd:int",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
}
# Types `sandbox add-field` accepts, with the length a new field of that type gets.
CUSTOM_FIELD_TYPES = {
    "string": 255, "textarea": 32768, "email": 80, "phone": 40, "url": 255, "picklist": 255,
    "boolean": 0, "date": 0, "datetime": 0, "double": 0, "int": 0, "currency": 0, "percent": 0,
    "reference": 18,
}


@dataclass(frozen=True)
class FieldSpec:
    """One field as describe shows it; ``default`` is what a new record gets when left out.

    ``person_only`` fields exist only with Person Accounts; ``twin_of`` names the Contact
    field a ``__pc`` field mirrors.
    """

    name: str
    label: str
    type: str
    length: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    unique: bool = False
    external_id: bool = False
    custom: bool = False
    picklist: tuple[str, ...] = ()
    restricted: bool = False
    default: Any = None
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    calculated: bool = False
    name_field: bool = False
    person_only: bool = False
    twin_of: str | None = None

    @property
    def required(self) -> bool:
        """Salesforce refuses a create without it (not nillable, no default, writable)."""
        return not self.nillable and self.createable and not self.defaulted_on_create

    @property
    def defaulted_on_create(self) -> bool:
        return self.default is not None or self.calculated or self.name in _SYSTEM_DEFAULTED

    @property
    def id_lookup(self) -> bool:
        return self.type == "id" or self.external_id or self.name in ("Email", "Username", "Name")

    @property
    def soap_type(self) -> str:
        return SOAP_TYPES.get(self.type, "xsd:string")


_SYSTEM_DEFAULTED = frozenset({"OwnerId", "RecordTypeId"})


def _text(name: str, label: str, length: int, **kw: Any) -> FieldSpec:
    return FieldSpec(name, label, kw.pop("type", "string"), length, **kw)


def _flag(name: str, label: str, default: bool = False, **kw: Any) -> FieldSpec:
    return FieldSpec(name, label, "boolean", nillable=False, default=default, **kw)


def _ref(name: str, label: str, target: str, relationship: str, **kw: Any) -> FieldSpec:
    return FieldSpec(name, label, "reference", 18, reference_to=(target,), relationship_name=relationship, **kw)


def _readonly(spec: FieldSpec) -> FieldSpec:
    return replace(spec, createable=False, updateable=False)


SALUTATIONS = ("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.", "Mx.")
LEAD_SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Trade Show", "Lemontaps", "Other")
LEAD_STATUSES = ("Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted")
CONVERTED_LEAD_STATUSES = frozenset({"Closed - Converted"})
INDUSTRIES = (
    "Agriculture", "Banking", "Consulting", "Education", "Electronics", "Energy", "Finance", "Healthcare",
    "Manufacturing", "Media", "Retail", "Technology", "Telecommunications", "Other",
)
ACCOUNT_TYPES = ("Prospect", "Customer - Direct", "Customer - Channel", "Partner", "Other")


def _system_fields(sobject: str, *, mergeable: bool) -> tuple[list[FieldSpec], list[FieldSpec]]:
    """(head, tail): Id/IsDeleted/MasterRecordId first, audit fields last, as describe orders them."""
    head = [FieldSpec("Id", f"{sobject} ID", "id", 18, nillable=False, createable=False, updateable=False)]
    if mergeable:
        head += [
            _readonly(_flag("IsDeleted", "Deleted")),
            _readonly(_ref("MasterRecordId", "Master Record ID", sobject, "MasterRecord")),
        ]
    tail = [
        _readonly(FieldSpec("CreatedDate", "Created Date", "datetime", nillable=False)),
        _readonly(_ref("CreatedById", "Created By ID", "User", "CreatedBy", nillable=False)),
        _readonly(FieldSpec("LastModifiedDate", "Last Modified Date", "datetime", nillable=False)),
        _readonly(_ref("LastModifiedById", "Last Modified By ID", "User", "LastModifiedBy", nillable=False)),
        _readonly(FieldSpec("SystemModstamp", "System Modstamp", "datetime", nillable=False)),
    ]
    return head, tail


def _address(prefix: str, label: str, *, person_only: bool = False) -> list[FieldSpec]:
    return [
        _text(f"{prefix}Street", f"{label} Street", 255, type="textarea", person_only=person_only),
        _text(f"{prefix}City", f"{label} City", 40, person_only=person_only),
        _text(f"{prefix}State", f"{label} State/Province", 80, person_only=person_only),
        _text(f"{prefix}PostalCode", f"{label} Zip/Postal Code", 20, person_only=person_only),
        _text(f"{prefix}Country", f"{label} Country", 80, person_only=person_only),
    ]


def _owner() -> FieldSpec:
    return _ref("OwnerId", "Owner ID", "User", "Owner", nillable=False)


def _person_name(person_only: bool) -> list[FieldSpec]:
    return [
        _text("FirstName", "First Name", 40, person_only=person_only),
        _text("LastName", "Last Name", 80, person_only=person_only, nillable=person_only),
        _text("Salutation", "Salutation", 40, type="picklist", picklist=SALUTATIONS, person_only=person_only),
    ]


@dataclass(frozen=True)
class ObjectSpec:
    """An sObject's standard definition."""

    name: str
    label: str
    label_plural: str
    fields: tuple[FieldSpec, ...]
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    mergeable: bool = False

    @property
    def key_prefix(self) -> str:
        return ids.KEY_PREFIXES[self.name]


def _account() -> ObjectSpec:
    head, tail = _system_fields("Account", mergeable=True)
    name = _text("Name", "Account Name", 255, nillable=False, name_field=True)
    business = [
        name,
        _text("Type", "Account Type", 255, type="picklist", picklist=ACCOUNT_TYPES),
        _ref("RecordTypeId", "Record Type ID", "RecordType", "RecordType"),
        _ref("ParentId", "Parent Account ID", "Account", "Parent"),
        *_address("Billing", "Billing"),
        *_address("Shipping", "Shipping"),
        _text("Phone", "Account Phone", 40, type="phone"),
        _text("Fax", "Account Fax", 40, type="phone"),
        _text("AccountNumber", "Account Number", 40),
        _text("Website", "Website", 255, type="url"),
        _text("Industry", "Industry", 255, type="picklist", picklist=INDUSTRIES),
        FieldSpec("AnnualRevenue", "Annual Revenue", "currency"),
        FieldSpec("NumberOfEmployees", "Employees", "int"),
        _text("Description", "Account Description", 32000, type="textarea"),
        _owner(),
    ]
    person = [
        *_person_name(person_only=True),
        _readonly(_flag("IsPersonAccount", "Is Person Account", person_only=True)),
        _readonly(_ref("PersonContactId", "Person Contact ID", "Contact", "PersonContact", person_only=True)),
        *_address("PersonMailing", "Mailing", person_only=True),
        _text("PersonMobilePhone", "Mobile", 40, type="phone", person_only=True),
        _text("PersonHomePhone", "Home Phone", 40, type="phone", person_only=True),
        _text("PersonEmail", "Email", 80, type="email", person_only=True),
        _text("PersonTitle", "Title", 80, person_only=True),
        _text("PersonDepartment", "Department", 80, person_only=True),
        _text("PersonLeadSource", "Lead Source", 255, type="picklist", picklist=LEAD_SOURCES, person_only=True),
        FieldSpec("PersonBirthdate", "Birthdate", "date", person_only=True),
        _flag("PersonHasOptedOutOfEmail", "Email Opt Out", person_only=True),
    ]
    return ObjectSpec("Account", "Account", "Accounts", (*head, *business, *person, *tail), mergeable=True)


def _contact() -> ObjectSpec:
    head, tail = _system_fields("Contact", mergeable=True)
    fields = [
        _ref("AccountId", "Account ID", "Account", "Account"),
        *_person_name(person_only=False),
        _readonly(_text("Name", "Full Name", 121, nillable=False, calculated=True, name_field=True)),
        *_address("Mailing", "Mailing"),
        _text("Phone", "Business Phone", 40, type="phone"),
        _text("Fax", "Business Fax", 40, type="phone"),
        _text("MobilePhone", "Mobile Phone", 40, type="phone"),
        _text("HomePhone", "Home Phone", 40, type="phone"),
        _text("Email", "Email", 80, type="email"),
        _text("Title", "Title", 128),
        _text("Department", "Department", 80),
        _text("LeadSource", "Lead Source", 255, type="picklist", picklist=LEAD_SOURCES),
        FieldSpec("Birthdate", "Birthdate", "date"),
        _text("Description", "Contact Description", 32000, type="textarea"),
        _owner(),
        _flag("HasOptedOutOfEmail", "Email Opt Out"),
        _flag("DoNotCall", "Do Not Call"),
        _readonly(_flag("IsPersonAccount", "Is Person Account", person_only=True)),
    ]
    return ObjectSpec("Contact", "Contact", "Contacts", (*head, *fields, *tail), mergeable=True)


def _lead() -> ObjectSpec:
    head, tail = _system_fields("Lead", mergeable=True)
    fields = [
        *_person_name(person_only=False),
        _readonly(_text("Name", "Full Name", 121, nillable=False, calculated=True, name_field=True)),
        _text("Title", "Title", 128),
        _text("Company", "Company", 255, nillable=False),
        _text("Street", "Street", 255, type="textarea"),
        _text("City", "City", 40),
        _text("State", "State/Province", 80),
        _text("PostalCode", "Zip/Postal Code", 20),
        _text("Country", "Country", 80),
        _text("Phone", "Phone", 40, type="phone"),
        _text("MobilePhone", "Mobile Phone", 40, type="phone"),
        _text("Email", "Email", 80, type="email"),
        _text("Website", "Website", 255, type="url"),
        _text("Description", "Description", 32000, type="textarea"),
        _text("LeadSource", "Lead Source", 255, type="picklist", picklist=LEAD_SOURCES),
        _text("Status", "Lead Status", 255, type="picklist", picklist=LEAD_STATUSES, restricted=True,
              nillable=False, default=LEAD_STATUSES[0]),
        _text("Industry", "Industry", 255, type="picklist", picklist=INDUSTRIES),
        FieldSpec("AnnualRevenue", "Annual Revenue", "currency"),
        FieldSpec("NumberOfEmployees", "Employees", "int"),
        _owner(),
        _flag("HasOptedOutOfEmail", "Email Opt Out"),
        _flag("DoNotCall", "Do Not Call"),
        _readonly(_flag("IsConverted", "Converted")),
        _readonly(FieldSpec("ConvertedDate", "Converted Date", "date")),
        _readonly(_ref("ConvertedAccountId", "Converted Account ID", "Account", "ConvertedAccount")),
        _readonly(_ref("ConvertedContactId", "Converted Contact ID", "Contact", "ConvertedContact")),
    ]
    return ObjectSpec("Lead", "Lead", "Leads", (*head, *fields, *tail), mergeable=True)


def _user() -> ObjectSpec:
    head, tail = _system_fields("User", mergeable=False)
    fields = [
        _text("Username", "Username", 80, nillable=False, unique=True),
        _text("LastName", "Last Name", 80, nillable=False),
        _text("FirstName", "First Name", 40),
        _readonly(_text("Name", "Full Name", 121, nillable=False, calculated=True, name_field=True)),
        _text("CompanyName", "Company Name", 80),
        _text("Department", "Department", 80),
        _text("Title", "Title", 80),
        _text("Email", "Email", 128, type="email", nillable=False),
        _text("Alias", "Alias", 8, nillable=False),
        _flag("IsActive", "Active", default=True),
        _readonly(_text("UserType", "User Type", 40, type="picklist", picklist=("Standard",), default="Standard")),
    ]
    return ObjectSpec("User", "User", "Users", (*head, *fields, *tail), deletable=False)


def _record_type() -> ObjectSpec:
    head, tail = _system_fields("RecordType", mergeable=False)
    fields = [
        _text("Name", "Record Type Name", 80, nillable=False, name_field=True),
        _text("DeveloperName", "Record Type Name", 80, nillable=False),
        _text("Description", "Description", 255),
        _text("SobjectType", "SObject Type Name", 40, type="picklist", nillable=False,
              picklist=("Account", "Contact", "Lead")),
        _flag("IsActive", "Active"),
        _readonly(_flag("IsPersonType", "Is Person Type", person_only=True)),
    ]
    return ObjectSpec(
        "RecordType", "Record Type", "Record Types", tuple(_readonly(f) for f in (*head, *fields, *tail)),
        createable=False, updateable=False, deletable=False,
    )


def _organization() -> ObjectSpec:
    head, tail = _system_fields("Organization", mergeable=False)
    fields = [
        _text("Name", "Name", 80, nillable=False, name_field=True),
        _text("OrganizationType", "Edition", 40, type="picklist", picklist=("Developer Edition", "Enterprise Edition")),
        _flag("IsSandbox", "Is Sandbox"),
        _text("InstanceName", "Instance Name", 5),
        _text("NamespacePrefix", "Namespace Prefix", 15),
        _text("Country", "Country", 80),
        _text("DefaultLocaleSidKey", "Locale", 40, type="picklist", picklist=("de_DE", "en_US", "pl_PL")),
        _text("LanguageLocaleKey", "Language", 40, type="picklist", picklist=("en_US", "de", "pl")),
        _text("TimeZoneSidKey", "Time Zone", 40, type="picklist", picklist=("Europe/Berlin", "Europe/Warsaw", "GMT")),
    ]
    return ObjectSpec(
        "Organization", "Organization", "Organizations", tuple(_readonly(f) for f in (*head, *fields, *tail)),
        createable=False, updateable=False, deletable=False,
    )


STANDARD_OBJECTS: dict[str, ObjectSpec] = {
    spec.name: spec for spec in (_account(), _contact(), _lead(), _user(), _record_type(), _organization())
}

# Fields whose values are indexed for lookups besides unique and external-id ones.
_INDEXED_STANDARD = frozenset({"Email", "PersonEmail"})


def custom_field_spec(
    *,
    name: str,
    label: str,
    field_type: str,
    length: int = 0,
    external_id: bool = False,
    unique: bool = False,
    required: bool = False,
    picklist_values: Iterable[str] = (),
    reference_to: str = "",
) -> FieldSpec:
    """The describe view of a custom field (as `sandbox add-field` defines it)."""
    if field_type == "boolean":
        return FieldSpec(name, label, "boolean", nillable=False, default=False, custom=True)
    return FieldSpec(
        name, label, field_type, length or CUSTOM_FIELD_TYPES.get(field_type, 0),
        nillable=not required, unique=unique, external_id=external_id, custom=True,
        picklist=tuple(picklist_values),
        reference_to=(reference_to,) if reference_to else (),
        relationship_name=name[:-3] + "__r" if field_type == "reference" else None,
    )


def _person_twin(spec: FieldSpec) -> FieldSpec:
    """Contact's ``Foo__c`` as Account's ``Foo__pc``."""
    relationship = spec.relationship_name[:-3] + "__pr" if spec.relationship_name else None
    return replace(spec, name=spec.name[:-3] + "__pc", twin_of=spec.name, person_only=True, relationship_name=relationship)


@dataclass(frozen=True)
class RecordTypeInfo:
    """A record type of the org (the RecordType rows, read once per request)."""

    id: str
    name: str
    developer_name: str
    sobject: str
    active: bool
    is_person: bool


@dataclass
class SObjectSchema:
    """One object as one org has it: standard fields, its custom fields, its record types."""

    spec: ObjectSpec
    fields: list[FieldSpec]
    record_types: list[RecordTypeInfo] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_name = {f.name.lower(): f for f in self.fields}
        self.boolean_fields = [f.name for f in self.fields if f.type == "boolean" and f.name != "IsDeleted"]
        self._by_relationship = {f.relationship_name.lower(): f for f in self.fields if f.relationship_name}

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def key_prefix(self) -> str:
        return self.spec.key_prefix

    def field(self, name: str) -> FieldSpec | None:
        return self._by_name.get(name.lower())

    def relationship(self, name: str) -> FieldSpec | None:
        return self._by_relationship.get(name.lower())

    def has(self, name: str) -> bool:
        return name.lower() in self._by_name

    @property
    def indexed_fields(self) -> list[FieldSpec]:
        """Fields kept in the key index: unique, external id, emails."""
        return [f for f in self.fields if f.unique or f.external_id or f.name in _INDEXED_STANDARD]

    def record_type(self, record_type_id: str) -> RecordTypeInfo | None:
        return next((rt for rt in self.record_types if rt.id[:15] == record_type_id[:15]), None)

    @property
    def default_record_type(self) -> RecordTypeInfo | None:
        """The business (non-person) record type new records get when none is given."""
        return next((rt for rt in self.record_types if rt.active and not rt.is_person), None)

    @property
    def person_record_type(self) -> RecordTypeInfo | None:
        return next((rt for rt in self.record_types if rt.active and rt.is_person), None)


class OrgSchema:
    """All objects of one org; implements the SOQL engine's ``Schema`` protocol."""

    def __init__(
        self,
        *,
        person_accounts: bool,
        custom_fields: dict[str, list[FieldSpec]],
        record_types: Iterable[RecordTypeInfo],
    ):
        self.person_accounts = person_accounts
        record_types = list(record_types)
        self.objects: dict[str, SObjectSchema] = {}
        for spec in STANDARD_OBJECTS.values():
            fields = [self._adapt(spec.name, f) for f in spec.fields if person_accounts or not f.person_only]
            fields += custom_fields.get(spec.name, [])
            if person_accounts and spec.name == "Account":
                fields += [_person_twin(f) for f in custom_fields.get("Contact", [])]
            self.objects[spec.name] = SObjectSchema(spec, fields, [rt for rt in record_types if rt.sobject == spec.name])
        self._by_lower = {name.lower(): obj for name, obj in self.objects.items()}

    def _adapt(self, sobject: str, spec: FieldSpec) -> FieldSpec:
        # With Person Accounts, a Lead without Company converts to a Person Account, so
        # Company may be blank (SOAP API guide, convertLead(), "Person Accounts").
        if self.person_accounts and sobject == "Lead" and spec.name == "Company":
            return replace(spec, nillable=True)
        return spec

    @classmethod
    def load(cls, org: Any) -> OrgSchema:
        """The schema of ``org`` (a SandboxOrg): two queries, custom fields and record types."""
        from connectors.sandbox.models import SandboxField, SandboxRecord

        custom: dict[str, list[FieldSpec]] = {}
        for row in SandboxField.objects.filter(org=org).order_by("id"):
            custom.setdefault(row.sobject, []).append(
                custom_field_spec(
                    name=row.name, label=row.label, field_type=row.field_type, length=row.length,
                    external_id=row.external_id, unique=row.unique, required=row.required,
                    picklist_values=row.picklist_values, reference_to=row.reference_to,
                )
            )
        record_types = [
            RecordTypeInfo(
                id=record_id, name=data["Name"], developer_name=data["DeveloperName"], sobject=data["SobjectType"],
                active=data.get("IsActive", True), is_person=bool(data.get("IsPersonType")),
            )
            for record_id, data in SandboxRecord.objects.filter(org=org, sobject="RecordType")
            .order_by("number").values_list("record_id", "data")
        ]
        return cls(person_accounts=org.person_accounts, custom_fields=custom, record_types=record_types)

    def sobject(self, name: str) -> SObjectSchema | None:
        return self._by_lower.get(name.lower())

    # --- the SOQL engine's Schema protocol ---------------------------------------------------
    def canonical_sobject(self, name: str) -> str | None:
        obj = self.sobject(name)
        return obj.name if obj else None

    def field(self, sobject: str, name: str) -> soql.FieldInfo | None:
        spec = self.objects[sobject].field(name)
        return soql.FieldInfo(spec.name, spec.type) if spec else None

    def relationship(self, sobject: str, name: str) -> soql.Relationship | None:
        spec = self.objects[sobject].relationship(name)
        if spec is None or not spec.reference_to or spec.reference_to[0] not in self.objects:
            return None
        return soql.Relationship(spec.relationship_name, spec.name, spec.reference_to[0])
