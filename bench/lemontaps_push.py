"""Lemontaps push benchmark: N captured contacts (1 in 10 a duplicate of a Salesforce Lead by
email, 1 in 50 without a company) pushed to Salesforce Leads in one manual push, against the
sandbox in its own process.

    .venv/bin/python -m bench.lemontaps_push [--sizes 10000]

Prints Salesforce API calls against the floor, wall time and peak memory (tracemalloc, the
portal side). The floor: duplicates are looked up by email in Lead and in Contact 200 emails a
query, and creates go through sObject Collections of 200, so 3·ceil(N/200) calls, plus one
owner look-up (all captures by one field user) and the login. Likely duplicates found by
matching cost database reads, no Salesforce calls.
"""
from __future__ import annotations

import argparse
import math
import sys

from bench.harness import measure, sandbox_environment


def bench_size(base_url: str, n: int) -> tuple:
    from connectors.lemontaps import capture_parse
    from connectors.sandbox.salesforce.orgs import login_facts, org_create
    from connectors.sandbox.salesforce.seed import records_bulk_create
    from syncconfig.captures import capture_store
    from syncconfig.engine import sync_records_execute
    from syncconfig.integrations.lemontaps_salesforce import LemontapsOptions
    from syncconfig.models import Connection, Sync, SyncRun
    from syncconfig.services import connection_set_credentials

    org = org_create(name=f"Bench {n}", daily_limit=10_000_000)
    facts = login_facts(org, base_url=base_url)
    salesforce = Connection(name=f"SF {n}", kind="salesforce", base_url=facts.instance_url)
    connection_set_credentials(connection=salesforce, values={"client_id": facts.client_id, "client_secret": facts.client_secret,
                                                              "username": facts.username, "password": facts.password})
    salesforce.save()
    lemontaps = Connection(name=f"Lemontaps {n}", kind="lemontaps", base_url="https://app.lemontaps.com")
    lemontaps.save()
    sync = Sync.objects.create(name=f"Bench {n}", source=lemontaps, source_object="captured_contact", target=salesforce,
                               target_object="Lead", integration="lemontaps_salesforce")
    LemontapsOptions(create_as="Lead").save(sync)
    bodies = _people(n, seed=n)
    for i, body in enumerate(bodies):
        if i % 50 == 7:
            body.pop("company")
    records_bulk_create(org, "Lead", [{"LastName": b["last_name"], "Company": b["company"], "Email": b["email"]}
                                      for i, b in enumerate(bodies) if i % 10 == 3 and "company" in b])
    ids = [str(capture_store(connection=lemontaps, capture=capture_parse(b))[0].pk) for b in bodies]
    run = SyncRun.objects.create(sync=sync, trigger=SyncRun.Trigger.MANUAL)
    result, seconds, peak = measure(lambda: sync_records_execute(run, {"source": ids}))
    floor = 3 * math.ceil(n / 200) + 2
    return n, result.created_count, result.failed_count, result.target_api_calls, floor, seconds, peak


def _people(n: int, *, seed: int) -> list[dict]:
    """N different people as captures: the matcher benchmark's synthetic population (households,
    colleagues, namesakes, no duplicates), each with an email of their own. The push also asks
    matching for likely duplicates, so a population of look-alikes would fail as such."""
    from bench.synthetic import generate

    records, _ = generate(n, seed=seed, duplicate_share=0.0)
    bodies = []
    for i, r in enumerate(records):
        local, _, domain = r["email"].partition("@")
        bodies.append({
            "id": f"bench-{seed}-{i}", "captured_by": "field.user@example.com", "first_name": r["first_name"],
            "last_name": r["last_name"], "company": r["company"] or f"{r['last_name']} Handel", "email": f"{local}.{i}@{domain}",
            "phone_work": r["phone"], "address_line1": r["street"], "city": r["city"], "zip": r["postcode"],
            "country": r["country"], "met_on": "2025-03-01",
        })
    return bodies


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000])
    args = parser.parse_args(argv)
    with sandbox_environment() as base_url:
        rows = [bench_size(base_url, n) for n in args.sizes]
    print(f"{'captures':>8} {'created':>8} {'failed':>7} {'SF calls':>8} {'SF floor':>8} {'wall s':>7} {'peak MiB':>8}")
    for n, created, failed, calls, floor, seconds, peak in rows:
        print(f"{n:>8,} {created:>8,} {failed:>7,} {calls:>8,} {floor:>8,} {seconds:>7.1f} {peak / 2**20:>8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
