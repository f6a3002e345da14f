"""A marketing admin signs in, connects a system with a secret, and finds it masked and on
the dashboard — in a real headless Chromium against a live server."""
import re

import pytest
from playwright.sync_api import Page, expect

from syncconfig import roles
from syncconfig.models import Connection
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SECRET = "ac-4f1e2d3c-super-secret-api-key"


def sign_in(page: Page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/login/"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def test_an_admin_connects_a_system_and_never_sees_the_secret_again(page: Page, live_server):
    UserFactory(username="maria", role=roles.MARKETING_ADMIN, is_staff=True)
    sign_in(page, live_server, "maria")
    expect(page.get_by_text("No connections yet.")).to_be_visible()

    page.get_by_role("link", name="Connect a system").click()
    page.get_by_label("Name:", exact=True).fill("Marketing ActiveCampaign")
    page.get_by_label("System").select_option("activecampaign")
    # Only the chosen vendor's credentials are offered.
    expect(page.get_by_label("API key")).to_be_visible()
    expect(page.get_by_label("Client secret")).to_be_hidden()
    page.get_by_label("Base URL").fill("https://acme.api-us1.com")
    page.get_by_label("API key").fill(SECRET)
    page.get_by_role("button", name="Save and continue editing").click()

    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    expect(page.get_by_label("API key")).to_have_value("")
    expect(page.get_by_text("Stored (encrypted). Leave blank to keep it")).to_be_visible()
    assert SECRET not in page.content()

    page.get_by_role("link", name="Dashboard").first.click()
    row = page.get_by_role("row", name=re.compile("Marketing ActiveCampaign"))
    expect(row).to_contain_text("ActiveCampaign")
    expect(row).to_contain_text("untested")
    assert SECRET not in page.content()
    assert Connection.objects.get().credentials == {"api_key": SECRET}


def test_a_field_user_is_told_there_is_nothing_to_configure(page: Page, live_server):
    UserFactory(username="felix", role=roles.FIELD_USER)
    sign_in(page, live_server, "felix")
    expect(page.get_by_text("no configuration to look after")).to_be_visible()
    expect(page.get_by_role("link", name="Configuration")).to_have_count(0)
