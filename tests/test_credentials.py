"""Connection credentials are encrypted at rest and never shown back (CO-1)."""
import pytest
from cryptography.fernet import Fernet
from django.db import connection as db
from django.test import override_settings

from syncconfig import credentials as crypto
from syncconfig.models import Connection
from syncconfig.services import connection_set_credentials, credentials_rotate
from tests.factories import ConnectionFactory, UserFactory

pytestmark = pytest.mark.django_db
SECRET = "ac-secret-key-1234567890"


def test_co1_it_stores_no_plaintext_credential_in_the_raw_table():
    conn = ConnectionFactory(credentials={"api_key": SECRET})
    with db.cursor() as cursor:
        cursor.execute("SELECT * FROM syncconfig_connection WHERE id = %s", [conn.pk])
        raw = " ".join(str(value) for value in cursor.fetchone())
    assert SECRET not in raw
    assert Connection.objects.get(pk=conn.pk).credentials == {"api_key": SECRET}


def test_it_keeps_stored_secrets_when_the_new_value_is_blank():
    conn = ConnectionFactory(credentials={"api_key": SECRET})
    connection_set_credentials(connection=conn, values={"api_key": ""})
    assert conn.credentials == {"api_key": SECRET}
    connection_set_credentials(connection=conn, values={"api_key": "new-key"})
    assert conn.credentials == {"api_key": "new-key"}


def test_it_rotates_to_a_new_primary_key_and_then_reads_without_the_old_one(settings):
    conn = ConnectionFactory(credentials={"api_key": SECRET})
    old_key = settings.CREDENTIALS_KEYS[0]
    new_key = Fernet.generate_key().decode()
    with override_settings(CREDENTIALS_KEYS=[new_key, old_key]):
        assert credentials_rotate() == 1
    with override_settings(CREDENTIALS_KEYS=[new_key]):
        assert Connection.objects.get(pk=conn.pk).credentials == {"api_key": SECRET}


def test_it_says_clearly_when_the_key_that_wrote_credentials_is_gone():
    conn = ConnectionFactory(credentials={"api_key": SECRET})
    with override_settings(CREDENTIALS_KEYS=[Fernet.generate_key().decode()]):
        with pytest.raises(crypto.CredentialsUnreadable, match="rotate_credentials"):
            Connection.objects.get(pk=conn.pk).credentials


def test_co1_the_admin_never_renders_a_stored_secret(client):
    conn = ConnectionFactory(credentials={"api_key": SECRET})
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    page = client.get(f"/admin/syncconfig/connection/{conn.pk}/change/").content.decode()
    assert SECRET not in page
    assert conn.credentials_encrypted not in page
    assert "Stored (encrypted). Leave blank to keep it" in page


def test_saving_the_admin_form_with_a_blank_secret_keeps_it(client):
    conn = ConnectionFactory(credentials={"api_key": SECRET})
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    response = client.post(
        f"/admin/syncconfig/connection/{conn.pk}/change/",
        {"name": "Renamed", "kind": "activecampaign", "base_url": conn.base_url, "is_active": "on", "api_key": ""},
    )
    assert response.status_code == 302
    conn.refresh_from_db()
    assert (conn.name, conn.credentials) == ("Renamed", {"api_key": SECRET})


def test_the_admin_form_asks_for_each_credential_the_vendor_needs(client):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    response = client.post(
        "/admin/syncconfig/connection/add/",
        {"name": "Org", "kind": "salesforce", "base_url": "https://login.salesforce.com", "is_active": "on", "client_id": "abc"},
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"client_secret", "username", "password"}
    assert errors["password"] == ["Salesforce needs a password."]
    assert not Connection.objects.exists()


def test_co1_stored_secrets_are_never_sent_to_a_new_host(client):
    conn = ConnectionFactory(credentials={"api_key": SECRET})
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    form = {"name": conn.name, "kind": "activecampaign", "base_url": "https://attacker.example", "is_active": "on", "api_key": ""}
    response = client.post(f"/admin/syncconfig/connection/{conn.pk}/change/", form)
    assert response.context["adminform"].form.errors["api_key"] == ["The base URL points at another host: type the api key again."]
    conn.refresh_from_db()
    assert conn.base_url == "https://example.api-us1.com"
    client.post(f"/admin/syncconfig/connection/{conn.pk}/change/", {**form, "api_key": "a-new-key"})
    conn.refresh_from_db()
    assert (conn.base_url, conn.credentials) == ("https://attacker.example", {"api_key": "a-new-key"})
