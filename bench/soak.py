"""Soak: both integrations at once on the production stack, with faults, the vendors' timing
and workers killed under their runs — and then a count of what was lost, duplicated or
written twice, from the vendors' own data.

    python -m bench.soak [--records 10000] [--kills 2] [--fault-rate 0.10] [--seed 1]

What it sets up by itself, on loopback addresses only, and tears down at the end (on failure
too): a throw-away PostgreSQL cluster and a Redis server (``apt-get install postgresql
redis-server`` first when they are missing, as root), the portal's database, the vendor
sandboxes in their own process, and two Celery workers (``celery -A portal worker``, Redis
broker, two processes each). The soak itself plays beat's part: the 10-second poll
(``services.immediate_syncs_poll``), which takes over runs whose heartbeat stopped for a
minute and resumes paused ones.

The data, per integration ``--records`` N:

- **HubSpot ⇄ Salesforce** (two-way, as the demo sets it up): N seeded HubSpot contacts
  (realistic, a hundred to a ``lastmodifieddate``), an empty org. Every contact goes to
  Salesforce and gets its Salesforce id written back (HS-4), which moves it in HubSpot's
  change order while the read pages through it; the way back reads the new Salesforce
  contacts and must recognise each as the echo of its own write.
- **ActiveCampaign ⇄ Salesforce** (two-way, Contact model, ``External_Id__c`` as the
  idempotency field on Salesforce): ``--ac-outbound-share`` of N as Salesforce Contacts that
  go to ActiveCampaign (each tagged there afterwards, AC-8: a write-back), the rest as
  ActiveCampaign contacts tagged ``added-to-salesforce-contact`` that go to Salesforce, plus
  a tenth as many untagged contacts the sync must leave alone.

The vendors' timing is on: the orgs' commit lag (``--commit-lag`` seconds, one instant per
request) and HubSpot's search-index lag (``--search-lag``, one instant per request). Every
vendor answers ``--fault-rate`` of its API calls with a fault, seeded: 429s, 5xx, slow
answers, and a small share of hangs longer than the connector's read timeout (the write is
done, the answer never comes). Workers are killed with SIGKILL ``--kills`` times while a run
is under way (alternately the pool process executing the run and the whole worker, which is
then replaced by a new one).

What is measured (see ``verify``): lost, duplicated, written twice, the runs' counts
against what the targets hold, open record errors, the completeness check of each sync,
takeovers, API calls, faults injected, wall time. Exits 1 when anything was lost,
duplicated or written twice, or the counts disagree.
"""
from __future__ import annotations

