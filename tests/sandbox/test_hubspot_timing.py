"""HubSpot's timing quirks: search behind writes, and one lastmodifieddate per batch."""
from datetime import datetime, timedelta, timezone

import pytest
import requests

from connectors.sandbox.hubspot import dates
from connectors.sandbox.models.hubspot import HsContact

pytestmark = pytest.mark.django_db(transaction=True, available_apps=["connectors.sandbox"])

# Seed 2 draws lags of 3.84 s, 3.32 s, 3.30 s … out of at most 5 s.
LAGGING = {"search_lag_seconds": 5, "search_lag_seed": 2}


@pytest.fixture
def api():
    sessions = []

    def make(facts):
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {facts.token}"
        sessions.append(session)

        def call(method, path, body=None):
            response = session.request(method, f"{facts.base_url}/crm/v3/objects/contacts{path}", json=body, timeout=10)
            assert response.ok, response.text
            return response.json() if response.content else None

        return call

    yield make
    for session in sessions:
        session.close()


def search(call, email):
    body = {"filterGroups": [{"filters": [{"propertyName": "email", "operator": "EQ", "value": email}]}],
            "properties": ["email", "firstname", "lastmodifieddate"]}
    return call("POST", "/search", body)["results"]


def test_search_finds_a_write_at_once_by_default(hubspot_account, api, visibility_clock):
    call = api(hubspot_account)
    created = call("POST", "", {"properties": {"email": "ada@example.com"}})

    assert [r["id"] for r in search(call, "ada@example.com")] == [created["id"]]


def test_a_new_contact_is_found_by_search_only_after_its_lag_though_batch_read_sees_it(make_hubspot_account, api,
                                                                                         visibility_clock):
    call = api(make_hubspot_account(**LAGGING))
    created = call("POST", "", {"properties": {"email": "ada@example.com"}})
    read = call("POST", "/batch/read", {"inputs": [{"id": created["id"]}], "properties": ["email"]})

    before = search(call, "ada@example.com")
    visibility_clock.advance(5)
    after = search(call, "ada@example.com")

    assert [r["id"] for r in read["results"]] == [created["id"]]
    assert before == [] and [r["id"] for r in after] == [created["id"]]


def test_until_an_update_is_indexed_search_shows_the_contact_as_it_was(make_hubspot_account, api, visibility_clock):
    call = api(make_hubspot_account(**LAGGING))
    created = call("POST", "", {"properties": {"email": "ada@example.com", "firstname": "Ada"}})
    visibility_clock.advance(5)
    updated = call("PATCH", f"/{created['id']}", {"properties": {"firstname": "Augusta"}})
    since_update = {"filterGroups": [{"filters": [{"propertyName": "lastmodifieddate", "operator": "GTE",
                                                   "value": str(dates.parse_ms(updated["updatedAt"]))}]}]}

    (stale,) = search(call, "ada@example.com")
    stale_changes = call("POST", "/search", since_update)["results"]
    visibility_clock.advance(5)
    (fresh,) = search(call, "ada@example.com")
    fresh_changes = call("POST", "/search", since_update)["results"]

    assert stale["properties"]["firstname"] == "Ada" and stale["updatedAt"] == created["updatedAt"]
    assert stale_changes == []
    assert fresh["properties"]["firstname"] == "Augusta" and fresh["updatedAt"] == updated["updatedAt"]
    assert [r["id"] for r in fresh_changes] == [created["id"]]


@pytest.fixture
def ticking_clock(monkeypatch):
    """Every moment the sandbox's contacts take is a millisecond after the last."""
    start = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
    ticks = iter(range(10_000))
    monkeypatch.setattr(dates, "now", lambda: start + timedelta(milliseconds=next(ticks)))


def batch_stamps(call, count=5):
    created = call("POST", "/batch/create", {"inputs": [{"properties": {"email": f"p{n}@example.com"}} for n in range(count)]})
    return {r["properties"]["lastmodifieddate"] for r in created["results"]}


def test_a_batch_stamps_each_contact_as_it_is_written_by_default(hubspot_account, api, ticking_clock):
    assert len(batch_stamps(api(hubspot_account))) == 5


def test_one_instant_per_request_stamps_a_whole_batch_alike(make_hubspot_account, api, ticking_clock):
    call = api(make_hubspot_account(one_instant_per_request=True))

    stamps = batch_stamps(call)
    updated = call("POST", "/batch/update", {"inputs": [
        {"id": r["id"], "properties": {"firstname": "X"}} for r in call("GET", "?limit=100")["results"]]})

    assert len(stamps) == 1 and len({r["updatedAt"] for r in updated["results"]}) == 1


def test_seeding_with_one_instant_per_request_stamps_a_hundred_contacts_alike(make_hubspot_account):
    make_hubspot_account(records=250, one_instant_per_request=True)

    stamps = list(HsContact.objects.order_by("number").values_list("updated_at", flat=True))

    assert len(set(stamps)) == 3 and len(set(stamps[:100])) == 1 and stamps[100] != stamps[99]


def test_create_account_sets_the_timing_quirks():
    from io import StringIO

    from django.core.management import call_command

    call_command("sandbox", "create-account", "hubspot", "--records", "150", "--search-lag", "2.5",
                 "--search-lag-seed", "9", "--one-instant-per-request", stdout=StringIO())

    contact = HsContact.objects.select_related("account").first()
    account = contact.account
    assert (account.search_lag_seconds, account.search_lag_seed, account.one_instant_per_request) == (2.5, 9, True)
    assert HsContact.objects.values("updated_at").distinct().count() == 2
