"""Sync engine benchmark: an initial Salesforce → ActiveCampaign sync of N contacts, then an
incremental run after 10 changes, against both sandboxes in their own process.

    .venv/bin/python -m bench.sync_engine [--sizes 10000 100000]

Prints API calls per side against the vendor floor, wall time and peak memory (tracemalloc, the
portal side). The floors: Salesforce reads ceil(N/2000) SOQL pages; ActiveCampaign has no batch
write, so a created contact costs one contact/sync plus one call for its AC-8 tag, an updated
one a single call (partners are not looked up one by one: the upsert by email finds them). An
incremental run should cost in proportion to the 10 changes, not to N. The sandbox account's
rate limit is raised so that the numbers measure the portal, not the vendor's 5 calls a second.
"""
from __future__ import annotations

import argparse
import math
import sys

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
    sf, ac = login_facts(org, base_url=base_url), ac_facts(account_create(name=f"Bench {n}", rate_limit=100_000), base_url=base_url)
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

    rows = []
    for label, changes, ac_floor in (("initial", n, 2 * n), ("10 changes", 10, 10)):
        if label != "initial":
            ids = [r.id for r in next(connection_connector(source).changes("Contact", None, ["Id"]))[:10]]
            connection_connector(source).update("Contact", [{"Id": i, "LastName": f"Changed {i}"} for i in ids])
        result, seconds, peak = measure(run)
        if result.status != "succeeded" or result.created_count + result.updated_count != changes:
            raise SystemExit(f"{label}: {result.status} {result.message} created {result.created_count} updated {result.updated_count}")
        rows.append((label, n, changes, result.source_api_calls, math.ceil(changes / 2000), result.target_api_calls, ac_floor, seconds, peak))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # 100k takes over an hour at the sandbox's speed: ask for it with --sizes 100000.
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000])
    args = parser.parse_args(argv)
    with sandbox_environment() as base_url:
        rows = [row for n in args.sizes for row in bench_size(base_url, n)]
    print(f"{'run':<11} {'records':>8} {'changed':>8} {'SF calls':>8} {'SF floor':>8} {'AC calls':>8} {'AC floor':>8} {'wall s':>7} {'peak MiB':>8}")
    for label, n, changed, sf_calls, sf_floor, ac_calls, ac_floor, seconds, peak in rows:
        print(f"{label:<11} {n:>8,} {changed:>8,} {sf_calls:>8,} {sf_floor:>8,} {ac_calls:>8,} {ac_floor:>8,} {seconds:>7.1f} {peak / 2**20:>8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
