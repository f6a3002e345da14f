"""CO-2 end to end: a corpus of bad values (emails, lengths, types, picklists, control
characters, markup, unicode, required fields) run through a real sync into Salesforce,
HubSpot and ActiveCampaign over the sandboxes, no web and no worker. Each bad record fails
alone before anything is sent, with a reason naming the field; every good record arrives
with its values intact; and every page that shows the records or their failures answers
200 with each value escaped.

The source is a Salesforce org whose Contacts carry every value as free text (as an import
would), one bad value per record, the record otherwise good."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from html.parser import HTMLParser
from pprint import pformat
from typing import Any, Callable

import pytest
from django.utils.html import escape

from connectors.sandbox.salesforce.orgs import org_add_field, org_get
from connectors.sandbox.salesforce.seed import records_bulk_create
from syncconfig import preflight, roles
from syncconfig.models import RecordError, Sync, SyncRun
from syncconfig.services import connection_connector
from tests.engine.test_preflight_runs import control_character, run, sent  # noqa: F401 (sent is a fixture)
from tests.factories import ConnectionFactory, FieldMappingFactory, SyncFactory, UserFactory, salesforce_connection

pytestmark = pytest.mark.django_db(transaction=True)

# Markup that would run if a page let it through: as a name it is a good value (it must
# arrive unchanged and show as text); in an email, a phone or a web address it is bad.
IMG = '<img src=x onerror="window.__pwned=1">'
SCRIPT = "<script>window.__pwned=1</script>"
BOLD = '<b data-pwned="1">Ltd</b>'


@dataclass(frozen=True)
class Bad:
    kind: str  # emails, lengths, types, picklists, controls, markup, unicode, required
    field: str  # the target field its failure must name
    value: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.field}={preflight.shorten(self.value)!r}"


def bad(kind: str, field: str, *values: str) -> list[Bad]:
    return [Bad(kind, field, value) for value in values]


EMAILS = ("not-an-email", "ada@", "@example.com", "ada@@example.com", "ada@example", "ada..lovelace@example.com",
          "ada lovelace@example.com", "ada@example.com, bob@example.com", '"ada"@example.com', "ada@[127.0.0.1]",
          "ada@-example.com")
PADDED_EMAILS = (" ada@example.com", "ada@example.com ")  # HubSpot and ActiveCampaign trim them; Salesforce refuses
MARKUP_IN_ADDRESSES = (f"{SCRIPT}@example.com", IMG, f"ada@example.com{SCRIPT}")
LONG_EMAIL = "a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".com"  # 312 characters; no address has over 254
UNICODE_EMAILS = ("ada\uff20example.com", "ada@exa\u200bmple.com")  # a full-width @; a zero-width space
DATES = ("31/12/2024", "2024-13-01", "2024-02-30", "yesterday", "20241231", "2024-12-31T17:30:00Z")
DATETIMES = ("2024-12-31 25:00", "noon", "2024-12-31", "2024")
NUMBERS = ("12k", "1,5", "NaN", "inf", "1_000")
UNICODE_NUMBERS = ("\u0661\u0662", "\uff11\uff12")  # Arabic-Indic and full-width digits
PHONES = ("call me maybe", "12")
MARKUP_IN_PHONES = ("+49 30 1234567 <b>", IMG)
BLANKS = ("   ", "\t\n", "", "\u00a0\u2003")


# --- the source -----------------------------------------------------------------------------------
def free_text_field(target_field: str) -> str:
    """The source Contact's free-text field that carries a target field's value."""
    return f"In_{target_field.removesuffix('__c').replace('_', '')}__c"


def make_sync(org, target, target_object: str, targets: list[str], *, key: str, **options) -> Sync:
    """A sync from the org's Contacts (every value in a free-text field of its own, a long
    text area as long as Salesforce makes them) to ``target_object`` of ``target``, mapping
    each to its target field."""
    for field in targets:
        org_add_field(org_get(org.org_id), sobject="Contact", name=free_text_field(field), field_type="textarea",
                      length=131_072)
    sync = SyncFactory(name=f"Bad input into {target.name}", source=salesforce_connection(org, "Source org"),
                       source_object="Contact", target=target, target_object=target_object, enabled=True, **options)
    for position, field in enumerate(targets):
        FieldMappingFactory(sync=sync, source_field=free_text_field(field), target_field=field, position=position,
                            is_key=field == key)
    return sync


def seed(org, good: list[dict[str, str]], bads: list[Bad], base: Callable[[int], dict[str, str]]) -> tuple[list[str], list[str]]:
    """The source records, good ones first: each is ``base(n)`` with its own values over it
    (one bad value for a bad record). Returns the ids of the good and of the bad records."""
    rows = [{**base(n), **values} for n, values in enumerate(good)]
    rows += [{**base(n), bad.field: bad.value} for n, bad in enumerate(bads, start=len(good))]
    ids = records_bulk_create(org_get(org.org_id), "Contact", [
        {"LastName": f"Row {n}", **{free_text_field(field): value for field, value in values.items()}}
        for n, values in enumerate(rows)])
    return ids[:len(good)], ids[len(good):]


# --- what the run must have done ------------------------------------------------------------------
def assert_each_bad_record_failed_alone_naming_its_field(sync: Sync, result: SyncRun, bads: list[Bad], bad_ids: list[str],
                                                         good_ids: list[str], sent: list[list[str]]) -> None:
    description = preflight.description_of(connection_connector(sync.target), sync.target_object)
    open_errors: dict[str, list[RecordError]] = {}
    for error in RecordError.objects.filter(sync=sync, state=RecordError.State.OPEN):
        open_errors.setdefault(error.record_id, []).append(error)
    wrong = {}
    for record_id, value in zip(bad_ids, bads):
        spec = description.field(value.field)
        errors = open_errors.pop(record_id, [])
        if not (len(errors) == 1 and errors[0].field == value.field and errors[0].code.startswith(preflight.PREFIX)
                and errors[0].message.startswith(f"{spec.label} ({spec.name})")):
            wrong[str(value)] = [(e.field, e.code, e.message[:160]) for e in errors]
    assert not wrong, f"{len(wrong)} bad values not refused alone, naming their field:\n{pformat(wrong, width=200)}"
    assert open_errors == {}, "a good record failed"
    assert (result.status, result.failed_count, result.created_count) == ("partial", len(bads), len(good_ids)), result.message
    assert sorted(r for batch in sent for r in batch) == sorted(good_ids), "a bad record was sent"


def assert_good_records_arrived(sync: Sync, good: list[dict[str, str]], base: Callable[[int], dict[str, str]], key: str,
                                stored: Callable[[str, str], Any]) -> None:
    """Read back through the target's connector: each good record, every value as sent."""
    target = connection_connector(sync.target)
    expected = [{**base(n), **values} for n, values in enumerate(good)]
    fields = sorted({field for values in expected for field in values})
    records = target.find(sync.target_object, key, [v[key] for v in expected], fields)
    found = {str(r.fields[key]).lower(): r.fields for r in records}
    assert len(found) == len(expected)
    for values in expected:
        sent = {f: v for f, v in values.items() if v.strip()}
        assert {f: stored(f, v) for f, v in sent.items()} == {f: found[values[key].lower()].get(f) for f in sent}


