"""Pre-flight checks of outgoing records against the target's own description: a corpus of
bad values, each refused with a reason naming the field, and good values let through.
No web, no database, no vendor."""
from datetime import date, datetime, timezone

import pytest

from connectors.base import FieldDescription, ObjectDescription
from syncconfig import preflight

FIELDS = [
    FieldDescription("LastName", "Last Name", "string", required=True, length=80),
    FieldDescription("FirstName", "First Name", "string", length=40),
    FieldDescription("Email", "Email", "email", length=80),
    FieldDescription("Phone", "Phone", "phone", length=40),
    FieldDescription("Website", "Website", "url", length=255),
    FieldDescription("Birthdate", "Birthdate", "date"),
    FieldDescription("Met_At__c", "Met at", "datetime"),
    FieldDescription("Opted_In__c", "Opted in", "boolean"),
    FieldDescription("Revenue__c", "Revenue", "currency"),
    FieldDescription("Employees__c", "Employees", "int"),
    FieldDescription("Status__c", "Status", "picklist", picklist_values=("Open", "Working", "Closed"), restricted=True),
    FieldDescription("Topics__c", "Topics", "multipicklist", picklist_values=("Sales", "Support"), restricted=True),
    FieldDescription("Source__c", "Source", "picklist", picklist_values=("Web",)),  # not restricted
    FieldDescription("Notes__c", "Notes", "textarea", length=1000),
    FieldDescription("Score__c", "Score", "double", createable=False, updateable=False),
    FieldDescription("Region__c", "Region", "string", createable=True, updateable=False, length=20),
]
DESCRIPTION = ObjectDescription("Contact", "Contact", FIELDS)

BAD = [
    # emails
    ("Email", "not-an-email"), ("Email", "ada@"), ("Email", "@example.com"), ("Email", "ada@@example.com"),
    ("Email", "ada@example"), ("Email", "ada..lovelace@example.com"), ("Email", "ada lovelace@example.com"),
    ("Email", " ada@example.com"), ("Email", "ada@example.com "), ("Email", "<script>@example.com"),
    ("Email", "ada@exa mple.com"), ("Email", "ada@-example.com"), ("Email", "jürgen@example.com"),
    ("Email", "ada@münchen.de"), ("Email", "ada@example.com\x00"), ("Email", "a" * 75 + "@example.com"),
    ("Email", "ada@example.com, bob@example.com"), ("Email", '"ada"@example.com'), ("Email", "ada@[127.0.0.1]"),
    # lengths
    ("LastName", "L" * 81), ("FirstName", "F" * 41), ("Phone", "1" * 41), ("Notes__c", "n" * 1001),
    ("Region__c", "R" * 21), ("Website", "https://example.com/" + "p" * 240),
    # types
    ("Birthdate", "31/12/2024"), ("Birthdate", "2024-13-01"), ("Birthdate", "2024-02-30"), ("Birthdate", "yesterday"),
    ("Birthdate", "20241231"), ("Birthdate", True), ("Birthdate", "2024-12-31T17:30:00Z"), ("Birthdate", "2024-12-31 00:00"),
    ("Met_At__c", "2024-12-31 25:00"), ("Met_At__c", "noon"),
    ("Met_At__c", "2024"), ("Met_At__c", "2024-12-31"), ("Opted_In__c", "yes"), ("Opted_In__c", "1"), ("Opted_In__c", 1),
    ("Revenue__c", "12k"), ("Revenue__c", "1,5"), ("Revenue__c", "NaN"), ("Revenue__c", "inf"), ("Revenue__c", True),
    ("Revenue__c", "1_000"), ("Revenue__c", "\u0661\u0662"), ("Revenue__c", "\uff11\uff12"), ("Revenue__c", "0x1A"),
    ("Employees__c", "12.5"), ("Employees__c", "twelve"), ("Phone", "call me"), ("Phone", "12"),
    ("Phone", "+49 (30) 1234567 <b>"), ("Website", "javascript:alert(1)"), ("Website", "not a url"),
    ("Website", "ftp://example.com"), ("Website", "https://"), ("Website", 'https://example.com/"><script>x</script>'),
    ("Website", "https://example.com/<b>"), ("Website", "https://example.com/{id}"), ("FirstName", ["Ada", "Augusta"]),
    # restricted picklists
    ("Status__c", "Done"), ("Status__c", "open"), ("Status__c", "Open "), ("Topics__c", "Sales;Marketing"),
    ("Topics__c", ["Support", "Billing"]),
    # control characters
    ("LastName", "Love\x00lace"), ("FirstName", "Ada\x07"), ("Notes__c", "bell \x1b[31m red"), ("FirstName", "Ada\x7f"),
    ("FirstName", "Ada\u0085"), ("LastName", "Love\x1flace"), ("Status__c", "Open\r"),
    # required values blank or only whitespace
    ("LastName", "   "), ("LastName", "\t\n"), ("LastName", ""), ("LastName", None), ("LastName", "\u00a0\u2003"),
    # read-only on create
    ("Score__c", 12.5),
]


@pytest.mark.parametrize("field, value", BAD, ids=[f"{f}={v!r}"[:60] for f, v in BAD])
def test_each_bad_value_is_refused_with_a_reason_naming_the_field_and_the_fix(field, value):
    values = {"LastName": "Lovelace", field: value}
    problems = preflight.record_problems(DESCRIPTION, values, creating=True, ascii_email_only=True)
    assert [p.field for p in problems] == [field]
    message = problems[0].message
    label = DESCRIPTION.field(field).label
    assert message.startswith(f"{label} ({field})") and message.rstrip().endswith(".")
    assert "\x00" not in message and len(message) < 400  # the value is shown shortened, controls made visible


