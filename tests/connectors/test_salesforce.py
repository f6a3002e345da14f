"""The Salesforce connector against the Salesforce sandbox, over HTTP, through simple-salesforce."""
import math

import pytest
from django.utils import timezone

from connectors.base import AuthExpired, Duplicate, NotFound, RateLimited, ValidationFailed
from connectors.salesforce import SalesforceConnector
from connectors.sandbox.models import SandboxToken
from connectors.sandbox.salesforce.orgs import org_get, org_set_faults
from connectors.sandbox.salesforce.seed import records_bulk_create

pytestmark = pytest.mark.django_db(transaction=True)


def connector_for(facts, **kwargs):
    return SalesforceConnector(
        base_url=facts.instance_url,
        credentials={"client_id": facts.client_id, "client_secret": facts.client_secret, "username": facts.username, "password": facts.password},
        sleep=lambda seconds: None,
        **kwargs,
    )


@pytest.fixture
def org(make_salesforce_org):
    return make_salesforce_org()


@pytest.fixture
def sfc(org):
    return connector_for(org)


def contacts(n, start=0):
    return [{"FirstName": f"Ada{i}", "LastName": f"Lovelace{i}", "Email": f"ada{i}@example.com"} for i in range(start, start + n)]


def test_it_reports_the_org_name_api_usage_and_person_accounts(make_salesforce_org):
    facts = make_salesforce_org(name="Acme Production", person_accounts=True)
    result = connector_for(facts).check()
    assert result.account_name == "Acme Production"
    assert result.details["Person Accounts"] == "enabled"
    assert "of 15,000 today" in result.details["API usage"]


def test_it_refuses_wrong_credentials_with_the_vendor_reason(org):
    broken = SalesforceConnector(base_url=org.instance_url, credentials={"client_id": org.client_id, "client_secret": org.client_secret, "username": org.username, "password": "wrong"})
    with pytest.raises(AuthExpired, match="authentication failure"):
        broken.check()


def test_it_sees_person_accounts_only_in_orgs_that_have_them(make_salesforce_org):
    with_pa = connector_for(make_salesforce_org(person_accounts=True))
    without = connector_for(make_salesforce_org())
    assert with_pa.person_accounts_enabled() and not without.person_accounts_enabled()
    person_types = [rt for rt in with_pa.record_types("Account") if rt.is_person_type]
    assert person_types and all(rt.id.startswith("012") for rt in person_types)
    described = with_pa.describe("Account")
    assert described.field("PersonEmail") is not None and described.field("External_Id__c").external_id


def test_it_marks_fields_that_must_be_sent_as_required(sfc):
    lead = sfc.describe("Lead")
    assert lead.field("LastName").required and lead.field("Company").required
    assert not lead.field("Email").required


def test_it_creates_in_collections_of_200_and_fails_bad_records_alone(sfc):
    rows = contacts(450)
    rows[10]["LastName"] = ""
    rows[300]["Email"] = "not-an-email"
    before = sfc.api_calls
    results = sfc.create("Contact", rows)
    assert sfc.api_calls - before == math.ceil(450 / 200)
    assert [i for i, r in enumerate(results) if not r.ok] == [10, 300]
    assert isinstance(results[10].error, ValidationFailed) and results[10].error.field == "LastName"
    assert results[300].error.code == "INVALID_EMAIL_ADDRESS"
    assert sum(len(page) for page in sfc.changes("Contact", None, ["Email"])) == 448


def test_it_streams_changes_page_by_page_at_the_floor_of_calls(org, sfc):
    records_bulk_create(org_get(org.org_id), "Contact", contacts(4500))
    before = sfc.api_calls
    sizes = [len(page) for page in sfc.changes("Contact", None, ["FirstName", "LastName", "Email"])]
    assert sizes == [2000, 2000, 500]
    assert sfc.api_calls - before == math.ceil(4500 / 2000)


def test_a_cursor_resumes_exactly_after_its_record_however_many_share_its_instant(org, sfc):
    records_bulk_create(org_get(org.org_id), "Contact", contacts(450))  # one load: one SystemModstamp for many
    first = next(sfc.changes("Contact", None, ["Email"], page_size=200))
    assert len({r.modified_at for r in first}) < len(first)  # many share an instant
    rest = [r.id for page in sfc.changes("Contact", first[-1].cursor, ["Email"]) for r in page]
    assert len(rest) == 250 and not set(rest) & {r.id for r in first}
    last = [r for page in sfc.changes("Contact", None, ["Email"]) for r in page][-1]
    before = sfc.api_calls
    assert [r for page in sfc.changes("Contact", last.cursor, ["Email"]) for r in page] == []
    assert sfc.api_calls - before == 1
    sfc.update("Contact", [{"Id": first[0].id, "FirstName": "Changed"}])
    assert [r.id for page in sfc.changes("Contact", last.cursor, ["Email"]) for r in page] == [first[0].id]


