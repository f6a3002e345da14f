"""Zoho CRM → Zoho Campaigns (SPEC ZO-1 … ZO-6), end to end: syncs run through the engine
against a sandbox organisation over HTTP (its CRM and its Campaigns account)."""
import pytest

from connectors.sandbox.models.zoho import ZcList, ZcMembership, ZohoOrg
from syncconfig import engine
from syncconfig.integrations.zoho_campaigns import FlowBack, ZohoCampaignsOptions
from syncconfig.models import Sync, SyncRun
from syncconfig.services import connection_connector
from tests.factories import ConnectionFactory, SyncFactory

pytestmark = pytest.mark.django_db(transaction=True)


def grant(facts):
    return {"accounts_url": facts.accounts_url, "client_id": facts.client_id, "client_secret": facts.client_secret,
            "refresh_token": facts.refresh_token}


def connections(facts):
    crm = ConnectionFactory(name="Zoho CRM", kind="zoho_crm", base_url=facts.api_domain, credentials=grant(facts))
    campaigns = ConnectionFactory(name="Zoho Campaigns", kind="zoho_campaigns", base_url=facts.campaigns_url,
                                  credentials=grant(facts))
    return crm, campaigns


def listkey(facts):
    return ZcList.objects.get(org__slug=org_slug(facts)).listkey


def org_slug(facts):
    return facts.api_domain.rstrip("/").rsplit("/", 1)[-1]


def make_sync(facts, module="Contacts", *, ends=None, integration="", name="", **options):
    crm, campaigns = ends or connections(facts)
    sync = SyncFactory(name=name or f"Zoho {module} {integration}".strip(), source=crm, source_object=module,
                       target=campaigns, target_object=listkey(facts), direction=Sync.Direction.TWO_WAY,
                       trigger=Sync.Trigger.IMMEDIATE, integration=integration)
    if options:
        ZohoCampaignsOptions(**options).save(sync)
    return Sync.objects.select_related("source", "target").get(pk=sync.pk)


def run(sync):
    return engine.sync_run_execute(SyncRun.objects.create(sync=sync, trigger=SyncRun.Trigger.MANUAL))


def members(facts, status=None):
    rows = ZcMembership.objects.filter(mailing_list__listkey=listkey(facts)).select_related("contact")
    return {m.contact.email_key: (m.status, m.contact.values) for m in rows if status is None or m.status == status}


@pytest.fixture
def org(make_zoho_org):
    return make_zoho_org(name="Acme Zoho")


@pytest.fixture
def api(org, zoho_api):
    return zoho_api(org)


def crm_record(api, module, record_id):
    return api.crm("GET", f"{module}/{record_id}").json()["data"][0]


# --- ZO-2 ----------------------------------------------------------------------------------------
def test_zo2_a_crm_contact_reaches_the_list_with_its_related_account_and_a_second_run_changes_nothing(org, api):
    (account,) = api.insert("Accounts", {"Account_Name": "Vistula Trading"})
    (contact,) = api.insert("Contacts", {"First_Name": "Jana", "Last_Name": "Kowalski", "Email": "jana@vistula.example",
                                         "Account_Name": {"id": account}, "Mailing_Country": "Poland"})
    sync = make_sync(org)
    assert sync.integration == "zoho_campaigns"

    first = run(sync)
    assert (first.status, first.created_count) == (SyncRun.Status.SUCCEEDED, 1)
    status, values = members(org)["jana@vistula.example"]
    assert status == ZcMembership.ACTIVE
    assert values["First Name"] == "Jana" and values["Company Name"] == "Vistula Trading" and values["Country"] == "Poland"

    again = run(sync)
    assert (again.created_count, again.updated_count, again.failed_count) == (0, 0, 0)

    api.crm("PUT", "Contacts", json={"data": [{"id": contact, "Last_Name": "Kowalska"}]})
    changed = run(sync)
    assert changed.updated_count == 1
    assert members(org)["jana@vistula.example"][1]["Last Name"] == "Kowalska"


