"""Changing contacts — create, update, archive, merge — through the API or the app, and
reading them back in the API's shape.

A contact's properties are stored as the API shows them (strings); ``hs_object_id``,
``createdate`` and ``lastmodifieddate`` come from the row. Every change that alters a value
moves ``lastmodifieddate`` and records the webhook events the vendor sends for it
(``contact.creation`` and a ``contact.propertyChange`` per property set, …); a write that
changes nothing moves nothing.

Merge (``POST /crm/v3/objects/contacts/merge``) follows the vendor's changelog "Updated
merge functionality for contacts and companies" (2023/2024) where it is documented and
makes these choices where it is not:

- the merge makes a NEW contact with a new id, which the answer carries; both old ids
  then read (GET, batch read) as the new contact, with its new id; the new contact's
  ``hs_merged_object_ids`` lists both old ids (and any merged into them before);
- a property the primary has no value for takes the merged-away contact's value; a value
  the primary has always wins; the merged-away email, if different, joins the new
  contact's ``hs_additional_emails``; the earlier ``createdate`` is kept;
- both old contacts' notes move to the new one (its ``num_notes`` counts them);
- the old contacts no longer list or search; reading the merged-away email (now one of
  the new contact's additional emails) answers with the new contact, and that email stays
  taken: creating a contact with it is a 409 naming the new contact.

Search lags behind writes when the account has ``search_lag_seconds`` (see
:mod:`connectors.sandbox.lag`): each create or update draws a seeded lag, and until it has
passed search sees the contact as it was indexed before (``indexed``: its properties and
``lastmodifieddate``), or not at all if it is new. Archiving and merging take effect in
search at once, and a contact a merge makes is searchable at once.
"""
from __future__ import annotations

from typing import Any, Iterable

import copy
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from connectors.sandbox import lag
from connectors.sandbox.models.hubspot import HsAccount, HsContact, HsNote, HsProperty

from . import errors
from .dates import iso, parse_ms, from_ms, stamp
from .ids import allocate_ids
from .properties import ALWAYS, DEFAULT_READ, checked_values, live_properties
from .webhooks import EventLog

# Kept by merge rather than filled from the merged-away contact.
_MERGE_OWN = frozenset({"email", "hs_merged_object_ids", "hs_additional_emails", "num_notes"})


def live_contacts(account: HsAccount) -> QuerySet[HsContact]:
    """The account's contacts that are neither archived nor merged away."""
    return HsContact.objects.filter(account=account, archived=False, merged_into__isnull=True)


def values_of(contact: HsContact) -> dict[str, str]:
    """Every value of a contact, including those the row keeps."""
    return {
        **contact.properties, "hs_object_id": str(contact.number), "createdate": iso(contact.created_at),
        "lastmodifieddate": iso(contact.updated_at),
    }


def requested(account: HsAccount, names: Iterable[str] | None, *, properties: dict[str, HsProperty] | None = None) -> list[str]:
    """The property names a read hands out: those asked for that exist (unknown ones are
    ignored, as the vendor does), the vendor's defaults when none were asked for, and
    always ``hs_object_id``, ``createdate`` and ``lastmodifieddate``."""
    asked = [n.strip() for n in names or () if n and n.strip()]
    if not asked:
        return list(DEFAULT_READ)
    known = properties if properties is not None else live_properties(account)
    return list(dict.fromkeys([*(n for n in asked if n in known), *ALWAYS]))


def shape(contact: HsContact, names: list[str]) -> dict[str, Any]:
    values = values_of(contact)
    return {
        "id": str(contact.number), "properties": {name: values.get(name) or None for name in names},
        "createdAt": iso(contact.created_at), "updatedAt": iso(contact.updated_at), "archived": contact.archived,
    }


def parse_id(text: Any) -> int | None:
    value = str(text).strip()
    return int(value) if value.isdigit() else None


def contact_find(account: HsAccount, key: Any, *, id_property: str | None = None, archived: bool = False) -> HsContact | None:
    """The contact an id (or ``id_property`` value) names: a merged-away id gives its
    survivor; ``archived`` looks among archived contacts instead of live ones."""
    if id_property in (None, "", "hs_object_id"):
        number = parse_id(key)
        contact = HsContact.objects.filter(account=account, number=number).first() if number else None
        while contact is not None and contact.merged_into_id is not None:
            contact = contact.merged_into
        if contact is None or contact.archived != archived:
            return None
        return contact
    rows = HsContact.objects.filter(account=account, archived=archived, merged_into__isnull=True)
    if id_property == "email":
        email_key = str(key).strip().lower()
        return rows.filter(email_key=email_key).order_by("-updated_at").first() or _by_additional_email(rows, email_key)
    prop = live_properties(account).get(id_property)
    if prop is None or not prop.has_unique_value:
        raise errors.validation(f"{id_property} is not a unique property of contacts and cannot be used as idProperty.")
    return rows.filter(**{f"properties__{id_property}": str(key)}).first()


