"""The Zoho CRM sandbox's records API over plain HTTP: record shapes, paging by page and
past 2,000 records by page_token, If-Modified-Since (304) and 204, per-record codes of
writes, upsert by duplicate_check_fields, deleted records, search and COQL."""
import time

import pytest

from connectors.sandbox.models.zoho import ZohoOrg, ZohoRecord

pytestmark = pytest.mark.django_db(transaction=True, available_apps=["connectors.sandbox"])


@pytest.fixture
def api(zoho_api, zoho_org):
    return zoho_api(zoho_org)


def test_an_inserted_contact_reads_back_in_zohos_shape(api):
    [record_id] = api.insert("Contacts", {"Last_Name": "Lovelace", "First_Name": "Ada", "Email": "ada@example.com"})

    response = api.crm("GET", f"Contacts/{record_id}")

    record = response.json()["data"][0]
    assert record["id"] == record_id and record_id.isdigit() and len(record_id) >= 16
    assert record["Email"] == "ada@example.com" and record["Email_Opt_Out"] is False
    assert set(record["Owner"]) == {"name", "id", "email"}
    assert record["Modified_Time"].endswith("+05:30") and len(record["Modified_Time"]) == 25  # whole seconds
