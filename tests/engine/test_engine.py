"""The sync engine end to end: two Salesforce sandbox orgs over HTTP, Contact → Contact.

No web, no worker: the engine's functions are called directly, as a task would.
"""
import pytest
from django.utils import timezone

from connectors.base import Unavailable
from connectors.sandbox.models import SandboxRecord
from connectors.sandbox.salesforce.orgs import org_add_field, org_get
from connectors.sandbox.salesforce.seed import records_bulk_create
from syncconfig import engine, services
from syncconfig.models import Connection, RecordError, RecordLink, Sync, SyncRule, SyncRun, UpdatePolicy
from syncconfig.services import connection_connector
from tests.factories import FieldMappingFactory, SyncFactory, salesforce_connection

pytestmark = pytest.mark.django_db(transaction=True)
FIELDS = ["Email", "FirstName", "LastName", "Phone"]


@pytest.fixture
def orgs(make_salesforce_org):
    return make_salesforce_org(name="Source org"), make_salesforce_org(name="Target org")


@pytest.fixture
def sync(orgs):
    source, target = orgs
    sync = SyncFactory(source=salesforce_connection(source, "Source"), source_object="Contact",
                       target=salesforce_connection(target, "Target"), target_object="Contact",
                       target_id_field="External_Id__c", enabled=True)
    for position, name in enumerate(FIELDS):
        FieldMappingFactory(sync=sync, source_field=name, target_field=name, position=position, is_key=name == "Email")
    return sync


def seed(facts, rows):
    return records_bulk_create(org_get(facts.org_id), "Contact", rows)


def people(n, start=0):
    return [{"FirstName": f"Ada{i}", "LastName": f"Lovelace{i}", "Email": f"ada{i}@example.com", "Phone": f"+44 20 7946 {i:04d}"}
            for i in range(start, start + n)]


def target_contacts(facts):
    return {r.data["Email"]: r.data for r in SandboxRecord.objects.filter(org__org_id=facts.org_id, sobject="Contact", is_deleted=False)}


def run(sync, trigger=SyncRun.Trigger.MANUAL):
    return engine.sync_run_execute(SyncRun.objects.create(sync=Sync.objects.get(pk=sync.pk), trigger=trigger))


def test_co2_co4_a_first_run_creates_and_links_everything_and_a_second_changes_nothing(orgs, sync):
    source, target = orgs
    seed(source, people(250))
    first = run(sync)
    assert (first.status, first.read_count, first.created_count, first.failed_count) == ("succeeded", 250, 250, 0)
    assert len(target_contacts(target)) == 250
    assert RecordLink.objects.filter(sync=sync).count() == 250
    assert first.target_api_calls <= 2 + 2 + 1  # login-free: 2 collections of 200, reads, one describe (pre-flight)
    second = run(sync)
    # The watermark's own instant is read again (all 250 were bulk-made in one); nothing is written.
    assert (second.created_count, second.updated_count, second.failed_count) == (0, 0, 0)
    assert second.target_api_calls == 0
    assert len(target_contacts(target)) == 250


def test_an_incremental_run_moves_only_the_changed_field(orgs, sync):
    source, target = orgs
    ids = seed(source, people(5))
    run(sync)
    connection_connector(sync.source).update("Contact", [{"Id": ids[3], "Phone": "+44 20 0000 0000"}])
    second = run(sync)
    assert (second.updated_count, second.created_count) == (1, 0)
    assert target_contacts(target)["ada3@example.com"]["Phone"] == "+44 20 0000 0000"


def test_policies_decide_field_by_field(orgs, sync):
    source, target = orgs
    sync.mappings.filter(source_field="FirstName").update(to_target=UpdatePolicy.ON_CREATE)
    sync.mappings.filter(source_field="Phone").update(to_target=UpdatePolicy.IF_BLANK)
    sync.mappings.filter(source_field="LastName").update(to_target=UpdatePolicy.ALWAYS)
    [contact_id] = seed(source, people(1))
    run(sync)
    connection_connector(sync.source).update("Contact", [{"Id": contact_id, "FirstName": "Augusta", "LastName": "King", "Phone": "+1 555 0100"}])
    run(sync)
    row = target_contacts(target)["ada0@example.com"]
    assert (row["FirstName"], row["LastName"], row["Phone"]) == ("Ada0", "King", "+44 20 7946 0000")


def test_the_key_mapping_links_an_existing_partner_instead_of_creating_one(orgs, sync):
    source, target = orgs
    [existing] = seed(target, [{"LastName": "Lovelace0", "Email": "ADA0@example.com"}])
    seed(source, people(1))
    result = run(sync)
    assert (result.created_count, result.updated_count) == (0, 1)
    link = RecordLink.objects.get(sync=sync)
    assert link.target_id == existing
    assert link.events.get().reason == "Matched by the key mapping."


