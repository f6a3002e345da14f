"""A marketing admin runs the demo's Zoho CRM → Zoho Campaigns sync in Zoho's new model: opens
it, sees a Contact edited in Zoho CRM arrive in the Campaigns list at once (the CRM's
notification starts the run), sees an unsubscribe in Campaigns opt the CRM record out (the
short poll brings it back), and moves the legacy configuration to the new model after a
preview."""
import json
import re
import time

import pytest
from playwright.sync_api import Page, expect

from connectors.sandbox.models.zoho import ZcList, ZcMembership, ZohoOrg
from connectors.sandbox.zoho.notify import dispatcher
from connectors.sandbox.zoho.orgs import login_facts
from portal.demo import DEMO_ZOHO_LEGACY_ACCOUNTS, DEMO_ZOHO_LEGACY_LEADS, DEMO_ZOHO_SYNC, demo_setup
from syncconfig import roles, services
from syncconfig.models import Sync
from tests.browser.test_connection_journey import sign_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def eventually(check, timeout: float = 5.0):
    """``check()`` once it is true, polling briefly; the last answer after ``timeout`` seconds."""
    ends = time.monotonic() + timeout
    while not (answer := check()) and time.monotonic() < ends:
        time.sleep(0.1)
    return answer


def test_zo2_zo4_zo6_an_admin_sees_an_edit_arrive_an_unsubscribe_come_back_and_migrates_the_legacy_sync(
        page: Page, live_server, sandbox_url, settings, monkeypatch, zoho_api):
    settings.PORTAL_URL = live_server.url  # where Zoho CRM posts its notifications
    monkeypatch.setattr(dispatcher, "mode", dispatcher.SYNCHRONOUS)  # a notification has arrived when the edit has
    demo_setup(sandbox_url=sandbox_url, records=8)
    UserFactory(username="maria", role=roles.MARKETING_ADMIN, is_staff=True)
    org = ZohoOrg.objects.get()
    zoho = zoho_api(login_facts(org, base_url=sandbox_url))
    newsletter = ZcList.objects.get(org=org)

    # The demo's new-model sync is on, with its settings.
    sign_in(page, live_server, "maria")
    sync = Sync.objects.get(name=DEMO_ZOHO_SYNC)
    page.goto(f"{live_server.url}/syncs/{sync.pk}/")
    expect(page.get_by_role("heading", name=DEMO_ZOHO_SYNC)).to_contain_text("on")
    page.get_by_role("link", name="Zoho Campaigns").click()
    expect(page.get_by_role("heading", name=re.compile("Zoho CRM → Zoho Campaigns settings"))).to_be_visible()

    # In Zoho CRM, a Contact who did not opt out gets a new job title.
    contacts = zoho.crm("GET", "Contacts", params={"fields": "Email,Email_Opt_Out", "per_page": 200}).json()["data"]
    person = next(c for c in contacts if not c.get("Email_Opt_Out"))
    email = person["Email"].lower()
    edited = zoho.crm("PUT", "Contacts", json={"data": [{"id": person["id"], "Title": "Head of Marketing"}]})
    assert edited.status_code == 200, edited.text

    def in_campaigns():
        member = ZcMembership.objects.filter(mailing_list=newsletter, contact__email_key=email).select_related("contact").first()
        return member is not None and member.contact.values.get("Job Title") == "Head of Marketing" and member

    member = eventually(in_campaigns)
    assert member and member.status == ZcMembership.ACTIVE, "the edit reached the list"
    page.goto(f"{live_server.url}/syncs/{sync.pk}/")
    history = page.get_by_role("table").filter(has_text="Trigger").last
    expect(history).to_contain_text("Immediate (a change)")

    # In Zoho Campaigns, the person unsubscribes; the short poll brings it back to the CRM.
    left = zoho.campaigns("json/listunsubscribe", "POST", listkey=newsletter.listkey,
                          contactinfo=json.dumps({"Contact Email": email}))
    assert left.json()["status"] == "success", left.text
    services.immediate_syncs_poll()  # what beat does every few seconds

    def opted_out():
        return zoho.crm("GET", f"Contacts/{person['id']}").json()["data"][0].get("Email_Opt_Out") is True

    assert eventually(opted_out), "the CRM record opted out of email"
    page.goto(f"{live_server.url}/syncs/{sync.pk}/zoho-campaigns/")
    log = page.get_by_role("table").filter(has_text="What happened")
    expect(log.get_by_role("row").filter(has_text=email)).to_contain_text("Opted out")
    expect(log).to_contain_text("Unsubscribed from marketing email in Zoho Campaigns.")

    # The legacy configuration: preview the migration, then migrate.
    leads = Sync.objects.get(name=DEMO_ZOHO_LEGACY_LEADS)
    page.goto(f"{live_server.url}/syncs/{leads.pk}/")
    page.get_by_role("link", name="Zoho legacy sync and migration").click()
    page.get_by_role("link", name="Preview the migration").click()
    preview = page.get_by_role("table").filter(has_text="After")
    expect(preview.get_by_role("row").filter(has_text=DEMO_ZOHO_LEGACY_LEADS)).to_contain_text("The monthly limit no longer applies.")
    expect(preview.get_by_role("row").filter(has_text=DEMO_ZOHO_LEGACY_LEADS)).to_contain_text("build segments in Campaigns")
    expect(preview.get_by_role("row").filter(has_text=DEMO_ZOHO_LEGACY_ACCOUNTS)).to_contain_text("travel with Contacts")
    assert Sync.objects.get(pk=leads.pk).integration == "zoho_campaigns_legacy", "a preview changes nothing"
    page.get_by_role("button", name="Migrate to the new model").click()
    expect(page.locator(".messagelist")).to_contain_text("2 syncs moved to the new model.")
    leads.refresh_from_db()
    accounts = Sync.objects.get(name=DEMO_ZOHO_LEGACY_ACCOUNTS)
    assert (leads.integration, leads.trigger, leads.direction, leads.enabled) == (
        "zoho_campaigns", Sync.Trigger.IMMEDIATE, Sync.Direction.TWO_WAY, True)
    assert not accounts.enabled
    expect(page.get_by_role("link", name="Zoho Campaigns")).to_be_visible()  # the new model's settings now