# --- the pages that show them -------------------------------------------------------------------
class Page(HTMLParser):
    """What a browser would make of a page: its text, every attribute, what its scripts hold."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.attributes: list[tuple[str, str, str]] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.attributes += [(tag, name, value or "") for name, value in attrs]
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        (self.scripts if self._in_script else self.text).append(data)


def assert_nothing_injected(url: str, html: str) -> None:
    """No element, attribute or script of the page comes from a value."""
    page = Page(html)
    injected = [(tag, name, value) for tag, name, value in page.attributes
                if name.startswith("on") or name == "data-pwned" or (tag == "img" and value == "x")]
    assert injected == [], url
    assert not any("__pwned" in script for script in page.scripts), url
    for raw in (IMG, SCRIPT, BOLD, "<b>"):
        assert raw not in html, f"{raw} unescaped on {url}"


def assert_every_page_shows_the_values_escaped(client, sync: Sync, result: SyncRun, shown_on_run_page: list[str]) -> None:
    """Every page that shows the sync's records or their failures answers 200 with nothing
    injected; each failure's reason is on its pages escaped, and the markup of the good
    records' ``shown_on_run_page`` values is on the run page as text."""
    client.force_login(UserFactory(role=roles.MARKETING_ADMIN, is_staff=True, is_superuser=True))
    errors = list(RecordError.objects.filter(sync=sync))
    failures = f"/admin/syncconfig/recorderror/?sync__id__exact={sync.pk}"
    run_page = f"/runs/{result.pk}/"
    showing_every_reason = [run_page, failures, f"/admin/syncconfig/syncrun/{result.pk}/change/"]
    urls = [
        "/", f"/syncs/{sync.pk}/", f"/runs/{result.pk}/progress/", f"{failures}&state__exact=open",
        *sorted({f"{failures}&error_class__exact={e.error_class}&state__exact=open" for e in errors}),
        "/admin/syncconfig/recorderror/?q=pwned", f"/admin/syncconfig/recordlink/?sync__id__exact={sync.pk}",
        *[f"/admin/syncconfig/recorderror/{e.pk}/change/" for e in errors], *showing_every_reason,
    ]
    html = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        html[url] = response.content.decode()
        assert_nothing_injected(url, html[url])
    for error in errors:
        for url in (*showing_every_reason, f"/admin/syncconfig/recorderror/{error.pk}/change/"):
            assert escape(error.message) in html[url], f"the reason of {error.record_id} not shown escaped on {url}"
    text = " ".join(Page(html[run_page]).text)
    for value in shown_on_run_page:
        assert value in text and escape(value) in html[run_page], f"{value} not shown as text on the run page"


