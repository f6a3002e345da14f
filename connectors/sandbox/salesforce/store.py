"""Rows of SandboxRecord as Salesforce records: ids, full field values, the key index.

Field values live in ``SandboxRecord.data``; the system fields (Id, IsDeleted,
MasterRecordId, CreatedDate, LastModifiedDate, SystemModstamp) are columns so that
queries can filter and order on them in SQL. ``values()`` joins both into the dict the
SOQL engine and the API answers read.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from django.db import transaction
from django.db.models import CharField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from connectors.sandbox.models import SandboxOrg, SandboxRecord, SandboxRecordKey

from . import ids
from .schema import SObjectSchema
from .values import format_datetime

# Fields stored as columns, never in ``data``.
SYSTEM_COLUMNS = frozenset({"Id", "IsDeleted", "MasterRecordId", "CreatedDate", "LastModifiedDate", "SystemModstamp"})
KEY_MAX_LENGTH = 255


def reserve_numbers(org: SandboxOrg, count: int) -> int:
    """Reserve ``count`` consecutive record numbers of ``org``; returns the first one."""
    with transaction.atomic():
        first = SandboxOrg.objects.select_for_update().values_list("next_record_number", flat=True).get(pk=org.pk)
        SandboxOrg.objects.filter(pk=org.pk).update(next_record_number=first + count)
    return org.pk * ids.ORG_STRIDE + first


def new_row(org: SandboxOrg, obj: SObjectSchema, number: int, data: dict[str, Any], moment: datetime) -> SandboxRecord:
    """An unsaved row for a new record numbered ``number``."""
    return SandboxRecord(
        org=org, sobject=obj.name, record_id=ids.make_id(obj.key_prefix, number), number=number, data=data,
        created_date=moment, last_modified_date=moment, system_modstamp=moment,
    )


def values(obj: SObjectSchema, row: SandboxRecord) -> dict[str, Any]:
    """Every field value of the record, system fields included, keyed by API name."""
    moments = {
        "CreatedDate": row.created_date, "LastModifiedDate": row.last_modified_date, "SystemModstamp": row.system_modstamp,
    }
    return values_from(obj, row.record_id, dict(row.data), row.is_deleted, row.master_record_id, moments)


def values_from(
    obj: SObjectSchema,
    record_id: str,
    data: dict[str, Any],
    is_deleted: bool,
    master_record_id: str,
    moments: dict[str, datetime],
) -> dict[str, Any]:
    """``data`` (taken over, not copied) completed with the system fields given.

    A checkbox added after the record was written reads as false, as in Salesforce.
    """
    for name in obj.boolean_fields:
        if data.get(name) is None:
            data[name] = False
    data["Id"] = record_id
    data["IsDeleted"] = is_deleted
    data["MasterRecordId"] = master_record_id or None
    for name, moment in moments.items():
        data[name] = format_datetime(moment)
    return data


def key_value(value: Any) -> str:
    """The index form of a value: text compares case-insensitively in Salesforce."""
    text = value if isinstance(value, str) else str(value)
    return text.lower()[:KEY_MAX_LENGTH]


def keys_for(obj: SObjectSchema, row: SandboxRecord) -> list[SandboxRecordKey]:
    return [
        SandboxRecordKey(record=row, org_id=row.org_id, sobject=row.sobject, field=spec.name, value=key_value(value))
        for spec in obj.indexed_fields
        if (value := row.data.get(spec.name)) not in (None, "")
    ]


def index(obj: SObjectSchema, rows: Iterable[SandboxRecord]) -> None:
    """Index new rows (saved, so they have a pk)."""
    SandboxRecordKey.objects.bulk_create([key for row in rows for key in keys_for(obj, row)], batch_size=2000)


def reindex(obj: SObjectSchema, row: SandboxRecord) -> None:
    """Rewrite a row's index entries; a deleted record has none."""
    SandboxRecordKey.objects.filter(record=row).delete()
    if not row.is_deleted:
        index(obj, [row])


def get(org: SandboxOrg, record_id: str) -> SandboxRecord | None:
    """The record with this 15- or 18-character id in ``org``, deleted or not."""
    return SandboxRecord.objects.filter(org=org, record_id=ids.to18(record_id)).first()


def get_many(org: SandboxOrg, record_ids: Iterable[str]) -> dict[str, SandboxRecord]:
    """Records by 18-character id (ids that are not in ``org`` are left out)."""
    wanted = {ids.to18(record_id) for record_id in record_ids if ids.is_id(record_id)}
    if not wanted:
        return {}
    return {row.record_id: row for row in SandboxRecord.objects.filter(org=org, record_id__in=wanted)}


def find(org: SandboxOrg, sobject: str, field: str, value: Any) -> list[SandboxRecord]:
    """Live records of ``sobject`` whose indexed ``field`` equals ``value`` (case-insensitively)."""
    return list(
        SandboxRecord.objects.filter(
            org=org, is_deleted=False,
            keys__org=org, keys__sobject=sobject, keys__field=field, keys__value=key_value(value),
        ).order_by("number")
    )


def related(org: SandboxOrg, sobject: str, field: str, record_ids: Iterable[str]) -> list[SandboxRecord]:
    """Live records of ``sobject`` whose reference ``field`` points at one of ``record_ids``."""
    # Reference values are not indexed; merges and deletes are rare enough for a scan in SQL.
    return list(
        SandboxRecord.objects.filter(org=org, sobject=sobject, is_deleted=False)
        .alias(reference=Cast(KeyTextTransform(field, "data"), CharField()))
        .filter(reference__in=list(record_ids))
        .order_by("number")
    )
