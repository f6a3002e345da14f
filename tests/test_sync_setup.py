"""The guided set-up of a sync: pickers read from both systems (AC-3), pairs that cannot work
refused with the reason, required fields flagged, the sync created switched off."""
import pytest

from connectors.base import FieldDescription, ObjectDescription, Unavailable
from syncconfig import roles, setup
from syncconfig.forms import SetupIntegrationForm, SetupMappingFormSet, SetupScheduleForm
from syncconfig.models import FieldMapping, RecordTypeChoice, Sync, UpdatePolicy
from tests.factories import ConnectionFactory, SyncFactory, UserFactory, salesforce_connection

pytestmark = pytest.mark.django_db


def field(name, type="string", **options):
    return FieldDescription(name, options.pop("label", name), type, **options)


SOURCE = ObjectDescription("Account", "Account", [
    field("PersonEmail", "email", label="Email"), field("FirstName", label="First Name"),
    field("PersonBirthdate", "date", label="Birthdate"), field("IsPersonAccount", "boolean", createable=False, updateable=False),
    field("NumberOfEmployees", "int"), field("PersonHasOptedOutOfEmail", "boolean"),
])
TARGET = ObjectDescription("contact", "Contact", [
    field("email", "email", label="Email", required=True, unique=True, external_id=True),
    field("firstName", label="First name"), field("lastName", label="Last name"), field("phone", "phone"),
    field("orgname", createable=False, updateable=False), field("BIRTHDAY", "date"), field("NEWSLETTER", "boolean"),
    field("SCORE", "double"),
])


# --- which pairs may be mapped ----------------------------------------------------------------------------
def refusal(source, target, **options):
    return setup.pair_refusal(SOURCE.field(source), TARGET.field(target), two_way=options.get("two_way", False),
                              to_source=options.get("to_source", UpdatePolicy.ALWAYS), source_system="Salesforce",
                              target_system="ActiveCampaign")


@pytest.mark.parametrize("source, target", [
    ("PersonEmail", "email"), ("FirstName", "firstName"), ("PersonBirthdate", "BIRTHDAY"), ("NumberOfEmployees", "SCORE"),
    ("PersonHasOptedOutOfEmail", "NEWSLETTER"), ("NumberOfEmployees", "firstName"), ("IsPersonAccount", "lastName"),
])
def test_ac3_pairs_whose_types_fit_are_accepted(source, target):
    assert refusal(source, target) == ""


@pytest.mark.parametrize("source, target, reason", [
    ("FirstName", "BIRTHDAY", "First Name (FirstName) is string and BIRTHDAY (BIRTHDAY) in ActiveCampaign is date: a date field takes only a date."),
    ("PersonBirthdate", "NEWSLETTER", "a checkbox takes only a checkbox"),
    ("FirstName", "SCORE", "a number field takes only a number"),
    ("PersonBirthdate", "email", "an email field takes an email or a text"),
    ("FirstName", "orgname", "orgname (orgname) is read-only in ActiveCampaign"),
])
def test_ac3_pairs_that_cannot_work_are_refused_naming_both_fields_and_why(source, target, reason):
    assert reason in refusal(source, target)


def test_a_two_way_pair_is_also_judged_on_the_way_back_unless_it_is_not_synced_back():
    assert "is read-only in Salesforce" in refusal("IsPersonAccount", "lastName", two_way=True)
    assert "Don't sync" in refusal("IsPersonAccount", "lastName", two_way=True)
    assert refusal("IsPersonAccount", "lastName", two_way=True, to_source=UpdatePolicy.SKIP) == ""


def test_required_fields_of_the_target_no_mapping_fills_are_flagged():
    assert [f.name for f in setup.required_unmapped(TARGET, {"firstName"})] == ["email"]
    assert setup.required_unmapped(TARGET, {"EMAIL"}) == []


def test_a_required_field_the_integration_fills_is_not_flagged():
    from syncconfig.integrations import integration_class

    account = ObjectDescription("Account", "Account", [field("Name", required=True), field("LastName")])
    filled = integration_class("activecampaign_salesforce").fills_on_create("salesforce", "Account")
    assert setup.required_unmapped(account, set(), filled=filled) == []
    assert [f.name for f in setup.required_unmapped(account, set())] == ["Name"]


def test_the_picker_shows_each_fields_type_and_whether_it_is_required_or_read_only():
    assert setup.field_label(TARGET.field("email")) == "Email (email) · email, required, external id"
    assert setup.field_label(TARGET.field("orgname")) == "orgname (orgname) · string, read-only"


