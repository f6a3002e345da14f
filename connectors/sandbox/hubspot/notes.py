"""Notes, the activity history HubSpot keeps on a contact: a note is associated with a
contact (association type 202, note to contact), counts in the contact's ``num_notes``,
moves to the survivor when contacts merge and is left attached to nobody when its
contact is archived."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from connectors.sandbox.models.hubspot import HsAccount, HsContact, HsNote

from . import errors
from .contacts import contact_find, notes_recount
from .dates import from_ms, iso, now, parse_ms
from .ids import allocate_ids
from .webhooks import EventLog

NOTE_TO_CONTACT = 202  # HUBSPOT_DEFINED association type id
CONTACT_TO_NOTE = 201
NOTE_PROPERTIES = ("hs_note_body", "hs_timestamp")


def note_shape(note: HsNote) -> dict[str, Any]:
    return {
        "id": str(note.number),
        "properties": {
            "hs_note_body": note.body or None, "hs_timestamp": iso(note.timestamp), "hs_object_id": str(note.number),
            "hs_createdate": iso(note.created_at), "hs_lastmodifieddate": iso(note.updated_at),
        },
        "createdAt": iso(note.created_at), "updatedAt": iso(note.updated_at), "archived": note.archived,
    }


def note_create(account: HsAccount, *, body: str, timestamp: datetime | None, contact: HsContact | None,
                events: EventLog) -> HsNote:
    moment = now()
    note = HsNote.objects.create(
        account=account, number=allocate_ids(account, "note"), body=body, timestamp=timestamp or moment, contact=contact,
        created_at=moment, updated_at=moment,
    )
    if contact is not None:
        notes_recount(contact, events)
    return note


def note_archive(note: HsNote, events: EventLog) -> None:
    note.archived, note.updated_at = True, now()
    note.save(update_fields=["archived", "updated_at"])
    if note.contact is not None:
        notes_recount(note.contact, events)


def note_from_api(account: HsAccount, data: Any, events: EventLog) -> HsNote:
    """A note from a ``POST /crm/v3/objects/notes`` body: ``properties`` (``hs_timestamp``
    required) and ``associations`` to one contact."""
    if not isinstance(data, dict):
        raise errors.validation("Invalid input JSON: expected an object.")  # (emulator) wording
    values = data.get("properties") or {}
    unknown = [name for name in values if name not in NOTE_PROPERTIES]
    if unknown:
        raise errors.property_errors([
            {"name": name, "error": "PROPERTY_DOESNT_EXIST", "message": f'Property "{name}" does not exist'} for name in unknown
        ])
    ms = parse_ms(values.get("hs_timestamp"))
    if ms is None:
        raise errors.property_errors([{"name": "hs_timestamp", "error": "INVALID_DATE",
                                       "message": "hs_timestamp is required: a datetime or milliseconds."}])
    contact = None
    for association in data.get("associations") or []:
        target = ((association or {}).get("to") or {}).get("id")
        types = (association or {}).get("types") or []
        if not any(int(t.get("associationTypeId", 0)) == NOTE_TO_CONTACT for t in types if isinstance(t, dict)):
            raise errors.validation(f"Notes associate with contacts by type {NOTE_TO_CONTACT} (HUBSPOT_DEFINED).")
        contact = contact_find(account, target)
        if contact is None:
            raise errors.validation(f"Association target contact {target} does not exist.")  # (emulator) wording
    return note_create(account, body=str(values.get("hs_note_body") or ""), timestamp=from_ms(ms), contact=contact,
                       events=events)

