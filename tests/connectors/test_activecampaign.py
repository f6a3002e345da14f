"""The ActiveCampaign connector against the ActiveCampaign sandbox, over HTTP."""
import dataclasses
import math
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests
from requests.adapters import HTTPAdapter

from connectors.activecampaign import ActiveCampaignConnector
from connectors.base import AuthExpired, Duplicate, NotFound, NotSupported, RateLimited, Unavailable, ValidationFailed, WebhookDelivery
from connectors.registry import connector_for
from connectors.sandbox.activecampaign.seed import account_fill
from connectors.sandbox.models.activecampaign import AcAccount, AcContact

pytestmark = pytest.mark.django_db(transaction=True, available_apps=["connectors.sandbox"])

AC8_TAGS = (
    "created-from-salesforce-person-account", "salesforce-lead-converted-to-person-account",
    "added-to-salesforce-person-account", "created-from-salesforce-contact", "salesforce-lead-converted-to-contact",
    "added-to-salesforce-contact",
)


@pytest.fixture
def connect():
    """``connect(facts, **options)``: a connector that never really sleeps; sessions closed after."""
    made = []

    def make(facts, **options):
        options.setdefault("sleep", lambda seconds: None)
        made.append(ActiveCampaignConnector(base_url=facts.api_url, credentials={"api_key": facts.api_key}, **options))
        return made[-1]

    yield make
    for connector in made:
        connector.session.close()


@pytest.fixture
def facts(activecampaign_account):
    return activecampaign_account


@pytest.fixture
def ac(connect, facts):
    return connect(facts)


def account(facts):
    return AcAccount.objects.get(api_key=facts.api_key)


def people(n, start=0, **extra):
    return [{"email": f"person{i}@example.com", "firstName": f"First{i}", "lastName": f"Last{i}", **extra} for i in range(start, start + n)]


def every(pages):
    return [record for page in pages for record in page]


# --- identity and schema ------------------------------------------------------------------------
def test_check_names_the_account_counts_contacts_and_the_key_owner(ac, facts):
    ac.upsert("contact", people(3))

    result = ac.check()

    assert result.account_name == facts.api_url.rsplit("/", 1)[1]
    assert result.details["Contacts"] == "3" and result.details["Connected as"].startswith("admin@")


def test_the_registry_builds_this_connector_for_activecampaign(facts):
    built = connector_for("activecampaign", base_url=facts.api_url, credentials={"api_key": facts.api_key})

    assert isinstance(built, ActiveCampaignConnector) and built.check().details["Contacts"] == "0"
    built.session.close()


def test_a_refused_key_is_auth_expired_with_a_message_an_admin_can_act_on(connect, facts):
    broken = connect(dataclasses.replace(facts, api_key="wrong"))

    with pytest.raises(AuthExpired, match="Settings → Developer") as excinfo:
        broken.check()

    assert "wrong" not in excinfo.value.message
    assert broken.api_calls == 2  # the vendor's occasional 403 to a good key is retried once


def test_describe_lists_standard_fields_and_custom_fields_by_personalisation_tag(ac):
    contact = ac.describe("contact")

    email, orgname = contact.field("email"), contact.field("orgname")
    size, interests = contact.field("COMPANY_SIZE"), contact.field("INTERESTS")
    assert email.required and email.unique and not email.custom
    assert not orgname.createable and not orgname.updateable
    assert (size.custom, size.label, size.type) == (True, "Company size", "picklist")
    assert size.picklist_values == ("1-10", "11-50", "51-200", "201-1000", "1000+")
    assert interests.type == "multipicklist" and contact.field("BIRTHDAY").type == "date"


def test_other_objects_are_not_supported(ac):
    with pytest.raises(NotSupported):
        ac.describe("deal")


# --- reading ----------------------------------------------------------------------------------------
def test_changes_stream_pages_of_100_at_one_call_a_page_for_standard_fields(ac, facts):
    account_fill(account(facts), 250)
    before = ac.api_calls

    pages = list(ac.changes("contact", None, ["email", "firstName"]))

    records = every(pages)
    # Each page after the first repeats the last contact read (it checks the cursor held), and
    # hands out 99 new ones.
    assert [len(p) for p in pages] == [100, 99, 51]
    assert ac.api_calls - before == 1 + math.ceil((250 - 100) / 99)
    assert len({r.id for r in records}) == 250
    assert [r.modified_at for r in records] == sorted(r.modified_at for r in records)
    assert records[0].modified_at.endswith("+00:00")
    assert set(records[0].fields) == {"email", "firstName", "lastName", "phone", "orgname"}


