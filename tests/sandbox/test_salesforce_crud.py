"""Single-record REST: create, read, update, delete, upsert, and Salesforce's validation errors."""
from datetime import datetime, timedelta, timezone

import pytest
from simple_salesforce.exceptions import (
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceResourceNotFound,
)

from connectors.sandbox.salesforce.orgs import org_add_field, org_get

pytestmark = pytest.mark.django_db(transaction=True, available_apps=["connectors.sandbox"])


def error_of(excinfo):
    """The single error a failed call returned, as the client parsed it."""
    (error,) = excinfo.value.content
    return error


def test_a_created_contact_reads_back_with_its_values_and_system_fields(sf):
    result = sf.Contact.create({"FirstName": "Jane", "LastName": "Doe", "Email": "jane.doe@example.com"})

    assert result["success"] is True and result["errors"] == []
    assert result["id"].startswith("003") and len(result["id"]) == 18
    contact = sf.Contact.get(result["id"])
    assert contact["attributes"] == {"type": "Contact", "url": f"/services/data/v59.0/sobjects/Contact/{result['id']}"}
    assert (contact["Name"], contact["Email"], contact["IsDeleted"]) == ("Jane Doe", "jane.doe@example.com", False)
    assert contact["OwnerId"].startswith("005") and contact["HasOptedOutOfEmail"] is False
    assert contact["CreatedDate"].endswith("+0000") and contact["SystemModstamp"] == contact["CreatedDate"]


def test_reading_with_fields_returns_only_those_fields(sf):
    record_id = sf.Contact.create({"LastName": "Doe", "Title": "CEO"})["id"]

    contact = sf.Contact.get(record_id, params={"fields": "lastname,Title"})

    assert list(contact) == ["attributes", "LastName", "Title"]


def test_an_update_answers_204_and_changes_the_record_and_its_modstamp(sf):
    record_id = sf.Contact.create({"LastName": "Doe"})["id"]
    before = sf.Contact.get(record_id)["SystemModstamp"]

    status = sf.Contact.update(record_id, {"Title": "Buyer", "LastName": "Doe-Smith"})

    contact = sf.Contact.get(record_id)
    assert status == 204
    assert (contact["Title"], contact["Name"]) == ("Buyer", "Doe-Smith")
    assert contact["SystemModstamp"] >= before


def test_a_deleted_record_is_not_found_and_cannot_be_deleted_twice(sf):
    record_id = sf.Lead.create({"LastName": "Doe", "Company": "Acme"})["id"]

    assert sf.Lead.delete(record_id) == 204

    with pytest.raises(SalesforceResourceNotFound) as read:
        sf.Lead.get(record_id)
    with pytest.raises(SalesforceResourceNotFound) as again:
        sf.Lead.delete(record_id)
    assert error_of(read)["errorCode"] == "NOT_FOUND"
    assert error_of(again) == {"message": "entity is deleted", "errorCode": "ENTITY_IS_DELETED", "fields": []}


def test_an_id_of_another_object_is_malformed(sf):
    account_id = sf.Account.create({"Name": "Acme"})["id"]

    with pytest.raises(SalesforceMalformedRequest) as excinfo:
        sf.Contact.get(account_id)

    assert error_of(excinfo)["errorCode"] == "MALFORMED_ID"


def test_an_unknown_record_of_the_right_object_is_not_found(sf):
    record_id = sf.Contact.create({"LastName": "Doe"})["id"]
    unknown = record_id[:9] + "zzzzzz"

    with pytest.raises(SalesforceResourceNotFound):
        sf.Contact.get(unknown)