def test_co2_a_bad_record_fails_alone_with_its_reason_and_is_retried_once_fixed(orgs, sync):
    source, target = orgs
    # The target keeps nicknames short; the source does not.
    org_add_field(org_get(source.org_id), sobject="Contact", name="Nickname__c", field_type="string", length=80)
    org_add_field(org_get(target.org_id), sobject="Contact", name="Nickname__c", field_type="string", length=5)
    FieldMappingFactory(sync=sync, source_field="Nickname__c", target_field="Nickname__c")
    rows = people(3)
    rows[1]["Nickname__c"] = "The Enchantress of Numbers"
    ids = seed(source, rows)
    result = run(sync)
    assert (result.status, result.created_count, result.failed_count) == ("partial", 2, 1)
    error = RecordError.objects.get(sync=sync)
    assert (error.record_id, error.code, error.error_class, error.state) == (ids[1], "PREFLIGHT_TOO_LONG", "validation", "open")
    assert error.field == "Nickname__c" and error.payload["values"]["Nickname__c"] == "The Enchantress of Numbers"
    connection_connector(sync.source).update("Contact", [{"Id": ids[1], "Nickname__c": "Ada"}])
    assert run(sync).created_count == 1
    error.refresh_from_db()
    assert error.state == "resolved"
    assert len(target_contacts(target)) == 3


