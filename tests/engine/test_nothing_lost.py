"""Nothing lost, provably: reads that cannot skip records, whatever the vendors' timing, and
runs whose counts agree with what the target holds. End to end against the sandboxes over HTTP."""
from datetime import timedelta

import pytest
from django.utils import timezone

from syncconfig import engine, services
from syncconfig.models import RecordError, RecordLink, Sync, SyncRun
from syncconfig.services import connection_connector
from tests.engine.test_hubspot_salesforce import hubspot, make_sync, run, salesforce

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def org(make_salesforce_org):
    return make_salesforce_org(name="Acme")


def sf_contact_count(sync) -> int:
    return sum(len(page) for page in salesforce(sync).changes("Contact", None, ["Id"]))


@pytest.mark.parametrize("bulk", [True, False], ids=["bulk-write", "page-by-page"])
def test_a_one_way_hubspot_to_salesforce_sync_of_5000_seeded_contacts_brings_every_one(org, make_hubspot_account, bulk,
                                                                                      monkeypatch):
    """The seeded contacts share a few instants (hundreds of them the same millisecond), and the
    sync writes each contact's Salesforce id back onto it as it goes, which moves the contact
    out of that instant while the read is still paging through it. A large read goes to
    Salesforce's bulk write several pages at a time; without a bulk write, page by page."""
    from connectors.salesforce import SalesforceConnector

    if not bulk:
        monkeypatch.setattr(SalesforceConnector, "bulk_write_from", None)
    hub = make_hubspot_account(name="Acme Hub", records=5000)
    sync = make_sync(org, hub)
    total = 5000

    first = run(sync)

    assert first.status == SyncRun.Status.SUCCEEDED, first.message
    assert first.failed_count == 0
    # The write-backs bring every contact back into the read: applied already, they are not counted.
    assert (first.read_count, first.skipped_count) == (total, 0)
    links = RecordLink.objects.filter(sync=sync).count()
    assert links == total
    assert sf_contact_count(sync) == first.created_count + first.updated_count
    assert first.created_count == sf_contact_count(sync)
    assert not RecordError.objects.filter(sync=sync).exists()
    from connectors.sandbox.models import SandboxBulkJob

    assert SandboxBulkJob.objects.count() == (1 if bulk else 0)  # the 5,000 creates in one job, or in collections


class Killed(BaseException):
    """A worker killed with SIGKILL: nothing of the run's own error handling runs."""


def kill_at_store(monkeypatch, nth):
    """Kill the worker when it is about to record the outcome of its ``nth`` stored batch
    (the vendor has answered; the portal has not recorded it yet)."""
    real, calls = engine.store_outcome, {"n": 0}

    def dying(direction, outcome, run, **kwargs):
        calls["n"] += 1
        if calls["n"] == nth:
            raise Killed()
        return real(direction, outcome, run, **kwargs)

    monkeypatch.setattr(engine, "store_outcome", dying)
    return lambda: monkeypatch.setattr(engine, "store_outcome", real)


def test_a_killed_run_is_taken_over_by_run_now_and_counts_each_record_once(org, make_hubspot_account, monkeypatch):
    hub = make_hubspot_account(name="Acme Hub", records=1000)
    sync = make_sync(org, hub)
    revive = kill_at_store(monkeypatch, 4)  # the second page's batch is in Salesforce, unrecorded
    run = SyncRun.objects.create(sync=sync, trigger=SyncRun.Trigger.MANUAL)
    with pytest.raises(Killed):
        engine.sync_run_execute(run)
    revive()
    run.refresh_from_db()
    assert run.status == SyncRun.Status.RUNNING and run.pending  # left as a killed worker leaves it
    assert sf_contact_count(sync) == 400

    # While its heartbeat is fresh, Run now does not start a second run beside it.
    assert services.sync_run_now(sync=sync)[0] is None
    SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=90))
    taken, said = services.sync_run_now(sync=sync)

    assert taken.pk == run.pk and "where it stopped" in said
    run.refresh_from_db()
    assert (run.status, run.takeovers, run.failed_count) == (SyncRun.Status.SUCCEEDED, 1, 0), (
        run.message, list(RecordError.objects.values_list("message", flat=True)[:2]))
    assert sync.runs.count() == 1
    assert sf_contact_count(sync) == 1000 == RecordLink.objects.filter(sync=sync).count()
    # Each record counted once: the batch the lost worker wrote counts as created, not skipped.
    assert run.created_count == 1000