def test_changes_bring_custom_values_and_tags_at_one_call_each_per_contact(ac):
    ac.upsert("contact", [
        {"email": "ada@example.com", "COMPANY_SIZE": "11-50", "INTERESTS": ["Events", "Webinars"], "tags": ["vip"]},
        {"email": "grace@example.com"},
    ])
    before = ac.api_calls

    records = every(ac.changes("contact", None, ["COMPANY_SIZE", "INTERESTS", "BIRTHDAY", "tags"]))

    wanted = ("email", "COMPANY_SIZE", "INTERESTS", "BIRTHDAY", "tags")
    assert [tuple(r.fields[name] for name in wanted) for r in records] == [
        ("ada@example.com", "11-50", ["Events", "Webinars"], None, ["vip"]),
        ("grace@example.com", None, [], None, []),
    ]
    assert ac.api_calls - before == 1 + 2 * 2 + 1  # the page, values and tags of each contact, every tag's name once


def test_changes_since_a_watermark_bring_what_changed_in_its_second_and_after(ac, facts):
    created = ac.upsert("contact", people(4))
    rows = AcContact.objects.filter(account=account(facts))
    moment = datetime(2024, 5, 1, 12, tzinfo=timezone.utc)
    rows.update(udate=moment)
    rows.filter(number=int(created[3].id)).update(udate=moment - timedelta(days=1))
    watermark = every(ac.changes("contact", None, []))[-1].modified_at

    ac.update("contact", [{"Id": created[3].id, "lastName": "Changed"}])
    again = every(ac.changes("contact", watermark, []))

    assert watermark == "2024-05-01T12:00:00+00:00"
    assert [r.id for r in again] == [created[0].id, created[1].id, created[2].id, created[3].id]
    assert again[-1].fields["lastName"] == "Changed" and again[-1].modified_at > watermark
    assert every(ac.changes("contact", again[-1].modified_at, [])) == again[-1:]


def test_changes_lose_nothing_when_contacts_of_the_cursors_second_change_while_paging(ac, facts):
    created = ac.upsert("contact", people(250))
    AcContact.objects.filter(account=account(facts)).update(udate=datetime(2024, 5, 1, 12, tzinfo=timezone.utc))
    pages = ac.changes("contact", None, [], page_size=100)

    first = next(pages)
    # Two contacts of the cursor's second, one already read and one not, change and move on.
    ac.update("contact", [{"Id": first[10].id, "phone": "1"}, {"Id": created[180].id, "phone": "2"}])
    rest = every(pages)

    seen = [r.id for r in first + rest]
    assert set(seen) == {r.id for r in created}
    assert len(seen) == len(set(seen)) + 1  # the contact read and changed comes again, with its change
    assert [r.fields["phone"] for r in rest if r.id in (first[10].id, created[180].id)] == ["1", "2"]


def test_fetch_and_find_return_contacts_by_id_and_by_email(ac):
    created = ac.upsert("contact", people(3))

    fetched = ac.fetch("contact", [created[2].id, created[0].id, "999"], [])
    found = ac.find("contact", "email", ["PERSON1@example.com", "nobody@example.com"], ["tags"])

    assert sorted(r.fields["email"] for r in fetched) == ["person0@example.com", "person2@example.com"]
    assert [(r.id, r.fields["email"], r.fields["tags"]) for r in found] == [(created[1].id, "person1@example.com", [])]


def test_asking_for_an_unknown_field_is_a_mapping_error(ac):
    with pytest.raises(ValidationFailed) as excinfo:
        list(ac.changes("contact", None, ["NO_SUCH_FIELD"]))

    assert excinfo.value.field == "NO_SUCH_FIELD"


# --- writing --------------------------------------------------------------------------------------------
def test_upsert_replayed_never_creates_a_second_contact(ac):
    rows = people(3, COMPANY_SIZE="1-10")

    first = ac.upsert("contact", rows)
    before = ac.api_calls
    replay = ac.upsert("contact", [{**row, "email": row["email"].upper()} for row in rows])

    assert [r.created for r in first] == [True] * 3 and [r.created for r in replay] == [False] * 3
    assert [r.id for r in first] == [r.id for r in replay]
    assert ac.api_calls - before == 3  # one contact/sync per record; the fields were read once, before
    assert ac.check().details["Contacts"] == "3"


