"""The yardstick for the matcher: classic probabilistic record linkage (Fellegi–Sunter).

Every candidate pair (the same blocks the matcher uses, so both see the same pairs) gets a
comparison vector with a few levels per field (exact / close / different, or missing, which
counts neither way). The m and u probabilities of each level — how often it occurs among true
matches and among non-matches — are estimated without labels by expectation maximisation,
assuming fields are independent given the match status. A pair's weight is the sum of
log2(m/u) over its fields. The threshold on that weight is then chosen *with* the truth, for
the best pairwise F1: an advantage no production system has, which makes this a well-tuned
baseline rather than a straw man.
"""
from __future__ import annotations

import math
import random
from collections import Counter

from rapidfuzz import fuzz
from rapidfuzz.distance import JaroWinkler

from dedupe.blocking import BlockIndex
from dedupe.normalize import NormalizedPerson

FIELDS = ("first_name", "last_name", "email", "phone", "company", "street", "place")
LEVELS = {"first_name": 4, "last_name": 3, "email": 3, "phone": 2, "company": 3, "street": 3, "place": 2}


def candidate_pairs(people: list[NormalizedPerson], max_block: int = 50) -> list[tuple[int, int]]:
    blocks = BlockIndex(max_block)
    pairs = []
    for i, person in enumerate(people):
        blocks.add(i, person)
    for i, person in enumerate(people):
        pairs.extend((j, i) for j in sorted(blocks.earlier_candidates(i, person)))
    return pairs


def _name_level(x: str, y: str, x_initial: bool, y_initial: bool, forms=None) -> int:
    if x == y:
        return LEVELS_TOP
    if (x_initial or y_initial) and x[0] == y[0]:
        return 1
    if forms is not None and forms(x) & forms(y):
        return 2
    return 2 if JaroWinkler.normalized_similarity(x, y) >= 0.88 else 0


LEVELS_TOP = 3


def compare(a: NormalizedPerson, b: NormalizedPerson) -> tuple[int, ...]:
    """Comparison vector: per field a level (higher = closer), -1 where either side is missing."""
    from dedupe.normalize import name_forms

    def forms(name):
        return name_forms(name.partition(" ")[0])

    first = _name_level(a.first, b.first, a.first_initial, b.first_initial, forms) if a.first and b.first else -1
    last = -1
    if a.last and b.last:
        last = _name_level(a.last, b.last, a.last_initial, b.last_initial)
        last = {3: 2, 2: 1, 1: 1, 0: 0}[last]
    email = -1
    if a.email and b.email:
        email = 2 if a.email == b.email else (1 if a.email.partition("@")[0] == b.email.partition("@")[0] else 0)
    phone = (1 if a.phone == b.phone else 0) if a.phone and b.phone else -1
    company = -1
    if a.company and b.company:
        company = 2 if a.company == b.company else (1 if fuzz.token_set_ratio(a.company, b.company) >= 90 else 0)
    street = -1
    if a.street and b.street:
        street = 2 if a.street == b.street else (1 if fuzz.ratio(a.street, b.street) >= 90 else 0)
    place = -1
    if a.postcode and b.postcode:
        place = int(a.postcode == b.postcode)
    elif a.city and b.city:
        place = int(a.city == b.city)
    return first, last, email, phone, company, street, place


