"""Bulk API 2.0 query jobs in the Salesforce sandbox: simple-salesforce's bulk2 query and download
work unchanged over HTTP, results are paged by locator, a job runs only after its creation is
answered, the SOQL Bulk API 2.0 refuses is refused with the vendor's error body, and every call
counts against the daily allowance."""
import csv
import io
import re

import pytest
from simple_salesforce.exceptions import SalesforceError, SalesforceMalformedRequest

from connectors.sandbox.models import SandboxOrg, SandboxQueryJob
from connectors.sandbox.salesforce.bulk import jobs_process_pending
from connectors.sandbox.salesforce.orgs import org_get
from connectors.sandbox.salesforce.seed import records_bulk_create

pytestmark = pytest.mark.django_db(transaction=True, available_apps=["connectors.sandbox"])


@pytest.fixture
def org(salesforce_org):
    return org_get(salesforce_org.org_id)


def rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def leads(org, n):
    return records_bulk_create(org, "Lead", [
        {"LastName": f"Person{i:03d}", "Company": "Acme", "Status": "Open - Not Contacted", "NumberOfEmployees": i,
         "AnnualRevenue": 1000.5 * i, "HasOptedOutOfEmail": i % 2 == 0, "Email": None if i % 3 else f"p{i}@example.com"}
        for i in range(n)])


def test_simple_salesforces_bulk2_query_pages_through_every_row_by_locator(sf, org):
    ids = leads(org, 5)

    pages = list(sf.bulk2.Lead.query("SELECT Id, LastName FROM Lead", max_records=2, wait=0))

    assert [len(rows(page)) for page in pages] == [2, 2, 1]
    assert [r["Id"] for page in pages for r in rows(page)] == ids  # no ORDER BY: in Id order
    assert pages[0].splitlines()[0] == '"Id","LastName"'  # every value quoted, as Salesforce writes them


def test_values_come_as_bulk_api_writes_them(sf, org):
    [first, second] = leads(org, 2)

    [page] = sf.bulk2.Lead.query(
        "SELECT Id, NumberOfEmployees, AnnualRevenue, HasOptedOutOfEmail, Email, SystemModstamp, Owner.Username "
        "FROM Lead ORDER BY LastName DESC", wait=0)

    got = rows(page)
    assert [r["Id"] for r in got] == [second, first]  # ORDER BY is kept
    assert {k: v for k, v in got[0].items() if k not in ("Id", "SystemModstamp", "Owner.Username")} == {
        "NumberOfEmployees": "1", "AnnualRevenue": "1000.5", "HasOptedOutOfEmail": "false", "Email": ""}
    assert got[1]["HasOptedOutOfEmail"] == "true" and got[1]["Email"] == "p0@example.com"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", got[0]["SystemModstamp"])  # REST says +0000
    assert got[0]["Owner.Username"].startswith("integration@")


def test_simple_salesforces_bulk2_download_writes_one_file_per_set(sf, org, tmp_path):
    leads(org, 3)

    results = sf.bulk2.Lead.download("SELECT Id FROM Lead", path=str(tmp_path), max_records=2, wait=0)

    assert [r["number_of_records"] for r in results] == [2, 1] and [bool(r["locator"]) for r in results] == [True, False]
    assert sum(len(rows(open(r["file"]).read())) for r in results) == 3


def test_query_all_reads_deleted_records_too(sf, org):
    ids = leads(org, 2)
    sf.Lead.delete(ids[0])

    [live] = sf.bulk2.Lead.query("SELECT Id FROM Lead", wait=0)
    [everything] = sf.bulk2.Lead.query_all("SELECT Id, IsDeleted FROM Lead", wait=0)

    assert [r["Id"] for r in rows(live)] == ids[1:]
    assert [(r["Id"], r["IsDeleted"]) for r in rows(everything)] == [(ids[0], "true"), (ids[1], "false")]


