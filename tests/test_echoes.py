"""Echoes (issue #15): a vendor's notification of nothing but the portal's own writes starts
no run; a person's change of a field a sync reads still does. End to end over HTTP: the
sandboxes hold the notifications they owe until the test delivers them (as the vendors'
own delay would, after the run that wrote), to the portal's notification address on a live
server, which starts runs as it does in production."""
import pytest

from connectors.base import WebhookEvent
from connectors.sandbox.activecampaign.webhooks import deliver_pending as activecampaign_deliver
from connectors.sandbox.hubspot.webhooks import deliver_pending as hubspot_deliver
from connectors.sandbox.salesforce.orgs import org_get
from connectors.sandbox.salesforce.seed import records_bulk_create
from syncconfig import echoes, engine, services, tasks
from syncconfig.integrations import hubspot_salesforce as hs
from syncconfig.models import Connection, OwnWrite, RecordLink, Sync, SyncRule, SyncRun
from syncconfig.services import connection_connector
from tests.factories import ConnectionFactory, FieldMappingFactory, SyncFactory, UserFactory, salesforce_connection

pytestmark = pytest.mark.django_db(transaction=True)
HS_MAPPINGS = [("email", "Email", True), ("firstname", "FirstName", False), ("lastname", "LastName", False),
               ("phone", "Phone", False)]
AC_MAPPINGS = [("Email", "email", True), ("FirstName", "firstName", False), ("LastName", "lastName", False)]


@pytest.fixture
def started(live_server, settings, monkeypatch, sandbox_notifications_held):
    """The runs the portal's notification address starts (queued, run by the test)."""
    settings.PORTAL_URL = live_server.url  # where the sandboxes post their notifications
    runs: list[int] = []
    monkeypatch.setattr("syncconfig.tasks.execute_run.delay", runs.append)
    return runs


def run_queued(started):
    """Execute the runs the notifications started, as a worker would; returns them."""
    done = []
    while started:
        run_id = started.pop(0)
        tasks.execute_run(run_id)
        done.append(run_id)
    return done


def poll_run(sync):
    """A run of the immediate sync as the 10-second poll starts it."""
    run = engine.sync_run_execute(SyncRun.objects.create(sync=Sync.objects.get(pk=sync.pk), trigger=SyncRun.Trigger.IMMEDIATE,
                                                         cause=SyncRun.Cause.POLL))
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    return run


def ignored_today(connection):
    return Connection.objects.get(pk=connection.pk).echoes_ignored_today


# --- HubSpot ⇄ Salesforce ---------------------------------------------------------------------
@pytest.fixture
def hub_sync(make_salesforce_org, make_hubspot_account, started):  # registered where the portal serves
    org, hub = make_salesforce_org(name="Acme"), make_hubspot_account(name="Acme Hub")
    hubspot = ConnectionFactory(name="Acme Hub", kind="hubspot", base_url=hub.base_url, credentials={
        "token": hub.token, "app_id": str(hub.app_id), "client_secret": hub.client_secret})
    sync = SyncFactory(source=hubspot, source_object="contacts", target=salesforce_connection(org, "Acme org"),
                       target_object="Contact", direction=Sync.Direction.TWO_WAY, trigger=Sync.Trigger.IMMEDIATE)
    for position, (hs_field, sf_field, key) in enumerate(HS_MAPPINGS):
        FieldMappingFactory(sync=sync, source_field=hs_field, target_field=sf_field, is_key=key, position=position)
    hs.hubspot_options_save(sync=sync, link_policy=hs.LinkPolicy.STABLE, on_salesforce_delete=hs.OnSalesforceDelete.DELETE)
    services.sync_enable(sync=sync, enabled=True)  # HubSpot is asked to notify the portal
    sync = Sync.objects.select_related("source", "target").get(pk=sync.pk)
    assert sync.source.webhook_registered_at is not None
    sync.org = org
    return sync


def sf_create(sync, *rows):
    return records_bulk_create(org_get(sync.org.org_id), "Contact", list(rows))


def hubspot_contact(sync, email):
    return RecordLink.objects.get(sync=sync, label__contains=email).source_id


