"""The Salesforce connector's large writes through Bulk API 2.0, against the sandbox over HTTP:
one job instead of a collection call per 200, refused rows failing alone with the vendor's
reason, and a job whose close or status was lost never sent again."""
import pytest
import requests
from requests.adapters import HTTPAdapter

from connectors.base import ANSWER_LOST, Unavailable, ValidationFailed
from connectors.salesforce import BULK_FROM
from connectors.sandbox.models import SandboxBulkJob, SandboxRecord
from tests.connectors.test_salesforce import connector_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def org(make_salesforce_org):
    return make_salesforce_org()


@pytest.fixture
def sfc(org):
    connector = connector_for(org)
    connector.describe("Contact")  # logged in before the calls are counted
    connector.api_calls = 0
    return connector


def contacts(n, start=0):
    return [{"FirstName": f"Ada{i}", "LastName": f"Lovelace{i}", "Email": f"ada{i}@example.com", "External_Id__c": f"X-{i}"}
            for i in range(start, start + n)]


def stored(**filters):
    return SandboxRecord.objects.filter(sobject="Contact", is_deleted=False, **filters)


def test_a_create_of_more_than_2000_records_is_one_bulk_job_with_ids_in_order(sfc):
    results = sfc.create("Contact", contacts(2500))

    ids = dict((row.data["External_Id__c"], row.record_id) for row in stored())
    assert [r.id for r in results] == [ids[f"X-{i}"] for i in range(2500)]
    assert all(r.ok and r.created for r in results) and SandboxBulkJob.objects.count() == 1
    # create, upload, close, one status read (the sandbox is done at once here), successful results:
    # instead of 13 collection calls.
    assert sfc.api_calls == 5


def test_2000_records_or_fewer_go_in_collections(sfc):
    results = sfc.create("Contact", contacts(BULK_FROM - 1))

    assert all(r.ok for r in results) and SandboxBulkJob.objects.count() == 0 and sfc.api_calls == 10


def test_refused_rows_fail_alone_with_the_vendors_reason(sfc):
    records = contacts(2100)
    records[7] = {"FirstName": "No last name", "Email": "nolast@example.com", "External_Id__c": "X-7"}
    records[99]["Email"] = "not-an-email"

    results = sfc.create("Contact", records)

    failed = {n: r.error for n, r in enumerate(results) if not r.ok}
    assert set(failed) == {7, 99}
    assert isinstance(failed[7], ValidationFailed) and failed[7].code == "REQUIRED_FIELD_MISSING" and failed[7].field == "LastName"
    assert failed[99].code == "INVALID_EMAIL_ADDRESS" and not failed[99].retriable
    assert stored().count() == 2098 and sfc.api_calls == 6  # and one read of the failed results


def test_an_upsert_by_external_id_in_bulk_tells_created_from_updated_and_never_creates_twice(sfc):
    sfc.create("Contact", contacts(10))

    first = sfc.upsert("Contact", [{**c, "LastName": "Again"} for c in contacts(2100)], key="External_Id__c")
    again = sfc.upsert("Contact", contacts(2100), key="External_Id__c")

    assert [r.created for r in first[:10]] == [False] * 10 and all(r.created for r in first[10:])
    assert not any(r.created for r in again) and [r.id for r in again] == [r.id for r in first]
    assert stored().count() == 2100


def test_an_update_in_bulk_clears_a_field_given_as_none(sfc):
    created = sfc.create("Contact", contacts(2100))

    results = sfc.update("Contact", [{"Id": r.id, "FirstName": None} for r in created])

    assert all(r.ok and r.created is False for r in results)
    assert not stored(data__FirstName__isnull=False).exclude(data__FirstName=None).exists()


class LosingTheClose(HTTPAdapter):
    """Lets a job's close through to the sandbox, then loses its answer."""

    def send(self, request, **kwargs):
        request.url = "http://" + request.url.split("://", 1)[1]
        response = super().send(request, **kwargs)
        if request.method == "PATCH" and "/jobs/ingest/" in request.url:
            raise requests.ReadTimeout("read timed out")
        return response


def test_a_job_whose_close_was_lost_is_never_sent_again_and_its_records_fail_retriably(org, sfc):
    sfc.session.mount(org.instance_url.replace("http://", "https://"), LosingTheClose())
    sfc.session.mount(org.instance_url, LosingTheClose())

    results = sfc.create("Contact", contacts(2100))

    assert all(not r.ok and isinstance(r.error, Unavailable) and r.error.code == ANSWER_LOST for r in results)
    assert SandboxBulkJob.objects.count() == 1 and stored().count() == 2100  # it ran, once


def test_a_job_not_done_in_time_fails_its_records_retriably(sfc, salesforce_bulk_jobs_later):
    results = sfc.create("Contact", contacts(2100))

    assert all(not r.ok and r.error.retriable and r.error.code == ANSWER_LOST for r in results)
    assert SandboxBulkJob.objects.get().state == "UploadComplete"


def test_a_larger_job_is_first_asked_about_later_each_status_read_being_a_call_of_the_day(org, salesforce_bulk_jobs_later):
    from connectors.sandbox.salesforce.bulk import jobs_process_pending

    waits = []

    def sleep(seconds):
        waits.append(seconds)
        if len(waits) == 2:
            jobs_process_pending()  # the job is done while the connector waits a second time

    connector = connector_for(org)
    connector.sleep = sleep
    results = connector.create("Contact", contacts(4000))

    assert all(r.ok for r in results)
    assert waits == [2.0, 4.0]  # 4,000 records: two seconds before the first status read, then doubled
