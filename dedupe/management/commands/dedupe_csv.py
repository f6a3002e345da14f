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

A file it cannot read whole stops it with the line to look at, never with part of the file
read: text not in ``--encoding`` (UTF-8, with or without a byte-order mark, by default), a
quote opened and never closed, a field over the csv module's limit. ``--id-column`` names
another id column. Rows with another number of fields than the header, and ids given twice,
are counted and reported.
"""
from __future__ import annotations

import codecs
import csv
import sys
import time
from collections.abc import Iterator
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
        parser.add_argument("--encoding", default="utf-8",
                            help="the file's text encoding, e.g. latin-1 or cp1252 (default utf-8, with or without a byte-order mark)")
        parser.add_argument("--id-column", default="id", help="the column holding each row's id (default id)")
        parser.add_argument("--exact-key", action="append", default=[], metavar="COLUMN", dest="exact_keys",
                            help="a column that identifies a person, such as a customer number: equal values count "
                                 "strongly for one person, different ones strongly against (repeatable)")
        parser.add_argument("--birth-date", default="", metavar="COLUMN",
                            help="a column holding a birth date; a typo apart (day and month swapped, one digit) "
                                 "counts as nearly equal, any other date strongly against")

    def handle(self, *args, input, output, default_region, threshold, workers, exact_keys, birth_date, encoding="utf-8",
               id_column="id", **options):
        if not 0 < threshold < 1:
            raise CommandError("--threshold must lie between 0 and 1.")
        region = default_region.strip().upper()
        if len(region) != 2:
            raise CommandError("--default-region must be a two-letter country code such as DE or US.")
        rules = _rules(threshold, region, exact_keys, birth_date)
        started = time.monotonic()
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            raise CommandError(f"--encoding {encoding}: no such encoding (try utf-8, latin-1 or cp1252).") from None
        ids, people = self._read(Path(input), rules, encoding="utf-8-sig" if codec == "utf-8" else codec,
                                 id_name=id_column.strip().lower())
        index = MatchIndex(rules, workers=workers)
        index.add(people)
        labels = index.cluster_positions()
        self._write(output, ids, labels)
        groups = sum(1 for position, label in enumerate(labels) if label == position) if labels else 0
        self.stderr.write(f"{len(ids):,} rows, {len(ids) - groups:,} of them duplicates of another row, "
                          f"{time.monotonic() - started:.1f} s.")

    def _read(self, path: Path, rules: MatchRules, *, encoding: str = "utf-8-sig", id_name: str = "id"):
        if not path.is_file():
            raise CommandError(f"{path}: no such file.")
        ids: list[str] = []
        people = []
        ragged: list[int] = []  # lines of rows with another number of fields than the header
        with path.open("rb") as handle:
            # strict: a quote never closed is an error at the end of the file, not a last
            # field swallowing every line after it.
            reader = csv.reader(_lines(handle, path, encoding), strict=True)
            record_line = 1
            try:
                header = next(reader, None)
                if not header:
                    raise CommandError(f"{path}: the file is empty; it needs a header row with an id column.")
                columns = [(position, name.strip().lower()) for position, name in enumerate(header or [])]
                known = [(position, name) for position, name in columns if name in _wanted(rules) or name == id_name]
                id_column = next((position for position, name in known if name == id_name), None)
                if id_column is None and id_name != "id":
                    raise CommandError(f"{path}: the header has no column {id_name!r} (--id-column).")
                _check_columns(path, {"id" if name == id_name else name for _, name in known}, rules)
                fields = [(position, name) for position, name in known if name != id_name and name != "id"]
                record_line = reader.line_num + 1
                for row_number, row in enumerate(reader, 1):
                    if not row:
                        record_line = reader.line_num + 1
                        continue
                    if len(row) != len(columns):
                        ragged.append(record_line)
                    record = {name: row[position] for position, name in fields if position < len(row)}
                    # Positions, not the file's ids, identify rows inside the index: an id that
                    # occurs twice must still give two output rows.
                    people.append(normalize_person(record, default_region=rules.default_region, key_fields=rules.custom_keys,
                                                   record_id=len(people), birth_date_field=rules.birth_date))
                    given = row[id_column].strip() if id_column is not None and id_column < len(row) else ""
                    ids.append(given or str(row_number))
                    record_line = reader.line_num + 1
            except csv.Error as error:
                raise CommandError(_csv_problem(path, error, record_line, reader.line_num)) from None
        if ragged:
            self.stderr.write(f"{path}: {len(ragged):,} rows have another number of fields than the header "
                              f"(first on line {ragged[0]}); missing fields are read as empty, extra ones ignored.")
        repeated = len(ids) - len(set(ids))
        if repeated:
            self.stderr.write(f"{path}: {repeated:,} rows repeat an id of an earlier row; each still gets its own output row.")
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


def _lines(handle, path: Path, encoding: str) -> Iterator[str]:
    """The file's lines as text, decoded as they are read; undecodable bytes stop the command
    with their line and what to pass instead."""
    decoder = codecs.getincrementaldecoder(encoding)()
    number = 0
    for number, raw in enumerate(handle, 1):
        try:
            yield decoder.decode(raw)
        except UnicodeDecodeError as error:
            byte = raw[error.start:error.start + 1].hex()
            raise CommandError(
                f"{path}, line {number}: byte 0x{byte} is not {encoding.removesuffix('-sig')} text. Pass the encoding the file "
                "was saved in, e.g. --encoding latin-1 or --encoding cp1252 (spreadsheets on Windows).") from None
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise CommandError(f"{path}, line {number}: the file ends in the middle of a character; "
                           f"it is not {encoding.removesuffix('-sig')} text (see --encoding).") from None


def _csv_problem(path: Path, error: csv.Error, record_line: int, line: int) -> str:
    """What went wrong reading the record that starts on ``record_line`` (the reader was on ``line``)."""
    text = str(error)
    if "field larger than field limit" in text:
        limit = csv.field_size_limit()
        return (f"{path}, line {record_line}: a field is longer than {limit:,} characters (it runs to line {line} at "
                f"least). If a quote opened on line {record_line} is never closed, close it; otherwise shorten the field.")
    if "unexpected end of data" in text:
        return (f"{path}, line {record_line}: a quote opened in this row is never closed, so the field runs to the end "
                "of the file. Close the quote (or double it, \"\", where it is part of the text).")
    return f"{path}, line {line}: {text} (a quote inside a quoted field must be doubled, \"\")."


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
        raise CommandError(f"{path}: the header has no id column; add one so that the output can name each row "
                           "(or name it with --id-column).")
    missing = [name for name in (*rules.custom_keys, rules.birth_date) if name and name not in present]
    if missing:
        raise CommandError(f"{path}: the header has no column {', '.join(missing)} (asked for by --exact-key or --birth-date).")