# --- into Salesforce: Leads -----------------------------------------------------------------------
LEAD_FIELDS = ["Email", "FirstName", "LastName", "Company", "Title", "Phone", "Website", "City", "PostalCode", "Status",
               "AnnualRevenue", "NumberOfEmployees", "Description", "Born__c", "Met_At__c", "Opted_In__c"]


def lead(n: int) -> dict[str, str]:
    return {"Email": f"lead{n}@example.com", "FirstName": "Ada", "LastName": f"Lovelace {n}", "Company": "Analytical Engines",
            "Title": "Countess", "Phone": "+44 20 7946 0000", "Website": "https://example.com/", "City": "London",
            "PostalCode": "NW1 6XE", "Status": "Working - Contacted", "AnnualRevenue": "1234.50", "NumberOfEmployees": "12",
            "Description": "Wrote the first program.\nTabs\tand all.", "Born__c": "1815-12-10",
            "Met_At__c": "2024-12-31T17:30:00Z", "Opted_In__c": "true"}


GOOD_LEADS = [
    {"FirstName": SCRIPT, "LastName": IMG, "Company": f"Smith & Sons {BOLD}", "Description": f"<p>{SCRIPT}</p>"},
    {"FirstName": "Łukasz Ö'Brien", "LastName": "Müller-Łódź 東京", "City": "São Paulo",
     "Email": "ada.lovelace+crm@example.co.uk"},
    {"AnnualRevenue": "-5", "NumberOfEmployees": "12.0", "Opted_In__c": "FALSE", "Status": "Open - Not Contacted",
     "Website": "www.example.com/about?x=1&y=2", "Phone": "+44 (20) 7946-0001 ext. 12"},
    {"FirstName": "F" * 40, "LastName": "L" * 80, "City": "C" * 40, "PostalCode": "1" * 20, "Website": "https://münchen.de/"},
    {"Met_At__c": "2024-12-31T17:30:00+01:00", "Born__c": "2000-02-29", "Description": "Zero\u200bwidth and émojis 🎉"},
]

