"""Completeness on the sync page and the dashboard, its buttons and who may press them."""
import pytest
from django.utils import timezone

from syncconfig import roles
from syncconfig.models import CompletenessCheck, CompletenessItem, Sync, SyncRun
from tests.factories import ConnectionFactory, SyncFactory, SyncRunFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(role=roles.MARKETING_ADMIN, is_staff=True))
    return client


def finished_check(sync, **counts):
    status = CompletenessCheck.Status.INCOMPLETE if any(counts.values()) else CompletenessCheck.Status.COMPLETE
    return CompletenessCheck.objects.create(sync=sync, status=status, finished_at=timezone.now(), **counts)


def test_the_sync_page_shows_the_latest_check_with_its_findings_next_to_the_runs(admin_client):
    sync = SyncFactory(target=ConnectionFactory(name="Salesforce", kind="salesforce"))
    SyncRunFactory(sync=sync, status=SyncRun.Status.SUCCEEDED)
    check = finished_check(sync, missing_in_target=12, failed_count=1)
    CompletenessItem.objects.create(completeness_check=check, side="source", object_name="contact", record_id="42",
                                    key_value="ada@example.com", category="missing",
                                    reason="Never synced: not linked, and no Contact in Salesforce has its email (ada@example.com).")
    page = admin_client.get(f"/syncs/{sync.pk}/").content.decode()
    assert "12 missing in Salesforce, 1 failed" in page
    assert "Never synced: not linked, and no Contact in Salesforce has its email (ada@example.com)." in page
    assert "Records are missing despite these runs" in page
    assert "Check completeness" in page and "Sync the missing now" in page


def test_a_complete_check_offers_no_sync_of_the_missing(admin_client):
    sync = SyncFactory()
    finished_check(sync)
    page = admin_client.get(f"/syncs/{sync.pk}/").content.decode()
    assert "Complete" in page and "Sync the missing now" not in page and "Records are missing" not in page


def test_check_completeness_queues_a_check_and_the_page_shows_why_it_could_not_finish(admin_client, django_capture_on_commit_callbacks,
                                                                                      vendor_without_connector):
    sync = SyncFactory(source__kind="zoho_crm", source__credentials={"refresh_token": "x"})
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/syncs/{sync.pk}/completeness/")
    assert response.url == f"/syncs/{sync.pk}/#completeness"
    check = CompletenessCheck.objects.get(sync=sync)
    assert (check.trigger, check.status, check.started_by.username) == ("manual", "failed", response.wsgi_request.user.username)
    page = admin_client.get(f"/syncs/{sync.pk}/").content.decode()
    assert "Could not finish" in page and "Reading changes from Zoho CRM is not available yet." in page


def test_a_second_check_is_not_queued_while_one_is_under_way(admin_client):
    sync = SyncFactory()
    CompletenessCheck.objects.create(sync=sync, status=CompletenessCheck.Status.RUNNING)
    admin_client.post(f"/syncs/{sync.pk}/completeness/")
    assert CompletenessCheck.objects.filter(sync=sync).count() == 1


def test_sync_the_missing_now_hands_the_records_to_the_worker_by_side(admin_client, monkeypatch, django_capture_on_commit_callbacks):
    queued = []
    monkeypatch.setattr("syncconfig.tasks.execute_missing.delay", lambda run_id, ids: queued.append((run_id, ids)))
    sync = SyncFactory(direction=Sync.Direction.TWO_WAY)
    check = finished_check(sync, missing_in_target=1, missing_in_source=1, unlinked_count=1, orphaned_count=1)
    for side, record_id, category in [("source", "1", "missing"), ("target", "003A", "failed"), ("source", "2", "unlinked"),
                                      ("source", "3", "orphaned")]:
        CompletenessItem.objects.create(completeness_check=check, side=side, object_name="x", record_id=record_id,
                                        category=category, reason="…")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/syncs/{sync.pk}/completeness/{check.pk}/sync-missing/")
    run = SyncRun.objects.get(sync=sync)
    assert run.trigger == SyncRun.Trigger.COMPLETENESS and response.url == f"/runs/{run.pk}/"
    assert queued == [(run.pk, {"source": ["1", "2"], "target": ["003A"]})]


def test_sales_ops_may_see_completeness_but_neither_check_nor_sync_the_missing(client):
    sync = SyncFactory()
    check = finished_check(sync, missing_in_target=1)
    CompletenessItem.objects.create(completeness_check=check, side="source", object_name="x", record_id="1", category="missing", reason="…")
    client.force_login(UserFactory(role=roles.SALES_OPS, is_staff=True))
    page = client.get(f"/syncs/{sync.pk}/").content.decode()
    assert "1 missing in" in page and "Check completeness" not in page and "Sync the missing now" not in page
    assert client.post(f"/syncs/{sync.pk}/completeness/").status_code == 403
    assert client.post(f"/syncs/{sync.pk}/completeness/{check.pk}/sync-missing/").status_code == 403
    assert CompletenessCheck.objects.count() == 1 and not SyncRun.objects.exists()


def test_the_dashboard_flags_a_sync_whose_last_check_found_records_missing(admin_client):
    lossy = SyncFactory(name="AC to SF", target=ConnectionFactory(name="Salesforce", kind="salesforce"))
    SyncRunFactory(sync=lossy, status=SyncRun.Status.SUCCEEDED)
    CompletenessCheck.objects.create(sync=lossy, status="complete", finished_at=timezone.now(),
                                     started_at=timezone.now() - timezone.timedelta(days=1))
    finished_check(lossy, missing_in_target=12)
    fine = SyncFactory(name="HubSpot to SF")
    finished_check(fine)
    SyncFactory(name="Never checked")
    response = admin_client.get("/")
    page = response.content.decode()
    rows = {s.name: s for s in response.context["syncs"]}
    assert rows["AC to SF"].latest_check.missing_in_target == 12
    assert "12 missing in Salesforce" in page and "badge-incomplete" in page
    assert "Complete</span>" in page and "never checked" in page


def test_the_sync_admin_form_sets_how_often_completeness_is_checked():
    from syncconfig.forms import SyncForm

    sync = SyncFactory()
    data = {name: getattr(sync, name) for name in ("name", "source_object", "target_object", "direction", "trigger")}
    form = SyncForm(instance=sync, data={**data, "source": sync.source_id, "target": sync.target_id, "completeness_every_hours": "24"})
    assert form.is_valid(), form.errors
    assert form.save().completeness_every_hours == 24


def test_beat_looks_for_due_completeness_checks_out_of_the_box():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="syncconfig.tasks.check_due_completeness")
    assert task.enabled and (task.interval.every, task.interval.period) == (15, "minutes")
