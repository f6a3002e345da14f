"""SOQL over REST: /query, /queryAll, nextRecordsUrl paging and query errors."""
from datetime import datetime, timedelta, timezone

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from connectors.sandbox.models import SandboxQueryChunk
from connectors.sandbox.salesforce.orgs import org_get
from connectors.sandbox.salesforce.seed import records_bulk_create

pytestmark = pytest.mark.django_db(transaction=True, available_apps=["connectors.sandbox"])


@pytest.fixture
def org(salesforce_org):
    return org_get(salesforce_org.org_id)


def contacts(org, count, **values):
    return records_bulk_create(org, "Contact", [{"LastName": f"Person {n:05d}", **values} for n in range(count)])


def test_a_query_filters_orders_and_follows_relationships(sf):
    account_id = sf.Account.create({"Name": "Acme"})["id"]
    sf.Contact.create({"LastName": "Zeta", "Email": "zeta@acme.example", "AccountId": account_id})
    sf.Contact.create({"LastName": "Alpha", "Email": "alpha@acme.example", "AccountId": account_id})
    sf.Contact.create({"LastName": "Other", "Email": "other@else.example"})

    result = sf.query(
        "SELECT Id, LastName, Account.Name, Owner.Username FROM Contact "
        "WHERE Email LIKE '%@acme.example' ORDER BY LastName"
    )

    assert (result["totalSize"], result["done"]) == (2, True)
    assert [r["LastName"] for r in result["records"]] == ["Alpha", "Zeta"]
    assert result["records"][0]["Account"] == {
        "attributes": {"type": "Account", "url": f"/services/data/v59.0/sobjects/Account/{account_id}"},
        "Name": "Acme",
    }
    assert result["records"][0]["Owner"]["Username"].startswith("integration@")


def test_count_answers_a_total_and_no_records(sf):
    for name in ("A", "B", "C"):
        sf.Lead.create({"LastName": name, "Company": "Acme"})

    assert sf.query("SELECT COUNT() FROM Lead WHERE LastName != 'B'") == {"totalSize": 2, "done": True, "records": []}


def test_deleted_records_show_only_in_query_all(sf):
    kept = sf.Contact.create({"LastName": "Kept"})["id"]
    gone = sf.Contact.create({"LastName": "Gone"})["id"]
    sf.Contact.delete(gone)

    live = sf.query("SELECT Id FROM Contact")["records"]
    everything = sf.query_all("SELECT Id, IsDeleted FROM Contact ORDER BY LastName", include_deleted=True)["records"]

    assert [r["Id"] for r in live] == [kept]
    assert [(r["Id"], r["IsDeleted"]) for r in everything] == [(gone, True), (kept, False)]


def test_a_large_result_pages_by_next_records_url_in_batches_of_2000(sf, org):
    contacts(org, 4500)

    first = sf.query("SELECT Id, LastName FROM Contact ORDER BY LastName")
    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    third = sf.query_more(second["nextRecordsUrl"], identifier_is_url=True)

    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/01g")
    assert first["nextRecordsUrl"].endswith("-2000") and second["nextRecordsUrl"].endswith("-4000")
    assert [len(page["records"]) for page in (first, second, third)] == [2000, 2000, 500]
    assert [page["done"] for page in (first, second, third)] == [False, False, True]
    assert {page["totalSize"] for page in (first, second, third)} == {4500}
    names = [r["LastName"] for page in (first, second, third) for r in page["records"]]
    assert names == sorted(names) and len(set(names)) == 4500
    assert "nextRecordsUrl" not in third


def test_the_ordered_result_is_computed_once_and_kept_in_chunks(sf, org):
    contacts(org, 4500)

    sf.query("SELECT Id FROM Contact")

    assert SandboxQueryChunk.objects.count() == 3


def test_the_batch_size_header_sets_the_page_size(sf, org):
    contacts(org, 450)

    first = sf.query("SELECT Id FROM Contact", headers={"Sforce-Query-Options": "batchSize=200"})
    rest = list(sf.query_all_iter("SELECT Id FROM Contact", headers={"Sforce-Query-Options": "batchSize=200"}))

    assert len(first["records"]) == 200 and first["nextRecordsUrl"].endswith("-200")
    assert len(rest) == 450


def test_an_unknown_query_locator_is_invalid(sf):
    with pytest.raises(SalesforceMalformedRequest) as excinfo:
        sf.query_more("/services/data/v59.0/query/01g5b000000000AAAA-2000", identifier_is_url=True)

    assert excinfo.value.content == [{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}]


