"""sObject Collections: batches of up to 200 records, per-record results, allOrNone."""
from concurrent.futures import ThreadPoolExecutor

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from connectors.sandbox.models import SandboxOrg, SandboxRecord

pytestmark = pytest.mark.django_db(transaction=True, available_apps=["connectors.sandbox"])

ROLLED_BACK = {
    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "message": "Record rolled back because not all records were valid and the request was using AllOrNone header",
    "fields": [],
}


def contact(**values):
    return {"attributes": {"type": "Contact"}, **values}


def test_a_collection_saves_the_valid_records_and_reports_the_invalid_ones(sf):
    records = [contact(LastName=f"Person {n}", Email=f"p{n}@example.com") for n in range(200)]
    records[10] = contact(FirstName="No last name")
    records[20] = contact(LastName="Bad mail", Email="not-an-email")

    results = sf.restful("composite/sobjects", method="POST", json={"allOrNone": False, "records": records})

    assert len(results) == 200
    assert results[10] == {
        "success": False,
        "errors": [{"statusCode": "REQUIRED_FIELD_MISSING", "message": "Required fields are missing: [LastName]",
                    "fields": ["LastName"]}],
    }
    assert results[20]["errors"][0]["statusCode"] == "INVALID_EMAIL_ADDRESS"
    assert sum(r["success"] for r in results) == 198
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 198


