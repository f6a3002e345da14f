"""Lemontaps → Salesforce (SPEC LT-1 … LT-12), end to end: captures received through the
portal's capture contract, pushed through the engine to a sandbox org over HTTP."""
import io
import json
from datetime import datetime

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from connectors.sandbox.salesforce.orgs import org_add_field, org_get
from connectors.sandbox.salesforce.seed import records_bulk_create
from syncconfig import captures
from syncconfig.integrations.lemontaps_salesforce import LemontapsOptions
from syncconfig.models import CapturedContact, RecordError, Sync, SyncRun
from syncconfig.services import connection_connector
from tests.factories import (
    CapturedContactFactory,
    ConnectionFactory,
    MatchSourceFactory,
    PersonFactory,
    SyncFactory,
    UserFactory,
    salesforce_connection,
)

pytestmark = pytest.mark.django_db(transaction=True)

LEAD_FIELDS = ["FirstName", "LastName", "Salutation", "Title", "Company", "Email", "Phone", "MobilePhone", "Website",
               "Street", "PostalCode", "City", "Country", "Description", "LeadSource", "OwnerId"]
CONTACT_FIELDS = ["FirstName", "LastName", "Salutation", "Title", "Department", "Email", "Phone", "MobilePhone",
                  "MailingStreet", "MailingPostalCode", "MailingCity", "MailingCountry", "Description", "LeadSource", "OwnerId"]


@pytest.fixture
def org(make_salesforce_org):
    return make_salesforce_org(name="Acme")


def make_sync(org, **options):
    lemontaps = ConnectionFactory(name="Lemontaps", kind="lemontaps", base_url="https://app.lemontaps.com", credentials={})
    sync = SyncFactory(source=lemontaps, source_object="captured_contact", target=salesforce_connection(org, "Acme org"),
                       target_object="Lead")
    LemontapsOptions(**options).save(sync)
    return Sync.objects.select_related("source", "target").get(pk=sync.pk)


FIRST_NAMES = ("Jana", "Piotr", "Ewa", "Marek", "Zofia", "Tomasz")  # different people: matching tells look-alikes apart


def capture(sync, n=1, **fields):
    body = {"id": f"cap-{n}", "captured_by": "field.user@acme.example", "first_name": FIRST_NAMES[(n - 1) % len(FIRST_NAMES)],
            "last_name": f"Kowalski{n}",
            "company": "Vistula Trading", "email": f"jana{n}@vistula.example", **fields}
    stored, _ = captures.capture_accept(connection=sync.source, body={k: v for k, v in body.items() if v is not None})
    return stored


def push(sync, *stored, user=None):
    run = captures.captures_push_request(sync=sync, ids=[c.pk for c in stored], user=user)
    return SyncRun.objects.get(pk=run.pk)


def salesforce(sync):
    return connection_connector(sync.target)


def sf_record(sync, capture_row, fields):
    capture_row.refresh_from_db()
    assert capture_row.exported_id, "not exported"
    (record,) = salesforce(sync).fetch(capture_row.exported_object, [capture_row.exported_id], fields)
    return record.fields


def failure(sync, capture_row):
    return captures.captures_with_status(CapturedContact.objects.filter(pk=capture_row.pk), [sync]).get()


def users(sync):
    return {r["Email"]: r["Id"] for page in salesforce(sync).query_all("SELECT Id, Email, Username FROM User ORDER BY Id") for r in page}


# --- LT-1 ----------------------------------------------------------------------------------------
def test_lt1_a_lemontaps_to_salesforce_sync_takes_the_lemontaps_integration_and_needs_a_working_salesforce_connection(org):
    sync = make_sync(org)
    assert sync.integration == "lemontaps_salesforce"
    capture(sync)
    assert connection_connector(sync.source).check().details == {"captured contacts": 1}
    assert salesforce(sync).check().account_name == "Acme"


