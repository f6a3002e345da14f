"""Bulk API 2.0 ingest jobs in the Salesforce sandbox: simple-salesforce's bulk2 interface works
unchanged, jobs are processed after they are closed, refused rows land in the failed results
with sf__Error, and every call counts against the daily allowance."""
import csv
import io

import pytest

from connectors.sandbox.models import SandboxOrg
from connectors.sandbox.salesforce.bulk import jobs_process_pending

pytestmark = pytest.mark.django_db(transaction=True, available_apps=["connectors.sandbox"])


def rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def people(n, start=0):
    return [{"LastName": f"Person{i}", "Email": f"p{i}@example.com", "External_Id__c": f"X-{i}"} for i in range(start, start + n)]


def test_simple_salesforces_bulk2_inserts_and_reads_the_results_unchanged(sf):
    records = people(5)
    records[2] = {"FirstName": "No last name", "Email": "nolast@example.com", "External_Id__c": "X-2"}

    [result] = sf.bulk2.Contact.insert(records=records, wait=0)

    assert (result["numberRecordsProcessed"], result["numberRecordsFailed"], result["numberRecordsTotal"]) == (5, 1, 5)
    done = rows(sf.bulk2.Contact.get_successful_records(result["job_id"]))
    failed = rows(sf.bulk2.Contact.get_failed_records(result["job_id"]))
    assert [r["LastName"] for r in done] == ["Person0", "Person1", "Person3", "Person4"]
    assert all(r["sf__Id"].startswith("003") and len(r["sf__Id"]) == 18 and r["sf__Created"] == "true" for r in done)
    assert failed == [{"sf__Id": "", "sf__Error": "REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --",
                       "LastName": "", "FirstName": "No last name", "Email": "nolast@example.com", "External_Id__c": "X-2"}]
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 4


def test_an_upsert_by_external_id_updates_what_exists_and_creates_the_rest(sf):
    sf.bulk2.Contact.insert(records=people(2), wait=0)

    [result] = sf.bulk2.Contact.upsert(records=[{**p, "LastName": "Again"} for p in people(3)], external_id_field="External_Id__c", wait=0)

    done = rows(sf.bulk2.Contact.get_successful_records(result["job_id"]))
    assert [(r["External_Id__c"], r["sf__Created"]) for r in done] == [("X-0", "false"), ("X-1", "false"), ("X-2", "true")]
    assert sf.query("SELECT COUNT() FROM Contact WHERE LastName = 'Again'")["totalSize"] == 3


def test_a_job_is_processed_only_after_it_is_closed(sf, salesforce_bulk_jobs_later):
    job = sf.restful("jobs/ingest", method="POST", json={"object": "Contact", "operation": "insert", "contentType": "CSV", "lineEnding": "LF"})
    upload = sf.session.put(f"{sf.base_url}jobs/ingest/{job['id']}/batches", data="LastName,Email\nLovelace,ada@example.com\n",
                            headers={"Authorization": f"Bearer {sf.session_id}", "Content-Type": "text/csv"})
    closed = sf.restful(f"jobs/ingest/{job['id']}", method="PATCH", json={"state": "UploadComplete"})

    waiting = sf.restful(f"jobs/ingest/{job['id']}")
    assert (job["state"], upload.status_code, closed["state"], waiting["state"]) == ("Open", 201, "UploadComplete", "UploadComplete")
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0

    assert jobs_process_pending() == 1
    done = sf.restful(f"jobs/ingest/{job['id']}")
    assert (done["state"], done["numberRecordsProcessed"], done["numberRecordsFailed"]) == ("JobComplete", 1, 0)
    assert jobs_process_pending() == 0


def test_an_aborted_job_writes_nothing_and_hands_its_rows_back_unprocessed(sf, salesforce_bulk_jobs_later):
    job = sf.restful("jobs/ingest", method="POST", json={"object": "Contact", "operation": "insert"})
    sf.session.put(f"{sf.base_url}jobs/ingest/{job['id']}/batches", data="LastName\nLovelace\n",
                   headers={"Authorization": f"Bearer {sf.session_id}", "Content-Type": "text/csv"})

    aborted = sf.restful(f"jobs/ingest/{job['id']}", method="PATCH", json={"state": "Aborted"})

    assert aborted["state"] == "Aborted" and jobs_process_pending() == 0
    assert rows(sf.bulk2.Contact.get_unprocessed_records(job["id"])) == [{"LastName": "Lovelace"}]


def test_an_empty_cell_leaves_a_field_and_na_clears_it(sf):
    sf.bulk2.Contact.insert(records=[{"LastName": "Lovelace", "FirstName": "Ada", "Title": "Countess", "External_Id__c": "X-1"}], wait=0)

    sf.bulk2.Contact.upsert(records=[{"External_Id__c": "X-1", "FirstName": "", "Title": "#N/A", "LastName": "King"}],
                            external_id_field="External_Id__c", wait=0)

    [row] = sf.query("SELECT FirstName, LastName, Title FROM Contact")["records"]
    assert (row["FirstName"], row["LastName"], row["Title"]) == ("Ada", "King", None)


def test_a_job_for_an_unknown_field_or_operation_is_refused(sf):
    from simple_salesforce.exceptions import SalesforceMalformedRequest

    with pytest.raises(SalesforceMalformedRequest) as bad_operation:
        sf.restful("jobs/ingest", method="POST", json={"object": "Contact", "operation": "merge"})
    with pytest.raises(SalesforceMalformedRequest) as bad_key:
        sf.restful("jobs/ingest", method="POST", json={"object": "Contact", "operation": "upsert", "externalIdFieldName": "Email"})

    assert bad_operation.value.content[0]["errorCode"] == bad_key.value.content[0]["errorCode"] == "INVALIDJOB"


def test_each_bulk_call_counts_against_the_daily_allowance(sf, salesforce_org):
    org = SandboxOrg.objects.get(org_id=salesforce_org.org_id)
    before = org.api_usage

    [result] = sf.bulk2.Contact.insert(records=people(300), wait=0)
    sf.bulk2.Contact.get_successful_records(result["job_id"])

    org.refresh_from_db()
    # create, upload, close, the job read by the wait and the one after it, and the results:
    # six calls for 300 records.
    assert org.api_usage - before == 6 and result["numberRecordsProcessed"] == 300


def test_an_upload_larger_than_djangos_request_limit_is_taken(sf, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000  # the sandbox server shares the test's settings

    [result] = sf.bulk2.Contact.insert(records=people(100), wait=0)

    assert (result["numberRecordsProcessed"], result["numberRecordsFailed"]) == (100, 0)