BAD_LEADS = [
    *bad("emails", "Email", *EMAILS, *PADDED_EMAILS),
    *bad("markup", "Email", *MARKUP_IN_ADDRESSES),
    *bad("unicode", "Email", "jürgen@example.com", "ada@münchen.de", *UNICODE_EMAILS),
    *bad("lengths", "Email", "a" * 69 + "@example.com"),  # 81 characters, one over the field's
    *bad("lengths", "FirstName", "F" * 41), *bad("lengths", "LastName", "L" * 81), *bad("lengths", "Company", "C" * 256),
    *bad("lengths", "City", "C" * 41), *bad("lengths", "PostalCode", "1" * 21), *bad("lengths", "Title", "T" * 129),
    *bad("lengths", "Phone", "1" * 41), *bad("lengths", "Website", "https://example.com/" + "p" * 236),
    *bad("lengths", "Description", "d" * 32_001),
    *bad("types", "AnnualRevenue", *NUMBERS), *bad("unicode", "AnnualRevenue", *UNICODE_NUMBERS),
    *bad("types", "NumberOfEmployees", "12.5", "twelve"),
    *bad("types", "Born__c", *DATES), *bad("types", "Met_At__c", *DATETIMES), *bad("types", "Opted_In__c", "yes", "1"),
    *bad("types", "Phone", *PHONES), *bad("markup", "Phone", *MARKUP_IN_PHONES),
    *bad("types", "Website", "javascript:alert(1)", "not a url", "ftp://example.com", "https://"),
    *bad("markup", "Website", SCRIPT, f'https://example.com/">{SCRIPT}'),
    *bad("picklists", "Status", "Done", "open - not contacted", "Working - Contacted ", "<b>Working - Contacted</b>"),
    *bad("controls", "LastName", f"Love{control_character()}lace"), *bad("controls", "FirstName", "Ada\x07", "Ada\x7f"),
    *bad("controls", "Description", "bell \x1b[31m red"), *bad("controls", "Company", "Acme\x0b Ltd"),
    *bad("controls", "Email", f"ada@example.com{control_character()}"), *bad("unicode", "City", "Lon\u0085don"),
    *bad("required", "LastName", *BLANKS), *bad("required", "Company", "  ", ""),
]


def salesforce_stored(field: str, value: str) -> Any:
    """A Lead's value as Salesforce keeps what was sent."""
    if field == "AnnualRevenue":
        return float(value)
    if field == "NumberOfEmployees":
        return int(float(value))
    if field == "Opted_In__c":
        return value.lower() == "true"
    if field == "Met_At__c":  # in UTC, to the millisecond
        moment = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)
        return f"{moment:%Y-%m-%dT%H:%M:%S}.000+0000"
    return value


def test_co2_a_corpus_of_bad_values_into_salesforce_leads_fails_record_by_record_naming_each_field(
        make_salesforce_org, sent, client):
    source, target = make_salesforce_org(name="Source org"), make_salesforce_org(name="Target org")
    for name, kind in (("Born__c", "date"), ("Met_At__c", "datetime"), ("Opted_In__c", "boolean")):
        org_add_field(org_get(target.org_id), sobject="Lead", name=name, field_type=kind)
    sync = make_sync(source, salesforce_connection(target, "Target org"), "Lead", LEAD_FIELDS, key="Email",
                     target_id_field="External_Id__c")
    good_ids, bad_ids = seed(source, GOOD_LEADS, BAD_LEADS, lead)

    result = run(sync)

    assert_each_bad_record_failed_alone_naming_its_field(sync, result, BAD_LEADS, bad_ids, good_ids, sent)
    assert_good_records_arrived(sync, GOOD_LEADS, lead, "Email", salesforce_stored)
    assert_every_page_shows_the_values_escaped(client, sync, result, [SCRIPT, IMG, f"Smith & Sons {BOLD}"])


