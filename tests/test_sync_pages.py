"""The sync page, run pages, retries, triggers and the change-notification endpoint."""
import pytest
from django.utils import timezone

from syncconfig import roles, services
from syncconfig.models import RecordError, Sync, SyncRun
from tests.factories import FieldMappingFactory, RecordErrorFactory, SyncFactory, SyncRunFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(role=roles.MARKETING_ADMIN, is_staff=True))
    return client


def test_the_sync_page_shows_mappings_runs_and_failed_records_by_class_with_their_fix(admin_client):
    sync = SyncFactory(name="AC to SF")
    FieldMappingFactory(sync=sync, source_field="email", target_field="Email", is_key=True)
    run = SyncRunFactory(sync=sync, status=SyncRun.Status.PARTIAL, read_count=12, failed_count=3, target_api_calls=4)
    RecordErrorFactory.create_batch(2, run=run, error_class=RecordError.ErrorClass.REQUIRED_FIELD)
    RecordErrorFactory(run=run, error_class=RecordError.ErrorClass.DUPLICATE)
    page = admin_client.get(f"/syncs/{sync.pk}/").content.decode()
    assert "email" in page and "Always update" in page and ">key<" in page
    assert "Finished with failed records" in page
    assert "Required field missing" in page and "Retry all 2" in page
    assert RecordError.FIXES[RecordError.ErrorClass.DUPLICATE] in page


def test_each_class_of_failed_records_shows_its_commonest_reasons_by_field_escaped(admin_client):
    sync = SyncFactory()
    run = SyncRunFactory(sync=sync, status=SyncRun.Status.PARTIAL)
    RecordErrorFactory.create_batch(3, run=run, error_class=RecordError.ErrorClass.VALIDATION, field="Email",
                                    code="PREFLIGHT_INVALID_EMAIL",
                                    message="Email (Email) “<b>ada@</b>”: is not an email address. Correct it where the record comes from.")
    RecordErrorFactory(run=run, error_class=RecordError.ErrorClass.VALIDATION, field="Birthdate", code="PREFLIGHT_INVALID",
                       message="Birthdate (Birthdate) “31/12/2024”: is not a date. Use the form YYYY-MM-DD, e.g. 2024-12-31.")
    page = admin_client.get(f"/syncs/{sync.pk}/").content.decode()
    assert "<code>Email</code>, 3 records: Email (Email) “&lt;b&gt;ada@&lt;/b&gt;”: is not an email address." in page
    assert "<code>Birthdate</code>, 1 record: Birthdate (Birthdate) “31/12/2024”: is not a date." in page
    assert page.index("<code>Email</code>") < page.index("<code>Birthdate</code>")  # commonest first


def test_the_run_page_shows_a_pre_flight_reason_with_its_field_and_the_value_escaped(admin_client):
    run = SyncRunFactory(status=SyncRun.Status.PARTIAL, failed_count=1)
    RecordErrorFactory(run=run, error_class=RecordError.ErrorClass.VALIDATION, field="FirstName", code="PREFLIGHT_INVALID",
                       message="First Name (FirstName) “<img src=x onerror=alert(1)>”: holds a control character (\\x00), "
                               "which is never sent. Remove it where the record comes from.")
    page = admin_client.get(f"/runs/{run.pk}/").content.decode()
    assert "<img src=x" not in page and "“&lt;img src=x onerror=alert(1)&gt;”: holds a control character (\\x00)" in page
    assert "<td>FirstName</td>" in page and "(PREFLIGHT_INVALID)" in page


def test_run_now_queues_a_run_and_shows_its_page(admin_client, django_capture_on_commit_callbacks, vendor_without_connector):
    sync = SyncFactory(source__kind="zoho_crm", source__credentials={"refresh_token": "x"})
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/syncs/{sync.pk}/run/")
    run = SyncRun.objects.get(sync=sync)
    assert response.url == f"/runs/{run.pk}/"
    page = admin_client.get(response.url).content.decode()
    assert "Reading changes from Zoho CRM is not available yet." in page and "Failed" in page


def test_sales_ops_may_look_but_not_run_or_switch(client):
    sync = SyncFactory()
    client.force_login(UserFactory(role=roles.SALES_OPS, is_staff=True))
    assert client.get(f"/syncs/{sync.pk}/").status_code == 200
    assert client.post(f"/syncs/{sync.pk}/run/").status_code == 403
    assert client.post(f"/syncs/{sync.pk}/toggle/", {"enabled": "1"}).status_code == 403
    assert not SyncRun.objects.exists()


