"""The demo set-up `make run` creates once: sandbox accounts with realistic data, and
connections to them, so that a newcomer can click through a working portal at once."""
from __future__ import annotations

from django.db import transaction

from connectors.sandbox.activecampaign.accounts import account_create
from connectors.sandbox.activecampaign.accounts import login_facts as activecampaign_login_facts
from connectors.sandbox.salesforce.orgs import login_facts, org_create
from syncconfig.models import Connection
from syncconfig.services import connection_set_credentials

DEMO_SALESFORCE = "Demo Salesforce org (sandbox)"
DEMO_ACTIVECAMPAIGN = "Demo ActiveCampaign account (sandbox)"


@transaction.atomic
def demo_setup(*, sandbox_url: str, records: int = 400) -> list[Connection]:
    """Create the demo sandbox accounts and their connections, unless they exist; returns
    the connections created."""
    if Connection.objects.filter(name=DEMO_SALESFORCE).exists():
        return zoho_demo_setup(sandbox_url=sandbox_url, records=max(8, records // 8))  # added to the demo later
    org = org_create(name="Acme Demo", person_accounts=True, duplicate_rules=True, records=records)
    facts = login_facts(org, base_url=sandbox_url)
    salesforce = Connection(name=DEMO_SALESFORCE, kind="salesforce", base_url=facts.instance_url)
    connection_set_credentials(connection=salesforce, values={
        "client_id": facts.client_id, "client_secret": facts.client_secret,
        "username": facts.username, "password": facts.password,
    })
    salesforce.save()
    account = activecampaign_login_facts(account_create(name="Acme Marketing", records=records // 4), base_url=sandbox_url)
    activecampaign = Connection(name=DEMO_ACTIVECAMPAIGN, kind="activecampaign", base_url=account.api_url)
    connection_set_credentials(connection=activecampaign, values={"api_key": account.api_key})
    activecampaign.save()
    person_accounts_demo_setup(org=org, salesforce=salesforce, activecampaign=activecampaign)
    return [salesforce, activecampaign, *duplicates_demo_setup(org=org, salesforce=salesforce, sandbox_url=sandbox_url),
            *lemontaps_demo_setup(org=org, salesforce=salesforce),
            *zoho_demo_setup(sandbox_url=sandbox_url, records=max(8, records // 8))]


DEMO_PERSON_ACCOUNT_SYNC = "Salesforce Person Accounts ⇄ ActiveCampaign contacts (demo)"


def person_accounts_demo_setup(*, org, salesforce: Connection, activecampaign: Connection) -> None:
    """The ActiveCampaign ⇄ Salesforce integration as the README describes it, switched on and
    immediate: Person Accounts go to ActiveCampaign from now on, and a contact tagged
    “added-to-salesforce-person-account” there becomes a Person Account (AC-9). Built from
    the sandbox's own rows, as the sandbox does not answer yet while the demo is set up; the
    workers register its notifications when they start."""
    from connectors.base import RecordType
    from connectors.sandbox.models import SandboxRecord
    from syncconfig.integrations import person_accounts as pa
    from syncconfig.models import FieldMapping, Sync

    person_type = SandboxRecord.objects.filter(org=org, sobject="RecordType", data__IsPersonType=True).order_by("record_id").first()
    if person_type is None:
        return
    sync = Sync.objects.create(
        name=DEMO_PERSON_ACCOUNT_SYNC, source=salesforce, source_object="Account", target=activecampaign,
        target_object="contact", direction=Sync.Direction.TWO_WAY, trigger=Sync.Trigger.IMMEDIATE,
        source_id_field="External_Id__c", integration=pa.PersonAccountIntegration.key, enabled=True,
    )
    for position, (sf_field, ac_field, is_key) in enumerate((("PersonEmail", "email", True), ("FirstName", "firstName", False),
                                                             ("LastName", "lastName", False), ("PersonMobilePhone", "phone", False))):
        FieldMapping.objects.create(sync=sync, source_field=sf_field, target_field=ac_field, is_key=is_key, position=position)
    record_type = RecordType(person_type.record_id, person_type.data.get("Name", "Person Account"),
                             person_type.data.get("DeveloperName", ""), is_person_type=True)
    pa.person_account_options_save(sync=sync, facts=pa.SalesforceFacts(True, [record_type], []), outbound=pa.Outbound.FROM_NOW,
                                   marker_field="", record_type_id=record_type.id, allow_lead_without_company=False,
                                   tag_cleanup=False)


DEMO_HUBSPOT = "Demo HubSpot account (sandbox)"
DEMO_HUBSPOT_SYNC = "HubSpot contacts ⇄ Salesforce Contacts (demo)"

# The duplicate situations of the seed documents, as people meet them (SPEC HS-2, HS-9, HS-10):
# one person four times in Salesforce (same email three times — an import, a manual entry —
# and once with a private email), a Lead that duplicates a Contact, an import in capitals with
# another phone format, and look-alikes that are not duplicates (a household).
_SF_CONTACTS = [
    ("jane1", {"FirstName": "Jane", "LastName": "Francis", "Email": "jane.francis@northwind.example", "Phone": "+49 30 5550101",
               "MailingStreet": "Friedrichstraße 12", "MailingCity": "Berlin", "MailingPostalCode": "10117", "MailingCountry": "Germany"}),
    ("jane2", {"FirstName": "JANE", "LastName": "FRANCIS", "Email": "Jane.Francis@northwind.example", "Phone": "030 5550101",
               "MailingCity": "BERLIN", "MailingCountry": "DE"}),
    ("jane3", {"FirstName": "Jane", "LastName": "Francis", "Email": "jane.francis@northwind.example", "Title": "Head of Purchasing",
               "MailingStreet": "Friedrichstr. 12", "MailingCity": "Berlin"}),
    ("jane4", {"FirstName": "Jane", "LastName": "F", "Email": "jane.f@gmail.com", "Phone": "+49 (30) 555-0101", "MailingCity": "Berlin"}),
    ("tom", {"FirstName": "Tom", "LastName": "Becker", "Email": "thomas.becker@elbe-logistik.example", "Phone": "+49 40 5550177",
             "MailingCity": "Hamburg", "MailingCountry": "Germany"}),
    ("anna", {"FirstName": "Anna", "LastName": "Müller", "Email": "anna.mueller@rheintal.example", "Phone": "+49 221 5550199",
              "MailingCity": "Köln", "MailingCountry": "Germany"}),
    ("piotr", {"FirstName": "Piotr", "LastName": "Nowak", "Email": "piotr.nowak@vistula.example", "Phone": "+48 22 5550123",
               "MailingStreet": "ul. Długa 5", "MailingCity": "Warszawa", "MailingCountry": "Poland"}),
    ("zofia", {"FirstName": "Zofia", "LastName": "Nowak", "Email": "zofia.nowak@vistula.example", "Phone": "+48 22 5550123",
               "MailingStreet": "ul. Długa 5", "MailingCity": "Warszawa", "MailingCountry": "Poland"}),
]
_SF_LEADS = [
    ("thomas", {"FirstName": "Thomas", "LastName": "Becker", "Email": "thomas.becker@elbe-logistik.example", "Company": "Elbe Logistik GmbH",
                "Phone": "040 5550177", "City": "Hamburg", "Status": "Open - Not Contacted"}),
    ("anna-import", {"FirstName": "ANNA", "LastName": "MUELLER", "Email": "ANNA.MUELLER@RHEINTAL.EXAMPLE", "Company": "RHEINTAL ENERGIE AG",
                     "Phone": "0049 221 555 0199", "City": "KOELN", "Status": "Open - Not Contacted"}),
]
# HubSpot contacts, with the Salesforce record each is linked to (HS-4) and activity notes (HS-7).
_HS_CONTACTS = [
    ({"email": "jane.francis@northwind.example", "firstname": "Jane", "lastname": "Francis", "phone": "+49 30 5550101",
      "company": "Northwind Traders", "city": "Berlin"}, "jane2", 3),
    ({"email": "jane.f@gmail.com", "firstname": "Jane", "lastname": "F", "phone": "+49 (30) 555-0101", "city": "Berlin"}, "jane4", 1),
    ({"email": "thomas.becker@elbe-logistik.example", "firstname": "Tom", "lastname": "Becker", "company": "Elbe Logistik"}, "tom", 0),
    ({"email": "anna.mueller@rheintal.example", "firstname": "Anna", "lastname": "Müller", "company": "Rheintal Energie"}, "anna", 2),
]


def duplicates_demo_setup(*, org, salesforce: Connection, sandbox_url: str) -> list[Connection]:
    """The HubSpot side of the demo: an account with the seed's duplicate situations, its
    connection, a HubSpot ⇄ Salesforce sync and the objects the matcher watches."""
    from connectors.sandbox.hubspot.accounts import account_create as hubspot_account_create
    from connectors.sandbox.hubspot.accounts import login_facts as hubspot_login_facts
    from connectors.sandbox.hubspot.contacts import contact_create
    from connectors.sandbox.hubspot.notes import note_create
    from connectors.sandbox.hubspot.webhooks import EventLog
    from connectors.sandbox.salesforce.seed import records_bulk_create
    from dedupe.models import MatchSource
    from syncconfig.models import FieldMapping, Sync

    if Connection.objects.filter(name=DEMO_HUBSPOT).exists():
        return []
    account_ids = records_bulk_create(org, "Account", [{"Name": "Northwind Traders GmbH"}, {"Name": "Elbe Logistik GmbH"},
                                                       {"Name": "Rheintal Energie AG"}, {"Name": "Vistula Sp. z o.o."}])
    companies = {"jane": account_ids[0], "tom": account_ids[1], "anna": account_ids[2], "piotr": account_ids[3], "zofia": account_ids[3]}
    contact_rows = [{**values, "AccountId": companies[key.rstrip("1234")]} for key, values in _SF_CONTACTS]
    ids = dict(zip([k for k, _ in _SF_CONTACTS], records_bulk_create(org, "Contact", contact_rows)))
    ids.update(zip([k for k, _ in _SF_LEADS], records_bulk_create(org, "Lead", [v for _, v in _SF_LEADS])))

    account = hubspot_account_create(name="Acme Marketing Hub")
    events = EventLog(account, "IMPORT")
    for values, linked, notes in _HS_CONTACTS:
        contact = contact_create(account, {**values, "salesforcecontactid": ids[linked]}, events)
        for n in range(notes):
            note_create(account, body=f"Call note {n + 1}: asked about the renewal.", timestamp=None, contact=contact, events=events)
    facts = hubspot_login_facts(account, base_url=sandbox_url)
    hubspot = Connection(name=DEMO_HUBSPOT, kind="hubspot", base_url=facts.base_url)
    connection_set_credentials(connection=hubspot, values={"token": facts.token, "app_id": str(facts.app_id),
                                                           "client_secret": facts.client_secret})
    hubspot.save()

    sync = Sync.objects.create(
        name=DEMO_HUBSPOT_SYNC, source=hubspot, source_object="contacts", target=salesforce, target_object="Contact",
        direction=Sync.Direction.TWO_WAY, trigger=Sync.Trigger.IMMEDIATE, enabled=True,
    )
    for source_field, target_field, is_key in (("email", "Email", True), ("firstname", "FirstName", False),
                                               ("lastname", "LastName", False), ("phone", "Phone", False)):
        FieldMapping.objects.create(sync=sync, source_field=source_field, target_field=target_field, is_key=is_key)
    for connection, obj in ((salesforce, "Contact"), (salesforce, "Lead"), (hubspot, "contacts")):
        MatchSource.objects.get_or_create(connection=connection, object_name=obj,
                                          defaults={"exact_fields": ["Email" if connection.kind == "salesforce" else "email"]})
    return [hubspot]



DEMO_LEMONTAPS = "Demo Lemontaps captures"
DEMO_LEMONTAPS_SYNC = "Lemontaps captures → Salesforce Leads (demo)"


def field_user_email(org) -> str:
    """The demo field user's email: a Salesforce user of the org's, so that the Leads they
    push are theirs in Salesforce (SPEC LT-7)."""
    from connectors.sandbox.models import SandboxRecord

    row = SandboxRecord.objects.filter(org=org, sobject="User", data__Alias="mnowak").first()
    return row.data["Email"] if row else "fielduser@example.com"


def lemontaps_demo_setup(*, org, salesforce: Connection) -> list[Connection]:
    """Captured contacts for a field user to push: a Lemontaps connection with captures of a
    trade fair (one a Lead Salesforce already has, one likely a Contact it has under another
    email, one without a company), and its sync."""
    from connectors.lemontaps import capture_parse
    from connectors.sandbox.lemontaps import captures_generate
    from connectors.sandbox.salesforce.orgs import org_add_field
    from syncconfig.captures import capture_store
    from syncconfig.integrations.lemontaps_salesforce import LemontapsOptions
    from syncconfig.models import Sync

    if Connection.objects.filter(name=DEMO_LEMONTAPS).exists():
        return []
    for sobject in ("Lead", "Contact"):
        org_add_field(org, sobject=sobject, name="Met_On__c", field_type="date", label="Met on")
    lemontaps = Connection(name=DEMO_LEMONTAPS, kind="lemontaps", base_url="https://app.lemontaps.com")
    connection_set_credentials(connection=lemontaps, values={})
    lemontaps.save()
    sync = Sync.objects.create(name=DEMO_LEMONTAPS_SYNC, source=lemontaps, source_object="captured_contact",
                               target=salesforce, target_object="Lead", integration="lemontaps_salesforce")
    LemontapsOptions(create_as="Lead", field_users_may_push=True, met_on_field="Met_On__c").save(sync)
    email = field_user_email(org)
    bodies = captures_generate(4, captured_by=email, seed=3)
    bodies.append({"id": "lt-fair-becker", "captured_by": email, "first_name": "Thomas", "last_name": "Becker",
                   "company": "Elbe Logistik GmbH", "email": "thomas.becker@elbe-logistik.example", "met_on": "2025-03-01"})
    # Tom Becker again, with his private email: only matching tells he is in Salesforce already.
    bodies.append({"id": "lt-fair-tom", "captured_by": email, "first_name": "Tom", "last_name": "Becker",
                   "company": "Elbe Logistik GmbH", "email": "tom.becker@mail.example", "phone_work": "+49 40 5550177",
                   "city": "Hamburg", "met_on": "2025-03-02"})
    bodies.append({"id": "lt-fair-nocompany", "captured_by": email, "first_name": "Lena", "last_name": "Vogel",
                   "email": "lena.vogel@private.example", "notes": "No business card; company unknown.", "met_on": "2025-03-01"})
    for body in bodies:
        capture_store(connection=lemontaps, capture=capture_parse(body))
    return [lemontaps]


DEMO_ZOHO_CRM = "Demo Zoho CRM (sandbox)"
DEMO_ZOHO_CAMPAIGNS = "Demo Zoho Campaigns (sandbox)"
DEMO_ZOHO_SYNC = "Zoho CRM Contacts → Campaigns newsletter (demo)"
DEMO_ZOHO_LEGACY_LEADS = "Zoho CRM Leads → Campaigns, legacy immediate (demo)"
DEMO_ZOHO_LEGACY_ACCOUNTS = "Zoho CRM Accounts → Campaigns, legacy weekly (demo)"


def zoho_demo_setup(*, sandbox_url: str, records: int = 50) -> list[Connection]:
    """A Zoho organisation (CRM and Campaigns, one newsletter list) with its two connections;
    a new-model sync of Contacts, switched on through ``sync_enable`` (which subscribes the
    CRM notification channel) once the set-up is committed, so that the sandbox sees the
    organisation (under ``make run`` the sandbox does not answer yet: the workers' first
    connection check subscribes it); and a legacy configuration of Leads (immediate, a monthly limit, a
    criteria filter) and Accounts (weekly) for the admin to migrate after a preview (ZO-6)."""
    from connectors.sandbox.zoho.orgs import login_facts as zoho_login_facts
    from connectors.sandbox.zoho.orgs import org_create as zoho_org_create
    from syncconfig import zoho
    from syncconfig.integrations.zoho_campaigns import ZohoCampaignsIntegration
    from syncconfig.integrations.zoho_campaigns_legacy import Frequency, ZohoCampaignsLegacyIntegration
    from syncconfig.models import Sync, SyncRule
    from syncconfig.services import sync_enable

    if Connection.objects.filter(name=DEMO_ZOHO_CRM).exists():
        return []
    org = zoho_org_create(name="Acme Zoho Demo", records=records, list_name="Newsletter")
    facts = zoho_login_facts(org, base_url=sandbox_url)
    grant = {"accounts_url": facts.accounts_url, "client_id": facts.client_id, "client_secret": facts.client_secret,
             "refresh_token": facts.refresh_token}
    crm = Connection(name=DEMO_ZOHO_CRM, kind="zoho_crm", base_url=facts.api_domain)
    connection_set_credentials(connection=crm, values=grant)
    crm.save()
    campaigns = Connection(name=DEMO_ZOHO_CAMPAIGNS, kind="zoho_campaigns", base_url=facts.campaigns_url)
    connection_set_credentials(connection=campaigns, values=grant)
    campaigns.save()
    mailing_list = org.mailing_lists.get()
    listkey, labels = mailing_list.listkey, {"object_labels": {"target": mailing_list.listname}}

    contacts = Sync.objects.create(
        name=DEMO_ZOHO_SYNC, source=crm, source_object="Contacts", target=campaigns, target_object=listkey,
        direction=Sync.Direction.TWO_WAY, trigger=Sync.Trigger.IMMEDIATE, integration=ZohoCampaignsIntegration.key, options=labels)
    leads = Sync.objects.create(
        name=DEMO_ZOHO_LEGACY_LEADS, source=crm, source_object="Leads", target=campaigns, target_object=listkey,
        direction=Sync.Direction.SOURCE_TO_TARGET, trigger=Sync.Trigger.IMMEDIATE,
        integration=ZohoCampaignsLegacyIntegration.key, options=dict(labels))
    zoho.legacy_options_save(sync=leads, trigger=Sync.Trigger.IMMEDIATE, frequency=Frequency.DAILY, monthly_limit=500)
    SyncRule.objects.create(sync=leads, kind=SyncRule.Kind.SCOPE, field="Lead_Source",
                            operator=SyncRule.Operator.NOT_EQUALS, value="Cold Call")  # a legacy custom view
    accounts = Sync.objects.create(
        name=DEMO_ZOHO_LEGACY_ACCOUNTS, source=crm, source_object="Accounts", target=campaigns, target_object=listkey,
        direction=Sync.Direction.SOURCE_TO_TARGET, trigger=Sync.Trigger.PERIODIC,
        integration=ZohoCampaignsLegacyIntegration.key, options=dict(labels))
    zoho.legacy_options_save(sync=accounts, trigger=Sync.Trigger.PERIODIC, frequency=Frequency.WEEKLY, monthly_limit=4)

    def switch_on() -> None:
        for sync in (contacts, leads, accounts):
            sync_enable(sync=sync, enabled=True)

    transaction.on_commit(switch_on)
    return [crm, campaigns]