def test_modstamp_windows_and_email_lists_select_the_right_records(sf, org):
    contacts(org, 300)
    recent = sf.Contact.create({"LastName": "Recent", "Email": "Recent@Example.com"})["id"]
    since = (datetime.now(timezone.utc) - timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ")

    changed = sf.query(f"SELECT Id FROM Contact WHERE SystemModstamp >= {since} AND LastName = 'Recent'")
    by_email = sf.query("SELECT Id FROM Contact WHERE Email IN ('nobody@example.com', 'recent@example.com')")

    assert [r["Id"] for r in changed["records"]] == [recent]
    assert [r["Id"] for r in by_email["records"]] == [recent]


def test_limit_and_offset_apply_before_paging(sf, org):
    contacts(org, 30)

    result = sf.query("SELECT LastName FROM Contact ORDER BY LastName DESC LIMIT 5 OFFSET 2")

    assert [r["LastName"] for r in result["records"]] == [f"Person {n:05d}" for n in (27, 26, 25, 24, 23)]


def test_record_types_are_queryable(sf):
    rows = sf.query("SELECT Id, DeveloperName, Name, SobjectType, IsActive FROM RecordType WHERE SobjectType = 'Account'")

    assert [(r["DeveloperName"], r["IsActive"]) for r in rows["records"]] == [("Business_Account", True)]
    assert rows["records"][0]["Id"].startswith("012")


@pytest.mark.parametrize(
    ("soql", "code", "detail"),
    [
        ("SELEC Id FROM Contact", "MALFORMED_QUERY", "unexpected token: 'SELEC'"),
        ("SELECT Foo FROM Contact", "INVALID_FIELD", "No such column 'Foo' on entity 'Contact'."),
        ("SELECT Id FROM Contactz", "INVALID_TYPE", "sObject type 'Contactz' is not supported."),
        ("SELECT PersonEmail FROM Account", "INVALID_FIELD", "No such column 'PersonEmail' on entity 'Account'."),
        ("SELECT Id FROM Contact WHERE LastName = 'a' OR LastName = 'b' AND Title = 'c'", "MALFORMED_QUERY",
         "unexpected token: 'AND'"),
    ],
)
def test_bad_soql_is_refused_with_salesforces_error(sf, soql, code, detail):
    with pytest.raises(SalesforceMalformedRequest) as excinfo:
        sf.query(soql)

    (error,) = excinfo.value.content
    assert error["errorCode"] == code
    assert detail in error["message"] and "ERROR at Row:1:Column:" in error["message"]


def test_the_queries_integrations_send_are_answered(sf):
    account_id = sf.Account.create({"Name": "Acme"})["id"]
    contact_id = sf.Contact.create({"LastName": "Doe", "Email": "doe@acme.example", "AccountId": account_id})["id"]
    sf.Lead.create({"LastName": "Roe", "Company": "Acme", "Email": "roe@acme.example"})

    answers = {
        soql: sf.query_all(soql)["records"]
        for soql in (
            "SELECT Id FROM Contact WHERE CreatedDate = TODAY",
            "SELECT Id, Account.Owner.Email FROM Contact",
            f"SELECT Id FROM Contact WHERE Id IN ('{contact_id[:15]}')",
            f"SELECT Id FROM Contact WHERE AccountId = '{account_id}'",
            "SELECT Id FROM Lead WHERE IsConverted = false AND Email != null ORDER BY CreatedDate DESC NULLS LAST LIMIT 10",
            "SELECT Id, Email FROM Contact WHERE Email LIKE '%ACME.EXAMPLE' AND Sync_To_Marketing__c = false",
            "SELECT COUNT(Id) total FROM Contact",
        )
    }

    assert [len(records) for records in answers.values()] == [1, 1, 1, 1, 1, 1, 1]
    assert answers["SELECT Id, Account.Owner.Email FROM Contact"][0]["Account"]["Owner"]["Email"].startswith("integ@")
    assert answers["SELECT COUNT(Id) total FROM Contact"] == [{"attributes": {"type": "AggregateResult"}, "total": 1}]


def test_the_organization_record_names_the_org(make_salesforce_org, make_sf):
    facts = make_salesforce_org(name="Acme Production")

    (org,) = make_sf(facts).query("SELECT Id, Name, IsSandbox FROM Organization LIMIT 1")["records"]

    assert (org["Id"], org["Name"], org["IsSandbox"]) == (facts.org_id, "Acme Production", True)
