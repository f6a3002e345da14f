"""The HubSpot connector against the HubSpot sandbox, over HTTP."""
import dataclasses
import logging
from datetime import datetime, timedelta, timezone

import pytest

from connectors.base import (
    AuthExpired,
    Duplicate,
    NotFound,
    NotSupported,
    PermissionDenied,
    RateLimited,
    Unavailable,
    ValidationFailed,
    WebhookDelivery,
)
from connectors.hubspot import HubSpotConnector, error_from
from connectors.registry import VENDORS, connector_for
from connectors.sandbox.hubspot import contact_views
from connectors.sandbox.hubspot.contacts import contact_create
from connectors.sandbox.hubspot.notes import note_create
from connectors.sandbox.hubspot.properties import property_create
from connectors.sandbox.hubspot.webhooks import EventLog
from connectors.sandbox.models.hubspot import HsAccount, HsContact, HsNote

pytestmark = pytest.mark.django_db(transaction=True, available_apps=["connectors.sandbox"])


@pytest.fixture
def connect():
    """``connect(facts, **options)``: a connector that never really sleeps; closed after."""
    made = []

    def make(facts, **options):
        options.setdefault("sleep", lambda seconds: None)
        credentials = {"token": facts.token, "app_id": str(facts.app_id), "client_secret": facts.client_secret}
        made.append(HubSpotConnector(base_url=facts.base_url, credentials=credentials, **options))
        return made[-1]

    yield make
    for connector in made:
        connector.close()


@pytest.fixture
def facts(hubspot_account):
    return hubspot_account


@pytest.fixture
def hs(connect, facts):
    return connect(facts)


def account(facts):
    return HsAccount.objects.get(token=facts.token)


def people(n, start=0, **extra):
    return [{"email": f"person{i}@example.com", "firstname": f"First{i}", **extra} for i in range(start, start + n)]


def every(pages):
    return [record for page in pages for record in page]


def seed(facts, *rows):
    target = account(facts)
    return [contact_create(target, values, EventLog(target, "IMPORT")) for values in rows]


def test_the_registry_builds_it_with_the_apps_credentials():
    connector = connector_for("hubspot", base_url="https://api.hubapi.com", credentials={"token": "t"})

    assert isinstance(connector, HubSpotConnector) and connector.natural_key("contacts") == "email"
    fields = {f.name: f for f in VENDORS["hubspot"].credential_fields}
    assert set(fields) == {"token", "app_id", "client_secret"} and not fields["app_id"].secret and fields["client_secret"].secret


def test_check_names_the_account_and_counts_contacts(hs, facts):
    seed(facts, {"email": "ada@example.com"})

    result = hs.check()

    assert result.account_name == f"HubSpot account {facts.portal_id}" and result.details["Contacts"] == "1"
    assert hs.api_calls == 2


def test_a_refused_token_is_auth_expired_and_never_quoted(connect, facts, caplog):
    caplog.set_level(logging.DEBUG)
    hs = connect(dataclasses.replace(facts, token="pat-eu1-secret-value"))

    with pytest.raises(AuthExpired) as refused:
        hs.fetch("contacts", ["1"], ["email"])

    assert "pat-eu1-secret-value" not in refused.value.message and "pat-eu1-secret-value" not in caplog.text
    assert hs.api_calls == 1


def test_describe_reads_the_properties_api(hs, facts):
    property_create(account(facts), {"name": "customer_id", "label": "Customer ID", "type": "string", "fieldType": "text",
                                     "groupName": "contactinformation", "hasUniqueValue": True})

    described = hs.describe("contacts")

    email, notes, stage, custom = (described.field(n) for n in ("email", "num_notes", "lifecyclestage", "customer_id"))
    assert (email.type, email.unique, email.custom, email.updateable) == ("email", True, False, True)
    assert (notes.type, notes.createable, notes.updateable) == ("double", False, False)
    assert stage.type == "picklist" and "customer" in stage.picklist_values
    assert custom.custom and custom.unique and custom.external_id
    assert described.field("salesforcecontactid").updateable
    assert (custom.length, stage.length, notes.length) == (65_536, None, None)  # the documented length of strings
    with pytest.raises(NotSupported):
        hs.describe("deals")


def test_create_writes_100_a_call_and_answers_in_order(hs):
    results = hs.create("contacts", people(250))

    assert hs.api_calls == 3 and all(r.ok and r.created for r in results)
    numbers = {c.properties["email"]: str(c.number) for c in HsContact.objects.all()}
    assert [r.id for r in results] == [numbers[f"person{i}@example.com"] for i in range(250)]


