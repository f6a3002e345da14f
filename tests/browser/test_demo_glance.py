"""A marketing admin opens the demo as `make run` leaves it once its workers have started: the
connections tested, every integration's sync with a first run, its month in a chart, and a
duplicates page whose matching status agrees with the groups it lists."""
import re

import pytest
from playwright.sync_api import Page, expect

from dedupe import services as dedupe_services
from portal.demo import demo_setup
from syncconfig import engine, roles
from syncconfig.models import Sync, SyncRun
from syncconfig.services import connections_health_check
from tests.browser.test_connection_journey import sign_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_demo_at_a_glance_after_the_workers_start(page: Page, live_server, sandbox_url, sandbox_notifications_held):
    demo_setup(sandbox_url=sandbox_url, records=40)
    # What the workers do when they start: test the connections (registering notifications),
    # the first matching pass, and each switched-on sync's first run.
    assert connections_health_check()["stopped"] == 0
    assert dedupe_services.first_pass_due()
    dedupe_services.matching_run(trigger="start", full=True)
    synced = Sync.objects.filter(enabled=True, trigger=Sync.Trigger.IMMEDIATE)  # what the 10-second poll runs
    assert {s.integration for s in synced} >= {"hubspot_salesforce", "activecampaign_salesforce", "zoho_campaigns"}
    for sync in synced:
        engine.sync_run_execute(SyncRun.objects.create(sync=sync, trigger=SyncRun.Trigger.IMMEDIATE))
    UserFactory(username="maria", role=roles.MARKETING_ADMIN, is_staff=True)
    UserFactory(username="olga", role=roles.SALES_OPS, is_staff=True)
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, live_server, "maria")

    # Every connection tested, with when; none "untested".
    connections = page.locator("section[aria-labelledby=connections-title] > table > tbody > tr")
    expect(connections).to_have_count(6)
    expect(page.locator("section[aria-labelledby=connections-title]")).not_to_contain_text("untested")
    expect(page.locator("section[aria-labelledby=connections-title]")).to_contain_text("ago:")
    # Every switched-on sync has run, or (an immediate one whose run found nothing to do)
    # says it waits for a change; none says "never run".
    syncs = page.locator("section[aria-labelledby=syncs-title]")
    for sync in synced:
        row = syncs.get_by_role("row", name=re.compile(re.escape(sync.name)))
        expect(row).not_to_contain_text("never run")
        if SyncRun.objects.filter(sync=sync).exists():
            expect(row.locator(".badge").last).to_be_visible()
        else:
            expect(row).to_contain_text("waiting for a change")
    expect(page.get_by_text(re.compile(r"^Data as of"))).to_be_visible()

    # A sync's month, drawn.
    hubspot = synced.get(integration="hubspot_salesforce")
    page.goto(f"{live_server.url}/syncs/{hubspot.pk}/")
    expect(page.locator(".charts canvas").first).to_be_visible()
    expect(page.get_by_text(re.compile(r"created, .* updated, .* failed in \d+ run"))).to_be_visible()
    expect(page.get_by_role("table").filter(has_text="Trigger").last).to_contain_text("Immediate (a change)")

    # The duplicates page: the pass that ran, and the groups it found.
    page.get_by_role("button", name="Log out").click()
    sign_in(page, live_server, "olga")
    page.goto(f"{live_server.url}/duplicates/")
    summary = page.locator("section[aria-labelledby=matching-title]")
    expect(summary).to_contain_text("Last pass:")
    expect(summary).not_to_contain_text("No matching pass has run yet")
    expect(page.get_by_role("link", name=re.compile("Becker|Müller|Francis")).first).to_be_visible()