def test_lt1_reauthorising_refreshes_the_custom_fields_a_capture_may_carry(org, client):
    org_add_field(org_get(org.org_id), sobject="Lead", name="Region__c", field_type="string", label="Region")
    sync = make_sync(org, create_as="Contact")
    client.force_login(UserFactory(role="Marketing admin", is_staff=True))
    page = client.post(f"/syncs/{sync.pk}/lemontaps/reauthorise/", follow=True).content.decode()
    assert "Re-authorised; " in page and "Region__c" in page
    assert "<td><code>Region__c</code></td><td>Region</td><td>Lead</td>" in page
    sync.target.refresh_from_db()
    assert sync.target.last_check_ok and sync.target.last_check_message.startswith("Connected to Acme")

    # A field added in Salesforce since is refused by name until the connection is re-authorised.
    org_add_field(org_get(org.org_id), sobject="Contact", name="Segment__c", field_type="string", label="Segment")
    row = capture(sync, Segment__c="Retail")
    push(sync, row)
    assert failure(sync, row).failure.startswith("invalid: Segment__c is not a custom field of Contact in Salesforce")
    ok, message = captures.lemontaps_reauthorise(sync=Sync.objects.select_related("target").get(pk=sync.pk))
    assert ok and "Segment__c" in message
    assert ["Segment__c", "Segment"] in LemontapsOptions.of(Sync.objects.get(pk=sync.pk)).custom_fields["Contact"]
    push(sync, row)
    assert sf_record(sync, row, ["Segment__c"])["Segment__c"] == "Retail"


def test_lt1_a_refused_authorisation_is_said_and_keeps_the_fields_read_before(org):
    sync = make_sync(org, custom_fields={"Lead": [["Region__c", "Region"]]}, custom_fields_at="2025-03-01T09:00:00+00:00")
    sync.target.credentials = {**sync.target.credentials, "password": "wrong"}
    sync.target.save()
    ok, message = captures.lemontaps_reauthorise(sync=sync)
    assert not ok and message.startswith("Salesforce refused the authorisation:")
    assert LemontapsOptions.of(Sync.objects.get(pk=sync.pk)).custom_fields == {"Lead": [["Region__c", "Region"]]}


# --- LT-2 ----------------------------------------------------------------------------------------
def test_lt2_contacts_become_leads_or_contacts_as_set_and_a_choice_made_at_capture_is_used(org):
    as_lead = make_sync(org, create_as="Lead")
    lead = capture(as_lead, 1, create_as="Contact")  # a fixed setting wins over the capture's choice
    push(as_lead, lead)
    lead.refresh_from_db()
    assert lead.exported_object == "Lead" and lead.exported_id.startswith("00Q")

    LemontapsOptions(create_as="choose").save(as_lead)
    chosen_contact, chosen_lead = capture(as_lead, 2, create_as="Contact"), capture(as_lead, 3, create_as="Lead")
    no_choice = capture(as_lead, 4)
    run = push(as_lead, chosen_contact, chosen_lead, no_choice)
    for row in (chosen_contact, chosen_lead, no_choice):
        row.refresh_from_db()
    assert (chosen_contact.exported_object, chosen_lead.exported_object) == ("Contact", "Lead")
    assert chosen_contact.exported_id.startswith("003")
    assert not no_choice.exported_id
    assert "No choice between Lead and Contact" in failure(as_lead, no_choice).failure
    assert (run.created_count, run.failed_count) == (2, 1)


def test_lt2_always_contact(org):
    sync = make_sync(org, create_as="Contact")
    row = capture(sync, company=None)
    push(sync, row)
    assert sf_record(sync, row, ["Email"])["Email"] == "jana1@vistula.example"
    assert row.exported_object == "Contact"


# --- LT-3 ----------------------------------------------------------------------------------------
def test_lt3_a_manual_push_exports_the_chosen_contacts_only(org):
    sync = make_sync(org)
    chosen, other = capture(sync, 1), capture(sync, 2)
    run = push(sync, chosen)
    assert run.status == SyncRun.Status.SUCCEEDED and run.created_count == 1
    chosen.refresh_from_db(), other.refresh_from_db()
    assert chosen.exported_id and not other.exported_id


