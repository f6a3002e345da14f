"""Pre-flight in a run: Salesforce → Salesforce over the sandbox, no web, no worker. Bad values
fail their own record before anything is sent, naming the field; good records arrive; a retry
validates again before it writes; a duplicate rule's refusal names the existing record."""
import pytest

from connectors.sandbox.models import SandboxRecord
from connectors.sandbox.salesforce.orgs import org_add_field, org_get
from connectors.sandbox.salesforce.seed import records_bulk_create
from syncconfig import engine
from syncconfig.models import RecordError, Sync, SyncRun
from syncconfig.services import connection_connector
from tests.factories import FieldMappingFactory, SyncFactory, salesforce_connection

pytestmark = pytest.mark.django_db(transaction=True)
# The source keeps email and birthdate as free text (as an import would), so that it can hold
# what the target refuses: source field → target field.
FIELDS = {"Mail__c": "Email", "FirstName": "FirstName", "LastName": "LastName", "Phone": "Phone", "Born__c": "Birthdate",
          "Description": "Description"}


def control_character() -> str:
    """A null byte where the sandbox can hold one; PostgreSQL's jsonb cannot (nor does any
    vendor keep one), so there another control character stands in for it."""
    from django.db import connection

    return "\x01" if connection.vendor == "postgresql" else "\x00"


def make_sync(source, target, *, key=True):
    for name in ("Mail__c", "Born__c"):
        org_add_field(org_get(source.org_id), sobject="Contact", name=name, field_type="string", length=255)
    sync = SyncFactory(source=salesforce_connection(source, "Source"), source_object="Contact",
                       target=salesforce_connection(target, "Target"), target_object="Contact",
                       target_id_field="External_Id__c", enabled=True)
    for position, (source_field, target_field) in enumerate(FIELDS.items()):
        FieldMappingFactory(sync=sync, source_field=source_field, target_field=target_field, position=position,
                            is_key=key and target_field == "Email")
    return sync


def people(n):
    return [{"FirstName": f"Ada{i}", "LastName": f"Lovelace{i}", "Mail__c": f"ada{i}@example.com", "Phone": f"+44 20 7946 {i:04d}"}
            for i in range(n)]


def run(sync):
    return engine.sync_run_execute(SyncRun.objects.create(sync=Sync.objects.get(pk=sync.pk), trigger=SyncRun.Trigger.MANUAL))


def retry(sync, errors):
    run = SyncRun.objects.create(sync=Sync.objects.get(pk=sync.pk), trigger=SyncRun.Trigger.RETRY)
    return engine.sync_retry_execute(run, [e.pk for e in errors])


def target_emails(facts):
    return sorted(r.data["Email"] for r in SandboxRecord.objects.filter(org__org_id=facts.org_id, sobject="Contact", is_deleted=False))


@pytest.fixture
def sent(monkeypatch):
    """The records of every write call the engine makes."""
    batches = []
    real = engine._write

    def spy(direction, action, changes):
        batches.append([c.record.id for c in changes])
        return real(direction, action, changes)

    monkeypatch.setattr(engine, "_write", spy)
    return batches


