"""The connector contract: the behaviours the engine relies on, run the same way against every
connector and its sandbox over HTTP. A new vendor's connector passes this suite first.

Each vendor is described once (``Vendor``): how to reach a fresh account, the object and a
valid record, a record the vendor refuses, the key it upserts by, how to make its calls fail
for a while, and how to revoke the credentials.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import pytest

from connectors.activecampaign import ActiveCampaignConnector
from connectors.base import AuthExpired, Connector, ConnectorError, parse_instant
from connectors.hubspot import HubSpotConnector
from connectors.salesforce import SalesforceConnector
from connectors.zoho_campaigns import ZohoCampaignsConnector
from connectors.zoho_crm import ZohoCrmConnector
from connectors.sandbox.activecampaign import accounts as ac_accounts
from connectors.sandbox.hubspot import accounts as hs_accounts
from connectors.sandbox.models.activecampaign import AcAccount
from connectors.sandbox.models.hubspot import HsAccount
from connectors.sandbox.models.zoho import ZcList, ZohoOrg
from connectors.sandbox.salesforce.orgs import org_get, org_set_faults
from connectors.sandbox.zoho import orgs as zoho_orgs
from connectors.sandbox.zoho.oauth import grant_revoke

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Vendor:
    connect: Callable[..., Connector]  # connect(**options) → a connector to a fresh account
    object: str
    record: Callable[[int], dict]  # record(n) → a valid new record
    refused: dict  # a record the vendor refuses, alone
    key: str  # the field it upserts by
    faults: Callable[[float], None]  # make about that share of calls fail passingly
    revoke: Callable[[], Connector]  # → a connector whose credentials are refused
    fields: tuple[str, ...]
    changeable: str  # a field to change a record by
    # Values pre-flight refuses from the vendor's own describe (field → value, each sent on an
    # otherwise valid record); the vendor refuses each too, so pre-flight spares calls only.
    bad_values: tuple[tuple[str, Any], ...] = ()


def _salesforce(make_salesforce_org) -> Vendor:
    facts = make_salesforce_org(name="Contract")
    credentials = {"client_id": facts.client_id, "client_secret": facts.client_secret,
                   "username": facts.username, "password": facts.password}

    def connect(**options):
        return SalesforceConnector(base_url=facts.instance_url, credentials=credentials, sleep=lambda s: None, **options)

    return Vendor(
        connect=connect, object="Contact", fields=("Email", "LastName", "External_Id__c"), changeable="LastName",
        record=lambda n: {"LastName": f"Lovelace{n}", "Email": f"ada{n}@example.com", "External_Id__c": f"c-{n}"},
        refused={"Email": "no-last-name@example.com", "External_Id__c": "c-refused"},  # LastName is required
        key="External_Id__c",
        bad_values=(("Email", "not-an-email"), ("Email", "jürgen@example.com"), ("Email", "ada@example"),
                    ("LastName", "L" * 81), ("Birthdate", "31/12/2024"), ("Birthdate", "2024-02-30"),
                    ("Email", "a" * 75 + "@example.com")),
        faults=lambda rate: org_set_faults(org_get(facts.org_id), error_rate=rate, seed_value=11),
        revoke=lambda: SalesforceConnector(base_url=facts.instance_url, credentials={**credentials, "password": "wrong"},
                                           sleep=lambda s: None),
    )


def _hubspot(make_hubspot_account) -> Vendor:
    facts = make_hubspot_account(name="Contract Hub")
    credentials = {"token": facts.token, "app_id": str(facts.app_id), "client_secret": facts.client_secret}

    def connect(**options):
        return HubSpotConnector(base_url=facts.base_url, credentials=credentials, sleep=lambda s: None, **options)

    def revoke():
        HsAccount.objects.filter(token=facts.token).update(token="rotated-" + facts.token)
        return connect()

    return Vendor(
        connect=connect, object="contacts", fields=("email", "lastname"), changeable="lastname",
        record=lambda n: {"email": f"ada{n}@example.com", "lastname": f"Lovelace{n}"},
        refused={"email": "ada.refused@example.com", "lastname": "Refused", "no_such_property": "x"},
        key="email",
        bad_values=(("lifecyclestage", "bogus"), ("lifecyclestage", "Lead")),
        faults=lambda rate: hs_accounts.account_set_faults(HsAccount.objects.get(token=facts.token), limit_rate=rate, seed_value=11),
        revoke=revoke,
    )


def _activecampaign(make_activecampaign_account) -> Vendor:
    facts = make_activecampaign_account(name="Contract AC")

    def connect(**options):
        return ActiveCampaignConnector(base_url=facts.api_url, credentials={"api_key": facts.api_key},
                                       sleep=lambda s: None, **options)

    def revoke():
        AcAccount.objects.filter(api_key=facts.api_key).update(api_key="revoked-" + facts.api_key)
        return connect()

    return Vendor(
        connect=connect, object="contact", fields=("email", "firstName"), changeable="firstName",
        record=lambda n: {"email": f"ada{n}@example.com", "firstName": f"Ada{n}"},
        refused={"email": "not an email", "firstName": "Refused"},
        key="email",
        bad_values=(("COMPANY_SIZE", "a few"), ("BIRTHDAY", "31/12/2024")),
        faults=lambda rate: ac_accounts.account_set_faults(AcAccount.objects.get(api_key=facts.api_key), limit_rate=rate,
                                                            seed_value=11),
        revoke=revoke,
    )


def _zoho_grant(facts) -> dict[str, str]:
    return {"accounts_url": facts.accounts_url, "client_id": facts.client_id, "client_secret": facts.client_secret,
            "refresh_token": facts.refresh_token}


def _zoho_faults(facts, rate: float) -> None:
    zoho_orgs.org_set_faults(ZohoOrg.objects.get(client_id=facts.client_id), limit_rate=rate, seed_value=11)


def _zoho_revoke(facts, connect) -> Connector:
    grant_revoke(ZohoOrg.objects.get(client_id=facts.client_id))
    return connect()


def _zoho_crm(make_zoho_org) -> Vendor:
    facts = make_zoho_org(name="Contract CRM")

    def connect(**options):
        return ZohoCrmConnector(base_url=facts.api_domain, credentials=_zoho_grant(facts), sleep=lambda s: None, **options)

    return Vendor(
        connect=connect, object="Contacts", fields=("Email", "Last_Name"), changeable="Last_Name",
        record=lambda n: {"Email": f"ada{n}@example.com", "Last_Name": f"Lovelace{n}"},
        refused={"Email": "no-last-name@example.com"},  # Last_Name is mandatory
        key="Email", faults=lambda rate: _zoho_faults(facts, rate), revoke=lambda: _zoho_revoke(facts, connect),
    )


def _zoho_campaigns(make_zoho_org) -> Vendor:
    facts = make_zoho_org(name="Contract Campaigns")
    listkey = ZcList.objects.get(org__client_id=facts.client_id).listkey

    def connect(**options):
        return ZohoCampaignsConnector(base_url=facts.campaigns_url, credentials=_zoho_grant(facts), sleep=lambda s: None,
                                      **options)

    return Vendor(
        connect=connect, object=listkey, fields=("Contact Email", "First Name"), changeable="First Name",
        record=lambda n: {"Contact Email": f"ada{n}@example.com", "First Name": f"Ada{n}"},
        refused={"Contact Email": "not an email", "First Name": "Refused"},
        key="Contact Email", faults=lambda rate: _zoho_faults(facts, rate), revoke=lambda: _zoho_revoke(facts, connect),
    )


@pytest.fixture(params=["salesforce", "hubspot", "activecampaign", "zoho_crm", "zoho_campaigns"])
def vendor(request) -> Vendor:
    maker = {"salesforce": (_salesforce, "make_salesforce_org"), "hubspot": (_hubspot, "make_hubspot_account"),
             "activecampaign": (_activecampaign, "make_activecampaign_account"),
             "zoho_crm": (_zoho_crm, "make_zoho_org"), "zoho_campaigns": (_zoho_campaigns, "make_zoho_org")}[request.param]
    return maker[0](request.getfixturevalue(maker[1]))


def read_all(connector: Connector, vendor: Vendor, since: str | None = None) -> list[Any]:
    return [record for page in connector.changes(vendor.object, since, list(vendor.fields)) for record in page]


def upsert(connector: Connector, vendor: Vendor, records: list[dict]):
    results = connector.upsert(vendor.object, records, key=vendor.key)
    assert len(results) == len(records)
    return results


# --- the contract ---------------------------------------------------------------------------------
def test_changes_reads_every_record_once_oldest_first(vendor):
    connector = vendor.connect()
    made = [r.id for r in upsert(connector, vendor, [vendor.record(n) for n in range(7)])]
    read = read_all(connector, vendor)
    assert sorted(r.id for r in read) == sorted(made)
    stamps = [parse_instant(r.modified_at) for r in read]
    assert stamps == sorted(stamps)


def test_a_read_resumed_from_its_settled_watermark_returns_what_changed_since(vendor):
    connector = vendor.connect()
    made = [r.id for r in upsert(connector, vendor, [vendor.record(n) for n in range(5)])]
    read = read_all(connector, vendor)
    # Long after the read (past any read lag), the watermark is exact.
    watermark = connector.settled_watermark(read[-1], "", datetime.now(timezone.utc) + timedelta(hours=1), exhausted=True)
    time.sleep(1.1)  # into the next second, for vendors that stamp whole seconds
    changed = vendor.record(2) | {vendor.changeable: "Changed"}
    upsert(connector, vendor, [changed])
    again = read_all(connector, vendor, watermark)
    assert made[2] in {r.id for r in again}
    # Besides what changed, at most the records of the watermark's own instant come again.
    last = parse_instant(read[-1].modified_at).replace(microsecond=0)
    assert all(parse_instant(r.modified_at).replace(microsecond=0) == last for r in again if r.id != made[2])


def test_the_account_lists_the_object_a_sync_uses_among_its_objects_with_a_label(vendor):
    listed = vendor.connect().objects()
    assert vendor.object in [o.name for o in listed]
    assert all(o.label for o in listed)


def test_upsert_is_idempotent(vendor):
    connector = vendor.connect()
    records = [vendor.record(n) for n in range(3)]
    first, again = upsert(connector, vendor, records), upsert(connector, vendor, records)
    assert all(r.ok for r in first + again)
    assert [r.id for r in first] == [r.id for r in again]
    assert all(r.created is not True for r in again)
    assert len(read_all(connector, vendor)) == 3


def test_a_refused_record_fails_alone_with_its_reason(vendor):
    connector = vendor.connect()
    results = upsert(connector, vendor, [vendor.record(1), vendor.refused, vendor.record(2)])
    assert [r.ok for r in results] == [True, False, True]
    error = results[1].error
    assert isinstance(error, ConnectorError) and error.message and not error.retriable
    assert len(read_all(connector, vendor)) == 2


def test_what_pre_flight_refuses_from_the_vendors_describe_the_vendor_refuses_too(vendor):
    from syncconfig import preflight

    connector = vendor.connect()
    description = connector.describe(vendor.object) if vendor.bad_values else None
    for n, (field, value) in enumerate(vendor.bad_values):
        record = {**vendor.record(100 + n), field: value}
        problems = preflight.record_problems(description, record, creating=True, ascii_email_only=connector.ascii_email_only)
        assert [p.field for p in problems] == [field], (field, value)
        [result] = upsert(connector, vendor, [record])
        assert not result.ok, f"{connector.label} took {field}={value!r}, which pre-flight refuses"


def test_passing_faults_are_retried_with_back_off_and_lose_nothing(vendor):
    connector = vendor.connect(max_retries=10)
    vendor.faults(0.3)
    results = [result for n in range(8) for result in upsert(connector, vendor, [vendor.record(n)])]
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    assert len(read_all(connector, vendor)) == 8
    calls = connector.api_calls
    vendor.faults(0.0)
    quiet = vendor.connect()
    for n in range(8):
        upsert(quiet, vendor, [vendor.record(n)])
    read_all(quiet, vendor)
    assert calls > quiet.api_calls  # the refused calls were made again


def test_refused_credentials_raise_auth_expired_with_a_message_that_names_no_secret(vendor):
    connector = vendor.revoke()
    with pytest.raises(AuthExpired) as raised:
        connector.check()
    assert raised.value.message
    for secret in connector.credentials.values():
        if len(secret) > 6:
            assert secret not in raised.value.message


def test_every_connector_declares_its_write_batch_and_says_what_it_cannot_do(vendor):
    from connectors.base import NotSupported

    connector = vendor.connect()
    assert 1 <= connector.write_batch_size <= 250
    for operation, args in (("deleted", (vendor.object, "2026-01-01T00:00:00Z")), ("merged_into", (vendor.object, [])),
                            ("activity_counts", ([],)), ("add_tags", ("1", [])), ("webhook_register", ("http://127.0.0.1/h",))):
        try:
            getattr(connector, operation)(*args)
        except NotSupported as exc:
            assert connector.label in exc.message  # said plainly, not an AttributeError
        except ConnectorError:
            pass  # supported, and refused for these made-up arguments
