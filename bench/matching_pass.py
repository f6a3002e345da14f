"""An incremental matching pass inside the portal with many people stored, on PostgreSQL.

    python -m bench.matching_pass [--people 1000000] [--changes 100] [--rounds 3] [--seed 1]

Stores ``--people`` generated contacts (bench/synthetic.py, one in ten without email or phone)
as the people a matching pass reads from Salesforce Contacts and HubSpot contacts, half each,
indexes them as a full pass does (``people_reindex``: normalised, blocking keys and name counts
into PersonKey), then ``--rounds`` times changes ``--changes`` of them (a new email, a typo in
the surname, a moved address, or a copy of another record: a new duplicate) and runs the
incremental pass on them (``groups_rebuild``), reporting its wall time, the people it read and
the groups it stored. The target: under 10 s after 100 changes with 1M people. The process
peak is the whole bench's: storing and indexing everyone (a full pass's work) set it, not the
incremental passes. No groups are stored before the rounds (a first pass over a million
would spend its time storing them); the rounds store those the changes make or touch.
"""
from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import tempfile
import time

from .pg import postgres_url
from .queue_pages import setup_django

BATCH = 5000


def fill(n: int, seed: int) -> list:
    from bench.matcher import dataset
    from dedupe.models import Person
    from syncconfig.models import Connection

    salesforce = Connection.objects.create(name="Bench org", kind="salesforce", base_url="https://example.my.salesforce.com")
    hubspot = Connection.objects.create(name="Bench hub", kind="hubspot", base_url="https://api.hubapi.com")
    records = dataset(n, seed).records
    fields = ("first_name", "last_name", "email", "phone", "company", "street", "city", "postcode", "country")
    for start in range(0, n, BATCH):
        rows = []
        for k in range(start, min(n, start + BATCH)):
            record = records[k]
            hub = k % 2 == 1
            rows.append(Person(connection=hubspot if hub else salesforce, object_name="contacts" if hub else "Contact",
                               record_id=str(k) if hub else f"003{k:015d}", fields={f: record.get(f, "") for f in fields}))
        Person.objects.bulk_create(rows)
    return records


def change(person, other, rng: random.Random) -> None:
    fields = dict(person.fields)
    roll = rng.random()
    if roll < 0.25:
        fields["email"] = f"new.{rng.randrange(10**6)}@example.com"
    elif roll < 0.5 and len(fields.get("last_name", "")) > 3:
        name = fields["last_name"]
        i = rng.randrange(1, len(name) - 1)
        fields["last_name"] = name[:i] + name[i + 1] + name[i] + name[i + 2:]
    elif roll < 0.75:
        fields.update(street=f"Neue Straße {rng.randrange(1, 99)}", city="Bremen", postcode="28195")
    else:
        fields = {**other.fields, "phone": ""}  # someone entered another person again
    person.fields = fields
    person.save(update_fields=["fields"])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    with postgres_url() as url, tempfile.TemporaryDirectory(prefix="portal-bench-") as workdir:
        setup_django(url, workdir)
        from django.db import connection

        from dedupe import services
        from dedupe.matching import MatchRules
        from dedupe.models import DuplicateGroup, Person, PersonKey

        started = time.perf_counter()
        fill(args.people, args.seed)
        stored = time.perf_counter() - started
        rules = MatchRules()
        started = time.perf_counter()
        services.people_reindex(rules=rules)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        indexed = time.perf_counter() - started
        print(f"seed {args.seed}: python -m bench.matching_pass {' '.join(argv if argv is not None else sys.argv[1:])}")
        print(f"{args.people:,} people stored in {stored:.0f} s, indexed in {indexed:.0f} s "
              f"({PersonKey.objects.count():,} keys)", flush=True)
        rng = random.Random(args.seed)
        pks = list(Person.objects.values_list("pk", flat=True))
        rows = []
        for round_ in range(1, args.rounds + 1):
            chosen = Person.objects.filter(pk__in=rng.sample(pks, args.changes)).select_related("connection")
            others = list(Person.objects.filter(pk__in=rng.sample(pks, args.changes)))
            keys = []
            for person, other in zip(chosen, others):
                change(person, other, rng)
                keys.append(person.key)
            started = time.perf_counter()
            groups = services.groups_rebuild(changed_keys=keys, rules=rules)
            seconds = time.perf_counter() - started
            rows.append((round_, len(keys), seconds, groups))
            print(f"round {round_}: {len(keys)} changed, pass {seconds:.2f} s, {groups} groups stored", flush=True)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print()
        print(f"{'people':>10} {'changed':>8} {'pass s (median)':>16} {'pass s (max)':>13} {'groups open':>12} {'process peak MiB':>17}")
        times = [r[2] for r in rows]
        print(f"{args.people:>10,} {args.changes:>8} {statistics.median(times):>16.2f} {max(times):>13.2f} "
              f"{DuplicateGroup.objects.filter(status='open').count():>12,} {peak:>17.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