# --- into HubSpot: contacts -----------------------------------------------------------------------
HUBSPOT_PROPERTIES = [
    {"name": "born", "label": "Born", "type": "date", "fieldType": "date"},
    {"name": "met_at", "label": "Met at", "type": "datetime", "fieldType": "date"},
    {"name": "employees", "label": "Employees", "type": "number", "fieldType": "number"},
    {"name": "opted_in", "label": "Opted in", "type": "bool", "fieldType": "booleancheckbox",
     "options": [{"label": "Yes", "value": "true"}, {"label": "No", "value": "false"}]},
    {"name": "plan", "label": "Plan", "type": "enumeration", "fieldType": "select",
     "options": [{"label": p, "value": p} for p in ("Free", "Pro", "Enterprise")]},
    {"name": "topics", "label": "Topics", "type": "enumeration", "fieldType": "checkbox",
     "options": [{"label": t, "value": t} for t in ("Sales", "Support", "Product")]},
]
HUBSPOT_FIELDS = ["email", "firstname", "lastname", "phone", "company", "jobtitle", "city", "zip", "lifecyclestage",
                  *(p["name"] for p in HUBSPOT_PROPERTIES)]
LONGEST_HUBSPOT_TEXT = 65_536  # "A plain text string, limited to 65,536 characters" (HubSpot's CRM properties guide)


def hubspot_contact(n: int) -> dict[str, str]:
    return {"email": f"contact{n}@example.com", "firstname": "Grace", "lastname": f"Hopper {n}", "phone": "+1 212 555 0100",
            "company": "US Navy", "jobtitle": "Rear Admiral", "city": "Arlington", "zip": "22201", "lifecyclestage": "lead",
            "born": "1906-12-09", "met_at": "2024-12-31T17:30:00Z", "employees": "12", "opted_in": "true", "plan": "Pro",
            "topics": "Sales;Support"}


GOOD_HUBSPOT_CONTACTS = [
    {"firstname": SCRIPT, "lastname": IMG, "company": f"Smith & Sons {BOLD}", "jobtitle": "<i>CTO</i>"},
    {"email": "jürgen@example.com", "firstname": "Łukasz Ö'Brien", "lastname": "Müller-Łódź 東京", "city": "São Paulo"},
    {"email": "ada@münchen.de", "employees": "-5", "opted_in": "FALSE", "lifecyclestage": "customer", "topics": "Product",
     "phone": "+44 (20) 7946-0001 ext. 12"},
    {"firstname": "F" * LONGEST_HUBSPOT_TEXT, "employees": "12.75", "born": "2000-02-29", "plan": "Enterprise"},
    {"met_at": "2024-12-31T17:30:00+01:00", "email": "Grace.Hopper+crm@Example.co.uk"},
]

BAD_HUBSPOT_CONTACTS = [
    *bad("emails", "email", *EMAILS),
    *bad("markup", "email", *MARKUP_IN_ADDRESSES), *bad("markup", "phone", *MARKUP_IN_PHONES),
    *bad("unicode", "email", *UNICODE_EMAILS), *bad("unicode", "employees", *UNICODE_NUMBERS),
    *bad("unicode", "firstname", "Grace\u0085"),
    *bad("lengths", "email", LONG_EMAIL),
    *[Bad("lengths", field, field[0] * (LONGEST_HUBSPOT_TEXT + 1)) for field in ("firstname", "lastname", "company", "city")],
    *bad("types", "born", *DATES, "1906-12-9"), *bad("types", "met_at", *DATETIMES), *bad("types", "employees", *NUMBERS),
    *bad("types", "opted_in", "yes", "1", "on"), *bad("types", "phone", *PHONES),
    *bad("picklists", "lifecyclestage", "Customer!", "Lead"), *bad("picklists", "plan", "Platinum", "pro", "Pro;Free"),
    *bad("picklists", "topics", "Sales;Marketing", "Billing", "sales"),
    *bad("controls", "firstname", "Grace\x07"), *bad("controls", "lastname", f"Hop{control_character()}per"),
    *bad("controls", "company", "Navy\x0b"), *bad("controls", "jobtitle", "\x1b[31mAdmiral"),
    *bad("controls", "city", "Arl\x7fington"), *bad("controls", "email", f"grace@example.com{control_character()}"),
    *bad("required", "email", *BLANKS),
]


