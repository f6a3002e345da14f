"""Integrations are registered modules: a sync names its own, several may join the same two
kinds of system, and adding one is a local change (the HubSpot → ActiveCampaign example)."""
import pytest

from connectors.sandbox.models.activecampaign import AcContact
from syncconfig import engine
from syncconfig.forms import SyncForm
from syncconfig.integrations import Integration, integration_class, integration_for, integrations_joining, register
from syncconfig.integrations.hubspot_activecampaign import CREATED_TAG
from syncconfig.models import SyncRun
from syncconfig.services import connection_connector
from tests.factories import ConnectionFactory, FieldMappingFactory, SyncFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_sync_gets_the_integration_made_for_its_two_systems_unless_it_names_another():
    sync = SyncFactory(source=ConnectionFactory(kind="hubspot"), target=ConnectionFactory(kind="salesforce"))
    assert sync.integration == "hubspot_salesforce"
    plain = SyncFactory(source=ConnectionFactory(kind="hubspot"), target=ConnectionFactory(kind="salesforce"), integration="generic")
    assert type(integration_for(plain)) is Integration


def test_two_integrations_for_the_same_systems_can_both_exist():
    @register
    class LegacyModel(Integration):
        key, label, kinds, default_for_kinds = "test_legacy", "Legacy model", frozenset({"hubspot", "salesforce"}), False

    try:
        keys = [cls.key for cls in integrations_joining({"hubspot", "salesforce"})]
        assert keys[0] == "hubspot_salesforce" and "test_legacy" in keys and keys[-1] == "generic"
        sync = SyncFactory(source=ConnectionFactory(kind="hubspot"), target=ConnectionFactory(kind="salesforce"), integration="test_legacy")
        assert isinstance(integration_for(sync), LegacyModel)
    finally:
        from syncconfig.integrations import REGISTRY

        REGISTRY.pop("test_legacy")


def test_the_sync_form_refuses_an_integration_for_other_systems():
    hubspot, activecampaign = ConnectionFactory(kind="hubspot"), ConnectionFactory(kind="activecampaign")
    form = SyncForm(data={"name": "Mixed up", "source": hubspot.pk, "source_object": "contacts", "target": activecampaign.pk,
                          "target_object": "contact", "integration": "hubspot_salesforce", "direction": "source_to_target",
                          "trigger": "manual"})
    assert not form.is_valid()
    assert "joins hubspot and salesforce" in form.errors["integration"][0]
    assert integration_class("no-such-integration") is Integration


def test_the_hubspot_to_activecampaign_example_syncs_contacts_with_an_email_and_tags_what_it_creates(
        make_hubspot_account, make_activecampaign_account):
    hub, ac = make_hubspot_account(name="Hub"), make_activecampaign_account(name="AC")
    sync = SyncFactory(
        source=ConnectionFactory(name="Hub", kind="hubspot", base_url=hub.base_url,
                                 credentials={"token": hub.token, "app_id": str(hub.app_id), "client_secret": hub.client_secret}),
        source_object="contacts",
        target=ConnectionFactory(name="AC", kind="activecampaign", base_url=ac.api_url, credentials={"api_key": ac.api_key}),
        target_object="contact", enabled=True)
    assert sync.integration == "hubspot_activecampaign"
    for position, (hs_field, ac_field) in enumerate((("email", "email"), ("firstname", "firstName"))):
        FieldMappingFactory(sync=sync, source_field=hs_field, target_field=ac_field, is_key=position == 0, position=position)
    connection_connector(sync.source).create("contacts", [{"email": "ada@example.com", "firstname": "Ada"},
                                                          {"firstname": "No email"}])

    run = engine.sync_run_execute(SyncRun.objects.create(sync=sync, trigger=SyncRun.Trigger.MANUAL))

    assert (run.status, run.created_count, run.skipped_count) == (SyncRun.Status.SUCCEEDED, 1, 1)
    [contact] = AcContact.objects.all()
    assert contact.email == "ada@example.com"
    assert [t.tag.tag for t in contact.contact_tags.select_related("tag")] == [CREATED_TAG]
