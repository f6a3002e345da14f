"""Mapping choices are read from both systems' field lists (AC-3)."""
import pytest

from syncconfig.models import FieldMapping
from tests.factories import SyncFactory, UserFactory, salesforce_connection

pytestmark = pytest.mark.django_db(transaction=True)


def test_ac3_the_mapping_inline_offers_the_fields_each_org_reports(client, make_salesforce_org):
    source = salesforce_connection(make_salesforce_org(person_accounts=True), "Source")
    target = salesforce_connection(make_salesforce_org(), "Target")
    sync = SyncFactory(source=source, source_object="Account", target=target, target_object="Contact")
    FieldMapping.objects.create(sync=sync, source_field="Legacy__c", target_field="Email")
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    form = client.get(f"/admin/syncconfig/sync/{sync.pk}/change/").context["inline_admin_formsets"][0].formset.forms[0]
    source_choices = dict(form.fields["source_field"].choices)
    target_choices = dict(form.fields["target_field"].choices)
    assert source_choices["PersonEmail"] == "Email (PersonEmail)"
    assert "Last Name (LastName) — required" in target_choices.values()
    assert "External ID (External_Id__c) — custom" in target_choices.values()
    assert "PersonEmail" not in target_choices  # the target org has no Person Accounts
    assert source_choices["Legacy__c"] == "Legacy__c (not in the system any more)"


def test_a_system_that_cannot_be_read_leaves_free_text_and_says_why(client):
    sync = SyncFactory(source__kind="zoho_crm", source__credentials={"refresh_token": "x"})
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    response = client.get(f"/admin/syncconfig/sync/{sync.pk}/change/")
    assert "Could not read the source&#x27;s fields" in response.content.decode()
