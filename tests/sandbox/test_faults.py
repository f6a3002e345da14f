"""Injected faults in every vendor's sandbox: seeded 429s, 5xx and hangs, off by default."""
import io
import time

import pytest
import requests
from django.core.management import call_command

from connectors.sandbox.activecampaign.accounts import account_get as ac_account_get
from connectors.sandbox.activecampaign.accounts import account_set_faults as ac_set_faults
from connectors.sandbox.hubspot.accounts import account_get as hs_account_get
from connectors.sandbox.hubspot.accounts import account_set_faults as hs_set_faults
from connectors.sandbox.models import SandboxRecord
from connectors.sandbox.models.activecampaign import AcContact
from connectors.sandbox.models.hubspot import HsContact
from connectors.sandbox.salesforce.orgs import org_get, org_set_faults
from tests.sandbox_fixtures import fetch_token

pytestmark = pytest.mark.django_db(transaction=True, available_apps=["connectors.sandbox"])


def slug_of(facts):
    return facts.base_url.rstrip("/").rsplit("/", 1)[-1] if hasattr(facts, "base_url") else facts.api_url.rsplit("/", 1)[-1]


def hubspot(facts):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {facts.token}"
    return session


def hs_statuses(session, facts, calls=30):
    return [session.get(f"{facts.base_url}/crm/v3/objects/contacts", timeout=10).status_code for _ in range(calls)]


# --- HubSpot --------------------------------------------------------------------------------------
def test_hubspot_has_no_faults_by_default(hubspot_account):
    with hubspot(hubspot_account) as session:
        assert set(hs_statuses(session, hubspot_account, 20)) == {200}


def test_a_hubspot_limit_rate_answers_429_in_the_vendors_words(hubspot_account):
    hs_set_faults(hs_account_get(slug_of(hubspot_account)), limit_rate=1.0)

    with hubspot(hubspot_account) as session:
        response = session.get(f"{hubspot_account.base_url}/crm/v3/objects/contacts", timeout=10)

    body = response.json()
    assert response.status_code == 429
    assert body["category"] == "RATE_LIMITS" and body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert body["status"] == "error" and body["correlationId"]
    assert response.headers["Retry-After"] == "1"
    assert response.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert response.headers["X-HubSpot-RateLimit-Max"] == "10000"


def test_a_hubspot_error_rate_answers_502_or_503_the_same_calls_for_the_same_seed(hubspot_account):
    with hubspot(hubspot_account) as session:
        hs_set_faults(hs_account_get(slug_of(hubspot_account)), error_rate=0.4, seed_value=3)
        first = hs_statuses(session, hubspot_account)
        hs_set_faults(hs_account_get(slug_of(hubspot_account)), error_rate=0.4, seed_value=3)
        second = hs_statuses(session, hubspot_account)
        failed = session.get(f"{hubspot_account.base_url}/crm/v3/objects/contacts", timeout=10)
        while failed.status_code == 200:
            failed = session.get(f"{hubspot_account.base_url}/crm/v3/objects/contacts", timeout=10)

    assert first == second
    assert set(first) == {200, 502, 503}
    assert failed.json()["status"] == "error" and failed.json()["category"]


def test_a_hanging_hubspot_call_times_the_client_out_but_its_write_lands(hubspot_account):
    hs_set_faults(hs_account_get(slug_of(hubspot_account)), hang_rate=1.0, hang_seconds=1.0)

    with hubspot(hubspot_account) as session, pytest.raises(requests.ReadTimeout):
        session.post(f"{hubspot_account.base_url}/crm/v3/objects/contacts",
                     json={"properties": {"email": "late@example.com"}}, timeout=0.3)

    time.sleep(1.0)
    assert HsContact.objects.filter(email_key="late@example.com").exists()


