"""Person Accounts: describe, record types, the Contact behind each one, and their rules."""
import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

pytestmark = pytest.mark.django_db(transaction=True, available_apps=["connectors.sandbox"])


@pytest.fixture
def person_org(make_salesforce_org):
    return make_salesforce_org(person_accounts=True)


@pytest.fixture
def psf(make_sf, person_org):
    return make_sf(person_org)


def person_record_type(sf):
    (row,) = sf.query(
        "SELECT Id, DeveloperName, Name, SobjectType, IsPersonType, IsActive FROM RecordType "
        "WHERE SobjectType = 'Account' AND IsPersonType = true"
    )["records"]
    return row["Id"]


def error_of(excinfo):
    (error,) = excinfo.value.content
    return error


def test_account_describe_has_the_person_fields_and_record_types(psf):
    describe = psf.Account.describe()
    fields = {f["name"]: f for f in describe["fields"]}
    record_types = {rt["developerName"]: rt for rt in describe["recordTypeInfos"]}

    assert {"IsPersonAccount", "PersonContactId", "FirstName", "LastName", "PersonEmail", "PersonMobilePhone",
            "PersonMailingCity", "PersonBirthdate", "PersonHasOptedOutOfEmail"} <= set(fields)
    assert {"External_Id__pc", "Customer_Id__pc", "Sync_To_Marketing__pc"} <= set(fields)
    assert fields["IsPersonAccount"]["createable"] is False
    assert fields["External_Id__pc"]["externalId"] is True
    assert record_types["Business_Account"]["defaultRecordTypeMapping"] is True
    assert {"PersonAccount", "Master"} <= set(record_types)
    assert "IsPersonAccount" in {f["name"] for f in psf.Contact.describe()["fields"]}


def test_a_person_account_comes_with_its_person_contact(psf):
    account_id = psf.Account.create(
        {"RecordTypeId": person_record_type(psf), "FirstName": "Anna", "LastName": "Kowalska",
         "PersonEmail": "anna@example.com", "PersonMobilePhone": "+48 600 100 200", "External_Id__pc": "P-1"}
    )["id"]

    account = psf.Account.get(account_id)
    contact = psf.Contact.get(account["PersonContactId"])

    assert (account["IsPersonAccount"], account["Name"]) == (True, "Anna Kowalska")
    assert (contact["IsPersonAccount"], contact["AccountId"], contact["Email"], contact["MobilePhone"]) == (
        True, account_id, "anna@example.com", "+48 600 100 200")
    assert contact["External_Id__c"] == "P-1"


def test_updating_a_person_account_updates_its_contact(psf):
    account_id = psf.Account.create({"RecordTypeId": person_record_type(psf), "LastName": "Kowalska"})["id"]

    psf.Account.update(account_id, {"FirstName": "Anna", "PersonEmail": "anna@example.com"})

    account = psf.Account.get(account_id)
    contact = psf.Contact.get(account["PersonContactId"])
    assert account["Name"] == "Anna Kowalska"
    assert (contact["Name"], contact["Email"]) == ("Anna Kowalska", "anna@example.com")


def test_a_person_account_is_upserted_by_its_person_external_id(psf):
    record_type = person_record_type(psf)

    created = psf.Account.upsert("External_Id__pc/P-7", {"RecordTypeId": record_type, "LastName": "Nowak"}, raw_response=True)
    updated = psf.Account.upsert("External_Id__pc/P-7", {"PersonEmail": "nowak@example.com"}, raw_response=True)

    assert (created.status_code, updated.status_code) == (201, 200)
    assert psf.Account.get_by_custom_id("External_Id__pc", "P-7")["PersonEmail"] == "nowak@example.com"


def test_deleting_a_person_account_deletes_its_contact(psf):
    account_id = psf.Account.create({"RecordTypeId": person_record_type(psf), "LastName": "Kowalska"})["id"]
    contact_id = psf.Account.get(account_id)["PersonContactId"]

    psf.Account.delete(account_id)

    assert psf.query(f"SELECT COUNT() FROM Contact WHERE Id = '{contact_id}'")["totalSize"] == 0


def test_a_person_account_needs_a_last_name_and_takes_no_name(psf):
    record_type = person_record_type(psf)

    with pytest.raises(SalesforceMalformedRequest) as no_last_name:
        psf.Account.create({"RecordTypeId": record_type, "FirstName": "Anna"})
    with pytest.raises(SalesforceMalformedRequest) as with_name:
        psf.Account.create({"RecordTypeId": record_type, "LastName": "Kowalska", "Name": "Anna K"})

    assert error_of(no_last_name)["message"] == "Required fields are missing: [LastName]"
    assert error_of(with_name) == {
        "message": "Account: bad field names on insert/update call: Name",
        "errorCode": "INVALID_FIELD_FOR_INSERT_UPDATE",
        "fields": ["Name"],
    }


def test_a_business_account_takes_no_person_fields(psf):
    with pytest.raises(SalesforceMalformedRequest) as excinfo:
        psf.Account.create({"Name": "Acme", "PersonEmail": "x@example.com"})

    assert error_of(excinfo)["message"] == "Account: bad field names on insert/update call: PersonEmail"


def test_a_person_contact_is_edited_through_its_account_only(psf):
    account_id = psf.Account.create({"RecordTypeId": person_record_type(psf), "LastName": "Kowalska"})["id"]
    contact_id = psf.Account.get(account_id)["PersonContactId"]

    with pytest.raises(SalesforceMalformedRequest) as excinfo:
        psf.Contact.update(contact_id, {"Title": "CEO"})

    assert error_of(excinfo)["errorCode"] == "INVALID_PERSON_ACCOUNT_OPERATION"


def test_leads_may_have_no_company_when_person_accounts_are_on(psf):
    lead_id = psf.Lead.create({"LastName": "Nowak"})["id"]

    assert psf.Lead.get(lead_id)["Company"] is None


def test_without_person_accounts_person_fields_do_not_exist(sf):
    fields = {f["name"] for f in sf.Account.describe()["fields"]}

    with pytest.raises(SalesforceMalformedRequest) as excinfo:
        sf.Account.create({"Name": "Acme", "PersonEmail": "x@example.com"})

    assert not {"IsPersonAccount", "PersonEmail", "External_Id__pc"} & fields
    assert error_of(excinfo) == {"message": "No such column 'PersonEmail' on sobject of type Account", "errorCode": "INVALID_FIELD"}
    assert sf.query("SELECT COUNT() FROM RecordType WHERE SobjectType = 'Account'")["totalSize"] == 1
