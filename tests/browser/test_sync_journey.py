"""A new marketing admin, using only the web UI, syncs the demo ActiveCampaign account with the
demo Salesforce org: creates the sync, maps fields from both systems' lists, chooses the
Person-Account settings, previews, switches it on, edits a contact in ActiveCampaign and sees
the change arrive in Salesforce, then finds the runs in the history."""
import re

import pytest
from playwright.sync_api import Page, expect

from connectors.sandbox.activecampaign.webhooks import dispatcher
from connectors.sandbox.models import SandboxRecord
from portal.demo import DEMO_ACTIVECAMPAIGN, DEMO_SALESFORCE, demo_setup
from syncconfig import roles
from syncconfig.models import Sync
from tests.browser.test_connection_journey import sign_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
MAPPINGS = [("PersonEmail", "email"), ("FirstName", "firstName"), ("LastName", "lastName")]


def test_ac14_co3_an_admin_connects_previews_switches_on_and_sees_an_edit_arrive(page: Page, live_server, sandbox_url, settings, monkeypatch):
    settings.PORTAL_URL = live_server.url  # where the ActiveCampaign sandbox posts its notifications
    monkeypatch.setattr(dispatcher, "mode", dispatcher.SYNCHRONOUS)  # a notification has arrived when the edit has
    demo_setup(sandbox_url=sandbox_url, records=8)
    UserFactory(username="maria", role=roles.MARKETING_ADMIN, is_staff=True)
    sign_in(page, live_server, "maria")

    # Both demo systems are there; set up a sync between them.
    expect(page.get_by_role("row", name=re.compile("^" + re.escape(DEMO_SALESFORCE) + " Salesforce"))).to_be_visible()
    page.get_by_role("link", name="Set up another sync").click()
    page.get_by_label("Name:", exact=True).fill("People to marketing")
    page.get_by_label("Source connection:").select_option(label=f"{DEMO_SALESFORCE} (Salesforce)")
    page.get_by_label("Source object:").fill("Account")
    page.get_by_label("Target connection:").select_option(label=f"{DEMO_ACTIVECAMPAIGN} (ActiveCampaign)")
    page.get_by_label("Target object:").fill("contact")
    page.get_by_label("Direction:").select_option(label="Two way")
    page.get_by_label("Idempotency field on the source:").fill("External_Id__c")
    page.get_by_label("Trigger:").select_option(label="Immediate (on each change)")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")

    # Mappings are picked from what each system reports.
    for row, (sf_field, ac_field) in enumerate(MAPPINGS):
        page.get_by_role("button", name=re.compile("Add another field mapping", re.I)).click()
        page.locator(f"select[name='mappings-{row}-source_field']").select_option(sf_field)
        page.locator(f"select[name='mappings-{row}-target_field']").select_option(ac_field)
    page.locator("input[name='mappings-0-is_key']").check()
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    # The Person-Account settings, read from the org.
    sync = Sync.objects.get(name="People to marketing")
    page.goto(f"{live_server.url}/syncs/{sync.pk}/")
    page.get_by_role("link", name="Person Accounts and tags").click()
    page.get_by_label("All Person Accounts created/updated from this point on").check()
    page.get_by_label("Default record type for new Person Accounts").select_option(label="Person Account")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messagelist")).to_contain_text("Saved.")

    # Preview, then switch on.
    page.get_by_role("link", name="People to marketing").click()
    page.get_by_role("link", name="Preview").click()
    expect(page.get_by_role("heading", name=re.compile("Preview of"))).to_be_visible()
    expect(page.locator("ul.counts")).to_contain_text("to create")
    expect(page.get_by_text("The preview cost")).to_be_visible()
    page.get_by_role("button", name="Switch on").click()  # offered with what it will do
    expect(page.locator("h1 .badge")).to_have_text("on")

    # In ActiveCampaign: tag a contact for Salesforce, then edit it.
    app = page.context.new_page()
    marketing = sync.target
    app.goto(f"{marketing.base_url}/app/contacts")
    first_contact = app.locator("table a").first
    email = first_contact.inner_text()
    first_contact.click()
    app.get_by_label("Add tag").fill("added-to-salesforce-person-account")
    app.get_by_role("button", name="Add tag").click()
    person = SandboxRecord.objects.filter(sobject="Account", data__PersonEmail=email)
    assert person.count() == 1, "tagging in ActiveCampaign created the Person Account"
    app.get_by_label("First name").fill("Augusta")
    app.get_by_role("button", name="Save contact").click()
    assert person.get().data["FirstName"] == "Augusta"

    # The runs are in the history.
    page.reload()
    history = page.get_by_role("table").filter(has_text="Trigger").last
    expect(history).to_contain_text("Immediate (a change)")
    expect(history.get_by_role("row").nth(1)).to_contain_text("Succeeded")
