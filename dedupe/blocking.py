"""Blocking: cheap keys that put possible duplicates side by side, so that not every pair of
records has to be compared.

Keys are the normalised email (and its mailbox name without dots), the phone, custom
identifiers, and two phonetic name keys that share one namespace: the sound of the surname
plus the first letter of the given name (or of any full name it is a nickname of), and the
sound of the given name plus the first letter of the surname. Because they share a namespace,
a record with first and last name swapped meets its twin there too. A finer key (the sounds
of surname and given name, nicknames expanded) keeps people with a common surname comparable
once the coarse keys have filled up.

Records without email and phone (trade-show leads, imports from other systems) have only
names and an address to meet on, and a typo in a surname's first letter or a surname cut to
an initial hides them from the name keys. Two address keys catch those: the street with
house number in its place, and the place with the sound of the given name.
"""
from __future__ import annotations

import hashlib
from bisect import bisect_left
from functools import lru_cache

import jellyfish

from dedupe.normalize import NormalizedPerson, name_forms, street_parts


@lru_cache(maxsize=200_000)
def _sound(name: str) -> str:
    return jellyfish.metaphone(name.replace(" ", "")) or name


@lru_cache(maxsize=50_000)
def _initials(token: str) -> str:
    # Bill also waits under W (William) and R (Robert): nickname and full name meet.
    return "".join(sorted({form[0] for form in name_forms(token)}))


@lru_cache(maxsize=50_000)
def _sounds(token: str) -> frozenset[str]:
    return frozenset(_sound(form) for form in name_forms(token))


def block_keys(person: NormalizedPerson) -> set[str]:
    """Every blocking key of ``person``."""
    keys = set()
    if person.email and not person.email_generic:
        keys.add("e" + person.email)
        local = person.email.partition("@")[0].replace(".", "").replace("_", "").replace("-", "")
        if len(local) >= 6:
            keys.add("l" + local)
    if person.phone:
        keys.add("p" + person.phone)
    for name, value in person.keys:
        keys.add(f"k{name}={value}")
    first, last = person.first, person.last
    if first:
        token = first.partition(" ")[0]
        if last and not person.last_initial:
            sound = _sound(last.partition(" ")[0])
            for initial in _initials(token) if not person.first_initial else token:
                keys.add(f"n{sound}|{initial}")
            if not person.first_initial:
                for form in _sounds(token):
                    keys.add(f"f{sound}|{form}")
        if last and not person.first_initial:
            keys.add(f"n{_sound(token)}|{last[0]}")
    elif last and not person.last_initial:
        keys.add(f"n{_sound(last.partition(' ')[0])}|")
    place = person.postcode or person.city
    if place:
        if person.street:
            name, number = street_parts(person.street)
            if name and number:
                keys.add(f"a{place}|{name}|{number}")
        if first and not person.first_initial:
            keys.add(f"z{place}|{_sound(first.partition(' ')[0])}")
    return keys


def key_hash(key: str) -> int:
    """A blocking key (or counted name) as a signed 64-bit number, the same in every process:
    what the database keeps to find a key's records."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)


def is_coarse(key: str) -> bool:
    """A sound-and-initial or place-and-name key: it gathers many people and stops early."""
    return key[0] in "nz"


class BlockIndex:
    """Records by blocking key, in arrival order.

    A record is compared with the earlier members of each of its blocks, but only while the
    block is small: once ``max_block`` records share a key (a switchboard phone, a shared
    mailbox, a very common name) later arrivals are not compared through it, so one such key
    cannot make the work grow with the square of its size. Because only arrival order
    counts, matching all records at once and adding them one batch at a time find the same
    pairs."""

    def __init__(self, max_block: int, coarse_block: int | None = None):
        self.max_block = max_block
        # Keys on a sound and an initial ("n…") gather many people under a common surname, and
        # a place with a given name ("z…") many in a big city; the full-name keys ("f…") carry
        # most of the load there, so the coarse ones stop earlier.
        self.coarse_block = coarse_block or max(10, max_block // 3)
        self.blocks: dict[str, list[int]] = {}

    def add(self, position: int, person: NormalizedPerson) -> None:
        blocks = self.blocks
        for key in block_keys(person):
            members = blocks.get(key)
            if members is None:
                blocks[key] = [position]
            else:
                members.append(position)

    def earlier_candidates(self, position: int, person: NormalizedPerson) -> set[int]:
        """Positions before ``position`` that share a still-small block with it."""
        candidates: set[int] = set()
        cap, coarse = self.max_block, self.coarse_block
        for key in block_keys(person):
            members = self.blocks.get(key)
            if not members:
                continue
            at = bisect_left(members, position)
            if is_coarse(key) and at >= coarse:
                continue
            if 0 < at < cap:
                candidates.update(members[:at])
        return candidates
