"""The ActiveCampaign ⇄ Salesforce settings page (AC-2, AC-5, AC-6, AC-7, AC-13)."""
import pytest

from syncconfig.integrations.person_accounts import Outbound, PersonAccountOptions
from syncconfig.models import RecordTypeChoice, Sync
from tests.factories import ConnectionFactory, SyncFactory, UserFactory, salesforce_connection

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    return client


def pa_sync(facts, **kwargs):
    return SyncFactory(source=salesforce_connection(facts), source_object="Account", target=ConnectionFactory(kind="activecampaign"),
                       target_object="contact", direction=Sync.Direction.TWO_WAY, **kwargs)


def test_ac2_ac13_without_person_accounts_the_options_are_hidden_and_refused(admin_client, make_salesforce_org):
    sync = pa_sync(make_salesforce_org(person_accounts=False))
    page = admin_client.get(f"/syncs/{sync.pk}/person-accounts/").content.decode()
    assert "Person Accounts are not enabled in the connected Salesforce org" in page  # AC-13
    assert "Default record type for new Person Accounts" not in page  # AC-2: hidden
    response = admin_client.post(f"/syncs/{sync.pk}/person-accounts/", {"outbound": Outbound.FROM_NOW}, follow=True)
    assert "cannot use them" in response.content.decode()  # AC-2: refused
    assert PersonAccountOptions.of(Sync.objects.get(pk=sync.pk)).outbound_since == ""


def test_ac6_ac7_the_options_are_worded_as_specified(admin_client, make_salesforce_org):
    sync = pa_sync(make_salesforce_org(person_accounts=True))
    page = admin_client.get(f"/syncs/{sync.pk}/person-accounts/").content.decode()
    for label in ("Not using Person Accounts", "All Person Accounts created/updated from this point on",
                  "Person Accounts marked via Process Builder or another custom method",
                  "Allow lead sync without company name for Person Account conversion"):
        assert label in page


def test_ac5_ac7_saving_from_this_point_on_sets_the_watermark_and_the_default_record_type(admin_client, make_salesforce_org):
    sync = pa_sync(make_salesforce_org(person_accounts=True))
    page = admin_client.get(f"/syncs/{sync.pk}/person-accounts/")
    record_types = page.context["facts"].record_types
    assert record_types and all(rt.is_person_type for rt in record_types)  # AC-5: read from the org
    admin_client.post(f"/syncs/{sync.pk}/person-accounts/", {
        "outbound": Outbound.FROM_NOW, "record_type_id": record_types[0].id, "allow_lead_without_company": "on"})
    sync.refresh_from_db()
    options = PersonAccountOptions.of(sync)
    assert options.outbound == Outbound.FROM_NOW and options.allow_lead_without_company
    assert options.outbound_since and sync.source_watermark == options.outbound_since  # AC-7 (2)
    choice = RecordTypeChoice.objects.get(sync=sync)
    assert (choice.object_name, choice.record_type_id, choice.side) == ("Account", record_types[0].id, "source")


def test_ac7_marked_needs_a_checkbox_field_of_the_org(admin_client, make_salesforce_org):
    sync = pa_sync(make_salesforce_org(person_accounts=True))
    facts = admin_client.get(f"/syncs/{sync.pk}/person-accounts/").context["facts"]
    assert ("Sync_To_Marketing__c", "Sync to Marketing (Sync_To_Marketing__c)") in facts.marker_fields
    response = admin_client.post(f"/syncs/{sync.pk}/person-accounts/", {"outbound": Outbound.MARKED, "record_type_id": facts.record_types[0].id}, follow=True)
    assert "Choose the checkbox field" in response.content.decode()
    admin_client.post(f"/syncs/{sync.pk}/person-accounts/", {"outbound": Outbound.MARKED, "marker_field": "Sync_To_Marketing__c", "record_type_id": facts.record_types[0].id})
    assert PersonAccountOptions.of(Sync.objects.get(pk=sync.pk)).marker_field == "Sync_To_Marketing__c"
