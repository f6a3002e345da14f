"""What a running run tells its live page: the phase it is in, the records gone through of
those expected, and the API calls spent so far — stored as it goes, not only at the end."""
import pytest

from syncconfig import engine, services
from syncconfig.models import RecordError, SyncRun
from tests.engine.test_engine import orgs, people, run, seed, sync  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def seen_at_each_write(monkeypatch):
    """The run as its page would read it from the database, at each batch the engine writes,
    with the API calls the target's connector had made by then."""
    seen = []
    write = engine._write

    def watching(direction, action, changes):
        row = SyncRun.objects.values("phase", "read_count", "created_count", "target_api_calls", "records_expected").get()
        seen.append({**row, "made": direction.target.api_calls, "connector": direction.target})
        return write(direction, action, changes)

    monkeypatch.setattr(engine, "_write", watching)
    return seen


def test_a_running_run_stores_its_api_calls_and_counts_with_each_batch(orgs, sync, seen_at_each_write):
    source, _ = orgs
    seed(source, people(450))  # three batches of at most 200
    finished = run(sync)
    assert [s["created_count"] for s in seen_at_each_write] == [0, 200, 400]
    second = seen_at_each_write[1]
    assert second["phase"] == SyncRun.Phase.WRITING
    assert second["target_api_calls"] == second["made"] > 0  # what the page shows is what was spent
    # Stored as it went, the calls are not counted twice at the end.
    assert finished.target_api_calls == seen_at_each_write[-1]["connector"].api_calls
    assert (finished.status, finished.phase, finished.created_count) == (SyncRun.Status.SUCCEEDED, "", 450)


def test_a_run_expects_the_changes_its_vendor_says_it_has_with_the_first_page(orgs, sync, seen_at_each_write):
    source, _ = orgs
    seed(source, people(450))
    finished = run(sync)
    assert [s["records_expected"] for s in seen_at_each_write] == [450, 450, 450]  # before anything was written
    assert (finished.records_expected, finished.percent_done) == (450, 100)


def test_a_run_whose_vendor_does_not_say_how_many_changes_it_has_expects_none(orgs, sync, seen_at_each_write, monkeypatch):
    from connectors.salesforce import SalesforceConnector

    changes = SalesforceConnector.changes

    def silent(self, *args, **kwargs):
        for page in changes(self, *args, **kwargs):
            self.changes_total = None
            yield page

    monkeypatch.setattr(SalesforceConnector, "changes", silent)
    source, _ = orgs
    seed(source, people(3))
    finished = run(sync)
    assert seen_at_each_write[0]["records_expected"] is None
    assert (finished.records_expected, finished.percent_done) == (None, None)


def test_a_retry_knows_how_many_records_it_goes_through(orgs, sync, seen_at_each_write):
    source, _ = orgs
    seed(source, people(3))
    run(sync)
    first = SyncRun.objects.get()
    for record_id in ("a", "b"):
        RecordError.objects.create(run=first, sync=sync, object_name="Contact", record_id=record_id, message="Refused.")
    [retry] = services.record_errors_retry(errors=RecordError.objects.filter(sync=sync))
    retry.refresh_from_db()
    assert retry.records_expected == 2  # both gone from the source: gone through, nothing written
    assert retry.phase == ""


def test_the_phase_follows_the_run_through_reading_planning_and_writing(orgs, sync, monkeypatch):
    source, _ = orgs
    seed(source, people(2))
    phases = []
    note = engine.run_phase

    def noting(run_, phase):
        note(run_, phase)
        phases.append(SyncRun.objects.values_list("phase", flat=True).get(pk=run_.pk))

    monkeypatch.setattr(engine, "run_phase", noting)
    run(sync)
    assert phases[:3] == [SyncRun.Phase.READING, SyncRun.Phase.PLANNING, SyncRun.Phase.WRITING]


def test_a_run_taken_over_keeps_the_api_calls_its_lost_execution_made(orgs, sync, monkeypatch):
    source, _ = orgs
    seed(source, people(3))
    made = {}
    page_done = engine.page_done

    def taken_over_before_the_page_is_done(direction, run_, *, watermark):
        direction.source.api_calls += 2  # calls since the last batch was stored (a look-up, a read)
        SyncRun.objects.update(claim="another-worker")  # the run was given to another execution meanwhile
        made["connectors"] = (direction.source, direction.target)
        return page_done(direction, run_, watermark=watermark)

    monkeypatch.setattr(engine, "page_done", taken_over_before_the_page_is_done)
    stopped = run(sync)
    source_calls, target_calls = (c.api_calls for c in made["connectors"])
    assert (stopped.source_api_calls, stopped.target_api_calls) == (source_calls, target_calls)
    assert stopped.status == SyncRun.Status.RUNNING  # left to the execution that holds it now
