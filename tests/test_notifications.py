"""Change notifications and captures from outside: no secret in any address or log line,
only genuine deliveries start runs (HubSpot's v3 signature, Zoho's channel token, the
connection's secret as basic authentication), bounded bodies."""
import json
import logging
import time

import pytest
import requests
from django.conf import settings

from connectors.lemontaps import MAX_BODY_BYTES
from connectors.sandbox.hubspot.webhooks import signature_v3
from connectors.zoho_crm import ZohoCrmConnector
from syncconfig import notifications, services
from syncconfig.models import Sync, SyncRun
from tests.factories import ConnectionFactory, SyncFactory

pytestmark = pytest.mark.django_db

SECRET = "s3cret-value-never-logged"
APP_SECRET = "hubspot-app-client-secret-1234"


@pytest.fixture(autouse=True)
def no_workers(monkeypatch):
    monkeypatch.setattr("syncconfig.tasks.execute_run.delay", lambda run_id: None)


def immediate_sync(**source):
    return SyncFactory(trigger=Sync.Trigger.IMMEDIATE, enabled=True, source__webhook_secret=SECRET,
                       **{f"source__{k}": v for k, v in source.items()})


def hubspot_sync():
    return immediate_sync(kind="hubspot", base_url="https://api.hubapi.com",
                          credentials={"token": "pat-eu1-token", "app_id": "1234567", "client_secret": APP_SECRET})


def signed(path, body, *, secret=APP_SECRET, age_ms=0):
    """The headers the HubSpot sandbox sends with a delivery to ``path``, signed at ``age_ms`` ago."""
    timestamp = str(int(time.time() * 1000) - age_ms)
    return {"HTTP_X_HUBSPOT_SIGNATURE_V3": signature_v3(secret, "POST", f"{settings.PORTAL_URL}{path}", body, timestamp),
            "HTTP_X_HUBSPOT_REQUEST_TIMESTAMP": timestamp}


def runs_started():
    return SyncRun.objects.filter(trigger=SyncRun.Trigger.IMMEDIATE).count()


# --- ActiveCampaign (no signature): the secret as basic authentication --------------------------
def test_co3_the_registered_address_holds_no_secret_in_its_path_and_a_vendor_post_to_it_starts_one_run(client):
    sync = immediate_sync()
    registered = services.connection_webhook_url(sync.source)
    # What an HTTP client (the vendor's, the sandbox's) sends for that address.
    prepared = requests.Request("POST", registered, data={"type": "update", "contact[id]": "1"}).prepare()
    path = requests.utils.urlparse(prepared.url).path

    response = client.post(path, prepared.body, content_type=prepared.headers["Content-Type"],
                           HTTP_AUTHORIZATION=prepared.headers["Authorization"])

    assert path == f"/hooks/{sync.source_id}/"  # what the request line (and so an access log) shows
    assert response.status_code == 202 and runs_started() == 1


@pytest.mark.parametrize("authorization", ["", "Basic " + "cG9ydGFsOndyb25n", "Bearer " + SECRET, "Basic ###"])
def test_a_notification_without_the_connections_secret_is_refused_with_401_and_starts_nothing(client, authorization):
    sync = immediate_sync()
    extra = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = client.post(f"/hooks/{sync.source_id}/", {"type": "update"}, **extra)
    assert response.status_code == 401 and runs_started() == 0


def test_an_unknown_or_inactive_connection_is_refused_like_a_wrong_secret(client):
    inactive = immediate_sync(is_active=False)
    assert client.post("/hooks/999999/").status_code == 401
    assert client.post(f"/hooks/{inactive.source_id}/").status_code == 401
    assert runs_started() == 0


def test_the_old_address_with_the_secret_in_its_path_is_refused_and_logged_without_the_secret(client, caplog):
    sync = immediate_sync()
    with caplog.at_level(logging.INFO):
        response = client.post(f"/hooks/{sync.source_id}/{SECRET}/", {"type": "update"})
    assert response.status_code == 410 and "Register the connection's notifications again" in response.json()["error"]
    assert runs_started() == 0
    assert len(caplog.records) == 1 and SECRET not in caplog.text


def test_only_posts_are_taken(client):
    sync = immediate_sync()
    assert client.get(f"/hooks/{sync.source_id}/").status_code == 405


