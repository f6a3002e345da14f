"""A marketing admin finds a sync stopped by a revoked key: the dashboard says so once (not a
failed run every few seconds), the admin puts the new key in, tests the connection, and the
sync runs again — in a real headless Chromium against a live server and the sandboxes."""
import pytest
from playwright.sync_api import Page, expect

from connectors.sandbox.models.hubspot import HsAccount
from syncconfig import roles, services
from syncconfig.models import Sync, SyncRun
from tests.browser.test_connection_journey import sign_in
from tests.engine.test_hubspot_salesforce import make_sync
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_sees_a_stopped_connection_renews_its_key_and_the_sync_runs_again(
        page: Page, live_server, make_salesforce_org, make_hubspot_account):
    hub = make_hubspot_account(name="Acme Hub", records=3)
    sync = make_sync(make_salesforce_org(name="Acme"), hub)
    Sync.objects.filter(pk=sync.pk).update(trigger=Sync.Trigger.IMMEDIATE, name="Contacts to Salesforce")
    HsAccount.objects.filter(name="Acme Hub").update(token="rotated-in-hubspot")
    for _ in range(3):  # thirty seconds of polling
        services.immediate_syncs_poll()
    assert SyncRun.objects.filter(sync=sync).count() == 1
    HsAccount.objects.filter(name="Acme Hub").update(token="pat-new-token-0001")  # the admin made a new one in HubSpot

    UserFactory(username="maria", role=roles.MARKETING_ADMIN, is_staff=True)
    sign_in(page, live_server, "maria")
    row = page.get_by_role("row", name=f"{sync.source.name} HubSpot")
    expect(row).to_contain_text("stopped")
    expect(row).to_contain_text("Its syncs stopped")
    expect(page.get_by_role("row", name="Contacts to Salesforce")).to_contain_text("stopped")
    page.screenshot(path="var/test-results/stopped-dashboard.png", full_page=True)

    page.get_by_role("link", name="Contacts to Salesforce").click()
    expect(page.get_by_role("alert")).to_contain_text("stopped its syncs")
    page.get_by_role("link", name="test the connection").click()
    page.get_by_label("Private app access token").fill("pat-new-token-0001")
    page.get_by_role("button", name="Save and continue editing").click()
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator(".messagelist")).to_contain_text("Connected to")

    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("row", name="Contacts to Salesforce")).not_to_contain_text("stopped")
    services.immediate_syncs_poll()
    assert SyncRun.objects.filter(sync=sync, status=SyncRun.Status.SUCCEEDED).count() == 1
