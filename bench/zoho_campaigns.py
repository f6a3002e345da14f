"""Zoho CRM → Zoho Campaigns benchmark: an initial sync of N CRM Contacts (and N/10 related
Accounts) into a Campaigns list in Zoho's new model, then an incremental run after 10 changes,
against the Zoho sandbox in its own process.

    .venv/bin/python -m bench.zoho_campaigns [--records 100000]

The sync runs both ways, as the new model does (unsubscribes and bounces come back). Prints,
per run and side, the API calls against the floor, wall time, peak memory (tracemalloc, the
portal side) and the time the same calls take at Zoho's documented limits.

The floors. Zoho CRM reads 200 records a call (``page``/``per_page`` up to 2,000, then
``page_token``; this connector reads by ``If-Modified-Since`` keyset, which needs no token):
ceil(N/200) Contacts and ceil(N/10/200) Accounts. Zoho Campaigns writes a contact with fields
only through ``listsubscribe``, one a call; ``addlistsubscribersinbulk`` takes ten addresses
without fields, so it serves no contact here (all have names). The way back reads the list:
each status (active, unsub, bounce) from the start, 200 a call, on the first run; one page of
each afterwards. Tokens: one refresh per connection on the first run.

Zoho's documented limits used for "at limits": Campaigns ``listsubscribe`` 500 calls a minute,
12,500 an hour and 75,000 a day (30-minute lock when passed; the method's page, not in our
spec notes), ``getlistsubscribers`` 500 per 5 minutes, ``addlistsubscribersinbulk`` 2,000 a
minute; Zoho CRM credits per 24 hours by edition (``--crm-credits``, 50,000 by default, an
Enterprise base; unconfirmed). "at limits" is the shortest schedule that keeps within every
window, which the connector keeps (it waits for a call's turn, or pauses the run until then);
"unpaced" is what calling as fast as possible costs: a window fills, the method is locked for
half an hour, the run pauses and resumes after the lock, again and again.
The sandbox's own limits are raised, and the connector's pacing switched off, so that wall time
measures the portal.
"""
from __future__ import annotations

import argparse
import math
import sys
from datetime import timedelta

from bench.harness import measure, sandbox_environment

ACCOUNTS_SHARE = 10  # one Account for every ten Contacts
MINUTE, HOUR, DAY = 60, 3600, 86400
# method → ([(calls, per seconds), ...], lock seconds)
CAMPAIGNS_LIMITS = {
    "listsubscribe": ([(500, MINUTE), (12_500, HOUR), (75_000, DAY)], 1800),
    "getlistsubscribers": ([(500, 5 * MINUTE)], 1800),
    "addlistsubscribersinbulk": ([(2000, MINUTE)], 600),
}
UNLIMITED = {method: [10**9, 60, 1] for method in ("listsubscribe", "getlistsubscribers", "addlistsubscribersinbulk",
                                                   "listunsubscribe", "listsubscriberscount")}


def paced(calls: int, windows: list[tuple[int, int]]) -> float:
    """Seconds from the first to the last of ``calls`` calls, each as early as every sliding
    window allows."""
    times: list[float] = []
    for n in range(calls):
        moment = times[-1] if times else 0.0
        for limit, span in windows:
            if n >= limit:
                moment = max(moment, times[n - limit] + span)
        times.append(moment)
    return times[-1] if times else 0.0


def as_built(calls: int, windows: list[tuple[int, int]], lock: float, per_call: float) -> float:
    """Seconds for ``calls`` calls made back to back (``per_call`` each) until a window is
    full: the next call is refused and locks the method for ``lock`` seconds, after which
    the paused run goes on."""
    from collections import deque

    elapsed, made = 0.0, 0
    recent = [deque() for _ in windows]
    while made < calls:
        for (limit, span), times in zip(windows, recent):
            while times and times[0] <= elapsed - span:
                times.popleft()
        if any(len(times) >= limit for (limit, _), times in zip(windows, recent)):
            elapsed += lock  # the windows keep counting: a full day window locks again and again
            continue
        for times in recent:
            times.append(elapsed)
        elapsed += per_call
        made += 1
    return elapsed


