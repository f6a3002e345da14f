"""What syncs ask of duplicate management, without depending on it.

Syncs find duplicates as they go (several records sharing one key) and show which linked
records sit in the duplicate queue; the duplicate queue lives in ``dedupe``, which depends on
``syncconfig`` and not the other way round. So ``syncconfig`` sends a signal and asks a small
port, and ``dedupe`` connects to the one and provides the other when it starts
(``dedupe.apps``). Without it, nothing is flagged and nothing is in a queue.
"""
from __future__ import annotations

from django.dispatch import Signal

# Several records of one object share a key (HS-2): sent with ``connection``, ``object_name``
# and ``records`` (connector Records), for the duplicate queue to take up.
candidates_found = Signal()


class DuplicatesPort:
    """The answers a sync's pages need; empty until duplicate management provides them."""

    def in_open_groups(self, *, connection, record_ids) -> set[str]:
        """Those of ``record_ids`` (records of ``connection``) that sit in an open duplicate group."""
        return set()

    def exact_match_fields(self, *, connection) -> list[tuple[str, str]]:
        """(object, field) pairs by which records of ``connection`` are matched exactly."""
        return []


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
