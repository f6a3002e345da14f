"""The Zoho CRM and Zoho Campaigns connectors against the Zoho sandbox, over HTTP: the
token refreshed before it expires and stored, a revoked grant, api_domain discovery, the
keyset read through a crowded second, deleted records past 2,000, writes with one outcome
per record, notifications with their token; Campaigns' lists, bulk adds, unsubscribes,
envelope errors and lock-outs."""
from datetime import datetime, timedelta, timezone

import pytest

from connectors.base import AuthExpired, NotFound, RateLimited, ValidationFailed
from connectors.sandbox.models.zoho import ZcList, ZcMembership, ZohoOrg, ZohoRecord, ZohoToken
from connectors.sandbox.zoho.oauth import grant_revoke
from connectors.zoho_campaigns import ZohoCampaignsConnector
from connectors.zoho_crm import ZohoCrmConnector

pytestmark = pytest.mark.django_db(transaction=True, available_apps=["connectors.sandbox"])


class Clock:
    def __init__(self):
        self.now = datetime.now(timezone.utc).timestamp()

    def __call__(self):
        return self.now


def grant(facts, **extra):
    return {"accounts_url": facts.accounts_url, "client_id": facts.client_id, "client_secret": facts.client_secret,
            "refresh_token": facts.refresh_token, **extra}


@pytest.fixture
def crm_for():
    made = []

    def make(facts, **options):
        options.setdefault("sleep", lambda s: None)
        credentials = options.pop("credentials", None) or grant(facts)
        made.append(ZohoCrmConnector(base_url=options.pop("base_url", facts.api_domain), credentials=credentials,
                                     **options))
        return made[-1]

    yield make
    for connector in made:
        connector.close()


@pytest.fixture
def campaigns_for():
    made = []

    def make(facts, **options):
        options.setdefault("sleep", lambda s: None)
        made.append(ZohoCampaignsConnector(base_url=facts.campaigns_url, credentials=grant(facts), **options))
        return made[-1]

    yield make
    for connector in made:
        connector.close()


def org_of(facts):
    return ZohoOrg.objects.get(client_id=facts.client_id)


# --- OAuth ------------------------------------------------------------------------------------------
def test_the_token_is_refreshed_before_it_expires_and_handed_on_to_be_stored(zoho_org, crm_for):
    stored, clock = [], Clock()
    crm = crm_for(zoho_org, on_credentials_changed=stored.append, clock=clock)

    crm.check()
    crm.check()
    clock.now += 3600 - 200  # inside the refresh margin, before the token runs out
    crm.check()

    assert crm.token_refreshes == 2
    assert [set(s) for s in stored] == [{"access_token", "access_token_expires_at", "api_domain"}] * 2
    assert stored[0]["api_domain"] == zoho_org.api_domain


def test_a_stored_token_is_reused_by_the_next_connector(zoho_org, crm_for):
    stored = []
    crm_for(zoho_org, on_credentials_changed=stored.append).check()

    again = crm_for(zoho_org, credentials=grant(zoho_org, **stored[0]))
    again.check()

    assert again.token_refreshes == 0


def test_a_token_refused_by_the_api_is_refreshed_once_and_the_call_made_again(zoho_org, crm_for):
    crm = crm_for(zoho_org)
    crm.check()
    ZohoToken.objects.update(expires_at=datetime.now(timezone.utc) - timedelta(seconds=1))

    crm.check()

    assert crm.token_refreshes == 2


def test_a_revoked_grant_is_a_permanent_auth_error_with_a_clear_message(zoho_org, crm_for, campaigns_for):
    grant_revoke(org_of(zoho_org))

    for connector in (crm_for(zoho_org), campaigns_for(zoho_org)):
        with pytest.raises(AuthExpired) as raised:
            connector.check()
        assert raised.value.code == "invalid_code" and not raised.value.retriable
        assert "revoked" in raised.value.message and zoho_org.refresh_token not in raised.value.message
        assert connector.api_calls == 1  # not tried again


def test_the_api_domain_named_by_the_token_is_used(zoho_org, crm_for):
    crm = crm_for(zoho_org, base_url="http://127.0.0.1:9/wrong")
    assert crm.check().account_name == "Zoho CRM organisation Acme Zoho"


