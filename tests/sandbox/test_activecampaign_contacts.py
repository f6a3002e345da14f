"""The ActiveCampaign sandbox's auth and contacts, over HTTP, as a client sees them."""
import re
from datetime import datetime, timezone

import pytest

from connectors.sandbox.models.activecampaign import AcContact

pytestmark = pytest.mark.django_db(transaction=True, available_apps=["connectors.sandbox"])

ACCOUNT_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-05:00$")


@pytest.fixture
def api(activecampaign_api, activecampaign_account):
    return activecampaign_api(activecampaign_account)


def test_a_missing_or_wrong_api_token_is_refused_with_403(activecampaign_api, activecampaign_account):
    wrong = activecampaign_api(activecampaign_account, api_key="not-the-key").get("contacts")
    missing = activecampaign_api(activecampaign_account, api_key="").get("contacts")

    assert wrong.status_code == missing.status_code == 403
    assert wrong.json() == {"message": "You are not authorized to access this resource"}


def test_a_key_of_another_account_is_refused(activecampaign_api, make_activecampaign_account):
    first, second = make_activecampaign_account(), make_activecampaign_account()

    assert activecampaign_api(first, api_key=second.api_key).get("contacts").status_code == 403


def test_users_me_names_the_key_owner(api):
    user = api.get("users/me").json()["user"]

    assert user["id"] == "1" and user["username"] == "admin"


def test_creating_a_contact_answers_201_with_string_ids_and_account_dates(api):
    response = api.post("contacts", {"contact": {
        "email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace", "phone": "+44 20 1234567",
        "fieldValues": [{"field": "1", "value": "11-50"}, {"field": "2", "value": "Software"}],
    }})

    body = response.json()
    contact = body["contact"]
    assert response.status_code == 201
    assert contact["id"] == "1" and contact["email"] == "ada@example.com" and contact["firstName"] == "Ada"
    assert ACCOUNT_DATE.match(contact["cdate"]) and contact["udate"] == contact["cdate"]
    assert contact["links"]["fieldValues"].endswith("/api/3/contacts/1/fieldValues")
    assert [(v["field"], v["value"], v["contact"]) for v in body["fieldValues"]] == [("1", "11-50", "1"), ("2", "Software", "1")]
    assert contact["fieldValues"] == [v["id"] for v in body["fieldValues"]]


def test_ids_count_per_account(make_activecampaign_account, activecampaign_api):
    first, second = (activecampaign_api(make_activecampaign_account()) for _ in range(2))

    ids = [first.create_contact("a@example.com")["id"], first.create_contact("b@example.com")["id"],
           second.create_contact("a@example.com")["id"]]

    assert ids == ["1", "2", "1"]


def test_a_second_contact_with_the_same_email_in_any_case_is_a_documented_422(api):
    api.create_contact("ada@example.com")

    response = api.post("contacts", {"contact": {"email": "ADA@Example.com"}})

    assert response.status_code == 422
    assert response.json() == {"errors": [{
        "title": "Email address already exists in the system.", "detail": "", "code": "duplicate",
        "source": {"pointer": "/data/attributes/email"},
    }]}


@pytest.mark.parametrize("contact, code", [({"firstName": "Ada"}, "field_missing"), ({"email": "not-an-email"}, "email_invalid")])
def test_a_contact_without_a_valid_email_is_refused_with_the_error_envelope(api, contact, code):
    response = api.post("contacts", {"contact": contact})

    error = response.json()["errors"][0]
    assert response.status_code == 422
    assert error["code"] == code and error["source"] == {"pointer": "/data/attributes/email"} and error["title"]


def test_a_value_outside_a_dropdowns_options_points_at_the_field_value(api):
    response = api.post("contacts", {"contact": {"email": "ada@example.com", "fieldValues": [
        {"field": "2", "value": "Software"}, {"field": "1", "value": "huge"}]}})

    assert response.status_code == 422
    assert response.json()["errors"][0]["source"]["pointer"] == "/data/attributes/fieldValues/1/value"
    assert api.get("contacts").json()["meta"]["total"] == "0"


def test_contact_sync_creates_then_updates_the_same_contact(api):
    first = api.post("contact/sync", {"contact": {"email": "ada@example.com", "firstName": "Ada"}})
    again = api.post("contact/sync", {"contact": {"email": "Ada@Example.com", "lastName": "Lovelace"}})

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["contact"]["id"] == again.json()["contact"]["id"]
    contact = api.get(f"contacts/{first.json()['contact']['id']}").json()["contact"]
    assert (contact["email"], contact["firstName"], contact["lastName"]) == ("ada@example.com", "Ada", "Lovelace")
    assert api.get("contacts").json()["meta"]["total"] == "1"


def test_getting_a_contact_sideloads_its_related_objects(api):
    contact_id = api.create_contact("ada@example.com", fieldValues=[{"field": "3", "value": "1815-12-10"}])["id"]
    api.post("contactLists", {"contactList": {"list": "1", "contact": contact_id, "status": 1}})
    api.post("contactAutomations", {"contactAutomation": {"contact": contact_id, "automation": "1"}})

    body = api.get(f"contacts/{contact_id}").json()

    assert set(body) == {"contactAutomations", "contactLists", "deals", "fieldValues", "geoAddresses", "geoIps", "contact"}
    assert [v["value"] for v in body["fieldValues"]] == ["1815-12-10"]
    assert [(r["list"], r["status"]) for r in body["contactLists"]] == [("1", "1")]
    assert [r["automation"] for r in body["contactAutomations"]] == ["1"]
    assert body["contact"]["contactLists"] == [body["contactLists"][0]["id"]]


