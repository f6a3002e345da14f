"""Salesforce connector benchmark: API calls against the vendor floor, wall time, peak memory.

    .venv/bin/python -m bench.salesforce_connector [--sizes 10000 100000]

Runs against the Salesforce sandbox served by its own process (`manage.py sandbox serve`) on
a throw-away SQLite database, so the numbers are those of real HTTP through simple-salesforce.
Writes go in sObject Collections (floor: ceil(N/200) calls) when the engine hands them over 2,000
at a time, or as one Bulk API 2.0 job when handed over at once ("bulk write", floor: create,
upload, close, one status read, the successful results = 5 calls); reads stream SOQL pages
("read", floor: ceil(N/2000) calls) or, past the connection's threshold, one Bulk API 2.0
query job ("bulk read", here for any size; floor: the first SOQL page, the describe that types
the CSV, the job's creation, one status read and ceil(N/50,000) result sets). "day %" is the
share of a small org's daily allowance (15,000 calls, shared with every other integration) the
operation uses: Salesforce's binding limit. Peak memory is the connector side's (tracemalloc),
which must stay flat as N grows: records are produced, written and read one batch or page at a
time, and a bulk query's result set is downloaded to a temporary file.
"""
from __future__ import annotations

import argparse
import math
import sys

from bench.harness import measure, sandbox_environment


def _incremental_after_bulk_load(connector_factory, org, n: int) -> tuple:
    """A load of ``n`` records stamps thousands with one SystemModstamp; after reading them
    all, a read of 10 changes must cost one call, not a re-read of the shared instant."""
    from connectors.sandbox.salesforce.seed import records_bulk_create

    records_bulk_create(org, "Lead", [{"LastName": f"Loaded{i}", "Company": "Bench", "Status": "Open - Not Contacted"}
                                      for i in range(n)])
    connector = connector_factory()
    cursor, ids = None, []
    for page in connector.changes("Lead", None, ["LastName"]):
        cursor = page[-1].cursor
        ids = ids or [r.id for r in page[:10]]
    connector.update("Lead", [{"Id": i, "LastName": "Changed"} for i in ids])
    before = connector.api_calls
    changed, seconds, peak = measure(lambda: sum(len(page) for page in connector.changes("Lead", cursor, ["LastName"])))
    if changed != 10:
        raise SystemExit(f"The incremental read found {changed} changes, not 10.")
    return ("10 changes", n, connector.api_calls - before, 1, seconds, peak)


def bench_size(connector_factory, n: int, org=None) -> list[tuple]:
    from connectors.salesforce import BULK_QUERY_SET, COLLECTION_SIZE, QUERY_PAGE_SIZE

    object_name = "Contact"
    connector = connector_factory(bulk_read_from=None)  # reads in SOQL pages only
    connector.describe(object_name)  # log in outside the measurement

    def write():
        failed = 0
        for start in range(0, n, 2000):  # batches as the engine hands them over
            rows = [{"FirstName": f"Bench{i}", "LastName": f"Person{i}", "Email": f"bench{i}.{n}@example.com"}
                    for i in range(start, min(n, start + 2000))]
            failed += sum(not r.ok for r in connector.create(object_name, rows))
        return failed

    before = connector.api_calls
    failed, write_s, write_peak = measure(write)
    write_calls = connector.api_calls - before

    def read():
        return sum(len(page) for page in connector.changes(object_name, None, ["FirstName", "LastName", "Email"]))

    before = connector.api_calls
    read_n, read_s, read_peak = measure(read)
    read_calls = connector.api_calls - before
    if failed or read_n != n:
        raise SystemExit(f"Benchmark data is off: {failed} failed writes, {read_n} records read of {n}.")

    bulk_reader = connector_factory(bulk_read_from=0)  # whatever the first page leaves goes as one query job
    bulk_reader.describe(object_name)
    before = bulk_reader.api_calls

    def bulk_read():
        return sum(len(page) for page in bulk_reader.changes(object_name, None, ["FirstName", "LastName", "Email"]))

    bulk_read_n, bulk_read_s, bulk_read_peak = measure(bulk_read)
    bulk_read_calls = bulk_reader.api_calls - before
    if bulk_read_n != n:
        raise SystemExit(f"The bulk read found {bulk_read_n} records of {n}.")
    incremental = _incremental_after_bulk_load(connector_factory, org, n)

    def bulk_write():
        rows = [{"LastName": f"Bulk{i}", "Email": f"bulk{i}.{n}@example.com", "External_Id__c": f"B-{i}"} for i in range(n)]
        return sum(not r.ok for r in connector.upsert(object_name, rows, key="External_Id__c"))

    before = connector.api_calls
    bulk_failed, bulk_s, bulk_peak = measure(bulk_write)
    if bulk_failed:
        raise SystemExit(f"The bulk write failed {bulk_failed} records.")
    bulk_calls = connector.api_calls - before
    return [
        incremental,
        ("write", n, write_calls, math.ceil(n / COLLECTION_SIZE), write_s, write_peak),
        ("bulk write", n, bulk_calls, 5 if n > 2000 else math.ceil(n / COLLECTION_SIZE), bulk_s, bulk_peak),
        ("read", n, read_calls, math.ceil(n / QUERY_PAGE_SIZE), read_s, read_peak),
        ("bulk read", n, bulk_read_calls, 4 + math.ceil(n / BULK_QUERY_SET), bulk_read_s, bulk_read_peak),
    ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args(argv)

    with sandbox_environment() as base_url:
        from connectors.salesforce import SalesforceConnector
        from connectors.sandbox.salesforce.orgs import login_facts, org_create

        rows = []
        for n in args.sizes:
            org = org_create(name=f"Bench {n}", daily_limit=10_000_000)
            facts = login_facts(org, base_url=base_url)
            credentials = {"client_id": facts.client_id, "client_secret": facts.client_secret,
                           "username": facts.username, "password": facts.password}
            rows += bench_size(lambda **options: SalesforceConnector(base_url=base_url, credentials=credentials, **options), n, org)

    print(f"{'operation':<10} {'records':>9} {'API calls':>9} {'floor':>7} {'over floor':>10} {'day %':>7} {'wall s':>8} {'rec/s':>8} {'peak MiB':>9}")
    for op, n, calls, floor, seconds, peak in rows:
        moved = 10 if op == "10 changes" else n  # an incremental read moves the changes, not the load
        print(f"{op:<10} {n:>9,} {calls:>9,} {floor:>7,} {100 * (calls - floor) / floor:>9.1f}% {100 * calls / 15_000:>6.2f}% "
              f"{seconds:>8.1f} {moved / seconds:>8,.0f} {peak / 2**20:>9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