# --- LT-4 ----------------------------------------------------------------------------------------
def test_lt4_automatic_push_sends_every_new_contact_and_none_of_the_older_ones(org):
    sync = make_sync(org)
    older = capture(sync, 1)
    captures.lemontaps_options_save(sync=sync, create_as="Lead", field_users_may_push=False, update_existing=False,
                                    push_updates=False, met_on_field="", automatic=True)
    sync.refresh_from_db()
    assert sync.enabled and sync.trigger == Sync.Trigger.IMMEDIATE
    new = capture(sync, 2)  # the webhook's store tells the immediate sync, which runs at once here
    new.refresh_from_db(), older.refresh_from_db()
    assert new.exported_id.startswith("00Q")
    assert not older.exported_id
    capture(sync, 1, city="Kraków")  # the older one changed: still not pushed by itself
    older.refresh_from_db()
    assert not older.exported_id
    push(sync, older)  # a one-off manual push covers it
    older.refresh_from_db()
    assert older.exported_id


# --- LT-5 ----------------------------------------------------------------------------------------
def test_lt5_the_status_shows_exported_failed_or_not_exported_and_the_pusher_gets_an_email(org):
    sync = make_sync(org)
    user = UserFactory(email="field.user@acme.example", role="Field user")
    good, bad, untouched = capture(sync, 1), capture(sync, 2, company=None), capture(sync, 3)
    push(sync, good, bad, user=user)
    good = failure(sync, good)
    assert good.exported_at and good.exported_object == "Lead" and good.failure is None
    assert good.exported_url.endswith("/" + good.exported_id)
    assert failure(sync, bad).failure == "invalid: a Lead needs a company and a first or last name."
    untouched = failure(sync, untouched)
    assert not untouched.exported_id and untouched.failure is None
    (message,) = mail.outbox
    assert message.to == ["field.user@acme.example"]
    assert message.subject == "Salesforce push: 1 exported, 1 failed"
    assert "! Piotr Kowalski2: invalid: a Lead needs a company" in message.body


# --- LT-6 ----------------------------------------------------------------------------------------
FULL = {"prefix": "Ms.", "first_name": "Jana", "last_name": "Kowalski", "position": "Buyer", "role": "Decision maker",
        "department": "Purchasing", "company": "Vistula Trading", "email": "jana@vistula.example", "email_work": "j.k@vistula.example",
        "phone_work": "+48 22 5550100", "phone_mobile": "+48 600 555 100", "website": "https://vistula.example",
        "addressee": "Jana K.", "address_line1": "ul. Długa 5", "address_line2": "2nd floor", "zip": "00-238", "city": "Warszawa",
        "country": "Poland", "notes": "Met at the fair; wants a quote.", "gdpr_consent": "yes", "language": "pl",
        "met_on": "2025-03-01"}


def test_lt6_a_lead_gets_exactly_the_fields_of_the_table(org):
    org_add_field(org_get(org.org_id), sobject="Lead", name="Met_On__c", field_type="date")
    sync = make_sync(org, create_as="Lead", met_on_field="Met_On__c")
    row = capture(sync, **FULL)
    push(sync, row)
    lead = sf_record(sync, row, LEAD_FIELDS + ["Met_On__c"])
    assert {k: lead[k] for k in LEAD_FIELDS if k != "OwnerId"} == {
        "Salutation": "Ms.", "FirstName": "Jana", "LastName": "Kowalski", "Title": "Buyer", "Company": "Vistula Trading",
        "Email": "jana@vistula.example", "Phone": "+48 22 5550100", "MobilePhone": "+48 600 555 100",
        "Website": "https://vistula.example", "Street": "ul. Długa 5", "PostalCode": "00-238", "City": "Warszawa",
        "Country": "Poland", "Description": "Met at the fair; wants a quote.", "LeadSource": "Lemontaps"}
    assert lead["Met_On__c"] == "2025-03-01"


