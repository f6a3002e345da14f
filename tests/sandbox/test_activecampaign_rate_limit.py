"""The ActiveCampaign sandbox's rate limit: N requests per second per account, then 429."""
import pytest

pytestmark = pytest.mark.django_db(transaction=True, available_apps=["connectors.sandbox"])


def test_the_sixth_request_within_a_second_is_429_with_retry_after(make_activecampaign_account, activecampaign_api, activecampaign_clock):
    api = activecampaign_api(make_activecampaign_account(rate_limit=5))

    statuses = [api.get("contacts").status_code for _ in range(6)]
    refused = api.get("contacts")

    assert statuses == [200] * 5 + [429]
    assert refused.json() == {"message": "Too Many Requests"} and refused.headers["Retry-After"] == "1"


def test_calls_are_admitted_again_once_the_second_has_passed(make_activecampaign_account, activecampaign_api, activecampaign_clock):
    api = activecampaign_api(make_activecampaign_account(rate_limit=2))
    api.get("contacts")
    activecampaign_clock.advance(0.5)
    api.get("contacts")

    refused = api.get("contacts").status_code
    activecampaign_clock.advance(0.6)  # the first call has left the window, the second has not
    first_back = api.get("contacts").status_code
    second_waits = api.get("contacts").status_code

    assert (refused, first_back, second_waits) == (429, 200, 429)


def test_the_limit_is_per_account_whatever_the_key(make_activecampaign_account, activecampaign_api, activecampaign_clock):
    busy, quiet = make_activecampaign_account(rate_limit=1), make_activecampaign_account(rate_limit=1)
    activecampaign_api(busy).get("contacts")

    assert activecampaign_api(busy).get("tags").status_code == 429
    assert activecampaign_api(quiet).get("contacts").status_code == 200


def test_refused_keys_do_not_use_the_accounts_allowance(make_activecampaign_account, activecampaign_api, activecampaign_clock):
    facts = make_activecampaign_account(rate_limit=1)
    activecampaign_api(facts, api_key="wrong").get("contacts")

    assert activecampaign_api(facts).get("contacts").status_code == 200
