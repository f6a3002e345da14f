"""A marketing admin suspects records went missing between two Salesforce orgs: checks the
sync's completeness from its page, sees what is missing and why, syncs the missing records
and checks again — in a real headless Chromium against a live server and the sandboxes."""
import re

import pytest
from playwright.sync_api import Page, expect

from connectors.sandbox.salesforce.orgs import org_get
from connectors.sandbox.salesforce.seed import records_bulk_create
from syncconfig import engine, roles
from syncconfig.models import RecordLink, SyncRun
from syncconfig.services import connection_connector
from tests.browser.test_connection_journey import sign_in
from tests.factories import FieldMappingFactory, SyncFactory, UserFactory, salesforce_connection

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_finds_a_missing_record_syncs_it_and_sees_the_sync_complete(page: Page, live_server, make_salesforce_org):
    source, target = make_salesforce_org(name="Source org"), make_salesforce_org(name="Target org")
    sync = SyncFactory(name="Contacts to the target org", source=salesforce_connection(source, "Source"), source_object="Contact",
                       target=salesforce_connection(target, "Target"), target_object="Contact",
                       target_id_field="External_Id__c", enabled=True)
    for position, name in enumerate(["Email", "LastName"]):
        FieldMappingFactory(sync=sync, source_field=name, target_field=name, position=position, is_key=name == "Email")
    ids = records_bulk_create(org_get(source.org_id), "Contact",
                              [{"LastName": f"Lovelace{i}", "Email": f"ada{i}@example.com"} for i in range(3)])
    engine.sync_run_execute(SyncRun.objects.create(sync=sync, trigger=SyncRun.Trigger.MANUAL))
    lost = RecordLink.objects.get(sync=sync, source_id=ids[1])  # someone deleted it in the target org
    connection_connector(sync.target).delete([lost.target_id])
    lost.delete()

    UserFactory(username="maria", role=roles.MARKETING_ADMIN, is_staff=True)
    sign_in(page, live_server, "maria")
    page.get_by_role("link", name="Contacts to the target org").click()
    completeness = page.get_by_role("region", name="Completeness")
    expect(completeness).to_contain_text("Never checked.")

    completeness.get_by_role("button", name="Check completeness").click()
    expect(page.locator(".messagelist")).to_contain_text("The completeness check is queued")
    expect(completeness).to_contain_text("1 missing in Target")
    expect(completeness.get_by_role("row", name=re.compile(ids[1]))).to_contain_text(
        "Never synced: not linked, and no Contact in Target has its Email (ada1@example.com).")
    expect(page.get_by_role("region", name="Run history")).to_contain_text("Records are missing despite these runs")

    completeness.get_by_role("button", name="Sync the missing now").click()
    expect(page.locator(".messagelist")).to_contain_text("Syncing 1 missing record.")
    expect(page.get_by_text("Sync of the missing records")).to_be_visible()
    expect(page.get_by_text("Succeeded").first).to_be_visible()

    page.goto(f"{live_server.url}/syncs/{sync.pk}/")
    completeness.get_by_role("button", name="Check completeness").click()
    expect(completeness.locator(".completeness-result")).to_contain_text("Complete")
    expect(completeness.get_by_role("button", name="Sync the missing now")).to_have_count(0)
    page.get_by_role("link", name="Dashboard").first.click()
    expect(page.get_by_role("row", name=re.compile("Contacts to the target org"))).to_contain_text("Complete · checked")