def test_changes_since_a_watermark_return_what_changed_at_or_after_it(sfc):
    created = sfc.create("Contact", contacts(5))
    pages = list(sfc.changes("Contact", None, ["Email"]))
    watermark = pages[-1][-1].modified_at
    sfc.update("Contact", [{"Id": created[2].id, "Email": "changed@example.com"}])
    changed = [r for page in sfc.changes("Contact", watermark, ["Email"]) for r in page]
    # At or after the watermark: the changed record, last, and those sharing the watermark's
    # second (SOQL compares datetimes to the whole second).
    assert (changed[-1].id, changed[-1].fields["Email"]) == (created[2].id, "changed@example.com")
    assert all(r.modified_at[:19] == watermark[:19] for r in changed[:-1])


def test_a_cursor_in_a_second_of_many_instants_loses_none_of_its_second(org, sfc):
    """Salesforce orders by the millisecond but compares to the second: records later in the
    cursor's second with a smaller Id are still read after it."""
    from datetime import datetime, timedelta, timezone

    from connectors.sandbox.models import SandboxRecord

    made = [r.id for r in sfc.create("Contact", contacts(6))]
    second = datetime(2026, 3, 1, 9, 30, 5, tzinfo=timezone.utc)
    # Ids in reverse of their instants: the cursor's Id is the largest of the second.
    for n, record_id in enumerate(reversed(made)):
        SandboxRecord.objects.filter(record_id=record_id).update(system_modstamp=second + timedelta(milliseconds=100 * n))
    first = next(sfc.changes("Contact", None, ["Email"], page_size=200))
    cursor = first[2].cursor
    rest = [r.id for page in sfc.changes("Contact", cursor, ["Email"]) for r in page]
    assert rest == [r.id for r in first[3:]]


def test_settled_watermark_reads_the_lag_window_again_until_it_has_passed(sfc):
    from datetime import datetime, timedelta, timezone

    from connectors.base import Record

    started = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
    old = Record("003A", "Contact", {}, modified_at="2026-03-01T11:50:00.250+0000", cursor="2026-03-01T11:50:00.250+0000|003A")
    young = Record("003B", "Contact", {}, modified_at="2026-03-01T11:59:30.250+0000", cursor="2026-03-01T11:59:30.250+0000|003B")
    # Settled: exact in mid-read, the next second once the read is over.
    assert sfc.settled_watermark(old, "", started, exhausted=False) == old.cursor
    assert sfc.settled_watermark(old, "", started, exhausted=True) == "2026-03-01T11:50:01.000Z"
    # Younger than the lag: the read lag before the read began, whole seconds.
    assert sfc.settled_watermark(young, "", started, exhausted=True) == "2026-03-01T11:58:00.000Z"
    # Never back past where the read started from, and unchanged when nothing was read.
    assert sfc.settled_watermark(young, "2026-03-01T11:59:00.000Z", started, exhausted=True) == "2026-03-01T11:59:00.000Z"
    assert sfc.settled_watermark(None, "2026-03-01T11:59:00.000Z", started, exhausted=True) == "2026-03-01T11:59:00.000Z"
    assert sfc.read_lag == timedelta(minutes=2)


def test_a_young_watermark_never_passes_the_second_of_the_last_record_read(sfc):
    from datetime import datetime, timezone

    from connectors.base import Record

    started = datetime(2026, 3, 1, 12, 0, 0, 900_000, tzinfo=timezone.utc)  # settled until 11:58:00.900
    last = Record("003A", "Contact", {}, modified_at="2026-03-01T11:57:59.950+0000", cursor="2026-03-01T11:57:59.950+0000|003A")

    # Not settled (11:58:00.950 is past 11:58:00.900), and 11:58:00.000 would pass records of
    # 11:57:59.96 still to come in this read: the watermark goes back to the record's second.
    assert sfc.settled_watermark(last, "", started, exhausted=False) == "2026-03-01T11:57:59.000Z"


def test_upsert_by_external_id_never_creates_twice(sfc):
    rows = [{**row, "External_Id__c": f"ac-{i}"} for i, row in enumerate(contacts(3))]
    first = sfc.upsert("Contact", rows, key="External_Id__c")
    replay = sfc.upsert("Contact", rows, key="External_Id__c")
    assert [r.created for r in first] == [True] * 3
    assert [r.created for r in replay] == [False] * 3
    assert [r.id for r in first] == [r.id for r in replay]


def test_it_finds_records_by_email_and_fetches_them_by_id(sfc):
    created = sfc.create("Contact", contacts(3))
    found = sfc.find("Contact", "Email", ["ada1@example.com", "nobody@example.com"], ["LastName"])
    assert [(r.id, r.fields["LastName"]) for r in found] == [(created[1].id, "Lovelace1")]
    fetched = sfc.fetch("Contact", [created[0].id, created[2].id], ["Email"])
    assert [r.fields["Email"] for r in fetched] == ["ada0@example.com", "ada2@example.com"]


def test_a_duplicate_rule_refusal_names_the_matching_record(make_salesforce_org):
    sfc = connector_for(make_salesforce_org(duplicate_rules=True))
    original = sfc.create("Contact", contacts(1))[0]
    again = sfc.create("Lead", [{"LastName": "Lovelace", "Company": "Analytical Engines", "Email": "ada0@example.com"}])[0]
    assert isinstance(again.error, Duplicate)
    assert again.error.matching_ids == [original.id]
    assert sfc.create("Lead", [{"LastName": "Lovelace", "Company": "AE", "Email": "ada0@example.com"}], allow_duplicates=True)[0].ok


