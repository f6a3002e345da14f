"""A connection's bulk-read threshold (#15): the admin shows and saves it, and it reaches the
connector of a vendor that reads large change sets in bulk; other vendors ignore it."""
import pytest

from syncconfig.models import Connection
from syncconfig.services import connection_connector
from tests.factories import ConnectionFactory, UserFactory

pytestmark = pytest.mark.django_db

SALESFORCE = {"client_id": "id", "client_secret": "secret", "username": "integration@example.com", "password": "pw"}


def test_a_salesforce_connection_hands_its_threshold_to_the_connector():
    connection = ConnectionFactory(kind="salesforce", base_url="https://login.salesforce.com", credentials=SALESFORCE,
                                   bulk_read_from=25_000)

    assert connection_connector(connection).bulk_read_from == 25_000


def test_a_vendor_without_bulk_reads_ignores_the_threshold():
    connection = ConnectionFactory(bulk_read_from=5)  # ActiveCampaign

    assert connection_connector(connection).bulk_read_from is None


def test_the_admin_shows_the_threshold_and_saves_it_or_its_default(client):
    connection = ConnectionFactory()
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    page = client.get(f"/admin/syncconfig/connection/{connection.pk}/change/").content.decode()
    form = {"name": connection.name, "kind": "activecampaign", "base_url": connection.base_url, "is_active": "on", "api_key": ""}

    client.post(f"/admin/syncconfig/connection/{connection.pk}/change/", {**form, "bulk_read_from": "50000"})
    chosen = Connection.objects.get(pk=connection.pk).bulk_read_from
    client.post(f"/admin/syncconfig/connection/{connection.pk}/change/", {**form, "bulk_read_from": ""})

    assert 'name="bulk_read_from"' in page and "Bulk API 2.0 query job" in page
    assert (chosen, Connection.objects.get(pk=connection.pk).bulk_read_from) == (50_000, 10_000)