def test_the_corpus_has_at_least_sixty_bad_values():
    assert len(BAD) >= 60


GOOD = {
    "LastName": "Lovelace", "FirstName": "Ada Ö'Brien-Łukasz", "Email": "ada.lovelace+crm@example.co.uk",
    "Phone": "+44 (20) 7946-0001 ext. 12", "Website": "www.example.com/about?x=1", "Birthdate": "1815-12-10",
    "Met_At__c": "2024-12-31T17:30:00Z", "Opted_In__c": "TRUE", "Revenue__c": "1234.50", "Employees__c": 12.0,
    "Status__c": "Working", "Topics__c": "Sales;Support", "Source__c": "Fair", "Notes__c": "Line one\nline two\ttabbed",
    "Region__c": "EMEA",
}


def test_good_values_of_every_type_go_through():
    assert preflight.record_problems(DESCRIPTION, GOOD, creating=True, ascii_email_only=True) == []
    native = {"LastName": "Lovelace", "Birthdate": date(1815, 12, 10), "Met_At__c": datetime(2024, 1, 1, tzinfo=timezone.utc),
              "Opted_In__c": False, "Revenue__c": 10, "Topics__c": ["Support"], "Website": "https://münchen.de/"}
    assert preflight.record_problems(DESCRIPTION, native, creating=True) == []


def test_a_vendor_that_takes_unicode_addresses_gets_them():
    values = {"LastName": "Müller", "Email": "jürgen@münchen.de"}
    assert preflight.record_problems(DESCRIPTION, values, creating=True, ascii_email_only=False) == []
    assert preflight.record_problems(DESCRIPTION, values, creating=True, ascii_email_only=True)[0].field == "Email"


def test_a_required_mapped_field_without_a_value_fails_a_create_but_not_an_update():
    problems = preflight.record_problems(DESCRIPTION, {"FirstName": "Ada"}, creating=True, required_mapped={"LastName"})
    assert [(p.field, p.code) for p in problems] == [("LastName", preflight.REQUIRED)]
    assert "is required" in problems[0].message
    assert preflight.record_problems(DESCRIPTION, {"FirstName": "Ada"}, creating=False, required_mapped={"LastName"}) == []
    # Not mapped by the sync: the integration or the vendor fills it.
    assert preflight.record_problems(DESCRIPTION, {"FirstName": "Ada"}, creating=True) == []


def test_a_create_upserted_by_a_key_needs_a_value_for_it_where_the_vendor_requires_none():
    [missing] = preflight.record_problems(DESCRIPTION, {"LastName": "Lovelace"}, creating=True, upsert_key="Email")
    [blank] = preflight.record_problems(DESCRIPTION, {"LastName": "Lovelace", "Email": " "}, creating=True, upsert_key="Email")
    assert [(p.field, p.code) for p in (missing, blank)] == [("Email", preflight.REQUIRED)] * 2
    assert missing.message.startswith("Email (Email): is required")
    # An update goes by the record's id.
    assert preflight.record_problems(DESCRIPTION, {"LastName": "Lovelace"}, creating=False, upsert_key="Email") == []


def test_a_date_with_a_time_of_day_says_so():
    [problem] = preflight.record_problems(DESCRIPTION, {"Birthdate": "1815-12-10T00:00:00Z"}, creating=False)
    assert "has a time of day; the field takes a date alone. Use the form YYYY-MM-DD" in problem.message


def test_numbers_in_every_ascii_notation_go_through():
    for number in ("12", "-12", "+1.5", ".5", "5.", "1e3", "1.5E-7", " 42 "):
        assert preflight.record_problems(DESCRIPTION, {"Revenue__c": number}, creating=False) == [], number


def test_a_field_the_integration_may_set_on_create_only_fails_an_update():
    assert preflight.record_problems(DESCRIPTION, {"Region__c": "EMEA"}, creating=True) == []
    [problem] = preflight.record_problems(DESCRIPTION, {"Region__c": "EMEA"}, creating=False)
    assert problem.code == preflight.READ_ONLY and "read-only" in problem.message


def test_a_value_outside_a_restricted_picklist_suggests_the_value_it_resembles():
    [problem] = preflight.record_problems(DESCRIPTION, {"Status__c": "working"}, creating=False)
    assert problem.code == preflight.NOT_IN_PICKLIST and "Did you mean “Working”?" in problem.message


def test_a_long_value_is_shown_shortened_and_a_null_byte_visibly():
    [long] = preflight.record_problems(DESCRIPTION, {"LastName": "L" * 500}, creating=False)
    [null] = preflight.record_problems(DESCRIPTION, {"LastName": "Love\x00lace"}, creating=False)
    assert f"“{'L' * 39}…”" in long.message and "500 characters" in long.message and "at most 80" in long.message
    assert "Love\\x00lace" in null.message and null.code == preflight.CONTROL_CHARACTER


def test_line_breaks_and_tabs_pass_even_in_one_line_fields():
    assert preflight.record_problems(DESCRIPTION, {"LastName": "Love\nlace\tx"}, creating=True) == []


def test_fields_the_description_does_not_know_are_left_to_the_vendor():
    assert preflight.record_problems(DESCRIPTION, {"External_Id__c": "\x00"}, creating=True) == []
