"""The HubSpot sandbox's rate limits: the ten-second bucket with its headers, the search
limit without them, both answered 429 with the vendor's bodies."""
import json

import pytest
import requests
from hubspot.crm.contacts import ApiException, PublicObjectSearchRequest

pytestmark = pytest.mark.django_db(transaction=True, available_apps=["connectors.sandbox"])


def get(facts, path="/crm/v3/objects/contacts", token=None):
    return requests.get(f"{facts.base_url}{path}", headers={"Authorization": f"Bearer {token or facts.token}"}, timeout=10)


def test_answers_carry_the_rate_limit_headers(make_hubspot_account, hubspot_clock):
    facts = make_hubspot_account(rate_limit=190)

    first, second = get(facts), get(facts)

    assert {k: v for k, v in second.headers.items() if k.lower().startswith("x-hubspot-ratelimit")} == {
        "X-HubSpot-RateLimit-Daily": "250000", "X-HubSpot-RateLimit-Daily-Remaining": "249998",
        "X-HubSpot-RateLimit-Interval-Milliseconds": "10000", "X-HubSpot-RateLimit-Max": "190",
        "X-HubSpot-RateLimit-Remaining": "188", "X-HubSpot-RateLimit-Secondly": "19",
        "X-HubSpot-RateLimit-Secondly-Remaining": "17",
    }
    assert first.headers["X-HubSpot-RateLimit-Remaining"] == "189"


def test_the_call_over_the_ten_second_bucket_is_429_until_the_window_rolls(make_hubspot_account, hubspot_clock, hubspot_client):
    facts = make_hubspot_account(rate_limit=3)
    client = hubspot_client(facts)
    for _ in range(3):
        client.crm.contacts.basic_api.get_page()
        hubspot_clock.advance(2)

    with pytest.raises(ApiException) as refused:
        client.crm.contacts.basic_api.get_page()
    hubspot_clock.advance(4.5)  # the first call has left the ten seconds
    back = get(facts)

    body = json.loads(refused.value.body)
    assert refused.value.status == 429
    assert {k: body[k] for k in ("status", "message", "errorType", "policyName")} == {
        "status": "error", "message": "You have reached your ten_secondly_rolling limit.", "errorType": "RATE_LIMIT",
        "policyName": "TEN_SECONDLY_ROLLING"}
    assert refused.value.headers["Retry-After"] == "4" and refused.value.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert back.status_code == 200 and get(facts).status_code == 429


def test_search_has_its_own_per_second_limit_and_no_rate_limit_headers(make_hubspot_account, hubspot_clock, hubspot_client):
    facts = make_hubspot_account(rate_limit=190, search_rate_limit=5)
    client = hubspot_client(facts)
    search = client.crm.contacts.search_api.do_search_with_http_info

    answers = [search(PublicObjectSearchRequest(limit=1)) for _ in range(5)]
    with pytest.raises(ApiException) as refused:
        search(PublicObjectSearchRequest(limit=1))
    still_allowed = get(facts).status_code
    hubspot_clock.advance(1)

    assert all(status == 200 and not any(k.lower().startswith("x-hubspot-ratelimit") for k in headers)
               for _, status, headers in answers)
    body = json.loads(refused.value.body)
    assert refused.value.status == 429 and body["message"] == "You have reached your secondly limit." and body["category"] == "RATE_LIMITS"
    assert not any(k.lower().startswith("x-hubspot-ratelimit") for k in refused.value.headers)
    assert still_allowed == 200 and search(PublicObjectSearchRequest(limit=1))[1] == 200


def test_the_limit_is_per_account_and_refused_tokens_are_not_counted(make_hubspot_account, hubspot_clock):
    busy, quiet = make_hubspot_account(rate_limit=1), make_hubspot_account(rate_limit=1)
    assert get(busy, token="pat-eu1-wrong").status_code == 401

    assert get(busy).status_code == 200 and get(busy).status_code == 429
    assert get(quiet).status_code == 200
