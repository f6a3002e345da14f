"""ActiveCampaign ⇄ Salesforce with Person Accounts (SPEC AC-1 … AC-12), end to end against
both sandboxes over HTTP, through the engine."""
import pytest

from connectors.sandbox.models import SandboxRecord
from connectors.sandbox.salesforce.orgs import org_get
from connectors.sandbox.salesforce.seed import records_bulk_create
from syncconfig import engine
from syncconfig.integrations import person_accounts as pa
from syncconfig.models import FieldMapping, RecordLink, Sync, SyncRun, UpdatePolicy
from syncconfig.services import connection_connector
from tests.factories import ConnectionFactory, FieldMappingFactory, SyncFactory, salesforce_connection

pytestmark = pytest.mark.django_db(transaction=True)
PA_MAPPINGS = [("PersonEmail", "email", True), ("FirstName", "firstName", False), ("LastName", "lastName", False), ("PersonMobilePhone", "phone", False)]
CONTACT_MAPPINGS = [("Email", "email", True), ("FirstName", "firstName", False), ("LastName", "lastName", False)]


@pytest.fixture
def org(make_salesforce_org):
    return make_salesforce_org(name="Acme", person_accounts=True)


@pytest.fixture
def ac(make_activecampaign_account):
    return make_activecampaign_account(name="Acme Marketing")


def make_sync(org, ac, *, model="Account", outbound=pa.Outbound.FROM_NOW, marker="", **options):
    sync = SyncFactory(source=salesforce_connection(org, "Acme org"), source_object=model,
                       target=ConnectionFactory(name="Acme AC", kind="activecampaign", base_url=ac.api_url, credentials={"api_key": ac.api_key}),
                       target_object="contact", direction=Sync.Direction.TWO_WAY, source_id_field="External_Id__c", enabled=True)
    for position, (sf_field, ac_field, key) in enumerate(PA_MAPPINGS if model == "Account" else CONTACT_MAPPINGS):
        FieldMappingFactory(sync=sync, source_field=sf_field, target_field=ac_field, is_key=key, position=position)
    facts = pa.salesforce_facts(sync)
    pa.person_account_options_save(sync=sync, facts=facts, outbound=outbound, marker_field=marker,
                                   record_type_id=facts.record_types[0].id if facts.record_types else "",
                                   allow_lead_without_company=options.get("allow_lead_without_company", False),
                                   tag_cleanup=options.get("tag_cleanup", False))
    if outbound == pa.Outbound.FROM_NOW:  # this test's records are all "from now on"
        Sync.objects.filter(pk=sync.pk).update(source_watermark="")
        sync.options["outbound_since"] = "2000-01-01T00:00:00Z"
        Sync.objects.filter(pk=sync.pk).update(options=sync.options)
    return Sync.objects.get(pk=sync.pk)


def run(sync):
    return engine.sync_run_execute(SyncRun.objects.create(sync=Sync.objects.get(pk=sync.pk), trigger=SyncRun.Trigger.MANUAL))


def person_accounts(org, n, **extra):
    facts_org = org_get(org.org_id)
    person_type = SandboxRecord.objects.get(org=facts_org, sobject="RecordType", data__IsPersonType=True, data__DeveloperName="PersonAccount")
    return records_bulk_create(facts_org, "Account", [
        {"RecordTypeId": person_type.record_id, "FirstName": f"Ada{i}", "LastName": f"Lovelace{i}", "PersonEmail": f"ada{i}@example.com", **extra}
        for i in range(n)])


def ac_contacts(sync):
    connector = connection_connector(sync.target)
    return {r.fields["email"]: r for page in connector.changes("contact", None, ["email", "firstName", "lastName", "tags"]) for r in page}


def test_ac1_and_ac8_person_accounts_go_to_activecampaign_tagged_and_business_accounts_stay(org, ac):
    sync = make_sync(org, ac)
    person_accounts(org, 3)
    records_bulk_create(org_get(org.org_id), "Account", [{"Name": "Analytical Engines Ltd"}])
    result = run(sync)
    assert (result.status, result.created_count) == ("succeeded", 3), result.message
    contacts = ac_contacts(sync)
    assert set(contacts) == {"ada0@example.com", "ada1@example.com", "ada2@example.com"}
    assert all(c.fields["tags"] == ["created-from-salesforce-person-account"] for c in contacts.values())