def test_lt6_a_contact_gets_exactly_the_fields_of_the_table(org):
    sync = make_sync(org, create_as="Contact")
    row = capture(sync, **FULL)
    push(sync, row)
    contact = sf_record(sync, row, CONTACT_FIELDS)
    assert {k: contact[k] for k in CONTACT_FIELDS if k != "OwnerId"} == {
        "Salutation": "Ms.", "FirstName": "Jana", "LastName": "Kowalski", "Title": "Buyer", "Department": "Purchasing",
        "Email": "jana@vistula.example", "Phone": "+48 22 5550100", "MobilePhone": "+48 600 555 100",
        "MailingStreet": "ul. Długa 5", "MailingPostalCode": "00-238", "MailingCity": "Warszawa", "MailingCountry": "Poland",
        "Description": "Met at the fair; wants a quote.", "LeadSource": "Lemontaps"}


# --- LT-7 ----------------------------------------------------------------------------------------
def test_lt7_the_owner_is_the_salesforce_user_with_the_capturers_email_else_the_connections_user(org):
    sync = make_sync(org)
    people = users(sync)
    maria = next(email for email in people if email.startswith("mnowak@"))
    integration = next(email for email in people if email.startswith("integ@"))
    hers, stranger = capture(sync, 1, captured_by=maria.upper()), capture(sync, 2, captured_by="nobody@elsewhere.example")
    push(sync, hers, stranger)
    assert sf_record(sync, hers, ["OwnerId"])["OwnerId"] == people[maria]
    assert sf_record(sync, stranger, ["OwnerId"])["OwnerId"] == people[integration]


# --- LT-8 ----------------------------------------------------------------------------------------
def test_lt8_custom_fields_are_exported_into_the_field_of_the_same_api_name(org):
    org_add_field(org_get(org.org_id), sobject="Lead", name="Region__c", field_type="string")
    sync = make_sync(org)
    row = capture(sync, Region__c="Mazovia")
    push(sync, row)
    assert sf_record(sync, row, ["Region__c"])["Region__c"] == "Mazovia"


# --- LT-9 ----------------------------------------------------------------------------------------
def test_lt9_a_contact_whose_email_salesforce_has_as_a_lead_or_contact_fails_as_a_duplicate_with_a_link(org):
    sync = make_sync(org)
    (contact_id,) = records_bulk_create(org_get(org.org_id), "Contact", [{"LastName": "Kowalski", "Email": "JANA1@vistula.example"}])
    (lead_id,) = records_bulk_create(org_get(org.org_id), "Lead", [{"LastName": "K", "Company": "V", "Email": "jana2@vistula.example"}])
    rows = [capture(sync, n) for n in (1, 2, 3)]
    before = len(salesforce(sync).find("Lead", "Email", ["jana3@vistula.example"], ["Id"]))
    run = push(sync, *rows)
    assert (run.created_count, run.failed_count, before) == (1, 2, 0)
    first, second = failure(sync, rows[0]), failure(sync, rows[1])
    assert first.failure.startswith("duplicate: a Contact with this email") and first.failure_target == contact_id
    assert second.failure.startswith("duplicate: a Lead") and second.failure_target == lead_id
    assert first.failure_class == RecordError.ErrorClass.DUPLICATE
    # One look-up per object for the whole page, one for owners, one create (plus login).
    assert run.target_api_calls <= 5


def test_lt9_an_admin_may_have_the_existing_record_updated_instead(org):
    sync = make_sync(org, update_existing=True)
    (contact_id,) = records_bulk_create(org_get(org.org_id), "Contact", [{"LastName": "Old", "Email": "jana1@vistula.example"}])
    row = capture(sync, 1)
    run = push(sync, row)
    assert run.updated_count == 1
    row.refresh_from_db()
    assert (row.exported_object, row.exported_id) == ("Contact", contact_id)
    assert sf_record(sync, row, ["LastName"])["LastName"] == "Kowalski1"