def test_co5_zo2_an_incremental_run_costs_its_changes_and_not_a_read_of_the_whole_list(make_zoho_org, zoho_api):
    big = make_zoho_org(name="Acme Zoho", records=700)  # about 420 Contacts, most on the list
    api = zoho_api(big)
    sync = make_sync(big)
    first = run(sync)
    assert first.status == SyncRun.Status.SUCCEEDED and first.created_count > 300, first.message
    contacts = api.crm("GET", "Contacts", params={"fields": "Email,Email_Opt_Out", "per_page": 200}).json()["data"]
    chosen = [c for c in contacts if not c.get("Email_Opt_Out")][:10]
    edits = [{"id": c["id"], "Title": "Chief Listener"} for c in chosen]
    edits[0]["Phone"] = None  # a value cleared in the CRM is cleared in Campaigns too
    assert api.crm("PUT", "Contacts", json={"data": edits}).ok

    second = run(sync)

    assert (second.updated_count, second.created_count, second.failed_count) == (10, 0, 0)
    # Campaigns: a listsubscribe each, the list's fields described once to check the values
    # before sending them, and the way back reads one page of each status.
    assert second.target_api_calls == 10 + 1 + 3
    # Zoho CRM: one page of changes, one read of their Accounts, one empty read to be sure.
    assert second.source_api_calls <= 3
    assert {members(big)[c["Email"].lower()][1]["Job Title"] for c in chosen} == {"Chief Listener"}
    assert members(big)[chosen[0]["Email"].lower()][1]["Phone"] == ""
    assert run(sync).target_api_calls == 3  # nothing changed: nothing written


def test_zo2_leads_sync_into_the_same_list_with_their_company(org, api):
    api.insert("Leads", {"Last_Name": "Nowak", "Email": "piotr@nowak.example", "Company": "Nowak Consulting"})
    crm, campaigns = connections(org)
    make_sync(org, "Contacts", ends=(crm, campaigns))
    leads = make_sync(org, "Leads", ends=(crm, campaigns))
    assert run(leads).created_count == 1
    assert members(org)["piotr@nowak.example"][1]["Company Name"] == "Nowak Consulting"


def test_zo2_one_configuration_covers_contacts_leads_and_a_custom_module_with_one_setting(org, api):
    from django.core.exceptions import ValidationError

    from syncconfig import zoho

    api.insert("Contacts", {"Last_Name": "Kowalska", "Email": "jana@example.com"})
    api.insert("Leads", {"Last_Name": "Nowak", "Email": "piotr@example.com", "Company": "Nowak Consulting"})
    api.insert("Event_Guests", {"Name": "Gita at the fair", "First_Name": "Gita", "Last_Name": "Sen",
                                "Email": "gita@example.com"})
    contacts = make_sync(org)
    for refused in (["Contacts", "Accounts"], ["Contacts", "No_Such_Module"], []):
        with pytest.raises(ValidationError):
            zoho.zoho_modules_set(sync=contacts, modules=refused)

    configuration = zoho.zoho_modules_set(sync=contacts, modules=["Contacts", "Leads", "Event_Guests"])
    assert [m.source_object for m in configuration] == ["Contacts", "Leads", "Event_Guests"]
    assert all(m.enabled == contacts.enabled and m.trigger == Sync.Trigger.IMMEDIATE for m in configuration)
    with pytest.raises(ValidationError, match="Event_Guests has no field Lead_Source"):
        zoho.zoho_options_save(sync=contacts, marketing_field="Lead_Source", marketing_operator="eq",
                               marketing_value="Web Download", opt_out_field="Email_Opt_Out",
                               on_unsubscribe="opt_out", on_bounce="opt_out")
    zoho.zoho_options_save(sync=contacts, marketing_field="", marketing_operator="set", marketing_value="",
                           opt_out_field="Email_Opt_Out", on_unsubscribe="opt_out", on_bounce="log_only")
    assert {ZohoCampaignsOptions.of(m).on_bounce for m in zoho.configuration_syncs(sync=contacts)} == {"log_only"}

    for member in configuration:
        assert run(member).created_count == 1
    assert members(org)["gita@example.com"][1]["First Name"] == "Gita"
    assert set(members(org)) >= {"jana@example.com", "piotr@example.com", "gita@example.com"}

    zoho.zoho_modules_set(sync=contacts, modules=["Contacts", "Leads"])
    assert zoho.configuration_modules(sync=contacts) == ["Contacts", "Leads"]
    assert not Sync.objects.get(source_object="Event_Guests").enabled


# --- ZO-3 ----------------------------------------------------------------------------------------
def test_zo3_every_record_syncs_by_default_and_the_marketing_rule_keeps_non_marketing_contacts_out(org, api):
    api.insert("Contacts", {"Last_Name": "Web", "Email": "web@example.com", "Lead_Source": "Web Download"},
               {"Last_Name": "Fair", "Email": "fair@example.com", "Lead_Source": "Trade Show"})
    everyone = make_sync(org)
    assert run(everyone).created_count == 2

    ZcMembership.objects.all().delete()
    rule = make_sync(org, ends=connections_again(everyone), name="By rule", marketing_field="Lead_Source",
                     marketing_operator="eq", marketing_value="Web Download")
    Sync.objects.filter(pk=everyone.pk).delete()
    done = run(rule)
    assert (done.created_count, done.skipped_count) == (1, 1)
    assert set(members(org)) == {"web@example.com"}
    reasons = [c for c in engine.sync_preview(rule).changes if c.record.fields.get("Email") == "fair@example.com"]
    assert reasons and "Non-marketing" in reasons[0].reason


