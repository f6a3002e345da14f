"""The guided set-up of a sync: what each step reads from the two systems, what it checks,
and the sync it finally creates, switched off.

The steps' answers travel in a *draft*, a plain dict kept in the person's session until the
last step (see ``setup_views.sync_setup``): nothing half-made lands in the sync list, the scheduler
or the admin, and the field lists read at step 2 come with it, so later steps ask no vendor.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from django.db import transaction

from connectors.base import ConnectorError, FieldDescription, ObjectDescription, ObjectSummary, RecordType

from . import credentials as crypto
from . import services
from .integrations import default_integration, integration_class, integrations_joining
from .models import Connection, FieldMapping, RecordTypeChoice, Sync, SyncRule, UpdatePolicy

STEPS = (
    (1, "Connections"),
    (2, "Objects"),
    (3, "Integration"),
    (4, "Field mappings"),
    (5, "Rules and schedule"),
)
# What each step's answers are kept under in the draft; changing a step's answers drops the
# later steps', which were chosen for the old ones.
STEP_KEYS = {1: "connections", 2: "objects", 3: "integration", 4: "mappings", 5: "schedule"}


class ConnectionUnreadable(Exception):
    """A system could not be asked (its vendor is down, its credentials refused): the message
    names the connection and says why, and the person may try again."""

    def __init__(self, connection: Connection, reason: str):
        self.connection = connection
        self.message = f"“{connection.name}” could not be read: {reason}"
        super().__init__(self.message)


# --- reading the systems ------------------------------------------------------------------------------
def setup_objects(connection: Connection) -> list[ObjectSummary]:
    """The objects a sync may use in ``connection``'s account, from the account's own list."""
    try:
        return services.connection_connector(connection, patient=False).objects()
    except ConnectorError as exc:
        raise ConnectionUnreadable(connection, exc.message) from exc
    except crypto.CredentialsUnreadable as exc:
        raise ConnectionUnreadable(connection, str(exc)) from exc


def setup_describe(connection: Connection, object_name: str) -> ObjectDescription:
    """An object's fields and record types, as ``connection``'s system describes them."""
    try:
        return services.connection_connector(connection, patient=False).describe(object_name)
    except ConnectorError as exc:
        raise ConnectionUnreadable(connection, exc.message) from exc
    except crypto.CredentialsUnreadable as exc:
        raise ConnectionUnreadable(connection, str(exc)) from exc


def description_to_draft(description: ObjectDescription) -> dict:
    return asdict(description)


def description_from_draft(data: dict) -> ObjectDescription:
    tuples = ("picklist_values", "reference_to")
    return ObjectDescription(
        name=data["name"], label=data["label"],
        fields=[FieldDescription(**{k: tuple(v) if k in tuples else v for k, v in f.items()}) for f in data["fields"]],
        record_types=[RecordType(**r) for r in data.get("record_types", [])],
    )


def writes_by_natural_key(connection: Connection, object_name: str) -> bool:
    """Whether creates in this object are idempotent by themselves (the vendor upserts by a key
    such as an email); no vendor call."""
    return services.connection_connector(connection, patient=False).natural_key(object_name) is not None


# --- what a field may be mapped to --------------------------------------------------------------------
TEXT = frozenset({"string", "textarea", "encryptedstring", "combobox"})
NUMBER = frozenset({"int", "double", "currency", "percent", "long"})
IDS = frozenset({"id", "reference"})
# What each kind of target field accepts from the other side (types are the connectors' neutral ones).
_ACCEPTS: dict[str, tuple[frozenset[str], str]] = {
    "email": (frozenset({"email"}) | TEXT, "an email field takes an email or a text"),
    "phone": (frozenset({"phone"}) | TEXT, "a phone field takes a phone number or a text"),
    "url": (frozenset({"url"}) | TEXT, "a URL field takes a URL or a text"),
    "picklist": (frozenset({"picklist", "email", "phone", "url"}) | TEXT, "a picklist takes a picklist value or a text"),
    "multipicklist": (frozenset({"multipicklist", "picklist"}) | TEXT, "a multi-select picklist takes picklist values or a text"),
    "boolean": (frozenset({"boolean"}), "a checkbox takes only a checkbox"),
    "date": (frozenset({"date"}), "a date field takes only a date"),
    "datetime": (frozenset({"datetime", "date"}), "a date/time field takes a date or a date/time"),
    "id": (IDS, "an id field takes only the id of another record"),
    "reference": (IDS, "a lookup takes only the id of another record"),
    **{t: (NUMBER, "a number field takes only a number") for t in NUMBER},
}
_UNMAPPABLE = frozenset({"address", "location", "base64", "anyType", "complexvalue"})


def field_label(field: FieldDescription) -> str:
    """How a field is offered in a picker: its label, name and type, and what to know."""
    notes = [field.type]
    if field.required and field.createable:
        notes.append("required")
    if not field.createable and not field.updateable:
        notes.append("read-only")
    if field.external_id:
        notes.append("external id")
    elif field.unique:
        notes.append("unique")
    return f"{field.label} ({field.name}) · {', '.join(notes)}"


def mapping_refusal(value_from: FieldDescription, value_to: FieldDescription, *, to_system: str) -> str:
    """Why the value of ``value_from`` cannot be written into ``value_to`` of ``to_system``
    ("" when it can): the target must be writable and take the source's type."""
    if not value_to.createable and not value_to.updateable:
        return f"{value_to.label} ({value_to.name}) is read-only in {to_system}: nothing can be written to it."
    if value_from.type in _UNMAPPABLE or value_to.type in _UNMAPPABLE:
        compound = value_from if value_from.type in _UNMAPPABLE else value_to
        return f"{compound.label} ({compound.name}) is a compound {compound.type} field: map its parts instead."
    if value_to.type in TEXT or value_to.type not in _ACCEPTS:
        return ""  # any value can be written as text
    accepted, rule = _ACCEPTS[value_to.type]
    if value_from.type in accepted:
        return ""
    return (f"{value_from.label} ({value_from.name}) is {value_from.type} and {value_to.label} ({value_to.name}) "
            f"in {to_system} is {value_to.type}: {rule}.")