def test_a_worker_lost_before_tagging_what_it_created_in_activecampaign_leaves_no_contact_untagged(
        make_salesforce_org, make_activecampaign_account, monkeypatch):
    """AC-8 tags what a batch created once the batch is recorded; a worker killed in between
    must not leave those contacts untagged for good (the execution that takes the run over
    reads them as unchanged)."""
    from connectors.sandbox.salesforce.orgs import org_get
    from connectors.sandbox.salesforce.seed import records_bulk_create
    from syncconfig.integrations import person_accounts as pa
    from tests.engine.test_activecampaign_salesforce import ac_contacts
    from tests.engine.test_activecampaign_salesforce import make_sync as make_ac_sync

    org = make_salesforce_org(name="Acme")
    sync = make_ac_sync(org, make_activecampaign_account(name="Acme Marketing"), model="Contact")
    records_bulk_create(org_get(org.org_id), "Contact", [{"LastName": f"P{i}", "Email": f"p{i}@example.com"} for i in range(5)])
    real = pa.PersonAccountIntegration.after_write

    def dying(self, direction, written):
        if any(change.action == "create" for change, _ in written):
            raise Killed()  # the batch is created and recorded; its tags are not written yet
        return real(self, direction, written)

    monkeypatch.setattr(pa.PersonAccountIntegration, "after_write", dying)
    run = SyncRun.objects.create(sync=sync, trigger=SyncRun.Trigger.MANUAL)
    with pytest.raises(Killed):
        engine.sync_run_execute(run)
    monkeypatch.setattr(pa.PersonAccountIntegration, "after_write", real)
    assert all(not c.fields["tags"] for c in ac_contacts(sync).values())
    SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=90))

    taken, _ = services.sync_run_now(sync=sync)

    run.refresh_from_db()
    assert taken.pk == run.pk and (run.status, run.takeovers, run.created_count) == (SyncRun.Status.SUCCEEDED, 1, 5), run.message
    contacts = ac_contacts(sync)
    assert len(contacts) == 5 and all(c.fields["tags"] == [pa.CONTACT_CREATED] for c in contacts.values())


def test_contacts_a_lost_worker_created_in_activecampaign_unrecorded_are_tagged_by_the_takeover(
        make_salesforce_org, make_activecampaign_account, monkeypatch):
    """The batch is in ActiveCampaign but the worker died before recording it: the execution
    that takes the run over upserts the batch again, ActiveCampaign answers "found, not
    created", and AC-8's tag is still owed to what the lost worker created."""
    from connectors.sandbox.salesforce.orgs import org_get
    from connectors.sandbox.salesforce.seed import records_bulk_create
    from syncconfig.integrations import person_accounts as pa
    from tests.engine.test_activecampaign_salesforce import ac_contacts
    from tests.engine.test_activecampaign_salesforce import make_sync as make_ac_sync

    org = make_salesforce_org(name="Acme")
    sync = make_ac_sync(org, make_activecampaign_account(name="Acme Marketing"), model="Contact")
    records_bulk_create(org_get(org.org_id), "Contact", [{"LastName": f"P{i}", "Email": f"p{i}@example.com"} for i in range(5)])
    revive = kill_at_store(monkeypatch, 2)  # the first store is the page's skips; the second, the written batch
    run = SyncRun.objects.create(sync=sync, trigger=SyncRun.Trigger.MANUAL)
    with pytest.raises(Killed):
        engine.sync_run_execute(run)
    revive()
    assert len(ac_contacts(sync)) == 5 and all(not c.fields["tags"] for c in ac_contacts(sync).values())
    SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=90))

    services.sync_run_now(sync=sync)

    run.refresh_from_db()
    assert (run.status, run.takeovers, run.created_count) == (SyncRun.Status.SUCCEEDED, 1, 5), run.message
    contacts = ac_contacts(sync)
    assert len(contacts) == 5 and all(c.fields["tags"] == [pa.CONTACT_CREATED] for c in contacts.values())


def test_the_poll_takes_over_a_run_whose_heartbeat_stopped(org, make_hubspot_account, monkeypatch):
    hub = make_hubspot_account(name="Acme Hub", records=500)
    sync = make_sync(org, hub)
    Sync.objects.filter(pk=sync.pk).update(trigger=Sync.Trigger.IMMEDIATE)
    revive = kill_at_store(monkeypatch, 2)
    run = SyncRun.objects.create(sync=sync, trigger=SyncRun.Trigger.IMMEDIATE)
    with pytest.raises(Killed):
        engine.sync_run_execute(run)
    revive()
    assert services.immediate_syncs_poll() == []  # heard from a moment ago: still its worker's
    SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=61))
    services.immediate_syncs_poll()
    run.refresh_from_db()
    assert (run.status, run.takeovers, run.created_count) == (SyncRun.Status.SUCCEEDED, 1, 500), run.message
    assert sf_contact_count(sync) == 500