def test_upsert_by_external_id_creates_then_updates(sf):
    created = sf.Contact.upsert("External_Id__c/EXT-1", {"LastName": "Doe"}, raw_response=True)
    updated = sf.Contact.upsert("External_Id__c/EXT-1", {"Title": "CTO"}, raw_response=True)

    assert created.status_code == 201 and created.json()["created"] is True
    assert updated.status_code == 200 and updated.json() == {**created.json(), "created": False}
    contact = sf.Contact.get_by_custom_id("External_Id__c", "EXT-1")
    assert (contact["Id"], contact["Title"], contact["External_Id__c"]) == (created.json()["id"], "CTO", "EXT-1")


def test_upsert_with_update_only_does_not_create(sf):
    with pytest.raises(SalesforceResourceNotFound):
        sf.restful("sobjects/Contact/External_Id__c/EXT-404", method="PATCH", params={"updateOnly": "true"},
                   json={"LastName": "Doe"})


def test_upsert_on_a_field_that_is_no_external_id_is_not_found(sf):
    with pytest.raises(SalesforceResourceNotFound) as excinfo:
        sf.Contact.upsert("Title/CEO", {"LastName": "Doe"})

    assert error_of(excinfo)["message"] == "Provided external ID field does not exist or is not accessible: Title"


def test_an_external_id_matching_several_records_answers_300(sf, salesforce_org):
    org_add_field(org_get(salesforce_org.org_id), sobject="Contact", name="Legacy_Id__c", field_type="string", external_id=True)
    sf.Contact.create({"LastName": "One", "Legacy_Id__c": "L-1"})
    sf.Contact.create({"LastName": "Two", "Legacy_Id__c": "l-1"})

    with pytest.raises(SalesforceMoreThanOneRecord) as read:
        sf.Contact.get_by_custom_id("Legacy_Id__c", "L-1")
    with pytest.raises(SalesforceMoreThanOneRecord):
        sf.Contact.upsert("Legacy_Id__c/L-1", {"Title": "x"})

    assert len(read.value.content) == 2 and read.value.content[0].startswith("/services/data/v59.0/sobjects/Contact/003")


def test_a_parent_can_be_named_by_its_external_id(sf):
    account_id = sf.Account.create({"Name": "Acme", "External_Id__c": "A-1"})["id"]

    contact_id = sf.Contact.create({"LastName": "Doe", "Account": {"External_Id__c": "A-1"}})["id"]

    assert sf.Contact.get(contact_id)["AccountId"] == account_id
    with pytest.raises(SalesforceMalformedRequest) as excinfo:
        sf.Contact.create({"LastName": "Doe", "Account": {"External_Id__c": "A-404"}})
    assert error_of(excinfo)["message"] == "Foreign key external ID: A-404 not found for field External_Id__c in entity Account"


@pytest.mark.parametrize(
    ("sobject", "values", "expected"),
    [
        ("Contact", {"FirstName": "Jane"},
         {"errorCode": "REQUIRED_FIELD_MISSING", "message": "Required fields are missing: [LastName]", "fields": ["LastName"]}),
        ("Lead", {"LastName": "Doe"},
         {"errorCode": "REQUIRED_FIELD_MISSING", "message": "Required fields are missing: [Company]", "fields": ["Company"]}),
        ("Contact", {"LastName": "Doe", "Email": "foo"},
         {"errorCode": "INVALID_EMAIL_ADDRESS", "message": "Email: invalid email address: foo", "fields": ["Email"]}),
        ("Contact", {"LastName": "x" * 81},
         {"errorCode": "STRING_TOO_LONG", "message": f"Last Name: data value too large: {'x' * 81} (max length=80)",
          "fields": ["LastName"]}),
        ("Lead", {"LastName": "Doe", "Company": "Acme", "Status": "Hot"},
         {"errorCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
          "message": "Lead Status: bad value for restricted picklist field: Hot", "fields": ["Status"]}),
        ("Contact", {"LastName": "Doe", "Foo": 1},
         {"errorCode": "INVALID_FIELD", "message": "No such column 'Foo' on sobject of type Contact"}),
        ("Contact", {"LastName": "Doe", "CreatedDate": "2020-01-01T00:00:00Z"},
         {"errorCode": "INVALID_FIELD_FOR_INSERT_UPDATE",
          "message": "Unable to create/update fields: CreatedDate. Please check the security settings of this field "
                     "and verify that it is read/write for your profile or permission set.",
          "fields": ["CreatedDate"]}),
        ("Contact", {"LastName": "Doe", "AccountId": "001xx"},
         {"errorCode": "MALFORMED_ID", "message": "Account ID: id value of incorrect type: 001xx", "fields": ["AccountId"]}),
        ("Contact", {"LastName": "Doe", "HasOptedOutOfEmail": "maybe"},
         {"errorCode": "JSON_PARSER_ERROR",
          "message": "Cannot deserialize instance of boolean from VALUE_STRING value maybe or request may be missing "
                     "a required field"}),
    ],
)
def test_invalid_records_are_refused_with_salesforces_error(sf, sobject, values, expected):
    with pytest.raises(SalesforceMalformedRequest) as excinfo:
        getattr(sf, sobject).create(values)

    assert error_of(excinfo) == expected


