"""A large load into Salesforce goes as one Bulk API 2.0 job per page, and a worker lost after
the job ran but before its outcome was recorded loses and rewrites nothing. End to end against
two sandbox orgs over HTTP. (Bulk starts at 2,001 records; these tests lower it to 500 so that
one page of the source, at most 2,000 records, is enough.)"""
from datetime import timedelta

import pytest
from django.utils import timezone

import connectors.salesforce as salesforce_module
from connectors.salesforce import SalesforceConnector
from connectors.sandbox.models import SandboxBulkJob, SandboxRecord
from connectors.sandbox.salesforce.orgs import org_get
from connectors.sandbox.salesforce.seed import records_bulk_create
from syncconfig import engine, services
from syncconfig.models import RecordLink, SyncRun
from tests.engine.test_nothing_lost import Killed, kill_at_store, salesforce_to_salesforce

pytestmark = pytest.mark.django_db(transaction=True)
N = 1200


@pytest.fixture
def sync(make_salesforce_org, monkeypatch):
    monkeypatch.setattr(salesforce_module, "BULK_FROM", 500)
    monkeypatch.setattr(SalesforceConnector, "bulk_write_from", 500)
    source, target = make_salesforce_org(name="Source"), make_salesforce_org(name="Target")
    sync = salesforce_to_salesforce(source, target)
    sync.mappings.update(is_key=False)  # creates go by upsert on External_Id__c alone
    records_bulk_create(org_get(source.org_id), "Contact", [{"LastName": f"L{i}", "Email": f"p{i}@example.com"} for i in range(N)])
    sync.target_org = org_get(target.org_id)
    return sync


def target_stamps(sync):
    return {r.record_id: r.system_modstamp for r in SandboxRecord.objects.filter(org=sync.target_org, sobject="Contact")}


def test_a_large_initial_load_goes_as_one_bulk_job_instead_of_a_call_per_200(sync):
    run = engine.sync_run_execute(SyncRun.objects.create(sync=sync, trigger=SyncRun.Trigger.MANUAL))

    assert (run.status, run.created_count, run.failed_count) == (SyncRun.Status.SUCCEEDED, N, 0), run.message
    assert SandboxBulkJob.objects.filter(org=sync.target_org).count() == 1
    assert len(target_stamps(sync)) == N == RecordLink.objects.filter(sync=sync).count()
    assert run.target_api_calls < N / 200 + 1  # a handful, where collections take 6 writes and the same describe


def test_a_worker_lost_after_the_bulk_job_ran_leaves_nothing_unaccounted_and_writes_nothing_twice(sync, monkeypatch):
    revive = kill_at_store(monkeypatch, 2)  # the first store is the page's skips; the second, the bulk batch
    run = SyncRun.objects.create(sync=sync, trigger=SyncRun.Trigger.MANUAL)
    with pytest.raises(Killed):
        engine.sync_run_execute(run)
    revive()
    run.refresh_from_db()
    written_once = target_stamps(sync)
    assert len(written_once) == N and len(run.pending) == N  # all of the job journalled, none recorded
    SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=90))

    taken, _ = services.sync_run_now(sync=sync)

    taken.refresh_from_db()
    assert (taken.pk, taken.status, taken.created_count, taken.failed_count) == (run.pk, SyncRun.Status.SUCCEEDED, N, 0), taken.message
    assert target_stamps(sync) == written_once  # found by key, none written a second time
    assert SandboxBulkJob.objects.filter(org=sync.target_org).count() == 1
    assert RecordLink.objects.filter(sync=sync).count() == N