def test_co3_a_change_notified_while_a_run_is_under_way_comes_with_a_run_right_after_it(org, make_hubspot_account, monkeypatch):
    """The run under way may have read that system already: the notification, which finds the
    sync busy, must not leave the change to the next poll."""
    from tests.engine.test_hubspot_salesforce import hs_create

    sync = make_sync(org, make_hubspot_account(name="Acme Hub"))
    Sync.objects.filter(pk=sync.pk).update(trigger=Sync.Trigger.IMMEDIATE)
    first, second = hs_create(sync, {"email": "a@example.com", "lastname": "A"}, {"email": "b@example.com", "lastname": "B"})
    run(sync)
    hubspot(sync).update("contacts", [{"Id": first, "lastname": "A2"}])
    real = engine.apply_changes
    notified = []

    def changed_meanwhile(direction, changes, run_):  # HubSpot has been read by now
        real(direction, changes, run_)
        if not notified:
            hubspot(sync).update("contacts", [{"Id": second, "lastname": "B2"}])
            notified.append(services.connection_notified(connection=sync.source))

    monkeypatch.setattr(engine, "apply_changes", changed_meanwhile)
    under_way = SyncRun.objects.create(sync=sync, trigger=SyncRun.Trigger.IMMEDIATE, cause=SyncRun.Cause.WEBHOOK)
    engine.sync_run_execute(under_way)

    assert notified == [[]]  # the sync was busy: the notification started nothing itself
    follow_up = SyncRun.objects.filter(sync=sync, pk__gt=under_way.pk).get()
    assert (follow_up.cause, follow_up.status, follow_up.updated_count) == (SyncRun.Cause.WEBHOOK, SyncRun.Status.SUCCEEDED, 1)
    last_names = {r.fields["Email"]: r.fields["LastName"] for page in salesforce(sync).changes("Contact", None, ["Email", "LastName"])
                  for r in page}
    assert last_names == {"a@example.com": "A2", "b@example.com": "B2"}
    quiet = engine.sync_run_execute(SyncRun.objects.create(sync=sync, trigger=SyncRun.Trigger.MANUAL))
    # A run no notification met is followed by none (not even one deleted for finding nothing).
    assert SyncRun.objects.create(sync=sync, trigger=SyncRun.Trigger.MANUAL).pk == quiet.pk + 1


def test_an_execution_that_lost_its_run_stops_before_writing_again(org, make_hubspot_account, monkeypatch):
    hub = make_hubspot_account(name="Acme Hub", records=600)
    sync = make_sync(org, hub)
    run = SyncRun.objects.create(sync=sync, trigger=SyncRun.Trigger.MANUAL)
    real = engine.apply_changes

    def taken_over_meanwhile(direction, changes, run_):
        real(direction, changes, run_)
        SyncRun.objects.filter(pk=run_.pk).update(claim="another-execution")  # the poll took it over

    monkeypatch.setattr(engine, "apply_changes", taken_over_meanwhile)
    engine.sync_run_execute(run)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.RUNNING  # the status is the new execution's to set
    assert sf_contact_count(sync) == 200  # one page written, none after


def test_a_run_paused_by_a_spent_daily_allowance_goes_on_by_itself_when_it_returns(org, make_hubspot_account, monkeypatch):
    from connectors.sandbox.models.hubspot import HsAccount

    hub = make_hubspot_account(name="Acme Hub", records=600, daily_limit=3)
    sync = make_sync(org, hub)
    run = engine.sync_run_execute(SyncRun.objects.create(sync=sync, trigger=SyncRun.Trigger.MANUAL))
    assert run.status == SyncRun.Status.PAUSED and "goes on by itself" in run.message
    assert run.resume_at > timezone.now()
    assert run.source_api_calls < 20  # a spent daily allowance is not retried call after call
    assert services.sync_run_request_if_idle(sync=sync, trigger=SyncRun.Trigger.IMMEDIATE) is None
    written = run.created_count

    HsAccount.objects.filter(name="Acme Hub").update(daily_limit=100_000)
    SyncRun.objects.filter(pk=run.pk).update(resume_at=timezone.now() - timedelta(seconds=1))
    services.immediate_syncs_poll()

    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED and sync.runs.count() == 1, (
        run.message, list(RecordError.objects.values_list("message", flat=True)[:2]))
    assert run.created_count == 600 >= written and sf_contact_count(sync) == 600


# --- Salesforce ids typed by people: 15 characters name the same record as 18 -----------------------
def test_the_18_character_form_of_an_id_is_salesforces_own():
    from connectors.salesforce import id18
    from connectors.sandbox.salesforce.ids import make_id

    for number in (1, 61, 3_844, 916_132_831, 62**9 - 1):
        full = make_id("003", number)
        assert id18(full[:15]) == full and id18(full) == full
    assert id18(" 0035b000000001A ") != "0035b000000001A" and id18("not an id") == "not an id"


