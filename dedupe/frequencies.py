"""How common each name and email address is in the population being matched.

Two records that share a name are the more likely one person the fewer other people carry
that name: two "Xiomara Quintanilla" at one company are one person, two "John Smith" in a
million records are probably two. This is the term-frequency adjustment of probabilistic
record linkage. A shared email address is strong evidence only while few records carry it;
"thomas.mueller@gmail.com" typed for every Thomas Müller of a large file says little more
than the name does.

Counts are kept, not the records: a dict per name field (names repeat, so a million records
hold a few ten thousand distinct ones) and a fixed-size count sketch for email addresses,
which are nearly all distinct (16 MiB whatever the population).
"""
from __future__ import annotations

from array import array
from collections import Counter

from dedupe.normalize import NormalizedPerson

# Slots per row of the email sketch; two rows, the smaller count of the two is taken, so
# two addresses rarely inflate each other's count.
_SKETCH_BITS = 22
_SKETCH_MASK = (1 << _SKETCH_BITS) - 1
_SKETCH_MAX = 65_535


def first_token(person: NormalizedPerson) -> str:
    return person.first.partition(" ")[0] if person.first and not person.first_initial else ""


def counted_names(person: NormalizedPerson) -> list[str]:
    """The names of ``person`` that are counted, as "f:" first name, "s:" surname and "m:"
    email address: the form the database keeps them in for an incremental pass."""
    names = []
    token = first_token(person)
    if token:
        names.append("f:" + token)
    if person.last and not person.last_initial:
        names.append("s:" + person.last)
    if person.email:
        names.append("m:" + person.email)
    return names


class NameFrequencies:
    """Counts of first names, surnames and email addresses over a population of records.

    ``add`` and ``remove`` keep the counts current as records come and go; a matching pass
    reads them through ``first_share``, ``surname_count`` and ``email_count``."""

    def __init__(self):
        self.total = 0
        # Changes with every count, so that values worked out from the counts know when to go.
        self.version = 0
        self.first: Counter[str] = Counter()
        self.last: Counter[str] = Counter()
        self._emails = (array("H", bytes(2 << _SKETCH_BITS)), array("H", bytes(2 << _SKETCH_BITS)))

    @classmethod
    def of(cls, people) -> NameFrequencies:
        """The counts over ``people`` (normalised records)."""
        frequencies = cls()
        for person in people:
            frequencies.add(person)
        return frequencies

    @classmethod
    def of_counts(cls, total: int, counts: dict[str, int]) -> NameFrequencies:
        """Counts made elsewhere (by the database, see ``counted_names``) for the names that
        will be compared, over a population of ``total`` records."""
        frequencies = cls()
        frequencies.total = total
        frequencies.add_counts(counts)
        return frequencies

    def add_counts(self, counts: dict[str, int]) -> None:
        """Take the counts of more names (``counted_names`` form: "f:anna", "s:müller", "m:…")."""
        self.version += 1
        for name, count in counts.items():
            kind, value = name[:2], name[2:]
            if kind == "f:":
                self.first[value] = count
            elif kind == "s:":
                self.last[value] = count
            elif kind == "m:":
                h = hash(value)
                for row, slot in zip(self._emails, (h & _SKETCH_MASK, (h >> 32) & _SKETCH_MASK)):
                    row[slot] = max(row[slot], min(_SKETCH_MAX, count))

    def add(self, person: NormalizedPerson) -> None:
        self._count(person, 1)

    def remove(self, person: NormalizedPerson) -> None:
        self._count(person, -1)

    def _count(self, person: NormalizedPerson, step: int) -> None:
        self.total += step
        self.version += 1
        token = first_token(person)
        if token:
            self.first[token] += step
        if person.last and not person.last_initial:
            self.last[person.last] += step
        if person.email:
            h = hash(person.email)
            for row, slot in zip(self._emails, (h & _SKETCH_MASK, (h >> 32) & _SKETCH_MASK)):
                row[slot] = max(0, min(_SKETCH_MAX, row[slot] + step))

    def first_share(self, token: str) -> float:
        """Share of the population with this first name (0 when nobody is counted)."""
        return self.first[token] / self.total if self.total > 0 else 0.0

    def surname_count(self, name: str) -> int:
        return self.last[name]

    def email_count(self, email: str) -> int:
        """Records carrying this address (an upper bound; exact but for rare collisions)."""
        h = hash(email)
        return min(self._emails[0][h & _SKETCH_MASK], self._emails[1][(h >> 32) & _SKETCH_MASK])