def test_a_reference_to_a_missing_record_is_an_invalid_cross_reference(sf):
    account_id = sf.Account.create({"Name": "Acme"})["id"]
    sf.Account.delete(account_id)
    missing = account_id[:9] + "zzzzzz"

    with pytest.raises(SalesforceMalformedRequest) as deleted:
        sf.Contact.create({"LastName": "Doe", "AccountId": account_id})
    with pytest.raises(SalesforceMalformedRequest) as unknown:
        sf.Contact.create({"LastName": "Doe", "AccountId": missing})

    assert error_of(deleted)["errorCode"] == "ENTITY_IS_DELETED"
    assert error_of(unknown) == {"message": "invalid cross reference id", "errorCode": "INVALID_CROSS_REFERENCE_KEY",
                                 "fields": ["AccountId"]}


def test_a_unique_value_cannot_be_used_twice(sf):
    first = sf.Contact.create({"LastName": "Doe", "External_Id__c": "EXT-1"})["id"]

    with pytest.raises(SalesforceMalformedRequest) as excinfo:
        sf.Contact.create({"LastName": "Roe", "External_Id__c": "ext-1"})

    assert error_of(excinfo) == {
        "message": f"duplicate value found: External_Id__c duplicates value on record with id: {first}",
        "errorCode": "DUPLICATE_VALUE",
        "fields": [],
    }


def test_a_new_lead_gets_the_default_status_and_a_computed_name(sf):
    lead = sf.Lead.get(sf.Lead.create({"FirstName": "Jan", "LastName": "Nowak", "Company": "Vistula"})["id"])

    assert (lead["Status"], lead["Name"], lead["IsConverted"]) == ("Open - Not Contacted", "Jan Nowak", False)


def test_deleting_an_account_deletes_its_contacts(sf):
    account_id = sf.Account.create({"Name": "Acme"})["id"]
    contact_id = sf.Contact.create({"LastName": "Doe", "AccountId": account_id})["id"]

    sf.Account.delete(account_id)

    rows = sf.query_all(f"SELECT Id, IsDeleted FROM Contact WHERE Id = '{contact_id}'", include_deleted=True)["records"]
    assert [row["IsDeleted"] for row in rows] == [True]


def test_a_custom_field_added_to_the_org_is_described_and_writable(sf, salesforce_org):
    org_add_field(org_get(salesforce_org.org_id), sobject="Lead", name="Met_On__c", field_type="date", label="Met on")

    field = next(f for f in sf.Lead.describe()["fields"] if f["name"] == "Met_On__c")
    lead_id = sf.Lead.create({"LastName": "Doe", "Company": "Acme", "Met_On__c": "2024-05-01"})["id"]

    assert (field["type"], field["label"], field["custom"], field["soapType"]) == ("date", "Met on", True, "xsd:date")
    assert sf.Lead.get(lead_id)["Met_On__c"] == "2024-05-01"