def test_all_or_none_rolls_every_record_back_when_one_fails(sf):
    records = [contact(LastName="Good"), contact(FirstName="Bad"), contact(LastName="Also good")]

    results = sf.restful("composite/sobjects", method="POST", json={"allOrNone": True, "records": records})

    assert [r["success"] for r in results] == [False, False, False]
    assert results[0]["errors"] == [ROLLED_BACK] and results[2]["errors"] == [ROLLED_BACK]
    assert results[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0


def test_more_than_200_records_are_refused_as_a_whole(sf):
    with pytest.raises(SalesforceMalformedRequest) as excinfo:
        sf.restful("composite/sobjects", method="POST", json={"records": [contact(LastName="x")] * 201})

    assert excinfo.value.content == [
        {"message": "record limit reached. cannot submit more than 200 records into this call", "errorCode": "EXCEEDED_ID_LIMIT"}
    ]


def test_a_record_without_a_type_gets_its_own_error(sf):
    results = sf.restful("composite/sobjects", method="POST", json={"records": [{"LastName": "x"}, contact(LastName="y")]})

    assert results[0]["errors"][0] == {"statusCode": "INVALID_TYPE", "message": "Must send a concrete entity type.", "fields": []}
    assert results[1]["success"] is True


def test_records_of_several_objects_are_created_in_request_order(sf):
    results = sf.restful(
        "composite/sobjects", method="POST",
        json={"records": [{"attributes": {"type": "Account"}, "Name": "Acme"}, contact(LastName="Doe"),
                          {"attributes": {"type": "Lead"}, "LastName": "Roe", "Company": "Acme"}]},
    )

    assert [r["id"][:3] for r in results] == ["001", "003", "00Q"]


def test_a_collection_update_changes_each_named_record(sf):
    first = sf.Contact.create({"LastName": "One"})["id"]
    second = sf.Contact.create({"LastName": "Two"})["id"]

    results = sf.restful(
        "composite/sobjects", method="PATCH",
        json={"records": [contact(id=first, Title="CEO"), contact(id=second, Email="bad"), contact(Title="no id")]},
    )

    assert results[0] == {"id": first, "success": True, "errors": []}
    assert results[1]["id"] == second and results[1]["errors"][0]["statusCode"] == "INVALID_EMAIL_ADDRESS"
    assert results[2]["errors"][0]["statusCode"] == "MISSING_ARGUMENT"
    assert sf.Contact.get(first)["Title"] == "CEO"


def test_a_collection_delete_reports_each_id(sf):
    first = sf.Contact.create({"LastName": "One"})["id"]
    gone = sf.Contact.create({"LastName": "Two"})["id"]
    sf.Contact.delete(gone)

    results = sf.restful("composite/sobjects", method="DELETE", params={"ids": f"{first},{gone},garbage"})

    assert results[0] == {"id": first, "success": True, "errors": []}
    assert results[1]["id"] == gone and results[1]["errors"][0]["statusCode"] == "ENTITY_IS_DELETED"
    assert results[2]["errors"][0]["statusCode"] == "MALFORMED_ID"


def test_a_collection_retrieve_answers_records_and_nulls(sf):
    first = sf.Contact.create({"LastName": "One", "Email": "one@example.com"})["id"]
    unknown = first[:9] + "zzzzzz"

    records = sf.restful("composite/sobjects/Contact", params={"ids": f"{first},{unknown}", "fields": "LastName,Email"})

    assert records == [
        {"attributes": {"type": "Contact", "url": f"/services/data/v59.0/sobjects/Contact/{first}"},
         "LastName": "One", "Email": "one@example.com"},
        None,
    ]


def test_a_collection_upsert_says_which_records_were_created(sf):
    existing = sf.Contact.create({"LastName": "Known", "External_Id__c": "E-1"})["id"]

    results = sf.restful(
        "composite/sobjects/Contact/External_Id__c", method="PATCH",
        json={"allOrNone": False, "records": [contact(External_Id__c="E-1", Title="CTO"),
                                             contact(External_Id__c="E-2", LastName="New"),
                                             contact(LastName="No key")]},
    )

    assert results[0] == {"id": existing, "success": True, "errors": [], "created": False}
    assert results[1]["success"] is True and results[1]["created"] is True
    assert results[2]["errors"][0]["statusCode"] == "MISSING_ARGUMENT"
    assert sf.Contact.get(existing)["Title"] == "CTO"


def test_a_collection_counts_as_one_api_call(sf, salesforce_org):
    before = SandboxOrg.objects.get(org_id=salesforce_org.org_id).api_usage

    sf.restful("composite/sobjects", method="POST", json={"records": [contact(LastName=str(n)) for n in range(200)]})

    assert SandboxOrg.objects.get(org_id=salesforce_org.org_id).api_usage == before + 1
    assert SandboxRecord.objects.filter(sobject="Contact").count() == 200


def test_duplicates_in_a_collection_carry_the_duplicate_result(make_salesforce_org, make_sf):
    sf = make_sf(make_salesforce_org(duplicate_rules=True))
    existing = sf.Lead.create({"LastName": "Doe", "Company": "Acme", "Email": "doe@acme.example"})["id"]

    (result,) = sf.restful("composite/sobjects", method="POST", json={"records": [contact(LastName="Doe", Email="DOE@acme.example")]})

    error = result["errors"][0]
    assert (error["statusCode"], error["message"]) == ("DUPLICATES_DETECTED", "Use one of these records?")
    match = error["duplicateResult"]["matchResults"][0]
    assert match["entityType"] == "Lead" and match["matchRecords"][0]["record"]["Id"] == existing


def test_parallel_clients_all_get_their_records_saved(make_sf, salesforce_org):
    clients = [make_sf(salesforce_org) for _ in range(4)]

    def work(n, sf):
        batch = [contact(LastName=f"C{n}-{i}", External_Id__c=f"C{n}-{i}") for i in range(50)]
        created = sf.restful("composite/sobjects", method="POST", json={"records": batch})
        upserted = sf.restful("composite/sobjects/Contact/External_Id__c", method="PATCH",
                              json={"records": [contact(External_Id__c=f"C{n}-{i}", Title="T") for i in range(50)]})
        singles = [sf.Contact.create({"LastName": f"S{n}-{i}"})["success"] for i in range(5)]
        return [r["success"] for r in created + upserted] + singles

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(work, range(4), clients))

    assert all(all(results) for results in outcomes)
    assert SandboxRecord.objects.filter(sobject="Contact").count() == 4 * 55
    assert SandboxRecord.objects.filter(sobject="Contact", data__Title="T").count() == 200