def test_co2_bad_values_fail_alone_before_sending_with_the_field_and_every_good_record_arrives(make_salesforce_org, sent):
    source, target = make_salesforce_org(name="Source org"), make_salesforce_org(name="Target org")
    sync = make_sync(source, target)
    rows = people(7)
    rows[1]["Mail__c"] = "not-an-email"
    rows[2]["LastName"] = "   "
    rows[3]["Born__c"] = "31/12/2024"
    rows[4]["Description"] = f"a null{control_character()}byte"
    rows[5]["Phone"] = "call me maybe"
    ids = records_bulk_create(org_get(source.org_id), "Contact", rows)

    result = run(sync)

    assert (result.status, result.created_count, result.failed_count) == ("partial", 2, 5)
    assert target_emails(target) == ["ada0@example.com", "ada6@example.com"]
    assert sorted(r for batch in sent for r in batch) == sorted([ids[0], ids[6]])  # no bad record took a place in a batch
    errors = {e.record_id: e for e in RecordError.objects.filter(sync=sync)}
    assert {ids[n]: (errors[ids[n]].field, errors[ids[n]].error_class) for n in range(1, 6)} == {
        ids[1]: ("Email", "validation"), ids[2]: ("LastName", "required_field"), ids[3]: ("Birthdate", "validation"),
        ids[4]: ("Description", "validation"), ids[5]: ("Phone", "validation"),
    }
    assert errors[ids[1]].message.startswith("Email (Email) “not-an-email”: is not an email address")
    assert "is required and the value is only whitespace" in errors[ids[2]].message
    assert "YYYY-MM-DD" in errors[ids[3]].message and repr(control_character())[1:-1] in errors[ids[4]].message
    # The failure keeps what the record carried, the null byte written out (PostgreSQL stores none).
    assert "\x00" not in str(errors[ids[4]].payload) and "null" in str(errors[ids[4]].payload)
    # Nothing with a control character was sent anywhere.
    assert not any(control_character() in str(r.data) for r in SandboxRecord.objects.filter(org__org_id=target.org_id))


def test_co2_a_retry_validates_again_first_and_writes_only_once_the_value_is_fixed(make_salesforce_org, sent):
    source, target = make_salesforce_org(name="Source org"), make_salesforce_org(name="Target org")
    sync = make_sync(source, target)
    rows = people(2)
    rows[1]["Mail__c"] = "ada1@example"
    ids = records_bulk_create(org_get(source.org_id), "Contact", rows)
    run(sync)
    sent.clear()

    again = retry(sync, RecordError.objects.filter(sync=sync, state=RecordError.State.OPEN))
    failure = RecordError.objects.get(sync=sync, state=RecordError.State.OPEN)
    assert (again.failed_count, failure.attempts, failure.field) == (1, 2, "Email") and sent == []

    connection_connector(sync.source).update("Contact", [{"Id": ids[1], "Mail__c": "ada1@example.com"}])
    fixed = retry(sync, [failure])
    assert (fixed.created_count, fixed.failed_count) == (1, 0) and sent == [[ids[1]]]
    assert target_emails(target) == ["ada0@example.com", "ada1@example.com"]


def test_co2_a_duplicate_rule_refusal_names_the_existing_record(make_salesforce_org):
    source, target = make_salesforce_org(name="Source org"), make_salesforce_org(name="Target org", duplicate_rules=True)
    sync = make_sync(source, target, key=False)  # no key to find partners by: the create meets the rule
    [existing] = records_bulk_create(org_get(target.org_id), "Contact", [{"LastName": "Lovelace", "Email": "ada0@example.com"}])
    records_bulk_create(org_get(source.org_id), "Contact", people(1))

    result = run(sync)

    failure = RecordError.objects.get(sync=sync)
    assert (result.failed_count, failure.error_class, failure.code) == (1, "duplicate", "DUPLICATES_DETECTED")
    assert f"It matches the existing Salesforce record {existing}." in failure.message