# --- CRM reading ---------------------------------------------------------------------------------------
def stamped(facts, module, count, moment, *, prefix="p"):
    org = org_of(facts)
    ZohoRecord.objects.bulk_create([
        ZohoRecord(org=org, module=module, record_id=org.id_base + 10**9 + n, email_key=f"{prefix}{n}@example.com",
                   values={"Last_Name": f"P{n}", "Email": f"{prefix}{n}@example.com"}, created_at=moment,
                   modified_at=moment) for n in range(count)])


def test_changes_read_a_crowded_second_apart_and_resume_from_its_cursor(zoho_org, crm_for):
    moment = datetime(2024, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
    stamped(zoho_org, "Contacts", 450, moment)
    crm = crm_for(zoho_org)

    pages = list(crm.changes("Contacts", None, ["Email"]))
    records = [r for page in pages for r in page]
    resumed = [r for page in crm.changes("Contacts", records[299].cursor, ["Email"]) for r in page]

    assert len(records) == 450 and len({r.id for r in records}) == 450
    assert records[299].cursor and records[299].cursor.endswith(records[299].id)
    assert {r.id for r in resumed} == {r.id for r in records[300:]}


def test_changes_from_a_watermark_skip_earlier_seconds(zoho_org, crm_for):
    stamped(zoho_org, "Leads", 3, datetime(2024, 1, 1, tzinfo=timezone.utc), prefix="old")
    stamped_later = datetime(2024, 6, 1, tzinfo=timezone.utc)
    org = org_of(zoho_org)
    ZohoRecord.objects.create(org=org, module="Leads", record_id=org.id_base + 5, values={"Last_Name": "New"},
                              created_at=stamped_later, modified_at=stamped_later)
    crm = crm_for(zoho_org)

    read = [r for page in crm.changes("Leads", "2024-06-01T00:00:00Z", ["Last_Name"]) for r in page]

    assert [r.fields["Last_Name"] for r in read] == ["New"]
    assert read[0].modified_at == "2024-06-01T00:00:00+00:00"


def test_deleted_records_are_read_past_2000_with_page_token(zoho_org, crm_for):
    moment = datetime.now(timezone.utc).replace(microsecond=0)
    stamped(zoho_org, "Leads", 2050, moment - timedelta(days=1))
    ZohoRecord.objects.update(deleted_at=moment, deleted_type="recycle")
    crm = crm_for(zoho_org)

    gone = crm.deleted("Leads", (moment - timedelta(hours=1)).isoformat())

    assert len(gone) == 2050 and gone[0].fields["type"] == "recycle"
    assert crm.api_calls == 1 + 11  # the token, ten pages by page and one by page_token


def test_fetch_and_find_by_email_any_case(zoho_org, crm_for):
    crm = crm_for(zoho_org)
    made = crm.create("Contacts", [{"Last_Name": "Lovelace", "Email": "ada@example.com"},
                                   {"Last_Name": "Byron", "Email": "byron@example.com"}])

    found = crm.find("Contacts", "Email", ["ADA@example.com", "nobody@example.com"], ["Last_Name"])
    fetched = crm.fetch("Contacts", [made[1].id, "123"], ["Email"])

    assert [r.fields["Last_Name"] for r in found] == ["Lovelace"]
    assert [r.fields["Email"] for r in fetched] == ["byron@example.com"]


# --- CRM writing ---------------------------------------------------------------------------------------
def test_upsert_writes_100_a_call_with_one_outcome_per_record_in_order(zoho_org, crm_for):
    crm = crm_for(zoho_org)
    records = [{"Last_Name": f"L{n}", "Email": f"p{n}@example.com"} for n in range(150)]
    records[120] = {"Email": "no-last-name@example.com"}

    first = crm.upsert("Contacts", records, key="Email")
    calls = crm.api_calls
    again = crm.upsert("Contacts", records[:3], key="Email")

    assert calls == 1 + 2
    assert [r.ok for r in first].count(False) == 1 and not first[120].ok
    assert isinstance(first[120].error, ValidationFailed) and first[120].error.field == "Last_Name"
    assert all(r.created for n, r in enumerate(first) if n != 120)
    assert [r.id for r in again] == [r.id for r in first[:3]] and not any(r.created for r in again)


def test_update_refuses_an_email_in_use_and_an_unknown_id_alone(zoho_org, crm_for):
    crm = crm_for(zoho_org)
    a, b = crm.create("Contacts", [{"Last_Name": "A", "Email": "a@example.com"}, {"Last_Name": "B", "Email": "b@example.com"}])

    results = crm.update("Contacts", [{"Id": a.id, "Email": "b@example.com"}, {"Id": "999", "Last_Name": "X"},
                                      {"Id": b.id, "Last_Name": "Bee"}])

    assert [r.ok for r in results] == [False, False, True]
    assert results[0].error.matching_ids == [b.id]
    assert isinstance(results[1].error, NotFound)


def test_delete_finds_each_ids_module(zoho_org, crm_for):
    crm = crm_for(zoho_org)
    [contact] = crm.create("Contacts", [{"Last_Name": "C"}])
    [lead] = crm.create("Leads", [{"Last_Name": "L"}])

    results = crm.delete([contact.id, lead.id, "42"])

    assert [r.ok for r in results] == [True, True, False]
    assert ZohoRecord.objects.filter(deleted_at__isnull=False).count() == 2


def test_notifications_are_registered_renewed_and_their_token_checked(zoho_org, crm_for, zoho_notifications):
    crm = crm_for(zoho_org)
    channel = crm.webhook_register(zoho_notifications.url)
    crm.webhook_renew(zoho_notifications.url)
    [made] = crm.create("Contacts", [{"Last_Name": "Lovelace"}])

    [(_, body)] = zoho_notifications.posts
    events = ZohoCrmConnector.parse_webhook(body, token=crm.webhook_token(zoho_notifications.url))

    assert channel.isdigit() and crm.webhook_register(zoho_notifications.url) == channel
    assert [(e.type, e.record_id) for e in events] == [("created", made.id)]
    with pytest.raises(ValidationFailed):
        ZohoCrmConnector.parse_webhook(body, token="forged")


def test_describe_reads_a_modules_fields(zoho_org, crm_for):
    description = crm_for(zoho_org).describe("Contacts")
    assert description.field("Last_Name").required
    assert description.field("Account_Name").reference_to == ("Accounts",)
    assert description.field("Email_Opt_Out").type == "boolean"
    assert not description.field("Modified_Time").updateable


# --- Campaigns ------------------------------------------------------------------------------------------
def listkey_of(facts):
    return ZcList.objects.get(org__client_id=facts.client_id).listkey


def test_email_only_contacts_go_ten_a_call_and_a_bad_address_fails_alone(zoho_org, campaigns_for):
    campaigns = campaigns_for(zoho_org)
    listkey = listkey_of(zoho_org)
    records = [{"Contact Email": f"p{n}@example.com"} for n in range(25)]
    records[13] = {"Contact Email": "not an email"}

    results = campaigns.upsert(listkey, records)

    assert [r.ok for r in results].count(False) == 1 and not results[13].ok
    assert results[0].id == "p0@example.com"
    # the token, three bulk calls, and the failed group of ten again one by one
    assert campaigns.api_calls == 1 + 3 + 10
    assert campaigns.count(listkey) == 24


def test_an_unsubscribed_contact_stays_unsubscribed_after_an_upsert(zoho_org, campaigns_for):
    campaigns = campaigns_for(zoho_org)
    listkey = listkey_of(zoho_org)
    campaigns.upsert(listkey, [{"Contact Email": "ada@example.com", "First Name": "Ada"}])

    out = campaigns.unsubscribe(listkey, ["ada@example.com", "nobody@example.com"])
    campaigns.upsert(listkey, [{"Contact Email": "ada@example.com", "First Name": "Ada Augusta"}])
    [record] = campaigns.fetch(listkey, ["ADA@example.com"])

    assert [r.ok for r in out] == [True, False] and isinstance(out[1].error, NotFound)
    assert record.fields["Status"] == "unsub" and record.fields["First Name"] == "Ada Augusta"


def test_a_read_from_a_watermark_costs_what_changed_not_the_list(make_zoho_org, campaigns_for):
    facts = make_zoho_org(records=1000)  # about 600 on the list: three pages of 200 and more
    campaigns = campaigns_for(facts)
    listkey = listkey_of(facts)
    everyone = [r for page in campaigns.changes(listkey, None) for r in page]
    watermark = max(r.modified_at for r in everyone)
    first_read = campaigns.api_calls

    campaigns.upsert(listkey, [{"Contact Email": "ada@example.com", "First Name": "Ada"},
                               {"Contact Email": everyone[0].id, "First Name": "Renamed"}])
    campaigns.unsubscribe(listkey, [everyone[1].id])
    before = campaigns.api_calls
    changed = [r for page in campaigns.changes(listkey, watermark) for r in page]

    assert first_read - 1 == 3 + 1 + 1  # past the token: three pages of active subscribers, one of each other status
    assert campaigns.api_calls - before == 3  # one page of each status, newest first
    assert [r.id for r in changed][-3:] == ["ada@example.com", everyone[0].id, everyone[1].id]
    assert changed[-1].fields["Status"] == "unsub" and changed[-2].fields["First Name"] == "Renamed"
    assert all(r.modified_at >= watermark for r in changed)


def test_calls_are_paced_inside_zohos_limits_and_a_far_turn_pauses_instead_of_provoking_a_lock():
    from connectors.zoho_campaigns import Pacer

    pacer, windows = Pacer(), ((3, 60), (5, 3600))  # three a minute, five an hour
    turns = [pacer.reserve(("list", "listsubscribe"), windows, 0.0, longest_wait=60) for _ in range(6)]
    assert turns == [0, 0, 0, 60, 60, 3600]  # the sixth is not booked: the run pauses
    assert pacer.reserve(("list", "listsubscribe"), windows, 3600.0, longest_wait=60) == 0
    assert pacer.reserve(("other list", "listsubscribe"), windows, 0.0, longest_wait=60) == 0


def test_a_write_waits_for_its_turn_and_pauses_past_the_hourly_limit(zoho_org, campaigns_for, monkeypatch):
    from connectors import zoho_campaigns

    monkeypatch.setitem(zoho_campaigns.PACE, "listsubscribe", ((2, 60), (3, 3600)))
    slept, clock = [], Clock()
    campaigns = campaigns_for(zoho_org, sleep=slept.append, clock=clock)
    listkey = listkey_of(zoho_org)
    people = [{"Contact Email": f"p{n}@example.com", "First Name": f"P{n}"} for n in range(4)]

    assert all(r.ok for r in campaigns.upsert(listkey, people[:3]))
    with pytest.raises(RateLimited) as raised:
        campaigns.upsert(listkey, people[3:])

    assert slept == [60]  # the third waited a minute
    assert raised.value.daily and 3500 < raised.value.retry_after <= 3600
    assert campaigns.count(listkey) == 3


def test_lists_segments_and_counts(make_zoho_org, campaigns_for):
    facts = make_zoho_org(records=80)
    campaigns = campaigns_for(facts)

    [newsletter] = campaigns.lists()
    [segment] = campaigns.segments(newsletter["listkey"])
    members = campaigns.segment_contacts(segment["segment_id"])

    assert newsletter["listname"] == "Newsletter"
    assert int(newsletter["noofcontacts"]) == campaigns.count(newsletter["listkey"]) > 0
    assert campaigns.count(newsletter["listkey"], "unsub") == ZcMembership.objects.filter(status="unsub").count()
    assert members and all(m.fields["Status"] == "active" for m in members)


def test_envelope_errors_at_http_200_become_neutral_errors(zoho_org, campaigns_for):
    campaigns = campaigns_for(zoho_org)
    with pytest.raises(NotFound) as raised:
        campaigns.count("no-such-list")
    assert raised.value.code == "2501"
    [refused] = campaigns.upsert(listkey_of(zoho_org), [{"Contact Email": "ada@example.com", "Shoe Size": "9"}])
    assert isinstance(refused.error, ValidationFailed)


def test_a_locked_method_is_reported_and_not_retried(make_zoho_org, campaigns_for, zoho_clock):
    facts = make_zoho_org(campaigns_limits={"listsubscriberscount": [2, 300, 1800]})
    campaigns = campaigns_for(facts, max_retries=5)
    listkey = listkey_of(facts)
    campaigns.count(listkey)
    campaigns.count(listkey)

    with pytest.raises(RateLimited) as raised:
        campaigns.count(listkey)

    assert raised.value.daily and raised.value.retry_after == 1800
    assert campaigns.lists()  # other methods go on


def test_a_campaigns_token_refused_1007_is_refreshed_once(zoho_org, campaigns_for):
    campaigns = campaigns_for(zoho_org)
    campaigns.check()
    ZohoToken.objects.all().delete()

    campaigns.check()

    assert campaigns.token_refreshes == 2