def test_co4_a_run_killed_after_writing_resumes_without_loss_or_duplicates(orgs, sync, monkeypatch):
    source, target = orgs
    seed(source, people(450))
    real_store = engine.store_outcome
    calls = {"n": 0}

    def crash_after_the_vendor_wrote(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # the first call stores the page's skips, the second the first written batch
            raise SystemExit("killed")  # the worker dies between the vendor's write and our bookkeeping
        return real_store(*args, **kwargs)

    monkeypatch.setattr(engine, "store_outcome", crash_after_the_vendor_wrote)
    with pytest.raises(SystemExit):
        run(sync)
    assert len(target_contacts(target)) == 200 and not RecordLink.objects.exists()
    monkeypatch.setattr(engine, "store_outcome", real_store)
    resumed = run(sync)
    assert resumed.status == "succeeded"
    contacts = target_contacts(target)
    assert len(contacts) == 450  # nothing lost, nothing twice
    assert RecordLink.objects.filter(sync=sync).count() == 450


def test_co5_an_exhausted_daily_limit_pauses_the_run_and_the_next_run_catches_up(orgs, sync):
    source, target = orgs
    seed(source, people(600))
    org = org_get(target.org_id)
    org.daily_limit = 5  # enough to plan (3 lookups by email), not to write 3 collections
    org.save()
    Connection.objects.filter(pk=sync.target_id).update(api_budget_percent=100)
    paused = run(sync)
    assert paused.status == "paused" and "Paused by the vendor's API limit" in paused.message
    assert 0 < len(target_contacts(target)) < 600
    org.daily_limit = 15000
    org.save()
    run(sync)
    assert len(target_contacts(target)) == 600


def test_scope_rules_skip_records_with_the_reason(orgs, sync):
    source, target = orgs
    rows = people(4)
    for i, row in enumerate(rows):
        row["Sync_To_Marketing__c"] = i % 2 == 0
    seed(source, rows)
    SyncRule.objects.create(sync=sync, kind=SyncRule.Kind.MARKER, field="Sync_To_Marketing__c", operator=SyncRule.Operator.IS_SET)
    result = run(sync)
    assert (result.created_count, result.skipped_count) == (2, 2)
    assert set(target_contacts(target)) == {"ada0@example.com", "ada2@example.com"}


def test_a_preview_shows_the_plan_and_writes_nothing(orgs, sync):
    source, target = orgs
    ids = seed(source, people(3))
    run(sync)
    connection_connector(sync.source).update("Contact", [{"Id": ids[0], "LastName": "Byron"}])
    seed(source, people(1, start=3))
    preview = engine.sync_preview(Sync.objects.get(pk=sync.pk))
    assert (preview.counts["create"], preview.counts["update"], preview.counts["reject"]) == (1, 1, 0)
    update = next(c for c in preview.changes if c.action == "update")
    assert update.diffs == {"LastName": ("Lovelace0", "Byron")}
    assert target_contacts(target)["ada0@example.com"]["LastName"] == "Lovelace0"
    assert len(target_contacts(target)) == 3


def test_a_preview_backs_off_like_a_run_and_says_what_it_cost_and_why_records_are_left_out(orgs, sync):
    from connectors.sandbox.salesforce.orgs import org_get, org_set_faults

    source, _ = orgs
    seed(source, people(4))
    SyncRule.objects.create(sync=sync, kind=SyncRule.Kind.MARKER, field="Sync_To_Marketing__c", operator=SyncRule.Operator.IS_SET)
    org_set_faults(org_get(source.org_id), error_rate=0.8, seed_value=4)  # three 503s in a row, then an answer

    preview = engine.sync_preview(Sync.objects.get(pk=sync.pk))

    assert preview.read == 4 and preview.complete
    assert preview.skip_reasons and sum(n for _, n in preview.skip_reasons) == preview.counts["skip"] == 4
    assert preview.api_calls >= 1


def test_a_two_way_sync_brings_target_changes_back(orgs, sync):
    source, target = orgs
    Sync.objects.filter(pk=sync.pk).update(direction=Sync.Direction.TWO_WAY, source_id_field="External_Id__c")
    [contact_id] = seed(source, people(1))
    run(sync)
    partner = RecordLink.objects.get(sync=sync).target_id
    connection_connector(sync.target).update("Contact", [{"Id": partner, "Phone": "+49 30 1234567"}])
    back = run(sync)
    assert back.updated_count == 1
    [row] = connection_connector(sync.source).fetch("Contact", [contact_id], ["Phone"])
    assert row.fields["Phone"] == "+49 30 1234567"
    assert run(sync).updated_count == 0  # the echo of our own write changes nothing


def test_co5_an_org_past_its_api_budget_pauses_every_sync_that_uses_it(orgs, sync):
    source, target = orgs
    seed(source, people(10))
    org = org_get(target.org_id)
    org.daily_limit = 100
    org.save()
    connector = connection_connector(sync.target)
    for _ in range(60):  # another integration has been busy on the target org today
        connector.describe("Contact")
    Connection.objects.filter(pk=sync.target_id).update(api_budget_percent=50)
    paused = run(sync)
    assert paused.status == "paused"
    assert "has used 6" in paused.message and "past its budget of 50%" in paused.message
    target_connection = Connection.objects.get(pk=sync.target_id)
    assert target_connection.api_limit == 100 and target_connection.api_used >= 60
    assert target_contacts(target) == {}
    Connection.objects.filter(pk=sync.target_id).update(api_budget_percent=90)
    assert run(sync).created_count == 10


def test_retrying_a_failed_record_rereads_it_and_resolves_the_failure(orgs, sync):
    source, target = orgs
    org_add_field(org_get(target.org_id), sobject="Contact", name="Nickname__c", field_type="string", length=5)
    org_add_field(org_get(source.org_id), sobject="Contact", name="Nickname__c", field_type="string", length=80)
    FieldMappingFactory(sync=sync, source_field="Nickname__c", target_field="Nickname__c")
    rows = people(2)
    rows[0]["Nickname__c"] = "Far too long a nickname"
    ids = seed(source, rows)
    run(sync)
    connection_connector(sync.source).update("Contact", [{"Id": ids[0], "Nickname__c": "Ada"}])
    [retry] = services.record_errors_retry(errors=RecordError.objects.filter(sync=sync))
    retry.refresh_from_db()
    assert (retry.trigger, retry.status, retry.read_count, retry.created_count) == ("retry", "succeeded", 1, 1)
    error = RecordError.objects.get(sync=sync)
    assert (error.state, error.attempts) == ("resolved", 1)  # attempts counts failures
    assert target_contacts(target)["ada0@example.com"]["Nickname__c"] == "Ada"


def test_co2_a_record_failing_again_keeps_one_open_failure_with_its_attempts(orgs, sync):
    source, target = orgs
    org_add_field(org_get(target.org_id), sobject="Contact", name="Nickname__c", field_type="string", length=5)
    org_add_field(org_get(source.org_id), sobject="Contact", name="Nickname__c", field_type="string", length=80)
    FieldMappingFactory(sync=sync, source_field="Nickname__c", target_field="Nickname__c")
    rows = people(1)
    rows[0]["Nickname__c"] = "Far too long a nickname"
    seed(source, rows)
    run(sync)
    services.record_errors_retry(errors=RecordError.objects.filter(sync=sync))
    services.record_errors_retry(errors=RecordError.objects.filter(sync=sync))
    [open_error] = RecordError.objects.filter(sync=sync, state="open")
    assert open_error.attempts == 3 and open_error.code == "PREFLIGHT_TOO_LONG"
    assert RecordError.objects.filter(sync=sync, state="superseded").count() == 2


def test_a_new_record_sharing_the_key_of_a_linked_one_never_takes_its_partner(orgs, sync):
    source, target = orgs
    seed(source, people(1))
    run(sync)
    [partner] = RecordLink.objects.filter(sync=sync).values_list("target_id", flat=True)
    seed(source, [{"FirstName": "Augusta", "LastName": "King", "Email": "ada0@example.com"}])
    second = run(sync)
    assert (second.status, second.created_count, second.failed_count) == ("succeeded", 1, 0)
    rows = SandboxRecord.objects.filter(org__org_id=target.org_id, sobject="Contact", data__Email="ada0@example.com")
    assert sorted(r.data["FirstName"] for r in rows) == ["Ada0", "Augusta"]
    assert RecordLink.objects.filter(sync=sync).count() == 2
    assert SandboxRecord.objects.get(record_id=partner).data["FirstName"] == "Ada0"


def test_a_failure_after_a_written_batch_keeps_its_links_so_a_rerun_creates_nothing_twice(orgs, sync, monkeypatch):
    source, target = orgs
    Sync.objects.filter(pk=sync.pk).update(target_id_field="")  # no idempotency key: links alone prevent duplicates
    sync.mappings.update(is_key=False)
    seed(source, people(300))
    real_write = engine._write
    calls = {"n": 0}

    def outage_on_second_batch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise Unavailable("Salesforce could not be reached.")
        return real_write(*args, **kwargs)

    monkeypatch.setattr(engine, "_write", outage_on_second_batch)
    paused = run(sync)
    # Still down after the retries: the run pauses and goes on by itself a few minutes later.
    assert paused.status == "paused" and paused.created_count == 200 and paused.resume_at
    monkeypatch.setattr(engine, "_write", real_write)
    run(sync)
    assert len(SandboxRecord.objects.filter(org__org_id=target.org_id, sobject="Contact", is_deleted=False)) == 300


def test_co5_a_record_refused_by_a_passing_fault_is_retried_by_itself_later(orgs, sync, monkeypatch):
    from connectors.base import WriteResult

    source, target = orgs
    seed(source, people(3))
    real_write = engine._write

    def one_record_locked(direction, action, changes):
        results = real_write(direction, action, changes[1:])
        return [WriteResult(None, Unavailable("unable to obtain exclusive access to this record", code="UNABLE_TO_LOCK_ROW"))] + results

    monkeypatch.setattr(engine, "_write", one_record_locked)
    first = run(sync)
    monkeypatch.setattr(engine, "_write", real_write)
    error = RecordError.objects.get(sync=sync)
    assert (first.status, error.state, error.error_class) == ("partial", "retry_scheduled", "other")
    assert error.not_before > timezone.now()
    assert services.record_errors_retry_due() == []  # not due yet
    [retry] = services.record_errors_retry_due(now=timezone.now() + timezone.timedelta(minutes=5))
    retry.refresh_from_db()
    error.refresh_from_db()
    assert (retry.created_count, error.state) == (1, "resolved")
    assert len(target_contacts(target)) == 3


def test_a_large_read_into_a_bulk_target_is_applied_several_pages_at_a_time_each_record_once_as_read_last(monkeypatch):
    """Pages gathered for a bulk write (up to its batch) keep the read's order; a record read
    again further on, changed meanwhile, is applied once, as it was read last."""
    from types import SimpleNamespace

    from connectors.base import Record

    monkeypatch.setattr(SyncRun.objects, "filter", lambda **kwargs: SimpleNamespace(update=lambda **values: 1))

    def record(n, stamp):
        return Record(id=str(n), object="contacts", fields={"n": n, "stamp": stamp}, modified_at=stamp)

    pages = [[record(1, "a"), record(2, "a")], [record(3, "b"), record(1, "c")], [record(4, "d")], [record(5, "e")]]

    def direction(total, bulk_from=3, size=4):
        return SimpleNamespace(source=SimpleNamespace(changes_total=total),
                               target=SimpleNamespace(bulk_batch_size=size, bulk_write_from=bulk_from))

    gathered = list(engine._gathered(direction(total=6), iter(pages), SimpleNamespace(pk=1)))
    assert [[(r.id, r.modified_at) for r in page] for page in gathered] == [
        [("2", "a"), ("3", "b"), ("1", "c"), ("4", "d")], [("5", "e")]]
    # A small read, or a target without a bulk write: page by page, as read.
    assert list(engine._gathered(direction(total=2), iter(pages), SimpleNamespace(pk=1))) == pages
    assert list(engine._gathered(direction(total=6, bulk_from=None), iter(pages), SimpleNamespace(pk=1))) == pages
    # A slow source: what is held goes as soon as it is enough for a bulk write and has waited a minute.
    ticks = iter([0, 0, 61, 61, 62])
    slow = list(engine._gathered(direction(total=6, bulk_from=2, size=10), iter(pages), SimpleNamespace(pk=1),
                                 clock=lambda: next(ticks)))
    assert [[r.id for r in page] for page in slow] == [["2", "3", "1"], ["4", "5"]]
