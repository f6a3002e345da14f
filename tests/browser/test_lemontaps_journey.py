"""A field user pushes captured contacts from the demo to Salesforce and sees how each went;
then an admin switches the automatic push on and a new capture arrives in Salesforce within
seconds (SPEC LT-3, LT-4, LT-5, LT-9, LT-10); a capture likely already in Salesforce under
another email is flagged before the push."""
import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from connectors.sandbox.lemontaps import captures_generate, captures_post
from connectors.sandbox.models import SandboxOrg
from dedupe.services import matching_run
from portal.demo import DEMO_LEMONTAPS, DEMO_SALESFORCE, demo_setup, field_user_email
from syncconfig import roles
from syncconfig.captures import capture_secret
from syncconfig.models import CapturedContact, Connection
from syncconfig.services import connection_connector
from tests.browser.test_connection_journey import sign_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_lt3_lt5_a_field_user_pushes_three_contacts_and_an_admin_switches_on_the_automatic_push(page: Page, live_server, sandbox_url, settings):
    settings.PORTAL_URL = live_server.url
    demo_setup(sandbox_url=sandbox_url, records=8)
    salesforce = Connection.objects.get(name=DEMO_SALESFORCE)
    org = SandboxOrg.objects.get(username=salesforce.credentials["username"])
    email = field_user_email(org)
    UserFactory(username="fielduser", email=email, role=roles.FIELD_USER)

    matching_run(trigger="demo", full=True)  # as the demo's first matching pass does

    # The field user sees their own captured contacts, none exported yet, and the one that is
    # likely someone Salesforce has under another email flagged before anything is pushed.
    sign_in(page, live_server, "fielduser")
    page.get_by_role("link", name="Captured contacts").click()
    expect(page.get_by_role("heading", name="My captured contacts")).to_be_visible()
    table = page.locator("#captures")
    expect(table.get_by_role("row")).to_have_count(8)  # a header and seven captures
    expect(table).not_to_contain_text("Exported")

    def row(name):
        return table.get_by_role("row").filter(has=page.get_by_label(f"Choose {name}", exact=True))

    expect(row("Tom Becker").locator(".likely-duplicate")).to_contain_text(re.compile(r"(Contact|Lead) \S+ Becker in Salesforce"))
    expect(row("Tom Becker").locator(".likely-duplicate")).to_contain_text("A push fails as a duplicate.")
    expect(row("Tom Becker").locator(".likely-duplicate").get_by_role("link")).to_have_attribute("href", re.compile(r"/00[3Q]"))

    # Three of them: a new one, a Lead Salesforce already has, and one without a company.
    new = CapturedContact.objects.filter(capture_id__startswith="lt-3-").order_by("pk").first()
    for name in (str(new), "Thomas Becker", "Lena Vogel"):
        page.get_by_label(f"Choose {name}", exact=True).check()
    page.get_by_role("button", name="Push to Salesforce").click()
    expect(page.get_by_role("status")).to_contain_text("1 exported, 2 failed")

    rows = {name: row(name) for name in (str(new), "Thomas Becker", "Lena Vogel")}
    expect(rows[str(new)]).to_contain_text("Exported")
    expect(rows["Thomas Becker"]).to_contain_text(re.compile(r"! Failed: duplicate: a (Lead|Contact) with this email already exists in Salesforce"))
    expect(rows["Thomas Becker"].get_by_role("link", name="existing record")).to_be_visible()
    expect(rows["Lena Vogel"]).to_contain_text("! Failed: invalid: a Lead needs a company")
    rows[str(new)].get_by_text(re.compile("^Exported")).click()  # details on click
    expect(rows[str(new)].get_by_role("link", name=re.compile("^00Q"))).to_be_visible()
    expect(table.get_by_role("row").filter(has_text="Not exported")).to_have_count(4)

    (summary,) = mail.outbox
    assert summary.to == [email] and summary.subject == "Salesforce push: 1 exported, 2 failed"

    # An admin switches the automatic push on.
    page.get_by_role("button", name="Log out").click()
    UserFactory(username="maria", role=roles.MARKETING_ADMIN, is_staff=True)
    sign_in(page, live_server, "maria")
    sync = CapturedContact.objects.first().connection.syncs_out.get()
    page.goto(f"{live_server.url}/syncs/{sync.pk}/lemontaps/")
    page.get_by_label("Push every new captured contact automatically").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messagelist")).to_contain_text("Saved.")

    # A new capture arrives through the webhook, and is in Salesforce within seconds.
    lemontaps = Connection.objects.get(name=DEMO_LEMONTAPS)
    (body,) = captures_generate(1, captured_by=email, seed=9)
    assert captures_post(f"{live_server.url}/captures/{lemontaps.pk}/", capture_secret(lemontaps), [body]) == [201]
    found = connection_connector(salesforce).find("Lead", "Email", [body["email"]], ["Id", "LeadSource", "OwnerId"])
    # Found as soon as the capture was answered: pushed on its arrival, not by a later poll.
    assert len(found) == 1 and found[0].fields["LeadSource"] == "Lemontaps"
    page.goto(f"{live_server.url}/captures/")
    expect(page.locator("#captures").get_by_role("row").filter(has_text=body["email"])).to_contain_text("Exported")