def test_lt9_two_captures_with_one_email_in_one_push_create_one_record(org):
    sync = make_sync(org)
    a, b = capture(sync, 1), capture(sync, 2, email="jana1@vistula.example")
    run = push(sync, a, b)
    assert (run.created_count, run.failed_count) == (1, 1)
    assert failure(sync, b).failure.startswith("duplicate: captured contact")


# --- duplicates found by matching, shown before the push ---------------------------------------------
TOM = {"FirstName": "Tom", "LastName": "Becker", "Email": "tom.becker@elbe-logistik.example", "Phone": "+49 40 5550177",
       "MailingCity": "Hamburg"}


def salesforce_contact_matched(org, sync, values=TOM):
    """A Contact in the org, as duplicate management last read it."""
    (contact_id,) = records_bulk_create(org_get(org.org_id), "Contact", [values])
    MatchSourceFactory(connection=sync.target, object_name="Contact")
    PersonFactory(connection=sync.target, object_name="Contact", record_id=contact_id, fields={
        "first_name": values["FirstName"], "last_name": values["LastName"], "email": values["Email"], "phone": values["Phone"],
        "city": values["MailingCity"]})
    return contact_id


def thomas(sync, n=7, **fields):
    """Tom Becker again, captured as Thomas with his private email."""
    return capture(sync, n, **{"first_name": "Thomas", "last_name": "Becker", "company": "Elbe Logistik GmbH",
                               "email": "thomas.b@private.example", "phone_work": "040 5550177", "city": "Hamburg", **fields})


def test_a_capture_that_likely_duplicates_a_salesforce_contact_is_flagged_with_the_candidate_and_score(org, client):
    sync = make_sync(org)
    contact_id = salesforce_contact_matched(org, sync)
    flagged, other = thomas(sync), capture(sync, 1)
    found = captures.captures_likely_duplicates(captures=[flagged, other], syncs=[sync])
    assert set(found) == {flagged.pk}
    likely = found[flagged.pk]
    assert (likely.object_name, likely.candidate_id, likely.label) == ("Contact", contact_id, "Tom Becker")
    assert 0.5 <= likely.score <= 1 and "phone exact" in likely.why

    client.force_login(UserFactory(role="Marketing admin", is_staff=True))
    row = next(r for r in client.get("/captures/").content.decode().split("<tr>") if "thomas.b@private.example" in r)
    assert "Tom Becker" in row and f"/{contact_id}" in row and "A push fails as a duplicate." in row


def test_two_captures_of_one_person_are_flagged_and_only_the_first_pushed_goes_in(org):
    sync = make_sync(org)
    first = thomas(sync, 7)
    second = thomas(sync, 8, first_name="Tom", email="t.becker@elbe-logistik.example")
    found = captures.captures_likely_duplicates(captures=[first, second], syncs=[sync])
    assert (found[first.pk].candidate_id, found[second.pk].candidate_id) == (str(second.pk), str(first.pk))
    assert found[first.pk].object_name == ""

    run = push(sync, first, second)
    assert (run.created_count, run.failed_count) == (1, 1)
    assert failure(sync, second).failure.startswith("duplicate: likely the same person as captured contact Thomas Becker")
    # Once one is in Salesforce, the other stands flagged against the record it became.
    first.refresh_from_db()
    (again,) = captures.captures_likely_duplicates(captures=[second], syncs=[sync]).values()
    assert (again.object_name, again.candidate_id) == ("Lead", first.exported_id)


def test_a_likely_duplicate_fails_with_a_link_to_the_candidate_as_the_admin_set(org):
    sync = make_sync(org)
    contact_id = salesforce_contact_matched(org, sync)
    row = thomas(sync)
    run = push(sync, row)
    assert (run.created_count, run.failed_count) == (0, 1)
    failed = failure(sync, row)
    assert failed.failure.startswith("duplicate: likely the same person as the Contact Tom Becker in Salesforce")
    assert failed.failure_target == contact_id and failed.failure_class == RecordError.ErrorClass.DUPLICATE


