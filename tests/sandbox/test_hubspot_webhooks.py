"""The HubSpot sandbox's webhooks: the app's settings and subscriptions over the official
client, signed JSON deliveries after API and app changes, retries until delivered."""
import base64
import hashlib
import hmac
import json
from datetime import timedelta

import pytest
import requests
from hubspot.crm.contacts import PublicMergeInput, SimplePublicObjectInput, SimplePublicObjectInputForCreate
from hubspot.webhooks import ApiException as WebhooksApiException
from hubspot.webhooks import SettingsChangeRequest, SubscriptionCreateRequest, ThrottlingSettings

from connectors.sandbox.hubspot import webhooks
from connectors.sandbox.hubspot.dates import now
from connectors.sandbox.models.hubspot import HsWebhookEvent

pytestmark = pytest.mark.django_db(transaction=True, available_apps=["connectors.sandbox"])


@pytest.fixture
def facts(hubspot_account):
    return hubspot_account


@pytest.fixture
def client(hubspot_client, facts):
    return hubspot_client(facts)


def subscribe(client, facts, url, *, properties=("email", "firstname")):
    auth = {"Authorization": f"Bearer {facts.token}"}
    client.webhooks.settings_api.configure(facts.app_id, SettingsChangeRequest(
        target_url=url, throttling=ThrottlingSettings(max_concurrent_requests=10)), _headers=auth)
    made = [client.webhooks.subscriptions_api.create(facts.app_id, SubscriptionCreateRequest(event_type=t, active=True), _headers=auth)
            for t in ("contact.creation", "contact.deletion", "contact.merge")]
    made += [client.webhooks.subscriptions_api.create(facts.app_id, SubscriptionCreateRequest(
        event_type="contact.propertyChange", property_name=name, active=True), _headers=auth) for name in properties]
    return made


def create(client, **properties):
    return client.crm.contacts.basic_api.create(SimplePublicObjectInputForCreate(properties=properties))


def test_settings_and_subscriptions_are_set_read_and_deleted(client, facts):
    auth = {"Authorization": f"Bearer {facts.token}"}
    made = subscribe(client, facts, "https://portal.example/hooks/1")

    settings = client.webhooks.settings_api.get_all(facts.app_id, _headers=auth)
    listed = client.webhooks.subscriptions_api.get_all(facts.app_id, _headers=auth).results
    client.webhooks.subscriptions_api.archive(int(made[0].id), facts.app_id, _headers=auth)

    assert settings.target_url == "https://portal.example/hooks/1" and settings.throttling.max_concurrent_requests == 10
    assert [(s.event_type, s.property_name) for s in listed] == [
        ("contact.creation", None), ("contact.deletion", None), ("contact.merge", None),
        ("contact.propertyChange", "email"), ("contact.propertyChange", "firstname")]
    assert len(client.webhooks.subscriptions_api.get_all(facts.app_id, _headers=auth).results) == 4


def test_property_change_subscriptions_need_a_known_property_and_another_app_is_not_found(client, facts):
    auth = {"Authorization": f"Bearer {facts.token}"}
    with pytest.raises(WebhooksApiException) as nameless:
        client.webhooks.subscriptions_api.create(facts.app_id, SubscriptionCreateRequest(
            event_type="contact.propertyChange", active=True), _headers=auth)
    with pytest.raises(WebhooksApiException) as other_app:
        client.webhooks.subscriptions_api.get_all(facts.app_id + 1, _headers=auth)
    with pytest.raises(WebhooksApiException) as no_token:
        client.webhooks.subscriptions_api.get_all(facts.app_id)

    assert (nameless.value.status, other_app.value.status, no_token.value.status) == (400, 404, 401)


def test_changes_are_posted_as_signed_json_arrays(client, facts, hubspot_webhooks):
    subscribe(client, facts, hubspot_webhooks.url)

    ada = create(client, email="ada@example.com", firstname="Ada", lastname="Lovelace")
    client.crm.contacts.basic_api.update(ada.id, SimplePublicObjectInput(properties={"firstname": "Augusta", "city": "London"}))
    client.crm.contacts.basic_api.archive(ada.id)

    assert len(hubspot_webhooks.posts) == 3
    events = hubspot_webhooks.events()
    assert [(e["subscriptionType"], e.get("propertyName"), e.get("propertyValue")) for e in events] == [
        ("contact.creation", None, None), ("contact.propertyChange", "email", "ada@example.com"),
        ("contact.propertyChange", "firstname", "Ada"), ("contact.propertyChange", "firstname", "Augusta"),
        ("contact.deletion", None, None)]
    first = events[0]
    assert {k: first[k] for k in ("objectId", "portalId", "appId", "attemptNumber", "changeSource")} == {
        "objectId": int(ada.id), "portalId": facts.portal_id, "appId": facts.app_id, "attemptNumber": 0,
        "changeSource": "INTEGRATION"}
    assert len({e["eventId"] for e in events}) == 5 and isinstance(first["occurredAt"], int)
    headers, body = hubspot_webhooks.posts[0]
    timestamp = headers["X-HubSpot-Request-Timestamp"]
    expected = base64.b64encode(hmac.new(facts.client_secret.encode(), b"POST" + hubspot_webhooks.url.encode() + body
                                         + timestamp.encode(), hashlib.sha256).digest()).decode()
    assert headers["X-HubSpot-Signature-v3"] == expected and headers["Content-Type"] == "application/json"