def test_a_job_runs_only_after_its_creation_is_answered(sf, org, salesforce_bulk_jobs_later):
    leads(org, 3)

    job = sf.restful("jobs/query", method="POST", json={"operation": "query", "query": "SELECT Id FROM Lead"})
    with pytest.raises(SalesforceMalformedRequest) as early:
        sf.restful(f"jobs/query/{job['id']}/results")

    assert (job["state"], job["object"], job["id"][:3]) == ("UploadComplete", "Lead", "750")
    assert early.value.content[0]["errorCode"] == "INVALIDJOBSTATE"
    assert jobs_process_pending() == 1
    done = sf.restful(f"jobs/query/{job['id']}")
    assert (done["state"], done["numberRecordsProcessed"], done["jobType"]) == ("JobComplete", 3, "V2Query")
    answer = sf.session.get(f"{sf.base_url}jobs/query/{job['id']}/results", params={"maxRecords": 2},
                            headers={"Authorization": f"Bearer {sf.session_id}"})
    rest = sf.session.get(f"{sf.base_url}jobs/query/{job['id']}/results",
                          params={"maxRecords": 2, "locator": answer.headers["Sforce-Locator"]},
                          headers={"Authorization": f"Bearer {sf.session_id}"})
    assert (answer.headers["Sforce-NumberOfRecords"], rest.headers["Sforce-NumberOfRecords"]) == ("2", "1")
    assert rest.headers["Sforce-Locator"] == "null"
    again = sf.session.get(f"{sf.base_url}jobs/query/{job['id']}/results",
                           params={"maxRecords": 2, "locator": answer.headers["Sforce-Locator"]},
                           headers={"Authorization": f"Bearer {sf.session_id}"})
    assert again.text == rest.text  # a locator can be read again


def test_a_job_aborted_before_it_runs_stays_aborted_and_can_be_deleted(sf, org, salesforce_bulk_jobs_later):
    job = sf.restful("jobs/query", method="POST", json={"operation": "query", "query": "SELECT Id FROM Lead"})

    aborted = sf.restful(f"jobs/query/{job['id']}", method="PATCH", json={"state": "Aborted"})
    listed = sf.restful("jobs/query")
    deleted = sf.session.delete(f"{sf.base_url}jobs/query/{job['id']}", headers={"Authorization": f"Bearer {sf.session_id}"})

    assert aborted["state"] == "Aborted" and jobs_process_pending() == 0
    assert [j["id"] for j in listed["records"]] == [job["id"]] and listed["done"] is True
    assert deleted.status_code == 204 and not SandboxQueryJob.objects.exists()


@pytest.mark.parametrize("soql, message", [
    ("SELECT COUNT() FROM Lead", "Aggregate functions not supported in Bulk V2 Query"),
    ("SELECT Id FROM Lead OFFSET 5", "OFFSET not supported in Bulk V2 Query"),
    ("SELECT LeadSource FROM Lead GROUP BY LeadSource", "GROUP BY not supported in Bulk V2 Query"),
    ("SELECT Id, (SELECT Id FROM Contacts) FROM Account",
     "Aggregate Relationships not supported in Bulk V2 Query with CSV content type"),
])
def test_soql_bulk_api_does_not_take_is_refused_when_the_job_is_created(sf, soql, message):
    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.restful("jobs/query", method="POST", json={"operation": "query", "query": soql})

    assert refused.value.content == [{"message": message, "errorCode": "API_ERROR"}]
    assert not SandboxQueryJob.objects.exists()


def test_a_query_naming_an_unknown_field_is_refused_as_rest_refuses_it(sf):
    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.restful("jobs/query", method="POST", json={"operation": "query", "query": "SELECT Nope__c FROM Lead"})

    assert refused.value.content[0]["errorCode"] == "INVALID_FIELD"


def test_results_are_asked_for_with_the_version_that_created_the_job(sf, org):
    job = sf.restful("jobs/query", method="POST", json={"operation": "query", "query": "SELECT Id FROM Lead"})

    answer = sf.session.get(sf.base_url.replace("v59.0", "v58.0") + f"jobs/query/{job['id']}/results",
                            headers={"Authorization": f"Bearer {sf.session_id}"})

    assert answer.status_code == 409


def test_each_query_job_call_counts_against_the_daily_allowance(sf, org):
    leads(org, 5)
    before = SandboxOrg.objects.get(pk=org.pk).api_usage

    pages = list(sf.bulk2.Lead.query("SELECT Id FROM Lead", max_records=2, wait=0))

    # create, one status read (the job ran before its creation was answered), three sets
    assert SandboxOrg.objects.get(pk=org.pk).api_usage - before == 5 and len(pages) == 3


def test_a_spent_allowance_refuses_the_job(make_salesforce_org, make_sf):
    facts = make_salesforce_org(daily_limit=2)
    sf = make_sf(facts)
    sf.query("SELECT Id FROM Lead")  # the token came from OAuth, which is no API call; this is one

    sf.restful("jobs/query", method="POST", json={"operation": "query", "query": "SELECT Id FROM Lead"})
    with pytest.raises(SalesforceError) as spent:
        sf.restful("jobs/query", method="POST", json={"operation": "query", "query": "SELECT Id FROM Lead"})

    assert spent.value.status == 403 and spent.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
