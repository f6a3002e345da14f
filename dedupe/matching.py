"""Duplicate matching for person records: normalise → block → score → group.

    matcher = Matcher(MatchRules(exact_keys=("email", "customer_id")))
    for pair in matcher.pairs(records): ...          # ScoredPair(a_id, b_id, score, evidence)
    for group in matcher.groups(records): ...        # Group(ids, confidence, pairs)

    index = MatchIndex(rules)                        # incremental: keep it, feed it changes
    index.load(existing_records)                     # held, not compared again
    new_pairs = index.add(changed_records)           # compares the changes with everything

Records are plain dicts (see ``dedupe.normalize.normalize_person``) or already normalised
``NormalizedPerson`` objects; a record's ``source`` is passed through untouched. Nothing here
touches the database.
"""
from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Iterator
from dataclasses import replace

from dedupe.blocking import BlockIndex
from dedupe.clustering import Group, cluster
from dedupe.frequencies import NameFrequencies
from dedupe.normalize import NormalizedPerson, normalize_person
from dedupe.scoring import MatchRules, ScoredPair, Scorer

__all__ = ["Group", "MatchIndex", "MatchRules", "Matcher", "NameFrequencies", "NormalizedPerson", "ScoredPair",
           "normalize_person"]

# Below this many new records a second process costs more (start-up, copying results back)
# than it saves.
PARALLEL_FROM = 20_000


class MatchIndex:
    """Normalised records plus their blocks, kept so that new or changed records can be
    matched against everything without rescanning all pairs.

    ``add`` returns the matching pairs that involve the records it was given. How much a
    shared name or email counts depends on how common it is among all records held (see
    ``dedupe.frequencies``), counted as records arrive; ``frequencies`` hands in counts made
    elsewhere instead (a sub-population scored with the whole population's counts), which the
    index then reads but does not change. With the same counts, the pairs found by successive
    ``add`` calls are the pairs ``Matcher.pairs`` finds for all the records at once, in the
    same order."""

    def __init__(self, rules: MatchRules | None = None, *, workers: int | None = None,
                 frequencies: NameFrequencies | None = None):
        self.rules = rules or MatchRules()
        self.counts_own = frequencies is None
        self.frequencies = NameFrequencies() if frequencies is None else frequencies
        self.scorer = Scorer(self.rules, self.frequencies)
        self.workers = workers
        self.people: list[NormalizedPerson | None] = []
        self.positions: dict[str, int] = {}
        self.blocks = BlockIndex(self.rules.max_block)
        self.edges: dict[tuple[int, int], float] = {}

    def __len__(self) -> int:
        return len(self.positions)

    def __contains__(self, record_id: str) -> bool:
        return record_id in self.positions

    def normalize(self, record, position: int) -> NormalizedPerson:
        if isinstance(record, NormalizedPerson):
            return record if record.id else replace(record, id=str(position))
        return normalize_person(record, default_region=self.rules.default_region, key_fields=self.rules.custom_keys,
                                record_id=position, birth_date_field=self.rules.birth_date)

    def load(self, records: Iterable) -> int:
        """Hold records already matched among themselves (e.g. everyone unchanged since the
        last run) without comparing them again: only later ``add`` calls are compared with
        them. Returns how many records were taken."""
        start = self._take(records)
        return len(self.people) - start

    def add(self, records: Iterable) -> list[ScoredPair]:
        """Add new records, or replace changed ones (same id), and return the matching pairs
        among them and with every record already held."""
        start = self._take(records)
        found = _match(self, start, len(self.people), self.workers)
        self.edges.update(((j, i), logit) for j, i, logit in found)
        explain = self.scorer.explain
        return [explain(self.people[j], self.people[i]) for j, i, _ in found]

    def _take(self, records: Iterable) -> int:
        start = len(self.people)
        replaced = set()
        for person in _normalize_all(self, records, start):
            old = self.positions.get(person.id)
            if old is not None:
                self._uncount(self.people[old])
                self.people[old] = None
                replaced.add(old)
            if self.counts_own:
                self.frequencies.add(person)
            self.positions[person.id] = len(self.people)
            self.people.append(person)
            self.blocks.add(len(self.people) - 1, person)
        self._forget(replaced)
        return start

    def remove(self, ids: Iterable[str]) -> None:
        """Forget records (deleted or merged away)."""
        gone = {self.positions.pop(record_id) for record_id in ids if record_id in self.positions}
        for position in gone:
            self._uncount(self.people[position])
            self.people[position] = None
        self._forget(gone)

    def _uncount(self, person: NormalizedPerson | None) -> None:
        if self.counts_own and person is not None:
            self.frequencies.remove(person)

    def _forget(self, positions: set[int]) -> None:
        # The positions stay in their blocks (lists are append-only); empty slots are skipped.
        if positions:
            self.edges = {pair: logit for pair, logit in self.edges.items()
                          if pair[0] not in positions and pair[1] not in positions}

    def pairs(self) -> list[ScoredPair]:
        """Every matching pair among the records held, with evidence."""
        return [self.scorer.explain(self.people[j], self.people[i]) for (j, i) in sorted(self.edges, key=lambda p: (p[1], p[0]))]

    def groups(self, *, explain: bool = True, refused=()) -> list[Group]:
        """Duplicate groups among the records held, most certain first; no group holds both
        records of a ``refused`` pair of ids (people said they are two)."""
        positions_of = self.positions
        refused_positions = {tuple(sorted((positions_of[a], positions_of[b]))) for a, b in refused
                             if a in positions_of and b in positions_of}
        groups = []
        for positions, confidence, pairs in cluster(self.people, self.edges, self.scorer, explain=explain,
                                                     refused=frozenset(refused_positions)):
            members = [self.people[p] for p in positions]
            groups.append(Group(tuple(m.id for m in members), confidence, pairs, tuple(m.source for m in members)))
        groups.sort(key=lambda g: (-g.confidence, g.ids))
        return groups

    def cluster_positions(self) -> list[int]:
        """For each position, the first position of its group (itself when it has none)."""
        labels = list(range(len(self.people)))
        for positions, _, _ in cluster(self.people, self.edges, self.scorer, explain=False):
            for p in positions:
                labels[p] = positions[0]
        return labels


