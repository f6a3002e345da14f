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
    assert crm.webhook_secret not in watch.notify_url and f"/hooks/{crm.pk}" in watch.notify_url
    preview = zoho.migration_preview(source=sync.source, target=sync.target)
    assert [row["module"] for row in preview] == ["Leads", "Accounts"]
    assert any("segments" in note for note in preview[0]["notes"])


@pytest.mark.django_db(transaction=True)
def test_the_demo_syncs_are_immediate_once_the_workers_have_tested_the_connections(sandbox_url, sandbox_notifications_held):
    """The demo creates its immediate syncs switched on before the sandbox answers; the check
    the workers run when they start registers their notifications, and the ActiveCampaign ⇄
    Salesforce sync then runs as its README section says."""
    from connectors.sandbox.models import SandboxRecord
    from portal.demo import DEMO_PERSON_ACCOUNT_SYNC
    from syncconfig import engine
    from syncconfig.integrations import person_accounts as pa
    from syncconfig.models import Sync, SyncRun
    from syncconfig.services import connection_connector, connections_health_check

    salesforce, activecampaign, hubspot, lemontaps, *zoho = demo_setup(sandbox_url=sandbox_url, records=160)
    sync = Sync.objects.get(name=DEMO_PERSON_ACCOUNT_SYNC)
    assert sync.enabled and sync.trigger == Sync.Trigger.IMMEDIATE and sync.integration == pa.PersonAccountIntegration.key

    outcome = connections_health_check()

    assert outcome["stopped"] == 0
    for connection in (activecampaign, hubspot):
        connection.refresh_from_db()
        assert connection.health == "ok" and connection.webhook_registered_at is not None, connection.last_check_message
    # Switching on did only what AC-9 promises: Person Accounts for the seeded contacts tagged
    # "added-to-…", none for those that merely carry a provenance tag.
    from connectors.sandbox.models.activecampaign import AcContactTag

    seeded = AcContactTag.objects.filter(account__api_key=activecampaign.credentials["api_key"])
    asked_emails = set(seeded.filter(tag__tag=pa.PA_ADDED).values_list("contact__email", flat=True))
    provenance_only = set(seeded.filter(tag__tag__in=[pa.PA_CREATED, pa.PA_FROM_LEAD]).values_list("contact__email", flat=True)) - asked_emails
    first = engine.sync_run_execute(SyncRun.objects.create(sync=sync, trigger=SyncRun.Trigger.MANUAL))
    made = set(SandboxRecord.objects.filter(sobject="Account", data__IsPersonAccount=True, data__PersonEmail__in=asked_emails | provenance_only)
               .values_list("data__PersonEmail", flat=True))
    assert provenance_only and not made & provenance_only, first.message
    assert made >= asked_emails - {e for e in asked_emails if not e}
    ac = connection_connector(activecampaign)
    [asked] = ac.upsert("contact", [{"email": "grace.demo@example.com", "firstName": "Grace", "lastName": "Hopper"}])
    ac.add_tags(asked.id, [pa.PA_ADDED])
    run = engine.sync_run_execute(SyncRun.objects.create(sync=sync, trigger=SyncRun.Trigger.MANUAL))
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert SandboxRecord.objects.filter(org__org_id__isnull=False, sobject="Account", data__PersonEmail="grace.demo@example.com",
                                        data__IsPersonAccount=True).exists()
