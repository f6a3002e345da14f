"""The Salesforce connector's large reads through a Bulk API 2.0 query job, against the sandbox over
HTTP: a read with more than ``bulk_read_from`` records left after its first SOQL page reads the
rest as one job, streams its result sets, and hands out every record once, typed as a SOQL read
types it, without ever letting the watermark pass a record not yet handed out; smaller reads stay
on SOQL pages, and a job that fails or does not finish leaves the read to SOQL pages."""
from datetime import timedelta

import pytest
import requests
from django.utils import timezone
from requests.adapters import HTTPAdapter

from connectors import salesforce
from connectors.base import CURSOR_SEPARATOR, Unavailable
from connectors.salesforce import SalesforceConnector
from connectors.sandbox.models import SandboxOrg, SandboxQueryJob
from connectors.sandbox.salesforce.orgs import org_get
from connectors.sandbox.salesforce.seed import records_bulk_create
from tests.connectors.test_salesforce import connector_for

pytestmark = pytest.mark.django_db(transaction=True)

FIELDS = ["LastName", "Email", "NumberOfEmployees", "AnnualRevenue", "HasOptedOutOfEmail", "CreatedDate"]


@pytest.fixture
def org(make_salesforce_org):
    return make_salesforce_org()


def reader(org, sleep=lambda seconds: None, **kwargs):
    """A connector that reads more than 300 records left after a first page in bulk, 300 a set."""
    connector = SalesforceConnector(
        base_url=org.instance_url, sleep=sleep, bulk_read_from=300, bulk_query_set=300, **kwargs,
        credentials={"client_id": org.client_id, "client_secret": org.client_secret, "username": org.username,
                     "password": org.password})
    connector.describe("Lead")  # logged in before the calls are counted
    connector.api_calls = 0
    return connector


def load(org, n):
    """``n`` Leads stamped alike, then the first five changed again: Id order is no longer
    (SystemModstamp, Id) order."""
    ids = records_bulk_create(org_get(org.org_id), "Lead", [
        {"LastName": f"Person{i:04d}", "Company": "Acme", "Status": "Open - Not Contacted", "NumberOfEmployees": i,
         "AnnualRevenue": 1000.5 * i, "HasOptedOutOfEmail": i % 2 == 0, "Email": None if i % 3 else f"p{i}@example.com"}
        for i in range(n)])
    connector_for(org).update("Lead", [{"Id": i, "Title": "Changed"} for i in ids[:5]])
    return ids


def key(record_or_cursor):
    cursor = getattr(record_or_cursor, "cursor", record_or_cursor)
    stamp, _, record_id = cursor.partition(CURSOR_SEPARATOR)
    return salesforce._stamp_key(stamp), record_id


def own_key(record):
    return salesforce._stamp_key(record.modified_at), record.id


def test_a_large_read_is_one_query_job_handing_out_every_record_once_as_soql_types_it(org):
    ids = load(org, 1000)
    bulk, plain = reader(org), connector_for(org, bulk_read_from=None)
    usage = SandboxOrg.objects.get(org_id=org.org_id).api_usage

    pages = list(bulk.changes("Lead", None, FIELDS, page_size=200))

    records = [r for page in pages for r in page]
    assert sorted(r.id for r in records) == sorted(ids) and len(records) == 1000
    assert SandboxQueryJob.objects.get().state == "JobComplete"
    # the first SOQL page, the describe that types the CSV, the job's creation, one status read
    # (the sandbox ran it before answering) and four result sets of 300 (the job reads the first
    # page's second again, and the load stamped all 1,000 in it).
    assert bulk.api_calls == 8 == SandboxOrg.objects.get(org_id=org.org_id).api_usage - usage
    assert bulk.changes_total == 1000
    soql_read = {r.id: r.fields for page in plain.changes("Lead", None, FIELDS) for r in page}
    assert {r.id: r.fields for r in records} == soql_read  # numbers, booleans, nulls and datetimes alike
    last = records[-1]
    assert own_key(last) == max(own_key(r) for r in records) and key(last) == own_key(last)


def test_the_watermark_never_passes_a_record_not_yet_handed_out(org):
    load(org, 1000)
    connector = reader(org)
    settled = timezone.now() + timedelta(hours=1)  # every change older than the read lag

    pages = list(connector.changes("Lead", None, FIELDS, page_size=200))

    handed: list = []
    for n, page in enumerate(pages):
        handed += page
        watermark = connector.settled_watermark(page[-1], "", settled, exhausted=False)
        later = [r for p in pages[n + 1:] for r in p]
        assert all(own_key(r) > key(watermark) for r in later), f"page {n} lets the watermark pass a later record"
    first_page_end = pages[0][-1].cursor
    assert all(r.cursor == first_page_end for r in handed[200:-1])  # the job's records hold it at the first page's end
    final = connector.settled_watermark(handed[-1], "", settled, exhausted=True)
    assert salesforce.parse_instant(final) > salesforce.parse_instant(handed[-1].modified_at)


def test_a_read_resuming_after_a_cursor_drops_what_the_cursor_passed_in_the_job_too(org):
    load(org, 1000)
    everything = [r for page in connector_for(org, bulk_read_from=None).changes("Lead", None, FIELDS) for r in page]
    since = everything[99].cursor

    records = [r for page in reader(org).changes("Lead", since, FIELDS, page_size=200) for r in page]

    assert sorted(r.id for r in records) == sorted(r.id for r in everything[100:])
    assert SandboxQueryJob.objects.count() == 1