def test_the_first_mappings_offered_pair_fields_of_the_same_label_with_the_emails_as_key():
    rows = setup.suggested_rows(SOURCE, TARGET, two_way=True)
    assert [(r["source_field"], r["target_field"], r["is_key"]) for r in rows] == [
        ("PersonEmail", "email", True), ("FirstName", "firstName", False)]
    assert {r["to_target"] for r in rows} == {UpdatePolicy.ALWAYS}  # AC-4's default


# --- the mapping step's form ---------------------------------------------------------------------------------
def mapping_formset(rows, two_way=False):
    data = {"form-TOTAL_FORMS": str(len(rows)), "form-INITIAL_FORMS": "0"}
    for n, row in enumerate(rows):
        data |= {f"form-{n}-{k}": v for k, v in row.items() if v is not False}
        data.setdefault(f"form-{n}-to_target", "always")
    return SetupMappingFormSet(data, source=SOURCE, target=TARGET, source_name="Salesforce", target_name="ActiveCampaign",
                               two_way=two_way)


def test_the_mapping_step_keeps_valid_rows_with_their_policies_and_key():
    formset = mapping_formset([
        {"source_field": "PersonEmail", "target_field": "email", "is_key": "on"},
        {"source_field": "FirstName", "target_field": "firstName", "to_target": "if_blank"},
        {"source_field": "", "target_field": ""},
    ])
    assert formset.is_valid(), formset.errors
    assert formset.rows() == [
        {"source_field": "PersonEmail", "target_field": "email", "to_target": "always", "to_source": "always", "is_key": True},
        {"source_field": "FirstName", "target_field": "firstName", "to_target": "if_blank", "to_source": "always", "is_key": False},
    ]


def test_the_mapping_step_refuses_a_pair_that_cannot_work_on_its_row():
    formset = mapping_formset([{"source_field": "PersonEmail", "target_field": "email", "is_key": "on"},
                               {"source_field": "FirstName", "target_field": "BIRTHDAY"}])
    assert not formset.is_valid()
    assert formset.forms[1].errors["target_field"] == [
        "Row 2: First Name (FirstName) is string and BIRTHDAY (BIRTHDAY) in ActiveCampaign is date: a date field takes only a date."]


def test_the_mapping_step_needs_exactly_one_key_and_each_target_field_once():
    no_key = mapping_formset([{"source_field": "PersonEmail", "target_field": "email"}])
    assert not no_key.is_valid() and "Tick “Matching key” on exactly one row" in no_key.non_form_errors()[0]
    twice = mapping_formset([{"source_field": "PersonEmail", "target_field": "email", "is_key": "on"},
                             {"source_field": "FirstName", "target_field": "email"}])
    assert not twice.is_valid()
    assert "already filled by row 1" in twice.forms[1].errors["target_field"][0]
    half = mapping_formset([{"source_field": "PersonEmail", "target_field": "", "is_key": "on"}])
    assert half.forms[0].errors["target_field"] == ["Row 1: pick the target field too, or clear the row."] if not half.is_valid() else False


# --- the integration and schedule steps ------------------------------------------------------------------------
def sides(needs_id_field=True):
    connection = ConnectionFactory.build(name="Org")
    return {"target": {"connection": connection, "object": "Contact", "needs_id_field": needs_id_field,
                       "id_fields": [field("External_Id__c", external_id=True)], "record_types": []},
            "source": {"connection": connection, "object": "contact", "needs_id_field": False, "id_fields": [], "record_types": []}}


def test_the_integration_step_asks_for_the_idempotency_field_where_creates_need_one():
    integrations = [("activecampaign_salesforce", "ActiveCampaign ⇄ Salesforce"), ("generic", "Plain sync")]
    form = SetupIntegrationForm({"integration": "generic", "direction": "source_to_target"}, integrations=integrations, sides=sides())
    assert not form.is_valid()
    assert "receives the other side's id (e.g. External_Id__c)" in form.errors["target_id_field"][0]
    form = SetupIntegrationForm({"integration": "generic", "direction": "source_to_target"}, integrations=integrations,
                                sides=sides(needs_id_field=False))
    assert form.is_valid() and "target_id_field" not in form.fields


def test_a_periodic_sync_needs_an_interval_or_a_crontab_and_a_name_not_taken():
    SyncFactory(name="Taken")
    form = SetupScheduleForm({"name": "Taken", "trigger": "periodic", "crontab": "0 6 *"})
    assert not form.is_valid()
    assert form.errors["name"] == ["A sync is already called “Taken”: choose another name."]
    assert "five fields" in form.errors["crontab"][0]
    form = SetupScheduleForm({"name": "New", "trigger": "periodic"})
    assert not form.is_valid() and "needs an interval" in form.errors["every_minutes"][0]


