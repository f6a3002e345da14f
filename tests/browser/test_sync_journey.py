"""A new marketing admin, using only the web UI, syncs the demo ActiveCampaign account with the
demo Salesforce org as the README describes it: the guided set-up (objects and fields picked
from both systems' lists, a pair that cannot work refused), the Person-Account settings, the
preview, switching on and a first run that creates what the preview listed, then a contact tagged and edited in ActiveCampaign arriving in
Salesforce, and the runs in the history. The demo has such a sync already; this is a second."""
import os
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
SUGGESTED = [("PersonEmail", "email"), ("FirstName", "firstName"), ("LastName", "lastName")]
# Where to keep a screenshot of each step (to look at the pages); none are taken when unset.
SCREENSHOTS = os.environ.get("SETUP_SCREENSHOTS", "")


def shot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


def test_ac14_co3_an_admin_sets_up_previews_switches_on_and_sees_an_edit_arrive(page: Page, live_server, sandbox_url, settings, monkeypatch):
    settings.PORTAL_URL = live_server.url  # where the ActiveCampaign sandbox posts its notifications
    monkeypatch.setattr(dispatcher, "mode", dispatcher.SYNCHRONOUS)  # a notification has arrived when the edit has
    page.set_viewport_size({"width": 1366, "height": 768})
    demo_setup(sandbox_url=sandbox_url, records=8)
    UserFactory(username="maria", role=roles.MARKETING_ADMIN, is_staff=True)
    sign_in(page, live_server, "maria")

    # Step 1: both demo systems are there.
    expect(page.get_by_role("row", name=re.compile("^" + re.escape(DEMO_SALESFORCE) + " Salesforce"))).to_be_visible()
    page.get_by_role("link", name="Set up another sync").click()
    page.get_by_label("Source", exact=True).select_option(label=f"{DEMO_SALESFORCE} (Salesforce)")
    page.get_by_label("Target", exact=True).select_option(label=f"{DEMO_ACTIVECAMPAIGN} (ActiveCampaign)")
    shot(page, "1-connections")
    page.get_by_role("button", name="Next: objects").click()

    # Step 2: each system's own list of objects.
    page.get_by_label(f"Source object in {DEMO_SALESFORCE}").select_option(label="Account (Account)")
    page.get_by_label(f"Target object in {DEMO_ACTIVECAMPAIGN}").select_option(label="Contact (contact)")
    shot(page, "2-objects")
    page.get_by_role("button", name="Next: integration").click()

    # Step 3: the integration made for the two systems is offered first.
    expect(page.get_by_label("ActiveCampaign ⇄ Salesforce (Person Accounts, tags)")).to_be_checked()
    page.get_by_label("Two way").check()
    page.get_by_role("button", name="Next: field mappings").click()
    expect(page.locator(".field-source_id_field .errorlist")).to_contain_text("receives the other side's id")
    page.get_by_label(re.compile("^Idempotency field on the source")).select_option("External_Id__c")
    page.get_by_label(re.compile("^Record type of new records \\(Account")).select_option(label="Person Account")
    shot(page, "3-integration")
    page.get_by_role("button", name="Next: field mappings").click()

    # Step 4: pairs of the same label come suggested, the emails as the key; types are shown.
    expect(page.get_by_label("Source field, row 1")).to_have_value("PersonEmail")
    expect(page.get_by_label("Target field, row 1")).to_have_value("email")
    expect(page.get_by_label("Matching key, row 1")).to_be_checked()
    expect(page.get_by_label("Source → target policy, row 1")).to_have_value("always")
    expect(page.get_by_label("Source field, row 1").locator("option:checked")).to_have_text("Email (PersonEmail) · email")
    sources = page.locator("select[name$='-source_field']").evaluate_all("selects => selects.map(s => s.value)")
    targets = page.locator("select[name$='-target_field']").evaluate_all("selects => selects.map(s => s.value)")
    assert set(SUGGESTED) <= set(zip(sources, targets))
    row = sources.index("") + 1  # the first empty row
    page.get_by_label(f"Source field, row {row}").select_option("PersonBirthdate")
    page.get_by_label(f"Target field, row {row}").select_option("phone")
    page.get_by_role("button", name="Next: rules and schedule").click()
    expect(page.locator("tr.row-errors")).to_contain_text("a phone field takes a phone number or a text")  # refused, with why
    shot(page, "4-mappings")
    page.get_by_label(f"Source field, row {row}").select_option("PersonMobilePhone")
    page.get_by_role("button", name="Next: rules and schedule").click()

    # Step 5: name, trigger; the integration's own settings come next.
    page.get_by_label("Name", exact=True).fill("People to marketing")
    page.get_by_label("Immediate (on each change)").check()
    expect(page.get_by_role("region", name="After this step")).to_contain_text("Person Accounts and tags")
    shot(page, "5-schedule")
    page.get_by_role("button", name="Create the sync (switched off)").click()

    # It lands on the sync's page, switched off, pointing at the Person-Account settings.
    expect(page.locator("h1 .badge")).to_have_text("off")
    expect(page.get_by_role("cell", name="PersonMobilePhone")).to_be_visible()
    shot(page, "6-sync-page")
    page.locator(".messagelist").get_by_role("link", name="Person Accounts and tags").click()
    page.get_by_label("All Person Accounts created/updated from this point on").check()
    expect(page.get_by_label("Default record type for new Person Accounts")).to_have_value(
        re.compile(".+"))  # chosen in the set-up
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messagelist")).to_contain_text("Saved.")

    # Preview, then switch on.
    page.get_by_role("link", name="People to marketing").click()
    page.get_by_role("link", name="Preview").click()
    expect(page.get_by_role("heading", name=re.compile("Preview of"))).to_be_visible()
    expect(page.locator("ul.counts")).to_contain_text("to create")
    expect(page.get_by_text("The preview cost")).to_be_visible()
    creates = int(page.locator("ul.counts li").filter(has_text="to create").locator("strong").inner_text())
    page.get_by_role("button", name="Switch on").click()  # offered with what it will do
    expect(page.locator("h1 .badge")).to_have_text("on")

    # Run now: it creates what the preview listed, no more.
    page.get_by_role("button", name="Run now").click()
    expect(page.get_by_role("status")).to_have_text("Succeeded")
    expect(page.get_by_role("list", name="counts")).to_contain_text(f"{creates} created")

    # In ActiveCampaign: tag a contact for Salesforce, then edit it.
    sync = Sync.objects.get(name="People to marketing")
    app = page.context.new_page()
    app.goto(f"{sync.target.base_url}/app/contacts")
    first_contact = app.locator("table a").first
    email = first_contact.inner_text()
    first_contact.click()
    app.get_by_label("Add tag").fill("added-to-salesforce-person-account")
    app.get_by_role("button", name="Add tag").click()
    person = SandboxRecord.objects.filter(sobject="Account", data__PersonEmail=email)
    assert person.count() == 1, "tagging in ActiveCampaign created the Person Account, once"
    app.get_by_label("First name").fill("Augusta")
    app.get_by_role("button", name="Save contact").click()
    assert person.get().data["FirstName"] == "Augusta"

    # The runs are in the history.
    page.get_by_role("main").get_by_role("link", name="People to marketing").click()
    history = page.get_by_role("table").filter(has_text="Trigger").last
    expect(history).to_contain_text("Immediate (a change)")
    expect(history.get_by_role("row").nth(1)).to_contain_text("Succeeded")
