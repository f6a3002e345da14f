"""A large Salesforce → ActiveCampaign sync goes through ActiveCampaign's bulk importer (AC-8's
tags riding along), and a worker lost between submitting an import and reading its status
loses and duplicates nothing. End to end against both sandboxes over HTTP."""
from datetime import timedelta

import pytest
from django.utils import timezone

from connectors.activecampaign import ActiveCampaignConnector
from connectors.sandbox.models.activecampaign import AcContact, AcContactTag, AcImport
from connectors.sandbox.salesforce.orgs import org_get
from connectors.sandbox.salesforce.seed import records_bulk_create
from syncconfig import engine, services
from syncconfig.integrations import person_accounts as pa
from syncconfig.models import RecordError, RecordLink, SyncRun
from syncconfig.services import connection_connector
from tests.engine.test_activecampaign_salesforce import make_sync

pytestmark = pytest.mark.django_db(transaction=True)
N = 600


class Killed(BaseException):
    """A worker killed with SIGKILL: nothing of the run's own error handling runs."""


@pytest.fixture
def sync(make_salesforce_org, make_activecampaign_account):
    org = make_salesforce_org(name="Acme")
    sync = make_sync(org, make_activecampaign_account(name="Acme Marketing"), model="Contact")
    records_bulk_create(org_get(org.org_id), "Contact", [
        {"FirstName": f"Ada{i}", "LastName": f"Lovelace{i}", "Email": f"ada{i}@example.com"} for i in range(N)])
    return sync


def tags_by_email():
    tags: dict[str, list[str]] = {email: [] for email in AcContact.objects.values_list("email", flat=True)}
    for email, tag in AcContactTag.objects.values_list("contact__email", "tag__tag"):
        tags[email].append(tag)
    return tags


def run(sync):
    return engine.sync_run_execute(SyncRun.objects.create(sync=sync, trigger=SyncRun.Trigger.MANUAL))


def test_ac8_a_large_initial_sync_goes_through_bulk_imports_and_tags_every_contact_it_creates(sync, monkeypatch):
    [existing] = connection_connector(sync.target).upsert("contact", [{"email": "ada7@example.com", "firstName": "Old"}])
    real_call, writes = ActiveCampaignConnector._call, []

    def noting(self, method, path, **kwargs):
        if method != "GET":
            writes.append(f"{method} {path.split('/')[0]}")
        return real_call(self, method, path, **kwargs)

    monkeypatch.setattr(ActiveCampaignConnector, "_call", noting)
    first = run(sync)

    # ada7 was there before: the import updated it, and it is counted so.
    assert (first.status, first.created_count, first.updated_count, first.failed_count) == (
        SyncRun.Status.SUCCEEDED, N - 1, 1, 0), first.message
    assert AcImport.objects.count() == 3  # 250 + 250 + 100
    tags = tags_by_email()
    assert len(tags) == N and RecordLink.objects.filter(sync=sync).count() == N
    assert all(tags[f"ada{i}@example.com"] == [pa.CONTACT_CREATED] for i in range(N) if i != 7)
    assert tags["ada7@example.com"] == []  # it was there before: updated and linked, not created
    assert RecordLink.objects.get(sync=sync, source_id__isnull=False, target_id=existing.id)
    assert AcContact.objects.get(email="ada7@example.com").first_name == "Ada7"
    # Three imports and the removal of the tag the one that existed was not owed: no write (nor tag)
    # a contact. (The reverse direction's read of what changed in ActiveCampaign costs its own calls.)
    assert sorted(writes) == ["DELETE contactTags"] + ["POST import"] * 3
    again = run(sync)
    assert (again.created_count, again.updated_count, again.failed_count) == (0, 0, 0)


def test_a_worker_lost_between_submitting_an_import_and_reading_its_status_loses_and_duplicates_nothing(sync, monkeypatch):
    real, waits = ActiveCampaignConnector._import_wait, {"n": 0}

    def dying(self, batch_id, size, **kwargs):
        waits["n"] += 1
        if waits["n"] == 2:
            raise Killed()  # all three imports were sent (and carried out); the second's status never read
        return real(self, batch_id, size, **kwargs)

    monkeypatch.setattr(ActiveCampaignConnector, "_import_wait", dying)
    run_ = SyncRun.objects.create(sync=sync, trigger=SyncRun.Trigger.MANUAL)
    with pytest.raises(Killed):
        engine.sync_run_execute(run_)
    monkeypatch.setattr(ActiveCampaignConnector, "_import_wait", real)
    assert AcContact.objects.count() == N and RecordLink.objects.filter(sync=sync).count() == 0
    run_.refresh_from_db()
    assert len(run_.pending) == N  # the three imports, handed over as one batch, are journalled as pending
    SyncRun.objects.filter(pk=run_.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=90))

    taken, _ = services.sync_run_now(sync=sync)

    run_.refresh_from_db()
    assert taken.pk == run_.pk and (run_.status, run_.takeovers) == (SyncRun.Status.SUCCEEDED, 1), run_.message
    assert (run_.created_count, run_.failed_count) == (N, 0)  # each counted once
    assert AcContact.objects.count() == N and RecordLink.objects.filter(sync=sync).count() == N
    assert all(tags == [pa.CONTACT_CREATED] for tags in tags_by_email().values())
    assert not RecordError.objects.filter(sync=sync).exists()
