"""Zoho's limits and injected faults in the sandbox: CRM API credits per day (429
TOO_MANY_REQUESTS), and a share of calls refused 429 or failed 500/503, off by default."""
import pytest

from connectors.sandbox.models.zoho import ZohoOrg
from connectors.sandbox.zoho.orgs import org_set_faults

pytestmark = pytest.mark.django_db(transaction=True, available_apps=["connectors.sandbox"])


def test_crm_calls_past_the_days_credits_are_answered_429(make_zoho_org, zoho_api, zoho_clock):
    api = zoho_api(make_zoho_org(crm_daily_credits=3))
    statuses = [api.crm("GET", "Contacts").status_code for _ in range(4)]
    zoho_clock.advance(86_401)
    assert statuses == [204, 204, 204, 429]
    assert api.crm("GET", "Contacts").status_code == 204


def test_injected_faults_refuse_and_fail_calls_in_zohos_words(zoho_org, zoho_api, zoho_clock):
    api = zoho_api(zoho_org)
    org_set_faults(ZohoOrg.objects.get(), error_rate=0.5, limit_rate=0.5, seed_value=3)

    crm = [api.crm("GET", "Contacts") for _ in range(10)]
    campaigns = [api.campaigns("getmailinglists") for _ in range(10)]

    assert {r.status_code for r in crm} <= {429, 500, 503} and 429 in {r.status_code for r in crm}
    assert all(r.json()["status"] == "error" for r in crm)
    assert {r.json()["code"] for r in crm if r.status_code == 429} == {"TOO_MANY_REQUESTS"}
    assert {r.status_code for r in campaigns} <= {429, 500, 503}
    assert all(r.json()["status"] == "error" for r in campaigns)


def test_faults_are_off_by_default(zoho_org, zoho_api):
    api = zoho_api(zoho_org)
    assert all(api.crm("GET", "Contacts").status_code == 204 for _ in range(20))


def test_the_faults_command_sets_an_organisations_faults(zoho_org):
    from io import StringIO

    from django.core.management import call_command

    org = ZohoOrg.objects.get()
    out = StringIO()
    call_command("sandbox", "faults", "zoho", "--account", org.slug, "--error-rate", "0.2", "--seed", "4", stdout=out)
    org.refresh_from_db()
    assert org.error_rate == 0.2 and org.fault_seed == 4 and "500/503" in out.getvalue()
