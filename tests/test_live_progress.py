"""A run under way, followed live on its page and its sync's page through a small JSON
endpoint: phase, records done of those expected, counts and API calls so far."""
import pytest

from syncconfig import roles
from syncconfig.models import SyncRun
from tests.factories import SyncRunFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops(client):
    client.force_login(UserFactory(role=roles.SALES_OPS, is_staff=True))
    return client


def running(**fields):
    return SyncRunFactory(status=SyncRun.Status.RUNNING, phase=SyncRun.Phase.WRITING, **fields)


def test_the_progress_of_a_run_says_its_phase_records_done_of_expected_and_calls_so_far(ops):
    run = running(records_expected=400, read_count=150, created_count=120, failed_count=30,
                  source_api_calls=2, target_api_calls=1)
    response = ops.get(f"/runs/{run.pk}/progress/")
    assert response.status_code == 200
    assert response.json() == {
        "id": run.pk, "status": "running", "status_label": "Running", "live": True, "phase": "writing", "phase_label": "Writing",
        "done": 150, "expected": 400, "percent": 37, "read": 150, "created": 120, "updated": 0, "skipped": 0, "failed": 30,
        "source_api_calls": 2, "target_api_calls": 1, "message": "",
    }
    assert "no-cache" in response["Cache-Control"]


def test_a_run_whose_total_is_unknown_reports_no_share(ops):
    progress = ops.get(f"/runs/{running(read_count=10).pk}/progress/").json()
    assert (progress["done"], progress["expected"], progress["percent"]) == (10, None, None)


def test_an_ended_run_is_no_longer_live(ops):
    run = SyncRunFactory(status=SyncRun.Status.PARTIAL, read_count=5, failed_count=1)
    progress = ops.get(f"/runs/{run.pk}/progress/").json()
    assert (progress["live"], progress["phase"], progress["status_label"]) == (False, "", "Finished with failed records")


def test_the_progress_of_an_unknown_run_is_404(ops):
    assert ops.get("/runs/999999/progress/").status_code == 404


def test_a_user_who_may_not_see_runs_gets_403_from_the_progress_and_the_pages(client):
    run = running()
    client.force_login(UserFactory(role=roles.FIELD_USER))
    assert client.get(f"/runs/{run.pk}/progress/").status_code == 403
    assert client.get(f"/runs/{run.pk}/").status_code == 403
    assert client.get(f"/syncs/{run.sync.pk}/").status_code == 403


def test_an_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get(f"/runs/{running().pk}/progress/")
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_a_live_run_page_follows_its_progress_instead_of_reloading(ops):
    run = running(records_expected=400, read_count=150)
    page = ops.get(f"/runs/{run.pk}/").content.decode()
    assert f'data-progress-url="/runs/{run.pk}/progress/"' in page
    assert '<progress aria-label="Records done" max="400" value="150">37 %</progress>' in page
    assert "portal/run_progress.js" in page and 'http-equiv="refresh"' not in page


def test_an_ended_run_page_does_not_follow_anything(ops):
    run = SyncRunFactory(status=SyncRun.Status.SUCCEEDED)
    page = ops.get(f"/runs/{run.pk}/").content.decode()
    assert "data-progress-url" not in page and "run_progress.js" not in page


def test_the_sync_page_shows_its_run_under_way_with_its_progress(ops):
    run = running(read_count=7)
    page = ops.get(f"/syncs/{run.sync.pk}/").content.decode()
    assert "Running now" in page and f'data-progress-url="/runs/{run.pk}/progress/"' in page
    assert '<span data-field="phase_label">Writing</span>' in page
    assert 'http-equiv="refresh"' not in page  # no reload while a run is under way


def test_a_queued_run_waits_for_a_worker(ops):
    run = SyncRunFactory(status=SyncRun.Status.QUEUED)
    page = ops.get(f"/syncs/{run.sync.pk}/").content.decode()
    assert "Waiting for a worker" in page
