"""A sales-ops user works through the demo's duplicates: finds the seed's situations in the
queue, merges Jane Francis's four Salesforce Contacts (two merge steps) with a field chosen
from another record, and sees Salesforce, HubSpot and the links agree, with no sync error
left (SPEC HS-2 … HS-9)."""
import re

import pytest
from playwright.sync_api import Page, expect

from dedupe import services
from dedupe.models import DuplicateGroup, MergeJob
from portal.demo import DEMO_HUBSPOT_SYNC, demo_setup
from syncconfig import engine, roles
from syncconfig.models import RecordError, RecordLink, Sync, SyncRun
from syncconfig.services import connection_connector
from tests.browser.test_connection_journey import sign_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_hs_sales_ops_finds_the_duplicates_and_merges_a_group_of_four_in_both_systems(page: Page, live_server, sandbox_url):
    demo_setup(sandbox_url=sandbox_url, records=8)
    sync = Sync.objects.select_related("source", "target").get(name=DEMO_HUBSPOT_SYNC)
    # What the worker and beat do in the running portal: the sync's first run, then matching.
    first = engine.sync_run_execute(SyncRun.objects.create(sync=sync, trigger=SyncRun.Trigger.IMMEDIATE))
    assert first.status in ("succeeded", "partial"), first.message
    assert services.matching_run(full=True).status == "succeeded"
    UserFactory(username="olga", role=roles.SALES_OPS, is_staff=True)
    page.set_viewport_size({"width": 1366, "height": 768})  # a common office screen
    sign_in(page, live_server, "olga")

    # The seed's situations are in the queue.
    page.get_by_role("link", name="Duplicates", exact=True).first.click()
    expect(page.get_by_role("heading", name=re.compile("Duplicates"))).to_be_visible()
    for who in ("Thomas Becker|Tom Becker", "Anna M"):
        expect(page.get_by_role("row", name=re.compile(who)).first).to_be_visible()
    page.get_by_label("Search").fill("francis")
    page.get_by_role("button", name=re.compile("Filter|Search|Apply")).click()
    page.get_by_role("link", name=re.compile("Jane")).first.click()

    # The merge screen: the master is the Contact HubSpot is linked to (HS-4); choose a phone.
    group = DuplicateGroup.objects.get(pk=int(re.search(r"/duplicates/(\d+)/", page.url).group(1)))
    salesforce_ids = sorted(m.record_id for m in group.members.all() if m.object_name == "Contact")
    assert len(salesforce_ids) == 4 and group.kind == DuplicateGroup.Kind.DIFFERENT_EMAIL
    master = group.proposed_master
    expect(page.get_by_text(re.compile("proposed master", re.I)).first).to_be_visible()
    # The decision leads: the side-by-side table comes before the evidence and fits the
    # screen's width; the delete warning shows only once deleting is chosen.
    decision = page.locator("table.merge-screen").first
    box = decision.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 1366, box
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    assert page.evaluate("(() => { const s = document.querySelector('.table-scroll'); return s.scrollWidth <= s.clientWidth; })()")
    assert box["y"] < page.get_by_role("heading", name="Why these records were grouped").bounding_box()["y"]
    expect(page.get_by_text(re.compile("will be deleted"))).to_be_hidden()
    # Why: each pair's fields with what they counted, for (+) or against (−).
    page.locator("details.pair-evidence summary").first.click()
    expect(page.locator("details.pair-evidence[open] .counted").first).to_have_text(re.compile(r"counted [+\u2212]\d+\.\d"))
    page.get_by_label(re.compile("Delete the merged-away HubSpot contacts")).check()
    expect(page.get_by_text(re.compile("will be deleted")).first).to_be_visible()
    # Jane F's number, written the way the reviewer prefers (her Contact's column comes first).
    page.get_by_role("radio", name=re.compile(r"^Phone: \+49 \(30\) 555-0101")).first.check()
    page.get_by_label(re.compile("Merge the HubSpot contacts too")).check()
    page.get_by_role("button", name="Merge", exact=True).click()

    # The merge page: Salesforce in two steps of at most three, then HubSpot, then the links.
    expect(page.get_by_role("status").filter(has_text="Merged")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Merged 4 record\(s\) into Jane Francis"))).to_be_visible()
    job = MergeJob.objects.get(group=group)
    assert job.status == MergeJob.Status.SUCCEEDED, job.message
    assert job.steps.filter(system="Salesforce", action="merge").count() == 2
    expect(page.get_by_role("heading", name=re.compile("^Salesforce: merge Contact"))).to_have_count(2)
    expect(page.get_by_role("heading", name=re.compile("^HubSpot: merge contacts"))).to_have_count(1)
    expect(page.get_by_role("row", name=re.compile(r"^Phone \+49 30 5550101 \+49 \(30\) 555-0101"))).to_be_visible()

    # Salesforce keeps the master alone, with the chosen phone.
    salesforce = connection_connector(sync.target)
    left = salesforce.fetch("Contact", salesforce_ids, ["Phone"])
    assert [(r.id, r.fields["Phone"]) for r in left] == [(master.record_id, "+49 (30) 555-0101")]
    # HubSpot: one Jane, with the history of both, naming the master.
    hubspot = connection_connector(sync.source)
    janes = [r for r in hubspot.find("contacts", "email", ["jane.francis@northwind.example", "jane.f@gmail.com"],
                                     ["salesforcecontactid", "num_notes", "phone"])]
    assert len({r.id for r in janes}) == 1
    jane = janes[0]
    assert jane.fields["salesforcecontactid"] == master.record_id and jane.fields["num_notes"] == "4"
    # The links agree, and none of the group's records is left with a sync error.
    assert RecordLink.objects.get(sync=sync, target_id=master.record_id).source_id == jane.id
    assert not RecordLink.objects.filter(sync=sync, target_id__in=set(salesforce_ids) - {master.record_id}).exists()
    engine.sync_run_execute(SyncRun.objects.create(sync=sync, trigger=SyncRun.Trigger.IMMEDIATE))
    group_ids = {m.record_id for m in group.members.all()}
    assert not RecordError.objects.filter(sync=sync, record_id__in=group_ids,
                                          state__in=[RecordError.State.OPEN, RecordError.State.RETRY_SCHEDULED]).exists()


def test_hs2_hs6_an_admin_sets_the_link_policy_and_pins_a_contacts_record(page: Page, live_server, sandbox_url):
    demo_setup(sandbox_url=sandbox_url, records=8)
    sync = Sync.objects.get(name=DEMO_HUBSPOT_SYNC)
    engine.sync_run_execute(SyncRun.objects.create(sync=sync, trigger=SyncRun.Trigger.IMMEDIATE))
    UserFactory(username="maria", role=roles.MARKETING_ADMIN, is_staff=True)
    sign_in(page, live_server, "maria")
    page.get_by_role("link", name=DEMO_HUBSPOT_SYNC).click()
    page.get_by_role("link", name="HubSpot links and duplicates").click()

    page.get_by_label("Follow the most recently updated record (HubSpot's own behaviour)").check()
    page.get_by_label("Keep the HubSpot contact").check()
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    expect(page.get_by_label("Follow the most recently updated record (HubSpot's own behaviour)")).to_be_checked()
    sync.refresh_from_db()
    assert (sync.options["link_policy"], sync.options["on_salesforce_delete"]) == ("recent", "keep")

    link = RecordLink.objects.filter(sync=sync).order_by("-updated_at", "-pk").first()
    page.get_by_role("button", name=f"Pin link {link.pk}").click()
    expect(page.get_by_text("Pinned: the sync keeps this link.")).to_be_visible()
    row = page.locator(f"#link-{link.pk}")
    expect(row.get_by_text("pinned", exact=True)).to_be_visible()
    row.get_by_text(re.compile(r"\d+ events?")).click()
    expect(row.get_by_text(re.compile("Pinned by maria|Pinned .* by maria"))).to_be_visible()