def contact_get(account: HsAccount, key: Any, *, id_property: str | None = None, archived: bool = False) -> HsContact:
    contact = contact_find(account, key, id_property=id_property, archived=archived)
    if contact is None:
        raise errors.not_found()
    return contact


def _by_additional_email(rows: QuerySet[HsContact], email_key: str) -> HsContact | None:
    """The contact that keeps ``email_key`` among its ``hs_additional_emails`` (an email
    that came with a merged-away contact)."""
    if not email_key:
        return None
    for candidate in rows.filter(properties__hs_additional_emails__icontains=email_key):
        if email_key in (e.lower() for e in _split(candidate.properties.get("hs_additional_emails", ""))):
            return candidate
    return None


def _email_holder(account: HsAccount, email_key: str, *, other_than: int | None = None) -> HsContact | None:
    """The live contact that has the email, as its own or as an additional one: either way
    the vendor refuses it to another contact."""
    if not email_key:
        return None
    rows = live_contacts(account).exclude(pk=other_than) if other_than else live_contacts(account)
    return rows.filter(email_key=email_key).first() or _by_additional_email(rows, email_key)


def contact_create(account: HsAccount, values: dict[str, str], events: EventLog) -> HsContact:
    """A new contact with checked ``values``; 409 if a live contact has the email."""
    stored = {k: v for k, v in values.items() if v != ""}
    email_key = stored.get("email", "").lower()
    holder = _email_holder(account, email_key)
    if holder is not None:
        raise errors.contact_exists(holder.number)
    moment = stamp()
    indexed_at = _index_moment(account, moment)
    try:
        with transaction.atomic():
            contact = HsContact.objects.create(
                account=account, number=allocate_ids(account, "contact"), properties=stored, email_key=email_key,
                created_at=moment, updated_at=moment, indexed_at=indexed_at,
            )
    except IntegrityError:  # a concurrent write took the email first
        holder = _email_holder(account, email_key)
        raise errors.contact_exists(holder.number if holder else 0) from None
    events.created(contact)
    events.changed(contact, stored)
    return contact


def contact_update(account: HsAccount, contact: HsContact, values: dict[str, str], events: EventLog) -> HsContact:
    """Write checked ``values`` (an empty string clears); 409 if the new email is another
    live contact's."""
    changed = {k: v for k, v in values.items() if contact.properties.get(k, "") != v}
    if not changed:
        return contact
    _reindex(account, contact)
    if "email" in changed:
        email_key = changed["email"].lower()
        holder = _email_holder(account, email_key, other_than=contact.pk)
        if holder is not None:
            raise errors.contact_exists(holder.number)
        contact.email_key = email_key
    for name, value in changed.items():
        if value == "":
            contact.properties.pop(name, None)
        else:
            contact.properties[name] = value
    contact.updated_at = stamp()
    contact.indexed_at = _index_moment(account, contact.updated_at)
    try:
        with transaction.atomic():
            contact.save(update_fields=["properties", "email_key", "updated_at", "indexed", "indexed_at"])
    except IntegrityError:
        holder = _email_holder(account, contact.email_key, other_than=contact.pk)
        raise errors.contact_exists(holder.number if holder else 0) from None
    events.changed(contact, changed)
    return contact


def contact_archive(account: HsAccount, contact: HsContact, events: EventLog) -> None:
    """Archive: the contact leaves lists and search; its notes stay, attached to nobody."""
    if contact.archived:
        return
    moment = stamp()
    contact.archived, contact.archived_at, contact.updated_at = True, moment, moment
    contact.save(update_fields=["archived", "archived_at", "updated_at"])
    HsNote.objects.filter(contact=contact).update(contact=None)
    events.deleted(contact)