def pair_refusal(source: FieldDescription, target: FieldDescription, *, two_way: bool, to_source: str,
                 source_system: str, target_system: str) -> str:
    """Why a mapping of ``source`` to ``target`` is refused, for the ways it is written."""
    reason = mapping_refusal(source, target, to_system=target_system)
    if not reason and two_way and to_source != UpdatePolicy.SKIP:
        reason = mapping_refusal(target, source, to_system=source_system)
        if reason:
            reason += " (It is written back in a two-way sync: choose “Don't sync” for the way back, or another pair.)"
    return reason


def required_unmapped(description: ObjectDescription, mapped: set[str], *, filled: frozenset[str] = frozenset()) -> list[FieldDescription]:
    """Fields the system needs on a new record that no mapping fills (nor, ``filled``, the integration)."""
    mapped_lower = {name.lower() for name in mapped | set(filled)}
    return [f for f in description.fields if f.required and f.createable and f.name.lower() not in mapped_lower]


def id_field_candidates(description: ObjectDescription) -> list[FieldDescription]:
    """Fields that can carry the other side's record id: writable external-id fields."""
    return [f for f in description.fields if f.external_id and f.createable and f.type in TEXT]


def suggested_key(source: ObjectDescription, target: ObjectDescription) -> tuple[str, str] | None:
    """A matching key to offer first: the email fields of both sides, when each has one."""
    emails = [[f.name for f in d.fields if f.type == "email"] for d in (source, target)]
    if not all(emails):
        return None
    preferred = [next((n for n in names if n.lower() in ("email", "personemail")), names[0]) for names in emails]
    return preferred[0], preferred[1]


def suggested_rows(source: ObjectDescription, target: ObjectDescription, *, two_way: bool) -> list[dict]:
    """Mappings to start from: fields of the same label on both sides that may be mapped,
    the email pair as the matching key. The person changes or clears them."""
    key = suggested_key(source, target)
    rows, taken = [], set()
    by_label = {}
    for f in target.fields:
        by_label.setdefault(f.label.lower(), f)
    for f in source.fields:
        partner = by_label.get(f.label.lower())
        if partner is None or partner.name in taken or f.type in IDS or partner.type in IDS:
            continue
        if pair_refusal(f, partner, two_way=two_way, to_source=UpdatePolicy.ALWAYS, source_system="", target_system=""):
            continue
        taken.add(partner.name)
        rows.append(asdict(MappingRow(f.name, partner.name, is_key=(f.name, partner.name) == key)))
    if key and not any(r["is_key"] for r in rows):
        rows.insert(0, asdict(MappingRow(*key, is_key=True)))
    rows.sort(key=lambda r: not r["is_key"])
    return rows


