"""Sync engine benchmark: an initial Salesforce → ActiveCampaign sync of N contacts, then an
incremental run after 10 changes, against both sandboxes in their own process.

    .venv/bin/python -m bench.sync_engine [--sizes 10000 100000]

Prints API calls per side against the vendor floor, wall time and peak memory (tracemalloc, the
portal side), and the time at the vendors' documented limits — what a customer waits. The floors:
Salesforce reads ceil(N/2000) SOQL pages; ActiveCampaign takes creates in bulk imports of 250
(AC-8's tag inside), so an initial sync costs per 250 one import, one status read and one read
per 100 new ids (an existing contact matched by email costs one look-up more); an update of a
few contacts costs a call each (partners are not looked up one by one: the upsert by email finds
them). An incremental run should cost in proportion to the 10 changes, not to N.

The sandbox's limits are raised so that "wall s" measures the portal; "at limits" is the time
the calls take at the vendor's own limits: ActiveCampaign 5 requests a second for the account
and 100 bulk imports a minute, whichever binds (the importer's own processing time not
included); Salesforce's scarce resource is the org's daily allowance (15,000 calls a day on
small editions, shared with every other integration), given as the share the run uses.

``--hubspot-sizes`` adds HubSpot → Salesforce (the HubSpot integration: search pages, partners
by email, Salesforce's bulk write, links written back) and ``--salesforce-hubspot-sizes`` its
other direction, Salesforce → HubSpot (partners by email with batch read, creates 100 a call),
with HubSpot's time at 100 calls in 10 seconds.
"""
from __future__ import annotations

import argparse
import math
import sys
import time

AC_RATE = 5.0  # requests a second for the account (developers.activecampaign.com/reference/rate-limits)
AC_IMPORTS_A_MINUTE = 100  # bulk imports of several contacts ("Bulk import contacts")
AC_IMPORT_SIZE, AC_ID_PAGE = 250, 100
SF_DAILY = 15_000  # DailyApiRequests of a small edition
SF_PAGE = 2000

from bench.harness import measure, sandbox_environment


def bench_size(base_url: str, n: int) -> list[tuple]:
    from connectors.sandbox.activecampaign.accounts import account_create
    from connectors.sandbox.activecampaign.accounts import login_facts as ac_facts
    from connectors.sandbox.salesforce.orgs import login_facts, org_create
    from connectors.sandbox.salesforce.seed import records_bulk_create
    from syncconfig import engine
    from syncconfig.models import Connection, FieldMapping, Sync, SyncRun
    from syncconfig.services import connection_connector, connection_set_credentials

    org = org_create(name=f"Bench {n}", daily_limit=10_000_000)
    records_bulk_create(org, "Contact", [{"FirstName": f"B{i}", "LastName": f"Person{i}", "Email": f"b{i}.{n}@example.com"} for i in range(n)])
    # The contacts were there long before the sync: the read lag window of the incremental
    # run (changes of the last minutes, read again) holds only what changes in the bench.
    from datetime import timedelta

    from django.db.models import F

    from connectors.sandbox.models import SandboxRecord

    earlier = timedelta(hours=1)
    SandboxRecord.objects.filter(org=org, sobject="Contact").update(
        created_date=F("created_date") - earlier, last_modified_date=F("last_modified_date") - earlier,
        system_modstamp=F("system_modstamp") - earlier)
    account = account_create(name=f"Bench {n}", rate_limit=100_000, bulk_import_limit=100_000, bulk_import_single_limit=100_000)
    sf, ac = login_facts(org, base_url=base_url), ac_facts(account, base_url=base_url)
    source = Connection(name=f"SF {n}", kind="salesforce", base_url=sf.instance_url)
    connection_set_credentials(connection=source, values={"client_id": sf.client_id, "client_secret": sf.client_secret, "username": sf.username, "password": sf.password})
    source.save()
    target = Connection(name=f"AC {n}", kind="activecampaign", base_url=ac.api_url)
    connection_set_credentials(connection=target, values={"api_key": ac.api_key})
    target.save()
    sync = Sync.objects.create(name=f"Bench {n}", source=source, source_object="Contact", target=target, target_object="contact", enabled=True)
    for position, (s, t) in enumerate([("Email", "email"), ("FirstName", "firstName"), ("LastName", "lastName")]):
        FieldMapping.objects.create(sync=sync, source_field=s, target_field=t, is_key=s == "Email", position=position)
    def run():
        return engine.sync_run_execute(SyncRun.objects.create(sync=Sync.objects.get(pk=sync.pk), trigger=SyncRun.Trigger.MANUAL))

    from connectors.sandbox.models.activecampaign import AcImport

    rows = []
    for label, changes, ac_floor in (("initial", n, initial_floor(n)), ("10 changes", 10, 10)):
        if label != "initial":
            ids = [r.id for r in next(connection_connector(source).changes("Contact", None, ["Id"]))[:10]]
            connection_connector(source).update("Contact", [{"Id": i, "LastName": f"Changed {i}"} for i in ids])
        imports_before = AcImport.objects.filter(account=account).count()
        result, seconds, peak = measure(run)
        if result.status != "succeeded" or result.created_count + result.updated_count != changes:
            raise SystemExit(f"{label}: {result.status} {result.message} created {result.created_count} updated {result.updated_count}")
        imports = AcImport.objects.filter(account=account).count() - imports_before
        rows.append((label, n, changes, result.source_api_calls, math.ceil(changes / SF_PAGE), result.target_api_calls,
                     ac_floor, imports, seconds, peak))
    return rows


