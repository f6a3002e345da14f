"""Duplicate-matching benchmark: quality against known truth and speed at scale.

    .venv/bin/python -m bench.matcher [--sizes 2000 100000] [--seed 1] [--csv 100000]

For each size, synthetic contacts (bench/synthetic.py: duplicates with nicknames, typos,
initials, other emails and formats; households, colleagues and namesakes as hard negatives)
go through the matcher (normalise, block, score, group) and through the Fellegi–Sunter
baseline (bench/baseline.py) on the same candidate pairs. Reported per method: pairwise
precision, recall and F1 against the truth, wall time and peak memory. Ours is scored on its
final groups (every pair inside a group counts as predicted); the baseline on its pairs above
the threshold that gives it the best F1, once with m/u estimated by EM (what it would do
for real) and once with m/u counted from the truth (the most its model can do).

Each measurement runs in a forked process so that peak memory (the growth of the resident
set over the run) is its own; the matcher's worker processes are not included in it, but
their CPU time is. On a busy machine wall time exceeds CPU time; the CPU column says what
the work costs. ``--csv N``
also runs ``manage.py dedupe_csv`` end to end on a generated N-row file.

The sets know one person in ten without email or phone (``NO_CONTACT_SHARE``);
``--bare-sizes N`` adds sets that know nobody's (trade-show leads, imports from systems that
keep neither): matched on name, company and address alone.
"""
from __future__ import annotations

import argparse
import csv
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.harness import ROOT
from bench.synthetic import generate_dataset, true_pairs

COLUMNS = ["id", "first_name", "last_name", "email", "phone", "company", "street", "city", "postcode", "country"]


