"""What syncs ask of duplicate management, without depending on it.

Syncs find duplicates as they go (several records sharing one key) and show which linked
records sit in the duplicate queue; the duplicate queue lives in ``dedupe``, which depends on
``syncconfig`` and not the other way round. So ``syncconfig`` sends a signal and asks a small
port, and ``dedupe`` connects to the one and provides the other when it starts
(``dedupe.apps``). Without it, nothing is flagged and nothing is in a queue.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.dispatch import Signal

# Several records of one object share a key (HS-2): sent with ``connection``, ``object_name``
# and ``records`` (connector Records), for the duplicate queue to take up.
candidates_found = Signal()


@dataclass(frozen=True)
class LikelyDuplicate:
    """A record a new one probably duplicates, found by matching (not only by email)."""

    record_id: str  # the new record's id, as it was asked about
    candidate_id: str  # the candidate's id, as given in ``others`` or as its system knows it
    object_name: str  # the candidate's object (e.g. Lead or Contact), or "" for one of ``others``
    label: str  # the candidate's name, for people to read
    score: float  # 0–1: how likely the two are one person
    why: str  # the fields that agree, in words
    email: str = ""  # the candidate's email


class DuplicatesPort:
    """The answers a sync's pages need; empty until duplicate management provides them."""

    def in_open_groups(self, *, connection, record_ids) -> set[str]:
        """Those of ``record_ids`` (records of ``connection``) that sit in an open duplicate group."""
        return set()

    def exact_match_fields(self, *, connection) -> list[tuple[str, str]]:
        """(object, field) pairs by which records of ``connection`` are matched exactly."""
        return []

    def likely_duplicates(self, *, connection, records, others=(), refused=None) -> dict[str, LikelyDuplicate]:
        """For each of ``records`` (people in neutral fields: ``id``, ``first_name``,
        ``last_name``, ``email``, ``phone``, ``company``, ``street``, ``city``, ``postcode``,
        ``country``), the likeliest duplicate among the person records duplicate management
        holds for ``connection``, among ``others`` (more such dicts, with a ``label``) or among
        ``records`` themselves; only those scoring at least the matching threshold, and none
        that ``refused`` (record id → candidate ids) says is someone else."""
        return {}


port = DuplicatesPort()


def provide(implementation: DuplicatesPort) -> None:
    global port
    port = implementation


def flag_candidates(*, connection, object_name: str, records) -> None:
    """Hand records sharing a key to the duplicate queue; never lets a failure there stop a sync."""
    for _, outcome in candidates_found.send_robust(sender=DuplicatesPort, connection=connection,
                                                   object_name=object_name, records=records):
        if isinstance(outcome, Exception):
            import logging

            logging.getLogger(__name__).error("Flagging duplicate candidates failed", exc_info=outcome)
