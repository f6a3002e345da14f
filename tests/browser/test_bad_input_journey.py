"""A sales-ops user reads failed records and a duplicate group whose values carry markup, in a
real headless Chromium: the run page and the group's merge screen show every value as text,
run none of it, and log no console error (CO-2)."""
import re

import pytest
from playwright.sync_api import Page, expect

from connectors.base import FieldDescription
from dedupe import services
from syncconfig import preflight, roles
from syncconfig.models import RecordError, SyncRun
from tests.browser.test_connection_journey import sign_in
from tests.factories import ConnectionFactory, PersonFactory, RecordErrorFactory, SyncFactory, SyncRunFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
IMG = '<img src=x onerror="window.__pwned=1">'
SCRIPT = "<script>window.__pwned=1</script>"
COMPANY = 'Smith & Sons <b data-pwned="1">Ltd</b>'
SALESFORCE = {"kind": "salesforce", "base_url": "https://acme.my.salesforce.com",
              "credentials": {"client_id": "cid", "client_secret": "csecret", "username": "u@example.com", "password": "pw"}}


@pytest.fixture
def console_errors(page: Page) -> list[str]:
    """What the page logs as an error, or throws."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def assert_nothing_ran(page: Page, console_errors: list[str]) -> None:
    page.wait_for_load_state("load")  # an image that fails to load has said so by then
    assert page.evaluate("typeof window.__pwned") == "undefined"
    expect(page.locator("img[src='x']")).to_have_count(0)
    expect(page.locator("[data-pwned]")).to_have_count(0)
    expect(page.locator("script", has_text="__pwned")).to_have_count(0)
    assert console_errors == []


def test_co2_failures_whose_values_and_reasons_carry_markup_show_it_as_text_on_the_run_page(
        page: Page, live_server, console_errors):
    sync = SyncFactory(name="Leads to Salesforce", source=ConnectionFactory(name="Marketing", **SALESFORCE),
                       source_object="Contact", target=ConnectionFactory(name="Sales", **SALESFORCE), target_object="Lead")
    label = f"{SCRIPT} {IMG} <ada@example.com>"
    run = SyncRunFactory(sync=sync, status=SyncRun.Status.PARTIAL, read_count=4, created_count=1, failed_count=3, changes=[{
        "side": "Lead", "end": "target", "record": "003000000000001AAA", "label": label, "partner": "00Q000000000001AAA",
        "action": "create", "fields": {"FirstName": [None, SCRIPT], "LastName": [None, IMG], "Company": [None, COMPANY]}}])
    # The reasons pre-flight gives for markup where it does not belong.
    for n, (spec, value) in enumerate([(FieldDescription("Email", "Email", "email", length=80), IMG),
                                       (FieldDescription("Website", "Website", "url", length=255), SCRIPT),
                                       (FieldDescription("Phone", "Phone", "phone", length=40), f"+49 30 {IMG}")], start=2):
        problem = preflight.field_problem(spec, value, creating=True)
        RecordErrorFactory(run=run, object_name="Contact", record_id=f"00300000000000{n}AAA", field=problem.field,
                           code=problem.code, message=problem.message, error_class=RecordError.ErrorClass.VALIDATION,
                           payload={"label": label, "values": {spec.name: value}})
    UserFactory(username="olga", role=roles.SALES_OPS, is_staff=True)
    sign_in(page, live_server, "olga")

    page.goto(f"{live_server.url}/runs/{run.pk}/")

    failed = page.get_by_role("region", name="Failed records")
    expect(failed.get_by_role("row")).to_have_count(4)
    expect(failed.get_by_role("row", name=re.compile("^Select 003000000000002AAA"))).to_contain_text(
        f"Email (Email) “{IMG}”: is not an email address")
    expect(failed).to_contain_text(f"Website (Website) “{SCRIPT}”: is not a web address")
    # A value too long to show whole is cut, markup and all, and still shown as text.
    expect(failed).to_contain_text('Phone (Phone) “+49 30 <img src=x onerror="window.__pwn…”: is 45 characters long')
    expect(failed.get_by_text(label).first).to_be_visible()
    changed = page.get_by_role("region", name="What changed")
    for value in (SCRIPT, IMG, COMPANY, label):
        expect(changed).to_contain_text(value)
    assert_nothing_ran(page, console_errors)


def test_co2_a_duplicate_group_whose_records_carry_markup_shows_it_as_text_on_the_merge_screen(
        page: Page, live_server, console_errors):
    org = ConnectionFactory(name="Sales", **SALESFORCE)
    first = PersonFactory(connection=org, record_id="003000000000001AAA", fields={
        "first_name": SCRIPT, "last_name": IMG, "email": "ada@example.com", "company": COMPANY, "phone": "+49 30 1234"})
    second = PersonFactory(connection=org, record_id="003000000000002AAA", fields={
        "first_name": "Ada", "last_name": f"Lovelace {SCRIPT}", "email": "ada@example.com", "company": "Analytical Engines",
        "city": IMG})
    a, b = sorted([first.key, second.key])
    group = services.group_store(members=[first, second], evidence=[
        {"a": a, "b": b, "score": 0.97, "fields": {"email": ["exact", 1.0], "last_name": ["fuzzy", 0.4]}}])
    UserFactory(username="olga", role=roles.SALES_OPS, is_staff=True)
    sign_in(page, live_server, "olga")

    page.goto(f"{live_server.url}/duplicates/{group.pk}/")

    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{SCRIPT} {IMG}")
    screen = page.locator("table.merge-screen").first
    expect(screen.get_by_role("columnheader")).to_contain_text(["Field", f"{SCRIPT} {IMG}", f"Ada Lovelace {SCRIPT}"])
    expect(page.get_by_role("radio", name=f"First name: {SCRIPT}")).to_be_visible()
    expect(page.get_by_role("radio", name=f"Last name: {IMG}")).to_be_visible()
    expect(screen.get_by_role("row", name=re.compile("^Company"))).to_contain_text(COMPANY)  # kept from the Account
    expect(page.get_by_role("radio", name=f"City: {IMG}")).to_be_visible()
    assert_nothing_ran(page, console_errors)