def connections_again(sync):
    return sync.source, sync.target


def test_zo3_the_counts_show_marketing_non_marketing_and_opted_out_records_and_the_billed_list(org, api):
    from syncconfig import zoho

    api.insert("Contacts", {"Last_Name": "A", "Email": "a@example.com", "Lead_Source": "Web Download"},
               {"Last_Name": "B", "Email": "b@example.com", "Lead_Source": "Trade Show"},
               {"Last_Name": "C", "Email": "c@example.com", "Lead_Source": "Web Download", "Email_Opt_Out": True})
    sync = make_sync(org, marketing_field="Lead_Source", marketing_operator="eq", marketing_value="Web Download")
    run(sync)
    counts = zoho.marketing_counts(sync=sync)
    assert counts["records"] == 3 and counts["marketing"] == 1 and counts["non_marketing"] == 1
    assert counts["opted_out"] == 1 and counts["list_active"] == 1
    assert ZohoCampaignsOptions.of(Sync.objects.get(pk=sync.pk)).counts["marketing"] == 1


# --- ZO-4 ----------------------------------------------------------------------------------------
def test_zo4a_records_that_opted_out_of_email_are_not_imported(org, api):
    api.insert("Contacts", {"Last_Name": "Out", "Email": "out@example.com", "Email_Opt_Out": True},
               {"Last_Name": "In", "Email": "in@example.com"})
    done = run(make_sync(org))
    assert (done.created_count, done.skipped_count) == (1, 1)
    assert set(members(org)) == {"in@example.com"}


def test_zo4b_an_unsubscribe_in_campaigns_opts_the_crm_record_out_with_a_logged_reason(org, api):
    (contact,) = api.insert("Contacts", {"Last_Name": "Leaving", "Email": "leaving@example.com"})
    sync = make_sync(org)
    run(sync)
    api.campaigns("json/listunsubscribe", "POST", listkey=listkey(org), contactinfo='{"Contact Email": "leaving@example.com"}')

    back = run(sync)
    assert back.status == SyncRun.Status.SUCCEEDED
    assert crm_record(api, "Contacts", contact)["Email_Opt_Out"] is True
    (entry,) = ZohoCampaignsOptions.of(Sync.objects.get(pk=sync.pk)).flow_back_log
    assert entry["email"] == "leaving@example.com" and entry["record"] == contact and entry["status"] == "unsub"
    assert "Unsubscribed" in entry["reason"]

    again = run(sync)  # nothing new: no second write, no second entry
    assert again.updated_count == 0
    assert len(ZohoCampaignsOptions.of(Sync.objects.get(pk=sync.pk)).flow_back_log) == 1


def test_zo4b_a_bounce_is_logged_and_opts_out_or_only_logged_as_configured(org, api):
    kept, bounced = api.insert("Contacts", {"Last_Name": "Kept", "Email": "kept@example.com"},
                               {"Last_Name": "Bounced", "Email": "bounced@example.com"})
    sync = make_sync(org, on_bounce=FlowBack.LOG_ONLY)
    run(sync)
    ZcMembership.objects.filter(contact__email_key="bounced@example.com").update(status=ZcMembership.BOUNCE)
    run(sync)
    assert crm_record(api, "Contacts", bounced)["Email_Opt_Out"] in (False, None)
    (entry,) = ZohoCampaignsOptions.of(Sync.objects.get(pk=sync.pk)).flow_back_log
    assert (entry["status"], entry["action"]) == ("bounce", FlowBack.LOG_ONLY) and "bounced" in entry["reason"]

    options = ZohoCampaignsOptions.of(sync)
    options.on_bounce, options.flow_back_log = FlowBack.OPT_OUT, []
    options.save(sync)
    Sync.objects.filter(pk=sync.pk).update(target_watermark="")
    run(Sync.objects.get(pk=sync.pk))
    assert crm_record(api, "Contacts", bounced)["Email_Opt_Out"] is True
    assert crm_record(api, "Contacts", kept)["Email_Opt_Out"] in (False, None)