def test_switching_a_sync_on_enables_its_schedule(admin_client):
    sync = SyncFactory(trigger=Sync.Trigger.PERIODIC)
    services.sync_schedule_set(sync=sync, every_minutes=60)
    admin_client.post(f"/syncs/{sync.pk}/toggle/", {"enabled": "1"})
    sync.refresh_from_db()
    assert sync.enabled and sync.schedule.enabled


def test_retrying_a_class_queues_one_retry_run_for_its_open_records(admin_client, monkeypatch):
    queued = []
    monkeypatch.setattr("syncconfig.tasks.execute_retry.delay", lambda run_id, ids: queued.append((run_id, sorted(ids))))
    run = SyncRunFactory()
    wanted = RecordErrorFactory.create_batch(2, run=run, error_class=RecordError.ErrorClass.VALIDATION)
    RecordErrorFactory(run=run, error_class=RecordError.ErrorClass.DUPLICATE)
    RecordErrorFactory(run=run, error_class=RecordError.ErrorClass.VALIDATION, state=RecordError.State.RESOLVED)
    with_callbacks = admin_client.post(f"/syncs/{run.sync.pk}/retry/", {"error_class": "validation"})
    assert with_callbacks.status_code == 302
    retry = SyncRun.objects.get(trigger=SyncRun.Trigger.RETRY)
    assert set(RecordError.objects.filter(state=RecordError.State.RETRY_SCHEDULED)) == set(wanted)
    assert retry.sync == run.sync


def test_co3_the_poll_starts_idle_immediate_syncs_and_takes_over_runs_that_lost_their_worker(
        monkeypatch, django_capture_on_commit_callbacks):
    dispatched = []
    monkeypatch.setattr("syncconfig.tasks.execute_run.delay", dispatched.append)
    idle = SyncFactory(trigger=Sync.Trigger.IMMEDIATE, enabled=True)
    stuck_sync = SyncFactory(trigger=Sync.Trigger.IMMEDIATE, enabled=True)
    beating = SyncRunFactory(sync=SyncFactory(trigger=Sync.Trigger.IMMEDIATE, enabled=True), status=SyncRun.Status.RUNNING,
                             heartbeat_at=timezone.now() - timezone.timedelta(seconds=20), claim="alive")
    stuck = SyncRunFactory(sync=stuck_sync, status=SyncRun.Status.RUNNING, claim="gone",
                           heartbeat_at=timezone.now() - timezone.timedelta(seconds=75))
    with django_capture_on_commit_callbacks(execute=True):
        started = services.immediate_syncs_poll()
    stuck.refresh_from_db()
    # Its heartbeat stopped over a minute ago: it goes on where it stopped, as the same run.
    assert (stuck.status, stuck.takeovers, stuck.claim) == (SyncRun.Status.QUEUED, 1, "")
    assert "Taken over" in stuck.message and stuck.pk in dispatched
    beating.refresh_from_db()
    assert beating.status == SyncRun.Status.RUNNING  # heard from 20 s ago: left alone
    assert {run.sync_id for run in started} == {idle.pk}
    assert services.immediate_syncs_poll() == []  # each has a queued or running run


def test_a_retry_that_meets_a_run_under_way_leaves_its_records_due_again(django_capture_on_commit_callbacks):
    from syncconfig.models import RecordError
    from tests.factories import SyncRunFactory

    sync = SyncFactory(enabled=True)
    SyncRunFactory(sync=sync, status=SyncRun.Status.RUNNING, heartbeat_at=timezone.now(), claim="busy")
    error = RecordError.objects.create(run=SyncRunFactory(sync=sync, status=SyncRun.Status.PARTIAL), sync=sync,
                                       object_name=sync.source_object, record_id="42", message="Unavailable.",
                                       state=RecordError.State.RETRY_SCHEDULED, not_before=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        [retry] = services.record_errors_retry_due()
    error.refresh_from_db()
    assert not SyncRun.objects.filter(pk=retry.pk).exists()  # gave way, leaving no failed run behind
    assert error.state == RecordError.State.RETRY_SCHEDULED and error.not_before > timezone.now()  # tried again later