def test_ac1_a_contact_model_sync_leaves_person_accounts_alone(org, ac):
    sync = make_sync(org, ac, model="Contact")
    person_accounts(org, 2)
    records_bulk_create(org_get(org.org_id), "Contact", [{"LastName": "Hopper", "FirstName": "Grace", "Email": "grace@example.com"}])
    result = run(sync)
    assert result.created_count == 1
    assert list(ac_contacts(sync)) == ["grace@example.com"]
    assert ac_contacts(sync)["grace@example.com"].fields["tags"] == ["created-from-salesforce-contact"]


def test_ac4_mappings_default_to_always_update(org, ac):
    sync = make_sync(org, ac)
    assert set(FieldMapping.objects.filter(sync=sync).values_list("to_target", "to_source").distinct()) == {(UpdatePolicy.ALWAYS, UpdatePolicy.ALWAYS)}


def test_ac5_and_ac9_tagging_a_contact_in_activecampaign_creates_a_person_account_of_the_chosen_type(org, ac):
    sync = make_sync(org, ac)
    connector = connection_connector(sync.target)
    [created] = connector.upsert("contact", [{"email": "grace@example.com", "firstName": "Grace", "lastName": "Hopper"}], key="email")
    untagged = connector.upsert("contact", [{"email": "nobody@example.com", "lastName": "Nobody"}], key="email")
    connector.add_tags(created.id, ["added-to-salesforce-person-account"])
    result = run(sync)
    assert result.created_count == 1, result.message
    account = SandboxRecord.objects.get(org__org_id=org.org_id, sobject="Account", data__PersonEmail="grace@example.com")
    chosen = sync.record_types.get()
    assert account.data["RecordTypeId"] == chosen.record_type_id and account.data["IsPersonAccount"] is True
    link = RecordLink.objects.get(sync=sync)
    assert (link.source_id, link.target_id) == (account.record_id, created.id)
    assert not SandboxRecord.objects.filter(org__org_id=org.org_id, data__PersonEmail="nobody@example.com").exists()
    assert untagged[0].ok


def test_ac9_only_the_added_tag_creates_a_record_in_salesforce(org, ac):
    """A contact tagged as having come from Salesforce, with no Salesforce record to match,
    is not made there again: only “added-to-salesforce-person-account” asks for one."""
    from syncconfig.completeness import completeness_check_execute
    from syncconfig.models import CompletenessCheck

    sync = make_sync(org, ac)
    connector = connection_connector(sync.target)
    [orphan] = connector.upsert("contact", [{"email": "orphan@example.com", "lastName": "Orphan"}], key="email")
    connector.add_tags(orphan.id, [pa.PA_CREATED])
    [asked] = connector.upsert("contact", [{"email": "asked@example.com", "lastName": "Asked"}], key="email")
    connector.add_tags(asked.id, [pa.PA_CREATED, pa.PA_ADDED])

    result = run(sync)

    made = SandboxRecord.objects.filter(org__org_id=org.org_id, sobject="Account", data__IsPersonAccount=True)
    assert [a.data["PersonEmail"] for a in made] == ["asked@example.com"] and result.failed_count == 0
    check = completeness_check_execute(CompletenessCheck.objects.create(sync=sync))
    assert check.status == CompletenessCheck.Status.COMPLETE, check.message  # not "missing" either