def hubspot_stored(field: str, value: str) -> Any:
    """A contact's value as HubSpot keeps what was sent: strings, booleans in lower case,
    moments in UTC to the millisecond."""
    if field == "opted_in":
        return value.lower()
    if field == "met_at":
        moment = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)
        return f"{moment:%Y-%m-%dT%H:%M:%S}.000Z"
    return value


def test_co2_a_corpus_of_bad_values_into_hubspot_contacts_fails_record_by_record_naming_each_field(
        make_salesforce_org, make_hubspot_account, sent, client):
    from connectors.sandbox.hubspot.properties import property_create
    from connectors.sandbox.models.hubspot import HsAccount

    source, hub = make_salesforce_org(name="Source org"), make_hubspot_account(name="Target hub")
    for prop in HUBSPOT_PROPERTIES:
        property_create(HsAccount.objects.get(token=hub.token), {**prop, "groupName": "contactinformation"})
    hubspot = ConnectionFactory(name="Target hub", kind="hubspot", base_url=hub.base_url,
                                credentials={"token": hub.token, "app_id": str(hub.app_id), "client_secret": hub.client_secret})
    sync = make_sync(source, hubspot, "contacts", HUBSPOT_FIELDS, key="email")
    good_ids, bad_ids = seed(source, GOOD_HUBSPOT_CONTACTS, BAD_HUBSPOT_CONTACTS, hubspot_contact)

    result = run(sync)

    assert_each_bad_record_failed_alone_naming_its_field(sync, result, BAD_HUBSPOT_CONTACTS, bad_ids, good_ids, sent)
    assert_good_records_arrived(sync, GOOD_HUBSPOT_CONTACTS, hubspot_contact, "email", hubspot_stored)
    assert_every_page_shows_the_values_escaped(client, sync, result, [SCRIPT, IMG, f"Smith & Sons {BOLD}", "<i>CTO</i>"])


# --- into ActiveCampaign: contacts ----------------------------------------------------------------
ACTIVECAMPAIGN_FIELDS = [("Met at", "MET_AT", "datetime", ()), ("Plan", "PLAN", "radio", ("Free", "Pro", "Enterprise")),
                         ("Channels", "CHANNELS", "multiselect", ("Email", "SMS", "Phone"))]
ACTIVECAMPAIGN_TARGETS = ["email", "firstName", "lastName", "phone", "COMPANY_SIZE", "INDUSTRY", "BIRTHDAY", "INTERESTS",
                          *(perstag for _, perstag, _, _ in ACTIVECAMPAIGN_FIELDS)]


def activecampaign_contact(n: int) -> dict[str, str]:
    return {"email": f"person{n}@example.com", "firstName": "Alan", "lastName": f"Turing {n}", "phone": "+44 161 496 0000",
            "COMPANY_SIZE": "11-50", "INDUSTRY": "Computing", "BIRTHDAY": "1912-06-23", "INTERESTS": "Newsletter;Events",
            "MET_AT": "2024-12-31T17:30:00Z", "PLAN": "Pro", "CHANNELS": "Email"}


GOOD_ACTIVECAMPAIGN_CONTACTS = [
    {"firstName": SCRIPT, "lastName": IMG, "INDUSTRY": f"Smith & Sons {BOLD}"},
    {"firstName": "Łukasz Ö'Brien", "lastName": "Müller-Łódź 東京", "INDUSTRY": "Café ☕"},
    {"INTERESTS": "Webinars", "CHANNELS": "Email;SMS", "COMPANY_SIZE": "1000+", "PLAN": "Enterprise",
     "phone": "+44 (20) 7946-0001 ext. 12"},
    {"firstName": "F" * 255, "BIRTHDAY": "2000-02-29", "MET_AT": "2024-12-31T17:30:00+01:00",
     "email": "Alan.Turing+crm@Example.co.uk"},
]

