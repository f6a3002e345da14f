"""The Zoho Campaigns sandbox (API v1.1) over plain HTTP: lists, listsubscribe and
listunsubscribe with contactinfo, bulk adds of at most ten, subscribers by status and
their count, segments, error envelopes at HTTP 200, and per-method limits with a lock."""
import json

import pytest

from connectors.sandbox.models.zoho import ZcMembership

pytestmark = pytest.mark.django_db(transaction=True, available_apps=["connectors.sandbox"])


@pytest.fixture
def api(zoho_api, zoho_org):
    return zoho_api(zoho_org)


@pytest.fixture
def listkey(api):
    return api.campaigns("getmailinglists").json()["list_of_details"][0]["listkey"]


def subscribe(api, listkey, **info):
    return api.campaigns("json/listsubscribe", "POST", listkey=listkey, contactinfo=json.dumps(info)).json()


def test_mailing_lists_come_in_an_envelope(api):
    body = api.campaigns("getmailinglists", sort="asc", fromindex=1, range=20).json()
    assert body["status"] == "success" and body["code"] == "0" and body["uri"] == "/api/v1.1/getmailinglists"
    [newsletter] = body["list_of_details"]
    assert newsletter["listname"] == "Newsletter" and newsletter["noofcontacts"] == "0"


def test_listsubscribe_adds_then_updates_by_email_with_fields_by_display_name(api, listkey):
    first = subscribe(api, listkey, **{"Contact Email": "ada@example.com", "First Name": "Ada", "Last Name": "L"})
    again = subscribe(api, listkey, **{"Contact Email": "ADA@example.com", "Last Name": "Lovelace"})

    listed = api.campaigns("getlistsubscribers", listkey=listkey, status="active").json()["list_of_details"]

    assert first["status"] == again["status"] == "success" and first["code"] == "0"
    assert len(listed) == 1
    assert listed[0]["contact_email"] == "ada@example.com"
    assert (listed[0]["firstname"], listed[0]["lastname"]) == ("Ada", "Lovelace")
    assert listed[0]["added_time"].isdigit() and listed[0]["zuid"].isdigit()


def test_an_unsubscribed_contact_is_not_put_back_by_listsubscribe(api, listkey):
    subscribe(api, listkey, **{"Contact Email": "ada@example.com"})
    out = api.campaigns("json/listunsubscribe", "POST", listkey=listkey,
                        contactinfo=json.dumps({"Contact Email": "ada@example.com"})).json()

    back = subscribe(api, listkey, **{"Contact Email": "ada@example.com", "First Name": "Ada"})

    assert out["status"] == "success"
    assert "confirmation email" in back["message"]
    assert ZcMembership.objects.get().status == "unsub"
    unsub = api.campaigns("getlistsubscribers", listkey=listkey, status="unsub").json()["list_of_details"]
    assert [s["contact_email"] for s in unsub] == ["ada@example.com"]
    assert api.campaigns("listsubscriberscount", listkey=listkey, status="unsub").json()["no_of_contacts"] == 1


def test_bulk_add_takes_ten_addresses_at_most(api, listkey):
    ten = ",".join(f"p{n}@example.com" for n in range(10))
    eleven = ten + ",p10@example.com"

    added = api.campaigns("addlistsubscribersinbulk", "POST", listkey=listkey, emailids=ten).json()
    refused = api.campaigns("addlistsubscribersinbulk", "POST", listkey=listkey, emailids=eleven)

    assert added["status"] == "success"
    assert refused.status_code == 200 and refused.json()["status"] == "error"
    assert api.campaigns("listsubscriberscount", listkey=listkey, status="active").json()["no_of_contacts"] == 10


def test_subscribers_page_by_fromindex_and_range(api, listkey):
    api.campaigns("addlistsubscribersinbulk", "POST", listkey=listkey,
                  emailids=",".join(f"p{n}@example.com" for n in range(5)))
    first = api.campaigns("getlistsubscribers", listkey=listkey, fromindex=1, range=3).json()["list_of_details"]
    rest = api.campaigns("getlistsubscribers", listkey=listkey, fromindex=4, range=3).json()["list_of_details"]
    assert len(first) == 3 and len(rest) == 2
    assert len({s["contact_email"] for s in first + rest}) == 5


def test_errors_come_as_envelopes_with_http_200(api, listkey, zoho_org, zoho_api):
    bad_key = api.campaigns("getlistsubscribers", listkey="nope")
    missing = api.campaigns("json/listsubscribe", "POST", listkey=listkey)
    bad_email = api.campaigns("json/listsubscribe", "POST", listkey=listkey,
                              contactinfo=json.dumps({"Contact Email": "not an email"}))
    not_member = api.campaigns("json/listunsubscribe", "POST", listkey=listkey,
                               contactinfo=json.dumps({"Contact Email": "nobody@example.com"}))
    bad_token = zoho_api(zoho_org, token="1000.wrong").campaigns("getmailinglists")

    for response, code in ((bad_key, "2501"), (missing, "903"), (bad_email, "1005"), (not_member, "2103"),
                           (bad_token, "1007")):
        assert response.status_code == 200
        assert response.json()["status"] == "error" and response.json()["code"] == code


def test_segments_list_and_their_contacts(make_zoho_org, zoho_api):
    facts = make_zoho_org(records=80)
    api = zoho_api(facts)
    listkey = api.campaigns("getmailinglists").json()["list_of_details"][0]["listkey"]

    [segment] = api.campaigns("getlistsegments", listkey=listkey).json()["list_of_segments"]
    contacts = api.campaigns("getsegmentcontacts", segmentid=segment["segment_id"], range=500).json()

    assert segment["segment_name"] == "Contacts in Germany"
    assert contacts["status"] == "success" and contacts["list_of_details"]


def test_a_list_without_segments_answers_2602(api, listkey):
    assert api.campaigns("getlistsegments", listkey=listkey).json()["code"] == "2602"


def test_a_method_past_its_limit_is_locked_alone_for_its_lock_period(make_zoho_org, zoho_api, zoho_clock):
    facts = make_zoho_org(campaigns_limits={"getlistsubscribers": [3, 300, 1800]})
    api = zoho_api(facts)
    listkey = api.campaigns("getmailinglists").json()["list_of_details"][0]["listkey"]

    answers = [api.campaigns("getlistsubscribers", listkey=listkey).json() for _ in range(4)]
    zoho_clock.advance(600)  # past the five minutes, inside the lock
    still = api.campaigns("getlistsubscribers", listkey=listkey).json()
    other = api.campaigns("listsubscriberscount", listkey=listkey).json()
    zoho_clock.advance(1300)
    after = api.campaigns("getlistsubscribers", listkey=listkey).json()

    assert [a["status"] for a in answers] == ["success"] * 3 + ["error"]
    assert answers[3]["code"] == "429" and "locked for 30 minutes" in answers[3]["message"]
    assert still["status"] == "error" and other["status"] == "success"
    assert after["status"] == "success"