# --- HubSpot: the v3 signature -------------------------------------------------------------------
def test_a_hubspot_delivery_signed_as_the_sandbox_signs_it_starts_one_run(client):
    sync = hubspot_sync()
    path = f"/hooks/{sync.source_id}/"
    body = json.dumps([{"eventId": 1, "subscriptionType": "contact.creation", "objectId": 51}]).encode()
    response = client.post(path, body, content_type="application/json", **signed(path, body))
    assert response.status_code == 202 and runs_started() == 1
    assert services.connection_webhook_url(sync.source) == f"{settings.PORTAL_URL}{path}"  # nothing secret in it


@pytest.mark.parametrize("case", ["unsigned", "wrong secret", "altered body", "replayed after six minutes", "other address"])
def test_a_hubspot_delivery_not_genuine_gets_401_and_one_log_line_without_any_secret(client, caplog, case):
    sync = hubspot_sync()
    path = f"/hooks/{sync.source_id}/"
    body = json.dumps([{"eventId": 1, "subscriptionType": "contact.deletion", "objectId": 51}]).encode()
    headers = {
        "unsigned": {},
        "wrong secret": signed(path, body, secret="not-the-app-secret"),
        "altered body": signed(path, body.replace(b"51", b"52")),
        "replayed after six minutes": signed(path, body, age_ms=6 * 60 * 1000),
        "other address": signed("/hooks/999/", body),
    }[case]
    with caplog.at_level(logging.INFO):
        response = client.post(path, body, content_type="application/json", **headers)
    assert response.status_code == 401 and runs_started() == 0
    assert len(caplog.records) == 1 and caplog.records[0].levelno == logging.WARNING
    assert APP_SECRET not in caplog.text and SECRET not in caplog.text and APP_SECRET not in response.content.decode()


def test_a_hubspot_delivery_signed_but_not_json_gets_400(client):
    sync = hubspot_sync()
    path = f"/hooks/{sync.source_id}/"
    body = b"{not json"
    assert client.post(path, body, content_type="application/json", **signed(path, body)).status_code == 400


def test_a_hubspot_connection_without_its_app_secret_refuses_every_delivery(client):
    sync = immediate_sync(kind="hubspot", base_url="https://api.hubapi.com", credentials={"token": "pat-eu1-token"})
    path = f"/hooks/{sync.source_id}/"
    response = client.post(path, b"[]", content_type="application/json", **signed(path, b"[]"))
    assert response.status_code == 401 and "client secret" in response.json()["error"]


# --- Zoho CRM: the channel token -------------------------------------------------------------------
def test_a_zoho_notification_needs_its_channels_token(client):
    credentials = {"client_id": "1000.ABC", "client_secret": "zoho-client-secret", "refresh_token": "1000.r"}
    sync = immediate_sync(kind="zoho_crm", base_url="https://www.zohoapis.com", credentials=credentials)
    path = f"/hooks/{sync.source_id}/"
    url = services.connection_webhook_url(sync.source)
    token = ZohoCrmConnector(base_url="https://www.zohoapis.com", credentials=credentials).webhook_token(url)

    def post(token):
        body = {"operation": "update", "module": "Contacts", "ids": ["1"], "token": token}
        return client.post(path, json.dumps(body), content_type="application/json")

    assert url == f"{settings.PORTAL_URL}{path}"
    assert post("forged").status_code == 401 and runs_started() == 0
    assert post(token).status_code == 202 and runs_started() == 1


# --- body limits -----------------------------------------------------------------------------------
def test_a_notification_over_the_limit_gets_413_before_anything_else(client):
    sync = hubspot_sync()
    body = b"[" + b" " * notifications.MAX_NOTIFICATION_BYTES + b"]"
    response = client.post(f"/hooks/{sync.source_id}/", body, content_type="application/json")
    assert response.status_code == 413 and "limit" in response.json()["error"]
    assert runs_started() == 0


def test_a_capture_over_the_limit_gets_413(client):
    connection = ConnectionFactory(kind="lemontaps", base_url="", credentials={}, webhook_secret=SECRET)
    body = json.dumps({"email": "a@example.com", "notes": "x" * MAX_BODY_BYTES})
    response = client.post(f"/captures/{connection.pk}/", body, content_type="application/json", HTTP_X_CAPTURE_SECRET=SECRET)
    assert response.status_code == 413 and response.json()["field"] == "body"