def test_a_15_character_salesforce_id_on_the_contact_names_the_same_record(org, make_hubspot_account):
    from tests.engine.test_hubspot_salesforce import hs_create, jane, sf_create

    sync = make_sync(org, make_hubspot_account(name="Acme Hub"))
    older, newer = sf_create(org, "Contact", [jane(), jane()])
    salesforce(sync).update("Contact", [{"Id": newer, "Title": "Buyer"}])
    [contact] = hs_create(sync, {"email": "jane.francis@northwind.example", "lastname": "Francis", "salesforcecontactid": older[:15]})
    run(sync)
    link = RecordLink.objects.get(sync=sync, source_id=contact)
    assert link.target_id == older and "Salesforce ID property" in link.events.get().reason
    # Not written back in the other form: it already names the record.
    assert hubspot(sync).fetch("contacts", [contact], ["salesforcecontactid"])[0].fields["salesforcecontactid"] == older[:15]


def test_a_pin_typed_with_15_characters_is_stored_in_the_18_character_form(org, make_hubspot_account, client):
    from tests.engine.test_hubspot_salesforce import hs_create, sf_create
    from tests.factories import UserFactory

    sync = make_sync(org, make_hubspot_account(name="Acme Hub"))
    [contact] = hs_create(sync, {"email": "a@example.com", "lastname": "A"})
    run(sync)
    link = RecordLink.objects.get(sync=sync, source_id=contact)
    [other] = sf_create(org, "Contact", [{"LastName": "Other", "Email": "other@example.com"}])
    client.force_login(UserFactory(role="Marketing admin", is_staff=True))
    response = client.post(f"/syncs/{sync.pk}/hubspot/links/{link.pk}/pin/", {"pinned": "1", "salesforce_id": other[:15]})
    assert response.status_code == 302
    link.refresh_from_db()
    assert (link.target_id, link.pinned) == (other, True)
    # Typed again in its short form, it is the same record: nothing moves, nothing clashes.
    client.post(f"/syncs/{sync.pk}/hubspot/links/{link.pk}/pin/", {"pinned": "1", "salesforce_id": other[:15]})
    assert link.events.filter(action="moved").count() == 1


# --- HubSpot merges made in HubSpot give the survivor a new id: links follow it ------------------------
def test_a_merge_in_hubspots_own_app_moves_the_link_to_the_new_contact(org, make_hubspot_account, client):
    from tests.engine.test_hubspot_salesforce import hs_create

    hub = make_hubspot_account(name="Acme Hub")
    sync = make_sync(org, hub, two_way=True)
    first, second = hs_create(sync, {"email": "jane.francis@northwind.example", "firstname": "Jane", "lastname": "Francis"},
                              {"email": "jane.f@gmail.com", "firstname": "Jane", "lastname": "F"})
    run(sync)
    links = {link.source_id: link.target_id for link in RecordLink.objects.filter(sync=sync)}
    # A person merges the two in HubSpot's app (the sandbox's), not through the portal.
    app = f"{hub.base_url}/app/contacts/{first}/merge"
    import requests

    answer = requests.post(app, data={"other": second}, allow_redirects=False, timeout=10)
    assert answer.status_code in (302, 303), answer.text[:300]
    [survivor] = {r.id for r in hubspot(sync).fetch("contacts", [first], [])}
    assert survivor not in (first, second)
    hubspot(sync).update("contacts", [{"Id": survivor, "firstname": "Janet"}])

    after = run(sync)

    kept = RecordLink.objects.get(sync=sync, source_id=survivor)
    assert kept.target_id in (links[first], links[second])
    # The other Salesforce record of the merged person is flagged as its duplicate, not lost.
    other = ({links[first], links[second]} - {kept.target_id}).pop()
    assert list(RecordError.objects.filter(sync=sync, state=RecordError.State.OPEN).values_list("record_id", "error_class")) \
        in ([], [(other, RecordError.ErrorClass.DUPLICATE)])
    assert "is now" in kept.events.filter(action="moved").get().reason
    assert not RecordLink.objects.filter(sync=sync, source_id__in=[first, second]).exists()
    [record] = salesforce(sync).fetch("Contact", [kept.target_id], ["FirstName"])
    assert record.fields["FirstName"] == "Janet"


# --- The vendors' timing: commit lag, search-index lag, momentary limits --------------------------------
def salesforce_to_salesforce(source, target):
    from tests.factories import FieldMappingFactory, SyncFactory, salesforce_connection

    sync = SyncFactory(source=salesforce_connection(source, "Lagging org"), source_object="Contact",
                       target=salesforce_connection(target, "Target org"), target_object="Contact",
                       target_id_field="External_Id__c", enabled=True)
    for position, name in enumerate(("Email", "LastName")):
        FieldMappingFactory(sync=sync, source_field=name, target_field=name, position=position, is_key=name == "Email")
    return Sync.objects.select_related("source", "target").get(pk=sync.pk)


