"""From scored pairs to duplicate groups, without letting chains run away.

Linking every matching pair (union-find) would join A to C because A matches B and B matches
C, even if A and C are plainly two people: "J. Müller" at the family's address and landline
matches both Jan and Julia Müller, who are not one person. So the linked components are only
a first cut. Inside each, the matching pairs are taken strongest first and join their two
groups unless some pair across them is positively two people (another first name or
surname, another customer ID or birth date, or nothing but a name in common and two
cities); pairs that merely lack shared evidence do not block a join.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

from dedupe.normalize import NormalizedPerson
from dedupe.scoring import ScoredPair, Scorer, probability

# A group this large is no longer a person but a data problem; it is not grown further.
MAX_GROUP = 50


@dataclass(frozen=True, slots=True)
class Group:
    """Records believed to be one person. ``confidence`` is the mean score of all member pairs;
    ``pairs`` holds every member pair with its evidence (empty when not asked for)."""

    ids: tuple[str, ...]
    confidence: float
    pairs: tuple[ScoredPair, ...] = ()
    sources: tuple[str, ...] = ()


def _components(edges) -> list[list[tuple[int, int]]]:
    """The matching pairs, split by connected component."""
    parent: dict[int, int] = {}

    def find(x):
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:
            parent[x], x = root, parent[x]
        return root

    for i, j in edges:
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    by_root: dict[int, list[tuple[int, int]]] = {}
    for pair in edges:
        by_root.setdefault(find(pair[0]), []).append(pair)
    return list(by_root.values())


def _split(pairs: list[tuple[int, int]], edges, people, scorer: Scorer, refused=frozenset()) -> list[list[int]]:
    group_of: dict[int, int] = {}
    members: dict[int, list[int]] = {}
    for pair in pairs:
        for p in pair:
            if p not in group_of:
                group_of[p], members[p] = p, [p]
    conflict_cache: dict[tuple[int, int], bool] = {}

    def conflict(x, y):
        key = (x, y) if x < y else (y, x)
        known = conflict_cache.get(key)
        if known is None:
            known = conflict_cache[key] = key in refused or scorer.conflicts(people[key[0]], people[key[1]])
        return known

    for pair in sorted(pairs, key=lambda p: (-edges[p], p)):
        a, b = group_of[pair[0]], group_of[pair[1]]
        if a == b:
            continue
        ma, mb = members[a], members[b]
        if len(ma) + len(mb) > MAX_GROUP or any(conflict(x, y) for x in ma for y in mb):
            continue
        if len(ma) < len(mb):
            a, b, ma, mb = b, a, mb, ma
        ma.extend(mb)
        for p in members.pop(b):
            group_of[p] = a
    return [sorted(m) for m in members.values() if len(m) > 1]


def cluster(people: list[NormalizedPerson | None], edges: dict[tuple[int, int], float], scorer: Scorer,
            *, explain: bool = True, refused=frozenset()) -> list[tuple[list[int], float, tuple[ScoredPair, ...]]]:
    """Groups of positions in ``people`` from the matching pairs ``edges`` ((i, j) → log-odds):
    a list of (positions, confidence, explained member pairs). The confidence is the mean
    score over all member pairs, not only the ones that matched. ``refused`` pairs of
    positions (i < j) were declared two people by a person and never end up in one group."""
    result = []
    edges = {pair: logit for pair, logit in edges.items() if pair not in refused}
    for pairs in _components(edges):
        for positions in ([list(pairs[0])] if len(pairs) == 1 else _split(pairs, edges, people, scorer, refused)):
            scores = [probability(edges[(i, j)]) if (i, j) in edges else scorer.score(people[i], people[j])
                      for i, j in combinations(positions, 2)]
            confidence = round(sum(scores) / len(scores), 4)
            explained = tuple(scorer.explain(people[i], people[j]) for i, j in combinations(positions, 2)) if explain else ()
            result.append((positions, confidence, explained))
    return result
