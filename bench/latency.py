"""Immediate latency: the time from a change in one system to its arrival in the other, with
the portal's real processes, for each direction of the demo's two immediate syncs.

    python -m bench.latency [--changes 50] [--seed 1] [--sqlite]

What it starts, on loopback addresses, and tears down at the end (on failure too): a
throw-away PostgreSQL cluster and Redis server (the production stack, as ``bench.soak``
starts them; ``--sqlite`` uses ``make run``'s own instead: SQLite and the filesystem
broker), the portal's database with the demo ``make run`` creates (``manage.py bootstrap``),
and the processes of ``Procfile`` with their own command lines: ``web`` (gunicorn on a free
port, which ``PORTAL_URL`` names, so the sandboxes' webhooks reach it), ``worker`` (Celery),
``beat`` (the database scheduler, with its 10-second poll of immediate syncs) and
``sandbox``. It waits until the workers' first connection check has registered the
webhooks and the demo syncs' first runs have ended.

Then, through each vendor's REST API over HTTP, as a user of that vendor would, it makes a
few records to play with (``--pool`` per integration, and waits until each is in the other
system) and measures, one direction after another:

- HubSpot → Salesforce (HubSpot's webhook), Salesforce → HubSpot (the poll): a contact's
  last name changed in one, until the linked contact has it in the other;
- ActiveCampaign → Salesforce (ActiveCampaign's webhook): a contact tagged
  ``added-to-salesforce-person-account`` renamed, until its Person Account has the name;
- Salesforce → ActiveCampaign (the poll): a Person Account renamed, until its contact has it.

``--changes`` changes per direction, one after another, ``--gap`` seconds apart (seeded
random), each a unique last name on a record picked at random among those with no change on
the way. The clock starts as the change is sent. Arrival is detected by reading the
sandboxes' own tables every 100 ms (the same database, directly): polling the target's API
instead would spend its rate limits and API allowance, which the portal's runs share, and
so change what is measured. A change not there after ``--timeout`` seconds has not arrived.

Reported per direction: changes, arrived, p50/p95/max seconds; the runs of the sync the
workers executed while it was measured (from their logs: ``Run … ended``) per change, and
how many of them changed nothing (an echo of the portal's own writes, or a poll that found
nothing; such a run leaves no row in the history); what started the runs that carried the
changes (webhook or poll, from their rows); and the API calls per change on each side, as
the kept runs recorded them (the runs that changed nothing are left out). Exits 1 when a
change never arrived.
"""
from __future__ import annotations

import argparse
import contextlib
import math
import os
import random
import re
import shlex
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.pg import _free_port
from bench.soak import Processes, ensure_packages, postgres, redis, say, wait_for_http

ROOT = Path(__file__).resolve().parent.parent
POLL_SECONDS = 0.1  # how often the targets' tables are read for arrivals
RUN_ENDED = re.compile(r"Run (\d+) of sync (\d+) ended: (\w+)")


# --- the processes, as `make run` starts them ------------------------------------------------------
def procfile(env: dict[str, str]) -> dict[str, list[str]]:
    """The Procfile's command lines, ``${NAME:-default}`` filled in from ``env`` as honcho does."""
    commands = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, command = line.partition(":")
        command = re.sub(r"\$\{(\w+)(?::-([^}]*))?\}", lambda m: env.get(m[1]) or m[2] or "", command)
        commands[name.strip()] = shlex.split(command)
    return commands


def start_portal(procs: Processes, env: dict[str, str], workers: int) -> list[str]:
    """Start the Procfile's processes; returns the workers' log files."""
    commands = procfile(env)
    procs.start(commands["sandbox"], "sandbox.log", {**env, "CONN_MAX_AGE": "0", "LOG_LEVEL": "WARNING"})
    procs.start(commands["web"], "web.log")
    logs = []
    for n in range(1, workers + 1):
        name = f"worker.{n}"
        procs.start(procfile({**env, "HONCHO_PROCESS_NAME": name})["worker"], f"{name}.log",
                    {**env, "HONCHO_PROCESS_NAME": name})
        logs.append(os.path.join(procs.workdir, f"{name}.log"))
    procs.start(commands["beat"], "beat.log")
    return logs


