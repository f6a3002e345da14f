"""Find duplicate people in a CSV file: ``manage.py dedupe_csv people.csv clusters.csv``.

Reads a header row with an id column and any of the columns first_name, last_name, email,
phone, company, street, city, postcode, country (other columns are ignored; a row with an
empty id gets its row number) and writes ``id,cluster_id`` for every row, in input order:
rows that are one person share a cluster id, every other row has one of its own. Rows are
normalised as they are read and only the compact normalised form is kept, so a million rows
fit in memory comfortably; the database is not used.

The matching configuration is the one *Matched objects* offers inside the portal:
``--exact-key customer_no`` (repeatable) names a column that identifies a person (equal
values are strong evidence for, different ones strong evidence against), and
``--birth-date dob`` a birth-date column (a typo apart, such as day and month swapped,
counts as nearly equal).
"""
from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from dedupe.matching import MatchIndex
from dedupe.normalize import KNOWN_FIELDS, normalize_person
from dedupe.scoring import MatchRules


class Command(BaseCommand):
    help = "Group duplicate people in a CSV file; writes id,cluster_id for every row."
    requires_system_checks = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument("input", help="CSV file with a header row")
        parser.add_argument("output", help="where to write id,cluster_id ('-' for standard output)")
        parser.add_argument("--default-region", default="DE",
                            help="country (ISO code) for phone numbers without a country code when the row has no country (default DE)")
        parser.add_argument("--threshold", type=float, default=MatchRules.threshold,
                            help="score from 0 to 1 at which two rows count as one person (default %(default)s)")
        parser.add_argument("--workers", type=int, default=None, help="processes for matching (default: up to 2 for large files)")
        parser.add_argument("--exact-key", action="append", default=[], metavar="COLUMN", dest="exact_keys",
                            help="a column that identifies a person, such as a customer number: equal values count "
                                 "strongly for one person, different ones strongly against (repeatable)")
        parser.add_argument("--birth-date", default="", metavar="COLUMN",
                            help="a column holding a birth date; a typo apart (day and month swapped, one digit) "
                                 "counts as nearly equal, any other date strongly against")

    def handle(self, *args, input, output, default_region, threshold, workers, exact_keys, birth_date, **options):
        if not 0 < threshold < 1:
            raise CommandError("--threshold must lie between 0 and 1.")
        region = default_region.strip().upper()
        if len(region) != 2:
            raise CommandError("--default-region must be a two-letter country code such as DE or US.")
        rules = _rules(threshold, region, exact_keys, birth_date)
        started = time.monotonic()
        ids, people = self._read(Path(input), rules)
        index = MatchIndex(rules, workers=workers)
        index.add(people)
        labels = index.cluster_positions()
        self._write(output, ids, labels)
        groups = sum(1 for position, label in enumerate(labels) if label == position) if labels else 0
        self.stderr.write(f"{len(ids):,} rows, {len(ids) - groups:,} of them duplicates of another row, "
                          f"{time.monotonic() - started:.1f} s.")

    def _read(self, path: Path, rules: MatchRules):
        if not path.is_file():
            raise CommandError(f"{path}: no such file.")
        ids: list[str] = []
        people = []
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if not header:
                raise CommandError(f"{path}: the file is empty; it needs a header row with an id column.")
            columns = [(position, name.strip().lower()) for position, name in enumerate(header or [])]
            known = [(position, name) for position, name in columns if name in _wanted(rules)]
            _check_columns(path, {name for _, name in known}, rules)
            id_column = next((position for position, name in known if name == "id"), None)
            fields = [(position, name) for position, name in known if name != "id"]
            for row_number, row in enumerate(reader, 1):
                if not row:
                    continue
                record = {name: row[position] for position, name in fields if position < len(row)}
                # Positions, not the file's ids, identify rows inside the index: an id that
                # occurs twice must still give two output rows.
                people.append(normalize_person(record, default_region=rules.default_region, key_fields=rules.custom_keys,
                                               record_id=len(people), birth_date_field=rules.birth_date))
                given = row[id_column].strip() if id_column is not None and id_column < len(row) else ""
                ids.append(given or str(row_number))
        return ids, people

    def _write(self, output: str, ids: list[str], labels: list[int]) -> None:
        try:
            handle = sys.stdout if output == "-" else open(output, "w", newline="", encoding="utf-8")
        except OSError as error:
            raise CommandError(f"{output}: cannot write ({error.strerror}).") from None
        try:
            writer = csv.writer(handle)
            writer.writerow(["id", "cluster_id"])
            for position, record_id in enumerate(ids):
                writer.writerow([record_id, labels[position] + 1])
        finally:
            if handle is not sys.stdout:
                handle.close()


def _column(name: str) -> str:
    return name.strip().lower()


def _rules(threshold: float, region: str, exact_keys: list[str], birth_date: str) -> MatchRules:
    keys = [_column(k) for k in exact_keys]
    if any(not k for k in keys) or birth_date and not _column(birth_date):
        raise CommandError("--exact-key and --birth-date need a column name.")
    if "id" in keys or _column(birth_date) == "id":
        raise CommandError("The id column names rows; it cannot be a matching key.")
    return MatchRules(exact_keys=tuple(dict.fromkeys(["email", *keys])), threshold=threshold, default_region=region,
                      birth_date=_column(birth_date))


def _wanted(rules: MatchRules) -> set[str]:
    return {*KNOWN_FIELDS, *rules.exact_keys, *([rules.birth_date] if rules.birth_date else [])}


def _check_columns(path: Path, present: set[str], rules: MatchRules) -> None:
    if not present - {"id"}:
        raise CommandError(f"{path}: the header names none of the columns {', '.join(KNOWN_FIELDS)}.")
    if "id" not in present:
        raise CommandError(f"{path}: the header has no id column; add one so that the output can name each row.")
    missing = [name for name in (*rules.custom_keys, rules.birth_date) if name and name not in present]
    if missing:
        raise CommandError(f"{path}: the header has no column {', '.join(missing)} (asked for by --exact-key or --birth-date).")