def test_hubspot_set_up_calls_are_spared_unless_asked(hubspot_account):
    account = hs_account_get(slug_of(hubspot_account))
    hs_set_faults(account, error_rate=1.0)
    url = f"{hubspot_account.base_url}/account-info/v3/details"
    with hubspot(hubspot_account) as session:
        spared = session.get(url, timeout=10).status_code
        hs_set_faults(hs_account_get(account.slug), error_rate=1.0, include_setup=True)
        faulted = session.get(url, timeout=10).status_code

    assert spared == 200 and faulted in (502, 503)


# --- ActiveCampaign -------------------------------------------------------------------------------
def ac_statuses(api, calls=30):
    return [api.get("contacts").status_code for _ in range(calls)]


def test_activecampaign_has_no_faults_by_default(activecampaign_account, activecampaign_api):
    assert set(ac_statuses(activecampaign_api(activecampaign_account), 20)) == {200}


def test_an_activecampaign_limit_rate_answers_429_with_retry_after(activecampaign_account, activecampaign_api):
    ac_set_faults(ac_account_get(slug_of(activecampaign_account)), limit_rate=1.0)

    response = activecampaign_api(activecampaign_account).get("contacts")

    assert response.status_code == 429
    assert response.json() == {"message": "Too Many Requests"} and response.headers["Retry-After"] == "1"


def test_an_activecampaign_error_rate_fails_the_same_calls_for_the_same_seed(activecampaign_account, activecampaign_api):
    api = activecampaign_api(activecampaign_account)
    ac_set_faults(ac_account_get(slug_of(activecampaign_account)), error_rate=0.4, seed_value=5)
    first = ac_statuses(api)
    ac_set_faults(ac_account_get(slug_of(activecampaign_account)), error_rate=0.4, seed_value=5)
    second = ac_statuses(api)

    assert first == second and set(first) == {200, 502, 503}


def test_a_hanging_activecampaign_sync_times_the_client_out_but_its_write_lands(activecampaign_account, activecampaign_api):
    ac_set_faults(ac_account_get(slug_of(activecampaign_account)), hang_rate=1.0, hang_seconds=1.0)
    api = activecampaign_api(activecampaign_account)

    with pytest.raises(requests.ReadTimeout):
        api.session.post(f"{api.base}/contact/sync", json={"contact": {"email": "late@example.com"}}, timeout=0.3)

    time.sleep(1.0)
    assert AcContact.objects.filter(email_key="late@example.com").exists()


def test_activecampaign_users_me_is_spared_unless_asked(activecampaign_account, activecampaign_api):
    ac_set_faults(ac_account_get(slug_of(activecampaign_account)), error_rate=1.0)
    api = activecampaign_api(activecampaign_account)

    assert api.get("users/me").status_code == 200
    assert api.get("contacts").status_code in (502, 503)


# --- Salesforce -----------------------------------------------------------------------------------
def test_a_hanging_salesforce_call_times_the_client_out_but_its_write_lands(salesforce_org):
    token = fetch_token(salesforce_org)
    org_set_faults(org_get(salesforce_org.org_id), hang_rate=1.0, hang_seconds=1.0)

    with pytest.raises(requests.ReadTimeout):
        requests.post(f"{salesforce_org.instance_url}/services/data/v59.0/sobjects/Contact",
                      json={"LastName": "Late"}, headers={"Authorization": f"Bearer {token}"}, timeout=0.3)

    time.sleep(1.0)
    assert SandboxRecord.objects.filter(sobject="Contact", data__LastName="Late").exists()



def test_the_faults_command_sets_an_accounts_faults(hubspot_account):
    call_command("sandbox", "faults", "hubspot", "--account", slug_of(hubspot_account), "--limit-rate", "0.2",
                 "--hang-rate", "0.1", "--hang-seconds", "45", "--seed", "4", stdout=io.StringIO())

    account = hs_account_get(slug_of(hubspot_account))
    assert (account.limit_rate, account.hang_rate, account.hang_seconds, account.fault_seed) == (0.2, 0.1, 45.0, 4)