def test_an_unknown_contact_is_the_documented_404(api):
    for response in (api.get("contacts/999"), api.put("contacts/999", {"contact": {"firstName": "X"}}), api.delete("contacts/999")):
        assert response.status_code == 404
        assert response.json() == {"message": "No Result found for Contact with id 999"}


def test_updating_changes_only_the_fields_sent_and_moves_udate_only_on_change(api):
    contact = api.create_contact("ada@example.com", firstName="Ada", lastName="Byron")

    same = api.put(f"contacts/{contact['id']}", {"contact": {"firstName": "Ada"}}).json()["contact"]
    changed = api.put(f"contacts/{contact['id']}", {"contact": {"lastName": "Lovelace"}}).json()["contact"]

    assert same["udate"] == contact["udate"]
    assert (changed["firstName"], changed["lastName"]) == ("Ada", "Lovelace")


def test_updating_to_another_contacts_email_is_a_duplicate(api):
    api.create_contact("ada@example.com")
    grace = api.create_contact("grace@example.com")

    response = api.put(f"contacts/{grace['id']}", {"contact": {"email": "ada@example.com"}})

    assert response.status_code == 422 and response.json()["errors"][0]["code"] == "duplicate"


def test_a_deleted_contact_is_gone_and_its_email_free_but_its_id_never_reused(api):
    ada = api.create_contact("ada@example.com")

    deleted = api.delete(f"contacts/{ada['id']}")
    again = api.create_contact("ada@example.com")

    assert (deleted.status_code, deleted.json()) == (200, {})
    assert api.get(f"contacts/{ada['id']}").status_code == 404
    assert again["id"] == "2"
    assert [c["id"] for c in api.get("contacts").json()["contacts"]] == ["2"]


def test_the_list_pages_by_limit_and_offset_with_the_total_as_a_string(api):
    for n in range(25):
        api.create_contact(f"person{n:02d}@example.com")

    default = api.get("contacts").json()
    second = api.get("contacts", params={"limit": 10, "offset": 20}).json()
    capped = api.get("contacts", params={"limit": 500}).json()

    assert len(default["contacts"]) == 20 and default["meta"]["total"] == "25"
    assert [c["email"] for c in second["contacts"]] == [f"person{n}@example.com" for n in range(20, 25)]
    assert second["meta"]["page_input"]["limit"] == 10 and second["meta"]["page_input"]["offset"] == 20
    assert len(capped["contacts"]) == 25 and capped["meta"]["page_input"]["limit"] == 100


def test_the_list_filters_by_email_search_and_ids(api):
    for email, first in (("ada@example.com", "Ada"), ("grace@navy.example", "Grace"), ("alan@example.com", "Alan")):
        api.create_contact(email, firstName=first)

    def emails(**params):
        return [c["email"] for c in api.get("contacts", params=params).json()["contacts"]]

    assert emails(email="ADA@example.com") == ["ada@example.com"]
    assert emails(email_like="example.com") == ["ada@example.com", "alan@example.com"]
    assert emails(search="grace") == ["grace@navy.example"]
    assert emails(**{"ids[]": ["1", "3"]}) == emails(ids="1,3") == ["ada@example.com", "alan@example.com"]
    assert emails(id_greater=1) == ["grace@navy.example", "alan@example.com"]


def test_the_list_filters_by_tag_list_and_status(api):
    ada, grace, alan = (api.create_contact(e)["id"] for e in ("ada@example.com", "grace@example.com", "alan@example.com"))
    tag = api.post("tags", {"tag": {"tag": "vip", "tagType": "contact"}}).json()["tag"]["id"]
    api.post("contactTags", {"contactTag": {"contact": grace, "tag": tag}})
    api.post("contactLists", {"contactList": {"list": "1", "contact": ada, "status": 1}})
    api.post("contactLists", {"contactList": {"list": "1", "contact": alan, "status": 2}})

    def ids(**params):
        return [c["id"] for c in api.get("contacts", params=params).json()["contacts"]]

    assert ids(tagid=tag) == [grace]
    assert ids(listid=1) == [ada, alan]
    assert ids(listid=1, status=2) == [alan]
    assert ids(listid=1, status=-1) == [ada, alan]


def test_the_list_filters_by_dates_and_orders_by_udate(api, activecampaign_account):
    for n, day in enumerate((3, 1, 2)):
        contact = api.create_contact(f"p{n}@example.com")
        AcContact.objects.filter(number=int(contact["id"]), account__api_key=activecampaign_account.api_key).update(
            udate=datetime(2024, 5, day, 12, tzinfo=timezone.utc), cdate=datetime(2024, 4, day, tzinfo=timezone.utc),
        )

    def emails(**params):
        return [c["email"] for c in api.get("contacts", params=params).json()["contacts"]]

    assert emails(**{"orders[udate]": "ASC"}) == ["p1@example.com", "p2@example.com", "p0@example.com"]
    assert emails(**{"orders[udate]": "desc"}) == ["p0@example.com", "p2@example.com", "p1@example.com"]
    # "after" is strict; a moment without an offset is the account's local time (UTC-5).
    assert emails(**{"filters[updated_after]": "2024-05-02T12:00:00+00:00", "orders[udate]": "ASC"}) == ["p0@example.com"]
    assert emails(**{"filters[updated_after]": "2024-05-02T06:59:59", "orders[udate]": "ASC"}) == ["p2@example.com", "p0@example.com"]
    assert emails(**{"filters[updated_before]": "2024-05-02"}) == ["p1@example.com"]
    assert emails(**{"filters[created_after]": "2024-04-02T00:00:00Z"}) == ["p0@example.com"]
    assert emails(**{"orders[email]": "DESC"}) == ["p2@example.com", "p1@example.com", "p0@example.com"]


def test_a_method_the_resource_does_not_answer_is_405(api):
    assert api.delete("contacts").status_code == 405
