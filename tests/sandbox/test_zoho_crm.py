"""The Zoho CRM sandbox's records API over plain HTTP: record shapes, paging by page and
past 2,000 records by page_token, If-Modified-Since (304) and 204, per-record codes of
writes, upsert by duplicate_check_fields, deleted records, search and COQL."""
import time

import pytest

from connectors.sandbox.models.zoho import ZohoOrg, ZohoRecord

pytestmark = pytest.mark.django_db(transaction=True, available_apps=["connectors.sandbox"])


@pytest.fixture
def api(zoho_api, zoho_org):
    return zoho_api(zoho_org)


def test_an_inserted_contact_reads_back_in_zohos_shape(api):
    [record_id] = api.insert("Contacts", {"Last_Name": "Lovelace", "First_Name": "Ada", "Email": "ada@example.com"})

    response = api.crm("GET", f"Contacts/{record_id}")

    record = response.json()["data"][0]
    assert record["id"] == record_id and record_id.isdigit() and len(record_id) >= 16
    assert record["Email"] == "ada@example.com" and record["Email_Opt_Out"] is False
    assert set(record["Owner"]) == {"name", "id", "email"}
    assert record["Modified_Time"].endswith("+05:30") and len(record["Modified_Time"]) == 25  # whole seconds


def leads(org_facts, count, *, start=0, stamp=None):
    """``count`` Leads written straight to the store (fast), all stamped ``stamp``."""
    from datetime import datetime, timezone

    org = ZohoOrg.objects.get(client_id=org_facts.client_id)
    moment = stamp or datetime(2024, 1, 1, tzinfo=timezone.utc)
    ZohoRecord.objects.bulk_create([
        ZohoRecord(org=org, module="Leads", record_id=org.id_base + 10**9 + n, email_key=f"lead{n}@example.com",
                   values={"Last_Name": f"Lead{n}", "Email": f"lead{n}@example.com"}, created_at=moment,
                   modified_at=moment)
        for n in range(start, start + count)
    ], batch_size=500)


def test_listing_pages_by_page_up_to_2000_records_then_by_page_token(api, zoho_org):
    leads(zoho_org, 2050)
    seen = []
    for page in range(1, 11):
        body = api.crm("GET", "Leads", params={"page": page, "per_page": 200, "sort_by": "id", "sort_order": "asc",
                                               "fields": "Email"}).json()
        seen += [r["id"] for r in body["data"]]
        assert body["info"]["more_records"] is True and body["info"]["page"] == page
    refused = api.crm("GET", "Leads", params={"page": 11, "per_page": 200, "sort_by": "id", "sort_order": "asc",
                                              "fields": "Email"})
    assert refused.status_code == 400 and refused.json()["code"] == "DISCRETE_PAGINATION_LIMIT_EXCEEDED"

    rest = api.crm("GET", "Leads", params={"page_token": body["info"]["next_page_token"], "per_page": 200,
                                           "sort_by": "id", "sort_order": "asc", "fields": "Email"}).json()

    seen += [r["id"] for r in rest["data"]]
    assert rest["info"]["more_records"] is False and rest["info"]["next_page_token"] is None
    assert len(seen) == len(set(seen)) == 2050 and seen == sorted(seen, key=int)
    assert set(rest["data"][0]) == {"Email", "id"}


def test_a_page_token_is_refused_for_another_query_and_per_page_is_200_at_most(api, zoho_org):
    leads(zoho_org, 3)
    token = api.crm("GET", "Leads", params={"per_page": 1, "sort_by": "id"}).json()["info"]["next_page_token"]

    other = api.crm("GET", "Leads", params={"per_page": 1, "sort_by": "Modified_Time", "page_token": token})
    too_many = api.crm("GET", "Leads", params={"per_page": 201})

    assert other.status_code == 400 and other.json()["code"] == "INVALID_DATA"
    assert too_many.status_code == 400 and too_many.json()["details"]["api_name"] == "per_page"


