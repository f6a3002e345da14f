"""A marketing admin looks at a sync's last 30 days (charts drawn in the page, with their
text), at the API allowance of its connections on the dashboard, and follows a run under way
whose progress changes without the page reloading — in a real headless Chromium."""
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from syncconfig import roles
from syncconfig.models import SyncRun
from tests.browser.test_connection_journey import sign_in
from tests.factories import ConnectionFactory, SyncFactory, SyncRunFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def a_month_of_runs(sync):
    now = timezone.now()
    midnight = timezone.make_aware(timezone.datetime.combine(timezone.localdate(), timezone.datetime.min.time()))
    for day in range(30):  # one run on each of the last 30 local days, all before now
        started = midnight - timedelta(days=day) + min(timedelta(hours=1), (now - midnight) / 2)
        SyncRunFactory(sync=sync, status=SyncRun.Status.SUCCEEDED if day % 7 else SyncRun.Status.PARTIAL,
                       started_at=started, finished_at=started + timedelta(seconds=5 + day % 9 * 3),
                       created_count=10 + day % 5 * 4, updated_count=30 - day % 11, failed_count=3 if day % 7 == 0 else 0,
                       read_count=40, source_api_calls=4 + day % 3, target_api_calls=2 + day % 4)


def test_an_admin_sees_a_syncs_month_in_charts_and_follows_a_run_under_way(page: Page, live_server):
    org = ConnectionFactory(name="Acme org", kind="salesforce", api_used=9100, api_limit=15000, api_budget_percent=80,
                            api_reported_at=timezone.now())
    sync = SyncFactory(name="Contacts to Salesforce", target=org)
    a_month_of_runs(sync)
    UserFactory(username="maria", role=roles.MARKETING_ADMIN, is_staff=True)
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, live_server, "maria")

    # The dashboard: today's allowance against the budget, and the calls per day.
    row = page.get_by_role("row", name=re.compile("^Acme org"))
    expect(row.get_by_role("meter")).to_have_attribute("value", "9100")
    expect(row).to_contain_text("9100 of a budget of 12000 (80% of 15000)")
    expect(row.locator("[data-chart=calls] canvas")).to_have_count(1)
    page.screenshot(path="var/test-results/charts-dashboard.png", full_page=True)

    # The sync page: both charts drawn, each with what it shows in words and a table.
    page.get_by_role("link", name="Contacts to Salesforce").click()
    records = page.get_by_role("img", name=re.compile("Records per day"))
    expect(records.locator("canvas")).to_have_count(1)
    expect(page.get_by_role("img", name=re.compile("Run duration per day")).locator("canvas")).to_have_count(1)
    expect(records).to_have_accessible_name(re.compile(r"created, .* updated, .* failed in 30 runs"))
    page.locator("#activity").screenshot(path="var/test-results/charts-sync-activity.png")
    page.get_by_text("The same, day by day").click()
    table = page.get_by_role("table", name=re.compile("per day, the last 30 days"))
    expect(table.get_by_role("row")).to_have_count(31)
    page.screenshot(path="var/test-results/charts-sync-page.png", full_page=True)

    # A run starts; its page follows it as it goes.
    run = SyncRunFactory(sync=sync, status=SyncRun.Status.RUNNING, phase=SyncRun.Phase.READING, records_expected=400,
                         heartbeat_at=timezone.now())
    page.goto(f"{live_server.url}/runs/{run.pk}/")
    page.evaluate("window.sameDocument = true")
    expect(page.locator(".run-phase")).to_contain_text("Reading")
    SyncRun.objects.filter(pk=run.pk).update(phase=SyncRun.Phase.WRITING, read_count=200, created_count=180,
                                             failed_count=20, target_api_calls=3)
    expect(page.locator(".run-phase")).to_contain_text("Writing · 200 records done of 400")
    expect(page.get_by_role("progressbar", name="Records done")).to_have_attribute("value", "200")
    expect(page.get_by_role("list", name="counts")).to_contain_text("180 created")
    assert page.evaluate("window.sameDocument") is True  # filled in, not reloaded
    page.screenshot(path="var/test-results/charts-live-run.png")

    # Its sync's page shows it under way too; once it ends, the page shows the whole run.
    page.goto(f"{live_server.url}/syncs/{sync.pk}/")
    live = page.get_by_role("region", name="Running now")
    expect(live).to_contain_text("200 records done of 400")
    live.screenshot(path="var/test-results/charts-sync-running.png")
    SyncRun.objects.filter(pk=run.pk).update(status=SyncRun.Status.PARTIAL, phase="", read_count=400, created_count=380,
                                             finished_at=timezone.now())
    expect(live).to_have_count(0)
    expect(page.get_by_role("row", name=re.compile(r"Partial|Finished with failed records")).first).to_contain_text("380")