def _rss_kib() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def in_child(action, *args):
    """(result, wall seconds, CPU seconds including worker processes, peak growth in bytes of
    the resident set) of ``action(*args)``, run in a forked process."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)

    def child():
        start = _rss_kib()
        started = time.perf_counter()
        result = action(*args)
        seconds = time.perf_counter() - started
        cpu = sum(getattr(resource.getrusage(who), field) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
                  for field in ("ru_utime", "ru_stime"))
        send.send((result, seconds, cpu, max(0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - start) * 1024))

    process = context.Process(target=child)
    process.start()
    outcome = receive.recv()
    process.join()
    return outcome


def scores(predicted: set, truth: set) -> tuple[float, float, float]:
    hits = len(predicted & truth)
    precision = hits / len(predicted) if predicted else 0.0
    recall = hits / len(truth) if truth else 0.0
    return precision, recall, (2 * precision * recall / (precision + recall) if precision + recall else 0.0)


def pairs_of(labels: list[int]) -> set[tuple[int, int]]:
    members: dict[int, list[int]] = {}
    for position, label in enumerate(labels):
        members.setdefault(label, []).append(position)
    return {(a, b) for group in members.values() for i, a in enumerate(group) for b in group[i + 1:]}


def ours(records: list[dict], workers: int | None) -> set[tuple[int, int]]:
    from dedupe.matching import Matcher

    position = {record["id"]: i for i, record in enumerate(records)}
    predicted = set()
    for group in Matcher(workers=workers).groups(records, explain=False):
        members = sorted(position[i] for i in group.ids)
        predicted.update((a, b) for k, a in enumerate(members) for b in members[k + 1:])
    return predicted


def baseline(records: list[dict], truth: set) -> dict:
    from bench import baseline as fellegi_sunter
    from dedupe.normalize import normalize_person

    return fellegi_sunter.run([normalize_person(r) for r in records], truth)


# The share of people the main sets know without email or phone (trade-show leads, imports
# from systems that keep neither); the bare sets know everybody so.
NO_CONTACT_SHARE = 0.1


def dataset(n: int, seed: int, *, bare: bool = False):
    return generate_dataset(n, seed=seed, no_contact_share=1.0 if bare else NO_CONTACT_SHARE)


def bench_size(n: int, seed: int, workers: int | None, with_baseline: bool, *, bare: bool = False) -> list[tuple]:
    data = dataset(n, seed, bare=bare)
    truth = true_pairs(data.truth)
    records = data.records
    suffix = ", no email/phone" if bare else ""
    rows = []
    predicted, seconds, cpu, peak = in_child(ours, records, workers)
    rows.append(("ours" + suffix, n, len(truth), *scores(predicted, truth), seconds, cpu, peak))
    if with_baseline:
        result, seconds, cpu, peak = in_child(baseline, records, truth)
        for name, label in (("em", "F-S, EM m/u"), ("oracle", "F-S, true m/u")):
            r = result[name]
            rows.append((label + suffix, n, len(truth), r["precision"], r["recall"], r["f1"], seconds, cpu, peak))
    return rows


def bench_csv(n: int, seed: int) -> tuple:
    data = dataset(n, seed)
    truth = true_pairs(data.truth)
    with tempfile.TemporaryDirectory(prefix="dedupe-bench-") as workdir:
        source, target = Path(workdir) / "people.csv", Path(workdir) / "clusters.csv"
        with source.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, COLUMNS, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(data.records)
        del data.records[:]
        from cryptography.fernet import Fernet

        # The settings refuse to load without a credentials key, though dedupe_csv uses none.
        env = {**os.environ, "VAR_DIR": workdir, "DJANGO_SETTINGS_MODULE": "portal.settings",
               "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only"),
               "CREDENTIALS_KEYS": os.environ.get("CREDENTIALS_KEYS") or Fernet.generate_key().decode()}
        errors = Path(workdir) / "stderr.txt"
        started = time.perf_counter()
        with errors.open("w") as stderr:
            process = subprocess.Popen([sys.executable, "manage.py", "dedupe_csv", str(source), str(target)], cwd=ROOT, env=env,
                                       stderr=stderr)
            _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            last = (errors.read_text().strip().splitlines() or [""])[-1]
            raise SystemExit(f"dedupe_csv failed on {n:,} rows: {last}")
        with target.open(newline="") as handle:
            labels = [int(row["cluster_id"]) for row in csv.DictReader(handle)]
    if len(labels) != n:
        raise SystemExit(f"dedupe_csv wrote {len(labels):,} rows for {n:,}.")
    cpu = usage.ru_utime + usage.ru_stime  # the command and the workers it waited for
    return ("dedupe_csv", n, len(truth), *scores(pairs_of(labels), truth), seconds, cpu, usage.ru_maxrss * 1024)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[2_000, 100_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None, help="matcher processes (default: up to 2 from 20k records)")
    parser.add_argument("--baseline-up-to", type=int, default=100_000, help="skip the baseline above this size")
    parser.add_argument("--csv", type=int, nargs="*", default=[], metavar="ROWS",
                        help="also run dedupe_csv end to end on generated files of these sizes (e.g. 100000 1000000)")
    parser.add_argument("--bare-sizes", type=int, nargs="*", default=[2_000], metavar="ROWS",
                        help="also match sets of these sizes with every email and phone removed")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    print(f"seed {args.seed}: python -m bench.matcher {' '.join(argv if argv is not None else sys.argv[1:])}", flush=True)
    rows = []
    for n in args.sizes:
        rows += bench_size(n, args.seed, args.workers, n <= args.baseline_up_to)
        _print(rows[-3:] if n <= args.baseline_up_to else rows[-1:], header=len(rows) <= 3)
    for n in args.bare_sizes:
        rows += bench_size(n, args.seed, args.workers, n <= args.baseline_up_to, bare=True)
        _print(rows[-3:] if n <= args.baseline_up_to else rows[-1:], header=not args.sizes and len(rows) <= 3)
    for n in args.csv:
        rows.append(bench_csv(n, args.seed))
        _print(rows[-1:], header=len(rows) == 1)
    print()
    _print(rows, header=True)
    return 0


def _print(rows: list[tuple], *, header: bool) -> None:
    """Rows as they are measured (a long run shows its progress), and the whole table at the end."""
    if header:
        print(f"{'method':<28} {'records':>9} {'true pairs':>10} {'precision':>9} {'recall':>7} {'F1':>6} {'wall s':>7} {'CPU s':>6} {'peak MiB':>8}")
    for label, n, true, precision, recall, f1, seconds, cpu, peak in rows:
        print(f"{label:<28} {n:>9,} {true:>10,} {precision:>9.3f} {recall:>7.3f} {f1:>6.3f} {seconds:>7.1f} {cpu:>6.1f} {peak / 2**20:>8.1f}",
              flush=True)


if __name__ == "__main__":
    sys.exit(main())