def test_a_salesforce_record_committed_after_the_reader_passed_its_stamp_still_arrives(make_salesforce_org, visibility_clock):
    source = make_salesforce_org(name="Lagging", commit_lag_seconds=20, commit_lag_seed=3)
    sync = salesforce_to_salesforce(source, make_salesforce_org(name="Target"))
    writer = connection_connector(sync.source)
    made = [writer.create("Contact", [{"LastName": f"Lag{i}", "Email": f"lag{i}@example.com"}])[0].id for i in range(12)]
    visibility_clock.advance(10)  # the quicker transactions have committed

    first = run(sync)

    linked = set(RecordLink.objects.filter(sync=sync).values_list("source_id", flat=True))
    late = [i for i in made if i not in linked]
    stamps = {r.id: r.modified_at for r in writer.fetch("Contact", made, ["SystemModstamp"])}
    # Some were not committed yet, among them records stamped before ones the run did read.
    assert late and linked and min(stamps[i] for i in late) < max(stamps[i] for i in linked)
    visibility_clock.advance(25)  # every transaction has committed now

    second = run(sync)

    assert first.created_count + second.created_count == 12 and second.failed_count == 0
    assert RecordLink.objects.filter(sync=sync).count() == 12
    assert sum(len(p) for p in connection_connector(sync.target).changes("Contact", None, ["Id"])) == 12


def test_a_hubspot_contact_indexed_after_the_reader_passed_its_stamp_still_arrives(org, make_hubspot_account, visibility_clock):
    hub = make_hubspot_account(name="Acme Hub", search_lag_seconds=20, search_lag_seed=5)
    sync = make_sync(org, hub)
    writer = hubspot(sync)
    made = [writer.create("contacts", [{"email": f"lag{i}@example.com", "lastname": f"Lag{i}"}])[0].id for i in range(12)]
    visibility_clock.advance(10)  # some are in the search index by now

    first = run(sync)

    linked = set(RecordLink.objects.filter(sync=sync).values_list("source_id", flat=True))
    assert linked and len(linked) < 12  # some were not in the search index yet
    visibility_clock.advance(25)
    second = run(sync)

    assert first.created_count + second.created_count == 12
    assert set(RecordLink.objects.filter(sync=sync).values_list("source_id", flat=True)) == set(made)
    assert sf_contact_count(sync) == 12


def test_momentary_limits_and_outages_inside_a_long_run_neither_pause_it_nor_lose_records(org, make_hubspot_account):
    from connectors.sandbox.hubspot.accounts import account_set_faults
    from connectors.sandbox.models.hubspot import HsAccount

    hub = make_hubspot_account(name="Acme Hub", records=1000)
    sync = make_sync(org, hub)
    account_set_faults(HsAccount.objects.get(name="Acme Hub"), limit_rate=0.15, error_rate=0.1, seed_value=7)

    result = run(sync)

    assert result.status == SyncRun.Status.SUCCEEDED, result.message
    assert (result.created_count, sf_contact_count(sync)) == (1000, 1000)
    # The faults did happen: each refused call was made again (five searches and ten write-backs
    # are what the run costs without them).
    assert result.source_api_calls > 15


# --- Configuration mistakes stop once --------------------------------------------------------------------
def test_a_revoked_key_makes_one_recorded_failure_and_a_dashboard_message_not_a_stream_of_runs(
        org, make_hubspot_account, client):
    from connectors.sandbox.models.hubspot import HsAccount
    from syncconfig.models import Connection
    from tests.factories import UserFactory

    hub = make_hubspot_account(name="Acme Hub", records=5)
    sync = make_sync(org, hub)
    Sync.objects.filter(pk=sync.pk).update(trigger=Sync.Trigger.IMMEDIATE)
    HsAccount.objects.filter(name="Acme Hub").update(token="revoked-by-an-admin")  # the private app's token is rotated

    services.immediate_syncs_poll()
    for _ in range(5):  # the 10-second poll, for a minute
        services.immediate_syncs_poll()

    [failed] = SyncRun.objects.filter(sync=sync)
    assert failed.status == SyncRun.Status.FAILED and "until the connection is tested again" in failed.message
    hub_connection = Connection.objects.get(pk=sync.source_id)
    assert hub_connection.blocked_at and "401" in hub_connection.blocked_reason
    client.force_login(UserFactory(role="Marketing admin", is_staff=True))
    page = client.get("/").content.decode()
    assert "Its syncs stopped" in page and "stopped" in page
    assert "stopped its syncs" in client.get(f"/syncs/{sync.pk}/").content.decode()

    # The admin puts the new token in and tests the connection: the syncs run again.
    HsAccount.objects.filter(name="Acme Hub").update(token=hub.token)
    assert services.connection_test(connection=hub_connection)
    services.immediate_syncs_poll()
    assert SyncRun.objects.filter(sync=sync).count() == 2 and sf_contact_count(sync) == 5


