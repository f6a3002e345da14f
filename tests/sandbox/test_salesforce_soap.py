"""The SOAP calls REST lacks: merge() and convertLead(), as a partner-API client sends them."""
import xml.etree.ElementTree as ET

import pytest
import requests

from tests.sandbox_fixtures import fetch_token

pytestmark = pytest.mark.django_db(transaction=True, available_apps=["connectors.sandbox"])

ENVELOPE = """<?xml version="1.0" encoding="utf-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
    xmlns:urn="urn:partner.soap.sforce.com" xmlns:urn1="urn:sobject.partner.soap.sforce.com"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <soapenv:Header><urn:SessionHeader><urn:sessionId>{session}</urn:sessionId></urn:SessionHeader></soapenv:Header>
  <soapenv:Body>{body}</soapenv:Body>
</soapenv:Envelope>"""


def local(tag):
    return tag.rsplit("}", 1)[-1]


def results(response):
    """Each <result> of a SOAP answer as {name: text or [texts]}."""
    root = ET.fromstring(response.content)
    parsed = []
    for result in (e for e in root.iter() if local(e.tag) == "result"):
        values = {}
        for child in result:
            name = local(child.tag)
            value = {local(c.tag): c.text for c in child} if len(child) else child.text
            values.setdefault(name, []).append(value)
        parsed.append({k: v[0] if len(v) == 1 and k not in ("mergedRecordIds", "updatedRelatedIds", "errors") else v
                       for k, v in values.items()})
    return parsed


def merge_request(sobject, master_id, loser_ids, **fields):
    values = "".join(f"<{name}>{value}</{name}>" for name, value in fields.items())
    losers = "".join(f"<urn:recordToMergeIds>{i}</urn:recordToMergeIds>" for i in loser_ids)
    return (f"<urn:request><urn:masterRecord><urn1:type>{sobject}</urn1:type><urn1:Id>{master_id}</urn1:Id>{values}"
            f"</urn:masterRecord>{losers}</urn:request>")


def convert(lead_id, status="Closed - Converted", **extra):
    values = "".join(f"<urn:{name}>{value}</urn:{name}>" for name, value in extra.items())
    return (f"<urn:leadConverts><urn:convertedStatus>{status}</urn:convertedStatus>"
            f"<urn:doNotCreateOpportunity>true</urn:doNotCreateOpportunity><urn:leadId>{lead_id}</urn:leadId>"
            f"{values}</urn:leadConverts>")


@pytest.fixture
def soap(salesforce_org):
    return soap_client(salesforce_org)


def soap_client(facts):
    session = fetch_token(facts)

    def call(operation, body):
        return requests.post(
            facts.soap_url, data=ENVELOPE.format(session=session, body=f"<urn:{operation}>{body}</urn:{operation}>"),
            headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": operation}, timeout=10,
        )

    return call


def test_merging_three_contacts_keeps_the_master_with_the_chosen_values(sf, soap):
    master = sf.Contact.create({"LastName": "Doe", "Email": "jane@example.com"})["id"]
    losers = [sf.Contact.create({"LastName": "Doe", "Title": "CEO", "Email": f"j{n}@example.com"})["id"] for n in (1, 2)]

    response = soap("merge", merge_request("Contact", master, losers, Title="CEO"))

    (result,) = results(response)
    assert response.status_code == 200 and response.headers["Sforce-Limit-Info"].startswith("api-usage=")
    assert (result["success"], result["id"], result["mergedRecordIds"]) == ("true", master, losers)
    assert sf.Contact.get(master)["Title"] == "CEO"
    merged = sf.query_all(f"SELECT Id, IsDeleted, MasterRecordId FROM Contact WHERE MasterRecordId = '{master}'",
                          include_deleted=True)["records"]
    assert sorted((r["Id"], r["IsDeleted"]) for r in merged) == sorted((i, True) for i in losers)
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 1


def test_merging_accounts_moves_their_contacts_to_the_master(sf, soap):
    master, loser = (sf.Account.create({"Name": name})["id"] for name in ("Acme", "ACME Inc."))
    contact = sf.Contact.create({"LastName": "Doe", "AccountId": loser})["id"]

    (result,) = results(soap("merge", merge_request("Account", master, [loser])))

    assert result["success"] == "true" and result["updatedRelatedIds"] == [contact]
    assert sf.Contact.get(contact)["AccountId"] == master


def test_a_merge_of_more_than_three_records_fails_in_its_result(sf, soap):
    ids = [sf.Lead.create({"LastName": f"Doe {n}", "Company": "Acme"})["id"] for n in range(4)]

    (result,) = results(soap("merge", merge_request("Lead", ids[0], ids[1:])))

    assert result["success"] == "false"
    assert result["errors"][0]["statusCode"] == "LIMIT_EXCEEDED"
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == 4


def test_users_cannot_be_merged(sf, soap):
    (user_id,) = [r["Id"] for r in sf.query("SELECT Id FROM User LIMIT 1")["records"]]

    (result,) = results(soap("merge", merge_request("User", user_id, [user_id])))

    assert result["errors"][0] == {"message": "entity type does not support merge", "statusCode": "INVALID_TYPE_FOR_OPERATION"}


