"""The daily API allowance, Sforce-Limit-Info, and injected faults."""
import time
from datetime import timedelta

import pytest
import requests
from simple_salesforce.exceptions import SalesforceGeneralError, SalesforceRefusedRequest

from connectors.sandbox.models import SandboxOrg
from connectors.sandbox.salesforce.orgs import org_get, org_set_faults
from connectors.sandbox.salesforce.values import now
from tests.sandbox_fixtures import fetch_token

pytestmark = pytest.mark.django_db(transaction=True, available_apps=["connectors.sandbox"])


def test_every_answer_reports_the_api_usage_and_counts_the_call(sf, salesforce_org):
    sf.query("SELECT Id FROM Contact")
    first = sf.api_usage["api-usage"]
    sf.query("SELECT Id FROM Lead")

    assert (first.used, first.total) == (1, 15000)
    assert sf.api_usage["api-usage"].used == 2
    assert sf.limits()["DailyApiRequests"] == {"Max": 15000, "Remaining": 15000 - 3}


def test_errors_report_the_api_usage_too(sf, salesforce_org):
    response = requests.get(
        f"{salesforce_org.instance_url}/services/data/v59.0/sobjects/Contact/003",
        headers={"Authorization": f"Bearer {sf.session_id}"}, timeout=10,
    )

    assert response.status_code == 400 and response.headers["Sforce-Limit-Info"] == "api-usage=1/15000"


def test_an_exhausted_daily_limit_refuses_calls(make_salesforce_org, make_sf):
    sf = make_sf(make_salesforce_org(daily_limit=2))
    sf.query("SELECT Id FROM Contact")
    sf.query("SELECT Id FROM Contact")

    with pytest.raises(SalesforceRefusedRequest) as excinfo:
        sf.query("SELECT Id FROM Contact")

    assert excinfo.value.status == 403
    assert excinfo.value.content == [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]


def test_the_allowance_comes_back_after_24_hours(make_salesforce_org, make_sf):
    facts = make_salesforce_org(daily_limit=1)
    sf = make_sf(facts)
    sf.query("SELECT Id FROM Contact")
    SandboxOrg.objects.filter(org_id=facts.org_id).update(usage_window_start=now() - timedelta(hours=24, seconds=1))

    sf.query("SELECT Id FROM Contact")

    assert sf.api_usage["api-usage"].used == 1


def test_an_error_rate_of_one_answers_503_server_unavailable(sf, salesforce_org):
    org_set_faults(org_get(salesforce_org.org_id), error_rate=1.0)

    with pytest.raises(SalesforceGeneralError) as excinfo:
        sf.query("SELECT Id FROM Contact")

    assert excinfo.value.status == 503
    assert excinfo.value.content == [{"message": "Service Unavailable", "errorCode": "SERVER_UNAVAILABLE"}]


def test_a_limit_rate_answers_request_limit_exceeded(sf, salesforce_org):
    org_set_faults(org_get(salesforce_org.org_id), limit_rate=1.0)

    with pytest.raises(SalesforceRefusedRequest) as excinfo:
        sf.query("SELECT Id FROM Contact")

    assert excinfo.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"


def outcomes(sf, calls=30):
    seen = []
    for _ in range(calls):
        try:
            sf.query("SELECT COUNT() FROM Contact")
            seen.append("ok")
        except SalesforceGeneralError:
            seen.append("503")
    return seen


def test_the_same_seed_fails_the_same_calls(sf, salesforce_org):
    org = org_get(salesforce_org.org_id)
    org_set_faults(org, error_rate=0.3, seed_value=7)
    first = outcomes(sf)
    org_set_faults(org_get(salesforce_org.org_id), error_rate=0.3, seed_value=7)
    second = outcomes(sf)

    assert first == second
    assert 3 <= first.count("503") <= 20


def test_slow_calls_are_delayed(sf, salesforce_org):
    org_set_faults(org_get(salesforce_org.org_id), slow_rate=1.0, slow_ms=300)

    started = time.monotonic()
    sf.query("SELECT COUNT() FROM Contact")

    assert time.monotonic() - started >= 0.3


def test_the_token_endpoint_is_spared_unless_asked(salesforce_org):
    org_set_faults(org_get(salesforce_org.org_id), error_rate=1.0)
    assert fetch_token(salesforce_org)

    org_set_faults(org_get(salesforce_org.org_id), error_rate=1.0, include_auth=True)
    with pytest.raises(requests.HTTPError) as excinfo:
        fetch_token(salesforce_org)
    assert excinfo.value.response.status_code == 503