def test_a_misspelt_object_stops_the_sync_until_it_is_saved_again(org, make_hubspot_account):
    sync = make_sync(org, make_hubspot_account(name="Acme Hub", records=5))
    Sync.objects.filter(pk=sync.pk).update(trigger=Sync.Trigger.IMMEDIATE, target_object="Contcat")  # a typo

    for _ in range(4):
        services.immediate_syncs_poll()

    [failed] = SyncRun.objects.filter(sync=sync)
    assert "saved again" in failed.message
    sync.refresh_from_db()
    assert sync.blocked_at and "Contcat" in sync.blocked_reason
    Sync.objects.filter(pk=sync.pk).update(target_object="Contact")
    services.sync_unstop(sync=sync)  # what saving the sync in its form does
    services.immediate_syncs_poll()
    assert SyncRun.objects.filter(sync=sync, status=SyncRun.Status.SUCCEEDED).count() == 1


def test_a_run_the_portals_own_database_refused_pauses_and_goes_on_by_itself(org, make_hubspot_account, monkeypatch):
    from django.db import OperationalError

    sync = make_sync(org, make_hubspot_account(name="Acme Hub", records=300))
    real, calls = engine.check_budget, {"n": 0}

    def locked_once(*args):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OperationalError("database is locked")
        return real(*args)

    monkeypatch.setattr(engine, "check_budget", locked_once)
    run = engine.sync_run_execute(SyncRun.objects.create(sync=sync, trigger=SyncRun.Trigger.MANUAL))
    assert run.status == SyncRun.Status.PAUSED and "database was busy" in run.message
    assert timedelta(seconds=30) < run.resume_at - timezone.now() <= timedelta(minutes=1)

    SyncRun.objects.filter(pk=run.pk).update(resume_at=timezone.now())
    services.immediate_syncs_poll()
    run.refresh_from_db()
    assert (run.status, run.created_count, sf_contact_count(sync)) == (SyncRun.Status.SUCCEEDED, 300, 300)


def test_syncing_chosen_records_tries_each_afresh_and_says_when_they_still_fail(org, make_hubspot_account):
    from tests.engine.test_hubspot_salesforce import hs_create, sf_create

    sync = make_sync(org, make_hubspot_account(name="Acme Hub"))
    [contact] = hs_create(sync, {"email": "a@example.com", "lastname": "A"})
    run(sync)
    [master] = sf_create(org, "Contact", [{"LastName": "Master", "Email": "master@example.com"}])
    salesforce(sync).merge("Contact", master, [RecordLink.objects.get(sync=sync).target_id])  # outside the portal
    hubspot(sync).update("contacts", [{"Id": contact, "firstname": "Ann"}])
    assert run(sync).failed_count == 1  # held back for a person (HS-8)

    again = engine.sync_records_execute(SyncRun.objects.create(sync=sync, trigger=SyncRun.Trigger.RETRY), {"source": [contact]})

    # Refused again, and said so: a person asked for it, so it is not passed over as known.
    assert (again.status, again.failed_count, again.skipped_count) == (SyncRun.Status.PARTIAL, 1, 0)


def test_a_record_the_target_refused_is_not_written_again_when_the_lag_window_reads_it_unchanged(org, make_hubspot_account):
    from tests.engine.test_hubspot_salesforce import hs_create

    sync = make_sync(org, make_hubspot_account(name="Acme Hub"))
    [contact] = hs_create(sync, {"email": "long@example.com", "lastname": "L" * 100})  # Salesforce keeps 80
    first = run(sync)
    assert first.failed_count == 1

    again = run(sync)  # moments later: the record is in the read lag window, unchanged

    assert (again.failed_count, again.skipped_count) == (0, 1)
    [error] = RecordError.objects.filter(sync=sync)  # the one failure, not superseded by a second
    assert error.state == RecordError.State.OPEN and error.attempts == 1
    hubspot(sync).update("contacts", [{"Id": contact, "lastname": "Long"}])  # fixed at the source
    fixed = run(sync)
    assert (fixed.created_count, RecordError.objects.get(pk=error.pk).state) == (1, RecordError.State.RESOLVED)


def test_a_create_whose_answer_was_lost_is_found_next_time_and_counted_once(org, make_hubspot_account, monkeypatch):
    """Salesforce carried the create out but its answer never came (a read timeout): the
    connector does not send it again; the records' automatic retry finds them by key."""
    from connectors.base import ANSWER_LOST, Unavailable, WriteResult
    from connectors.salesforce import SalesforceConnector

    sync = make_sync(org, make_hubspot_account(name="Acme Hub", records=250))
    real_create, lost = SalesforceConnector.create, {"n": 0}

    def answer_lost_once(self, object_name, records, **kwargs):
        results = real_create(self, object_name, records, **kwargs)
        if lost["n"] == 0:
            lost["n"] = 1
            return [WriteResult(None, Unavailable("Salesforce's answer was lost.", code=ANSWER_LOST)) for _ in records]
        return results

    monkeypatch.setattr(SalesforceConnector, "create", answer_lost_once)
    first = run(sync)
    assert first.failed_count == 200 and sf_contact_count(sync) == 250  # they landed all the same

    [second] = services.record_errors_retry_due(now=timezone.now() + timedelta(minutes=2))  # retried by themselves
    second.refresh_from_db()

    assert second.failed_count == 0 and sf_contact_count(sync) == 250  # none created twice
    assert RecordLink.objects.filter(sync=sync).count() == 250
    assert first.created_count + second.created_count == 250  # each counted once, as created
    assert not RecordError.objects.filter(sync=sync, state__in=[RecordError.State.OPEN, RecordError.State.RETRY_SCHEDULED]).exists()