def test_the_portals_create_and_write_back_in_hubspot_come_back_as_notifications_that_start_no_run(hub_sync, started, client):
    sync = hub_sync
    sf_create(sync, {"FirstName": "Jane", "LastName": "Francis", "Email": "jane@northwind.example"})
    assert poll_run(sync).created_count == 1  # a new HubSpot contact, naming its Salesforce record
    assert hubspot_deliver() == 1 and started == []  # its creation and properties: the portal's own
    assert ignored_today(sync.source) == 1

    # A person creates a contact in HubSpot: that starts a run, which creates it in Salesforce
    # and writes the Salesforce id back onto the contact (HS-4) ...
    [created] = connection_connector(sync.source).create("contacts", [{"email": "ravi@northwind.example", "firstname": "Ravi", "lastname": "Shah"}])
    assert hubspot_deliver() == 1 and len(run_queued(started)) == 1
    link = RecordLink.objects.get(sync=sync, source_id=created.id)
    assert connection_connector(sync.source).fetch("contacts", [created.id], ["salesforcecontactid"])[0].fields[
        "salesforcecontactid"] == link.target_id
    # ... whose notification is the portal's own write.
    assert hubspot_deliver() == 1 and started == []
    assert ignored_today(sync.source) == 2

    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    page = client.get(f"/syncs/{sync.pk}/").content.decode()
    assert "“Acme Hub” sent 2 notifications of the portal's own writes today: ignored, they started no run." in page


def test_a_persons_edit_of_a_mapped_field_in_the_window_starts_a_run_and_of_an_unmapped_one_does_not(hub_sync, started):
    sync = hub_sync
    sf_create(sync, {"FirstName": "Jane", "LastName": "Francis", "Email": "jane@northwind.example"})
    poll_run(sync)
    hubspot_deliver()
    contact = hubspot_contact(sync, "jane@northwind.example")
    hubspot = connection_connector(sync.source)

    hubspot.update("contacts", [{"Id": contact, "jobtitle": "Buyer"}])  # no sync reads it
    assert hubspot_deliver() == 1 and started == []

    hubspot.update("contacts", [{"Id": contact, "firstname": "Janet"}])
    assert hubspot_deliver() == 1 and len(started) == 1
    run_queued(started)
    [sf] = connection_connector(sync.target).fetch("Contact", [RecordLink.objects.get(sync=sync).target_id], ["FirstName"])
    assert sf.fields["FirstName"] == "Janet"


def test_a_delivery_mixing_an_echo_and_a_persons_change_starts_a_run(hub_sync, started):
    sync = hub_sync
    [other] = connection_connector(sync.source).create("contacts", [{"email": "ravi@northwind.example", "firstname": "Ravi", "lastname": "Shah"}])
    hubspot_deliver()
    run_queued(started)  # Ravi is in Salesforce now
    hubspot_deliver()  # and the echo of his id written back is gone
    sf_create(sync, {"FirstName": "Jane", "LastName": "Francis", "Email": "jane@northwind.example"})
    poll_run(sync)  # the portal writes Jane to HubSpot ...
    connection_connector(sync.source).update("contacts", [{"Id": other.id, "lastname": "Sharma"}])  # ... a person edits Ravi

    assert hubspot_deliver() == 1  # one post carries both
    assert len(started) == 1


def test_a_notification_after_the_window_starts_a_run_and_the_poll_forgets_old_writes(hub_sync, started):
    sync = hub_sync
    sf_create(sync, {"FirstName": "Jane", "LastName": "Francis", "Email": "jane@northwind.example"})
    poll_run(sync)
    assert OwnWrite.objects.filter(connection=sync.source).count() == 1
    OwnWrite.objects.update(written_at=OwnWrite.objects.get().written_at - echoes.ECHO_WINDOW)

    assert hubspot_deliver() == 1 and len(started) == 1  # too late to tell: a run looks
    services.immediate_syncs_poll()
    assert not OwnWrite.objects.exists()


def test_writes_to_a_system_no_immediate_sync_reads_are_not_noted(hub_sync, started):
    sync = hub_sync
    Sync.objects.filter(pk=sync.pk).update(trigger=Sync.Trigger.MANUAL)
    sf_create(sync, {"FirstName": "Jane", "LastName": "Francis", "Email": "jane@northwind.example"})
    assert poll_run(sync).created_count == 1
    assert not OwnWrite.objects.exists()


# --- ActiveCampaign ⇄ Salesforce --------------------------------------------------------------------
@pytest.fixture
def ac_sync(make_salesforce_org, make_activecampaign_account, started):
    org, ac = make_salesforce_org(name="Acme"), make_activecampaign_account(name="Acme Marketing")
    sync = SyncFactory(source=salesforce_connection(org, "Acme org"), source_object="Contact",
                       target=ConnectionFactory(name="Acme AC", kind="activecampaign", base_url=ac.api_url,
                                                credentials={"api_key": ac.api_key}),
                       target_object="contact", direction=Sync.Direction.TWO_WAY, source_id_field="External_Id__c",
                       trigger=Sync.Trigger.IMMEDIATE)
    for position, (sf_field, ac_field, key) in enumerate(AC_MAPPINGS):
        FieldMappingFactory(sync=sync, source_field=sf_field, target_field=ac_field, is_key=key, position=position)
    services.sync_enable(sync=sync, enabled=True)
    sync = Sync.objects.select_related("source", "target").get(pk=sync.pk)
    assert sync.target.webhook_registered_at is not None
    sync.org = org
    return sync


