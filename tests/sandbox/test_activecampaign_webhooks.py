"""ActiveCampaign sandbox webhooks: managing hooks, and deliveries form-encoded with PHP
bracket keys after API changes and vendor-app edits."""
import pytest
import requests

from connectors.sandbox.activecampaign import webhooks
from connectors.sandbox.models.activecampaign import AcWebhook, AcWebhookDelivery

pytestmark = pytest.mark.django_db(transaction=True, available_apps=["connectors.sandbox"])
ALL_EVENTS = ["subscribe", "unsubscribe", "update", "contact_tag_added", "contact_tag_removed"]


@pytest.fixture
def api(activecampaign_api, activecampaign_account):
    return activecampaign_api(activecampaign_account)


def hook(api, url, events=ALL_EVENTS, sources=("api", "admin"), **extra):
    response = api.post("webhooks", {"webhook": {"name": "Portal", "url": url, "events": list(events), "sources": list(sources), **extra}})
    assert response.status_code == 201, response.text
    return response.json()["webhook"]


def test_webhooks_are_created_listed_filtered_and_deleted(api):
    created = hook(api, "https://portal.example/hooks/a", events=["update"], sources=["admin"])
    hook(api, "https://portal.example/hooks/b")

    by_url = api.get("webhooks", params={"filters[url]": "https://portal.example/hooks/a"}).json()

    assert created == {**created, "id": "1", "listid": "0", "events": ["update"], "sources": ["admin"], "links": []}
    assert [h["id"] for h in by_url["webhooks"]] == ["1"] and by_url["meta"] == {"total": "1"}
    assert api.delete("webhooks/1").json() == {}
    assert [h["id"] for h in api.get("webhooks").json()["webhooks"]] == ["2"]


def test_the_event_list_is_the_vendors(api):
    body = api.get("webhook/events").json()

    assert set(ALL_EVENTS) <= set(body["webhookEvents"]) and body["meta"]["total"] == len(body["webhookEvents"])


def test_a_webhook_needs_known_events_and_sources(api):
    response = api.post("webhooks", {"webhook": {
        "name": "x", "url": "https://portal.example/h", "events": ["explode"], "sources": ["api"],
    }})

    assert response.status_code == 422 and response.json()["errors"][0]["source"]["pointer"] == "/data/attributes/events"


def test_api_changes_are_delivered_form_encoded_with_bracket_keys(api, activecampaign_webhooks):
    hook(api, activecampaign_webhooks.url)

    contact = api.create_contact("ada@example.com", firstName="Ada", fieldValues=[{"field": "1", "value": "11-50"}])
    api.put(f"contacts/{contact['id']}", {"contact": {"lastName": "Lovelace", "phone": "+44 20 1234567"}})

    assert activecampaign_webhooks.types() == ["subscribe", "update"]
    assert all(t.startswith("application/x-www-form-urlencoded") for t in activecampaign_webhooks.content_types)
    form = activecampaign_webhooks.last()
    assert {key: form[key] for key in ("type", "initiated_from", "initiated_by", "list", "contact[id]", "contact[email]",
                                       "contact[first_name]", "contact[last_name]", "contact[phone]", "contact[tags]",
                                       "contact[orgname]", "contact[fields][company_size]")} == {
        "type": "update", "initiated_from": "api", "initiated_by": "admin", "list": "0", "contact[id]": contact["id"],
        "contact[email]": "ada@example.com", "contact[first_name]": "Ada", "contact[last_name]": "Lovelace",
        "contact[phone]": "+44 20 1234567", "contact[tags]": "", "contact[orgname]": "", "contact[fields][company_size]": "11-50",
    }
    assert form["date_time"].endswith("-05:00")


def test_tag_events_name_the_tag_and_list_every_tag_of_the_contact(api, activecampaign_webhooks):
    hook(api, activecampaign_webhooks.url, events=["contact_tag_added", "contact_tag_removed"])
    contact = api.create_contact("ada@example.com")["id"]
    vip, pa = (api.post("tags", {"tag": {"tag": name}}).json()["tag"]["id"] for name in ("vip", "added-to-salesforce-person-account"))

    api.post("contactTags", {"contactTag": {"contact": contact, "tag": vip}})
    applied = api.post("contactTags", {"contactTag": {"contact": contact, "tag": pa}}).json()["contactTag"]["id"]
    api.post("contactTags", {"contactTag": {"contact": contact, "tag": pa}})  # already there: no event
    api.delete(f"contactTags/{applied}")

    forms = [dict(f) for f in activecampaign_webhooks.forms]
    assert [(f["type"], f["tag"], f["contact[tags]"]) for f in forms] == [
        ("contact_tag_added", "vip", "vip"),
        ("contact_tag_added", "added-to-salesforce-person-account", "vip, added-to-salesforce-person-account"),
        ("contact_tag_removed", "added-to-salesforce-person-account", "vip"),
    ]