def test_a_taken_email_fails_its_record_alone_naming_the_holder(hs, facts):
    (holder,) = seed(facts, {"email": "person1@example.com"})

    results = hs.create("contacts", people(3))

    assert [r.ok for r in results] == [True, False, True]
    assert isinstance(results[1].error, Duplicate) and results[1].error.matching_ids == [str(holder.number)]
    assert hs.api_calls == 1 + 3  # the refused batch, then one call per record
    assert HsContact.objects.count() == 3


def test_an_unknown_property_fails_its_record_naming_the_field(hs):
    results = hs.create("contacts", [{"email": "a@example.com"}, {"email": "b@example.com", "favourite_colour": "blue"}])

    assert results[0].ok and isinstance(results[1].error, ValidationFailed)
    assert results[1].error.field == "favourite_colour" and results[1].error.code == "PROPERTY_DOESNT_EXIST"


def test_update_by_id_reports_unknown_ids_per_record(hs, facts):
    ada, bob = seed(facts, {"email": "ada@example.com"}, {"email": "bob@example.com"})

    results = hs.update("contacts", [{"Id": str(ada.number), "city": "London"}, {"Id": "99999", "city": "Paris"},
                                     {"city": "Nowhere"}, {"Id": str(bob.number), "firstname": None, "phone": "+1 555"}])

    assert [r.ok for r in results] == [True, False, False, True] and hs.api_calls == 1
    assert isinstance(results[1].error, NotFound) and results[1].id == "99999"
    assert isinstance(results[2].error, ValidationFailed) and results[2].error.field == "Id"
    assert HsContact.objects.get(pk=ada.pk).properties["city"] == "London"
    assert HsContact.objects.get(pk=bob.pk).properties["phone"] == "+1 555"


def test_update_to_a_taken_email_fails_alone(hs, facts):
    ada, bob = seed(facts, {"email": "ada@example.com"}, {"email": "bob@example.com"})

    results = hs.update("contacts", [{"Id": str(ada.number), "city": "London"}, {"Id": str(bob.number), "email": "ADA@example.com"}])

    assert results[0].ok and isinstance(results[1].error, Duplicate) and results[1].error.matching_ids == [str(ada.number)]
    assert HsContact.objects.get(pk=ada.pk).properties["city"] == "London"


def test_upsert_is_idempotent_and_tells_new_from_existing(hs, facts):
    (existing,) = seed(facts, {"email": "person0@example.com"})

    first = hs.upsert("contacts", people(150))
    calls_first = hs.api_calls
    again = hs.upsert("contacts", [{**p, "email": p["email"].upper()} for p in people(150)] + [{"firstname": "No email"}])

    assert calls_first == 2 and first[0].id == str(existing.number) and first[0].created is False
    assert all(r.created for r in first[1:]) and [r.id for r in again[:150]] == [r.id for r in first]
    assert not any(r.created for r in again[:150]) and isinstance(again[150].error, ValidationFailed)
    assert HsContact.objects.count() == 150


def test_fetch_reads_100_a_call_and_leaves_out_unknown_ids(hs, facts):
    ids = [r.id for r in hs.create("contacts", people(120))]
    hs.api_calls = 0

    records = hs.fetch("contacts", ids + ["99999"], ["firstname"])

    assert hs.api_calls == 2 and [r.id for r in records] == ids
    assert records[5].fields["firstname"] == "First5" and records[5].modified_at.endswith("Z") and records[5].object == "contacts"


def test_find_by_email_in_any_case_and_by_another_field(hs, facts):
    ada, bob, _ = seed(facts, {"email": "ada@example.com", "city": "London"}, {"email": "bob@example.com", "city": "london"},
                       {"email": "cy@example.com", "city": "Paris"})

    by_email = hs.find("contacts", "email", ["ADA@example.com", "nobody@example.com"], ["city"])
    by_city = hs.find("contacts", "city", ["London"], ["email"])

    assert [r.id for r in by_email] == [str(ada.number)] and by_email[0].fields["city"] == "London"
    assert [r.id for r in by_city] == [str(bob.number), str(ada.number)]  # most recently modified first


def test_changes_reads_everything_oldest_first_and_resumes_from_a_watermark(hs, facts):
    hs.create("contacts", people(5))
    HsContact.objects.update(updated_at=datetime(2024, 1, 1, tzinfo=timezone.utc))
    for n, contact in enumerate(HsContact.objects.order_by("number")):
        HsContact.objects.filter(pk=contact.pk).update(updated_at=datetime(2024, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=n))

    everything = every(hs.changes("contacts", None, ["email"]))
    later = every(hs.changes("contacts", everything[2].modified_at, ["email"]))

    assert [r.fields["email"] for r in everything] == [f"person{i}@example.com" for i in range(5)]
    assert [r.fields["email"] for r in later] == [f"person{i}@example.com" for i in range(2, 5)]


