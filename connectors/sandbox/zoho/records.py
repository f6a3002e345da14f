"""CRM records: how they read on the wire, and the writes (insert, update, upsert,
delete), each answering one outcome per record in input order, as Zoho does.

A write call takes at most 100 records (more: LIMIT_EXCEEDED for the whole call). Each
record succeeds or fails on its own; the call answers 201 (all inserted), 200 (all
written), 207 (some failed) or 400 (none written) with ``{"data":[…]}``.
"""
from __future__ import annotations

from typing import Any

from connectors.sandbox.models.zoho import ZohoOrg, ZohoRecord

from . import errors, schema
from .dates import crm_time, stamp
from .ids import record_ids
from .notify import ChangeLog

MAX_WRITE = 100
USER_ID_OFFSET = 1  # the organisation's one user (the API user) has id id_base + 1


def user(org: ZohoOrg) -> dict[str, str]:
    return {"name": "Sandbox Admin", "id": str(org.id_base + USER_ID_OFFSET), "email": f"admin@{org.slug}.example"}


def shape(org: ZohoOrg, row: ZohoRecord, names: list[str] | None = None) -> dict[str, Any]:
    """A record as the API shows it; ``names`` limits it to those fields (and ``id``)."""
    who = user(org)
    body: dict[str, Any] = {
        "Owner": who, "Created_Time": crm_time(row.created_at, org.utc_offset_minutes),
        "Modified_Time": crm_time(row.modified_at, org.utc_offset_minutes),
        "Created_By": {"name": who["name"], "id": who["id"]}, "Modified_By": {"name": who["name"], "id": who["id"]},
        "$approved": True, "$editable": True,
    }
    for spec in schema.MODULES[row.module]:
        if spec.api_name not in body:
            value = row.values.get(spec.api_name)
            if spec.data_type == "boolean" and value is None:
                value = False
            if spec.data_type == "lookup" and value:
                target = ZohoRecord.objects.filter(org=org, record_id=int(value["id"])).first()
                value = {"name": (target.values.get(schema.DISPLAY_FIELD[target.module]) if target else None),
                         "id": value["id"]}
            body[spec.api_name] = value
    if names:
        wanted = {n.lower() for n in names}
        body = {k: v for k, v in body.items() if k.lower() in wanted}
    return {**body, "id": str(row.record_id)}


def write_details(org: ZohoOrg, row: ZohoRecord) -> dict[str, Any]:
    who = user(org)
    return {"Modified_Time": crm_time(row.modified_at, org.utc_offset_minutes), "Modified_By": {"name": who["name"], "id": who["id"]},
            "Created_Time": crm_time(row.created_at, org.utc_offset_minutes), "id": str(row.record_id),
            "Created_By": {"name": who["name"], "id": who["id"]}}


def status_of(entries: list[dict[str, Any]], *, created: bool) -> int:
    ok = sum(1 for e in entries if e["status"] == "success")
    if ok == len(entries):
        return 201 if created else 200
    return 207 if ok else 400


def _lookup_exists(org: ZohoOrg):
    def exists(module: str, record_id: int) -> bool:
        return ZohoRecord.objects.filter(org=org, module=module, record_id=record_id, deleted_at__isnull=True).exists()
    return exists


def _live(org: ZohoOrg, module: str):
    return ZohoRecord.objects.filter(org=org, module=module, deleted_at__isnull=True)


def _email_taken(org: ZohoOrg, module: str, email: str | None, but: int | None = None) -> ZohoRecord | None:
    if not email or not any(f.unique and f.api_name == "Email" for f in schema.MODULES[module]):
        return None
    found = _live(org, module).filter(email_key=email.lower())
    if but is not None:
        found = found.exclude(record_id=but)
    return found.first()


def _error(problem: schema.Invalid) -> dict[str, Any]:
    return errors.record_error(problem.code, problem.message, **problem.details)


def check_batch(data: Any) -> list[dict]:
    if not isinstance(data, list) or not data:
        raise errors.invalid_data("data is not a non-empty array", api_name="data")  # (emulator) wording
    if len(data) > MAX_WRITE:
        raise errors.limit_exceeded(MAX_WRITE)
    return data