def _fill(org, n: int) -> None:
    """N Contacts, each its own Modified_Time second, nine in ten at one of N/10 Accounts."""
    from django.utils import timezone

    from connectors.sandbox.models.zoho import ZohoRecord
    from connectors.sandbox.zoho.ids import record_ids

    start = timezone.now().replace(microsecond=0) - timedelta(seconds=2 * n)
    accounts = record_ids(org, max(1, n // ACCOUNTS_SHARE))
    ZohoRecord.objects.bulk_create([
        ZohoRecord(org=org, module="Accounts", record_id=i, created_at=start, modified_at=start,
                   values={"Account_Name": f"Bench Company {k}", "Billing_Country": "Germany"})
        for k, i in enumerate(accounts)], batch_size=2000)
    rows = []
    for k, i in enumerate(record_ids(org, n)):
        email = f"person{k}@bench{k % 97}.example"
        values = {"First_Name": f"Bench{k}", "Last_Name": f"Person{k}", "Email": email, "Title": "Buyer",
                  "Mailing_Country": "Germany", "Email_Opt_Out": False}
        if k % 10:
            values["Account_Name"] = {"id": str(accounts[k % len(accounts)])}
        moment = start + timedelta(seconds=k)
        rows.append(ZohoRecord(org=org, module="Contacts", record_id=i, values=values, email_key=email,
                               created_at=moment, modified_at=moment))
        if len(rows) == 5000:
            ZohoRecord.objects.bulk_create(rows)
            rows = []
    ZohoRecord.objects.bulk_create(rows)


def bench(base_url: str, n: int, crm_credits: int) -> list[tuple]:
    from connectors.sandbox.models.zoho import ZcList, ZohoRecord
    from connectors.sandbox.zoho.orgs import login_facts, org_create
    from syncconfig import engine
    from syncconfig.models import Connection, Sync, SyncRun
    from syncconfig.services import connection_connector, connection_set_credentials

    from connectors import zoho_campaigns

    zoho_campaigns.PACE.clear()  # the waits are added from the schedule below, not slept
    org = org_create(name=f"Bench {n}", crm_daily_credits=10**9, token_rate_limit=1000, campaigns_limits=UNLIMITED)
    _fill(org, n)
    facts = login_facts(org, base_url=base_url)
    grant = {"accounts_url": facts.accounts_url, "client_id": facts.client_id, "client_secret": facts.client_secret,
             "refresh_token": facts.refresh_token}
    crm = Connection(name=f"Zoho CRM {n}", kind="zoho_crm", base_url=facts.api_domain)
    connection_set_credentials(connection=crm, values=grant)
    crm.save()
    campaigns = Connection(name=f"Zoho Campaigns {n}", kind="zoho_campaigns", base_url=facts.campaigns_url)
    connection_set_credentials(connection=campaigns, values=grant)
    campaigns.save()
    sync = Sync.objects.create(name=f"Bench {n}", source=crm, source_object="Contacts", target=campaigns,
                               target_object=ZcList.objects.get(org=org).listkey, direction=Sync.Direction.TWO_WAY,
                               trigger=Sync.Trigger.IMMEDIATE, integration="zoho_campaigns", enabled=True)

    def run():
        return engine.sync_run_execute(SyncRun.objects.create(sync=Sync.objects.get(pk=sync.pk),
                                                              trigger=SyncRun.Trigger.MANUAL))

    rows = []
    accounts = max(1, n // ACCOUNTS_SHARE)
    for label, changes in (("initial", n), ("10 changes", 10)):
        if label != "initial":
            ids = list(ZohoRecord.objects.filter(org=org, module="Contacts").order_by("?").values_list("record_id", flat=True)[:10])
            connection_connector(crm).update("Contacts", [{"Id": str(i), "Title": "Head of Buying"} for i in ids])
        result, seconds, peak = measure(run)
        if result.status != "succeeded" or result.created_count + result.updated_count != changes:
            raise SystemExit(f"{label}: {result.status} {result.message} created {result.created_count} "
                             f"updated {result.updated_count} failed {result.failed_count}")
        first = label == "initial"
        crm_floor = math.ceil(changes / 200) + math.ceil((accounts if first else changes) / 200) + first
        list_pages = math.ceil(n / 200) + 2 if first else 3
        zc_floor = changes + list_pages + first
        # Zoho's limits: the Campaigns writes and list reads of this run, the CRM credits.
        per_call = seconds / max(1, result.source_api_calls + result.target_api_calls)
        reads = result.target_api_calls - changes - first
        limited = {"listsubscribe": changes, "getlistsubscribers": reads}
        at_paced = max(paced(calls, CAMPAIGNS_LIMITS[m][0]) for m, calls in limited.items())
        at_built = max(as_built(calls, CAMPAIGNS_LIMITS[m][0], CAMPAIGNS_LIMITS[m][1], per_call)
                       for m, calls in limited.items())
        credits_days = (result.source_api_calls - 1) // crm_credits  # whole days waiting for credits
        rows.append((label, n, changes, result.source_api_calls, crm_floor, result.target_api_calls, zc_floor, seconds,
                     peak, max(seconds, at_paced + credits_days * DAY), max(seconds, at_built + credits_days * DAY)))
    return rows


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * HOUR:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / HOUR:.1f} h"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, nargs="+", default=[100_000],
                        help="CRM Contacts (Accounts: a tenth as many); 10000 for a quick run")
    parser.add_argument("--crm-credits", type=int, default=50_000, help="Zoho CRM API credits per 24 hours")
    args = parser.parse_args(argv)
    with sandbox_environment() as base_url:
        rows = [row for n in args.records for row in bench(base_url, n, args.crm_credits)]
    print(f"{'run':<11} {'contacts':>8} {'changed':>8} {'CRM calls':>9} {'CRM floor':>9} {'ZC calls':>8} "
          f"{'ZC floor':>8} {'wall s':>7} {'peak MiB':>8} {'at limits':>9} {'unpaced':>9}")
    for label, n, changed, crm_calls, crm_floor, zc_calls, zc_floor, seconds, peak, at_paced, at_built in rows:
        print(f"{label:<11} {n:>8,} {changed:>8,} {crm_calls:>9,} {crm_floor:>9,} {zc_calls:>8,} {zc_floor:>8,} "
              f"{seconds:>7.1f} {peak / 2**20:>8.1f} {_duration(at_paced):>9} {_duration(at_built):>9}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