def wait_until_ready(timeout: float) -> None:
    """The webhooks of the demo's HubSpot and ActiveCampaign connections registered (the
    workers' first connection check does it) and both demo syncs idle, each side read once."""
    from django.db import close_old_connections

    from portal.demo import DEMO_ACTIVECAMPAIGN, DEMO_HUBSPOT, DEMO_HUBSPOT_SYNC, DEMO_PERSON_ACCOUNT_SYNC
    from syncconfig.models import Connection, Sync, SyncRun

    deadline = time.monotonic() + timeout
    quiet = 0
    while True:
        close_old_connections()
        hooks = Connection.objects.filter(name__in=[DEMO_HUBSPOT, DEMO_ACTIVECAMPAIGN], webhook_registered_at__isnull=False).count()
        syncs = Sync.objects.filter(name__in=[DEMO_HUBSPOT_SYNC, DEMO_PERSON_ACCOUNT_SYNC])
        read = all(s.source_watermark and s.target_watermark for s in syncs)
        busy = SyncRun.objects.filter(sync__in=syncs, status__in=[SyncRun.Status.QUEUED, SyncRun.Status.RUNNING]).exists()
        quiet = quiet + 1 if hooks == 2 and read and not busy else 0
        if quiet >= 3:
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"Not ready after {timeout:.0f} s: webhooks registered {hooks}/2, both syncs read {read}, "
                             f"runs under way {busy}.")
        time.sleep(1)


# --- the vendors, through their APIs (writes) and their tables (reads) ---------------------------------
class HubSpot:
    def __init__(self, connection, session):
        from connectors.sandbox.models.hubspot import HsAccount

        self.url, self.session = connection.base_url.rstrip("/"), session
        self.headers = {"Authorization": f"Bearer {connection.credentials['token']}"}
        self.account = HsAccount.objects.get(token=connection.credentials["token"])

    def create(self, email: str, first: str, last: str) -> str:
        reply = self.session.post(f"{self.url}/crm/v3/objects/contacts", headers=self.headers, timeout=30,
                                  json={"properties": {"email": email, "firstname": first, "lastname": last}})
        reply.raise_for_status()
        return str(reply.json()["id"])

    def rename(self, contact_id: str, last: str) -> float:
        """Returns when the change was sent."""
        sent = time.time()
        self.session.patch(f"{self.url}/crm/v3/objects/contacts/{contact_id}", headers=self.headers, timeout=30,
                           json={"properties": {"lastname": last}}).raise_for_status()
        return sent

    def last_name(self, contact_id: str) -> str | None:
        from connectors.sandbox.models.hubspot import HsContact

        props = HsContact.objects.filter(account=self.account, number=int(contact_id)).values_list("properties", flat=True).first()
        return (props or {}).get("lastname")

    def find(self, email: str) -> str | None:
        from connectors.sandbox.models.hubspot import HsContact

        number = HsContact.objects.filter(account=self.account, email_key=email.lower(), archived=False).values_list(
            "number", flat=True).first()
        return None if number is None else str(number)


class ActiveCampaign:
    def __init__(self, connection, session):
        from connectors.sandbox.models.activecampaign import AcAccount

        self.url, self.session = connection.base_url.rstrip("/"), session
        self.headers = {"Api-Token": connection.credentials["api_key"]}
        self.account = AcAccount.objects.get(api_key=connection.credentials["api_key"])

    def _call(self, method: str, path: str, **kw) -> dict:
        # The account allows five requests a second, shared with the portal's runs: a 429 waits
        # (and the change counts from the attempt that went through, ``sent``).
        for _ in range(20):
            self.sent = time.time()
            reply = self.session.request(method, f"{self.url}/api/3/{path}", headers=self.headers, timeout=30, **kw)
            if reply.status_code != 429:
                reply.raise_for_status()
                return reply.json() if reply.content else {}
            time.sleep(float(reply.headers.get("Retry-After") or 1))
        reply.raise_for_status()
        return {}

    def create_tagged(self, email: str, first: str, last: str, tag: str) -> str:
        contact = self._call("POST", "contacts", json={"contact": {"email": email, "firstName": first, "lastName": last}})
        number = contact["contact"]["id"]
        found = [t for t in self._call("GET", "tags", params={"search": tag})["tags"] if t["tag"] == tag]
        tag_id = found[0]["id"] if found else self._call("POST", "tags", json={"tag": {"tag": tag, "tagType": "contact"}})["tag"]["id"]
        self._call("POST", "contactTags", json={"contactTag": {"contact": number, "tag": tag_id}})
        return str(number)

    def rename(self, contact_id: str, last: str) -> float:
        self._call("PUT", f"contacts/{contact_id}", json={"contact": {"lastName": last}})
        return self.sent

    def last_name(self, contact_id: str) -> str | None:
        from connectors.sandbox.models.activecampaign import AcContact

        return AcContact.objects.filter(account=self.account, number=int(contact_id)).values_list("last_name", flat=True).first()

    def find(self, email: str) -> str | None:
        from connectors.sandbox.models.activecampaign import AcContact

        number = AcContact.objects.filter(account=self.account, email_key=email.lower(), deleted=False).values_list(
            "number", flat=True).first()
        return None if number is None else str(number)