def test_zo4b_an_unsubscribed_address_the_sync_did_not_put_on_the_list_changes_no_crm_record(org, api):
    (contact,) = api.insert("Contacts", {"Last_Name": "Stranger", "Email": "stranger@example.com"})
    api.campaigns("json/listsubscribe", "POST", listkey=listkey(org), contactinfo='{"Contact Email": "other@example.com"}')
    api.campaigns("json/listunsubscribe", "POST", listkey=listkey(org), contactinfo='{"Contact Email": "other@example.com"}')
    done = run(make_sync(org))
    assert done.status == SyncRun.Status.SUCCEEDED
    assert crm_record(api, "Contacts", contact)["Email_Opt_Out"] in (False, None)
    assert ZohoOrg.objects.count() == 1


# --- ZO-1 ----------------------------------------------------------------------------------------
def legacy(org, module="Contacts", *, ends=None, name="", **options):
    from syncconfig.integrations.zoho_campaigns_legacy import ZohoLegacyOptions

    sync = make_sync(org, module, ends=ends, integration="zoho_campaigns_legacy", name=name)
    Sync.objects.filter(pk=sync.pk).update(direction=Sync.Direction.SOURCE_TO_TARGET, trigger=Sync.Trigger.PERIODIC)
    sync.refresh_from_db()
    ZohoLegacyOptions(**options).save(sync)
    return Sync.objects.select_related("source", "target").get(pk=sync.pk)


def test_zo1_the_new_model_is_the_default_and_the_legacy_one_is_offered_for_the_same_connections(org):
    from syncconfig.integrations import integrations_joining

    keys = [cls.key for cls in integrations_joining({"zoho_crm", "zoho_campaigns"})]
    assert keys[:2] == ["zoho_campaigns", "zoho_campaigns_legacy"]


def test_zo1_legacy_accounts_sync_only_periodically_daily_weekly_or_monthly_on_a_schedule(org):
    from django.core.exceptions import ValidationError

    from syncconfig import zoho

    crm, campaigns = connections(org)
    accounts = legacy(org, "Accounts", ends=(crm, campaigns), name="Legacy Accounts")
    with pytest.raises(ValidationError):
        zoho.legacy_options_save(sync=accounts, trigger=Sync.Trigger.IMMEDIATE, frequency="daily", monthly_limit=0)
    zoho.legacy_options_save(sync=accounts, trigger=Sync.Trigger.PERIODIC, frequency="weekly", monthly_limit=4)
    accounts.refresh_from_db()
    assert accounts.schedule.crontab.day_of_week == "1"
    contacts = legacy(org, "Contacts", ends=(crm, campaigns), name="Legacy Contacts")
    zoho.legacy_options_save(sync=contacts, trigger=Sync.Trigger.IMMEDIATE, frequency="daily", monthly_limit=0)
    contacts.refresh_from_db()
    assert contacts.trigger == Sync.Trigger.IMMEDIATE and contacts.schedule is None


def test_zo1_the_monthly_limit_per_organisation_and_module_pauses_further_runs(org, api):
    api.insert("Contacts", {"Last_Name": "A", "Email": "a@example.com"})
    sync = legacy(org, monthly_limit=2)
    assert run(sync).created_count == 1
    assert run(sync).status == SyncRun.Status.SUCCEEDED
    third = run(sync)
    assert third.status == SyncRun.Status.PAUSED and "2 of the 2" in third.message and third.resume_at


# --- ZO-6 ----------------------------------------------------------------------------------------
def test_zo6_a_legacy_configuration_migrates_after_a_preview_keeping_its_links(org, api):
    from syncconfig import zoho
    from syncconfig.models import SyncRule

    api.insert("Contacts", {"Last_Name": "A", "Email": "a@example.com", "Lead_Source": "Web Download"})
    crm, campaigns = connections(org)
    contacts = legacy(org, "Contacts", ends=(crm, campaigns), name="Legacy Contacts", monthly_limit=5)
    accounts = legacy(org, "Accounts", ends=(crm, campaigns), name="Legacy Accounts")
    SyncRule.objects.create(sync=contacts, kind="scope", field="Lead_Source", operator="eq", value="Web Download")
    run(contacts)

    preview = zoho.migration_preview(source=crm, target=campaigns)
    assert [row["module"] for row in preview] == ["Contacts", "Accounts"]
    assert "Immediate" in preview[0]["after"] and any("segments" in n for n in preview[0]["notes"])
    assert any("monthly limit" in n for n in preview[0]["notes"]) and "travel with Contacts" in preview[1]["after"]
    assert Sync.objects.get(pk=contacts.pk).integration == "zoho_campaigns_legacy"  # a preview changes nothing

    zoho.migrate(source=crm, target=campaigns)
    contacts.refresh_from_db(), accounts.refresh_from_db()
    assert (contacts.integration, contacts.trigger, contacts.direction) == (
        "zoho_campaigns", Sync.Trigger.IMMEDIATE, Sync.Direction.TWO_WAY)
    assert contacts.links.count() == 1 and not accounts.enabled
    assert ZohoCampaignsOptions.of(contacts).migrated_from == "Legacy Contacts"
    assert run(contacts).created_count == 0  # nothing synced twice