HS_RATE = 10.0  # requests a second: 100 in ten seconds, a Free/Starter account's private app
HS_SEARCH_RATE = 5.0  # search requests a second, on top of it
HS_SEARCH_PAGE, HS_BATCH = 200, 100
SF_IN_CHUNK, SF_BULK_BATCH, SF_BULK_CALLS = 200, 10_000, 6  # a bulk job: create, upload, close, status, results x2


def bench_hubspot(base_url: str, n: int) -> list[tuple]:
    """HubSpot → Salesforce Contacts, the HubSpot integration's way (HS-1…HS-10): search pages
    of 200, partners looked up by email (200 to a query), creates in Salesforce's bulk write
    (10,000 to a job) and each contact's Salesforce id written back in batches of 100."""
    from datetime import timedelta

    from django.db.models import F

    from connectors.sandbox.hubspot.accounts import account_create as hs_account_create
    from connectors.sandbox.hubspot.accounts import login_facts as hs_facts
    from connectors.sandbox.models.hubspot import HsContact
    from connectors.sandbox.salesforce.orgs import login_facts, org_create
    from connectors.hubspot import HubSpotConnector
    from syncconfig import engine
    from syncconfig.integrations import hubspot_salesforce as hs
    from syncconfig.models import Connection, FieldMapping, Sync, SyncRun
    from syncconfig.services import connection_connector, connection_set_credentials

    org = org_create(name=f"Bench HS {n}", daily_limit=10_000_000)
    account = hs_account_create(name=f"Bench HS {n}", records=n, rate_limit=1_000_000, search_rate_limit=1_000_000)
    # The contacts were there long before the sync (see bench_size).
    HsContact.objects.filter(account=account).update(created_at=F("created_at") - timedelta(hours=1),
                                                      updated_at=F("updated_at") - timedelta(hours=1))
    sf, hub = login_facts(org, base_url=base_url), hs_facts(account, base_url=base_url)
    target = Connection(name=f"SF HS {n}", kind="salesforce", base_url=sf.instance_url)
    connection_set_credentials(connection=target, values={"client_id": sf.client_id, "client_secret": sf.client_secret,
                                                          "username": sf.username, "password": sf.password})
    target.save()
    source = Connection(name=f"HS {n}", kind="hubspot", base_url=hub.base_url)
    connection_set_credentials(connection=source, values={"token": hub.token, "app_id": str(hub.app_id),
                                                          "client_secret": hub.client_secret})
    source.save()
    sync = Sync.objects.create(name=f"Bench HS {n}", source=source, source_object="contacts", target=target,
                               target_object="Contact", enabled=True, integration="hubspot_salesforce")
    for position, (s, t) in enumerate([("email", "Email"), ("firstname", "FirstName"), ("lastname", "LastName")]):
        FieldMapping.objects.create(sync=sync, source_field=s, target_field=t, is_key=s == "email", position=position)
    hs.hubspot_options_save(sync=sync, link_policy=hs.LinkPolicy.STABLE, on_salesforce_delete=hs.OnSalesforceDelete.DELETE)

    def run():
        return engine.sync_run_execute(SyncRun.objects.create(sync=Sync.objects.get(pk=sync.pk), trigger=SyncRun.Trigger.MANUAL))

    rows = []
    # "next run": the runs within HubSpot's read lag (a minute) after the initial one read the
    # contacts the write-backs changed again (applied already: nothing is written); "after lag":
    # the first run past the lag reads them a last time and moves the watermark past them;
    # then ten changes.
    for label, changes in (("initial", n), ("next run", 0), ("after lag", 0), ("10 changes", 10)):
        if label == "after lag":  # the first run a minute later reads them once more, and settles
            time.sleep(HubSpotConnector.read_lag.total_seconds() + 1)
        if label == "10 changes":
            hubspot = connection_connector(source)
            ids = [r.id for r in next(hubspot.changes("contacts", None, ["email"]))[:10]]
            hubspot.update("contacts", [{"Id": i, "lastname": f"Changed {i}"} for i in ids])
        result, seconds, peak = measure(run)
        if result.status != "succeeded" or result.created_count + result.updated_count != changes:
            raise SystemExit(f"HubSpot {label}: {result.status} {result.message} created {result.created_count} "
                             f"updated {result.updated_count}")
        searches = math.ceil((n if label in ("next run", "after lag") else changes) / HS_SEARCH_PAGE)
        hs_floor = searches + (math.ceil(changes / HS_BATCH) if label == "initial" else 0)  # write-backs of new links
        creates = changes if label == "initial" else 0
        sf_floor = (math.ceil(changes / SF_IN_CHUNK) if label == "initial" else 0) + (
            math.ceil(creates / SF_BULK_BATCH) * SF_BULK_CALLS if creates > 2000 else math.ceil(creates / 200)) + (
            2 * math.ceil(changes / 200) if label != "initial" else 0)  # partners read, then updated
        hs_wait = max(result.source_api_calls / HS_RATE, searches / HS_SEARCH_RATE)
        rows.append((label, n, changes, result.source_api_calls, hs_floor, hs_wait, result.target_api_calls, sf_floor,
                     seconds, peak))
    return rows


