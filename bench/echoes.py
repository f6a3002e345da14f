"""Echoes (issue #15): the runs and API calls that edits made in Salesforce and flowing to
HubSpot cost, with the notifications of the portal's own writes recognised and without.

    .venv/bin/python -m bench.echoes [--edits 15]

A two-way immediate HubSpot ⇄ Salesforce sync (the demo's shape: email, first and last name,
phone; HubSpot's Salesforce id written back) against the sandboxes, served in this process
with the portal's notification address on a local server of its own. Each edit: a person
changes one Salesforce contact; the 10-second poll's run writes the change to HubSpot;
HubSpot notifies the portal of that write once the run is over (the sandbox holds its
notifications until then, as the vendor's own delay of a few seconds does; one arriving
while the run is still under way starts nothing either way). Counted: the runs the
notifications started and what they cost, without recognising echoes (as before) and with.
"""
from __future__ import annotations

import argparse
import logging
import sys
import threading

from bench.harness import django_environment

MAPPINGS = [("email", "Email", True), ("firstname", "FirstName", False), ("lastname", "LastName", False),
            ("phone", "Phone", False)]


def serve_portal():
    """The portal itself on a free local port (where the sandboxes post notifications)."""
    from django.conf import settings
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    server = ThreadedWSGIServer(("127.0.0.1", 0), WSGIRequestHandler, allow_reuse_address=True)
    server.set_app(get_wsgi_application())
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    settings.PORTAL_URL = f"http://127.0.0.1:{server.server_port}"
    return server


def world(sandbox_url: str, contacts: int):
    """The sync, switched on (HubSpot registered to notify), with ``contacts`` Salesforce
    contacts already in HubSpot; returns (sync, their Salesforce ids)."""
    from connectors.sandbox.hubspot.accounts import account_create
    from connectors.sandbox.hubspot.accounts import login_facts as hubspot_facts
    from connectors.sandbox.salesforce.orgs import login_facts, org_create
    from connectors.sandbox.salesforce.seed import records_bulk_create
    from syncconfig import services
    from syncconfig.integrations import hubspot_salesforce as hs
    from syncconfig.models import Connection, FieldMapping, Sync

    org = org_create(name="Echo bench")
    ids = records_bulk_create(org, "Contact", [{"FirstName": f"E{i}", "LastName": f"Person{i}", "Email": f"e{i}@example.com"}
                                               for i in range(contacts)])
    sf, hub = login_facts(org, base_url=sandbox_url), hubspot_facts(
        account_create(name="Echo bench", rate_limit=100_000, search_rate_limit=100_000), base_url=sandbox_url)
    hubspot = Connection(name="Echo HubSpot", kind="hubspot", base_url=hub.base_url)
    services.connection_set_credentials(connection=hubspot, values={
        "token": hub.token, "app_id": str(hub.app_id), "client_secret": hub.client_secret})
    hubspot.save()
    salesforce = Connection(name="Echo Salesforce", kind="salesforce", base_url=sf.instance_url)
    services.connection_set_credentials(connection=salesforce, values={
        "client_id": sf.client_id, "client_secret": sf.client_secret, "username": sf.username, "password": sf.password})
    salesforce.save()
    sync = Sync.objects.create(name="Echo bench", source=hubspot, source_object="contacts", target=salesforce,
                               target_object="Contact", direction=Sync.Direction.TWO_WAY, trigger=Sync.Trigger.IMMEDIATE)
    for position, (hs_field, sf_field, key) in enumerate(MAPPINGS):
        FieldMapping.objects.create(sync=sync, source_field=hs_field, target_field=sf_field, is_key=key, position=position)
    hs.hubspot_options_save(sync=sync, link_policy=hs.LinkPolicy.STABLE, on_salesforce_delete=hs.OnSalesforceDelete.DELETE)
    services.sync_enable(sync=sync, enabled=True)
    return sync, ids


def edits(sync, ids: list[str], started: list[int], label: str) -> dict:
    """A person's edit of each contact, each followed by the poll's run and HubSpot's
    notifications of what it wrote; the counts of what followed."""
    from connectors.sandbox.hubspot.webhooks import deliver_pending
    from syncconfig import engine, services
    from syncconfig.models import Connection, Sync, SyncRun

    salesforce = services.connection_connector(sync.target)
    counts = {"edits": 0, "poll_calls": 0, "notified_runs": 0, "notified_calls": 0, "posts": 0}
    ignored_before = Connection.objects.get(pk=sync.source_id).echoes_ignored
    for n, record_id in enumerate(ids):
        salesforce.update("Contact", [{"Id": record_id, "LastName": f"{label} {n}"}])
        run = engine.sync_run_execute(SyncRun.objects.create(sync=Sync.objects.get(pk=sync.pk), trigger=SyncRun.Trigger.IMMEDIATE,
                                                             cause=SyncRun.Cause.POLL))
        if run.status != SyncRun.Status.SUCCEEDED or run.updated_count != 1:
            raise SystemExit(f"The poll's run did not carry the edit: {run.status} {run.message} updated {run.updated_count}")
        counts["edits"] += 1
        counts["poll_calls"] += run.source_api_calls + run.target_api_calls
        counts["posts"] += deliver_pending()
        while started:  # as a worker takes them up
            run_id = started.pop(0)
            counts["notified_runs"] += 1
            if services.run_claim(run_id):
                notified = engine.sync_run_execute(SyncRun.objects.select_related("sync__source", "sync__target").get(pk=run_id))
                counts["notified_calls"] += notified.source_api_calls + notified.target_api_calls
            counts["posts"] += deliver_pending()
    counts["ignored"] = Connection.objects.get(pk=sync.source_id).echoes_ignored - ignored_before
    return counts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=15)
    args = parser.parse_args(argv)
    with django_environment():
        from connectors.sandbox.hubspot.webhooks import deliver_pending, dispatcher
        from connectors.sandbox.server import serve_in_background
        from syncconfig import echoes, engine, tasks
        from syncconfig.models import Sync, SyncRun

        dispatcher.mode = dispatcher.MANUAL  # HubSpot notifies once the run is over (see above)
        started: list[int] = []
        tasks.execute_run.delay = started.append  # the runs notifications start, run below as a worker would
        sandbox, _ = serve_in_background()
        portal = serve_portal()
        logging.getLogger("django.server").setLevel(logging.WARNING)  # no line per request of the two servers
        try:
            sync, ids = world(f"http://127.0.0.1:{sandbox.server_port}", args.edits)
            engine.sync_run_execute(SyncRun.objects.create(sync=Sync.objects.get(pk=sync.pk), trigger=SyncRun.Trigger.MANUAL))
            deliver_pending()  # the first load's notifications: not counted
            started.clear()
            recognise = echoes.delivery_is_echo
            echoes.delivery_is_echo = lambda **kwargs: False
            before = edits(sync, ids, started, "Before")
            echoes.delivery_is_echo = recognise
            after = edits(sync, ids, started, "After")
        finally:
            for server in (portal, sandbox):
                server.shutdown()
                server.server_close()
    print(f"{'echoes':<12} {'edits':>5} {'poll runs: API calls':>20} {'notification posts':>18} {'runs they started':>17} "
          f"{'their API calls':>15} {'ignored':>7}")
    for label, c in (("not told", before), ("recognised", after)):
        print(f"{label:<12} {c['edits']:>5} {c['poll_calls']:>20} {c['posts']:>18} {c['notified_runs']:>17} "
              f"{c['notified_calls']:>15} {c['ignored']:>7}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