# --- into HubSpot: the way back of a HubSpot ⇄ Salesforce sync ------------------------------------------
def test_co2_bad_values_into_hubspot_fail_alone_before_sending_and_good_records_arrive(make_salesforce_org, make_hubspot_account,
                                                                                     sent):
    from connectors.sandbox.models.hubspot import HsContact
    from syncconfig.integrations import hubspot_salesforce as hs
    from tests.factories import ConnectionFactory

    org, hub = make_salesforce_org(name="Acme"), make_hubspot_account(name="Acme Hub")
    org_add_field(org_get(org.org_id), sobject="Contact", name="Stage__c", field_type="string", length=255)
    hubspot = ConnectionFactory(name="Acme Hub", kind="hubspot", base_url=hub.base_url,
                                credentials={"token": hub.token, "app_id": str(hub.app_id), "client_secret": hub.client_secret})
    sync = SyncFactory(source=hubspot, source_object="contacts", target=salesforce_connection(org, "Acme org"),
                       target_object="Contact", enabled=True, direction=Sync.Direction.TWO_WAY)
    for position, (hs_field, sf_field) in enumerate([("email", "Email"), ("firstname", "FirstName"), ("lastname", "LastName"),
                                                     ("lifecyclestage", "Stage__c")]):
        FieldMappingFactory(sync=sync, source_field=hs_field, target_field=sf_field, is_key=hs_field == "email", position=position)
    hs.hubspot_options_save(sync=sync, link_policy=hs.LinkPolicy.STABLE, on_salesforce_delete=hs.OnSalesforceDelete.DELETE)
    ids = records_bulk_create(org_get(org.org_id), "Contact", [
        {"FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@example.com", "Stage__c": "lead"},
        {"FirstName": "Grace", "LastName": "Hopper", "Email": "grace@example.com", "Stage__c": "Customer!"},
        {"FirstName": f"Nul{control_character()}l", "LastName": "Byte", "Email": "nul@example.com"},
    ])

    result = run(sync)

    assert sorted(c.properties.get("email") for c in HsContact.objects.filter(account__token=hub.token)) == ["ada@example.com"]
    assert result.failed_count == 2 and sorted(r for batch in sent for r in batch) == [ids[0]]
    errors = {e.record_id: e for e in RecordError.objects.filter(sync=sync)}
    assert (errors[ids[1]].field, errors[ids[1]].code) == ("lifecyclestage", "PREFLIGHT_NOT_IN_PICKLIST")
    assert "“Customer!” is not one of the field's values" in errors[ids[1]].message
    assert (errors[ids[2]].field, errors[ids[2]].code) == ("firstname", "PREFLIGHT_CONTROL_CHARACTER")


# --- into ActiveCampaign -----------------------------------------------------------------------------------
def test_co2_bad_values_into_activecampaign_fail_alone_before_sending_and_good_records_arrive(
        make_salesforce_org, make_activecampaign_account, sent):
    from connectors.sandbox.models.activecampaign import AcContact
    from tests.factories import ConnectionFactory

    org, account = make_salesforce_org(name="Acme"), make_activecampaign_account(name="Acme AC")
    for name in ("Size__c", "Born__c"):
        org_add_field(org_get(org.org_id), sobject="Contact", name=name, field_type="string", length=255)
    ac = ConnectionFactory(name="Acme AC", kind="activecampaign", base_url=account.api_url, credentials={"api_key": account.api_key})
    sync = SyncFactory(source=salesforce_connection(org, "Acme org"), source_object="Contact", target=ac, target_object="contact",
                       enabled=True)
    for position, (sf_field, ac_field) in enumerate([("Email", "email"), ("FirstName", "firstName"), ("LastName", "lastName"),
                                                     ("Size__c", "COMPANY_SIZE"), ("Born__c", "BIRTHDAY")]):
        FieldMappingFactory(sync=sync, source_field=sf_field, target_field=ac_field, is_key=ac_field == "email", position=position)
    ids = records_bulk_create(org_get(org.org_id), "Contact", [
        {"FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@example.com", "Size__c": "11-50", "Born__c": "1815-12-10"},
        {"FirstName": "Grace", "LastName": "Hopper", "Email": "grace@example.com", "Size__c": "a few"},
        {"FirstName": "Alan", "LastName": "Turing", "Email": "alan@example.com", "Born__c": "23/06/1912"},
        {"FirstName": "Tab\x0bbed", "LastName": "Vertical", "Email": "vt@example.com"},
    ])

    result = run(sync)

    assert sorted(AcContact.objects.filter(account__api_key=account.api_key).values_list("email", flat=True)) == ["ada@example.com"]
    assert result.failed_count == 3 and sorted(r for batch in sent for r in batch) == [ids[0]]
    errors = {e.record_id: (e.field, e.code) for e in RecordError.objects.filter(sync=sync)}
    assert errors == {ids[1]: ("COMPANY_SIZE", "PREFLIGHT_NOT_IN_PICKLIST"), ids[2]: ("BIRTHDAY", "PREFLIGHT_INVALID"),
                      ids[3]: ("firstName", "PREFLIGHT_CONTROL_CHARACTER")}
