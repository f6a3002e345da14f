"""The Zoho sandbox's accounts server and its tokens: the refresh-token grant and its
answer (``api_domain``), the ``Zoho-oauthtoken`` header, expiry after the lifetime, a
revoked grant, refusals at HTTP 200, the token rate limit, and ``sandbox create-account
zoho --json``."""
import json
from datetime import timedelta
from io import StringIO

import pytest
import requests
from django.core.management import call_command

from connectors.sandbox.models.zoho import ZohoOrg, ZohoToken
from connectors.sandbox.zoho.oauth import grant_revoke
from tests.sandbox_fixtures import zoho_token

pytestmark = pytest.mark.django_db(transaction=True, available_apps=["connectors.sandbox"])


def test_a_refresh_token_grant_gives_an_hour_long_token_and_the_api_domain(zoho_org):
    answer = zoho_token(zoho_org)
    assert answer["api_domain"] == zoho_org.api_domain
    assert answer["token_type"] == "Bearer" and answer["expires_in"] == 3600
    assert answer["access_token"].startswith("1000.") and "refresh_token" not in answer


def test_calls_need_the_zoho_oauthtoken_scheme(zoho_org, zoho_api):
    token = zoho_token(zoho_org)["access_token"]
    url = f"{zoho_org.api_domain}/crm/v2/Contacts"

    bearer = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    zoho = requests.get(url, headers={"Authorization": f"Zoho-oauthtoken {token}"}, timeout=10)

    assert bearer.status_code == 401 and bearer.json()["code"] == "AUTHENTICATION_FAILURE"
    assert zoho.status_code == 204


def test_an_expired_token_is_refused_invalid_token_and_a_new_one_works(zoho_org, zoho_api):
    api = zoho_api(zoho_org)
    ZohoToken.objects.update(expires_at=ZohoToken.objects.get().expires_at - timedelta(hours=2))

    refused = api.crm("GET", "Contacts")

    assert refused.status_code == 401
    assert refused.json() == {"code": "INVALID_TOKEN", "details": {}, "message": "invalid oauth token", "status": "error"}
    assert zoho_api(zoho_org).crm("GET", "Contacts").status_code == 204


def test_a_revoked_grant_is_refused_invalid_code_with_http_200_and_its_tokens_stop(zoho_org, zoho_api):
    api = zoho_api(zoho_org)
    grant_revoke(ZohoOrg.objects.get())

    response = requests.post(f"{zoho_org.accounts_url}/oauth/v2/token", data={
        "grant_type": "refresh_token", "client_id": zoho_org.client_id, "client_secret": zoho_org.client_secret,
        "refresh_token": zoho_org.refresh_token}, timeout=10)

    assert response.status_code == 200 and response.json() == {"error": "invalid_code"}
    assert api.crm("GET", "Contacts").status_code == 401


def test_the_revoke_endpoint_revokes_the_grant(zoho_org):
    response = requests.post(f"{zoho_org.accounts_url}/oauth/v2/token/revoke", params={"token": zoho_org.refresh_token},
                             timeout=10)
    assert response.status_code == 200
    assert zoho_token(zoho_org) == {"error": "invalid_code"}


def test_a_wrong_client_is_refused_invalid_client(zoho_org):
    answer = requests.post(f"{zoho_org.accounts_url}/oauth/v2/token", data={
        "grant_type": "refresh_token", "client_id": zoho_org.client_id, "client_secret": "wrong",
        "refresh_token": zoho_org.refresh_token}, timeout=10)
    assert answer.status_code == 200 and answer.json() == {"error": "invalid_client"}


def test_too_many_tokens_for_one_grant_are_refused_access_denied(make_zoho_org):
    facts = make_zoho_org(token_rate_limit=10)
    answers = [zoho_token(facts) for _ in range(11)]
    assert all("access_token" in a for a in answers[:10])
    assert answers[10]["error"] == "Access Denied"


def test_create_account_zoho_json_prints_both_systems_facts(settings):
    settings.SANDBOX_URL = "http://sandbox.test:8001"
    out = StringIO()

    call_command("sandbox", "create-account", "zoho", "--records", "30", "--json", stdout=out)

    facts = json.loads(out.getvalue())
    assert set(facts) == {"accounts_url", "api_domain", "campaigns_url", "client_id", "client_secret", "refresh_token"}
    org = ZohoOrg.objects.get()
    assert facts["accounts_url"] == f"http://sandbox.test:8001/zoho/{org.slug}/accounts"
    assert facts["api_domain"] == f"http://sandbox.test:8001/zoho/{org.slug}"
    assert facts["campaigns_url"] == f"http://sandbox.test:8001/zoho/{org.slug}/campaigns"
    assert org.records.filter(module="Contacts").exists() and org.records.filter(module="Leads").exists()
    assert org.records.filter(module="Accounts").exists()
    assert org.mailing_lists.get().memberships.filter(status="unsub").exists()


def test_revoke_command_revokes_the_grant(zoho_org):
    slug = ZohoOrg.objects.get().slug
    call_command("sandbox", "revoke", "zoho", "--account", slug, stdout=StringIO())
    assert ZohoOrg.objects.get().refresh_revoked
