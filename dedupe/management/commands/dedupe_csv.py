"""Find duplicate people in a CSV file: ``manage.py dedupe_csv people.csv clusters.csv``.

Reads a header row and any of the columns id, first_name, last_name, email, phone, company,
street, city, postcode, country (other columns are ignored; without an id column the row
number is the id) and writes ``id,cluster_id`` for every row, in input order: rows that are
one person share a cluster id, every other row has one of its own. Rows are normalised as
they are read and only the compact normalised form is kept, so a million rows fit in memory
comfortably; the database is not used.
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

    def handle(self, *args, input, output, default_region, threshold, workers, **options):
        if not 0 < threshold < 1:
            raise CommandError("--threshold must lie between 0 and 1.")
        region = default_region.strip().upper()
        if len(region) != 2:
            raise CommandError("--default-region must be a two-letter country code such as DE or US.")
        rules = MatchRules(threshold=threshold, default_region=region)
        started = time.monotonic()
        ids, people = self._read(Path(input), region)
        index = MatchIndex(rules, workers=workers)
        index.add(people)
        labels = index.cluster_positions()
        self._write(output, ids, labels)
        groups = sum(1 for position, label in enumerate(labels) if label == position) if labels else 0
        self.stderr.write(f"{len(ids):,} rows, {len(ids) - groups:,} of them duplicates of another row, "
                          f"{time.monotonic() - started:.1f} s.")

    def _read(self, path: Path, region: str):
        if not path.is_file():
            raise CommandError(f"{path}: no such file.")
        ids: list[str] = []
        people = []
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            columns = [(position, name.strip().lower()) for position, name in enumerate(header or [])]
            known = [(position, name) for position, name in columns if name in KNOWN_FIELDS]
            if not known:
                raise CommandError(f"{path}: the header names none of the columns {', '.join(KNOWN_FIELDS)}.")
            id_column = next((position for position, name in known if name == "id"), None)
            fields = [(position, name) for position, name in known if name != "id"]
            for row_number, row in enumerate(reader, 1):
                if not row:
                    continue
                record = {name: row[position] for position, name in fields if position < len(row)}
                # Positions, not the file's ids, identify rows inside the index: an id that
                # occurs twice must still give two output rows.
                people.append(normalize_person(record, default_region=region, record_id=len(people)))
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