def contact_merge(account: HsAccount, primary: HsContact, other: HsContact, events: EventLog) -> HsContact:
    """Merge ``other`` into ``primary``: a new contact takes both their places (see the
    module's notes for the rules); returns it."""
    if primary.pk == other.pk:
        raise errors.validation("Cannot merge a contact into itself.")  # (emulator) wording
    values = dict(primary.properties)
    moved = 0
    for name, value in other.properties.items():
        if name not in _MERGE_OWN and value and not values.get(name):
            values[name] = value
            moved += 1
    email_key = primary.email_key
    other_email = other.properties.get("email", "")
    extra_emails = _split(values.get("hs_additional_emails", ""))
    if other_email and not values.get("email"):
        values["email"], email_key = other_email, other_email.lower()
    elif other_email and other_email.lower() != email_key:
        extra_emails.append(other_email)
    extra_emails += _split(other.properties.get("hs_additional_emails", ""))
    extra_emails = [e for e in dict.fromkeys(extra_emails) if e.lower() != email_key]
    if extra_emails:
        values["hs_additional_emails"] = ";".join(extra_emails)
    merged = {int(n) for c in (primary, other) for n in _split(c.properties.get("hs_merged_object_ids", ""))}
    values["hs_merged_object_ids"] = ";".join(str(n) for n in sorted(merged | {primary.number, other.number}))
    moment = stamp()
    old = HsContact.objects.filter(pk__in=[primary.pk, other.pk])
    old.update(email_key="", updated_at=moment)  # the email passes to the new contact
    new = HsContact.objects.create(
        account=account, number=allocate_ids(account, "contact"), properties=values, email_key=email_key,
        created_at=min(primary.created_at, other.created_at), updated_at=moment,
    )
    HsContact.objects.filter(merged_into__in=[primary.pk, other.pk]).update(merged_into=new)
    old.update(merged_into=new)
    HsNote.objects.filter(contact__in=[primary.pk, other.pk]).update(contact=new)
    count = notes_count(new)
    if count:
        new.properties["num_notes"] = str(count)
        new.save(update_fields=["properties"])
    events.merged(new, primary.number, [other.number], moved)
    return new


def _index_moment(account: HsAccount, moment: datetime) -> datetime | None:
    """When search first finds a write stamped ``moment``: None (at once) unless the
    account has a search lag."""
    delay = lag.lag_draw(account, max_seconds=account.search_lag_seconds, seed=account.search_lag_seed,
                         counter="search_lag_writes")
    return lag.clock.at(moment) + delay if delay else None


def _reindex(account: HsAccount, contact: HsContact) -> None:
    """Before a contact changes: keep what search knows of it (its state now, unless an
    earlier change is still waiting for the index, which then still shows an older one)."""
    if not account.search_lag_seconds:
        contact.indexed = None
    elif not awaiting_index(contact):
        contact.indexed = {"properties": dict(contact.properties), "lastmodifieddate": iso(contact.updated_at)}


def awaiting_index(contact: HsContact) -> bool:
    return contact.indexed_at is not None and contact.indexed_at > lag.clock.now()


def as_indexed(contact: HsContact) -> HsContact | None:
    """The contact as search sees it now: itself, its previously indexed state, or None
    (new, not indexed yet)."""
    if not awaiting_index(contact):
        return contact
    if contact.indexed is None:
        return None
    seen = copy.copy(contact)
    seen.properties = dict(contact.indexed["properties"])
    seen.updated_at = from_ms(parse_ms(contact.indexed["lastmodifieddate"]))
    return seen


def notes_count(contact: HsContact) -> int:
    return HsNote.objects.filter(contact=contact, archived=False).count()


def notes_recount(contact: HsContact, events: EventLog) -> None:
    """Store the contact's ``num_notes`` after its notes changed (a calculated property:
    its change moves ``lastmodifieddate`` like any other)."""
    value = str(notes_count(contact))
    if contact.properties.get("num_notes", "0") != value:
        _reindex(contact.account, contact)
        contact.properties["num_notes"] = value
        contact.updated_at = stamp()
        contact.indexed_at = _index_moment(contact.account, contact.updated_at)
        contact.save(update_fields=["properties", "updated_at", "indexed", "indexed_at"])
        events.changed(contact, {"num_notes": value})


def _split(text: str) -> list[str]:
    return [part for part in text.split(";") if part]


# --- batches ------------------------------------------------------------------------------------------
def batch_inputs(body: Any, *, limit: int = 100) -> list[dict[str, Any]]:
    """The ``inputs`` of a batch body: a list of objects, at most ``limit``."""
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list) or any(not isinstance(i, dict) for i in inputs):
        raise errors.validation("Invalid input JSON: inputs must be a list of objects.")  # (emulator) wording
    if len(inputs) > limit:
        raise errors.validation(f"Batch input size {len(inputs)} exceeds the maximum of {limit}.")  # (emulator) wording
    return inputs


def duplicates(ids: list[str]) -> None:
    seen: set[str] = set()
    repeated = [i for i in ids if i in seen or seen.add(i)]
    if repeated:
        raise errors.validation(f"Duplicate IDs found in batch input: {sorted(set(repeated))}. IDs must be unique")


def checked_batch(properties: dict[str, HsProperty], inputs: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Every input's checked properties; the first input with a refused value fails the batch."""
    return [checked_values(properties, item.get("properties") or {}) for item in inputs]
