"""A large read from Salesforce goes as one Bulk API 2.0 query job, and a worker lost while it hands
the job's records out loses none of them and creates none twice. End to end against two sandbox
orgs over HTTP. (These tests read 200 records a page and lower the source connection's threshold
to 300, so that 1,200 records are a large read.)"""
import functools
from datetime import timedelta

import pytest
from django.utils import timezone

from connectors.salesforce import SalesforceConnector
from connectors.sandbox.models import SandboxQueryJob, SandboxRecord
from connectors.sandbox.salesforce.orgs import org_get
from connectors.sandbox.salesforce.seed import records_bulk_create
from syncconfig import engine, services
from syncconfig.models import Connection, RecordLink, SyncRun
from tests.engine.test_nothing_lost import Killed, kill_at_store, salesforce_to_salesforce

pytestmark = pytest.mark.django_db(transaction=True)
N = 1200


@pytest.fixture
def sync(make_salesforce_org, monkeypatch):
    monkeypatch.setattr(SalesforceConnector, "changes", functools.partialmethod(SalesforceConnector.changes, page_size=200))
    source, target = make_salesforce_org(name="Source"), make_salesforce_org(name="Target")
    sync = salesforce_to_salesforce(source, target)
    Connection.objects.filter(pk=sync.source_id).update(bulk_read_from=300)
    sync.source.refresh_from_db()
    records_bulk_create(org_get(source.org_id), "Contact", [{"LastName": f"L{i}", "Email": f"p{i}@example.com"} for i in range(N)])
    sync.source_org, sync.target_org = org_get(source.org_id), org_get(target.org_id)
    return sync


def target_contacts(sync):
    return SandboxRecord.objects.filter(org=sync.target_org, sobject="Contact", is_deleted=False)


def test_a_large_first_read_is_one_query_job_and_creates_every_record_once(sync):
    run = engine.sync_run_execute(SyncRun.objects.create(sync=sync, trigger=SyncRun.Trigger.MANUAL))

    assert (run.status, run.created_count, run.failed_count) == (SyncRun.Status.SUCCEEDED, N, 0), run.message
    assert SandboxQueryJob.objects.filter(org=sync.source_org).count() == 1
    assert target_contacts(sync).count() == N == RecordLink.objects.filter(sync=sync).count()
    # the first page, the describe that types the CSV, the job, a status read and one result set,
    # where SOQL pages of 200 would take six calls
    assert run.source_api_calls == 5


def test_a_worker_lost_while_the_job_is_handed_out_loses_nothing_and_creates_nothing_twice(sync, monkeypatch):
    revive = kill_at_store(monkeypatch, 3)  # the first page and one page of the job are stored
    run = SyncRun.objects.create(sync=sync, trigger=SyncRun.Trigger.MANUAL)
    with pytest.raises(Killed):
        engine.sync_run_execute(run)
    revive()
    assert 0 < target_contacts(sync).count() < N and SandboxQueryJob.objects.filter(org=sync.source_org).count() == 1
    SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=90))

    taken, _ = services.sync_run_now(sync=sync)

    taken.refresh_from_db()
    assert (taken.pk, taken.status, taken.failed_count) == (run.pk, SyncRun.Status.SUCCEEDED, 0), taken.message
    assert target_contacts(sync).count() == N == RecordLink.objects.filter(sync=sync).count()
    assert sorted(target_contacts(sync).values_list("data__Email", flat=True)) == sorted(f"p{i}@example.com" for i in range(N))