def test_a_likely_duplicate_updates_the_candidate_when_the_admin_chose_so(org):
    sync = make_sync(org, update_existing=True)
    contact_id = salesforce_contact_matched(org, sync)
    row = thomas(sync, position="Head of Logistics")
    run = push(sync, row)
    assert (run.created_count, run.updated_count) == (0, 1)
    row.refresh_from_db()
    assert (row.exported_object, row.exported_id) == ("Contact", contact_id)
    updated = sf_record(sync, row, ["Title", "FirstName"])
    assert (updated["Title"], updated["FirstName"]) == ("Head of Logistics", "Thomas")


def test_a_person_may_say_a_flagged_capture_is_someone_else_and_the_push_then_creates_it(org, client):
    sync = make_sync(org, field_users_may_push=True)
    contact_id = salesforce_contact_matched(org, sync)
    row = thomas(sync, captured_by="field.user@acme.example")
    client.force_login(UserFactory(email="field.user@acme.example", role="Field user"))
    assert f'name="candidate" value="{contact_id}"' in client.get("/captures/").content.decode()

    page = client.post(f"/captures/{row.pk}/not-duplicate/", {"candidate": contact_id}, follow=True).content.decode()
    assert "Thomas Becker is no longer flagged as that duplicate; a push creates it." in page
    assert captures.captures_likely_duplicates(captures=[CapturedContact.objects.get(pk=row.pk)], syncs=[sync]) == {}
    run = push(sync, row)
    assert run.created_count == 1
    row.refresh_from_db()
    assert row.exported_id != contact_id and row.exported_object == "Lead"


def test_two_look_alike_captures_said_to_be_two_people_are_both_pushed(org):
    sync = make_sync(org)
    first = thomas(sync, 7)
    second = thomas(sync, 8, first_name="Tom", email="t.becker@elbe-logistik.example")
    captures.capture_not_duplicate(capture=second, candidate=f"capture:{first.pk}")
    first.refresh_from_db()  # said of both
    assert captures.captures_likely_duplicates(captures=[first, second], syncs=[sync]) == {}
    run = push(sync, first, second)
    assert (run.created_count, run.failed_count) == (2, 0)


def test_only_who_may_push_a_capture_says_it_is_someone_else(org, client):
    sync = make_sync(org)  # admins only
    row = thomas(sync, captured_by="field.user@acme.example")
    client.force_login(UserFactory(email="field.user@acme.example", role="Field user"))
    assert client.post(f"/captures/{row.pk}/not-duplicate/", {"candidate": "003x"}).status_code == 403
    row.refresh_from_db()
    assert row.not_duplicate_of == []


def test_a_candidate_with_the_captures_own_email_that_salesforce_no_longer_has_does_not_stop_the_push(org):
    sync = make_sync(org)
    MatchSourceFactory(connection=sync.target, object_name="Lead")
    PersonFactory(connection=sync.target, object_name="Lead", record_id="00Q000000000001AAA",
                  fields={"first_name": "Jana", "last_name": "Kowalski1", "email": "jana1@vistula.example"})
    row = capture(sync, 1)
    assert captures.captures_likely_duplicates(captures=[row], syncs=[sync])  # flagged from what matching last read
    run = push(sync, row)  # but the live look-up by email finds nothing: it was deleted since
    assert run.created_count == 1


# --- LT-10 ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("create_as, fields, reason", [
    ("Contact", {"first_name": None, "last_name": None}, "invalid: a Contact needs a first or last name."),
    ("Lead", {"company": None}, "invalid: a Lead needs a company and a first or last name."),
    ("Lead", {"first_name": None, "last_name": None}, "invalid: a Lead needs a company and a first or last name."),
])
def test_lt10_contacts_are_checked_before_export_and_fail_with_the_reason(org, create_as, fields, reason):
    sync = make_sync(org, create_as=create_as)
    row = capture(sync, **fields)
    run = push(sync, row)
    assert run.failed_count == 1 and run.target_api_calls <= 3  # nothing written
    assert failure(sync, row).failure == reason