def bench_salesforce_to_hubspot(base_url: str, n: int) -> list[tuple]:
    """Salesforce Contacts → HubSpot, the HubSpot integration's other direction: SOQL pages
    (or one query job) from Salesforce, partners looked up in HubSpot by email with batch read
    (100 a call), new contacts created 100 a call."""
    from datetime import timedelta

    from django.db.models import F

    from connectors.sandbox.hubspot.accounts import account_create as hs_account_create
    from connectors.sandbox.hubspot.accounts import login_facts as hs_facts
    from connectors.sandbox.models import SandboxRecord
    from connectors.sandbox.salesforce.orgs import login_facts, org_create
    from connectors.sandbox.salesforce.seed import records_bulk_create
    from syncconfig import engine
    from syncconfig.integrations import hubspot_salesforce as hs
    from syncconfig.models import Connection, FieldMapping, Sync, SyncRun
    from syncconfig.services import connection_connector, connection_set_credentials

    org = org_create(name=f"Bench SF-HS {n}", daily_limit=10_000_000)
    records_bulk_create(org, "Contact", [{"FirstName": f"S{i}", "LastName": f"Person{i}", "Email": f"s{i}.{n}@example.com"}
                                         for i in range(n)])
    earlier = timedelta(hours=1)  # there long before the sync (see bench_size)
    SandboxRecord.objects.filter(org=org, sobject="Contact").update(
        created_date=F("created_date") - earlier, last_modified_date=F("last_modified_date") - earlier,
        system_modstamp=F("system_modstamp") - earlier)
    account = hs_account_create(name=f"Bench SF-HS {n}", records=0, rate_limit=1_000_000, search_rate_limit=1_000_000)
    sf, hub = login_facts(org, base_url=base_url), hs_facts(account, base_url=base_url)
    source = Connection(name=f"SF-HS {n}", kind="salesforce", base_url=sf.instance_url)
    connection_set_credentials(connection=source, values={"client_id": sf.client_id, "client_secret": sf.client_secret,
                                                          "username": sf.username, "password": sf.password})
    source.save()
    target = Connection(name=f"HS-SF {n}", kind="hubspot", base_url=hub.base_url)
    connection_set_credentials(connection=target, values={"token": hub.token, "app_id": str(hub.app_id),
                                                          "client_secret": hub.client_secret})
    target.save()
    sync = Sync.objects.create(name=f"Bench SF-HS {n}", source=source, source_object="Contact", target=target,
                               target_object="contacts", enabled=True, integration="hubspot_salesforce")
    for position, (s, t) in enumerate([("Email", "email"), ("FirstName", "firstname"), ("LastName", "lastname")]):
        FieldMapping.objects.create(sync=sync, source_field=s, target_field=t, is_key=s == "Email", position=position)
    hs.hubspot_options_save(sync=sync, link_policy=hs.LinkPolicy.STABLE, on_salesforce_delete=hs.OnSalesforceDelete.DELETE)

    def run():
        return engine.sync_run_execute(SyncRun.objects.create(sync=Sync.objects.get(pk=sync.pk), trigger=SyncRun.Trigger.MANUAL))

    rows = []
    for label, changes in (("initial", n), ("10 changes", 10)):
        if label != "initial":
            salesforce = connection_connector(source)
            ids = [r.id for r in next(salesforce.changes("Contact", None, ["Id"]))[:10]]
            salesforce.update("Contact", [{"Id": i, "LastName": f"Changed {i}"} for i in ids])
        result, seconds, peak = measure(run)
        if result.status != "succeeded" or result.created_count + result.updated_count != changes:
            raise SystemExit(f"Salesforce → HubSpot {label}: {result.status} {result.message} created {result.created_count} "
                             f"updated {result.updated_count}")
        # Partners by email, then creates (or updates) of 100 a call.
        hs_floor = 2 * math.ceil(changes / HS_BATCH)
        rows.append((label, n, changes, result.source_api_calls, math.ceil(changes / SF_PAGE), result.target_api_calls,
                     hs_floor, result.target_api_calls / HS_RATE, seconds, peak))
    return rows


