"""The duplicate queue's answers to syncs (see ``syncconfig.duplicates``)."""
from __future__ import annotations

from syncconfig.duplicates import DuplicatesPort, LikelyDuplicate

from .models import DuplicateGroup, DuplicateMember, MatchSource


class QueuePort(DuplicatesPort):
    def in_open_groups(self, *, connection, record_ids) -> set[str]:
        return set(DuplicateMember.objects.filter(
            connection=connection, record_id__in=list(record_ids), group__status=DuplicateGroup.Status.OPEN,
        ).values_list("record_id", flat=True))

    def exact_match_fields(self, *, connection) -> list[tuple[str, str]]:
        return [(source.object_name, name) for source in MatchSource.objects.filter(connection=connection, enabled=True)
                for name in source.exact_fields]

    def likely_duplicates(self, *, connection, records, others=(), refused=None) -> dict[str, LikelyDuplicate]:
        from .services import likely_duplicates_find

        return likely_duplicates_find(connection=connection, records=records, others=others, refused=refused)


def candidates_found_received(sender, *, connection, object_name, records, **kwargs):
    from .services import candidates_flag

    return candidates_flag(connection=connection, object_name=object_name, records=records)
