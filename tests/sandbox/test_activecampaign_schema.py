"""The ActiveCampaign sandbox's custom fields and values, tags, lists and automations."""
import pytest

pytestmark = pytest.mark.django_db(transaction=True, available_apps=["connectors.sandbox"])

AC8_TAGS = (
    "created-from-salesforce-person-account", "salesforce-lead-converted-to-person-account",
    "added-to-salesforce-person-account", "created-from-salesforce-contact", "salesforce-lead-converted-to-contact",
    "added-to-salesforce-contact",
)


@pytest.fixture
def api(activecampaign_api, activecampaign_account):
    return activecampaign_api(activecampaign_account)


def test_a_new_account_has_the_standard_fields_with_options_and_relations_sideloaded(api):
    body = api.get("fields", params={"limit": 100}).json()

    assert [(f["id"], f["perstag"], f["type"]) for f in body["fields"]] == [
        ("1", "COMPANY_SIZE", "dropdown"), ("2", "INDUSTRY", "text"), ("3", "BIRTHDAY", "date"), ("4", "INTERESTS", "checkbox"),
    ]
    assert body["meta"] == {"total": "4"}
    assert [o["value"] for o in body["fieldOptions"] if o["field"] == "1"] == ["1-10", "11-50", "51-200", "201-1000", "1000+"]
    assert {r["field"]: r["relid"] for r in body["fieldRels"]} == {"1": "0", "2": "0", "3": "0", "4": "0"}
    assert body["fields"][0]["options"] == [o["id"] for o in body["fieldOptions"] if o["field"] == "1"]


def test_a_field_is_made_in_three_calls_as_the_reference_describes(api):
    created = api.post("fields", {"field": {"type": "dropdown", "title": "Customer tier", "perstag": "TIER", "isrequired": 0}})
    field_id = created.json()["field"]["id"]
    rel = api.post("fieldRels", {"fieldRel": {"field": field_id, "relid": 0}})
    options = api.post("fieldOption/bulk", {"fieldOptions": [
        {"field": field_id, "label": "Gold", "value": "gold"}, {"field": field_id, "label": "Silver", "value": "silver"}]})

    assert (created.status_code, rel.status_code, options.status_code) == (201, 201, 201)
    field = api.get(f"fields/{field_id}").json()
    assert field["field"]["perstag"] == "TIER" and [o["label"] for o in field["fieldOptions"]] == ["Gold", "Silver"]


def test_a_personalisation_tag_in_use_or_an_unknown_type_is_refused(api):
    taken = api.post("fields", {"field": {"type": "text", "title": "Size", "perstag": "COMPANY_SIZE"}})
    bad_type = api.post("fields", {"field": {"type": "colour", "title": "Colour"}})

    assert taken.status_code == bad_type.status_code == 422
    assert taken.json()["errors"][0]["source"]["pointer"] == "/data/attributes/perstag"
    assert bad_type.json()["errors"][0]["source"]["pointer"] == "/data/attributes/type"


def test_field_values_are_set_overwritten_and_listed_per_contact(api):
    contact = api.create_contact("ada@example.com")["id"]

    first = api.post("fieldValues", {"fieldValue": {"contact": contact, "field": "4", "value": "||Events||Webinars||"},
                                     "useDefaults": True})
    again = api.post("fieldValues", {"fieldValue": {"contact": contact, "field": "4", "value": "||Newsletter||"}})
    value_id = again.json()["fieldValue"]["id"]
    put = api.put(f"fieldValues/{value_id}", {"fieldValue": {"contact": contact, "field": "4", "value": "||Events||"}})

    assert (first.status_code, again.status_code, put.status_code) == (201, 200, 200)
    assert first.json()["fieldValue"]["id"] == value_id and first.json()["contacts"][0]["id"] == contact
    assert [(v["field"], v["value"]) for v in api.get(f"contacts/{contact}/fieldValues").json()["fieldValues"]] == [("4", "||Events||")]


def test_a_date_field_takes_only_dates(api):
    contact = api.create_contact("ada@example.com")["id"]

    response = api.post("fieldValues", {"fieldValue": {"contact": contact, "field": "3", "value": "10 Dec 1815"}})

    assert response.status_code == 422 and response.json()["errors"][0]["code"] == "field_invalid"