def test_a_batch_a_killed_worker_upserted_is_not_written_again_by_the_run_that_takes_over(make_salesforce_org, monkeypatch):
    from connectors.sandbox.models import SandboxRecord
    from connectors.sandbox.salesforce.seed import records_bulk_create

    source, target = make_salesforce_org(name="Source"), make_salesforce_org(name="Target")
    sync = salesforce_to_salesforce(source, target)
    sync.mappings.update(is_key=False)  # no look-up by email: creates go by upsert on External_Id__c alone
    from connectors.sandbox.salesforce.orgs import org_get

    records_bulk_create(org_get(source.org_id), "Contact", [{"LastName": f"L{i}", "Email": f"p{i}@example.com"} for i in range(300)])
    revive = kill_at_store(monkeypatch, 2)  # the first batch is upserted in the target, unrecorded
    run_ = SyncRun.objects.create(sync=sync, trigger=SyncRun.Trigger.MANUAL)
    with pytest.raises(Killed):
        engine.sync_run_execute(run_)
    revive()
    written_once = {r.record_id: r.system_modstamp for r in SandboxRecord.objects.filter(org=org_get(target.org_id), sobject="Contact")}
    assert len(written_once) == 200

    SyncRun.objects.filter(pk=run_.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=90))
    taken, _ = services.sync_run_now(sync=sync)

    taken.refresh_from_db()
    assert (taken.status, taken.created_count) == (SyncRun.Status.SUCCEEDED, 300), taken.message
    after = {r.record_id: r.system_modstamp for r in SandboxRecord.objects.filter(org=org_get(target.org_id), sobject="Contact")}
    assert len(after) == 300
    assert all(after[record_id] == stamp for record_id, stamp in written_once.items())  # none written a second time


def test_contacts_whose_activecampaign_answer_was_lost_are_found_tagged_and_counted_once(
        make_salesforce_org, make_activecampaign_account, monkeypatch):
    """ActiveCampaign made the contacts but the answers never came: they are not sent again;
    their retry finds them by email, counts them once as created and owes them AC-8's tag."""
    from connectors.activecampaign import ActiveCampaignConnector
    from connectors.base import ANSWER_LOST, Unavailable, WriteResult
    from connectors.sandbox.salesforce.orgs import org_get
    from connectors.sandbox.salesforce.seed import records_bulk_create
    from syncconfig.integrations import person_accounts as pa
    from tests.engine.test_activecampaign_salesforce import ac_contacts
    from tests.engine.test_activecampaign_salesforce import make_sync as make_ac_sync

    org = make_salesforce_org(name="Acme")
    sync = make_ac_sync(org, make_activecampaign_account(name="Acme Marketing"), model="Contact")
    records_bulk_create(org_get(org.org_id), "Contact", [{"LastName": f"P{i}", "Email": f"p{i}@example.com"} for i in range(5)])
    real_upsert, lost = ActiveCampaignConnector.upsert, {"n": 0}

    def answers_lost_once(self, object_name, records, key="email"):
        results = real_upsert(self, object_name, records, key=key)
        if lost["n"] == 0:
            lost["n"] = 1
            return [r if n % 2 else WriteResult(None, Unavailable("ActiveCampaign's answer was lost.", code=ANSWER_LOST))
                    for n, r in enumerate(results)]
        return results

    monkeypatch.setattr(ActiveCampaignConnector, "upsert", answers_lost_once)
    first = engine.sync_run_execute(SyncRun.objects.create(sync=sync, trigger=SyncRun.Trigger.MANUAL))
    assert (first.created_count, first.failed_count) == (2, 3) and len(ac_contacts(sync)) == 5

    [second] = services.record_errors_retry_due(now=timezone.now() + timedelta(minutes=2))
    second.refresh_from_db()

    assert (second.failed_count, first.created_count + second.created_count) == (0, 5)  # each counted once
    contacts = ac_contacts(sync)
    assert len(contacts) == 5 and all(c.fields["tags"] == [pa.CONTACT_CREATED] for c in contacts.values())
    assert RecordLink.objects.filter(sync=sync).count() == 5