def test_ac10_the_person_account_tag_wins_over_contact_tags(org, ac):
    contact_sync = make_sync(org, ac, model="Contact")
    connector = connection_connector(contact_sync.target)
    [both] = connector.upsert("contact", [{"email": "both@example.com", "lastName": "Both"}], key="email")
    connector.add_tags(both.id, ["created-from-salesforce-contact", "added-to-salesforce-person-account"])
    [plain] = connector.upsert("contact", [{"email": "plain@example.com", "lastName": "Plain"}], key="email")
    connector.add_tags(plain.id, ["added-to-salesforce-contact"])
    run(contact_sync)
    contacts = SandboxRecord.objects.filter(org__org_id=org.org_id, sobject="Contact", data__IsPersonAccount=False)
    assert [c.data["Email"] for c in contacts] == ["plain@example.com"]


def test_ac7_not_using_person_accounts_syncs_none(org, ac):
    sync = make_sync(org, ac, outbound=pa.Outbound.NONE)
    person_accounts(org, 2)
    result = run(sync)
    assert (result.created_count, result.skipped_count) == (0, 2)


def test_ac7_from_this_point_on_ignores_what_was_there_before(org, ac):
    person_accounts(org, 2)  # before the option is saved
    sync = make_sync(org, ac, outbound=pa.Outbound.MARKED, marker="Sync_To_Marketing__pc")
    pa.person_account_options_save(sync=sync, facts=pa.salesforce_facts(sync), outbound=pa.Outbound.FROM_NOW, marker_field="",
                                   record_type_id=sync.record_types.get().record_type_id, allow_lead_without_company=False, tag_cleanup=False)
    result = run(sync)
    # Salesforce compares stamps to the second: what shares the switch's second is read and left out.
    assert result.created_count == 0 and result.skipped_count == result.read_count
    connector = connection_connector(sync.source)
    new = connector.create("Account", [{"RecordTypeId": sync.record_types.get().record_type_id, "LastName": "Later", "PersonEmail": "later@example.com"}])
    assert new[0].ok
    assert run(sync).created_count == 1
    assert list(ac_contacts(sync)) == ["later@example.com"]


def test_ac7_marked_syncs_only_records_whose_marker_is_set(org, ac):
    sync = make_sync(org, ac, outbound=pa.Outbound.MARKED, marker="Sync_To_Marketing__pc")
    person_accounts(org, 2)
    person_accounts(org, 1, Sync_To_Marketing__pc=True, PersonEmail="marked@example.com")
    reasons = [c.reason for c in engine.sync_preview(Sync.objects.get(pk=sync.pk)).changes]
    assert reasons.count("Not marked for sync (Sync_To_Marketing__pc is not set).") == 2
    result = run(sync)
    assert result.created_count == 1
    assert set(ac_contacts(sync)) == {"marked@example.com"}


def test_ac6_a_lead_without_company_is_rejected_with_the_reason_unless_allowed(org, ac):
    sync = make_sync(org, ac, model="Lead")
    FieldMapping.objects.filter(sync=sync).update(to_source=UpdatePolicy.ALWAYS)
    connector = connection_connector(sync.target)
    [contact] = connector.upsert("contact", [{"email": "lead@example.com", "lastName": "Lead"}], key="email")
    connector.add_tags(contact.id, ["added-to-salesforce-contact"])
    rejected = run(sync)
    error = rejected.errors.get()
    assert "needs a company name" in error.message and error.error_class == "mapping"
    Sync.objects.filter(pk=sync.pk).update(options={**sync.options, "allow_lead_without_company": True})
    from syncconfig.services import record_errors_retry
    [retry] = record_errors_retry(errors=rejected.errors.all())
    retry.refresh_from_db()
    assert retry.created_count == 1, retry.message


def test_ac11_the_tag_cleanup_counts_then_removes_contact_tags_of_person_account_contacts(org, ac):
    sync = make_sync(org, ac)
    connector = connection_connector(sync.target)
    results = connector.upsert("contact", [{"email": f"c{i}@example.com", "lastName": f"C{i}"} for i in range(3)], key="email")
    connector.add_tags(results[0].id, ["created-from-salesforce-contact", "added-to-salesforce-person-account"])
    connector.add_tags(results[1].id, ["salesforce-lead-converted-to-contact", "created-from-salesforce-person-account"])
    connector.add_tags(results[2].id, ["created-from-salesforce-contact"])
    assert pa.tag_cleanup(connector, apply=False) == 2
    assert pa.tag_cleanup(connector, apply=True) == 2
    tags = {r.fields["email"]: sorted(r.fields["tags"]) for r in ac_contacts(sync).values()}
    assert tags == {"c0@example.com": ["added-to-salesforce-person-account"],
                    "c1@example.com": ["created-from-salesforce-person-account"],
                    "c2@example.com": ["created-from-salesforce-contact"]}
    assert pa.tag_cleanup(connector, apply=False) == 0


