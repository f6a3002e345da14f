"""Salesforce ids: the 18-character form with its case-safe suffix, and 15-character ids accepted."""
import pytest

from connectors.sandbox.salesforce import ids

pytestmark = pytest.mark.django_db(transaction=True, available_apps=["connectors.sandbox"])


def test_the_suffix_is_computed_as_salesforce_does():
    # "001Db": D at position 3, 8 -> I; "00000": 0 -> A; "0ABCD": positions 1-4, 30 -> 4.
    assert ids.to18("001Db000000ABCD") == "001Db000000ABCDIA4"
    assert ids.to18("003000000000000") == "003000000000000AAA"
    assert ids.to18("ZZZZZZZZZZZZZZZ") == "ZZZZZZZZZZZZZZZ555"


def test_a_15_character_id_is_accepted_everywhere_and_answered_in_18(sf):
    long_id = sf.Contact.create({"LastName": "Nowak"})["id"]
    short_id = long_id[:15]

    read = sf.Contact.get(short_id)
    sf.Contact.update(short_id, {"FirstName": "Anna"})
    by_soql = sf.query(f"SELECT Id, FirstName FROM Contact WHERE Id = '{short_id}'")["records"]
    by_in = sf.query(f"SELECT Id FROM Contact WHERE Id IN ('{short_id}')")["records"]
    retrieved = sf.restful("composite/sobjects/Contact", method="POST", json={"ids": [short_id], "fields": ["Id"]})
    deleted = sf.restful(f"composite/sobjects?ids={short_id}", method="DELETE")

    assert len(long_id) == 18 and long_id == ids.to18(long_id)
    assert read["Id"] == long_id
    assert [(r["Id"], r["FirstName"]) for r in by_soql] == [(long_id, "Anna")] and [r["Id"] for r in by_in] == [long_id]
    assert retrieved[0]["Id"] == long_id and deleted[0]["id"] == long_id
