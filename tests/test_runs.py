"""Run bookkeeping: “Run now” queues a run that ends with a status and a reason."""
import pytest

from syncconfig import roles
from syncconfig.models import SyncRun
from tests.factories import SyncFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_run_now_records_a_run_that_explains_why_it_could_not_sync(client, django_capture_on_commit_callbacks, vendor_without_connector):
    sync = SyncFactory(source__kind="zoho_crm", source__credentials={"refresh_token": "x"})
    client.force_login(UserFactory(role=roles.MARKETING_ADMIN, is_staff=True))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/syncconfig/sync/", {"action": "run_now", "_selected_action": [sync.pk]}, follow=True)
    assert "Queued 1 run." in response.content.decode()
    run = SyncRun.objects.get(sync=sync)
    assert run.trigger == SyncRun.Trigger.MANUAL
    assert run.status == SyncRun.Status.FAILED
    assert run.finished_at is not None
    assert run.message == "Reading changes from Zoho CRM is not available yet."


def test_a_sync_with_an_inactive_connection_does_not_run(django_capture_on_commit_callbacks):
    from syncconfig.services import sync_run_request

    sync = SyncFactory(target__is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        run = sync_run_request(sync=sync, trigger=SyncRun.Trigger.MANUAL)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED
    assert "is inactive" in run.message


def test_sales_ops_cannot_run_syncs(client):
    sync = SyncFactory()
    client.force_login(UserFactory(role=roles.SALES_OPS, is_staff=True))
    response = client.post("/admin/syncconfig/sync/", {"action": "run_now", "_selected_action": [sync.pk]})
    assert not SyncRun.objects.exists()
    assert response.status_code in (200, 302, 403)


def test_a_runs_page_says_it_was_taken_over_and_when_a_paused_run_goes_on(client):
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import SyncRunFactory

    client.force_login(UserFactory(role="Marketing admin"))
    taken = SyncRunFactory(status=SyncRun.Status.SUCCEEDED, takeovers=2)
    assert "Its worker was lost 2 times" in client.get(f"/runs/{taken.pk}/").content.decode()
    paused = SyncRunFactory(status=SyncRun.Status.PAUSED, resume_at=timezone.now() + timedelta(hours=1))
    page = client.get(f"/runs/{paused.pk}/").content.decode()
    assert "Goes on by itself at" in page and "Run now" in page


def test_the_history_says_what_started_each_run(client):
    """A webhook and the poll both start immediate runs; the history tells them apart."""
    from syncconfig import services
    from syncconfig.models import Sync

    sync = SyncFactory(trigger=Sync.Trigger.IMMEDIATE, enabled=True)
    [by_webhook] = services.connection_notified(connection=sync.source)
    SyncRun.objects.filter(pk=by_webhook.pk).update(status=SyncRun.Status.SUCCEEDED)
    [by_poll] = services.immediate_syncs_poll()
    SyncRun.objects.filter(pk=by_poll.pk).update(status=SyncRun.Status.SUCCEEDED)
    by_person = services.sync_run_request(sync=sync, trigger=SyncRun.Trigger.MANUAL)

    assert [r.cause for r in (by_webhook, by_poll, by_person)] == ["webhook", "poll", "manual"]
    client.force_login(UserFactory(role=roles.MARKETING_ADMIN))
    page = client.get(f"/syncs/{sync.pk}/").content.decode()
    assert "Immediate (a change) · webhook" in page and "Immediate (a change) · poll" in page and "Run now" in page
    assert "Immediate (a change) · webhook" in client.get(f"/runs/{by_webhook.pk}/").content.decode()


def test_a_run_that_meets_one_under_way_gives_way_and_an_automatic_retry_comes_again(client):
    from datetime import timedelta

    from django.utils import timezone

    from syncconfig.models import RecordError
    from syncconfig.services import run_claim
    from tests.factories import RecordErrorFactory, SyncRunFactory

    running = SyncRunFactory(status=SyncRun.Status.RUNNING)
    sync = running.sync
    error = RecordErrorFactory(run=running, state=RecordError.State.RETRY_SCHEDULED, not_before=None)
    poll = SyncRunFactory(sync=sync, status=SyncRun.Status.QUEUED, trigger=SyncRun.Trigger.IMMEDIATE)
    automatic_retry = SyncRunFactory(sync=sync, status=SyncRun.Status.QUEUED, trigger=SyncRun.Trigger.RETRY)
    persons_retry = SyncRunFactory(sync=sync, status=SyncRun.Status.QUEUED, trigger=SyncRun.Trigger.RETRY,
                                   started_by=UserFactory())

    assert [run_claim(r.pk) for r in (poll, automatic_retry, persons_retry)] == ["", "", ""]

    # Nothing to show for the poll and the automatic retry: gone, the records due again soon.
    assert set(SyncRun.objects.values_list("pk", flat=True)) == {running.pk, persons_retry.pk}
    error.refresh_from_db()
    assert timezone.now() < error.not_before <= timezone.now() + timedelta(minutes=1)
    persons_retry.refresh_from_db()  # a person asked: told why, to ask again
    assert persons_retry.status == SyncRun.Status.FAILED and "under way" in persons_retry.message


def test_record_ids_open_the_record_in_its_vendors_app():
    from connectors.registry import record_url

    assert record_url("salesforce", "https://acme.my.salesforce.com", "Contact", "0035b00000XyZabAAB") == \
        "https://acme.my.salesforce.com/0035b00000XyZabAAB"
    assert record_url("activecampaign", "https://acme.api-us1.com", "contact", "42") == "https://acme.activehosted.com/app/contacts/42"
    assert record_url("activecampaign", "http://127.0.0.1:8001/activecampaign/acme", "contact", "42") == \
        "http://127.0.0.1:8001/activecampaign/acme/app/contacts/42"
    assert record_url("hubspot", "https://api.hubapi.com", "contacts", "7") is None  # the account is not in the API's address
    assert record_url("hubspot", "http://127.0.0.1:8001/hubspot/acme", "contacts", "7") == "http://127.0.0.1:8001/hubspot/acme/app/contacts/7"