# --- the pages ---------------------------------------------------------------------------------------------------
def test_only_people_who_may_add_syncs_reach_the_set_up(client):
    client.force_login(UserFactory(role=roles.SALES_OPS))
    assert client.get("/syncs/new/").status_code == 403
    client.force_login(UserFactory(role=roles.MARKETING_ADMIN))
    assert client.get("/syncs/new/").status_code == 200


def test_the_dashboard_leads_to_the_guided_set_up_not_the_admin_form(client):
    SyncFactory()
    client.force_login(UserFactory(role=roles.MARKETING_ADMIN))
    assert '<a href="/syncs/new/">Set up another sync</a>' in client.get("/").content.decode()


def test_a_step_not_reached_yet_sends_back_to_the_first_open_one(client):
    client.force_login(UserFactory(role=roles.MARKETING_ADMIN))
    assert client.get("/syncs/new/4/").url == "/syncs/new/1/"


def test_a_system_that_cannot_be_read_is_named_with_the_reason_and_can_be_tried_again(client, monkeypatch):
    source, target = ConnectionFactory(name="Marketing"), ConnectionFactory(name="CRM", kind="salesforce")

    def down(connection):
        raise setup.ConnectionUnreadable(connection, Unavailable("ActiveCampaign answered HTTP 503.").message)

    monkeypatch.setattr(setup, "setup_objects", down)
    client.force_login(UserFactory(role=roles.MARKETING_ADMIN))
    client.post("/syncs/new/1/", {"source": source.pk, "target": target.pk})
    response = client.get("/syncs/new/2/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "“Marketing” could not be read: ActiveCampaign answered HTTP 503." in page
    assert 'href="/syncs/new/2/?reload=1">Try again' in page


def test_a_missing_answer_is_named_and_a_system_down_while_describing_keeps_the_choices(client, monkeypatch):
    marketing, newsletter = ConnectionFactory(name="Marketing"), ConnectionFactory(name="Newsletter")
    client.force_login(UserFactory(role=roles.MARKETING_ADMIN))
    errors = client.post("/syncs/new/1/", {"source": marketing.pk}).context["form"].errors
    assert errors == {"target": ["Pick the target: the connection records go to."]}
    client.post("/syncs/new/1/", {"source": marketing.pk, "target": newsletter.pk})
    form = client.get("/syncs/new/2/").context["form"]
    assert form.initial == {"source_object": "contact", "target_object": "contact"}  # the only object of each

    def down(connection, object_name):
        raise setup.ConnectionUnreadable(connection, "ActiveCampaign could not be reached (ConnectionError).")

    monkeypatch.setattr(setup, "setup_describe", down)
    page = client.post("/syncs/new/2/", {"source_object": "contact", "target_object": "contact"})
    assert page.status_code == 200
    assert page.context["form"].non_field_errors() == [
        "“Marketing” could not be read: ActiveCampaign could not be reached (ConnectionError). Nothing is lost: choose "
        "“Next: integration” again to retry."]
    assert client.get("/syncs/new/3/").url == "/syncs/new/2/"  # not reached yet


def draft_at_mappings(client, monkeypatch):
    """A person at step 4, with the two systems' fields as SOURCE and TARGET."""
    marketing, crm = ConnectionFactory(name="Marketing"), ConnectionFactory(name="CRM")
    monkeypatch.setattr(setup, "setup_describe", lambda connection, name: SOURCE if connection == marketing else TARGET)
    client.force_login(UserFactory(role=roles.MARKETING_ADMIN))
    client.post("/syncs/new/1/", {"source": marketing.pk, "target": crm.pk})
    client.post("/syncs/new/2/", {"source_object": "contact", "target_object": "contact"})
    client.post("/syncs/new/3/", {"integration": "generic", "direction": "source_to_target"})
    return marketing, crm


def test_add_rows_keeps_what_was_picked_without_judging_it(client, monkeypatch):
    draft_at_mappings(client, monkeypatch)
    rows = client.get("/syncs/new/4/").context["formset"].initial
    page = client.post("/syncs/new/4/", {"action": "more", "form-TOTAL_FORMS": "2", "form-INITIAL_FORMS": "0",
                                         "form-0-source_field": "FirstName", "form-0-target_field": "BIRTHDAY",
                                         "form-1-source_field": "", "form-1-target_field": ""})
    formset = page.context["formset"]
    assert not formset.is_bound and len(formset.forms) == 1 + 3
    assert formset.initial[0]["target_field"] == "BIRTHDAY"
    assert len(rows) == 2 + 3  # the suggested email and first-name pairs, and empty rows


def test_changing_an_earlier_answer_asks_the_later_steps_again(client, monkeypatch):
    marketing, crm = draft_at_mappings(client, monkeypatch)
    assert client.get("/syncs/new/4/").status_code == 200
    client.post("/syncs/new/1/", {"source": marketing.pk, "target": crm.pk})  # the same answer: nothing dropped
    assert client.get("/syncs/new/4/").status_code == 200
    client.post("/syncs/new/1/", {"source": crm.pk, "target": marketing.pk})
    assert client.get("/syncs/new/4/").url == "/syncs/new/2/"
    assert set(client.session["sync_setup"]) == {"connections"}  # the objects are listed again, for the new pair


@pytest.mark.django_db(transaction=True)
def test_ac3_the_set_up_reads_both_systems_and_creates_the_sync_switched_off(client, make_salesforce_org, make_activecampaign_account):
    org = salesforce_connection(make_salesforce_org(person_accounts=True), "Org")
    account = make_activecampaign_account(name="Marketing")
    marketing = ConnectionFactory(name="Marketing", kind="activecampaign", base_url=account.api_url, credentials={"api_key": account.api_key})
    client.force_login(UserFactory(role=roles.MARKETING_ADMIN))

    assert client.post("/syncs/new/1/", {"source": org.pk, "target": marketing.pk}).url == "/syncs/new/2/"
    objects = dict(client.get("/syncs/new/2/").context["form"].fields["source_object"].choices)
    assert "Account" in objects and "Contact" in objects and "RecordType" not in objects
    assert client.post("/syncs/new/2/", {"source_object": "Account", "target_object": "contact"}).url == "/syncs/new/3/"

    form = client.get("/syncs/new/3/").context["form"]
    assert form.initial["integration"] == "activecampaign_salesforce"
    assert "target_id_field" not in form.fields  # ActiveCampaign upserts contacts by email
    assert ("External_Id__c", "External ID (External_Id__c) · string, external id") in form.fields["source_id_field"].choices
    person_type = next(value for value, label in form.fields["source_record_type"].choices if label == "Person Account")
    answers = {"integration": "activecampaign_salesforce", "direction": "two_way", "source_record_type": person_type}
    assert "source_id_field" in client.post("/syncs/new/3/", answers).context["form"].errors
    assert client.post("/syncs/new/3/", answers | {"source_id_field": "External_Id__c"}).url == "/syncs/new/4/"

    page = client.get("/syncs/new/4/")
    assert [(r["source_field"], r["target_field"]) for r in page.context["formset"].initial if r][:1] == [("PersonEmail", "email")]
    mappings = {"form-TOTAL_FORMS": "2", "form-INITIAL_FORMS": "0",
                "form-0-source_field": "PersonEmail", "form-0-target_field": "email", "form-0-is_key": "on",
                "form-0-to_target": "always", "form-0-to_source": "always",
                "form-1-source_field": "PersonMobilePhone", "form-1-target_field": "phone",
                "form-1-to_target": "always", "form-1-to_source": "if_blank"}
    assert client.post("/syncs/new/4/", mappings).url == "/syncs/new/5/"

    page = client.get("/syncs/new/5/").content.decode()
    assert "<strong>Person Accounts and tags</strong>" in page
    response = client.post("/syncs/new/5/", {
        "name": "People", "trigger": "periodic", "every_minutes": "30", "rules-TOTAL_FORMS": "1", "rules-INITIAL_FORMS": "0",
        "rules-0-kind": "opt_out", "rules-0-field": "source:PersonHasOptedOutOfEmail", "rules-0-operator": "set"})
    sync = Sync.objects.get(name="People")
    assert response.url == f"/syncs/{sync.pk}/"
    assert not sync.enabled and sync.schedule is not None and not sync.schedule.enabled
    assert (sync.direction, sync.source_id_field, sync.integration) == ("two_way", "External_Id__c", "activecampaign_salesforce")
    assert list(sync.mappings.values_list("source_field", "target_field", "is_key", "to_source")) == [
        ("PersonEmail", "email", True, "always"), ("PersonMobilePhone", "phone", False, "if_blank")]
    assert RecordTypeChoice.objects.get(sync=sync).label == "Person Account"
    assert list(sync.rules.values_list("kind", "side", "field")) == [("opt_out", "source", "PersonHasOptedOutOfEmail")]
    assert "sync_setup" not in client.session
    assert FieldMapping.objects.count() == 2