def test_ac3_ac4_an_edit_on_either_side_reaches_the_other_and_a_rerun_changes_nothing(org, ac):
    sync = make_sync(org, ac)
    [account_id] = person_accounts(org, 1)
    run(sync)
    ac_connector = connection_connector(sync.target)
    contact = ac_contacts(sync)["ada0@example.com"]
    ac_connector.update("contact", [{"Id": contact.id, "firstName": "Augusta"}])
    back = run(sync)
    assert back.updated_count == 1, back.message
    [row] = connection_connector(sync.source).fetch("Account", [account_id], ["FirstName"])
    assert row.fields["FirstName"] == "Augusta"
    again = run(sync)
    assert (again.created_count, again.updated_count, again.failed_count) == (0, 0, 0)


def test_co4_an_existing_contact_with_the_email_is_updated_and_linked_never_duplicated(org, ac):
    sync = make_sync(org, ac)
    connector = connection_connector(sync.target)
    [existing] = connector.upsert("contact", [{"email": "ada0@example.com", "firstName": "Old"}], key="email")
    person_accounts(org, 1)
    run(sync)
    contacts = ac_contacts(sync)
    assert list(contacts) == ["ada0@example.com"] and contacts["ada0@example.com"].fields["firstName"] == "Ada0"
    assert RecordLink.objects.get(sync=sync).target_id == existing.id
    assert run(sync).created_count == 0


def test_ac12_ac8_a_lead_converted_into_a_person_account_is_tagged_as_converted(org, ac):
    sync = make_sync(org, ac)
    [lead_id] = records_bulk_create(org_get(org.org_id), "Lead", [{"LastName": "Hopper", "FirstName": "Grace", "Email": "grace@example.com", "Status": "Open - Not Contacted"}])
    converted = connection_connector(sync.source).convert_lead(lead_id, converted_status="Closed - Converted")
    person_accounts(org, 1)  # and one made as a Person Account directly
    run(sync)
    tags = {email: r.fields["tags"] for email, r in ac_contacts(sync).items()}
    assert tags == {"grace@example.com": ["salesforce-lead-converted-to-person-account"],
                    "ada0@example.com": ["created-from-salesforce-person-account"]}
    assert converted["accountId"].startswith("001")


def test_whether_the_org_has_person_accounts_is_read_once_a_day_not_on_every_run(org, ac, monkeypatch):
    """An immediate sync runs every few seconds: a describe on each would spend the org's daily
    allowance on a fact that changes once in its life."""
    from datetime import datetime, timedelta, timezone

    from connectors.salesforce import SalesforceConnector

    sync = make_sync(org, ac, model="Contact")
    Sync.objects.filter(pk=sync.pk).update(options={k: v for k, v in sync.options.items() if not k.startswith("org_person")})
    reads = []
    real = SalesforceConnector.person_accounts_enabled
    monkeypatch.setattr(SalesforceConnector, "person_accounts_enabled", lambda self: reads.append(1) or real(self))
    person_accounts(org, 1)  # a person contact: left alone by a Contact-model sync (AC-1), as the org has them

    first, second = run(sync), run(sync)

    assert len(reads) == 1 and (first.created_count, second.created_count) == (0, 0)
    day_old = (datetime.now(timezone.utc) - timedelta(days=1, minutes=1)).isoformat()
    Sync.objects.filter(pk=sync.pk).update(options={**Sync.objects.get(pk=sync.pk).options, "org_person_accounts_at": day_old})
    run(sync)
    assert len(reads) == 2