def insert(org: ZohoOrg, module: str, data: list[dict], changes: ChangeLog, *, upsert_entry: bool = False
           ) -> list[dict[str, Any]]:
    """Insert each record; DUPLICATE_DATA if its Email is in use."""
    entries: list[dict[str, Any] | None] = []
    ready: list[tuple[int, dict]] = []
    for n, item in enumerate(data):
        try:
            values = schema.clean(module, item if isinstance(item, dict) else {}, creating=True,
                                  lookup_exists=_lookup_exists(org))
        except schema.Invalid as problem:
            entries.append(_error(problem))
            continue
        taken = _email_taken(org, module, values.get("Email"))
        if taken is None:
            taken = next((r for _, r in ready if values.get("Email") and
                          str(r.get("Email") or "").lower() == values["Email"].lower()), None)
            if taken is not None:
                entries.append(errors.record_error("DUPLICATE_DATA", "duplicate data", api_name="Email"))
                continue
        else:
            entries.append(errors.record_error("DUPLICATE_DATA", "duplicate data", api_name="Email",
                                               id=str(taken.record_id)))
            continue
        entries.append(None)
        ready.append((n, values))
    moment = stamp()
    ids = record_ids(org, len(ready)) if ready else []
    for (n, values), record_id in zip(ready, ids):
        row = ZohoRecord.objects.create(org=org, module=module, record_id=record_id, values=values,
                                        email_key=str(values.get("Email") or "").lower(), created_at=moment,
                                        modified_at=moment)
        entries[n] = errors.record_success("insert", write_details(org, row), upsert=upsert_entry)
        changes.add(module, "insert", record_id)
    return [e for e in entries if e is not None]


def update_one(org: ZohoOrg, module: str, item: dict, changes: ChangeLog, *, record_id: Any = None,
               upsert_field: str | None = None, upsert_entry: bool = False) -> dict[str, Any]:
    record_id = record_id if record_id is not None else item.get("id")
    if record_id in (None, ""):
        return errors.record_error("MANDATORY_NOT_FOUND", "required field not found", api_name="id")
    row = _live(org, module).filter(record_id=int(record_id)).first() if str(record_id).isdigit() else None
    if row is None:
        return errors.record_error("INVALID_DATA", "the id given seems to be invalid", api_name="id")
    try:
        values = schema.clean(module, item, creating=False, lookup_exists=_lookup_exists(org))
    except schema.Invalid as problem:
        return _error(problem)
    taken = _email_taken(org, module, values.get("Email"), but=row.record_id)
    if taken is not None:
        return errors.record_error("DUPLICATE_DATA", "duplicate data", api_name="Email", id=str(taken.record_id))
    changed = sorted(k for k, v in values.items() if row.values.get(k) != v)
    row.values = {**row.values, **values}
    row.email_key = str(row.values.get("Email") or "").lower()
    row.modified_at = stamp()  # Zoho moves Modified_Time on every update, changed values or not
    row.save(update_fields=["values", "email_key", "modified_at"])
    changes.add(module, "update", row.record_id, changed)
    return errors.record_success("update", write_details(org, row), duplicate_field=upsert_field, upsert=upsert_entry)


def upsert(org: ZohoOrg, module: str, data: list[dict], check_fields: list[str], changes: ChangeLog) -> list[dict]:
    """Update the record matching a duplicate-check field (the first that matches, in the
    given order), else insert; each outcome says which it did (``action``) and by which
    field (``duplicate_field``)."""
    entries = []
    for item in data:
        item = item if isinstance(item, dict) else {}
        match, by = None, None
        for name in check_fields:
            spec = schema.field(module, name)
            value = item.get(spec.api_name) if spec else None
            if spec is None or value in (None, ""):
                continue
            if spec.data_type == "email":
                match = _live(org, module).filter(email_key=str(value).lower()).order_by("record_id").first()
            else:
                match = next((r for r in _live(org, module).order_by("record_id")
                              if str(r.values.get(spec.api_name) or "").lower() == str(value).lower()), None)
            if match is not None:
                by = spec.api_name
                break
        if match is not None:
            entries.append(update_one(org, module, item, changes, record_id=match.record_id, upsert_field=by,
                                      upsert_entry=True))
        else:
            entries += insert(org, module, [item], changes, upsert_entry=True)
    return entries


def delete(org: ZohoOrg, module: str, ids: list[str], changes: ChangeLog) -> list[dict]:
    entries = []
    moment = stamp()
    for given in ids:
        row = ZohoRecord.objects.filter(org=org, module=module, record_id=int(given)).first() if given.isdigit() else None
        if row is None:
            entries.append(errors.record_error("INVALID_DATA", "the id given seems to be invalid", id=given))
        elif row.deleted_at is not None:
            entries.append(errors.record_error("ID_ALREADY_DELETED", "the id given has already been deleted", id=given))
        else:
            row.deleted_at, row.deleted_type = moment, ZohoRecord.RECYCLE
            row.save(update_fields=["deleted_at", "deleted_type"])
            changes.add(module, "delete", row.record_id)
            entries.append(errors.record_success("delete", {"id": given}))
    return entries