def test_a_read_ends_where_it_began_and_leaves_what_changes_meanwhile_to_the_next(hs, facts):
    """A contact written back while the read goes on (as the portal does with each page) is
    not read again by the same read, a large load's write-backs with it; the next read has it."""
    hs.create("contacts", people(5))
    for n, contact in enumerate(HsContact.objects.order_by("number")):
        HsContact.objects.filter(pk=contact.pk).update(updated_at=datetime(2024, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=n))

    read = hs.changes("contacts", None, ["email"], page_size=2)
    first = next(read)
    hs.update("contacts", [{"Id": first[0].id, "lastname": "Written back"}])
    rest = every(read)

    assert len(first + rest) == len({r.id for r in first + rest}) == 5  # each once
    again = every(hs.changes("contacts", rest[-1].modified_at, ["email"]))
    assert first[0].id in {r.id for r in again}


def test_changes_pages_past_the_result_cap_without_paging_beyond_it(make_hubspot_account, connect):
    facts = make_hubspot_account(search_result_cap=50, records=130)
    hs = connect(facts, search_result_cap=50)

    pages = list(hs.changes("contacts", None, ["email"], page_size=20))

    records = every(pages)
    assert len(records) == len({r.id for r in records}) == 130
    assert [r.modified_at for r in records] == sorted(r.modified_at for r in records)
    assert all(len(page) <= 20 for page in pages)


def test_changes_reads_a_millisecond_holding_more_than_the_cap_by_id(make_hubspot_account, connect):
    facts = make_hubspot_account(search_result_cap=30, records=75)
    moment = datetime(2024, 1, 1, tzinfo=timezone.utc)
    HsContact.objects.update(updated_at=moment)
    HsContact.objects.filter(number__gt=70).update(updated_at=moment + timedelta(seconds=1))
    hs = connect(facts, search_result_cap=30)

    records = every(hs.changes("contacts", None, ["email"], page_size=20))

    assert len(records) == len({r.id for r in records}) == 75
    assert {r.id for r in records[-5:]} == {str(n) for n in range(71, 76)}


def test_delete_archives_100_a_call(hs):
    ids = [r.id for r in hs.create("contacts", people(150))]
    hs.api_calls = 0

    results = hs.delete(ids + ["99999"])

    assert hs.api_calls == 2 and all(r.ok for r in results) and len(results) == 151
    assert not HsContact.objects.filter(archived=False).exists()


def test_merge_follows_each_merge_and_writes_the_chosen_values(hs, facts):
    master, twin, third = seed(facts, {"email": "jane@example.com", "firstname": "Jane"},
                               {"email": "jane.f@example.com", "phone": "+49 30 1"}, {"email": "j@example.com"})
    target = account(facts)
    for contact in (twin, twin, third):
        note_create(target, body="History.", timestamp=None, contact=contact, events=EventLog(target, "IMPORT"))

    result = hs.merge("contacts", str(master.number), [str(twin.number), str(third.number)], {"lastname": "Francis"})
    counts = hs.activity_counts([result.master_id, "99999"])
    calls = hs.api_calls

    # Each merge gives the survivor a new id; the master's old id reads as the survivor.
    assert result.merged_ids == [str(twin.number), str(third.number)]
    assert result.master_id not in {str(master.number), *result.merged_ids}
    [read] = hs.fetch("contacts", [str(master.number)], ["lastname"])
    assert read.id == result.master_id and set(read.merged_ids) >= {str(master.number), str(twin.number), str(third.number)}
    survivor = HsContact.objects.get(account=master.account, number=int(result.master_id))
    assert survivor.properties["lastname"] == "Francis" and survivor.properties["phone"] == "+49 30 1"
    assert counts == {result.master_id: 3} and HsNote.objects.filter(contact=survivor).count() == 3
    assert calls == 2 + 1 + 1


def test_a_rate_limit_is_waited_out_as_retry_after_says(make_hubspot_account, connect, hubspot_clock, caplog):
    caplog.set_level(logging.INFO)
    facts = make_hubspot_account(rate_limit=2)
    waits = []

    def sleep(seconds):
        waits.append(seconds)
        hubspot_clock.advance(seconds)

    hs = connect(facts, sleep=sleep)
    records = [hs.fetch("contacts", ["1"], []) for _ in range(3)]

    assert records == [[], [], []] and waits == [10.0] and hs.api_calls == 4
    assert facts.token not in caplog.text