def test_zo6_a_legacy_sync_of_a_module_the_new_model_covers_already_makes_way_for_it(org, api):
    from syncconfig import zoho

    api.insert("Leads", {"Last_Name": "Nowak", "Email": "piotr@example.com"})
    crm, campaigns = connections(org)
    covering = make_sync(org, "Leads", ends=(crm, campaigns), name="New Leads")
    old = legacy(org, "Leads", ends=(crm, campaigns), name="Legacy Leads")

    [row] = zoho.migration_preview(source=crm, target=campaigns)
    assert "covers Leads already" in row["after"]
    zoho.migrate(source=crm, target=campaigns)

    old.refresh_from_db()
    assert old.integration == "zoho_campaigns_legacy" and not old.enabled
    assert [s.pk for s in zoho.configuration_syncs(sync=covering)] == [covering.pk]


def test_zo6_past_the_cut_off_legacy_configurations_move_by_themselves(org, settings):
    import datetime

    from syncconfig import zoho

    sync = legacy(org)
    settings.ZOHO_LEGACY_CUTOFF = datetime.date(2030, 1, 1)
    assert zoho.migrate_due(today=datetime.date(2029, 12, 31)) == 0
    assert zoho.migrate_due(today=datetime.date(2030, 1, 1)) == 1
    sync.refresh_from_db()
    assert sync.integration == "zoho_campaigns" and sync.options["migrated_automatically"] is True


# --- the settings pages -------------------------------------------------------------------------
def test_zo3_zo6_the_settings_pages_show_counts_save_the_rule_and_migrate_after_a_preview(org, api, client):
    from tests.factories import UserFactory

    api.insert("Contacts", {"Last_Name": "A", "Email": "a@example.com", "Lead_Source": "Web Download"},
               {"Last_Name": "B", "Email": "b@example.com", "Lead_Source": "Trade Show"})
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    crm, campaigns = connections(org)
    sync = make_sync(org, ends=(crm, campaigns))
    page = f"/syncs/{sync.pk}/zoho-campaigns/"
    assert "Zoho Campaigns" in client.get(f"/syncs/{sync.pk}/").content.decode()
    response = client.post(page, {"marketing_field": "Lead_Source", "marketing_operator": "eq",
                                  "marketing_value": "Web Download", "opt_out_field": "Email_Opt_Out",
                                  "on_unsubscribe": "opt_out", "on_bounce": "log_only"})
    assert response.status_code == 302
    client.post(page, {"count": "1"})
    text = client.get(page).content.decode()
    assert 'data-count="marketing">1<' in text and 'data-count="non_marketing">1<' in text
    client.post(page, {"modules": "Save modules", "module": ["Contacts", "Leads"], "custom_modules": "Event_Guests"})
    leads = Sync.objects.get(source_object="Leads", integration="zoho_campaigns")
    assert ZohoCampaignsOptions.of(leads).marketing_value == "Web Download"
    assert 'id="module-Event_Guests" value="Event_Guests" checked' in client.get(page).content.decode()

    old = legacy(org, "Leads", ends=(crm, campaigns), name="Legacy Leads")
    legacy_page = f"/syncs/{old.pk}/zoho-legacy/"
    assert "Zoho legacy" in client.get(f"/syncs/{old.pk}/").content.decode()
    preview = client.get(legacy_page + "?preview=1").content.decode()
    assert "Migrate to the new model" in preview and "covers Leads already" in preview  # the modules saved above
    client.post(legacy_page, {"migrate": "1"})
    assert not Sync.objects.get(pk=old.pk).enabled


# --- notification channels ----------------------------------------------------------------------
def test_co3_zoho_notification_channels_of_immediate_syncs_are_renewed(org):
    from syncconfig import zoho
    from syncconfig.services import sync_enable

    sync = make_sync(org)
    sync_enable(sync=sync, enabled=True)
    assert zoho.notification_channels_renew() == 1