def test_a_bad_record_fails_alone_with_the_field_named(ac):
    rows = people(5)
    rows[1]["email"] = "not-an-email"
    rows[2]["COMPANY_SIZE"] = "enormous"
    rows[3]["NO_SUCH_FIELD"] = "x"
    rows[4]["orgname"] = "Analytical Engines"

    results = ac.upsert("contact", rows)

    assert [r.ok for r in results] == [True, False, False, False, False]
    assert [(type(r.error), r.error.field) for r in results[1:]] == [
        (ValidationFailed, "email"), (ValidationFailed, "COMPANY_SIZE"), (ValidationFailed, "NO_SUCH_FIELD"),
        (ValidationFailed, "orgname"),
    ]
    assert ac.check().details["Contacts"] == "1"


def test_a_multi_value_field_takes_its_choices_as_a_list_or_in_the_neutral_a_semicolon_b_form(ac):
    ac.upsert("contact", [{"email": "ada@example.com", "INTERESTS": "Events;Webinars"},
                          {"email": "grace@example.com", "INTERESTS": ["Newsletter"]}])

    records = ac.find("contact", "email", ["ada@example.com", "grace@example.com"], ["INTERESTS"])

    assert sorted((r.fields["email"], r.fields["INTERESTS"]) for r in records) == [
        ("ada@example.com", ["Events", "Webinars"]), ("grace@example.com", ["Newsletter"])]


def test_upsert_adds_the_records_tags_spelled_exactly(ac):
    results = ac.upsert("contact", [{"email": "ada@example.com", "tags": list(AC8_TAGS)}])

    record = ac.fetch("contact", [results[0].id], ["tags"])[0]

    assert record.fields["tags"] == list(AC8_TAGS)


def test_update_by_id_and_delete_report_unknown_ids_as_not_found(ac):
    created = ac.upsert("contact", people(2))

    updated = ac.update("contact", [{"Id": created[0].id, "firstName": "Ada"}, {"Id": "999", "firstName": "X"}])
    deleted = ac.delete([created[1].id, created[1].id])

    assert updated[0].ok and updated[0].created is False
    assert (updated[1].id, type(updated[1].error)) == ("999", NotFound)
    assert deleted[0].ok and isinstance(deleted[1].error, NotFound)
    assert [r.fields["firstName"] for r in every(ac.changes("contact", None, []))] == ["Ada"]


def test_an_email_in_use_is_a_duplicate_on_create_and_on_update(ac):
    created = ac.upsert("contact", people(2))

    made = ac.create("contact", [{"email": "PERSON0@example.com"}, {"email": "new@example.com"}])
    changed = ac.update("contact", [{"Id": created[1].id, "email": "person0@example.com"}])[0]

    assert isinstance(made[0].error, Duplicate) and made[1].created is True
    assert isinstance(changed.error, Duplicate)


# --- tags ------------------------------------------------------------------------------------------------
def test_tags_are_looked_up_created_once_and_cached(ac, activecampaign_api, facts):
    ada, grace = (r.id for r in ac.upsert("contact", people(2)))
    api = activecampaign_api(facts)
    api.post("tags", {"tag": {"tag": "added-to-salesforce-contact-old"}})  # a near namesake the search also finds

    ac.add_tags(ada, ["added-to-salesforce-contact", "vip"])
    before = ac.api_calls
    ac.add_tags(grace, ["added-to-salesforce-contact"])

    names = [t["tag"] for t in api.get("tags", params={"limit": 100}).json()["tags"]]
    assert names == ["added-to-salesforce-contact-old", "added-to-salesforce-contact", "vip"]
    assert ac.api_calls - before == 1


def test_remove_tags_removes_only_the_named_ones(ac):
    contact = ac.upsert("contact", people(1))[0].id
    ac.add_tags(contact, AC8_TAGS)

    ac.remove_tags(contact, ["added-to-salesforce-contact", "created-from-salesforce-contact", "never-made"])

    assert ac.fetch("contact", [contact], ["tags"])[0].fields["tags"] == [
        "created-from-salesforce-person-account", "salesforce-lead-converted-to-person-account",
        "added-to-salesforce-person-account", "salesforce-lead-converted-to-contact",
    ]