def test_if_modified_since_lists_later_changes_and_answers_304_when_there_are_none(api):
    first = api.insert("Contacts", {"Last_Name": "One", "Email": "one@example.com"})[0]
    head = api.crm("GET", f"Contacts/{first}").json()["data"][0]["Modified_Time"]
    time.sleep(1.05)
    second = api.insert("Contacts", {"Last_Name": "Two", "Email": "two@example.com"})[0]

    changed = api.crm("GET", "Contacts", params={"sort_by": "Modified_Time", "sort_order": "asc"},
                      headers={"If-Modified-Since": head})
    later = api.crm("GET", f"Contacts/{second}").json()["data"][0]["Modified_Time"]
    nothing = api.crm("GET", "Contacts", headers={"If-Modified-Since": later})

    assert [r["id"] for r in changed.json()["data"]] == [second]  # modified after the given second
    assert nothing.status_code == 304 and nothing.content == b""


def test_an_empty_module_answers_204_without_a_body(api):
    response = api.crm("GET", "Leads")
    assert response.status_code == 204 and response.content == b""


def test_a_write_answers_one_outcome_per_record_in_order(api):
    api.insert("Contacts", {"Last_Name": "Taken", "Email": "taken@example.com"})

    response = api.crm("POST", "Contacts", json={"data": [
        {"Last_Name": "Good", "Email": "good@example.com"},
        {"Last_Name": "Bad", "Email": "not an email"},
        {"Email": "nolast@example.com"},
        {"Last_Name": "Twin", "Email": "TAKEN@example.com"},
    ]})

    assert response.status_code == 207
    codes = [(e["code"], e["status"]) for e in response.json()["data"]]
    assert codes == [("SUCCESS", "success"), ("INVALID_DATA", "error"), ("MANDATORY_NOT_FOUND", "error"),
                     ("DUPLICATE_DATA", "error")]
    data = response.json()["data"]
    assert data[0]["message"] == "record added" and data[0]["details"]["id"].isdigit()
    assert data[1]["details"] == {"api_name": "Email", "expected_data_type": "email"}
    assert data[2]["details"] == {"api_name": "Last_Name"}
    assert data[3]["details"]["api_name"] == "Email" and data[3]["details"]["id"].isdigit()


def test_a_write_of_more_than_100_records_is_refused_whole(api):
    response = api.crm("POST", "Leads", json={"data": [{"Last_Name": f"L{n}"} for n in range(101)]})
    assert response.status_code == 400 and response.json()["code"] == "LIMIT_EXCEEDED"
    assert not ZohoRecord.objects.exists()


def test_update_by_id_and_its_refusals(api):
    [record_id] = api.insert("Contacts", {"Last_Name": "Old", "Email": "old@example.com"})

    response = api.crm("PUT", "Contacts", json={"data": [{"id": record_id, "Last_Name": "New"},
                                                          {"id": "123", "Last_Name": "Nobody"}, {"Last_Name": "No id"}]})

    assert response.status_code == 207
    assert [e["code"] for e in response.json()["data"]] == ["SUCCESS", "INVALID_DATA", "MANDATORY_NOT_FOUND"]
    assert response.json()["data"][0]["message"] == "record updated"
    assert api.crm("GET", f"Contacts/{record_id}").json()["data"][0]["Last_Name"] == "New"


def test_upsert_matches_by_duplicate_check_fields_and_says_what_it_did(api):
    [existing] = api.insert("Contacts", {"Last_Name": "Lovelace", "Email": "ada@example.com", "Phone": "1"})

    response = api.crm("POST", "Contacts/upsert", json={"data": [
        {"Last_Name": "Lovelace-King", "Email": "ADA@example.com"},
        {"Last_Name": "Byron", "Email": "byron@example.com"},
    ], "duplicate_check_fields": ["Email"], "trigger": []})
    by_phone = api.crm("POST", "Contacts/upsert", json={"data": [{"Last_Name": "By phone", "Phone": "1"}],
                                                        "duplicate_check_fields": ["Phone"]})

    data = response.json()["data"]
    assert [(e["action"], e["duplicate_field"]) for e in data] == [("update", "Email"), ("insert", None)]
    assert data[0]["details"]["id"] == existing
    assert by_phone.json()["data"][0]["details"]["id"] == existing
    assert by_phone.json()["data"][0]["duplicate_field"] == "Phone"
    assert ZohoRecord.objects.filter(module="Contacts").count() == 2