def test_a_rate_limit_that_outlasts_the_retries_is_raised(make_hubspot_account, connect, hubspot_clock):
    hs = connect(make_hubspot_account(rate_limit=1), max_retries=2)
    hs.fetch("contacts", ["1"], [])

    with pytest.raises(RateLimited) as limited:
        hs.fetch("contacts", ["1"], [])

    assert limited.value.retry_after == 10 and limited.value.code == "TEN_SECONDLY_ROLLING" and hs.api_calls == 4


def test_5xx_answers_are_retried_with_back_off_then_raised(hs, facts, monkeypatch):
    seed(facts, {"email": "ada@example.com"})
    failures = iter([True, True])
    real = contact_views.search

    def flaky(*args, **kwargs):
        if next(failures, False):
            raise RuntimeError("boom")
        return real(*args, **kwargs)

    monkeypatch.setattr(contact_views, "search", flaky)
    found = hs.find("contacts", "city", ["x"], [])
    monkeypatch.setattr(contact_views, "search", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("down")))
    hs.max_retries = 1

    with pytest.raises(Unavailable):
        hs.find("contacts", "city", ["x"], [])
    assert found == [] and hs.api_calls == 1 + 3 + 2  # describe (for the field's type), then the searches


def test_error_mapping_for_answers_the_sandbox_does_not_give():
    assert isinstance(error_from(403, b'{"message":"missing scopes","category":"MISSING_SCOPES"}'), PermissionDenied)
    assert isinstance(error_from(502, b""), Unavailable)
    duplicate = error_from(409, '{"message":"Contact already exists. Existing ID: 42","category":"CONFLICT"}')
    assert duplicate.matching_ids == ["42"]


def test_webhooks_are_registered_once_and_deliveries_verified_and_parsed(hs, facts, hubspot_webhooks):
    hs.webhook_register(hubspot_webhooks.url)
    first_calls = hs.api_calls
    hs.webhook_register(hubspot_webhooks.url)
    again_calls = hs.api_calls - first_calls

    (created,) = hs.create("contacts", [{"email": "ada@example.com", "firstname": "Ada"}])
    primary, = hs.create("contacts", [{"email": "jane@example.com"}])
    merged = hs.merge("contacts", primary.id, [created.id])
    hs.delete([merged.master_id])

    # Settings, the list and 12 subscriptions (3 events, 9 properties); then settings and the list only.
    assert (first_calls, again_calls) == (2 + 12, 2)
    events = []
    for headers, body in hubspot_webhooks.posts:
        events += HubSpotConnector.parse_webhook(body, headers, url=hubspot_webhooks.url, client_secret=facts.client_secret)
    assert [(e.type, e.record_id) for e in events] == [
        ("created", created.id), ("updated", created.id), ("updated", created.id), ("created", primary.id),
        ("updated", primary.id), ("merged", merged.master_id), ("deleted", merged.master_id)]
    assert events[1].email == "ada@example.com" and events[2].fields == {"firstname": "Ada"}
    assert events[5].fields == {"primary_id": primary.id, "merged_ids": [created.id]}
    assert events[0].initiated_from == "INTEGRATION" and events[0].occurred_at.startswith(str(datetime.now(timezone.utc).year))


def test_a_verified_delivery_tells_which_record_changed_and_to_what(hs, hubspot_webhooks):
    hs.webhook_register(hubspot_webhooks.url, properties=("firstname",))
    (created,) = hs.create("contacts", [{"email": "ada@example.com", "firstname": "Ada"}])
    hs.update("contacts", [{"Id": created.id, "firstname": "Augusta"}])

    changes = [c for headers, body in hubspot_webhooks.posts
               for c in hs.webhook_changes(WebhookDelivery("POST", hubspot_webhooks.url, headers, body))]
    garbled = hs.webhook_changes(WebhookDelivery("POST", hubspot_webhooks.url, {}, b"{not json"))

    assert [(c.object, c.record_id, c.type, c.fields) for c in changes] == [
        ("contacts", created.id, "created", {}), ("contacts", created.id, "updated", {"firstname": "Ada"}),
        ("contacts", created.id, "updated", {"firstname": "Augusta"})]
    assert garbled is None  # cannot tell what changed: a change of anything