def test_describe_lists_the_standard_objects_and_their_fields(sf):
    names = {o["name"]: o for o in sf.describe()["sobjects"]}
    contact = {f["name"]: f for f in sf.Contact.describe()["fields"]}
    lead = {f["name"]: f for f in sf.Lead.describe()["fields"]}

    assert {"Account", "Contact", "Lead", "User", "RecordType"} <= set(names)
    assert names["Lead"]["keyPrefix"] == "00Q"
    assert contact["LastName"]["nillable"] is False and contact["LastName"]["length"] == 80
    assert contact["AccountId"]["referenceTo"] == ["Account"] and contact["AccountId"]["relationshipName"] == "Account"
    assert "Lemontaps" in [v["value"] for v in contact["LeadSource"]["picklistValues"]]
    assert contact["External_Id__c"]["externalId"] is True and contact["External_Id__c"]["unique"] is True
    assert contact["Sync_To_Marketing__c"]["type"] == "boolean"
    assert lead["Status"]["restrictedPicklist"] is True and lead["Status"]["defaultedOnCreate"] is True
    assert "IsPersonAccount" not in contact


def test_the_integration_user_can_be_found_by_email(sf, salesforce_org):
    users = sf.query("SELECT Id, Username, Email, IsActive FROM User WHERE IsActive = true")["records"]

    assert salesforce_org.username in [u["Username"] for u in users]
    assert len(users) >= 2


def test_updated_and_deleted_list_changes_in_a_window(sf):
    start = datetime.now(timezone.utc) - timedelta(minutes=5)
    kept = sf.Contact.create({"LastName": "Kept"})["id"]
    gone = sf.Contact.create({"LastName": "Gone"})["id"]
    sf.Contact.delete(gone)
    end = datetime.now(timezone.utc) + timedelta(minutes=5)

    updated = sf.Contact.updated(start, end)
    deleted = sf.Contact.deleted(start, end)

    assert updated["ids"] == [kept]
    assert [d["id"] for d in deleted["deletedRecords"]] == [gone]
    assert updated["latestDateCovered"].endswith("+0000")


def test_updated_refuses_a_window_older_than_30_days(sf):
    start = datetime.now(timezone.utc) - timedelta(days=31)

    with pytest.raises(SalesforceMalformedRequest) as excinfo:
        sf.Contact.updated(start, start + timedelta(days=1))

    assert error_of(excinfo)["errorCode"] == "INVALID_REPLICATION_DATE"


def test_duplicate_rules_block_a_taken_email_unless_the_header_allows_it(make_salesforce_org, make_sf):
    sf = make_sf(make_salesforce_org(duplicate_rules=True))
    taken = sf.Contact.create({"LastName": "Doe", "Email": "doe@example.com"})["id"]
    other = sf.Contact.create({"LastName": "Roe", "Email": "roe@example.com"})["id"]

    with pytest.raises(SalesforceMalformedRequest) as excinfo:
        sf.Contact.update(other, {"Email": "Doe@Example.com"})
    allowed = sf.Contact.update(other, {"Email": "doe@example.com"}, headers={"Sforce-Duplicate-Rule-Header": "allowSave=true"})

    error = error_of(excinfo)
    assert error["errorCode"] == "DUPLICATES_DETECTED"
    assert error["duplicateResult"]["matchResults"][0]["matchRecords"][0]["record"]["Id"] == taken
    assert allowed == 204
    assert sf.Contact.update(other, {"Title": "Unrelated change"}) == 204


def test_without_duplicate_rules_the_same_email_may_be_used_twice(sf):
    sf.Contact.create({"LastName": "Doe", "Email": "doe@example.com"})

    assert sf.Lead.create({"LastName": "Doe", "Company": "Acme", "Email": "doe@example.com"})["success"] is True
