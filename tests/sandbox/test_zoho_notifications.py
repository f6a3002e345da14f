"""Zoho CRM's notifications in the sandbox: actions/watch subscribes a channel with a
token; a change posts the ids, operation and the token to its URL; channels expire within
a day and are renewed with PATCH, listed and stopped."""
from datetime import datetime, timedelta, timezone

import pytest

from connectors.sandbox.models.zoho import ZohoWatch

pytestmark = pytest.mark.django_db(transaction=True, available_apps=["connectors.sandbox"])


def expiry(hours):
    return (datetime.now(timezone.utc) + timedelta(hours=hours)).replace(microsecond=0).isoformat()


@pytest.fixture
def api(zoho_api, zoho_org):
    return zoho_api(zoho_org)


def watch(api, url, **extra):
    return api.crm("POST", "actions/watch", json={"watch": [{
        "channel_id": "1000000068001", "events": ["Contacts.all", "Leads.create"], "token": "verify-secret",
        "notify_url": url, "channel_expiry": expiry(2), **extra}]})


def test_a_change_posts_its_ids_and_the_channels_token(api, zoho_notifications):
    subscribed = watch(api, zoho_notifications.url)

    [record_id] = api.insert("Contacts", {"Last_Name": "Lovelace", "Email": "ada@example.com"})
    api.crm("PUT", "Contacts", json={"data": [{"id": record_id, "First_Name": "Ada"}]})
    api.crm("DELETE", "Contacts", params={"ids": record_id})

    answer = subscribed.json()["watch"][0]
    assert answer["code"] == "SUCCESS" and answer["details"]["events"][0]["channel_id"] == "1000000068001"
    bodies = zoho_notifications.bodies()
    assert [(b["operation"], b["ids"]) for b in bodies] == [("insert", [record_id]), ("update", [record_id]),
                                                           ("delete", [record_id])]
    assert all(b["token"] == "verify-secret" and b["module"] == "Contacts" for b in bodies)
    assert bodies[1]["affected_fields"] == ["First_Name"]
    assert bodies[0]["resource_uri"].endswith("/crm/v2/Contacts") and bodies[0]["channel_id"] == "1000000068001"


def test_events_not_watched_and_expired_channels_post_nothing(api, zoho_notifications):
    watch(api, zoho_notifications.url)
    [lead] = api.insert("Leads", {"Last_Name": "Lead"})
    api.crm("PUT", "Leads", json={"data": [{"id": lead, "Last_Name": "Edited"}]})  # only Leads.create is watched
    ZohoWatch.objects.update(channel_expiry=datetime.now(timezone.utc) - timedelta(seconds=1))
    api.insert("Contacts", {"Last_Name": "Late"})

    assert [(b["module"], b["operation"]) for b in zoho_notifications.bodies()] == [("Leads", "insert")]


def test_a_channel_expires_within_a_day_and_is_renewed_listed_and_stopped(api, zoho_notifications):
    too_long = watch(api, zoho_notifications.url, channel_expiry=expiry(30))
    watch(api, zoho_notifications.url)

    renewed = api.crm("PATCH", "actions/watch", json={"watch": [{"channel_id": "1000000068001",
                                                                 "channel_expiry": expiry(20)}]})
    listed = api.crm("GET", "actions/watch").json()["watch"]
    stopped = api.crm("DELETE", "actions/watch", params={"channel_ids": "1000000068001"})

    assert too_long.status_code == 400 and too_long.json()["code"] == "INVALID_DATA"
    assert renewed.json()["watch"][0]["status"] == "success"
    assert listed[0]["events"] == ["Contacts.all", "Leads.create"] and listed[0]["token"] == "verify-secret"
    assert stopped.json()["watch"][0]["status"] == "success"
    assert api.crm("GET", "actions/watch").status_code == 204