def test_a_delivery_with_a_bad_signature_or_an_old_timestamp_is_refused(hs, facts, hubspot_webhooks):
    hs.webhook_register(hubspot_webhooks.url, properties=())
    hs.create("contacts", [{"email": "ada@example.com"}])
    headers, body = hubspot_webhooks.posts[0]
    sent = int(headers["X-HubSpot-Request-Timestamp"])

    with pytest.raises(ValidationFailed) as wrong_secret:
        HubSpotConnector.parse_webhook(body, headers, url=hubspot_webhooks.url, client_secret="not-the-secret")
    with pytest.raises(ValidationFailed) as altered:
        HubSpotConnector.parse_webhook(body.replace(b"contact", b"kontakt"), headers, url=hubspot_webhooks.url,
                                       client_secret=facts.client_secret)
    with pytest.raises(ValidationFailed) as replayed:
        HubSpotConnector.parse_webhook(body, headers, url=hubspot_webhooks.url, client_secret=facts.client_secret,
                                       now_ms=sent + 5 * 60 * 1000 + 1)
    with pytest.raises(ValidationFailed) as unsigned:
        HubSpotConnector.parse_webhook(body, {}, url=hubspot_webhooks.url, client_secret=facts.client_secret)

    assert wrong_secret.value.field == altered.value.field == unsigned.value.field == "signature"
    assert replayed.value.field == "timestamp"
    ok = HubSpotConnector.parse_webhook(body, {k.lower(): v for k, v in headers.items()}, url=hubspot_webhooks.url,
                                        client_secret=facts.client_secret, now_ms=sent + 60_000)
    assert [e.type for e in ok] == ["created"]


def test_webhook_register_needs_the_app_id(connect, facts):
    hs = HubSpotConnector(base_url=facts.base_url, credentials={"token": facts.token}, sleep=lambda s: None)

    with pytest.raises(ValidationFailed) as missing:
        hs.webhook_register("https://portal.example/hooks")

    assert missing.value.field == "app_id" and hs.api_calls == 0


def test_webhook_register_needs_the_client_secret_that_checks_every_delivery(connect, facts):
    hs = HubSpotConnector(base_url=facts.base_url, credentials={"token": facts.token, "app_id": str(facts.app_id)},
                          sleep=lambda s: None)

    with pytest.raises(ValidationFailed) as missing:
        hs.webhook_register("https://portal.example/hooks/1/")

    assert missing.value.field == "client_secret" and hs.api_calls == 0


def test_the_same_email_twice_in_one_create_fails_the_second_alone(hs):
    results = hs.create("contacts", [{"email": "twin@example.com"}, {"email": "TWIN@example.com"}, {"email": "c@example.com"}])

    assert [r.ok for r in results] == [True, False, True]
    assert results[1].error.matching_ids == [results[0].id] and HsContact.objects.count() == 2


def test_a_hanging_call_times_out_and_is_tried_again(connect, facts):
    from connectors.sandbox.hubspot.accounts import account_set_faults

    seed(facts, *({"email": f"p{n}@example.com"} for n in range(5)))
    account_set_faults(account(facts), hang_rate=0.5, hang_seconds=2, seed_value=3)
    hs = connect(facts, timeout=0.5, max_retries=8)
    assert sum(len(page) for page in hs.changes("contacts", None, ["email"])) == 5
    assert hs.api_calls > 1  # a hang was cut short and the call made again


def test_a_batch_whose_answer_is_lost_is_not_sent_again(connect, facts):
    from connectors.base import Unavailable
    from connectors.sandbox.hubspot.accounts import account_set_faults

    account_set_faults(account(facts), hang_rate=0.5, hang_seconds=2, seed_value=3)
    hs = connect(facts, timeout=0.5, max_retries=8)
    outcomes = [hs.upsert("contacts", [{"email": f"p{n}@example.com"}, {"email": f"q{n}@example.com"}]) for n in range(5)]
    account_set_faults(account(facts))

    lost = [r for batch in outcomes for r in batch if not r.ok]
    assert lost and all(isinstance(r.error, Unavailable) and r.error.retriable and r.error.code == "ANSWER_LOST" for r in lost)
    assert len(lost) % 2 == 0  # a batch is lost as a whole
    assert hs.api_calls == 5  # one request a batch: none sent twice
    assert HsContact.objects.filter(archived=False).count() == 10


def test_changes_say_with_the_first_page_how_many_contacts_the_read_gives(hs):
    hs.create("contacts", people(5))
    pages = hs.changes("contacts", None, ["email"], page_size=2)
    next(pages)
    assert hs.changes_total == 5