def test_tags_are_created_and_found_by_search_spelled_exactly(api):
    for name in AC8_TAGS:
        assert api.post("tags", {"tag": {"tag": name, "tagType": "contact", "description": ""}}).status_code == 201

    found = api.get("tags", params={"search": "person-account"}).json()

    assert [t["tag"] for t in found["tags"]] == list(AC8_TAGS[:3])
    assert found["meta"] == {"total": "3"} and found["tags"][0]["tagType"] == "contact"


def test_tag_names_need_not_be_unique(api):
    first = api.post("tags", {"tag": {"tag": "vip"}}).json()["tag"]["id"]
    second = api.post("tags", {"tag": {"tag": "vip"}}).json()["tag"]["id"]

    assert first != second and api.get("tags", params={"search": "vip"}).json()["meta"]["total"] == "2"


def test_applying_a_tag_twice_returns_the_same_contact_tag_and_delete_removes_it(api):
    contact = api.create_contact("ada@example.com")["id"]
    tag = api.post("tags", {"tag": {"tag": "vip"}}).json()["tag"]["id"]

    first = api.post("contactTags", {"contactTag": {"contact": contact, "tag": tag}})
    again = api.post("contactTags", {"contactTag": {"contact": contact, "tag": tag}})
    applied = first.json()["contactTag"]

    assert first.status_code == again.status_code == 201
    assert again.json()["contactTag"]["id"] == applied["id"] and (applied["contact"], applied["tag"]) == (contact, tag)
    assert [a["tag"] for a in api.get(f"contacts/{contact}/contactTags").json()["contactTags"]] == [tag]
    assert api.delete(f"contactTags/{applied['id']}").json() == {}
    assert api.get(f"contacts/{contact}/contactTags").json()["contactTags"] == []
    assert api.delete(f"contactTags/{applied['id']}").status_code == 404


def test_lists_and_subscriptions_set_the_status_idempotently(api):
    created = api.post("lists", {"list": {
        "name": "Events 2025", "stringid": "events-2025", "sender_url": "https://acme.example", "sender_reminder": "You met us.",
    }})
    list_id = created.json()["list"]["id"]
    contact = api.create_contact("ada@example.com")["id"]

    subscribed = api.post("contactLists", {"contactList": {"list": list_id, "contact": contact, "status": 1}})
    again = api.post("contactLists", {"contactList": {"list": list_id, "contact": contact, "status": 1}})
    unsubscribed = api.post("contactLists", {"contactList": {"list": list_id, "contact": contact, "status": 2}})

    assert created.status_code == 201 and [row["name"] for row in api.get("lists").json()["lists"]][-1] == "Events 2025"
    assert (subscribed.status_code, again.status_code) == (201, 200)
    assert unsubscribed.json()["contactList"]["status"] == "2"
    assert [(r["list"], r["status"]) for r in api.get(f"contacts/{contact}/contactLists").json()["contactLists"]] == [(list_id, "2")]


def test_automations_list_and_enrol_contacts(api):
    contact = api.create_contact("ada@example.com")["id"]

    run = api.post("contactAutomations", {"contactAutomation": {"contact": contact, "automation": "2"}})
    automations = api.get("automations").json()

    assert run.status_code == 201 and run.json()["contactAutomation"]["automation"] == "2"
    assert [(a["name"], a["entered"]) for a in automations["automations"]] == [("Welcome series", "0"), ("Re-engagement", "1")]
    assert api.get(f"contacts/{contact}/contactAutomations").json()["meta"] == {"total": "1"}
    assert api.delete(f"contactAutomations/{run.json()['contactAutomation']['id']}").status_code == 200
    assert api.post("contactAutomations", {"contactAutomation": {"contact": contact, "automation": "99"}}).status_code == 404


def test_a_body_that_is_not_json_is_a_400_with_the_error_envelope(api):
    response = api.request("POST", "tags", data="{not json", headers={"Content-Type": "application/json"})

    assert response.status_code == 400 and response.json()["errors"][0]["title"]
