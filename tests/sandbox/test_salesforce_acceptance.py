"""The issue's acceptance script: a client that knows only simple-salesforce, requests and
the JSON that `manage.py sandbox create-org --json` prints."""
import json
import math
import xml.etree.ElementTree as ET
from io import StringIO

import pytest
import requests
from django.core.management import call_command
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceRefusedRequest

from connectors.sandbox.salesforce.orgs import org_get
from connectors.sandbox.salesforce.seed import records_bulk_create

pytestmark = pytest.mark.django_db(transaction=True, available_apps=["connectors.sandbox"])


def create_org(sandbox_url, *flags):
    out = StringIO()
    call_command("sandbox", "create-org", "salesforce", "--json", "--base-url", sandbox_url, *flags, stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture
def connect(sandbox_session):
    def connect(facts):
        token = requests.post(facts["token_url"], data={
            "grant_type": "password", "client_id": facts["client_id"], "client_secret": facts["client_secret"],
            "username": facts["username"], "password": facts["password"]}, timeout=10).json()
        return Salesforce(instance_url=token["instance_url"], session_id=token["access_token"], version="59.0",
                          session=sandbox_session(token["instance_url"]))

    return connect


def soap(facts, sf, operation, body):
    envelope = (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:partner.soap.sforce.com"'
        ' xmlns:urn1="urn:sobject.partner.soap.sforce.com"><soapenv:Header><urn:SessionHeader>'
        f"<urn:sessionId>{sf.session_id}</urn:sessionId></urn:SessionHeader></soapenv:Header>"
        f"<soapenv:Body><urn:{operation}>{body}</urn:{operation}></soapenv:Body></soapenv:Envelope>"
    )
    response = requests.post(f"{facts['instance_url']}/services/Soap/u/59.0", data=envelope,
                             headers={"Content-Type": "text/xml", "SOAPAction": operation}, timeout=10)
    response.raise_for_status()
    result = next(e for e in ET.fromstring(response.content).iter() if e.tag.endswith("}result"))
    values = {}
    for child in result:
        values.setdefault(child.tag.rsplit("}", 1)[-1], []).append(child.text)
    return values


def test_account_describe_shows_is_person_account_exactly_when_the_org_has_person_accounts(sandbox_url, connect):
    plain = connect(create_org(sandbox_url))
    person = connect(create_org(sandbox_url, "--person-accounts"))

    assert "IsPersonAccount" not in {f["name"] for f in plain.Account.describe()["fields"]}
    assert "IsPersonAccount" in {f["name"] for f in person.Account.describe()["fields"]}


def test_contacts_leads_and_person_accounts_are_created_read_updated_upserted_and_deleted(sandbox_url, connect):
    sf = connect(create_org(sandbox_url, "--person-accounts"))
    (person_type,) = [r["Id"] for r in sf.query(
        "SELECT Id, DeveloperName, Name, SobjectType, IsPersonType, IsActive FROM RecordType "
        "WHERE SobjectType = 'Account' AND IsPersonType = true")["records"]]

    for sobject, values, change in [
        ("Contact", {"LastName": "Doe", "Email": "doe@example.com"}, {"Title": "CEO"}),
        ("Lead", {"LastName": "Roe", "Company": "Acme", "LeadSource": "Lemontaps"}, {"Title": "Buyer"}),
        ("Account", {"RecordTypeId": person_type, "LastName": "Kowalska", "PersonEmail": "k@example.com"},
         {"PersonTitle": "Dr"}),
    ]:
        api = getattr(sf, sobject)
        record_id = api.create(values)["id"]
        assert api.update(record_id, change) == 204
        assert all(api.get(record_id)[k] == v for k, v in change.items())
        key = "External_Id__pc" if sobject == "Account" else "External_Id__c"
        upsert_values = {**values, "LastName": "Upserted"}
        assert api.upsert(f"{key}/{sobject}-1", upsert_values) == 201
        assert api.upsert(f"{key}/{sobject}-1", {"FirstName": "Again"}) == 200
        assert api.get_by_custom_id(key, f"{sobject}-1")["LastName"] == "Upserted"
        assert api.delete(record_id) == 204
    assert sf.query("SELECT COUNT() FROM Account WHERE IsPersonAccount = true")["totalSize"] == 1


def test_query_all_iter_pages_through_5000_contacts_in_three_api_calls(sandbox_url, connect):
    facts = create_org(sandbox_url)
    sf = connect(facts)
    records_bulk_create(org_get(facts["org_id"]), "Contact",
                        [{"LastName": f"Person {n}", "Email": f"p{n}@example.com"} for n in range(5000)])
    sf.query("SELECT COUNT() FROM Contact")
    before = sf.api_usage["api-usage"].used

    records = list(sf.query_all_iter("SELECT Id, Email FROM Contact ORDER BY SystemModstamp, Id"))

    assert len(records) == 5000 and len({r["Id"] for r in records}) == 5000
    assert sf.api_usage["api-usage"].used - before == math.ceil(5000 / 2000)


def test_a_200_record_collection_with_bad_rows_saves_the_rest_and_reports_each_error(sandbox_url, connect):
    sf = connect(create_org(sandbox_url))
    records = [{"attributes": {"type": "Contact"}, "LastName": f"P{n}", "Email": f"p{n}@example.com"} for n in range(200)]
    records[3] = {"attributes": {"type": "Contact"}, "Email": "nameless@example.com"}
    records[50] = {"attributes": {"type": "Contact"}, "LastName": "Bad", "Email": "bad-email"}
    records[99] = {"attributes": {"type": "Contact"}, "LastName": "Odd", "NoSuchField__c": 1}

    results = sf.restful("composite/sobjects", method="POST", json={"allOrNone": False, "records": records})

    failed = {n: r["errors"][0]["statusCode"] for n, r in enumerate(results) if not r["success"]}
    assert failed == {3: "REQUIRED_FIELD_MISSING", 50: "INVALID_EMAIL_ADDRESS", 99: "INVALID_FIELD"}
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 197


def test_salesforce_error_bodies_for_a_bad_field_bad_soql_a_missing_field_a_duplicate_and_an_exhausted_limit(
    sandbox_url, connect
):
    sf = connect(create_org(sandbox_url, "--duplicate-rules", "--daily-limit", "7"))
    existing = sf.Contact.create({"LastName": "Doe", "Email": "doe@example.com"})["id"]

    def error(call):
        with pytest.raises((SalesforceMalformedRequest, SalesforceRefusedRequest)) as excinfo:
            call()
        return excinfo.value.content[0]

    bad_field = error(lambda: sf.Contact.create({"LastName": "Doe", "Shoe_Size__c": 44}))
    bad_soql = error(lambda: sf.query("SELECT Id FROM Contact WHERE"))
    missing = error(lambda: sf.Lead.create({"LastName": "Doe"}))
    duplicate = error(lambda: sf.Lead.create({"LastName": "Doe", "Company": "Acme", "Email": "DOE@example.com"}))
    allowed = sf.Lead.create({"LastName": "Doe", "Company": "Acme", "Email": "doe@example.com"},
                             headers={"Sforce-Duplicate-Rule-Header": "allowSave=true"})
    sf.query("SELECT Id FROM Contact")
    exhausted = error(lambda: sf.query("SELECT Id FROM Contact"))

    assert bad_field == {"message": "No such column 'Shoe_Size__c' on sobject of type Contact", "errorCode": "INVALID_FIELD"}
    assert bad_soql["errorCode"] == "MALFORMED_QUERY"
    assert missing == {"message": "Required fields are missing: [Company]", "errorCode": "REQUIRED_FIELD_MISSING",
                       "fields": ["Company"]}
    assert (duplicate["errorCode"], duplicate["message"]) == ("DUPLICATES_DETECTED", "Use one of these records?")
    result = duplicate["duplicateResult"]
    assert (result["allowSave"], result["duplicateRule"], result["duplicateRuleEntityType"]) == (
        False, "Standard_Lead_Duplicate_Rule", "Lead")
    assert result["matchResults"][0]["matchRecords"][0]["record"]["Id"] == existing
    assert allowed["success"] is True
    assert exhausted == {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}


def test_soap_merges_three_contacts_and_converts_a_lead(sandbox_url, connect):
    facts = create_org(sandbox_url)
    sf = connect(facts)
    master, *losers = [sf.Contact.create({"LastName": "Doe", "Email": f"doe{n}@example.com"})["id"] for n in range(3)]
    lead_id = sf.Lead.create({"FirstName": "Jan", "LastName": "Nowak", "Company": "Vistula"})["id"]

    merged = soap(facts, sf, "merge",
                  f"<urn:request><urn:masterRecord><urn1:type>Contact</urn1:type><urn1:Id>{master}</urn1:Id>"
                  f"<Email>doe1@example.com</Email></urn:masterRecord>"
                  + "".join(f"<urn:recordToMergeIds>{i}</urn:recordToMergeIds>" for i in losers) + "</urn:request>")
    converted = soap(facts, sf, "convertLead",
                     f"<urn:leadConverts><urn:convertedStatus>Closed - Converted</urn:convertedStatus>"
                     f"<urn:doNotCreateOpportunity>true</urn:doNotCreateOpportunity><urn:leadId>{lead_id}</urn:leadId>"
                     f"</urn:leadConverts>")

    assert (merged["success"], merged["id"], merged["mergedRecordIds"]) == (["true"], [master], losers)
    assert sf.Contact.get(master)["Email"] == "doe1@example.com"
    assert {r["MasterRecordId"] for r in sf.query_all(
        "SELECT MasterRecordId FROM Contact WHERE IsDeleted = true", include_deleted=True)["records"]} == {master}
    assert converted["success"] == ["true"]
    lead = sf.Lead.get(lead_id)
    assert (lead["IsConverted"], lead["ConvertedAccountId"], lead["ConvertedContactId"]) == (
        True, converted["accountId"][0], converted["contactId"][0])
    assert sf.Account.get(converted["accountId"][0])["Name"] == "Vistula"


def test_a_record_opens_at_its_id_in_the_orgs_app(make_salesforce_org, sandbox_url):
    import requests as http

    from connectors.sandbox.salesforce.orgs import org_get
    from connectors.sandbox.salesforce.seed import records_bulk_create

    org = make_salesforce_org(name="Acme")
    [record_id] = records_bulk_create(org_get(org.org_id), "Contact", [{"FirstName": "Ada", "LastName": "Lovelace"}])
    for shown in (record_id, record_id[:15]):  # 18 characters, or the 15 a person copies
        page = http.get(f"{sandbox_url}/{shown}", timeout=10)
        assert page.status_code == 200 and "Ada Lovelace" in page.text
    assert http.get(f"{sandbox_url}/003000000000000AAA", timeout=10).status_code == 404