class Salesforce:
    API = "v59.0"

    def __init__(self, connection, session):
        from connectors.sandbox.models import SandboxOrg

        credentials = connection.credentials
        self.url, self.session = connection.base_url.rstrip("/"), session
        self.org = SandboxOrg.objects.get(username=credentials["username"])
        reply = session.post(f"{self.url}/services/oauth2/token", timeout=30, data={
            "grant_type": "password", "client_id": credentials["client_id"], "client_secret": credentials["client_secret"],
            "username": credentials["username"], "password": credentials["password"]})
        reply.raise_for_status()
        self.headers = {"Authorization": f"Bearer {reply.json()['access_token']}"}

    def create(self, sobject: str, values: dict) -> str:
        reply = self.session.post(f"{self.url}/services/data/{self.API}/sobjects/{sobject}/", headers=self.headers,
                                  json=values, timeout=30)
        reply.raise_for_status()
        return reply.json()["id"]

    def rename(self, sobject: str, record_id: str, last: str) -> float:
        sent = time.time()
        self.session.patch(f"{self.url}/services/data/{self.API}/sobjects/{sobject}/{record_id}", headers=self.headers,
                           json={"LastName": last}, timeout=30).raise_for_status()
        return sent

    def last_name(self, sobject: str, record_id: str) -> str | None:
        from connectors.sandbox.models import SandboxRecord

        data = SandboxRecord.objects.filter(org=self.org, sobject=sobject, record_id=record_id).values_list("data", flat=True).first()
        return (data or {}).get("LastName")

    def find(self, sobject: str, email_field: str, email: str) -> str | None:
        from connectors.sandbox.models import SandboxRecord

        return SandboxRecord.objects.filter(org=self.org, sobject=sobject, is_deleted=False,
                                            **{f"data__{email_field}": email}).values_list("record_id", flat=True).first()

    def person_record_type(self) -> str:
        from connectors.sandbox.models import SandboxRecord

        return SandboxRecord.objects.filter(org=self.org, sobject="RecordType", data__IsPersonType=True).order_by(
            "record_id").values_list("record_id", flat=True).first()


# --- the directions ---------------------------------------------------------------------------------
@dataclass
class Direction:
    integration: str
    label: str  # "HubSpot → Salesforce"
    trigger: str  # how the portal should learn of the change: "webhook" or "poll"
    sync: object
    pairs: list[tuple[str, str]]  # (id where the change is made, id where it must arrive)
    rename: object  # (id, last name) → when it was sent, through the API
    arrived: object  # id → last name now, from the table


@dataclass
class Change:
    n: int
    record: str
    partner: str
    value: str
    sent: float = 0.0  # time.time() as it was sent
    seen: float | None = None


@dataclass
class Result:
    direction: Direction
    changes: list[Change]
    runs: list[tuple[int, str]] = field(default_factory=list)  # (run id, status) the workers ended meanwhile
    kept: dict = field(default_factory=dict)  # run id → SyncRun still in the history