def test_deleted_records_are_listed_with_their_type_and_time(api):
    ids = api.insert("Leads", {"Last_Name": "Gone"}, {"Last_Name": "Stays"})

    response = api.crm("DELETE", "Leads", params={"ids": f"{ids[0]},999"})
    again = api.crm("DELETE", "Leads", params={"ids": ids[0]})
    deleted = api.crm("GET", "Leads/deleted", params={"type": "all"}).json()["data"]

    assert [e["code"] for e in response.json()["data"]] == ["SUCCESS", "INVALID_DATA"]
    assert again.json()["data"][0]["code"] == "ID_ALREADY_DELETED"
    assert [(d["id"], d["type"], d["display_name"]) for d in deleted] == [(ids[0], "recycle", "Gone")]
    assert api.crm("GET", f"Leads/{ids[0]}").status_code == 204
    assert api.crm("GET", "Leads/deleted", headers={"If-Modified-Since": deleted[0]["deleted_time"]}).status_code == 304


def test_search_by_criteria_and_by_email(api):
    api.insert("Contacts", {"Last_Name": "Smith", "Email": "a.smith@example.com"},
               {"Last_Name": "Smythe", "Email": "b@example.com"}, {"Last_Name": "Jones", "Email": "c@example.com"})

    both = api.crm("GET", "Contacts/search", params={"criteria": "((Last_Name:starts_with:Sm)and(Email:equals:B@example.com))"})
    either = api.crm("GET", "Contacts/search", params={"criteria": "(Email:in:a.smith@example.com,c@example.com)"})
    by_email = api.crm("GET", "Contacts/search", params={"email": "C@EXAMPLE.COM"})
    none = api.crm("GET", "Contacts/search", params={"email": "nobody@example.com"})

    assert [r["Last_Name"] for r in both.json()["data"]] == ["Smythe"]
    assert sorted(r["Last_Name"] for r in either.json()["data"]) == ["Jones", "Smith"]
    assert [r["Last_Name"] for r in by_email.json()["data"]] == ["Jones"]
    assert none.status_code == 204


def test_coql_selects_filters_orders_and_limits(api):
    api.insert("Leads", *({"Last_Name": f"L{n}", "Email": f"l{n}@example.com", "Company": "Acme" if n % 2 else "Other"}
                          for n in range(5)))

    response = api.crm("POST", "coql", json={
        "select_query": "select Last_Name, Email from Leads where Company = 'Acme' and (Email like '%example.com') "
                        "order by Last_Name desc limit 0, 1"})
    no_where = api.crm("POST", "coql", json={"select_query": "select Last_Name from Leads limit 5"})

    body = response.json()
    assert body["data"] == [{"Last_Name": "L3", "Email": "l3@example.com", "id": body["data"][0]["id"]}]
    assert body["info"] == {"count": 1, "more_records": True}
    assert no_where.status_code == 400 and no_where.json()["code"] == "SYNTAX_ERROR"


def test_fields_of_a_module_describe_types_and_mandatory_fields(api):
    fields = {f["api_name"]: f for f in api.crm("GET", "settings/fields", params={"module": "Contacts"}).json()["fields"]}
    assert fields["Last_Name"]["system_mandatory"] is True
    assert fields["Email_Opt_Out"]["data_type"] == "boolean"
    assert fields["Account_Name"]["lookup"]["module"]["api_name"] == "Accounts"
    assert api.crm("GET", "settings/fields", params={"module": "Nope"}).json()["code"] == "INVALID_MODULE"