def test_a_read_whose_first_page_is_all_before_its_cursor_starts_the_job_at_the_cursor(org):
    load(org, 1000)
    everything = [r for page in connector_for(org, bulk_read_from=None).changes("Lead", None, FIELDS) for r in page]
    since = everything[499].cursor  # the load stamped the first 995 alike: the first page, 200 of them, is all before it

    records = [r for page in reader(org).changes("Lead", since, FIELDS, page_size=200) for r in page]

    assert sorted(r.id for r in records) == sorted(r.id for r in everything[500:])
    assert SandboxQueryJob.objects.count() == 1 and all(r.cursor == since for r in records[:-1])


def test_a_read_with_no_more_than_the_threshold_left_stays_on_soql_pages(org):
    load(org, 500)
    connector = reader(org)

    records = [r for page in connector.changes("Lead", None, FIELDS, page_size=200) for r in page]

    assert len(records) == 500 and not SandboxQueryJob.objects.exists() and connector.api_calls == 3
    assert [own_key(r) for r in records] == sorted(own_key(r) for r in records)


def test_a_read_naming_a_related_records_field_stays_on_soql_pages(org):
    load(org, 1000)

    records = [r for page in reader(org).changes("Lead", None, ["Owner.Username"], page_size=200) for r in page]

    assert len(records) == 1000 and not SandboxQueryJob.objects.exists()


def test_a_read_of_deleted_records_too_is_a_query_all_job(org):
    ids = load(org, 1000)
    connector_for(org).delete(ids[500:510])

    records = [r for page in reader(org).changes("Lead", None, ["LastName"], include_deleted=True, page_size=200) for r in page]

    assert len(records) == 1000 and {r.id for r in records if r.fields["IsDeleted"] is True} == set(ids[500:510])
    assert SandboxQueryJob.objects.get().operation == "queryAll"


def test_a_failed_job_leaves_the_read_to_soql_pages(org, salesforce_bulk_jobs_later):
    ids = load(org, 1000)

    def fail_the_job(seconds):
        SandboxQueryJob.objects.update(state="Failed", error_message="InternalServerError : query timed out")

    connector = reader(org, sleep=fail_the_job)
    records = [r for page in connector.changes("Lead", None, FIELDS, page_size=200) for r in page]

    assert sorted(r.id for r in records) == sorted(ids) and SandboxQueryJob.objects.get().state == "Failed"
    assert [own_key(r) for r in records] == sorted(own_key(r) for r in records)  # SOQL pages, in order
    # first page, describe, create, one status read, then SOQL pages from the first page's end:
    # five, as its second (which the load stamped all 1,000 with) is read again.
    assert connector.api_calls == 9


def test_a_job_not_done_in_time_is_aborted_and_the_read_goes_on_in_soql_pages(org, salesforce_bulk_jobs_later, monkeypatch):
    ids = load(org, 1000)
    monkeypatch.setattr(salesforce, "BULK_WAIT", 3.0)  # status reads after 1 s and 2 s more

    records = [r for page in reader(org).changes("Lead", None, FIELDS, page_size=200) for r in page]

    assert sorted(r.id for r in records) == sorted(ids) and SandboxQueryJob.objects.get().state == "Aborted"


class LosingTheThirdSet(HTTPAdapter):
    """Lets every call through but the third result set of a query job, whose answer breaks off."""

    def __init__(self):
        super().__init__()
        self.sets = 0

    def send(self, request, **kwargs):
        request.url = "http://" + request.url.split("://", 1)[1]
        if "/jobs/query/" in request.url and "/results" in request.url:
            self.sets += 1
            if self.sets >= 3:
                raise requests.exceptions.ChunkedEncodingError("connection broken")
        return super().send(request, **kwargs)


def test_a_result_set_that_cannot_be_read_fails_the_read_retriably_with_the_watermark_held(org):
    load(org, 1000)
    connector = reader(org)
    connector.session.mount(org.instance_url.replace("http://", "https://"), LosingTheThirdSet())
    settled = timezone.now() + timedelta(hours=1)
    handed = []

    with pytest.raises(Unavailable) as lost:
        for page in connector.changes("Lead", None, FIELDS, page_size=200):
            handed += page

    assert lost.value.retriable and len(handed) > 200  # the first page, and some of the job's
    watermark = connector.settled_watermark(handed[-1], "", settled, exhausted=False)
    assert watermark == handed[199].cursor  # where the first page ended: the job is read again from there


def test_a_query_of_the_integrations_between_two_pages_does_not_turn_a_large_read_back_to_pages(org):
    """An integration asks Salesforce other things while a page is applied (its Leads, say):
    what that query matched is not what the read has left."""
    load(org, 1000)
    bulk = reader(org)

    read = bulk.changes("Lead", None, FIELDS, page_size=200)
    first = next(read)
    list(bulk.query_all("SELECT Id FROM Lead WHERE IsConverted = true"))  # matches none
    rest = [r for page in read for r in page]

    assert len(first) + len(rest) == 1000 and SandboxQueryJob.objects.count() == 1