def test_it_deletes_and_then_reports_deleted_records_as_not_found(sfc):
    created = sfc.create("Contact", contacts(2))
    assert all(r.ok for r in sfc.delete([created[0].id]))
    again = sfc.delete([created[0].id])[0]
    assert isinstance(again.error, NotFound)


def test_it_merges_three_records_with_chosen_values(sfc):
    ids = [r.id for r in sfc.create("Contact", contacts(3))]
    result = sfc.merge("Contact", ids[0], ids[1:], {"Email": "ada1@example.com", "Phone": None})
    assert sorted(result.merged_ids) == sorted(ids[1:])
    master = sfc.fetch("Contact", [ids[0]], ["Email", "Phone"])[0]
    assert master.fields["Email"] == "ada1@example.com"
    assert sfc.fetch("Contact", ids[1:], ["Email"]) == []
    losers = [r for page in sfc.changes("Contact", None, ["MasterRecordId"], include_deleted=True) for r in page if r.fields["IsDeleted"]]
    assert {r.fields["MasterRecordId"] for r in losers} == {ids[0]}


def test_it_refuses_a_merge_of_more_than_three_before_calling(sfc):
    with pytest.raises(ValidationFailed, match="one to 2 records besides the master"):
        sfc.merge("Contact", "003000000000001AAA", ["003000000000002AAA"] * 3)


def test_it_converts_a_lead_into_a_contact_and_account(sfc):
    lead = sfc.create("Lead", [{"LastName": "Hopper", "Company": "Navy", "Email": "grace@example.com"}])[0]
    converted = sfc.convert_lead(lead.id, converted_status="Closed - Converted")
    assert converted["contactId"].startswith("003") and converted["accountId"].startswith("001")
    contact = sfc.fetch("Contact", [converted["contactId"]], ["Email", "AccountId"])[0]
    assert (contact.fields["Email"], contact.fields["AccountId"]) == ("grace@example.com", converted["accountId"])


def test_co5_it_backs_off_on_503_bursts_and_loses_nothing(org):
    org_set_faults(org_get(org.org_id), error_rate=0.3, seed_value=7)
    sfc = connector_for(org, max_retries=8)
    results = sfc.create("Contact", contacts(600))
    assert all(r.ok for r in results)
    org_set_faults(org_get(org.org_id))
    emails = [r.fields["Email"] for page in sfc.changes("Contact", None, ["Email"]) for r in page]
    assert sorted(emails) == sorted(row["Email"] for row in contacts(600))  # each once: no loss, no duplicate


def test_it_gives_up_on_a_lasting_outage_as_unavailable(org):
    org_set_faults(org_get(org.org_id), error_rate=1.0)
    with pytest.raises(Exception) as caught:
        connector_for(org, max_retries=2).create("Contact", contacts(1))
    assert caught.value.retriable and caught.value.code in {"SERVER_UNAVAILABLE", "503"}


def test_an_exhausted_daily_limit_is_rate_limited_not_retried(make_salesforce_org):
    facts = make_salesforce_org(daily_limit=3)
    sfc = connector_for(facts)
    with pytest.raises(RateLimited) as caught:
        for _ in range(5):
            sfc.create("Contact", contacts(1))
    assert caught.value.code == "REQUEST_LIMIT_EXCEEDED"
    assert sfc.api_usage[1] == 3


def test_it_logs_in_again_when_the_token_expires(org, sfc):
    sfc.create("Contact", contacts(1))
    SandboxToken.objects.filter(org__org_id=org.org_id).update(expires_at=timezone.now())
    assert sfc.create("Contact", contacts(1, start=1))[0].ok
    assert SandboxToken.objects.filter(org__org_id=org.org_id).count() == 2


def test_a_hanging_call_times_out_and_is_retried_while_a_create_is_never_sent_twice(org):
    from connectors.base import Unavailable
    from connectors.sandbox.salesforce.orgs import org_set_faults

    sfc = connector_for(org, timeout=(2, 0.5), max_retries=8)
    sfc.create("Contact", contacts(3))
    org_set_faults(org_get(org.org_id), hang_rate=0.5, hang_seconds=2, seed_value=4)
    # Reads are safe to send again: a hang costs a timeout and a retry, nothing else.
    assert sum(len(page) for page in sfc.changes("Contact", None, ["Email"])) == 3
    # A create whose answer is lost may have been made: it fails retriably instead of twice.
    outcomes = [sfc.create("Contact", contacts(1, start=10 + n)) for n in range(6)]
    lost = [r for [r] in outcomes if not r.ok]
    assert lost and all(isinstance(r.error, Unavailable) and r.error.retriable and r.error.code == "ANSWER_LOST" for r in lost)
    org_set_faults(org_get(org.org_id))
    emails = [r.fields["Email"] for page in sfc.changes("Contact", None, ["Email"]) for r in page]
    assert len(emails) == len(set(emails))  # none created twice