BAD_ACTIVECAMPAIGN_CONTACTS = [
    *bad("emails", "email", *EMAILS, "ada@example..com"),
    *bad("markup", "email", *MARKUP_IN_ADDRESSES), *bad("markup", "phone", *MARKUP_IN_PHONES),
    *bad("unicode", "email", "jürgen@example.com", "ada@münchen.de", *UNICODE_EMAILS),
    *bad("unicode", "INDUSTRY", "Tech\u0085"), *bad("unicode", "firstName", "Alan\u009b"),
    *bad("lengths", "email", LONG_EMAIL, "ada@" + "b" * 64 + ".com"),
    *bad("lengths", "firstName", "F" * 256), *bad("lengths", "lastName", "L" * 256), *bad("lengths", "phone", "1" * 256),
    *bad("types", "BIRTHDAY", *DATES, "1912-6-23", "1912-06-23T00:00:00Z"),
    *bad("types", "MET_AT", *DATETIMES, "31.12.2024 17:30", "tomorrow"),
    *bad("types", "phone", *PHONES),
    *bad("picklists", "COMPANY_SIZE", "a few", "11 - 50", "<b>1-10</b>"), *bad("picklists", "PLAN", "Gold", "pro", "Pro;Free"),
    *bad("picklists", "INTERESTS", "Newsletter;Cooking", "newsletter"), *bad("picklists", "CHANNELS", "SMS;Fax", "email"),
    *bad("controls", "firstName", "Alan\x07"), *bad("controls", "lastName", f"Tur{control_character()}ing"),
    *bad("controls", "INDUSTRY", "\x1b[31mComputing", "Tab\x0bbed"), *bad("controls", "phone", "+44\x7f 161 496 0000"),
    *bad("controls", "email", f"alan@example.com{control_character()}"),
    *bad("required", "email", *BLANKS),
]


def activecampaign_stored(field: str, value: str) -> Any:
    """A contact's value as ActiveCampaign keeps what was sent: choices of a multi-value
    field as a list, moments in ISO 8601 with their offset."""
    if field in ("INTERESTS", "CHANNELS"):
        return value.split(";")
    if field == "MET_AT":
        return datetime.fromisoformat(value.replace("Z", "+00:00")).isoformat()
    return value


def test_co2_a_corpus_of_bad_values_into_activecampaign_contacts_fails_record_by_record_naming_each_field(
        make_salesforce_org, make_activecampaign_account, sent, client):
    from connectors.sandbox.activecampaign.schema import field_add
    from connectors.sandbox.models.activecampaign import AcAccount

    source, account = make_salesforce_org(name="Source org"), make_activecampaign_account(name="Target AC")
    for title, perstag, kind, options in ACTIVECAMPAIGN_FIELDS:
        field_add(AcAccount.objects.get(api_key=account.api_key), title=title, perstag=perstag, field_type=kind, options=options)
    activecampaign = ConnectionFactory(name="Target AC", kind="activecampaign", base_url=account.api_url,
                                       credentials={"api_key": account.api_key})
    sync = make_sync(source, activecampaign, "contact", ACTIVECAMPAIGN_TARGETS, key="email")
    good_ids, bad_ids = seed(source, GOOD_ACTIVECAMPAIGN_CONTACTS, BAD_ACTIVECAMPAIGN_CONTACTS, activecampaign_contact)

    result = run(sync)

    assert_each_bad_record_failed_alone_naming_its_field(sync, result, BAD_ACTIVECAMPAIGN_CONTACTS, bad_ids, good_ids, sent)
    assert_good_records_arrived(sync, GOOD_ACTIVECAMPAIGN_CONTACTS, activecampaign_contact, "email", activecampaign_stored)
    assert_every_page_shows_the_values_escaped(client, sync, result, [SCRIPT, IMG, f"Smith & Sons {BOLD}"])


@pytest.mark.parametrize("corpus", [BAD_LEADS, BAD_HUBSPOT_CONTACTS, BAD_ACTIVECAMPAIGN_CONTACTS],
                         ids=["salesforce", "hubspot", "activecampaign"])
def test_each_corpus_has_at_least_sixty_bad_values_of_every_kind(corpus):
    assert len(corpus) >= 60
    assert {b.kind for b in corpus} >= {"emails", "lengths", "types", "picklists", "controls", "markup", "unicode", "required"}
