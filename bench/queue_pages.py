"""How fast the pages people use answer on PostgreSQL with production-sized tables.

    python -m bench.queue_pages [--groups 100000] [--runs 1000000] [--requests 40]

Fills a throw-away PostgreSQL database (see ``bench.pg``) with ``--groups`` duplicate groups
(two to four members each, with their people) and ``--runs`` sync runs, then requests each
page through the whole Django stack (middleware, sessions, templates) as a signed-in sales-ops
user and prints the first (cold) answer and p50 / p95 / max per page. The targets: p95 < 200 ms
for every page with 100k groups and 1M runs; < 100 ms for the dashboard, the sync page with its
charts and a run page with 10M runs (``--runs 10000000``: the runs are written by the database,
about a minute a million).
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta

from .harness import ROOT
from .pg import postgres_url

BATCH = 5000


def setup_django(database_url: str, workdir: str) -> None:
    from cryptography.fernet import Fernet

    os.environ.update({
        "VAR_DIR": workdir, "DATABASE_URL": database_url, "SECRET_KEY": "bench-only", "DEBUG": "false",
        "CREDENTIALS_KEYS": Fernet.generate_key().decode(), "DJANGO_SETTINGS_MODULE": "portal.settings",
        "LOG_LEVEL": "WARNING", "ALLOWED_HOSTS": "testserver,localhost", "CELERY_TASK_ALWAYS_EAGER": "false",
    })
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)


FIRST = ("Anna", "Jan", "Jane", "Piotr", "Marie", "Thomas", "Zofia", "Laura", "Felix", "Emma", "David", "Hannah")
LAST = ("Müller", "Nowak", "Francis", "Becker", "Schmidt", "Kowalski", "Smith", "Weber", "Wagner", "Taylor")


def fill(groups: int, runs: int) -> dict:
    from dedupe.models import DuplicateGroup, DuplicateMember, Person
    from syncconfig.models import Connection, Sync, SyncRun

    rng = random.Random(7)
    salesforce = Connection.objects.create(name="Bench org", kind="salesforce", base_url="https://example.my.salesforce.com")
    hubspot = Connection.objects.create(name="Bench hub", kind="hubspot", base_url="https://api.hubapi.com")
    sync = Sync.objects.create(name="Bench sync", source=hubspot, source_object="contacts", target=salesforce, target_object="Contact")
    started = time.perf_counter()
    kinds = [DuplicateGroup.Kind.SAME_EMAIL, DuplicateGroup.Kind.DIFFERENT_EMAIL, DuplicateGroup.Kind.LEAD_CONTACT]
    made = 0
    while made < groups:
        n = min(BATCH, groups - made)
        rows, people = [], []
        for i in range(made, made + n):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            size = rng.choice((2, 2, 2, 3, 4))
            rows.append(DuplicateGroup(
                object_name="Contact", size=size, confidence=round(rng.uniform(0.5, 1.0), 3), kind=rng.choice(kinds),
                systems="HubSpot, Salesforce", title=f"{first} {last}", fingerprint=f"bench-{i}",
                search_text=f"{first} {last} {first.lower()}.{last.lower()}{i}@example.com company {i}".lower(),
                evidence=[{"a": "x", "b": "y", "score": 0.9, "fields": {"email": ["exact", 1.0]}}],
                status=DuplicateGroup.Status.OPEN if rng.random() < 0.8 else DuplicateGroup.Status.MERGED,
            ))
            for m in range(size):
                connection = hubspot if m == size - 1 else salesforce
                people.append(Person(connection=connection, object_name="contacts" if connection is hubspot else "Contact",
                                     record_id=f"{i}-{m}", fields={"first_name": first, "last_name": last,
                                                                   "email": f"{first.lower()}.{last.lower()}{i}@example.com",
                                                                   "phone": f"+49 30 {i:07d}"}))
        created = DuplicateGroup.objects.bulk_create(rows)
        persons = Person.objects.bulk_create(people)
        members, p = [], 0
        for group in created:
            for m in range(group.size):
                person = persons[p]
                p += 1
                members.append(DuplicateMember(group=group, person=person, connection_id=person.connection_id,
                                               object_name=person.object_name, record_id=person.record_id,
                                               label=group.title, email=person.fields["email"], proposed_master=m == 0))
        DuplicateMember.objects.bulk_create(members)
        made += n
    groups_seconds = time.perf_counter() - started
    started = time.perf_counter()
    # Runs: half of them the viewed sync's (an immediate sync polled all year), the rest spread
    # over nine more syncs, as a busy portal holds them; written by the database itself.
    others = [Sync.objects.create(name=f"Bench sync {n}", source=hubspot, source_object="contacts", target=salesforce,
                                  target_object="Contact") for n in range(2, 11)]
    runs_fill(sync, runs // 2, days=365)
    for n, other in enumerate(others):
        runs_fill(other, (runs - runs // 2) // len(others) + (1 if n < (runs - runs // 2) % len(others) else 0), days=365)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"sync": sync, "groups_seconds": groups_seconds, "runs_seconds": time.perf_counter() - started}


def runs_fill(sync, count: int, *, days: int) -> None:
    """``count`` finished runs of ``sync`` over the last ``days`` days, newest now, with every
    column the model has (its defaults where the bench does not say), in one statement."""
    from django.db import connection
    from django.utils import timezone

    from syncconfig.models import SyncRun

    if count <= 0:
        return
    step = days * 86400 / count  # seconds between two runs
    given = {
        "sync_id": "%s",
        "trigger": "(ARRAY['immediate','immediate','immediate','periodic','manual','retry'])[1 + i %% 6]",
        "cause": "(ARRAY['poll','webhook','webhook','schedule','manual','retry'])[1 + i %% 6]",
        "status": "CASE WHEN i %% 97 = 0 THEN 'failed' WHEN i %% 13 = 0 THEN 'partial' ELSE 'succeeded' END",
        "started_at": "%s::timestamptz - make_interval(secs => (%s - i) * %s)",
        "finished_at": "%s::timestamptz - make_interval(secs => (%s - i) * %s - 1 - i %% 7)",
        "heartbeat_at": "%s::timestamptz - make_interval(secs => (%s - i) * %s - 1 - i %% 7)",
        "read_count": "3 + i %% 11", "created_count": "i %% 3", "updated_count": "3 + i %% 11 - i %% 3 - (i %% 13 = 0)::int",
        "failed_count": "(i %% 13 = 0)::int", "source_api_calls": "1 + i %% 4", "target_api_calls": "1 + i %% 3",
        "message": "CASE WHEN i %% 97 = 0 THEN 'The vendor answered 503 for a while.' ELSE '' END",
    }
    now = timezone.now()
    params_of = {"sync_id": [sync.pk], "started_at": [now, count, step], "finished_at": [now, count, step],
                 "heartbeat_at": [now, count, step]}
    columns, expressions, params = [], [], []
    for field in SyncRun._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.attname in given:
            expressions.append(given[field.attname])
            params += params_of.get(field.attname, [])
        else:
            expressions.append("%s")
            params.append(field.get_db_prep_save(field.get_default(), connection))
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {SyncRun._meta.db_table} ({', '.join(columns)}) "
                       f"SELECT {', '.join(expressions)} FROM generate_series(0, {count - 1}) AS i", params)


def timings(client, url: str, requests: int) -> tuple[float, list[float]]:
    """The first answer (cold: e.g. the charts sum their days of runs once) and ``requests`` more."""
    started = time.perf_counter()
    client.get(url)
    first = (time.perf_counter() - started) * 1000
    out = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        out.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
    return first, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--groups", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    with postgres_url() as url, tempfile.TemporaryDirectory(prefix="portal-bench-") as workdir:
        setup_django(url, workdir)
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group
        from django.test import Client

        from dedupe.models import DuplicateGroup
        from syncconfig import roles
        from syncconfig.models import SyncRun

        facts = fill(args.groups, args.runs)
        user = get_user_model().objects.create_user("ops", password="x", is_staff=True)
        user.groups.add(Group.objects.get(name=roles.SALES_OPS), Group.objects.get(name=roles.MARKETING_ADMIN))
        client = Client()
        client.force_login(user)
        sync = facts["sync"]
        group = DuplicateGroup.objects.filter(status=DuplicateGroup.Status.OPEN).order_by("?").first()
        deep = DuplicateGroup.objects.filter(status="open").order_by("-confidence", "-id")[args.groups // 2]
        run = SyncRun.objects.filter(sync=sync).order_by("-started_at").first()
        pages = [
            ("queue, first page", "/duplicates/"),
            ("queue, kind + confidence filter", "/duplicates/?kind=different_email&min_confidence=80"),
            ("queue, search", "/duplicates/?q=francis"),
            ("queue, deep page", f"/duplicates/?after={deep.confidence!r}_{deep.pk}"),
            ("group merge screen", f"/duplicates/{group.pk}/"),
            ("dashboard", "/"),
            (f"sync page with charts ({args.runs // 2:,} runs)", f"/syncs/{sync.pk}/"),
            ("run page", f"/runs/{run.pk}/"),
        ]
        print(f"PostgreSQL, {args.groups:,} duplicate groups and {args.runs:,} sync runs "
              f"(filled in {facts['groups_seconds']:.0f} s + {facts['runs_seconds']:.0f} s), {args.requests} requests per page")
        print(f"| {'page':<40} | {'first ms':>8} | {'p50 ms':>7} | {'p95 ms':>7} | {'max ms':>7} |")
        print(f"|{'-' * 42}|{'-' * 10}|{'-' * 9}|{'-' * 9}|{'-' * 9}|")
        for name, url_ in pages:
            first, t = timings(client, url_, args.requests)
            t.sort()
            p95 = t[min(len(t) - 1, int(round(0.95 * (len(t) - 1))))]
            print(f"| {name:<40} | {first:>8.1f} | {statistics.median(t):>7.1f} | {p95:>7.1f} | {t[-1]:>7.1f} |")


if __name__ == "__main__":
    main()
