"""“Test connection” stores its outcome on the connection, for the admin and the dashboard."""
import pytest

from connectors import registry
from connectors.base import AuthExpired, CheckResult, Connector
from syncconfig.services import connection_test
from tests.factories import ConnectionFactory, UserFactory

pytestmark = pytest.mark.django_db


class AcceptingConnector(Connector):
    kind = "activecampaign"

    def check(self):
        assert self.credentials == {"api_key": "ac-secret-key-1234567890"}
        return CheckResult("acme", {"contacts": 12})


class RefusingConnector(Connector):
    def check(self):
        raise AuthExpired("The API key was refused (403).")


@pytest.fixture
def use_connector(monkeypatch):
    def use(cls):
        vendor = registry.VENDORS["activecampaign"]
        monkeypatch.setitem(registry.VENDORS, "activecampaign", registry.Vendor(**{**vendor.__dict__, "connector_path": f"{__name__}.{cls.__name__}"}))
    return use


def test_a_working_connection_is_marked_ok_with_the_account_name(use_connector):
    use_connector(AcceptingConnector)
    conn = ConnectionFactory()
    assert connection_test(connection=conn) is True
    conn.refresh_from_db()
    assert (conn.health, conn.last_check_message) == ("ok", "Connected to acme (contacts: 12)")


def test_a_refused_connection_is_marked_failing_with_the_vendor_reason(use_connector):
    use_connector(RefusingConnector)
    conn = ConnectionFactory()
    assert connection_test(connection=conn) is False
    conn.refresh_from_db()
    assert (conn.health, conn.last_check_message) == ("failing", "The API key was refused (403).")


def test_a_vendor_without_a_connector_yet_says_so(vendor_without_connector):
    conn = ConnectionFactory(kind="zoho_crm", credentials={"refresh_token": "x"})
    connection_test(connection=conn)
    conn.refresh_from_db()
    assert conn.health == "failing"
    assert conn.last_check_message == "Testing a Zoho CRM connection is not available yet."


def test_the_admin_button_tests_and_shows_the_result(client, use_connector):
    use_connector(AcceptingConnector)
    conn = ConnectionFactory()
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    response = client.post(f"/admin/syncconfig/connection/{conn.pk}/test/", follow=True)
    assert "Connected to acme" in response.content.decode()


def test_the_admin_action_reports_how_many_connections_work(client, use_connector):
    use_connector(AcceptingConnector)
    conns = ConnectionFactory.create_batch(2)
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    response = client.post(
        "/admin/syncconfig/connection/",
        {"action": "test_connections", "_selected_action": [c.pk for c in conns]},
        follow=True,
    )
    assert "2 of 2 connections work." in response.content.decode()


class UnreachableConnector(Connector):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.sleep = lambda seconds: None  # its back-off, without the wait

    def check(self):
        from connectors.base import Unavailable

        raise Unavailable("ActiveCampaign could not be reached (ConnectTimeout).")


class NotifyingConnector(AcceptingConnector):
    registered: list[str] = []

    def check(self):
        return CheckResult("acme", {})

    def webhook_register(self, url, *args, **kwargs):
        NotifyingConnector.registered.append(url)
        return "hook-1"


def test_the_scheduled_check_stops_the_syncs_of_a_connection_refused_for_good(use_connector):
    from syncconfig.services import connections_health_check, runnable_syncs
    from tests.factories import SyncFactory

    use_connector(RefusingConnector)
    sync = SyncFactory(source=ConnectionFactory(), target=ConnectionFactory(), enabled=True)

    assert connections_health_check()["stopped"] == 2  # both its connections refuse the key
    sync.source.refresh_from_db()
    assert sync.source.health == "stopped" and "refused" in sync.source.blocked_reason
    assert sync not in runnable_syncs()


def test_a_connection_out_of_reach_for_the_moment_is_shown_failing_but_keeps_its_syncs(use_connector):
    from syncconfig.services import connections_health_check, runnable_syncs
    from tests.factories import SyncFactory

    use_connector(UnreachableConnector)
    sync = SyncFactory(source=ConnectionFactory(), target=ConnectionFactory(), enabled=True)

    assert connections_health_check()["stopped"] == 0
    sync.source.refresh_from_db()
    assert sync.source.health == "failing" and sync.source.last_checked_at is not None
    assert sync in runnable_syncs()


def test_the_check_registers_notifications_an_enabled_immediate_sync_lacks_once(use_connector):
    from syncconfig.models import Sync
    from syncconfig.services import connections_health_check
    from tests.factories import SyncFactory

    use_connector(NotifyingConnector)
    NotifyingConnector.registered = []
    sync = SyncFactory(source=ConnectionFactory(), target=ConnectionFactory(), trigger=Sync.Trigger.IMMEDIATE, enabled=True)

    assert connections_health_check()["webhooks_registered"] == 1
    assert connections_health_check()["webhooks_registered"] == 0  # registered already
    sync.source.refresh_from_db()
    assert sync.source.webhook_registered_at is not None and len(NotifyingConnector.registered) == 1


class BusyConnector(NotifyingConnector):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.sleep = lambda seconds: None

    def webhook_register(self, url, *args, **kwargs):
        from connectors.base import RateLimited

        raise RateLimited("ActiveCampaign's rate limit was reached.")


def test_a_notification_refused_for_the_moment_is_asked_for_again_within_minutes(use_connector, monkeypatch):
    from syncconfig import tasks
    from syncconfig.models import Sync
    from tests.factories import SyncFactory

    use_connector(BusyConnector)
    SyncFactory(source=ConnectionFactory(), target=ConnectionFactory(), trigger=Sync.Trigger.IMMEDIATE, enabled=True)
    queued = []
    monkeypatch.setattr(tasks.check_connections, "apply_async", lambda **kwargs: queued.append(kwargs))

    tasks.check_connections()

    assert queued == [{"kwargs": {"again": 1}, "countdown": tasks.CHECK_AGAIN_AFTER}]
    tasks.check_connections(again=tasks.CHECK_AGAIN_TIMES)
    assert len(queued) == 1  # then the 15-minute schedule takes over


def test_a_connection_out_of_reach_for_the_moment_is_tested_again_within_minutes(use_connector, monkeypatch):
    from syncconfig import tasks

    use_connector(UnreachableConnector)
    ConnectionFactory()
    queued = []
    monkeypatch.setattr(tasks.check_connections, "apply_async", lambda **kwargs: queued.append(kwargs))

    tasks.check_connections()

    assert queued == [{"kwargs": {"again": 1}, "countdown": tasks.CHECK_AGAIN_AFTER}]