import argparse
import contextlib
import glob
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.pg import _as_postgres, _free_port

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- infrastructure -------------------------------------------------------------------------------
def ensure_packages() -> None:
    """PostgreSQL and Redis from Debian's packages, when missing (as root)."""
    missing = []
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        missing.append("postgresql")
    if not shutil.which("redis-server"):
        missing.append("redis-server")
    if not missing:
        return
    if os.geteuid() != 0:
        raise SystemExit(f"Install {' and '.join(missing)} first (apt-get install {' '.join(missing)}).")
    say(f"Installing {', '.join(missing)}")
    subprocess.run(["apt-get", "update", "-q"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["apt-get", "install", "-y", "-q", *missing], check=True, stdout=subprocess.DEVNULL,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


@contextlib.contextmanager
def postgres(workdir: str):
    """A throw-away cluster on a free loopback port; yields its database URL."""
    pg_bin = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
    folder = os.path.join(workdir, "pg")
    os.mkdir(folder)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    data, port = os.path.join(folder, "data"), _free_port()
    subprocess.run(_as_postgres([f"{pg_bin}/initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8"]),
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(_as_postgres([f"{pg_bin}/pg_ctl", "-D", data, "-l", os.path.join(folder, "log"), "-w", "-o",
                                 f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                                 "-c synchronous_commit=off -c max_connections=400 -c shared_buffers=256MB", "start"]),
                   check=True, stdout=subprocess.DEVNULL)
    try:
        subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-q", "-v", "ON_ERROR_STOP=1",
                        "-c", "CREATE DATABASE soak"], check=True, stdout=subprocess.DEVNULL)
        yield f"postgres://postgres@127.0.0.1:{port}/soak"
    finally:
        subprocess.run(_as_postgres([f"{pg_bin}/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"]),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@contextlib.contextmanager
def redis(workdir: str):
    """A Redis on a free loopback port, nothing saved; yields the broker URL."""
    port = _free_port()
    server = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                               "--appendonly", "no", "--dir", workdir],
                              stdout=open(os.path.join(workdir, "redis.log"), "w"), stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            time.sleep(0.1)
        else:
            raise SystemExit("Redis did not start.")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(timeout=10)
        if server.poll() is None:
            server.kill()


def _children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (from /proc)."""
    parents: dict[int, list[int]] = {}
    for stat in glob.glob("/proc/[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            text = Path(stat).read_text()
            ppid = int(text[text.rindex(")") + 2:].split()[1])
            parents.setdefault(ppid, []).append(int(stat.split("/")[2]))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


class Processes:
    """The sandbox server and the Celery workers, each a process of its own with a log file."""

    def __init__(self, env: dict[str, str], workdir: str):
        self.env, self.workdir = env, workdir
        self.workers: dict[str, subprocess.Popen] = {}  # node name → process
        self.others: list[subprocess.Popen] = []
        self.started = 0

    def _spawn(self, args: list[str], log_name: str, env: dict | None = None) -> subprocess.Popen:
        log = open(os.path.join(self.workdir, log_name), "a")
        return subprocess.Popen(args, cwd=ROOT, env=env or self.env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)

    def start(self, args: list[str], log_name: str, env: dict | None = None) -> subprocess.Popen:
        """Another process of the set-up (web, beat, ...), stopped with the sandbox by ``stop_all``."""
        process = self._spawn(args, log_name, env)
        self.others.append(process)
        return process

    def sandbox(self, port: int) -> None:
        self.start([PY, "manage.py", "sandbox", "serve", "--host", "127.0.0.1", "--port", str(port)],
                   "sandbox.log", {**self.env, "CONN_MAX_AGE": "0", "LOG_LEVEL": "WARNING"})

    def worker(self) -> str:
        self.started += 1
        node = f"soak{self.started}@127.0.0.1"
        self.workers[node] = self._spawn([PY, "-m", "celery", "-A", "portal", "worker", "--loglevel", "INFO",
                                          "--concurrency", "2", "--hostname", node],
                                         f"worker{self.started}.log")
        return node

    def kill_worker(self, node: str) -> list[int]:
        """SIGKILL a whole worker: its main process and its pool, as a machine that dies."""
        process = self.workers.pop(node)
        pids = [process.pid, *_children(process.pid)]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait()
        return pids

    def stop_workers(self) -> None:
        for process in self.workers.values():
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        for node, process in list(self.workers.items()):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                for pid in [process.pid, *_children(process.pid)]:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                process.wait()
        self.workers.clear()

    def stop_all(self) -> None:
        self.stop_workers()
        for process in self.others:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=15)
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def wait_for_http(url: str, seconds: float = 60) -> None:
    import requests

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.3)
    raise SystemExit(f"Nothing answered at {url}.")


# --- the write log: every write the vendors' databases take, per record -----------------------
def write_log_install() -> None:
    """Triggers on the sandboxes' record tables that note each insert, and each update that
    moves the vendor's modification stamp or changes the record's data (in the same
    transaction as the write, so a write noted is a write done)."""
    from django.db import connection

    from connectors.sandbox.models import SandboxRecord
    from connectors.sandbox.models.activecampaign import AcContact
    from connectors.sandbox.models.hubspot import HsContact

    watched = {
        SandboxRecord._meta.db_table: "OLD.system_modstamp IS DISTINCT FROM NEW.system_modstamp OR OLD.data IS DISTINCT FROM NEW.data",
        HsContact._meta.db_table: "OLD.updated_at IS DISTINCT FROM NEW.updated_at OR OLD.properties IS DISTINCT FROM NEW.properties",
        AcContact._meta.db_table: ("(OLD.email, OLD.first_name, OLD.last_name, OLD.phone, OLD.orgname) IS DISTINCT FROM "
                                   "(NEW.email, NEW.first_name, NEW.last_name, NEW.phone, NEW.orgname)"),
    }
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE soak_write (id bigserial PRIMARY KEY, tbl text NOT NULL, row_id bigint NOT NULL, "
                       "op text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())")
        cursor.execute("CREATE INDEX soak_write_row ON soak_write (tbl, row_id)")
        cursor.execute("CREATE FUNCTION soak_write_note() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                       "INSERT INTO soak_write (tbl, row_id, op) VALUES (TG_TABLE_NAME, NEW.id, TG_OP); RETURN NEW; END $$")
        for table, moved in watched.items():
            cursor.execute(f'CREATE TRIGGER soak_insert AFTER INSERT ON "{table}" FOR EACH ROW EXECUTE FUNCTION soak_write_note()')
            cursor.execute(f'CREATE TRIGGER soak_update AFTER UPDATE ON "{table}" FOR EACH ROW WHEN ({moved}) '
                           "EXECUTE FUNCTION soak_write_note()")


def writes_per_row(table: str, ids: list[int]) -> dict[int, Counter]:
    from django.db import connection

    counts: dict[int, Counter] = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_id, op, count(*) FROM soak_write WHERE tbl = %s GROUP BY row_id, op", [table])
        wanted = set(ids)
        for row_id, op, n in cursor.fetchall():
            if row_id in wanted:
                counts.setdefault(row_id, Counter())[op] += n
    return counts


# --- the world: vendors, data, connections, syncs --------------------------------------------------
@dataclass
class World:
    hs_org: object = None
    ac_org: object = None
    hub: object = None
    ac: object = None
    hs_sync: object = None
    ac_sync: object = None
    hs_contacts: list[int] = field(default_factory=list)  # HubSpot contact numbers seeded
    ac_tagged: list[int] = field(default_factory=list)  # AC contacts tagged for Salesforce
    ac_untagged: list[int] = field(default_factory=list)
    sf_outbound: list[str] = field(default_factory=list)  # Salesforce Contact ids going to AC
    fault_rows: list = field(default_factory=list)  # (label, model, pk, seed, rates)


def fault_rates(args, hang_seconds: float, *, momentary_limits: bool = True) -> dict:
    """``--fault-rate`` split into 429s, 5xx, slow answers and hangs. Salesforce has no
    momentary limit: its injected limit is REQUEST_LIMIT_EXCEEDED, the org's 24-hour allowance
    spent, which rightly pauses a run for an hour; so on Salesforce that share is 503s."""
    hang = args.fault_rate * args.hang_share
    slow = args.fault_rate * args.slow_share
    rest = args.fault_rate - hang - slow
    limit = rest / 2 if momentary_limits else 0.0
    return {"limit_rate": limit, "error_rate": rest - limit, "slow_rate": slow, "slow_ms": args.slow_ms,
            "hang_rate": hang, "hang_seconds": hang_seconds}


def build(args, base_url: str) -> World:
    from connectors.sandbox.activecampaign import accounts as ac_accounts
    from connectors.sandbox.activecampaign.seed import INTEGRATION_TAGS, _number, _tag
    from connectors.sandbox.hubspot import accounts as hs_accounts
    from connectors.sandbox.models.activecampaign import AcContact, AcContactTag
    from connectors.sandbox.salesforce import orgs
    from connectors.sandbox.salesforce.seed import records_bulk_create
    from syncconfig.integrations import hubspot_salesforce as hs
    from syncconfig.integrations import person_accounts as pa
    from syncconfig.models import Connection, FieldMapping, Sync
    from syncconfig.services import connection_set_credentials

    n, world = args.records, World()
    lag = {"commit_lag_seconds": args.commit_lag, "one_instant_per_request": True}
    world.hs_org = orgs.org_create(name="Soak HubSpot org", daily_limit=1_000_000, commit_lag_seed=args.seed, **lag)
    world.ac_org = orgs.org_create(name="Soak ActiveCampaign org", daily_limit=1_000_000, commit_lag_seed=args.seed + 1, **lag)
    say(f"Seeding {n:,} HubSpot contacts")
    world.hub = hs_accounts.account_create(name="Soak Hub", records=n, seed_value=args.seed, search_lag_seconds=args.search_lag,
                                           search_lag_seed=args.seed, one_instant_per_request=True)
    world.hs_contacts = list(world.hub.contacts.values_list("number", flat=True))

    outbound = round(n * args.ac_outbound_share)
    inbound = n - outbound
    say(f"Seeding {outbound:,} Salesforce contacts for ActiveCampaign and {inbound:,} (+{inbound // 10:,} untagged) "
        "ActiveCampaign contacts for Salesforce")
    world.ac = ac_accounts.account_create(name="Soak AC", rate_limit=args.ac_rate_limit, records=inbound + inbound // 10,
                                          seed_value=args.seed)
    # The seed tags some contacts as the integration would have; here the soak says which go.
    AcContactTag.objects.filter(account=world.ac, tag__tag__in=[t for t, _ in INTEGRATION_TAGS]).delete()
    numbers = list(AcContact.objects.filter(account=world.ac).order_by("number").values_list("number", flat=True))
    random.Random(args.seed).shuffle(numbers)
    world.ac_tagged, world.ac_untagged = sorted(numbers[:inbound]), sorted(numbers[inbound:])
    tag = _tag(world.ac, pa.CONTACT_ADDED)
    rows = [AcContactTag(account=world.ac, contact=c, tag=tag, cdate=c.udate)
            for c in AcContact.objects.filter(account=world.ac, number__in=world.ac_tagged)]
    _number(world.ac, "contactTag", rows)
    AcContactTag.objects.bulk_create(rows, batch_size=500)
    world.sf_outbound = records_bulk_create(world.ac_org, "Contact", [
        {"FirstName": f"Out{i}", "LastName": f"Soak{i}", "Email": f"out{i}.s{args.seed}@soak-sf.example"} for i in range(outbound)])

    def connection(name, kind, url, credentials):
        c = Connection(name=name, kind=kind, base_url=url)
        connection_set_credentials(connection=c, values=credentials)
        c.save()
        return c

    def salesforce(org, name):
        f = orgs.login_facts(org, base_url=base_url)
        return connection(name, "salesforce", f.instance_url, {"client_id": f.client_id, "client_secret": f.client_secret,
                                                               "username": f.username, "password": f.password})

    hf = hs_accounts.login_facts(world.hub, base_url=base_url)
    hub = connection("Soak Hub", "hubspot", hf.base_url, {"token": hf.token, "app_id": str(hf.app_id), "client_secret": hf.client_secret})
    af = ac_accounts.login_facts(world.ac, base_url=base_url)
    ac = connection("Soak AC", "activecampaign", af.api_url, {"api_key": af.api_key})

    # As the demo sets it up (portal/demo.py): two-way, matched by email.
    world.hs_sync = Sync.objects.create(name="Soak HubSpot ⇄ Salesforce", source=hub, source_object="contacts",
                                        target=salesforce(world.hs_org, "Soak SF (HubSpot)"), target_object="Contact",
                                        direction=Sync.Direction.TWO_WAY, trigger=Sync.Trigger.MANUAL, enabled=True,
                                        target_id_field=args.hubspot_id_field)
    for position, (s, t, key) in enumerate([("email", "Email", True), ("firstname", "FirstName", False),
                                            ("lastname", "LastName", False), ("phone", "Phone", False)]):
        FieldMapping.objects.create(sync=world.hs_sync, source_field=s, target_field=t, is_key=key, position=position)
    hs.hubspot_options_save(sync=world.hs_sync, link_policy=hs.LinkPolicy.STABLE, on_salesforce_delete=hs.OnSalesforceDelete.DELETE)

    # As the integration's tests set it up: the Contact model, External_Id__c on the way back.
    world.ac_sync = Sync.objects.create(name="Soak ActiveCampaign ⇄ Salesforce", source=salesforce(world.ac_org, "Soak SF (AC)"),
                                        source_object="Contact", target=ac, target_object="contact",
                                        direction=Sync.Direction.TWO_WAY, trigger=Sync.Trigger.MANUAL, enabled=True,
                                        source_id_field="External_Id__c")
    for position, (s, t, key) in enumerate([("Email", "email", True), ("FirstName", "firstName", False), ("LastName", "lastName", False)]):
        FieldMapping.objects.create(sync=world.ac_sync, source_field=s, target_field=t, is_key=key, position=position)

    # Faults last: seeding and set-up are not the vendors' weather.
    for n, (label, row, module, read_timeout) in enumerate((("Salesforce (HubSpot's org)", world.hs_org, orgs, 120),
                                                            ("Salesforce (ActiveCampaign's org)", world.ac_org, orgs, 120),
                                                            ("HubSpot", world.hub, hs_accounts, 30),
                                                            ("ActiveCampaign", world.ac, ac_accounts, 30))):
        rates = fault_rates(args, read_timeout + args.hang_beyond, momentary_limits=module is not orgs)
        setter = module.org_set_faults if module is orgs else module.account_set_faults
        seed = args.seed * 10 + n  # each vendor its own draws
        setter(row, seed_value=seed, **rates)
        world.fault_rows.append((label, type(row), row.pk, seed, rates))
    return world


def faults_off(world: World) -> None:
    from connectors.sandbox.faults import RATES

    for _, model, pk, _, _ in world.fault_rows:
        model.objects.filter(pk=pk).update(**{rate: 0.0 for rate in RATES})


def faults_injected(world: World) -> dict[str, Counter]:
    """Which faults the vendors answered: the draws of ``faults.fault_draw`` replayed for every
    call the sandbox counted (the same seed gives the same draws)."""
    out = {}
    for label, model, pk, seed, rates in world.fault_rows:
        calls = model.objects.values_list("fault_calls", flat=True).get(pk=pk)
        counts = Counter(calls=calls)
        for call in range(1, calls + 1):
            draw = random.Random(f"{seed}:{call}").random()
            edge = 0.0
            for name, rate in (("5xx", rates["error_rate"]), ("429", rates["limit_rate"]), ("slow", rates["slow_rate"]),
                               ("hang", rates["hang_rate"])):
                edge += rate
                if draw < edge:
                    counts[name] += 1
                    break
        out[label] = counts
    return out


# --- the run, with kills -----------------------------------------------------------------------------
def active_runs(app) -> dict[int, tuple[str, int]]:
    """Run id → (worker node, pid of the pool process executing it), as the workers say."""
    import ast

    found = {}
    replies = app.control.inspect(timeout=3).active() or {}
    for node, tasks in replies.items():
        for task in tasks or []:
            if task.get("name") != "syncconfig.tasks.execute_run":
                continue
            args = task.get("args")
            if isinstance(args, str):
                args = ast.literal_eval(args)
            if args:
                found[int(args[0])] = (node, int(task.get("worker_pid") or 0))
    return found


def drive(args, world: World, procs: Processes, runs: list) -> dict:
    """Poll like beat, kill workers at the planned moments, until every run has ended."""
    from django.db import close_old_connections
    from django.utils import timezone

    from portal.celery import app
    from syncconfig import services
    from syncconfig.models import RecordError, SyncRun

    expected = args.records * 2
    kill_at = [(k + 1) / (args.kills + 1) for k in range(args.kills)]
    kills: list[dict] = []
    started = time.monotonic()
    last_report = 0.0
    deadline = started + args.timeout * 60
    while True:
        close_old_connections()
        services.immediate_syncs_poll()
        all_runs = list(SyncRun.objects.all())
        done = sum(r.created_count + r.updated_count for r in all_runs)
        busy = [r for r in all_runs if r.status in (SyncRun.Status.QUEUED, SyncRun.Status.RUNNING, SyncRun.Status.PAUSED)]
        retries_due = RecordError.objects.filter(state=RecordError.State.RETRY_SCHEDULED).count()
        if time.monotonic() - last_report > 30:
            last_report = time.monotonic()
            say("; ".join(f"run {r.pk} ({r.sync.name.split()[1]}) {r.status} read {r.read_count:,} created {r.created_count:,} "
                          f"updated {r.updated_count:,} failed {r.failed_count:,} takeovers {r.takeovers}"
                          for r in sorted(all_runs, key=lambda r: r.pk)) + f"; retries scheduled {retries_due}")
        if not busy and not retries_due:
            break
        if time.monotonic() > deadline:
            say(f"Timed out after {args.timeout} minutes with runs under way: {[(r.pk, r.status) for r in busy]}")
            break
        if kill_at and done >= kill_at[0] * expected:
            fresh = timezone.now() - services.RUN_STALE_AFTER / 2
            running = [r for r in busy if r.status == SyncRun.Status.RUNNING and r.heartbeat_at and r.heartbeat_at > fresh]
            waiting_takeover = [r for r in busy if r.status == SyncRun.Status.RUNNING and r not in running]
            target = None
            if running and not waiting_takeover:
                active = active_runs(app)
                candidates = [r for r in running if r.pk in active]
                # A run not killed yet first (each integration gets its kill), in the order queued.
                candidates.sort(key=lambda r: (sum(k["run"] == r.pk for k in kills), r.pk))
                target = candidates[0] if candidates else None
            if target is not None:
                node, pid = active_runs(app).get(target.pk, (None, 0))
                if node:
                    mode = args.kill_mode if args.kill_mode != "alternate" else ("process" if len(kills) % 2 == 0 else "worker")
                    if mode == "process" and pid:
                        os.kill(pid, signal.SIGKILL)
                        killed = [pid]
                        replacement = node  # the worker replaces its pool process itself
                    else:
                        killed = procs.kill_worker(node)
                        replacement = procs.worker()
                    kills.append({"run": target.pk, "sync": target.sync.name, "node": node, "mode": mode, "pids": killed,
                                  "read_before": target.read_count, "at": round(time.monotonic() - started)})
                    say(f"SIGKILL #{len(kills)}: {mode} {killed} on {node}, executing run {target.pk} "
                        f"({target.sync.name}, {target.read_count:,} read); workers now {sorted(procs.workers)} "
                        f"(replacement {replacement})")
                    kill_at.pop(0)
        time.sleep(args.poll_seconds)
    return {"kills": kills, "seconds": time.monotonic() - started}


# --- verification -----------------------------------------------------------------------------------
def verify(args, world: World) -> tuple[list[tuple], list[str], bool]:
    """The numbers, from the vendors' own databases (not from the portal's links or counts)."""
    from django.db.models import Sum

    from connectors.sandbox.models import SandboxRecord
    from connectors.sandbox.models.activecampaign import AcContact
    from connectors.sandbox.models.hubspot import HsContact
    from syncconfig.completeness import completeness_check_execute
    from syncconfig.integrations import person_accounts as pa
    from syncconfig.models import CompletenessCheck, RecordError, RecordLink, SyncRun

    rows, notes, bad = [], [], False

    def sf_contacts(org):
        return {r.pk: r for r in SandboxRecord.objects.filter(org=org, sobject="Contact", is_deleted=False)}

    def by_email(records, get):
        groups: dict[str, list] = {}
        for r in records:
            groups.setdefault((get(r) or "").strip().lower(), []).append(r)
        return groups

    sf_table, hs_table, ac_table = SandboxRecord._meta.db_table, HsContact._meta.db_table, AcContact._meta.db_table

    def runs_of(sync):
        agg = SyncRun.objects.filter(sync=sync).aggregate(
            created=Sum("created_count"), updated=Sum("updated_count"), failed=Sum("failed_count"), skipped=Sum("skipped_count"),
            read=Sum("read_count"), takeovers=Sum("takeovers"), src=Sum("source_api_calls"), tgt=Sum("target_api_calls"))
        statuses = Counter(SyncRun.objects.filter(sync=sync).values_list("status", flat=True))
        return {k: v or 0 for k, v in agg.items()}, statuses

    def errors_of(sync):  # by reason, ids left out
        return Counter((e.error_class, re.sub(r"\b(?=\w*\d)\w+\b", "…", e.message)[:120]) for e in RecordError.objects.filter(
            sync=sync, state__in=[RecordError.State.OPEN, RecordError.State.RETRY_SCHEDULED]))

    def completeness(sync):
        check = completeness_check_execute(CompletenessCheck.objects.create(sync=sync, trigger=CompletenessCheck.Trigger.MANUAL))
        return check

    # --- HubSpot ⇄ Salesforce
    sync = world.hs_sync
    contacts = list(HsContact.objects.filter(account=world.hub, archived=False, merged_into__isnull=True))
    seeded = [c for c in contacts if c.number in set(world.hs_contacts)]
    sf = sf_contacts(world.hs_org)
    sf_groups = by_email(sf.values(), lambda r: r.data.get("Email"))
    lost = [c for c in seeded if c.email_key not in sf_groups]
    dup_sf = {e: g for e, g in sf_groups.items() if len(g) > 1}
    extra_hs = len(contacts) - len(seeded)  # made in HubSpot by the way back
    # Expected writes after seeding: each Salesforce contact is created once and not touched
    # again; each HubSpot contact gets its Salesforce id written back once.
    sf_writes = writes_per_row(sf_table, list(sf))
    hs_writes = writes_per_row(hs_table, [c.pk for c in seeded])
    twice_sf = [pk for pk, w in sf_writes.items() if w["UPDATE"] > 0 or w["INSERT"] > 1]
    twice_hs = [pk for pk, w in hs_writes.items() if w["UPDATE"] > 1]
    wrong_id = [c for c in seeded if c.email_key in sf_groups and c.properties.get("salesforcecontactid")
                not in {r.record_id for r in sf_groups[c.email_key]}]
    agg, statuses = runs_of(sync)
    holds = len(sf) + extra_hs
    check = completeness(sync)
    links = RecordLink.objects.filter(sync=sync).count()
    rows.append(_row("HubSpot ⇄ Salesforce", len(seeded), len(lost), sum(len(g) - 1 for g in dup_sf.values()) + extra_hs,
                     len(twice_sf) + len(twice_hs), agg, holds, links, check, statuses))
    notes += _notes("HubSpot ⇄ Salesforce", errors_of(sync), check, lost=[c.email_key for c in lost[:5]],
                    dup=list(dup_sf)[:5], twice=[("SF", pk, dict(sf_writes[pk])) for pk in twice_sf[:5]]
                    + [("HS", pk, dict(hs_writes[pk])) for pk in twice_hs[:5]],
                    extra=f"{len(wrong_id)} HubSpot contacts whose Salesforce ID property does not name their Salesforce contact; "
                          f"{sum(1 for w in hs_writes.values() if w['UPDATE'] == 0)} HubSpot contacts never written back")
    bad |= bool(lost or dup_sf or extra_hs or twice_sf or twice_hs or holds != agg["created"] or wrong_id)

    # --- ActiveCampaign ⇄ Salesforce
    sync = world.ac_sync
    sf = sf_contacts(world.ac_org)
    sf_groups = by_email(sf.values(), lambda r: r.data.get("Email"))
    acs = {c.number: c for c in AcContact.objects.filter(account=world.ac, deleted=False)}
    ac_by_email = {c.email_key: c for c in acs.values()}
    outbound = [r for r in sf.values() if r.record_id in set(world.sf_outbound)]
    lost_out = [r for r in outbound if (r.data.get("Email") or "").lower() not in ac_by_email]
    lost_in = [acs[n] for n in world.ac_tagged if acs[n].email_key not in sf_groups]
    leaked = [acs[n] for n in world.ac_untagged if acs[n].email_key in sf_groups]  # out of scope, yet in Salesforce
    dup_sf = {e: g for e, g in sf_groups.items() if len(g) > 1}
    made_sf = [pk for pk, r in sf.items() if r.record_id not in set(world.sf_outbound)]
    made_ac = [c.pk for c in acs.values() if c.number not in set(world.ac_tagged) | set(world.ac_untagged)]
    sf_writes = writes_per_row(sf_table, made_sf)
    ac_writes = writes_per_row(ac_table, made_ac)
    twice_sf = [pk for pk, w in sf_writes.items() if w["UPDATE"] > 0 or w["INSERT"] > 1]
    twice_ac = [pk for pk, w in ac_writes.items() if w["UPDATE"] > 0 or w["INSERT"] > 1]
    from connectors.sandbox.models.activecampaign import AcContactTag

    untagged_out = [pk for pk in made_ac if not AcContactTag.objects.filter(contact_id=pk, tag__tag=pa.CONTACT_CREATED).exists()]
    # The sources are read, never written, in this integration (its tags go on what it created).
    source_writes = (sum(1 for w in writes_per_row(sf_table, [r.pk for r in outbound]).values() if w["UPDATE"])
                     + sum(1 for w in writes_per_row(ac_table, [acs[n].pk for n in world.ac_tagged]).values() if w["UPDATE"]))
    agg, statuses = runs_of(sync)
    holds = len(made_sf) + len(made_ac)
    check = completeness(sync)
    links = RecordLink.objects.filter(sync=sync).count()
    rows.append(_row("ActiveCampaign ⇄ Salesforce", len(outbound) + len(world.ac_tagged), len(lost_out) + len(lost_in),
                     sum(len(g) - 1 for g in dup_sf.values()), len(twice_sf) + len(twice_ac), agg, holds, links, check, statuses))
    notes += _notes("ActiveCampaign ⇄ Salesforce", errors_of(sync), check,
                    lost=[r.data.get("Email") for r in lost_out[:5]] + [c.email for c in lost_in[:5]], dup=list(dup_sf)[:5],
                    twice=[("SF", pk, dict(sf_writes[pk])) for pk in twice_sf[:5]] + [("AC", pk, dict(ac_writes[pk])) for pk in twice_ac[:5]],
                    extra=f"{len(leaked)} untagged (out-of-scope) ActiveCampaign contacts found in Salesforce; "
                          f"{len(untagged_out)} contacts made in ActiveCampaign without their AC-8 tag; "
                          f"{source_writes} source records written to")
    bad |= bool(lost_out or lost_in or dup_sf or twice_sf or twice_ac or holds != agg["created"] or leaked or untagged_out
                or source_writes)
    return rows, notes, bad


def _row(name, in_scope, lost, dup, twice, agg, holds, links, check, statuses) -> tuple:
    return (name, in_scope, lost, dup, twice, agg["created"], holds, links, agg["failed"], agg["takeovers"],
            f"{check.status} (missing {check.missing_in_target}+{check.missing_in_source}, failed {check.failed_count}, "
            f"unlinked {check.unlinked_count}, orphaned {check.orphaned_count})",
            agg["src"], agg["tgt"], ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())))


def _notes(name, errors, check, *, lost, dup, twice, extra) -> list[str]:
    out = [f"{name}: {extra}"]
    if lost:
        out.append(f"{name}: lost, e.g. {lost}")
    if dup:
        out.append(f"{name}: duplicated emails, e.g. {dup}")
    if twice:
        out.append(f"{name}: written twice, e.g. {twice}")
    for (error_class, message), n in errors.most_common():
        out.append(f"{name}: open record error ×{n}: [{error_class}] {message}")
    if check.message:
        out.append(f"{name}: completeness check said: {check.message}")
    for item in check.items.all()[:5]:
        out.append(f"{name}: completeness finding: {item.category} {item.side} {item.record_id}: {item.reason[:120]}")
    return out


# --- main ---------------------------------------------------------------------------------------------
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000, help="records per integration")
    parser.add_argument("--kills", type=int, default=2, help="workers killed with SIGKILL during the runs")
    parser.add_argument("--kill-mode", choices=("alternate", "process", "worker"), default="alternate",
                        help="kill the pool process executing a run, the whole worker, or each in turn")
    parser.add_argument("--fault-rate", type=float, default=0.10, help="share of every vendor's API calls answered with a fault")
    parser.add_argument("--hang-share", type=float, default=0.03, help="share of the faults that are hangs")
    parser.add_argument("--slow-share", type=float, default=0.15, help="share of the faults that are slow answers")
    parser.add_argument("--slow-ms", type=int, default=3000)
    parser.add_argument("--hang-beyond", type=float, default=5, help="seconds a hang lasts beyond the connector's read timeout")
    parser.add_argument("--commit-lag", type=float, default=5, help="Salesforce commit lag, seconds (at most)")
    parser.add_argument("--search-lag", type=float, default=5, help="HubSpot search-index lag, seconds (at most)")
    parser.add_argument("--ac-outbound-share", type=float, default=0.1,
                        help="share of the ActiveCampaign integration's records that start in Salesforce")
    parser.add_argument("--hubspot-id-field", default="",
                        help="idempotency field on Salesforce for the HubSpot sync, e.g. External_Id__c (the demo sets none)")
    parser.add_argument("--ac-rate-limit", type=int, default=100, help="ActiveCampaign requests a second (the vendor's is 5)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--poll-seconds", type=float, default=10, help="the poll's interval (beat's is 10 s)")
    parser.add_argument("--timeout", type=float, default=90, help="minutes to wait for the runs to end")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs) after the run")
    args = parser.parse_args(argv)

    def stop(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, stop)  # tear down on a plain kill too
    ensure_packages()
    workdir = tempfile.mkdtemp(prefix="portal-soak-")
    os.chmod(workdir, 0o755)
    say(f"Work folder {workdir}")
    wall = time.monotonic()
    try:
        with contextlib.ExitStack() as stack:
            database_url = stack.enter_context(postgres(workdir))
            broker_url = stack.enter_context(redis(workdir))
            from cryptography.fernet import Fernet

            env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", "DATABASE_URL": database_url,
                   "CELERY_BROKER_URL": broker_url, "SECRET_KEY": "soak-only", "CREDENTIALS_KEYS": Fernet.generate_key().decode(),
                   "VAR_DIR": os.path.join(workdir, "var"), "SANDBOX_DEMO": "false", "LOG_LEVEL": "INFO",
                   "CELERY_TASK_ALWAYS_EAGER": "false"}
            os.environ.update({k: v for k, v in env.items() if k != "LOG_LEVEL"})
            os.environ["LOG_LEVEL"] = "WARNING"
            sys.path.insert(0, str(ROOT))
            import django

            django.setup()
            from django.core.management import call_command

            call_command("migrate", verbosity=0)
            procs = Processes(env, workdir)
            stack.callback(procs.stop_all)
            port = _free_port()
            procs.sandbox(port)
            base_url = f"http://127.0.0.1:{port}"
            wait_for_http(f"{base_url}/services/data/")
            world = build(args, base_url)
            write_log_install()
            for _ in range(2):
                procs.worker()
            from portal.celery import app

            deadline = time.monotonic() + 60
            while len(app.control.inspect(timeout=2).ping() or {}) < 2:
                if time.monotonic() > deadline:
                    raise SystemExit("The workers did not answer.")
            say(f"Workers up: {sorted(procs.workers)}")
            from syncconfig import services
            from syncconfig.models import SyncRun

            runs = [services.sync_run_request(sync=s, trigger=SyncRun.Trigger.MANUAL) for s in (world.hs_sync, world.ac_sync)]
            say(f"Queued runs {[r.pk for r in runs]}")
            outcome = drive(args, world, procs, runs)
            faults_off(world)
            counted = faults_injected(world)
            # Let what the last writes left in the vendors' lag windows become readable.
            time.sleep(max(args.commit_lag, args.search_lag) + 2)
            procs.stop_workers()
            say("Verifying")
            rows, notes, bad = verify(args, world)
            print_report(args, rows, notes, outcome, counted, time.monotonic() - wall)
            if outcome["seconds"] >= args.timeout * 60:
                bad = True
            return 1 if bad else 0
    finally:
        if args.keep:
            say(f"Logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def print_report(args, rows, notes, outcome, counted, wall) -> None:
    print()
    print(f"Soak: {args.records:,} records per integration, fault rate {args.fault_rate:.0%}, commit lag {args.commit_lag:g} s, "
          f"HubSpot sync's idempotency field {args.hubspot_id_field or 'none'}, "
          f"search lag {args.search_lag:g} s, {len(outcome['kills'])} of {args.kills} kills, seed {args.seed}; "
          f"runs took {outcome['seconds'] / 60:.1f} min, wall {wall / 60:.1f} min")
    head = ("integration", "in scope", "lost", "dup", "2x written", "created (runs)", "target holds", "links", "failed",
            "takeovers", "completeness", "API src", "API tgt", "runs")
    print(" | ".join(head))
    print(" | ".join("---" for _ in head))
    for row in rows:
        print(" | ".join(f"{v:,}" if isinstance(v, int) else str(v) for v in row))
    print()
    print("vendor | calls seen | 429 | 5xx | slow | hang (answer held past the read timeout)")
    print("--- | --- | --- | --- | --- | ---")
    for label, c in counted.items():
        print(f"{label} | {c['calls']:,} | {c['429']:,} | {c['5xx']:,} | {c['slow']:,} | {c['hang']:,}")
    print()
    for kill in outcome["kills"]:
        print(f"kill at {kill['at']} s: {kill['mode']} {kill['pids']} on {kill['node']}, run {kill['run']} ({kill['sync']}) "
              f"after {kill['read_before']:,} read")
    for note in notes:
        print(note)


if __name__ == "__main__":
    sys.exit(main())