def test_converting_a_lead_creates_an_account_and_a_contact(sf, soap):
    lead_id = sf.Lead.create({"FirstName": "Jan", "LastName": "Nowak", "Company": "Vistula S.A.", "Email": "jan@vistula.example",
                              "City": "Gdańsk", "LeadSource": "Lemontaps", "Customer_Id__c": "C-1"})["id"]

    (result,) = results(soap("convertLead", convert(lead_id)))

    assert result["success"] == "true" and result["leadId"] == lead_id
    account = sf.Account.get(result["accountId"])
    contact = sf.Contact.get(result["contactId"])
    lead = sf.Lead.get(lead_id)
    assert (account["Name"], account["BillingCity"]) == ("Vistula S.A.", "Gdańsk")
    assert (contact["Name"], contact["Email"], contact["AccountId"], contact["LeadSource"], contact["Customer_Id__c"]) == (
        "Jan Nowak", "jan@vistula.example", account["Id"], "Lemontaps", "C-1")
    assert (lead["IsConverted"], lead["Status"], lead["ConvertedAccountId"], lead["ConvertedContactId"]) == (
        True, "Closed - Converted", account["Id"], contact["Id"])


def test_converting_into_an_existing_account_fills_only_its_empty_fields(sf, soap):
    account_id = sf.Account.create({"Name": "Vistula", "Phone": "+48 1"})["id"]
    lead_id = sf.Lead.create({"LastName": "Nowak", "Company": "Other name", "Phone": "+48 2", "Website": "https://v.example"})["id"]

    (result,) = results(soap("convertLead", convert(lead_id, accountId=account_id)))

    account = sf.Account.get(account_id)
    assert result["accountId"] == account_id
    assert (account["Name"], account["Phone"], account["Website"]) == ("Vistula", "+48 1", "https://v.example")


def test_a_lead_without_company_converts_to_a_person_account(make_salesforce_org, make_sf):
    facts = make_salesforce_org(person_accounts=True)
    psf = make_sf(facts)
    lead_id = psf.Lead.create({"FirstName": "Anna", "LastName": "Kowalska", "Email": "anna@example.com",
                               "MobilePhone": "+48 600"})["id"]

    (result,) = results(soap_client(facts)("convertLead", convert(lead_id)))

    account = psf.Account.get(result["accountId"])
    assert (account["IsPersonAccount"], account["Name"], account["PersonEmail"]) == (True, "Anna Kowalska", "anna@example.com")
    assert account["PersonContactId"] == result["contactId"]
    assert psf.Lead.get(lead_id)["ConvertedAccountId"] == account["Id"]


def test_asking_for_a_person_record_type_converts_a_lead_with_company_to_a_person_account(make_salesforce_org, make_sf):
    facts = make_salesforce_org(person_accounts=True)
    psf = make_sf(facts)
    (record_type,) = [r["Id"] for r in psf.query("SELECT Id FROM RecordType WHERE IsPersonType = true")["records"]]
    lead_id = psf.Lead.create({"LastName": "Kowalska", "Company": "Self-employed"})["id"]

    (result,) = results(soap_client(facts)("convertLead", convert(
        lead_id, accountRecord=f"<urn1:type>Account</urn1:type><urn1:RecordTypeId>{record_type}</urn1:RecordTypeId>")))

    assert psf.Account.get(result["accountId"])["IsPersonAccount"] is True


def test_a_lead_converts_only_to_a_converted_status_and_only_once(sf, soap):
    lead_id = sf.Lead.create({"LastName": "Nowak", "Company": "Acme"})["id"]

    (wrong,) = results(soap("convertLead", convert(lead_id, status="Working - Contacted")))
    (first,) = results(soap("convertLead", convert(lead_id)))
    (again,) = results(soap("convertLead", convert(lead_id)))

    assert wrong["errors"][0]["statusCode"] == "INVALID_STATUS"
    assert first["success"] == "true"
    assert again["errors"][0]["statusCode"] == "CANNOT_UPDATE_CONVERTED_LEAD"


def test_merging_person_accounts_deletes_the_losers_contacts_too(make_salesforce_org, make_sf):
    facts = make_salesforce_org(person_accounts=True)
    psf = make_sf(facts)
    (record_type,) = [r["Id"] for r in psf.query("SELECT Id FROM RecordType WHERE IsPersonType = true")["records"]]
    master, loser = (psf.Account.create({"RecordTypeId": record_type, "LastName": n})["id"] for n in ("Kowalska", "Kowalski"))

    (result,) = results(soap_client(facts)("merge", merge_request("Account", master, [loser])))

    assert result["success"] == "true"
    assert psf.query("SELECT COUNT() FROM Contact")["totalSize"] == 1
    assert psf.query("SELECT COUNT() FROM Account")["totalSize"] == 1


def test_an_unknown_session_gets_a_soap_fault(salesforce_org):
    response = requests.post(
        salesforce_org.soap_url, data=ENVELOPE.format(session="nope", body="<urn:merge/>"),
        headers={"Content-Type": "text/xml", "SOAPAction": "merge"}, timeout=10,
    )

    root = ET.fromstring(response.content)
    texts = {local(e.tag): e.text for e in root.iter()}
    assert response.status_code == 500
    assert (texts["faultcode"], texts["exceptionCode"]) == ("sf:INVALID_SESSION_ID", "INVALID_SESSION_ID")
