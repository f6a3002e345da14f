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


def test_a_run_started_on_the_demo_is_followed_live_on_its_page(page: Page, live_server, sandbox_url, sandbox_notifications_held,
                                                                  monkeypatch):
    """Maria presses Run now on the demo's HubSpot sync after thirty new contacts; while the run
    writes (held half-way by the test, as a slow vendor would), its page shows the phase and
    the records done, and then the finished run, without reloading."""
    import threading

    from syncconfig.services import connection_connector

    demo_setup(sandbox_url=sandbox_url, records=40)
    sync = Sync.objects.get(integration="hubspot_salesforce")
    engine.sync_run_execute(SyncRun.objects.create(sync=sync, trigger=SyncRun.Trigger.IMMEDIATE))  # the first run is over
    hubspot = connection_connector(sync.source)
    hubspot.create("contacts", [{"email": f"new{n}@example.com", "firstname": "New", "lastname": f"Person{n}"}
                                for n in range(30)])
    reached, release = threading.Event(), threading.Event()
    real_page_done = engine.page_done

    def held(direction, run, **kwargs):  # the run stops after its first page until the test lets it go
        real_page_done(direction, run, **kwargs)
        if not reached.is_set():
            reached.set()
            assert release.wait(60), "the test never let the run go on"

    monkeypatch.setattr(engine, "page_done", held)
    UserFactory(username="maria", role=roles.MARKETING_ADMIN, is_staff=True)
    sign_in(page, live_server, "maria")
    page.goto(f"{live_server.url}/syncs/{sync.pk}/")
    page.get_by_role("button", name="Run now").click(no_wait_after=True)  # the run goes on in the request
    assert reached.wait(60), "the run did not start"

    run = SyncRun.objects.get(sync=sync, status=SyncRun.Status.RUNNING)
    watcher = page.context.new_page()
    watcher.goto(f"{live_server.url}/runs/{run.pk}/")
    watcher.evaluate("window.sameDocument = true")
    expect(watcher.locator(".run-phase")).to_contain_text(re.compile(r"Reading\s+·\s+30 records done of 30"))
    expect(watcher.get_by_role("progressbar", name="Records done")).to_have_attribute("value", "30")
    expect(watcher.get_by_role("list", name="counts")).to_contain_text("30 created")

    assert watcher.evaluate("window.sameDocument") is True  # filled in, not reloaded

    release.set()  # once the run has ended, its page shows it in full
    expect(watcher.locator(".run-phase")).to_have_count(0, timeout=30_000)
    expect(watcher.get_by_text("Succeeded").first).to_be_visible()
    expect(page.get_by_role("heading", name=sync.name)).to_be_visible()  # Run now's answer came once the run ended
    run.refresh_from_db()
    assert run.records_expected == run.read_count and run.created_count == 30  # done, of all it expected