def test_contacts_with_a_tag_come_in_pages_by_id(ac):
    created = ac.upsert("contact", people(150))
    for record in created[::2]:
        ac.add_tags(record.id, ["added-to-salesforce-person-account"])

    pages = list(ac.contacts_with_tag("added-to-salesforce-person-account"))

    assert [len(p) for p in pages] == [75]
    assert [r.id for r in pages[0]] == [r.id for r in created[::2]]
    assert list(ac.contacts_with_tag("no-such-tag")) == []


# --- limits and faults ----------------------------------------------------------------------------------------
def test_it_backs_off_on_429_as_retry_after_says_and_loses_nothing(connect, make_activecampaign_account, activecampaign_clock):
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        activecampaign_clock.advance(seconds)

    ac = connect(make_activecampaign_account(rate_limit=3), sleep=sleep)

    results = ac.upsert("contact", people(10))

    assert all(r.ok for r in results) and slept and set(slept) == {1.0}
    assert [r.id for r in results] == [str(n) for n in range(1, 11)]
    assert ac.api_calls == 10 + len(slept)  # one sync each, and each refused call


def test_it_gives_up_after_max_retries_with_rate_limited(connect, make_activecampaign_account, activecampaign_clock):
    ac = connect(make_activecampaign_account(rate_limit=1), max_retries=2)

    with pytest.raises(RateLimited) as excinfo:
        ac.check()  # users/me passes; the clock stands still, so the count never does

    assert excinfo.value.retry_after == 1.0 and excinfo.value.retriable
    assert ac.api_calls == 1 + 3


class FailingFirst(HTTPAdapter):
    """Answers the first ``failures`` requests itself with ``status``; then the real server."""

    def __init__(self, failures, status=503):
        super().__init__()
        self.failures, self.status = failures, status

    def send(self, request, **kwargs):
        if self.failures:
            self.failures -= 1
            response = requests.Response()
            response.status_code, response.url, response.request = self.status, request.url, request
            response._content = b'{"message": "Service Unavailable"}'
            return response
        return super().send(request, **kwargs)


def test_it_backs_off_exponentially_on_5xx(connect, facts):
    slept = []
    session = requests.Session()
    session.mount("http://", FailingFirst(2))
    ac = connect(facts, session=session, sleep=slept.append, backoff=0.5)

    assert ac.check().details["Contacts"] == "0"
    assert slept == [0.5, 1.0] and ac.api_calls == 4


def test_a_lasting_outage_is_unavailable_and_requests_errors_never_leave(connect, facts):
    session = requests.Session()
    session.mount("http://", FailingFirst(10, status=502))
    with pytest.raises(Unavailable):
        connect(facts, session=session, max_retries=1).check()

    unreachable = ActiveCampaignConnector(base_url="http://127.0.0.1:9/activecampaign/x", credentials={"api_key": "k"},
                                          sleep=lambda s: None, max_retries=1)
    with pytest.raises(Unavailable, match="could not be reached"):
        unreachable.check()


# --- webhooks -------------------------------------------------------------------------------------------------
def test_webhook_register_is_idempotent_and_widens_an_existing_hook(ac, activecampaign_api, facts):
    first = ac.webhook_register("https://portal.example/hooks/ac/secret", ["updated"])
    again = ac.webhook_register("https://portal.example/hooks/ac/secret", ["updated", "tag_added"])

    hooks = activecampaign_api(facts).get("webhooks").json()["webhooks"]
    assert first == again and len(hooks) == 1
    assert hooks[0]["events"] == ["update", "contact_tag_added"] and hooks[0]["sources"] == ["public", "admin", "api", "system"]
    ac.webhook_unregister(first)
    ac.webhook_unregister(first)
    assert activecampaign_api(facts).get("webhooks").json()["webhooks"] == []


def test_unknown_webhook_events_are_refused_before_any_call(ac):
    with pytest.raises(ValidationFailed, match="explode"):
        ac.webhook_register("https://portal.example/h", ["explode"])
    assert ac.api_calls == 0


def test_a_delivered_webhook_parses_into_a_neutral_event(ac, activecampaign_webhooks):
    ac.webhook_register(activecampaign_webhooks.url)
    contact = ac.upsert("contact", [{"email": "ada@example.com", "firstName": "Ada", "INTERESTS": ["Events"], "tags": ["vip"]}])[0].id
    ac.add_tags(contact, ["added-to-salesforce-person-account"])

    forms = activecampaign_webhooks.forms
    created, tagged = (ActiveCampaignConnector.parse_webhook(dict(form)) for form in (forms[0], forms[-1]))

    assert (created.type, created.record_id, created.email, created.initiated_from) == ("created", contact, "ada@example.com", "api")
    assert created.fields["firstName"] == "Ada" and created.fields["INTERESTS"] == ["Events"]
    assert created.fields["COMPANY_SIZE"] is None
    assert (tagged.type, tagged.tag) == ("tag_added", "added-to-salesforce-person-account")
    assert tagged.tags == ["vip", "added-to-salesforce-person-account"]
    assert tagged.occurred_at.endswith("+00:00")