def test_a_merge_event_names_the_primary_and_the_merged_ids(client, facts, hubspot_webhooks):
    primary, other = create(client, email="a@example.com"), create(client, email="b@example.com")
    subscribe(client, facts, hubspot_webhooks.url, properties=())

    merged = client.crm.contacts.basic_api.merge(PublicMergeInput(primary_object_id=primary.id, object_id_to_merge=other.id))

    (event,) = hubspot_webhooks.events()
    assert {k: event[k] for k in ("subscriptionType", "objectId", "primaryObjectId", "mergedObjectIds", "newObjectId")} == {
        "subscriptionType": "contact.merge", "objectId": int(merged.id), "primaryObjectId": int(primary.id),
        "mergedObjectIds": [int(other.id)], "newObjectId": int(merged.id)}


def test_a_failed_delivery_is_retried_later_with_its_attempt_number(client, facts, hubspot_webhooks, monkeypatch):
    monkeypatch.setattr(webhooks.dispatcher, "mode", webhooks.dispatcher.MANUAL)
    subscribe(client, facts, hubspot_webhooks.url, properties=())
    create(client, email="ada@example.com")
    hubspot_webhooks.status = 503

    webhooks.deliver_pending()
    not_yet = webhooks.deliver_pending()
    hubspot_webhooks.status = 200
    webhooks.deliver_pending(at=now() + timedelta(seconds=webhooks.RETRY_BASE_SECONDS + 1))

    assert not_yet == 0 and len(hubspot_webhooks.posts) == 2
    assert [json.loads(body)[0]["attemptNumber"] for _, body in hubspot_webhooks.posts] == [0, 1]
    assert HsWebhookEvent.objects.get().state == HsWebhookEvent.SENT


def test_a_4xx_answer_is_not_retried(client, facts, hubspot_webhooks, monkeypatch):
    monkeypatch.setattr(webhooks.dispatcher, "mode", webhooks.dispatcher.MANUAL)
    subscribe(client, facts, hubspot_webhooks.url, properties=())
    create(client, email="ada@example.com")
    hubspot_webhooks.status = 400

    webhooks.deliver_pending()

    event = HsWebhookEvent.objects.get()
    assert (event.state, event.attempts, event.last_status) == (HsWebhookEvent.FAILED, 1, 400)


def test_at_most_100_events_go_in_one_post(client, facts, hubspot_webhooks, monkeypatch):
    from hubspot.crm.contacts import BatchInputSimplePublicObjectBatchInputForCreate, SimplePublicObjectBatchInputForCreate

    monkeypatch.setattr(webhooks.dispatcher, "mode", webhooks.dispatcher.MANUAL)
    subscribe(client, facts, hubspot_webhooks.url, properties=())
    for start in (0, 100):
        client.crm.contacts.batch_api.create(BatchInputSimplePublicObjectBatchInputForCreate(inputs=[
            SimplePublicObjectBatchInputForCreate(properties={"email": f"p{n}@example.com"}) for n in range(start, start + 60)]))

    webhooks.deliver_pending()

    assert [len(json.loads(body)) for _, body in hubspot_webhooks.posts] == [100, 20]


def test_background_delivery_arrives_without_anyone_waiting(client, facts, hubspot_webhooks, monkeypatch):
    monkeypatch.setattr(webhooks.dispatcher, "mode", webhooks.dispatcher.BACKGROUND)
    subscribe(client, facts, hubspot_webhooks.url, properties=())

    create(client, email="ada@example.com")

    assert hubspot_webhooks.wait_for(1) and hubspot_webhooks.events()[0]["subscriptionType"] == "contact.creation"


def test_nothing_is_recorded_without_a_target_url(client, facts):
    create(client, email="ada@example.com")

    assert not HsWebhookEvent.objects.exists()
    assert requests.get(f"{facts.base_url}/webhooks/v3/{facts.app_id}/settings",
                        headers={"Authorization": f"Bearer {facts.token}"}, timeout=10).status_code == 404