class FellegiSunter:
    """m/u probabilities per field level, fitted by EM on unlabelled comparison vectors."""

    def __init__(self, iterations: int = 200, tolerance: float = 1e-7):
        self.iterations = iterations
        self.tolerance = tolerance
        self.prior = 0.05
        self.m: list[list[float]] = []
        self.u: list[list[float]] = []

    def fit(self, vectors: list[tuple[int, ...]], random_vectors: list[tuple[int, ...]] | None = None) -> FellegiSunter:
        """Estimate m, u and the match share from ``vectors``. Given ``random_vectors``
        (comparisons of random record pairs, nearly all non-matches), u is taken from those
        and held fixed, the usual way to keep EM from settling on "same household" as its
        match class."""
        patterns = Counter(vectors)
        sizes = [LEVELS[f] for f in FIELDS]
        # Start from "agreement is likely among matches, disagreement among non-matches".
        self.m = [[(level + 1) ** 3 for level in range(n)] for n in sizes]
        self.m = [[v / sum(row) for v in row] for row in self.m]
        self.u = []
        fixed_u = random_vectors is not None
        source = Counter(random_vectors) if fixed_u else patterns
        for k, n in enumerate(sizes):
            counts = [1.0] * n
            for pattern, count in source.items():
                if pattern[k] >= 0:
                    counts[pattern[k]] += count
            self.u.append([c / sum(counts) for c in counts])
        previous = None
        for _ in range(self.iterations):
            m_sum = [[1e-6] * n for n in sizes]
            u_sum = [[1e-6] * n for n in sizes]
            matched_total = total = 0.0
            for pattern, count in patterns.items():
                g = self.match_probability(pattern)
                matched_total += g * count
                total += count
                for k, level in enumerate(pattern):
                    if level >= 0:
                        m_sum[k][level] += g * count
                        u_sum[k][level] += (1 - g) * count
            self.prior = min(max(matched_total / total, 1e-6), 1 - 1e-6)
            self.m = [[v / sum(row) for v in row] for row in m_sum]
            if not fixed_u:
                self.u = [[v / sum(row) for v in row] for row in u_sum]
            if previous is not None and abs(previous - self.prior) < self.tolerance:
                break
            previous = self.prior
        return self

    def weight(self, pattern: tuple[int, ...]) -> float:
        """log2 Bayes factor of the pattern (match vs non-match)."""
        return sum(math.log2(self.m[k][level] / self.u[k][level]) for k, level in enumerate(pattern) if level >= 0)

    def match_probability(self, pattern: tuple[int, ...]) -> float:
        logit = self.weight(pattern) + math.log2(self.prior / (1 - self.prior))
        if logit > 60:
            return 1.0
        return 1.0 - 1.0 / (1.0 + 2.0 ** logit)


def best_threshold(weights: list[float], is_match: list[bool], total_true: int) -> tuple[float, float, float, float]:
    """(threshold, precision, recall, F1) of the weight threshold with the best pairwise F1."""
    order = sorted(range(len(weights)), key=lambda i: -weights[i])
    best = (math.inf, 0.0, 0.0, 0.0)
    tp = 0
    for rank, i in enumerate(order, 1):
        tp += is_match[i]
        if rank < len(order) and weights[order[rank]] == weights[i]:
            continue
        precision, recall = tp / rank, tp / total_true if total_true else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        if f1 > best[3]:
            best = (weights[i], precision, recall, f1)
    return best


def supervised(vectors: list[tuple[int, ...]], is_match: list[bool]) -> FellegiSunter:
    """m and u counted from the truth instead of estimated: the best any Fellegi–Sunter
    model with these comparison levels can do, since only the independence assumption is
    left between it and the data."""
    sizes = [LEVELS[f] for f in FIELDS]
    m = [[1e-3] * n for n in sizes]
    u = [[1e-3] * n for n in sizes]
    for vector, matched in zip(vectors, is_match):
        table = m if matched else u
        for k, level in enumerate(vector):
            if level >= 0:
                table[k][level] += 1
    model = FellegiSunter()
    model.m = [[v / sum(row) for v in row] for row in m]
    model.u = [[v / sum(row) for v in row] for row in u]
    model.prior = max(sum(is_match), 1) / max(len(is_match), 1)
    return model


def run(people: list[NormalizedPerson], truth_pairs: set[tuple[int, int]], max_block: int = 50,
        random_pairs: int = 0) -> dict:
    """Fit on the candidate pairs of ``people`` and report the best-F1 operating point of the
    EM model and of the model with m/u counted from the truth (keys "em" and "oracle")."""
    pairs = candidate_pairs(people, max_block)
    vectors = [compare(people[j], people[i]) for j, i in pairs]
    random_vectors = None
    if random_pairs:
        rng = random.Random(0)
        sample = [(rng.randrange(len(people)), rng.randrange(len(people))) for _ in range(random_pairs)]
        random_vectors = [compare(people[a], people[b]) for a, b in sample if a != b]
    is_match = [pair in truth_pairs for pair in pairs]
    result = {"candidates": len(pairs)}
    for name, model in (("em", FellegiSunter().fit(vectors, random_vectors)), ("oracle", supervised(vectors, is_match))):
        cache: dict[tuple, float] = {}
        weights = []
        for vector in vectors:
            w = cache.get(vector)
            if w is None:
                w = cache[vector] = model.weight(vector)
            weights.append(w)
        threshold, precision, recall, f1 = best_threshold(weights, is_match, len(truth_pairs))
        result[name] = {"threshold": threshold, "precision": precision, "recall": recall, "f1": f1, "prior": model.prior}
    return result
