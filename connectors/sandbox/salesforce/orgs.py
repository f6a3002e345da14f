"""Creating and configuring emulated orgs (what the `sandbox` command and fixtures call)."""
from __future__ import annotations

import re
import secrets
from dataclasses import asdict, dataclass
from django.db import transaction
from django.utils.text import slugify

from connectors.sandbox import faults
from connectors.sandbox.models import SandboxField, SandboxOrg, SandboxRecord

from . import ids, seed, store
from .records import DEFAULT_API_VERSION
from .schema import CUSTOM_FIELD_TYPES, OrgSchema
from .values import now

CUSTOMIZABLE_OBJECTS = ("Account", "Contact", "Lead", "User")
# The custom fields integrations rely on, on Account, Contact and Lead of every new org.
STANDARD_CUSTOM_FIELDS = (
    {"name": "External_Id__c", "label": "External ID", "field_type": "string", "length": 80,
     "external_id": True, "unique": True},
    {"name": "Customer_Id__c", "label": "Customer ID", "field_type": "string", "length": 50},
    {"name": "Sync_To_Marketing__c", "label": "Sync to Marketing", "field_type": "boolean"},
)
_USERS = (
    ("Integration", "User", "integ"),
    ("Maria", "Nowak", "mnowak"),
    ("Jonas", "Becker", "jbecker"),
)
_API_NAME = re.compile(r"[A-Za-z](?:[A-Za-z0-9]|_(?!_))*__c")


@dataclass(frozen=True)
class LoginFacts:
    """What a connection to the org needs, as `sandbox create-org --json` prints it."""

    org_id: str
    name: str
    token_url: str
    instance_url: str
    soap_url: str
    client_id: str
    client_secret: str
    username: str
    password: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def login_facts(org: SandboxOrg, *, base_url: str, api_version: str = DEFAULT_API_VERSION) -> LoginFacts:
    """The org's login facts for a sandbox served at ``base_url``."""
    base_url = base_url.rstrip("/")
    return LoginFacts(
        org_id=org.org_id, name=org.name, token_url=f"{base_url}/services/oauth2/token", instance_url=base_url,
        soap_url=f"{base_url}/services/Soap/u/{api_version}", client_id=org.client_id,
        client_secret=org.client_secret, username=org.username, password=org.password,
    )


def org_get(org_id: str) -> SandboxOrg:
    """The org with this 15- or 18-character id; raises SandboxOrg.DoesNotExist."""
    if not ids.is_id(org_id):
        raise SandboxOrg.DoesNotExist(f"{org_id!r} is not an org ID.")
    return SandboxOrg.objects.get(org_id=ids.to18(org_id))


def org_create(
    *,
    name: str = "Sandbox org",
    person_accounts: bool = False,
    duplicate_rules: bool = False,
    daily_limit: int = 15000,
    records: int = 0,
    seed_value: int = 1,
    commit_lag_seconds: float = 0.0,
    commit_lag_seed: int = 0,
    one_instant_per_request: bool = False,
) -> SandboxOrg:
    """A new org with the standard objects, users, record types and custom fields;
    ``records`` > 0 fills it with that many realistic demo records (the records of one
    object all share one SystemModstamp, as a data load stamps them).

    ``commit_lag_seconds`` > 0 keeps each write out of SOQL for a seeded random lag of up
    to that many seconds after its SystemModstamp (:mod:`connectors.sandbox.lag`);
    ``one_instant_per_request`` stamps every record one API call writes alike."""
    if daily_limit < 1:
        raise ValueError("The daily limit must be at least 1.")
    if commit_lag_seconds < 0:
        raise ValueError("The commit lag must not be negative.")
    with transaction.atomic():
        org_id = ids.random_id(ids.ORG_PREFIX)
        domain = f"{slugify(name) or 'org'}-{org_id[-6:].lower()}.sandbox"
        org = SandboxOrg.objects.create(
            org_id=org_id, name=name, person_accounts=person_accounts, duplicate_rules=duplicate_rules,
            daily_limit=daily_limit, commit_lag_seconds=commit_lag_seconds, commit_lag_seed=commit_lag_seed,
            one_instant_per_request=one_instant_per_request, client_id=f"3MVG9{secrets.token_urlsafe(60)}"[:85],
            client_secret=secrets.token_hex(32), username=f"integration@{domain}", password=secrets.token_urlsafe(12),
        )
        SandboxField.objects.bulk_create(
            SandboxField(org=org, sobject=sobject, **spec)
            for sobject in ("Account", "Contact", "Lead")
            for spec in STANDARD_CUSTOM_FIELDS
        )
        _create_setup_records(org, domain)
    if records:
        seed.org_fill(org, records, seed_value=seed_value)
    return org