class Matcher:
    """Batch matching of a whole set of records under one set of rules."""

    def __init__(self, rules: MatchRules | None = None, *, workers: int | None = None):
        self.rules = rules or MatchRules()
        self.workers = workers

    def index(self, records: Iterable) -> MatchIndex:
        index = MatchIndex(self.rules, workers=self.workers)
        index.add(records)
        return index

    def pairs(self, records: Iterable) -> Iterator[ScoredPair]:
        """Every pair of records scoring at least the rules' threshold, with its evidence."""
        index = MatchIndex(self.rules, workers=self.workers)
        yield from index.add(records)

    def groups(self, records: Iterable, *, explain: bool = True) -> list[Group]:
        """Duplicate groups (two or more records each), most certain first."""
        return self.index(records).groups(explain=explain)


def _workers(workers: int | None, size: int) -> int:
    """How many processes score: one inside a worker's pool process, which is daemonic and may
    have no children of its own (a Celery worker's), else up to two for large populations."""
    if multiprocessing.current_process().daemon:
        return 1
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if size >= PARALLEL_FROM else 1
    return workers if workers > 1 and "fork" in multiprocessing.get_all_start_methods() else 1


def _normalize_all(index: MatchIndex, records: Iterable, start: int) -> Iterator[NormalizedPerson]:
    """The records normalised, in order; a long list is shared out between processes."""
    workers = _workers(index.workers, len(records)) if isinstance(records, list) else 1
    if workers == 1:
        for offset, record in enumerate(records):
            yield index.normalize(record, start + offset)
        return
    global _SHARED
    _SHARED = (index, records)
    try:
        size = -(-len(records) // workers)
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            parts = pool.starmap(_normalize_shared, [(a, min(a + size, len(records)), start) for a in range(0, len(records), size)])
    finally:
        _SHARED = None
    for part in parts:
        yield from part


def _normalize_shared(begin, end, start):
    index, records = _SHARED
    return [index.normalize(records[k], start + k) for k in range(begin, end)]


def _match(index: MatchIndex, start: int, stop: int, workers: int | None) -> list[tuple[int, int, float]]:
    """(earlier position, position, log-odds) of each matching pair whose later member lies in
    [start, stop), ordered by that later position."""
    workers = _workers(workers, stop - start)
    if workers == 1:
        found = _match_slice(index, start, stop, 0, 1)
        found.sort(key=lambda t: (t[1], t[0]))
        return found
    global _SHARED
    _SHARED = index
    try:
        # Forked workers see the index as it is now, without copying it through a pipe.
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            parts = pool.starmap(_match_shared, [(start, stop, w, workers) for w in range(workers)])
    finally:
        _SHARED = None
    found = [pair for part in parts for pair in part]
    found.sort(key=lambda t: (t[1], t[0]))
    return found


_SHARED = None


def _match_shared(start, stop, offset, step):
    return _match_slice(_SHARED, start, stop, offset, step)


def _match_slice(index: MatchIndex, start: int, stop: int, offset: int, step: int) -> list[tuple[int, int, float]]:
    people, candidates_of = index.people, index.blocks.earlier_candidates
    logit_of, threshold = index.scorer.logit, index.rules.threshold_logit
    found = []
    for i in range(start + offset, stop, step):
        person = people[i]
        if person is None:
            continue
        for j in candidates_of(i, person):
            other = people[j]
            if other is not None:
                logit = logit_of(other, person)
                if logit >= threshold:
                    found.append((j, i, logit))
    return found