def test_ac_the_portals_new_contact_its_tag_and_an_update_come_back_as_notifications_that_start_no_run(ac_sync, started):
    sync = ac_sync
    sf_create(sync, {"FirstName": "Grace", "LastName": "Hopper", "Email": "grace@example.com"})
    assert poll_run(sync).created_count == 1  # created in ActiveCampaign, then tagged (AC-8)
    assert activecampaign_deliver() == 2 and started == []  # "subscribe" and "contact_tag_added"
    assert ignored_today(sync.target) == 2

    connection_connector(sync.source).update("Contact", [{"Id": RecordLink.objects.get(sync=sync).source_id,
                                                          "LastName": "Murray Hopper"}])
    assert poll_run(sync).updated_count == 1  # the edit goes to ActiveCampaign ...
    assert activecampaign_deliver() == 1 and started == []  # ... and its "update" comes back
    assert ignored_today(sync.target) == 3


def test_ac_a_persons_edit_in_activecampaign_starts_a_run(ac_sync, started):
    sync = ac_sync
    sf_create(sync, {"FirstName": "Grace", "LastName": "Hopper", "Email": "grace@example.com"})
    poll_run(sync)
    activecampaign_deliver()
    contact = RecordLink.objects.get(sync=sync).target_id
    activecampaign = connection_connector(sync.target)

    activecampaign.update("contact", [{"Id": contact, "lastName": "Murray Hopper"}])
    assert activecampaign_deliver() == 1 and len(started) == 1
    run_queued(started)
    [sf] = connection_connector(sync.source).fetch("Contact", [RecordLink.objects.get(sync=sync).source_id], ["LastName"])
    assert sf.fields["LastName"] == "Murray Hopper"
    activecampaign.add_tags(contact, ["vip"])  # a tag the portal did not apply
    assert activecampaign_deliver() == 1 and len(started) == 1


# --- what an echo is ------------------------------------------------------------------------------
def test_fingerprints_take_values_as_vendors_send_them_back():
    fp = echoes.fingerprint
    assert fp(None) == fp("") == fp([]) == fp("  ")
    assert fp(True) == fp("true") and fp(["a", "b"]) == fp("a;b") and fp(" Jane ") == fp("Jane")
    assert fp("Jane") != fp("Janet") and len(fp("Jane")) == 16


@pytest.fixture
def written():
    """An immediate sync reading HubSpot contacts (firstname mapped, a scope rule on
    lifecyclestage) and a contact the portal just wrote there."""
    sync = SyncFactory(source=ConnectionFactory(kind="hubspot"), source_object="contacts", enabled=True,
                       trigger=Sync.Trigger.IMMEDIATE)
    FieldMappingFactory(sync=sync, source_field="firstname", target_field="FirstName")
    SyncRule.objects.create(sync=sync, kind=SyncRule.Kind.SCOPE, side="source", field="lifecyclestage",
                            operator=SyncRule.Operator.EQUALS, value="customer")
    echoes.own_write(sync.source_id, "contacts", "51", {"firstname": "Jane"}, created=True).save()
    return sync.source


def change(kind="updated", record_id="51", **fields):
    return WebhookEvent(type=kind, record_id=record_id, fields=fields, object="contacts")


@pytest.mark.parametrize("changes, echo", [
    ([change("created"), change(firstname="Jane")], True),
    ([change(firstname="Janet")], False),  # a person's edit of a mapped field
    ([change(jobtitle="Buyer")], True),  # no sync reads it
    ([change(lifecyclestage="customer")], False),  # a scope rule tests it: the portal did not write it
    ([change(firstname="Jane", record_id="52")], False),  # a record the portal did not write
    ([change("deleted")], False), ([change("merged")], False), ([change("contact.associationChange")], False),
    ([], False), (None, False),  # nothing reported, or nothing the connector could read
], ids=["own create", "mapped field edited", "unread field", "rule field", "other record", "deletion", "merge",
        "association", "empty", "unreadable"])
def test_a_notification_is_an_echo_only_when_each_change_is_the_portals_own_write(written, changes, echo):
    assert echoes.delivery_is_echo(connection=written, changes=changes) is echo


def test_ac_a_bulk_import_notifies_nobody_so_its_contacts_are_not_noted(ac_sync, started, monkeypatch):
    monkeypatch.setattr("connectors.activecampaign.IMPORT_FIRST_POLL", 0)  # its status is there at once
    monkeypatch.setattr("connectors.activecampaign.IMPORT_POLL_PER_CONTACT", 0)
    sync = ac_sync
    sf_create(sync, *({"FirstName": "Ada", "LastName": f"Lovelace {n}", "Email": f"ada{n}@example.com"} for n in range(12)))
    assert poll_run(sync).created_count == 12  # one import, tags and all
    assert activecampaign_deliver() == 0 and not OwnWrite.objects.exists()
