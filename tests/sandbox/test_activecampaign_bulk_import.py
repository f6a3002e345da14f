"""The ActiveCampaign sandbox's Bulk Contact Importer: the wire format, processing after the
answer, the importer's own limits, failures reported by email, and no webhooks."""
import pytest

from connectors.sandbox.activecampaign.imports import imports_process_pending

pytestmark = pytest.mark.django_db(transaction=True, available_apps=["connectors.sandbox"])


@pytest.fixture
def api(activecampaign_api, activecampaign_account):
    return activecampaign_api(activecampaign_account)


def contact(n, **extra):
    return {"email": f"ada{n}@example.com", "first_name": f"Ada{n}", "last_name": "Lovelace", **extra}


def queue(api, contacts, **extra):
    response = api.post("import/bulk_import", {"contacts": contacts, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def info(api, batch_id):
    response = api.get("import/info", params={"batchId": batch_id})
    assert response.status_code == 200, response.text
    return response.json()


def by_email(api, email):
    [found] = api.get("contacts", params={"email": email}).json()["contacts"]
    return found


def tag_names(api, contact_id):
    tags = {t["id"]: t["tag"] for t in api.get("tags", params={"limit": 100}).json()["tags"]}
    return sorted(tags[a["tag"]] for a in api.get(f"contacts/{contact_id}/contactTags").json()["contactTags"])


def test_an_import_is_answered_with_a_batch_id_and_carried_out_only_after_the_answer(api, activecampaign_imports_later):
    answer = queue(api, [contact(1), contact(2)])

    before = info(api, answer["batchId"])
    assert answer == {"success": 1, "queued_contacts": 2, "batchId": answer["batchId"], "message": "Contact import queued"}
    assert before == {"status": False, "success": [], "failure": []}  # the brief "not known yet"
    assert api.get("contacts").json()["meta"]["total"] == "0"

    assert imports_process_pending() == 1
    after = info(api, answer["batchId"])
    assert after["status"] == "completed" and after["failure"] == []
    assert sorted(after["success"]) == sorted([by_email(api, "ada1@example.com")["id"], by_email(api, "ada2@example.com")["id"]])
    assert imports_process_pending() == 0  # never carried out twice


def test_snake_case_keys_tags_by_name_fields_by_id_and_lists_are_written(api):
    api.post("tags", {"tag": {"tag": "vip", "tagType": "contact"}})
    fields = {f["perstag"]: f["id"] for f in api.get("fields").json()["fields"]}
    lists = {row["name"]: row["id"] for row in api.get("lists").json()["lists"]}

    answer = queue(api, [contact(1, phone="+44 20 7946 0000", customer_acct_name="Analytical Engines",
                                 tags=["vip", "from-salesforce"],
                                 fields=[{"id": int(fields["COMPANY_SIZE"]), "value": "11-50"}, {"id": fields["INDUSTRY"], "value": "Computing"}],
                                 subscribe=[{"listid": lists["Newsletter"]}], unsubscribe=[{"listid": lists["Master Contact List"]}])],
                   exclude_automations=True)

    assert info(api, answer["batchId"])["status"] == "completed"
    written = by_email(api, "ada1@example.com")
    assert (written["firstName"], written["lastName"], written["phone"], written["orgname"]) == ("Ada1", "Lovelace", "+44 20 7946 0000", "Analytical Engines")
    assert tag_names(api, written["id"]) == ["from-salesforce", "vip"]
    assert [t["tag"] for t in api.get("tags", params={"search": "vip"}).json()["tags"]] == ["vip"]  # found, not made again
    values = {v["field"]: v["value"] for v in api.get(f"contacts/{written['id']}/fieldValues").json()["fieldValues"]}
    assert (values[fields["COMPANY_SIZE"]], values[fields["INDUSTRY"]]) == ("11-50", "Computing")
    statuses = {row["list"]: row["status"] for row in api.get(f"contacts/{written['id']}/contactLists").json()["contactLists"]}
    assert statuses == {lists["Newsletter"]: "1", lists["Master Contact List"]: "2"}


def test_an_existing_contact_is_updated_by_email_keeps_its_id_and_is_not_listed_as_created(api):
    existing = api.create_contact("ada1@example.com", firstName="Old", phone="123")

    answer = queue(api, [contact(1), contact(2)])

    status = info(api, answer["batchId"])
    updated = by_email(api, "ada1@example.com")
    assert updated["id"] == existing["id"] and (updated["firstName"], updated["phone"]) == ("Ada1", "123")  # unnamed keys stay
    assert status["success"] == [by_email(api, "ada2@example.com")["id"]]


def test_invalid_contacts_fail_alone_and_are_reported_by_email(api):
    fields = {f["perstag"]: f["id"] for f in api.get("fields").json()["fields"]}

    answer = queue(api, [contact(1), {"email": "not-an-email"}, contact(3, fields=[{"id": fields["COMPANY_SIZE"], "value": "huge"}]),
                         contact(4, fields=[{"id": 999, "value": "x"}]), contact(5, subscribe=[{"listid": 999}])])

    status = info(api, answer["batchId"])
    assert status["status"] == "completed"
    assert status["failure"] == ["not-an-email", "ada3@example.com", "ada4@example.com", "ada5@example.com"]
    assert status["success"] == [by_email(api, "ada1@example.com")["id"]]
    assert api.get("contacts").json()["meta"]["total"] == "1"


@pytest.mark.parametrize("body, problem", [
    ({"contacts": []}, "at least one"),
    ({"contacts": [contact(n) for n in range(251)]}, "at most 250"),
    ({"contacts": ["ada@example.com"]}, "object"),
    ([], "object with a contacts list"),
])
def test_a_bad_payload_is_refused_whole_with_400_naming_the_problem(api, body, problem):
    response = api.post("import/bulk_import", body)

    assert response.status_code == 400 and problem in response.json()["message"]
    assert api.get("import/bulk_import").json() == {"outstanding": [], "recentlyCompleted": []}


def test_250_contacts_go_in_one_request(api):
    answer = queue(api, [contact(n) for n in range(250)])

    assert len(info(api, answer["batchId"])["success"]) == 250 and answer["queued_contacts"] == 250


def test_the_daily_aggregates_count_outstanding_and_completed_batches(api, activecampaign_imports_later):
    queue(api, [contact(1), contact(2)])
    imports_process_pending()
    queue(api, [contact(3)])

    body = api.get("import/bulk_import").json()

    assert [(d["batches"], d["contacts"]) for d in body["outstanding"]] == [(1, 1)]
    assert [(d["batches"], d["contacts"]) for d in body["recentlyCompleted"]] == [(1, 2)]


def test_the_importer_allows_100_multi_contact_requests_a_minute(make_activecampaign_account, activecampaign_api, activecampaign_clock, activecampaign_imports_later):
    api = activecampaign_api(make_activecampaign_account(rate_limit=1000, bulk_import_limit=3))
    statuses = [api.post("import/bulk_import", {"contacts": [contact(n), contact(n + 100)]}).status_code for n in range(4)]
    refused = api.post("import/bulk_import", {"contacts": [contact(9), contact(10)]})
    single = api.post("import/bulk_import", {"contacts": [contact(11)]}).status_code
    activecampaign_clock.advance(60)
    again = api.post("import/bulk_import", {"contacts": [contact(12), contact(13)]}).status_code

    assert statuses == [200, 200, 200, 429] and int(refused.headers["Retry-After"]) > 1
    assert (single, again) == (200, 200)  # single-contact requests count apart


def test_the_importer_allows_20_single_contact_requests_a_minute(make_activecampaign_account, activecampaign_api, activecampaign_clock, activecampaign_imports_later):
    api = activecampaign_api(make_activecampaign_account(rate_limit=1000))

    statuses = [api.post("import/bulk_import", {"contacts": [contact(n)]}).status_code for n in range(21)]

    assert statuses == [200] * 20 + [429]


def test_imports_count_against_the_five_requests_a_second(make_activecampaign_account, activecampaign_api, activecampaign_clock):
    api = activecampaign_api(make_activecampaign_account(rate_limit=5))

    statuses = [api.post("import/bulk_import", {"contacts": [contact(n), contact(n + 10)]}).status_code for n in range(6)]

    assert statuses == [200] * 5 + [429]


def test_a_bulk_import_fires_no_webhooks(api, activecampaign_webhooks):
    api.post("webhooks", {"webhook": {"name": "Portal", "url": activecampaign_webhooks.url, "listid": 0,
                                      "events": ["subscribe", "update", "contact_tag_added"], "sources": ["public", "admin", "api", "system"]}})
    api.create_contact("ada1@example.com")
    sent = len(activecampaign_webhooks.forms)

    queue(api, [contact(1, tags=["vip"]), contact(2, tags=["vip"])])

    assert api.get("contacts").json()["meta"]["total"] == "2"
    assert len(activecampaign_webhooks.forms) == sent == 1


def test_an_unknown_batch_id_is_404(api):
    assert api.get("import/info", params={"batchId": "nope"}).status_code == 404