# --- the steps' choices ---------------------------------------------------------------------------------
def integration_choices(source: Connection, target: Connection) -> list[tuple[str, str]]:
    """The integrations a sync between the two systems may use, the one made for them first."""
    return [(cls.key, cls.label) for cls in integrations_joining({source.kind, target.kind})]


def integration_default(source: Connection, target: Connection) -> str:
    return default_integration({source.kind, target.kind})


def draft_sides(draft: dict, *, source: Connection, target: Connection) -> dict:
    """For "source" and "target": the connection, object and its description (as read at
    step 2), whether creates there need an idempotency field, its candidates, record types."""
    objects = draft["objects"]
    sides = {}
    for side, connection in (("source", source), ("target", target)):
        description = description_from_draft(draft["described"][side])
        sides[side] = {"connection": connection, "object": objects[f"{side}_object"], "description": description,
                       "needs_id_field": not writes_by_natural_key(connection, objects[f"{side}_object"]),
                       "id_fields": id_field_candidates(description), "record_types": description.record_types}
    return sides


def rule_field_choices(sides: dict, *, two_way: bool) -> list:
    """The fields rules may test, grouped by side (``side:field``); the target's only for a
    two-way sync, whose way back reads it."""
    return [(f"{sides[side]['connection'].name} · {sides[side]['object']}",
             [(f"{side}:{f.name}", field_label(f)) for f in sides[side]["description"].fields])
            for side in (("source", "target") if two_way else ("source",))]


@dataclass
class MappingRow:
    source_field: str
    target_field: str
    to_target: str = UpdatePolicy.ALWAYS
    to_source: str = UpdatePolicy.ALWAYS
    is_key: bool = False


# --- the end: the sync, switched off ---------------------------------------------------------------------
@transaction.atomic
def sync_setup_create(*, draft: dict) -> Sync:
    """Create the sync the draft describes, switched off, with its mappings, record types,
    rules and schedule. It runs only once someone switches it on (after a preview)."""
    connections, objects = draft["connections"], draft["objects"]
    chosen, schedule = draft["integration"], draft["schedule"]
    source = Connection.objects.get(pk=connections["source"])
    target = Connection.objects.get(pk=connections["target"])
    sync = Sync.objects.create(
        name=schedule["name"], source=source, source_object=objects["source_object"], target=target,
        target_object=objects["target_object"], integration=chosen["integration"], direction=chosen["direction"],
        target_id_field=chosen.get("target_id_field", ""), source_id_field=chosen.get("source_id_field", ""),
        trigger=schedule["trigger"], completeness_every_hours=schedule.get("completeness_every_hours"), enabled=False,
    )
    # An object whose API name is a key (a Zoho Campaigns list) is shown by the name it was chosen by.
    labels = {side: label for side in ("source", "target")
              for name, label in draft.get("listed", {}).get(side, []) if name == objects[f"{side}_object"] and label != name}
    if labels:
        sync.options = {**(sync.options or {}), "object_labels": labels}
        sync.save(update_fields=["options"])
    for position, row in enumerate(draft["mappings"]["rows"]):
        FieldMapping.objects.create(sync=sync, position=position, **asdict(MappingRow(**row)))
    for side, object_name in (("target", sync.target_object), ("source", sync.source_object)):
        record_type = chosen.get(f"{side}_record_type")
        if record_type:
            RecordTypeChoice.objects.create(sync=sync, side=side, object_name=object_name, record_type_id=record_type["id"],
                                            label=record_type["label"], is_default=True)
    for rule in schedule.get("rules", []):
        SyncRule.objects.create(sync=sync, **rule)
    services.sync_schedule_set(sync=sync, every_minutes=schedule.get("every_minutes"), crontab=schedule.get("crontab", ""))
    return sync


def settings_pages(integration_key: str) -> tuple[tuple[str, str], ...]:
    """The integration's own settings pages, (label, URL name taking the sync's pk)."""
    return integration_class(integration_key).settings_pages
