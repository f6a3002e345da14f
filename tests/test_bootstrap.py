"""`make run`'s first-run set-up: one admin login printed once, and the sandbox demo."""
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from connectors.sandbox.models import SandboxOrg
from portal.demo import DEMO_ACTIVECAMPAIGN, DEMO_SALESFORCE, demo_setup
from syncconfig.models import Connection
from syncconfig.services import connection_test

pytestmark = pytest.mark.django_db


def run_bootstrap(settings, demo=False):
    settings.SANDBOX_DEMO = demo
    out = StringIO()
    call_command("bootstrap", stdout=out)
    return out.getvalue()


def test_it_prints_the_first_admin_login_once(settings):
    first = run_bootstrap(settings)
    password = first.split("password: ")[1].split()[0]
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.check_password(password)
    assert "password" not in run_bootstrap(settings)


def test_it_creates_the_demo_connection_once(settings):
    run_bootstrap(settings, demo=True)
    run_bootstrap(settings, demo=True)
    connection = Connection.objects.get(name=DEMO_SALESFORCE)
    assert connection.kind == "salesforce" and connection.base_url == settings.SANDBOX_URL
    assert set(connection.credentials) == {"client_id", "client_secret", "username", "password"}
    assert SandboxOrg.objects.count() == 1
    marketing = Connection.objects.get(name=DEMO_ACTIVECAMPAIGN)
    assert marketing.kind == "activecampaign" and marketing.base_url.startswith(f"{settings.SANDBOX_URL}/activecampaign/")


@pytest.mark.django_db(transaction=True)
def test_the_demo_connection_works_against_the_sandbox(sandbox_url):
    salesforce, activecampaign, hubspot, lemontaps, zoho_crm, zoho_campaigns = demo_setup(sandbox_url=sandbox_url, records=20)
    assert connection_test(connection=salesforce), salesforce.last_check_message
    assert salesforce.last_check_message.startswith("Connected to Acme Demo (Person Accounts: enabled; API usage:")
    assert connection_test(connection=activecampaign), activecampaign.last_check_message
    assert connection_test(connection=hubspot), hubspot.last_check_message
    assert connection_test(connection=lemontaps), lemontaps.last_check_message
    assert connection_test(connection=zoho_crm), zoho_crm.last_check_message
    assert connection_test(connection=zoho_campaigns), zoho_campaigns.last_check_message


@pytest.mark.django_db(transaction=True)
def test_zo2_zo6_the_demo_switches_the_zoho_sync_on_with_its_channel_and_keeps_a_legacy_configuration(sandbox_url):
    from connectors.sandbox.models.zoho import ZohoWatch
    from portal.demo import DEMO_ZOHO_CRM, DEMO_ZOHO_SYNC
    from syncconfig import zoho
    from syncconfig.models import Sync

    demo_setup(sandbox_url=sandbox_url, records=20)
    sync = Sync.objects.get(name=DEMO_ZOHO_SYNC)
    assert (sync.integration, sync.enabled, sync.trigger) == ("zoho_campaigns", True, Sync.Trigger.IMMEDIATE)
    crm = Connection.objects.get(name=DEMO_ZOHO_CRM)
    (watch,) = ZohoWatch.objects.all()
    assert watch.notify_url.endswith(f"/hooks/{crm.pk}/{crm.webhook_secret}/")
    preview = zoho.migration_preview(source=sync.source, target=sync.target)
    assert [row["module"] for row in preview] == ["Leads", "Accounts"]
    assert any("segments" in note for note in preview[0]["notes"])