def _create_setup_records(org: SandboxOrg, domain: str) -> None:
    """The Organization record, users and record types: set-up data, written directly since
    the API can't create them."""
    schema = OrgSchema.load(org)
    users = [
        {
            "Username": org.username if n == 0 else f"{alias}@{domain}", "FirstName": first, "LastName": last,
            "Name": f"{first} {last}", "Alias": alias, "Email": f"{alias}@{domain}", "CompanyName": org.name,
            "Title": "Integration" if n == 0 else "Sales Representative", "IsActive": True, "UserType": "Standard",
        }
        for n, (first, last, alias) in enumerate(_USERS)
    ]
    record_types = [{"Name": "Business Account", "DeveloperName": "Business_Account", "SobjectType": "Account", "IsActive": True}]
    if org.person_accounts:
        record_types[0]["IsPersonType"] = False
        record_types.append(
            {"Name": "Person Account", "DeveloperName": "PersonAccount", "SobjectType": "Account", "IsActive": True,
             "IsPersonType": True}
        )
    organization = {
        "Name": org.name, "OrganizationType": "Enterprise Edition", "IsSandbox": True, "InstanceName": "SBX1",
        "Country": "DE", "DefaultLocaleSidKey": "de_DE", "LanguageLocaleKey": "en_US", "TimeZoneSidKey": "Europe/Berlin",
    }
    setup = [("User", u) for u in users] + [("RecordType", r) for r in record_types] + [("Organization", organization)]
    first = store.reserve_numbers(org, len(setup))
    integration_user = ids.make_id(ids.KEY_PREFIXES["User"], first)
    moment = now()
    rows = [
        store.new_row(
            org, schema.objects[sobject], first + offset,
            {**data, "CreatedById": integration_user, "LastModifiedById": integration_user}, moment,
        )
        for offset, (sobject, data) in enumerate(setup)
    ]
    rows[-1].record_id = org.org_id  # the Organization record's Id is the org ID
    SandboxRecord.objects.bulk_create(rows)
    store.index(schema.objects["User"], [row for row in rows if row.sobject == "User"])


def org_add_field(
    org: SandboxOrg,
    *,
    sobject: str,
    name: str,
    field_type: str,
    label: str = "",
    external_id: bool = False,
    unique: bool = False,
    required: bool = False,
    length: int = 0,
    picklist_values: tuple[str, ...] = (),
    reference_to: str = "",
) -> SandboxField:
    """Add a custom field; raises ValueError with a message for the person at the keyboard."""
    schema = OrgSchema.load(org)
    obj = schema.sobject(sobject)
    if obj is None or obj.name not in CUSTOMIZABLE_OBJECTS:
        raise ValueError(f"Custom fields can be added to {', '.join(CUSTOMIZABLE_OBJECTS)}, not {sobject!r}.")
    if not _API_NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not a custom field API name (letters, digits, single underscores, ending in __c).")
    if obj.has(name):
        raise ValueError(f"{obj.name} already has a field {name}.")
    if field_type not in CUSTOM_FIELD_TYPES:
        raise ValueError(f"Unknown field type {field_type!r}; use one of {', '.join(CUSTOM_FIELD_TYPES)}.")
    if field_type == "reference" and schema.sobject(reference_to or "") is None:
        raise ValueError("A reference field needs --reference-to with an object name, e.g. Account.")
    if field_type == "picklist" and not picklist_values:
        raise ValueError("A picklist field needs --picklist-values.")
    if (external_id or unique) and field_type not in ("string", "email", "double", "int"):
        raise ValueError("Only text, email and number fields can be external IDs or unique.")
    return SandboxField.objects.create(
        org=org, sobject=obj.name, name=name, label=label or name[:-3].replace("_", " "), field_type=field_type,
        length=length or CUSTOM_FIELD_TYPES[field_type], external_id=external_id, unique=unique, required=required,
        picklist_values=list(picklist_values), reference_to=schema.sobject(reference_to).name if reference_to else "",
    )


def org_set_faults(
    org: SandboxOrg,
    *,
    error_rate: float = 0.0,
    limit_rate: float = 0.0,
    slow_rate: float = 0.0,
    slow_ms: int = 2000,
    hang_rate: float = 0.0,
    hang_seconds: float = 30.0,
    seed_value: int = 0,
    include_auth: bool = False,
) -> SandboxOrg:
    """Set the share of calls that fail (503, REQUEST_LIMIT_EXCEEDED), are slow, or hang
    (see :mod:`connectors.sandbox.faults`)."""
    return faults.faults_set(
        org, error_rate=error_rate, limit_rate=limit_rate, slow_rate=slow_rate, slow_ms=slow_ms, hang_rate=hang_rate,
        hang_seconds=hang_seconds, seed_value=seed_value, include_auth=include_auth,
    )