def test_a_worker_lost_during_the_follow_up_is_counted_once_even_when_the_look_up_lags(
        make_salesforce_org, make_activecampaign_account, monkeypatch):
    """The batch was written and counted; the worker died while tagging it (AC-8). The run
    that takes over cannot find the contacts yet (the vendor's search lags), upserts them again
    and hears "found, not created": they are tagged, but not counted as created a second time."""
    from connectors.activecampaign import ActiveCampaignConnector
    from connectors.sandbox.salesforce.orgs import org_get
    from connectors.sandbox.salesforce.seed import records_bulk_create
    from syncconfig.integrations import person_accounts as pa
    from tests.engine.test_activecampaign_salesforce import ac_contacts
    from tests.engine.test_activecampaign_salesforce import make_sync as make_ac_sync

    org = make_salesforce_org(name="Acme")
    sync = make_ac_sync(org, make_activecampaign_account(name="Acme Marketing"), model="Contact")
    records_bulk_create(org_get(org.org_id), "Contact", [{"LastName": f"P{i}", "Email": f"p{i}@example.com"} for i in range(5)])
    real_after_write = pa.PersonAccountIntegration.after_write

    def dies_while_tagging(self, direction, written):
        if written and direction.target.kind == "activecampaign":
            raise Killed()
        return real_after_write(self, direction, written)

    monkeypatch.setattr(pa.PersonAccountIntegration, "after_write", dies_while_tagging)
    run = SyncRun.objects.create(sync=sync, trigger=SyncRun.Trigger.MANUAL)
    with pytest.raises(Killed):
        engine.sync_run_execute(run)
    monkeypatch.setattr(pa.PersonAccountIntegration, "after_write", real_after_write)
    run.refresh_from_db()
    assert run.created_count == 5 and all(v.startswith(engine.FOLLOW_UP) for v in run.pending.values())
    monkeypatch.setattr(ActiveCampaignConnector, "find", lambda self, *args, **kwargs: [])  # not in its search yet
    SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=90))

    services.sync_run_now(sync=sync)

    run.refresh_from_db()
    assert (run.status, run.takeovers, run.created_count) == (SyncRun.Status.SUCCEEDED, 1, 5), run.message
    contacts = ac_contacts(sync)
    assert len(contacts) == 5 and all(c.fields["tags"] == [pa.CONTACT_CREATED] for c in contacts.values())


def test_contacts_whose_salesforce_answer_was_lost_and_that_come_back_the_other_way_are_counted_once(
        make_salesforce_org, make_activecampaign_account, monkeypatch):
    """The contacts made it into Salesforce but the answer never came. Before their retry, the
    Salesforce → ActiveCampaign direction reads them back unlinked and writes them by email onto
    the contacts they came from: that write updates, it creates nothing, and is not counted as a
    create. Counted as created: what the targets hold that was not there before, once each."""
    from connectors.base import ANSWER_LOST, Unavailable, WriteResult
    from connectors.salesforce import SalesforceConnector
    from syncconfig.integrations import person_accounts as pa
    from tests.engine.test_activecampaign_salesforce import ac_contacts
    from tests.engine.test_activecampaign_salesforce import make_sync as make_ac_sync

    org = make_salesforce_org(name="Acme")
    sync = make_ac_sync(org, make_activecampaign_account(name="Acme Marketing"), model="Contact")
    connector = connection_connector(sync.target)
    for n in range(6):
        [contact] = connector.upsert("contact", [{"email": f"p{n}@example.com", "firstName": "P", "lastName": f"L{n}"}], key="email")
        connector.add_tags(contact.id, [pa.CONTACT_ADDED])
    real_upsert, lost = SalesforceConnector.upsert, {"n": 0}

    def answers_lost_once(self, object_name, records, key):
        results = real_upsert(self, object_name, records, key)
        if lost["n"] == 0:
            lost["n"] = 1
            return [WriteResult(None, Unavailable("Salesforce's answer was lost.", code=ANSWER_LOST)) for _ in results]
        return results

    def in_salesforce() -> int:
        return sum(len(page) for page in connection_connector(sync.source).changes("Contact", None, ["Id"]))

    monkeypatch.setattr(SalesforceConnector, "upsert", answers_lost_once)
    first = run(sync)
    assert (first.created_count, first.failed_count) == (0, 6) and in_salesforce() == 6  # they landed

    second = run(sync)  # reads the six back from Salesforce, unlinked, before they are retried
    [retry] = services.record_errors_retry_due(now=timezone.now() + timedelta(minutes=2)) or [None]
    runs = [first, second] + ([retry] if retry else [])
    for each in runs:
        each.refresh_from_db()

    assert in_salesforce() == 6 and len(ac_contacts(sync)) == 6  # nothing made twice
    assert sum(r.created_count for r in runs) == 6, [(r.created_count, r.updated_count, r.failed_count) for r in runs]
    assert RecordLink.objects.filter(sync=sync).count() == 6
    assert not RecordError.objects.filter(sync=sync, state__in=[RecordError.State.OPEN, RecordError.State.RETRY_SCHEDULED]).exists()