def make_pairs(args, systems) -> dict[str, list[tuple[str, str]]]:
    """The records the changes are made on, made through the vendors' APIs as users would,
    each waited for in the other system: HubSpot contacts (→ Salesforce Contacts),
    ActiveCampaign contacts tagged for a Person Account (→ Person Accounts) and Person
    Accounts (→ ActiveCampaign contacts)."""
    from syncconfig.integrations import person_accounts as pa

    hub, ac, sf = systems["hubspot"], systems["activecampaign"], systems["salesforce"]
    tag = f"lat{args.seed}-{int(time.time()) % 100000}"
    person_type = sf.person_record_type()
    wanted = {"hubspot": [], "activecampaign": [], "salesforce": []}
    for n in range(args.pool):
        email = f"hs{n}.{tag}@latency.example"
        wanted["hubspot"].append((hub.create(email, "Hub", f"Start{n}"), lambda e=email: sf.find("Contact", "Email", e)))
        email = f"ac{n}.{tag}@latency.example"
        wanted["activecampaign"].append((ac.create_tagged(email, "Camp", f"Start{n}", pa.PA_ADDED),
                                         lambda e=email: sf.find("Account", "PersonEmail", e)))
        email = f"sf{n}.{tag}@latency.example"
        wanted["salesforce"].append((sf.create("Account", {"RecordTypeId": person_type, "FirstName": "Sales",
                                                           "LastName": f"Start{n}", "PersonEmail": email}),
                                     lambda e=email: ac.find(e)))
    say(f"Made {args.pool} records in each of HubSpot, ActiveCampaign and Salesforce; waiting for them in the other system")
    deadline = time.monotonic() + 180
    pairs: dict[str, list[tuple[str, str]]] = {}
    while True:
        pairs = {side: [(made, found()) for made, found in rows] for side, rows in wanted.items()}
        missing = {side: sum(partner is None for _, partner in rows) for side, rows in pairs.items()}
        if not any(missing.values()):
            return pairs
        if time.monotonic() > deadline:
            raise SystemExit(f"The records made for the measurement did not all arrive within 3 minutes: missing {missing}.")
        time.sleep(0.5)


class Watcher(threading.Thread):
    """Reads the target's table for the changes on their way, every ``POLL_SECONDS``, in a
    thread of its own: a write that waits for the vendor's rate limit delays no arrival."""

    def __init__(self, arrived, timeout: float):
        super().__init__(name="latency-watcher", daemon=True)
        self.arrived, self.timeout = arrived, timeout
        self.pending: list[Change] = []
        self.lock = threading.Lock()
        self.done = threading.Event()

    def add(self, change: Change) -> None:
        with self.lock:
            self.pending.append(change)

    def busy(self, record: str | None = None) -> bool:
        with self.lock:
            return any(record is None or c.record == record for c in self.pending)

    def run(self) -> None:
        from django.db import connections

        try:
            while not self.done.is_set():
                with self.lock:
                    pending = list(self.pending)
                for change in pending:
                    value, now = self.arrived(change.partner), time.time()
                    if value == change.value or now - change.sent > self.timeout:
                        change.seen = now if value == change.value else None
                        with self.lock:
                            self.pending.remove(change)
                time.sleep(POLL_SECONDS)
        finally:
            connections.close_all()  # this thread's


def measure(args, direction: Direction, rng: random.Random, worker_logs: list[str]) -> Result:
    """``args.changes`` changes, ``args.gap`` seconds apart; every arrival timed."""
    from django.db import close_old_connections

    from syncconfig.models import SyncRun

    offsets = [os.path.getsize(path) for path in worker_logs]
    changes: list[Change] = []
    watcher = Watcher(direction.arrived, args.timeout)
    watcher.start()
    say(f"{direction.label}: {args.changes} changes")
    try:
        for n in range(args.changes):
            while not (free := [pair for pair in direction.pairs if not watcher.busy(pair[0])]):
                time.sleep(POLL_SECONDS)
            record, partner = rng.choice(free)
            change = Change(n, record, partner, f"Lat{n}-{rng.randrange(16 ** 6):06x}")
            change.sent = direction.rename(record, change.value)
            changes.append(change)
            watcher.add(change)
            time.sleep(rng.uniform(*args.gap))
        while watcher.busy():
            time.sleep(POLL_SECONDS)
    finally:
        watcher.done.set()
        watcher.join()
    # The runs the last changes caused (their echoes too) end before the next direction starts.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        close_old_connections()
        if not direction.sync.runs.filter(status__in=[SyncRun.Status.QUEUED, SyncRun.Status.RUNNING]).exists():
            break
        time.sleep(0.5)
    result = Result(direction, changes)
    for path, offset in zip(worker_logs, offsets):
        with open(path, errors="replace") as log:
            log.seek(offset)
            result.runs += [(int(m[1]), m[3]) for m in RUN_ENDED.finditer(log.read()) if int(m[2]) == direction.sync.pk]
    result.kept = {run.pk: run for run in SyncRun.objects.filter(pk__in=[pk for pk, _ in result.runs])}
    arrived = [c.seen - c.sent for c in changes if c.seen is not None]
    say(f"{direction.label}: {len(arrived)}/{len(changes)} arrived, p50 {percentile(arrived, 50):.2f} s, "
        f"max {max(arrived, default=0):.2f} s")
    return result


