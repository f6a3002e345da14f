"""Salesforce's timing quirks: the commit lag of SOQL, and one SystemModstamp per call."""
from datetime import datetime, timedelta, timezone

import pytest

from connectors.sandbox.models import SandboxRecord
from connectors.sandbox.salesforce import records

pytestmark = pytest.mark.django_db(transaction=True, available_apps=["connectors.sandbox"])

# Seed 2 draws lags of 3.84 s, 3.32 s, 3.30 s … out of at most 5 s.
LAGGING = {"commit_lag_seconds": 5, "commit_lag_seed": 2}


def changed_since(sf, stamp, *, all_rows=False):
    soql = f"SELECT Id, LastName FROM Contact WHERE SystemModstamp >= {stamp} ORDER BY SystemModstamp, Id"
    return [r["Id"] for r in (sf.query_all(soql, include_deleted=True) if all_rows else sf.query_all(soql))["records"]]


def test_writes_are_visible_to_soql_at_once_by_default(sf, visibility_clock):
    created = sf.Contact.create({"LastName": "Nowak"})
    stamp = sf.Contact.get(created["id"])["SystemModstamp"]

    assert changed_since(sf, stamp) == [created["id"]]


def test_a_lagging_write_reaches_soql_only_after_its_lag_though_reads_by_id_see_it(make_salesforce_org, make_sf,
                                                                                    visibility_clock):
    sf = make_sf(make_salesforce_org(**LAGGING))
    created = sf.Contact.create({"LastName": "Nowak"})
    record = sf.Contact.get(created["id"])
    retrieved = sf.restful("composite/sobjects/Contact", method="POST",
                           json={"ids": [created["id"]], "fields": ["Id", "LastName"]})

    hidden = (changed_since(sf, record["SystemModstamp"]), changed_since(sf, record["SystemModstamp"], all_rows=True))
    visibility_clock.advance(5)
    shown = changed_since(sf, record["SystemModstamp"])

    assert record["LastName"] == "Nowak" and retrieved[0]["LastName"] == "Nowak"
    assert hidden == ([], [])
    assert shown == [created["id"]]


def test_a_lagging_update_hides_the_record_from_soql_until_its_lag_has_passed(make_salesforce_org, make_sf,
                                                                                visibility_clock):
    sf = make_sf(make_salesforce_org(**LAGGING))
    created = sf.Contact.create({"LastName": "Nowak"})
    visibility_clock.advance(5)
    sf.Contact.update(created["id"], {"LastName": "Kowalski"})
    stamp = sf.Contact.get(created["id"])["SystemModstamp"]

    during = sf.query(f"SELECT Id FROM Contact WHERE Id = '{created['id']}'")["totalSize"]
    visibility_clock.advance(5)
    after = sf.query(f"SELECT LastName FROM Contact WHERE SystemModstamp >= {stamp}")["records"]

    assert during == 0
    assert [r["LastName"] for r in after] == ["Kowalski"]


def test_the_same_seed_lags_the_same_writes_alike(make_salesforce_org, make_sf, visibility_clock):
    def lags():
        sf = make_sf(make_salesforce_org(**LAGGING))
        made = [sf.Contact.create({"LastName": f"N{n}"})["id"] for n in range(4)]
        rows = SandboxRecord.objects.filter(record_id__in=made).order_by("number")
        return [row.visible_at - visibility_clock.at(row.system_modstamp) for row in rows]

    first, second = lags(), lags()

    assert first == second
    assert all(timedelta(0) <= lag <= timedelta(seconds=5) for lag in first) and len(set(first)) > 1


@pytest.fixture
def ticking_clock(monkeypatch):
    """Every moment the sandbox's records take is a millisecond after the last."""
    start = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
    ticks = iter(range(10_000))
    monkeypatch.setattr(records, "now", lambda: start + timedelta(milliseconds=next(ticks)))


def collection_stamps(sf, count=3):
    saved = sf.restful("composite/sobjects", method="POST", json={
        "allOrNone": True,
        "records": [{"attributes": {"type": "Contact"}, "LastName": f"Batch {n}"} for n in range(count)],
    })
    return {sf.Contact.get(r["id"])["SystemModstamp"] for r in saved}


def test_a_collection_stamps_each_record_as_it_is_written_by_default(sf, ticking_clock):
    assert len(collection_stamps(sf)) == 3


def test_one_instant_per_request_stamps_a_whole_collection_alike(make_salesforce_org, make_sf, ticking_clock):
    sf = make_sf(make_salesforce_org(one_instant_per_request=True))

    assert len(collection_stamps(sf, 5)) == 1


def test_seeded_records_of_one_object_share_one_system_modstamp(make_salesforce_org, make_sf):
    sf = make_sf(make_salesforce_org(records=300))

    contacts = sf.query_all("SELECT SystemModstamp FROM Contact")["records"]

    assert len(contacts) > 100 and len({c["SystemModstamp"] for c in contacts}) == 1