def initial_floor(n: int) -> int:
    """ActiveCampaign calls an initial sync of ``n`` new contacts needs at least: per import of
    250 (the engine hands over 250 at a time from each page of 2,000), one status read and
    the reads of its new ids, 100 a call."""
    calls = 0
    for page_start in range(0, n, SF_PAGE):
        page = min(SF_PAGE, n - page_start)
        for start in range(0, page, AC_IMPORT_SIZE):
            size = min(AC_IMPORT_SIZE, page - start)
            calls += 2 + math.ceil(size / AC_ID_PAGE) if size > 10 else size
    return calls


def at_limits(ac_calls: int, imports: int) -> float:
    """Seconds the ActiveCampaign calls take at the vendor's limits, whichever binds."""
    return max(ac_calls / AC_RATE, imports * 60 / AC_IMPORTS_A_MINUTE)


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # 100k takes over an hour at the sandbox's speed: ask for it with --sizes 100000.
    parser.add_argument("--sizes", type=int, nargs="*", default=[1_000, 10_000])
    parser.add_argument("--hubspot-sizes", type=int, nargs="*", default=[10_000])
    parser.add_argument("--salesforce-hubspot-sizes", type=int, nargs="*", default=[10_000])
    args = parser.parse_args(argv)
    with sandbox_environment() as base_url:
        rows = [row for n in args.sizes for row in bench_size(base_url, n)]
        hubspot_rows = [row for n in args.hubspot_sizes for row in bench_hubspot(base_url, n)]
        reverse_rows = [row for n in args.salesforce_hubspot_sizes for row in bench_salesforce_to_hubspot(base_url, n)]
    if rows:
        print(f"{'SF → AC':<11} {'records':>8} {'changed':>8} {'SF calls':>8} {'SF floor':>8} {'SF day %':>8} {'AC calls':>8} "
              f"{'AC floor':>8} {'imports':>7} {'AC at limits':>12} {'wall s':>7} {'peak MiB':>8}")
        for label, n, changed, sf_calls, sf_floor, ac_calls, ac_floor, imports, seconds, peak in rows:
            print(f"{label:<11} {n:>8,} {changed:>8,} {sf_calls:>8,} {sf_floor:>8,} {100 * sf_calls / SF_DAILY:>7.2f}% "
                  f"{ac_calls:>8,} {ac_floor:>8,} {imports:>7,} {duration(at_limits(ac_calls, imports)):>12} {seconds:>7.1f} "
                  f"{peak / 2**20:>8.1f}")
        print(f"AC at limits: calls at {AC_RATE:.0f}/s or imports at {AC_IMPORTS_A_MINUTE}/min, whichever binds; "
              f"SF day %: share of a {SF_DAILY:,}-call daily allowance.")
    if hubspot_rows:
        print()
        print(f"{'HubSpot → SF':<11} {'records':>8} {'changed':>8} {'HS calls':>8} {'HS floor':>8} {'HS at limits':>12} "
              f"{'SF calls':>8} {'SF floor':>8} {'SF day %':>8} {'wall s':>7} {'peak MiB':>8}")
        for label, n, changed, hs_calls, hs_floor, hs_wait, sf_calls, sf_floor, seconds, peak in hubspot_rows:
            print(f"{label:<11} {n:>8,} {changed:>8,} {hs_calls:>8,} {hs_floor:>8,} {duration(hs_wait):>12} {sf_calls:>8,} "
                  f"{sf_floor:>8,} {100 * sf_calls / SF_DAILY:>7.2f}% {seconds:>7.1f} {peak / 2**20:>8.1f}")
        print(f"HS at limits: {HS_RATE * 10:.0f} calls in 10 s and {HS_SEARCH_RATE:.0f} searches a second; SF floor: "
              f"look-ups by email ({SF_IN_CHUNK} a query) and one bulk job a {SF_BULK_BATCH:,} creates "
              f"({SF_BULK_CALLS} calls).")
    if reverse_rows:
        print()
        print(f"{'SF → HubSpot':<11} {'records':>8} {'changed':>8} {'SF calls':>8} {'SF floor':>8} {'SF day %':>8} "
              f"{'HS calls':>8} {'HS floor':>8} {'HS at limits':>12} {'wall s':>7} {'peak MiB':>8}")
        for label, n, changed, sf_calls, sf_floor, hs_calls, hs_floor, hs_wait, seconds, peak in reverse_rows:
            print(f"{label:<11} {n:>8,} {changed:>8,} {sf_calls:>8,} {sf_floor:>8,} {100 * sf_calls / SF_DAILY:>7.2f}% "
                  f"{hs_calls:>8,} {hs_floor:>8,} {duration(hs_wait):>12} {seconds:>7.1f} {peak / 2**20:>8.1f}")
        print(f"HS floor: partners by email (batch read, {HS_BATCH} a call) and creates or updates ({HS_BATCH} a call); "
              f"SF floor: SOQL pages of {SF_PAGE:,}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