def percentile(values: list[float], p: float) -> float:
    """Nearest rank; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def carrier(result: Result, change: Change):
    """The kept run that wrote ``change`` to its target (its changes name the partner and the
    new value), or None."""
    for run in sorted(result.kept.values(), key=lambda r: r.pk):
        if any(entry.get("partner") == change.partner and change.value in str(entry.get("fields")) for entry in run.changes or []):
            return run
    return None


def report(args, results: list[Result], stack: str, wall: float) -> bool:
    print()
    print(f"Immediate latency: {args.changes} changes per direction, {args.gap[0]:g}–{args.gap[1]:g} s apart, seed {args.seed}, "
          f"{stack}, {args.workers} worker(s); wall {wall / 60:.1f} min")
    head = ("integration", "direction", "trigger", "changes", "arrived", "p50 s", "p95 s", "max s", "runs/change",
            "changed nothing/change", "carried by", "API calls/change (source, target of the sync)")
    print(" | ".join(head))
    print(" | ".join("---" for _ in head))
    bad = False
    for r in results:
        times = [c.seen - c.sent for c in r.changes if c.seen is not None]
        n = len(r.changes)
        idle = sum(1 for pk, _ in r.runs if pk not in r.kept or not (r.kept[pk].created_count or r.kept[pk].updated_count))
        calls = [sum(getattr(run, f"{side}_api_calls") for run in r.kept.values()) / n for side in ("source", "target")]
        sync = r.direction.sync
        print(" | ".join(str(v) for v in (
            r.direction.integration, r.direction.label, r.direction.trigger, n, len(times), f"{percentile(times, 50):.2f}",
            f"{percentile(times, 95):.2f}", f"{max(times, default=math.nan):.2f}", f"{len(r.runs) / n:.2f}", f"{idle / n:.2f}",
            ", ".join(f"{cause} {count}" for cause, count in Counter(
                getattr(carrier(r, c), "cause", "?") for c in r.changes).most_common()),
            f"{sync.source.kind} {calls[0]:.1f}, {sync.target.kind} {calls[1]:.1f}")))
        bad |= len(times) < n
    print()
    for r in results:
        slowest = sorted(r.changes, key=lambda c: -(c.seen - c.sent if c.seen else math.inf))[:3]
        notes = []
        for c in slowest:
            run = carrier(r, c)
            took = f"{c.seen - c.sent:.2f} s" if c.seen else "never"
            if run is None:
                notes.append(f"{took} (no kept run names it)")
                continue
            ended = f"{run.finished_at.timestamp() - c.sent:+.2f} s" if run.finished_at else "not yet"
            notes.append(f"{took} (run {run.pk}, {run.cause}, queued {run.started_at.timestamp() - c.sent:+.2f} s, ended {ended})")
        print(f"{r.direction.label}, slowest: {'; '.join(notes)}")
    for r in results:
        lost = [c for c in r.changes if c.seen is None]
        if lost:
            print(f"{r.direction.label}: {len(lost)} changes not there after {args.timeout:g} s, e.g. "
                  f"{[(c.record, c.value) for c in lost[:5]]}")
    return bad


# --- main -------------------------------------------------------------------------------------------
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=50, help="changes per direction")
    parser.add_argument("--gap", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"),
                        help="seconds between two changes (drawn at random)")
    parser.add_argument("--pool", type=int, default=10, help="records per integration the changes are made on")
    parser.add_argument("--timeout", type=float, default=60, help="seconds after which a change counts as not arrived")
    parser.add_argument("--workers", type=int, default=1, help="Celery workers (make run starts one)")
    parser.add_argument("--sqlite", action="store_true", help="make run's stack: SQLite and the filesystem broker")
    parser.add_argument("--only", nargs="*", default=(), help="measure only these directions, e.g. hs-sf sf-hs ac-sf sf-ac")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs) after the run")
    args = parser.parse_args(argv)

    def stop(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, stop)  # tear down on a plain kill too
    if not args.sqlite:
        ensure_packages()
    workdir = tempfile.mkdtemp(prefix="portal-latency-")
    os.chmod(workdir, 0o755)
    say(f"Work folder {workdir}")
    wall = time.monotonic()
    try:
        with contextlib.ExitStack() as stack:
            if args.sqlite:
                database_url, broker_url, label = f"sqlite:///{workdir}/portal.sqlite3", "", "SQLite + filesystem broker"
            else:
                database_url = stack.enter_context(postgres(workdir))
                broker_url, label = stack.enter_context(redis(workdir)), "PostgreSQL + Redis"
            from cryptography.fernet import Fernet

            web_port, sandbox_port = _free_port(), _free_port()
            # .env.example's values, so that the checkout's own .env changes nothing here.
            env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", "DATABASE_URL": database_url,
                   "CELERY_BROKER_URL": broker_url, "SECRET_KEY": "latency-only",
                   "CREDENTIALS_KEYS": Fernet.generate_key().decode(), "VAR_DIR": os.path.join(workdir, "var"),
                   "WEB_PORT": str(web_port), "SANDBOX_PORT": str(sandbox_port), "PORTAL_URL": f"http://127.0.0.1:{web_port}",
                   "SANDBOX_URL": f"http://127.0.0.1:{sandbox_port}", "SANDBOX_DEMO": "true", "ALLOWED_HOSTS": "127.0.0.1,localhost",
                   "DEBUG": "false", "CONN_MAX_AGE": "60", "TIME_ZONE": "UTC", "LOG_LEVEL": "INFO",
                   "CELERY_TASK_ALWAYS_EAGER": "false", "BEHIND_TLS_PROXY": "false", "SECURE_SSL_REDIRECT": "false"}
            os.environ.update({**env, "LOG_LEVEL": "WARNING"})
            sys.path.insert(0, str(ROOT))
            import django

            django.setup()
            from django.core.management import call_command

            say(f"Migrating and setting up the demo ({label})")
            call_command("migrate", verbosity=0)
            with open(os.path.join(workdir, "bootstrap.log"), "w") as out:
                call_command("bootstrap", stdout=out)
            procs = Processes(env, workdir)
            stack.callback(procs.stop_all)
            worker_logs = start_portal(procs, env, args.workers)
            wait_for_http(f"{env['SANDBOX_URL']}/services/data/")
            wait_for_http(f"{env['PORTAL_URL']}/healthz")
            say("Processes up; waiting for the webhooks and the demo syncs' first runs")
            wait_until_ready(600)
            results = run_directions(args, worker_logs)
            bad = report(args, results, label, time.monotonic() - wall)
            return 1 if bad else 0
    finally:
        if args.keep:
            say(f"Logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def run_directions(args, worker_logs: list[str]) -> list[Result]:
    import requests

    from portal.demo import DEMO_ACTIVECAMPAIGN, DEMO_HUBSPOT, DEMO_HUBSPOT_SYNC, DEMO_PERSON_ACCOUNT_SYNC, DEMO_SALESFORCE
    from syncconfig.models import Connection, Sync

    session = requests.Session()
    session.trust_env = False  # straight to the sandbox, no proxy
    systems = {"hubspot": HubSpot(Connection.objects.get(name=DEMO_HUBSPOT), session),
               "activecampaign": ActiveCampaign(Connection.objects.get(name=DEMO_ACTIVECAMPAIGN), session),
               "salesforce": Salesforce(Connection.objects.get(name=DEMO_SALESFORCE), session)}
    hub, ac, sf = systems["hubspot"], systems["activecampaign"], systems["salesforce"]
    started = time.monotonic()
    pairs = make_pairs(args, systems)
    say(f"All there after {time.monotonic() - started:.1f} s")
    hs_sync = Sync.objects.select_related("source", "target").get(name=DEMO_HUBSPOT_SYNC)
    ac_sync = Sync.objects.select_related("source", "target").get(name=DEMO_PERSON_ACCOUNT_SYNC)
    hs_name, ac_name = "HubSpot ⇄ Salesforce", "ActiveCampaign ⇄ Salesforce"
    directions = {
        "hs-sf": Direction(hs_name, "HubSpot → Salesforce", "webhook", hs_sync, pairs["hubspot"], hub.rename,
                           lambda i: sf.last_name("Contact", i)),
        "sf-hs": Direction(hs_name, "Salesforce → HubSpot", "poll", hs_sync, [(s, h) for h, s in pairs["hubspot"]],
                           lambda i, v: sf.rename("Contact", i, v), hub.last_name),
        "ac-sf": Direction(ac_name, "ActiveCampaign → Salesforce", "webhook", ac_sync, pairs["activecampaign"], ac.rename,
                           lambda i: sf.last_name("Account", i)),
        "sf-ac": Direction(ac_name, "Salesforce → ActiveCampaign", "poll", ac_sync, pairs["salesforce"],
                           lambda i, v: sf.rename("Account", i, v), ac.last_name),
    }
    rng = random.Random(args.seed)
    return [measure(args, d, rng, worker_logs) for key, d in directions.items() if not args.only or key in args.only]


if __name__ == "__main__":
    sys.exit(main())
