"""No secret of the demo set-up appears in any line the processes print or log: access
lines, warnings about refused requests, connection-test results, run messages."""
import logging

import pytest
import requests

from portal.demo import demo_setup
from syncconfig import engine
from syncconfig.models import Connection, Sync, SyncRun
from syncconfig.services import connection_set_credentials, connection_test, connections_health_check

pytestmark = pytest.mark.django_db(transaction=True)


def secrets_of_the_demo() -> set[str]:
    values = set()
    for connection in Connection.objects.all():
        values.update(str(v) for k, v in connection.credentials.items()
                      if any(word in k for word in ("secret", "password", "token", "key")) and v and len(str(v)) >= 8)
        if connection.webhook_secret:
            values.add(connection.webhook_secret)
    return values


def test_no_secret_of_the_demo_reaches_a_log_line_or_a_page(sandbox_url, live_server, caplog, capfd, client,
                                                          sandbox_notifications_held):
    caplog.set_level(logging.DEBUG)
    demo_setup(sandbox_url=sandbox_url, records=40)
    connections_health_check()  # tests every connection and registers the notifications
    for sync in Sync.objects.filter(enabled=True):
        engine.sync_run_execute(SyncRun.objects.create(sync=sync, trigger=SyncRun.Trigger.MANUAL))
    # Notifications that are not genuine, and a connection whose key is refused.
    for connection in Connection.objects.exclude(kind="lemontaps"):
        requests.post(f"{live_server.url}/hooks/{connection.pk}/", data=b"[]", timeout=10)
        requests.post(f"{live_server.url}/hooks/{connection.pk}/{connection.webhook_secret}/", data=b"[]", timeout=10)
    wrong = Connection.objects.get(kind="activecampaign")
    secrets = secrets_of_the_demo()
    connection_set_credentials(connection=wrong, values={"api_key": "wrong-key-" + "x" * 30})
    wrong.save()
    connection_test(connection=wrong)
    from tests.factories import UserFactory

    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    pages = "".join(client.get(url).content.decode() for url in ["/", *[f"/syncs/{s.pk}/" for s in Sync.objects.all()],
                                                                 *[f"/runs/{r.pk}/" for r in SyncRun.objects.all()]])

    out, err = capfd.readouterr()
    printed = "\n".join([caplog.text, out, err, pages])
    assert len(secrets) >= 8 and "refused" in caplog.text.lower()  # the set-up ran, and refusals were logged
    leaked = sorted(s[:6] + "…" for s in secrets if s in printed)
    assert not leaked, f"secrets printed: {leaked}"