# --- LT-11 ---------------------------------------------------------------------------------------
def test_lt11_only_admins_push_unless_field_users_are_allowed(org, client):
    sync = make_sync(org)
    field_user = UserFactory(email="field.user@acme.example", role="Field user")
    admin = UserFactory(role="Marketing admin", is_staff=True)
    row = capture(sync)
    assert not captures.may_push(field_user, sync) and captures.may_push(admin, sync)
    client.force_login(field_user)
    assert client.post("/captures/push/", {"capture": [row.pk]}).status_code == 403
    LemontapsOptions(field_users_may_push=True).save(sync)
    response = client.post("/captures/push/", {"capture": [row.pk]})
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.exported_id


def test_lt11_a_field_user_sees_and_pushes_only_their_own_contacts(org, client):
    sync = make_sync(org, field_users_may_push=True)
    field_user = UserFactory(email="field.user@acme.example", role="Field user")
    mine, theirs = capture(sync, 1), capture(sync, 2, captured_by="someone.else@acme.example")
    client.force_login(field_user)
    page = client.get("/captures/").content.decode()
    assert "Kowalski1" in page and "Kowalski2" not in page
    client.post("/captures/push/", {"capture": [mine.pk, theirs.pk]})
    mine.refresh_from_db(), theirs.refresh_from_db()
    assert mine.exported_id and not theirs.exported_id


# --- LT-12 ---------------------------------------------------------------------------------------
def test_lt12_changes_after_export_are_not_pushed_unless_an_admin_opts_in(org):
    sync = make_sync(org)
    row = capture(sync, 1)
    push(sync, row)
    row = capture(sync, 1, city="Kraków")
    assert row.changed_after_export
    run = push(sync, row)
    assert (run.updated_count, run.skipped_count) == (0, 1)
    assert sf_record(sync, row, ["City"])["City"] is None
    LemontapsOptions(push_updates=True).save(sync)
    run = push(sync, row)
    assert run.updated_count == 1
    assert sf_record(sync, row, ["City"])["City"] == "Kraków"
    assert not row.changed_after_export


# --- the capture contract --------------------------------------------------------------------------
def post(client, sync, body, secret=None, **headers):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(f"/captures/{sync.source_id}/", data=data, content_type="application/json",
                       headers={"X-Capture-Secret": secret if secret is not None else captures.capture_secret(sync.source), **headers})


def test_the_webhook_stores_a_capture_before_answering_even_when_salesforce_is_down(org, client):
    sync = make_sync(org)
    captures.lemontaps_options_save(sync=sync, create_as="Lead", field_users_may_push=False, update_existing=False,
                                    push_updates=False, met_on_field="", automatic=True)
    sync.target.base_url = "http://127.0.0.1:9"  # nothing listens there
    sync.target.save()
    response = post(client, sync, {"id": "x1", "captured_by": "f@acme.example", "last_name": "Nowak", "company": "V", "Region__c": "North"})
    assert response.status_code == 201
    row = CapturedContact.objects.get(pk=response.json()["id"])
    assert row.data == {"last_name": "Nowak", "company": "V", "Region__c": "North"} and not row.exported_id


def test_the_webhook_refuses_a_wrong_secret_a_large_body_and_names_the_malformed_field(org, client):
    sync = make_sync(org)
    assert post(client, sync, {"id": "1", "captured_by": "f@acme.example"}, secret="wrong").status_code == 403
    assert post(client, sync, {"id": "1", "captured_by": "f@acme.example", "notes": "x" * 70_000}).status_code == 413
    bad = post(client, sync, {"id": "1", "captured_by": "f@acme.example", "met_on": "yesterday"})
    assert bad.status_code == 400 and bad.json()["field"] == "met_on"
    assert post(client, sync, {"id": "1", "captured_by": "f@acme.example", "fax": "1"}).json()["field"] == "fax"
    assert post(client, sync, b"{not json").json()["field"] == "body"
    # A null byte no CRM takes (nor the database could store) is named, not a server error.
    for field in ("last_name", "Region__c"):
        refused = post(client, sync, {"id": "1", "captured_by": "f@acme.example", field: "No\x00wak"})
        assert refused.status_code == 400 and refused.json()["field"] == field and "null byte" in refused.json()["error"]
    assert not CapturedContact.objects.exists()