def test_a_verified_delivery_is_one_change_carrying_the_contact_as_it_is_now(ac, activecampaign_webhooks):
    ac.webhook_register(activecampaign_webhooks.url)
    contact = ac.upsert("contact", [{"email": "ada@example.com", "firstName": "Ada"}])[0].id
    ac.add_tags(contact, ["vip"])

    changes = [ac.webhook_changes(WebhookDelivery("POST", activecampaign_webhooks.url, headers, body))
               for headers, body in activecampaign_webhooks.posts]
    garbled = ac.webhook_changes(WebhookDelivery("POST", activecampaign_webhooks.url, {}, b'{"json": "instead"}'))

    assert [[(c.object, c.record_id, c.type, c.tag) for c in delivery] for delivery in changes] == [
        [("contact", contact, "created", None)], [("contact", contact, "tag_added", "vip")]]
    assert changes[1][0].fields["firstName"] == "Ada" and "tags" not in changes[1][0].fields
    assert garbled is None


def test_parse_webhook_reads_a_form_of_lists_as_a_web_framework_gives_it():
    form = {
        "type": ["update"], "date_time": ["2023-07-12T06:49:04-05:00"], "initiated_from": ["admin"], "list": ["0"],
        "contact[id]": ["1234"], "contact[email]": ["test@example.com"], "contact[first_name]": ["Test"],
        "contact[last_name]": [""], "contact[tags]": ["month, free_forever, TIER1"], "contact[fields][company_size]": ["11-50"],
    }

    event = ActiveCampaignConnector.parse_webhook(form)

    assert (event.type, event.record_id, event.occurred_at) == ("updated", "1234", "2023-07-12T11:49:04+00:00")
    assert event.fields == {"email": "test@example.com", "firstName": "Test", "lastName": None, "COMPANY_SIZE": "11-50"}
    assert event.tags == ["month", "free_forever", "TIER1"] and event.tag is None


def test_a_form_without_a_type_is_not_a_webhook():
    with pytest.raises(ValidationFailed):
        ActiveCampaignConnector.parse_webhook({"contact[id]": "1"})


def test_a_hanging_call_times_out_and_is_tried_again(connect, facts, ac):
    from connectors.sandbox.activecampaign.accounts import account_set_faults

    ac.upsert("contact", people(4), key="email")
    account_set_faults(account(facts), hang_rate=0.5, hang_seconds=2, seed_value=3)
    slow = connect(facts, timeout=0.5, max_retries=8)
    started = time.monotonic()
    for _ in range(6):  # reads of the same contacts, every one complete
        assert sum(len(page) for page in slow.changes("contact", None, ["email"])) == 4
    assert time.monotonic() - started >= 0.5  # at least one hang was cut short and the call made again


def test_a_write_whose_answer_is_lost_is_not_sent_again(connect, facts):
    from connectors.base import Unavailable
    from connectors.sandbox.activecampaign.accounts import account_set_faults

    account_set_faults(account(facts), hang_rate=0.5, hang_seconds=2, seed_value=3)
    slow = connect(facts, timeout=0.5, max_retries=8)
    results = [slow.upsert("contact", [person], key="email")[0] for person in people(6)]
    account_set_faults(account(facts))

    lost = [r for r in results if not r.ok]
    # Each lost answer fails its record retriably, for the engine to look it up by email.
    assert lost and all(isinstance(r.error, Unavailable) and r.error.retriable and r.error.code == "ANSWER_LOST" for r in lost)
    assert slow.api_calls == 6 - len(lost)  # calls answered: the lost ones were never sent again
    assert AcContact.objects.filter(account=account(facts)).count() == 6  # the lost ones landed, once


def test_changes_say_with_the_first_page_how_many_contacts_the_read_gives(ac, facts):
    account_fill(account(facts), 150)
    pages = ac.changes("contact", None, ["email"])
    next(pages)
    assert ac.changes_total == 150