def test_subscriptions_fire_subscribe_and_unsubscribe_with_the_list(api, activecampaign_webhooks):
    hook(api, activecampaign_webhooks.url, events=["subscribe", "unsubscribe"])
    contact = api.create_contact("ada@example.com")["id"]

    api.post("contactLists", {"contactList": {"list": "2", "contact": contact, "status": 1}})
    api.post("contactLists", {"contactList": {"list": "2", "contact": contact, "status": 2}})

    assert [(f["type"], f["list"]) for f in map(dict, activecampaign_webhooks.forms)] == [
        ("subscribe", "0"), ("subscribe", "2"), ("unsubscribe", "2"),
    ]


def test_a_hook_gets_only_its_events_sources_and_list(api, activecampaign_webhooks):
    hook(api, activecampaign_webhooks.url, events=["update"], sources=["admin"])
    hook(api, activecampaign_webhooks.url + "?list=1", events=["subscribe"], sources=["api"], listid=1)
    contact = api.create_contact("ada@example.com")["id"]

    api.put(f"contacts/{contact}", {"contact": {"firstName": "Ada"}})  # from the API: not the admin-only hook
    api.post("contactLists", {"contactList": {"list": "2", "contact": contact, "status": 1}})
    api.post("contactLists", {"contactList": {"list": "1", "contact": contact, "status": 1}})

    assert [(f["type"], f["list"]) for f in map(dict, activecampaign_webhooks.forms)] == [("subscribe", "1")]


def test_deleting_a_contact_fires_nothing_as_the_vendor_has_no_such_event(api, activecampaign_webhooks):
    hook(api, activecampaign_webhooks.url)
    contact = api.create_contact("ada@example.com")["id"]

    api.delete(f"contacts/{contact}")

    assert activecampaign_webhooks.types() == ["subscribe"]


def test_a_410_answer_turns_the_hook_inactive_and_it_sends_nothing_more(api, activecampaign_webhooks):
    created = hook(api, activecampaign_webhooks.url)
    activecampaign_webhooks.status = 410

    api.create_contact("ada@example.com")
    api.create_contact("grace@example.com")

    assert activecampaign_webhooks.types() == ["subscribe"]
    assert not AcWebhook.objects.get(url=activecampaign_webhooks.url).active
    assert [h["id"] for h in api.get("webhooks").json()["webhooks"]] == [created["id"]]  # it still lists
    assert list(AcWebhookDelivery.objects.values_list("status_code", flat=True)) == [410]


def test_every_delivery_is_recorded_with_its_url_type_and_answer(api, activecampaign_webhooks):
    hook(api, activecampaign_webhooks.url)
    hook(api, "http://127.0.0.1:9/unreachable")

    api.create_contact("ada@example.com")

    rows = AcWebhookDelivery.objects.order_by("id")
    assert [(d.url, d.event_type, d.state, d.status_code) for d in rows] == [
        (activecampaign_webhooks.url, "subscribe", "sent", 200), ("http://127.0.0.1:9/unreachable", "subscribe", "failed", None),
    ]
    assert "could not reach" in rows[1].error


def test_by_default_the_sandbox_delivers_from_its_own_thread(api, activecampaign_webhooks, monkeypatch):
    monkeypatch.setattr(webhooks.dispatcher, "mode", webhooks.dispatcher.BACKGROUND)
    hook(api, activecampaign_webhooks.url)

    api.create_contact("ada@example.com")

    assert activecampaign_webhooks.wait_for(1)
    assert activecampaign_webhooks.types() == ["subscribe"]


def test_in_manual_mode_deliveries_wait_for_deliver_pending(api, activecampaign_webhooks, monkeypatch):
    monkeypatch.setattr(webhooks.dispatcher, "mode", webhooks.dispatcher.MANUAL)
    hook(api, activecampaign_webhooks.url)

    api.create_contact("ada@example.com")
    waiting = list(AcWebhookDelivery.objects.values_list("state", flat=True))
    sent = webhooks.deliver_pending()

    assert waiting == ["pending"] and sent == 1 and activecampaign_webhooks.types() == ["subscribe"]
    assert webhooks.deliver_pending() == 0


def test_vendor_app_edits_are_delivered_as_admin(api, activecampaign_account, activecampaign_webhooks):
    hook(api, activecampaign_webhooks.url)
    contact = api.create_contact("ada@example.com", firstName="Ada")["id"]
    app = f"{activecampaign_account.app_url}/{contact}"

    with requests.Session() as browser:
        browser.post(app, data={"first_name": "Ada", "last_name": "Lovelace", "phone": "", "field-INDUSTRY": "Computing"})
        browser.post(f"{app}/tags", data={"tag": "added-to-salesforce-person-account"})

    forms = [dict(f) for f in activecampaign_webhooks.forms[1:]]
    assert [(f["type"], f["initiated_from"]) for f in forms] == [("update", "admin"), ("contact_tag_added", "admin")]
    assert forms[0]["contact[last_name]"] == "Lovelace" and forms[0]["contact[fields][industry]"] == "Computing"
    assert forms[1]["tag"] == "added-to-salesforce-person-account"