def test_a_csv_export_is_imported_with_refused_rows_named_by_line(org):
    sync = make_sync(org)
    text = ("Capture id;Captured by;First name;Last name;Company;Email;Create as;Region__c\n"
            "a1;f@acme.example;Jana;Nowak;Vistula;jana@vistula.example;Lead;North\n"
            "a2;f@acme.example;Piotr;Nowak;Vistula;not-an-email;;\n")
    result = captures.captures_import_csv(connection=sync.source, text=text)
    assert result.stored == 1 and result.refused == [(3, "email is not an email address.")]
    row = CapturedContact.objects.get()
    assert (row.target, row.data["Region__c"], row.captured_by_email) == ("Lead", "North", "f@acme.example")


def xlsx(rows) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


EXPORT_HEADER = ["Capture id", "Captured by", "First name", "Last name", "Company", "Email", "Postal code", "Met on", "Region__c"]


def test_an_excel_export_is_imported_and_a_bad_row_fails_alone_with_its_row_number(org):
    sync = make_sync(org)
    content = xlsx([
        EXPORT_HEADER,
        ["x1", "f@acme.example", "Jana", "Nowak", "Vistula", "jana@vistula.example", 10117, datetime(2025, 3, 1), "North"],
        ["x2", "f@acme.example", "Piotr", "Nowak", "Vistula", "not-an-email", None, None, None],
        [None] * len(EXPORT_HEADER),
        ["x3", "f@acme.example", "Ewa", "Lis", "Oder", "ewa@oder.example", "15230", "soon", None],
        ["x4", "f@acme.example", "Marek", "Wolny", "Oder", "marek@oder.example", None, None, None],
    ])
    result = captures.captures_import_xlsx(connection=sync.source, content=content)
    assert result.stored == 2
    assert result.refused == [(3, "email is not an email address."), (5, "met_on must be an ISO date, e.g. 2025-03-01.")]
    jana = CapturedContact.objects.get(capture_id="x1")
    assert (jana.data["zip"], jana.data["met_on"], jana.data["Region__c"]) == ("10117", "2025-03-01", "North")
    assert CapturedContact.objects.filter(capture_id="x4").exists()


def test_an_excel_import_through_the_page_names_refused_rows_and_refuses_a_file_that_is_no_workbook(org, client):
    sync = make_sync(org)
    client.force_login(UserFactory(role="Marketing admin", is_staff=True))
    content = xlsx([EXPORT_HEADER, ["x1", "f@acme.example", "Jana", "Nowak", "Vistula", "jana@vistula.example"],
                    ["x2", "someone", "Piotr", "Nowak"]])
    upload = SimpleUploadedFile("lemontaps-export.xlsx", content)
    page = client.post("/captures/import/", {"connection": sync.source_id, "file": upload}, follow=True).content.decode()
    assert "Imported 1 captured contact(s)." in page and "Row 3: captured_by must be the capturing user&#x27;s email." in page

    broken = SimpleUploadedFile("export.xlsx", b"PK\x03\x04 not really a workbook")
    page = client.post("/captures/import/", {"connection": sync.source_id, "file": broken}, follow=True).content.decode()
    assert "The file export.xlsx is not an Excel workbook (.xlsx)." in page
    assert CapturedContact.objects.count() == 1


def test_the_factory_makes_a_valid_capture():
    row = CapturedContactFactory()
    assert str(row) and row.connection.kind == "lemontaps"
