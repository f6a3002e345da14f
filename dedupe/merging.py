"""One merge decision, carried out in every system it touches (SPEC HS-3 … HS-8).

Salesforce first: the master is the record the HubSpot contacts are linked to (HS-4); the
others of its object are merged into it at most two at a time, three records per call (HS-5),
and a Lead that duplicates a Contact is converted into that Contact. Then HubSpot: its
contacts are merged into the one linked to the master so that their activity history is
kept (HS-7), or deleted or kept as the sync's HS-6 setting says. Last, the links of every
HubSpot ⇄ Salesforce sync are pointed at the survivors and the sync is run, so that no
"record no longer exists" error is left behind (HS-8). Each call is a recorded
:class:`MergeStep` with the values before and after.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from connectors.base import ConnectorError

from . import sources
from .models import DuplicateGroup, DuplicateMember, MergeJob, MergeStep, Person, PersonKey

log = logging.getLogger(__name__)

SALESFORCE_MERGE_MAX = 3  # records per merge call, master included (HS-5)
CONVERTED_STATUS = "Closed - Converted"


class HubSpotAction:
    """What happens to the merged-away HubSpot contacts. Keeping them is not offered: a kept
    contact, no longer linked, would be synced into a new Salesforce duplicate at once."""

    MERGE = "merge"
    DELETE = "delete"
    CHOICES = [
        (MERGE, "Merge the HubSpot contacts too (keeps their activity history)"),
        (DELETE, "Delete the merged-away HubSpot contacts"),
    ]


class MergeRefused(Exception):
    """The decision cannot be carried out as given; the message says why."""


# --- the merge screen ---------------------------------------------------------------------------
@dataclass
class FieldRow:
    name: str
    label: str
    values: dict[str, str]  # member key → value
    chosen: str  # member key whose value the master keeps
    differs: bool = False
    writable: bool = True  # whether the master's system lets a merge set it (a Contact's company is its Account's)


@dataclass
class Comparison:
    members: list[DuplicateMember]
    master: DuplicateMember
    rows: list[FieldRow] = field(default_factory=list)


def comparison(group: DuplicateGroup, master_key: str | None = None) -> Comparison:
    """Every field side by side, with the value the master would keep: its own, or the first
    non-blank one of the others when its own is blank."""
    members = list(group.members.select_related("person", "connection"))
    if not members:  # its records' connection was deleted
        raise MergeRefused("This group has no records left to compare.")
    master = next((m for m in members if m.key == master_key), None) or next((m for m in members if m.proposed_master), members[0])
    ordered = [master] + [m for m in members if m is not master]
    names = list(sources.NEUTRAL_FIELDS)
    for m in members:
        names += [n for n in (m.person.fields if m.person else {}) if n not in names]
    rows = []
    for name in names:
        values = {m.key: str((m.person.fields if m.person else {}).get(name, "") or "") for m in ordered}
        if not any(values.values()):
            continue
        chosen = next((k for k, v in values.items() if v), master.key)
        distinct = {v.strip().lower() for v in values.values() if v}
        differs = len(distinct) > 1 or (len(distinct) == 1 and not all(values.values()))
        writable = sources.system_field(master.connection.kind, master.object_name, name) is not None
        if not writable:
            chosen = master.key
        rows.append(FieldRow(name, sources.LABELS.get(name, name), values, chosen, differs, writable))
    return Comparison(ordered, master, rows)


def history_warning(group: DuplicateGroup, action: str, members: list[DuplicateMember] | None = None) -> str:
    """HS-7: what deleting the merged-away HubSpot contacts would lose (``members``: the
    group's, when the caller has them already)."""
    hubspot = [m for m in (members if members is not None else group.members.all()) if m.connection.kind == "hubspot"]
    if action != HubSpotAction.DELETE or len(hubspot) < 2:
        return ""
    return (f"{len(hubspot) - 1} HubSpot contact(s) will be deleted; their activity history (emails, notes, "
            "page views) is lost. Merge them in HubSpot instead to keep it.")


# --- requesting ---------------------------------------------------------------------------------
def merge_request(*, group: DuplicateGroup, user, master_key: str | None = None, choices: dict[str, str] | None = None,
                  hubspot_action: str = "", batch: str = "") -> MergeJob:
    """Record a merge decision and queue it. ``choices``: field → member key whose value wins."""
    with transaction.atomic():
        group = DuplicateGroup.objects.select_for_update().get(pk=group.pk)
        if group.status not in (DuplicateGroup.Status.OPEN, DuplicateGroup.Status.FAILED):
            raise MergeRefused(f"This group is {group.get_status_display().lower()} already.")
        view = comparison(group, master_key)
        keys = {m.key for m in view.members}
        if master_key and master_key not in keys:
            raise MergeRefused("The chosen master is not in this group.")
        picked = {row.name: row.chosen for row in view.rows}
        fixed = {row.name: row.label for row in view.rows if not row.writable}
        for name, key in (choices or {}).items():
            if key not in keys:
                raise MergeRefused(f"The value chosen for {name} comes from a record outside this group.")
            if name in fixed and key != view.master.key:
                raise MergeRefused(f"{fixed[name]} cannot be set by a merge: on a {view.master.object_name} it comes from a related "
                                   "record (the Account). Change it there.")
            picked[name] = key
        _check_plan(view.master, view.members)
        if hubspot_action and hubspot_action not in dict(HubSpotAction.CHOICES):
            raise MergeRefused("Choose what happens to the HubSpot contacts.")
        job = MergeJob.objects.create(
            group=group, batch=batch, master_key=view.master.key, choices=picked, requested_by=user,
            # Merging in HubSpot too is the default: only it keeps the merged-away contacts'
            # activity history (HS-7); the reviewer may choose to delete instead, warned.
            hubspot_action=hubspot_action or HubSpotAction.MERGE,
        )
        group.status = DuplicateGroup.Status.MERGING
        group.save(update_fields=["status", "updated_at"])
    return job


def merge_bulk_request(*, groups, user) -> str:
    """Approve many groups with their proposed masters and default field choices; returns the
    batch id under which their progress can be followed. Groups that cannot be merged as
    proposed are left open and reported."""
    batch = uuid.uuid4().hex[:12]
    jobs = []
    for group in groups:
        try:
            jobs.append(merge_request(group=group, user=user, batch=batch).pk)
        except MergeRefused as exc:
            log.info("Group %s left for review: %s", group.pk, exc)
    return batch


def _check_plan(master: DuplicateMember, members: list[DuplicateMember]) -> None:
    salesforce = [m for m in members if m.connection.kind == "salesforce"]
    if salesforce and master.connection.kind != "salesforce":
        raise MergeRefused("The master must be a Salesforce record: HubSpot follows Salesforce (HS-4).")
    if len({m.connection_id for m in salesforce}) > 1:
        raise MergeRefused("The group's Salesforce records are in different orgs; merge within one org.")
    if master.object_name == "Lead" and any(m.object_name == "Contact" for m in salesforce):
        raise MergeRefused("A Lead cannot absorb a Contact: choose a Contact as the master; Leads are converted into it.")
    if len({m.connection_id for m in members if m.connection.kind == "hubspot"}) > 1:
        raise MergeRefused("The group's HubSpot contacts are in different accounts; merge within one account.")


# --- carrying out ---------------------------------------------------------------------------------
class _Steps:
    def __init__(self, job: MergeJob):
        self.job = job
        self.position = job.steps.count()
        self.current: MergeStep | None = None

    def record(self, **values) -> MergeStep:
        self.position += 1
        self.current = MergeStep.objects.create(job=self.job, position=self.position, **values)
        return self.current

    def done(self, step: MergeStep, **values) -> None:
        for k, v in values.items():
            setattr(step, k, v)
        step.status, step.done_at = MergeStep.Status.DONE, timezone.now()
        step.save()
        self.current = None
        self.job.steps_done = self.job.steps.filter(status=MergeStep.Status.DONE).count()
        MergeJob.objects.filter(pk=self.job.pk).update(steps_done=self.job.steps_done)

    def fail(self, message: str) -> None:
        """The step under way was refused: it says why (and nothing after it ran)."""
        if self.current is not None:
            self.current.status, self.current.message, self.current.done_at = MergeStep.Status.FAILED, message, timezone.now()
            self.current.save(update_fields=["status", "message", "done_at"])
            self.current = None


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _values(connector, object_name: str, ids: list[str], fields: list[str]) -> dict[str, dict]:
    return {r.id: r.fields for r in connector.fetch(object_name, ids, fields)} if ids else {}


def merge_execute(job: MergeJob) -> MergeJob:
    """Carry out a queued merge decision, step by step. At the first refused step it stops,
    says why, and still points the links away from the records already merged away; merging
    the group again takes up where this one stopped."""
    from syncconfig.services import connection_connector

    if not MergeJob.objects.filter(pk=job.pk, status=MergeJob.Status.QUEUED).update(status=MergeJob.Status.RUNNING):
        job.refresh_from_db()
        return job  # already taken (a task delivered twice): one worker merges
    job.status = MergeJob.Status.RUNNING
    group = job.group
    members = list(group.members.select_related("person", "connection"))
    by_key = {m.key: m for m in members}
    master = by_key[job.master_key]
    earlier = _merged_before(group, members)  # by an earlier, failed attempt on this group
    left = [m for m in members if m.key not in earlier]
    gone: list[DuplicateMember] = [m for m in members if m.key in earlier]
    steps = _Steps(job)
    try:
        salesforce = [m for m in left if m.connection.kind == "salesforce"]
        hubspot = [m for m in left if m.connection.kind == "hubspot"]
        job.steps_total = steps.position + _planned_steps(master, salesforce, hubspot)
        MergeJob.objects.filter(pk=job.pk).update(steps_total=job.steps_total)
        chosen = _chosen_values(job, by_key, master, connection_connector)
        if salesforce:
            gone += _merge_salesforce(steps, connection_connector(master.connection), master, salesforce, chosen)
        if hubspot:
            gone += _merge_hubspot(steps, connection_connector(hubspot[0].connection), master, hubspot, chosen, job.hubspot_action)
        _resync(steps, master, members, gone)
    except Exception as exc:
        if isinstance(exc, ConnectorError):
            message = exc.message
        elif isinstance(exc, MergeRefused):
            message = str(exc)
        else:
            log.exception("Merge %s failed", job.pk)
            message = f"Unexpected error ({exc.__class__.__name__}); the steps done so far are recorded. See the log."
        steps.fail(message)
        if gone:
            try:  # the records already merged away must not stay linked (HS-6 would delete their contacts)
                _resync(steps, master, members, gone, partial=True)
            except Exception:
                log.exception("Merge %s: the links of the records merged away could not be cleaned up", job.pk)
        _people_gone(gone)
        job.status, job.message, job.finished_at = MergeJob.Status.FAILED, message, timezone.now()
        job.save(update_fields=["status", "message", "finished_at"])
        group.status = DuplicateGroup.Status.FAILED
        group.save(update_fields=["status", "updated_at"])
        return job
    with transaction.atomic():
        _people_gone(gone)
        if master.person is not None:
            master.person.fields = {**master.person.fields, **{k: v for k, v in chosen.items() if v}}
            master.person.keyed_for = ""  # its matching keys are indexed again by the next pass
            master.person.save(update_fields=["fields", "keyed_for"])
        job.status, job.finished_at, job.steps_total = MergeJob.Status.SUCCEEDED, timezone.now(), job.steps_done
        job.message = f"Merged {len(gone)} record(s) into {master.label} ({master.object_name} {master.record_id})."
        job.save(update_fields=["status", "finished_at", "message", "steps_total"])
        group.status, group.decided_by, group.decided_at = DuplicateGroup.Status.MERGED, job.requested_by, timezone.now()
        group.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    return job


def _merged_before(group: DuplicateGroup, members: list[DuplicateMember]) -> set[str]:
    """Keys of the members an earlier attempt on this group already merged away or deleted."""
    done = MergeStep.objects.filter(job__group=group, status=MergeStep.Status.DONE, action__in=["merge", "convert", "delete"])
    gone = {(step.system, record_id) for step in done for record_id in step.merged_ids}
    label = {"salesforce": "Salesforce", "hubspot": "HubSpot"}
    return {m.key for m in members if (label.get(m.connection.kind), m.record_id) in gone}


def _chosen_values(job: MergeJob, by_key: dict, master: DuplicateMember, connection_connector) -> dict[str, str | None]:
    """The values the reviewer chose from records other than the master, read fresh from
    their systems (the matcher's snapshot may be older than an edit made since); a blank
    chosen deliberately clears the field. Fields left to the master are not written at all."""
    wanted = {name: by_key[key] for name, key in job.choices.items() if key in by_key and key != master.key}
    if not wanted:
        return {}
    fresh: dict[str, dict] = {}
    by_source: dict[tuple, list[DuplicateMember]] = {}
    for member in wanted.values():
        by_source.setdefault((member.connection_id, member.object_name), []).append(member)
    for members in by_source.values():
        first = members[0]
        fields = [f for f in (sources.system_field(first.connection.kind, first.object_name, n) for n in wanted) if f]
        connector = connection_connector(first.connection)
        fresh.update({f"{first.connection_id}:{first.object_name}:{rid}": values
                      for rid, values in _values(connector, first.object_name, [m.record_id for m in members], fields).items()})
    chosen: dict[str, str | None] = {}
    for name, member in wanted.items():
        if member.key not in fresh:
            raise MergeRefused(f"{member.label} ({member.object_name} {member.record_id}), whose {sources.LABELS.get(name, name).lower()} "
                               "was chosen, no longer exists. Run matching again and review the group.")
        field = sources.system_field(member.connection.kind, member.object_name, name)
        value = fresh[member.key].get(field) if field else None
        chosen[name] = str(value) if value not in (None, "") else None
    return chosen


def _planned_steps(master, salesforce, hubspot) -> int:
    same = [m for m in salesforce if m.object_name == master.object_name and m is not master]
    leads = [m for m in salesforce if m.object_name != master.object_name]
    hubspot_steps = len(hubspot) - 1 + (1 if hubspot else 0)
    return max(1, -(-len(same) // (SALESFORCE_MERGE_MAX - 1))) + len(leads) + hubspot_steps + 1


def _salesforce_fields(object_name: str) -> list[str]:
    fields = [f for f in sources.FIELD_MAPS[("salesforce", object_name)].values() if "." not in f]
    return fields + (["AccountId"] if object_name == "Contact" else [])


def _merge_salesforce(steps: _Steps, connector, master: DuplicateMember, salesforce: list[DuplicateMember], chosen: dict) -> list[DuplicateMember]:
    obj = master.object_name
    fields = _salesforce_fields(obj)
    values = {}
    for name, value in chosen.items():
        target = sources.system_field("salesforce", obj, name)
        if target and target in fields:
            values[target] = value
    same = [m for m in salesforce if m.object_name == obj and m is not master]
    others = [m for m in salesforce if m.object_name != obj]
    account_id = None
    if others:  # checked before anything is written, so a refusal leaves nothing half-merged
        account_id = _values(connector, obj, [master.record_id], ["AccountId"]).get(master.record_id, {}).get("AccountId")
        if not account_id:
            raise MergeRefused(f"Contact {master.record_id} has no Account: Salesforce converts a Lead into a Contact only "
                               "together with the Contact's Account. Give it one, then merge again.")
    gone: list[DuplicateMember] = []
    first = True
    for chunk in _chunks(same, SALESFORCE_MERGE_MAX - 1):
        ids = [m.record_id for m in chunk]
        before = _values(connector, obj, [master.record_id, *ids], fields)
        step = steps.record(system="Salesforce", action="merge", object_name=obj, master_id=master.record_id, merged_ids=ids, before=before)
        result = connector.merge(obj, master.record_id, ids, values if first else None)
        first = False
        steps.done(step, after=_values(connector, obj, [master.record_id], fields),
                   message=f"Merged {', '.join(result.merged_ids or ids)} into {master.record_id}.")
        gone += chunk
    if first and values:  # nothing of the master's own object to merge: still keep the chosen values
        before = _values(connector, obj, [master.record_id], fields)
        step = steps.record(system="Salesforce", action="update", object_name=obj, master_id=master.record_id, before=before)
        results = connector.update(obj, [{"Id": master.record_id, **values}])
        if not results[0].ok:
            raise results[0].error
        steps.done(step, after=_values(connector, obj, [master.record_id], fields))
    for lead in others:  # a Lead duplicating the master Contact is converted into it
        before = _values(connector, "Lead", [lead.record_id], _salesforce_fields("Lead"))
        step = steps.record(system="Salesforce", action="convert", object_name="Lead", master_id=master.record_id,
                            merged_ids=[lead.record_id], before=before)
        connector.convert_lead(lead.record_id, converted_status=CONVERTED_STATUS, account_id=account_id, contact_id=master.record_id)
        steps.done(step, after=_values(connector, obj, [master.record_id], fields),
                   message=f"Converted Lead {lead.record_id} into Contact {master.record_id}.")
        gone.append(lead)
    return gone


def _hubspot_primary(connector, master: DuplicateMember, hubspot: list[DuplicateMember]) -> DuplicateMember:
    """The HubSpot contact that stays: the one linked to the Salesforce master, else the one
    with the most activity, else the most recently changed."""
    from .services import _sync_links

    for member in hubspot:
        if member.key == master.key or (member.person and member.person.linked_to == master.record_id):
            return member
    for member in hubspot:
        if member.person and (member.record_id, master.record_id) in _sync_links([member.person]):
            return member
    counts = connector.activity_counts([m.record_id for m in hubspot]) if len(hubspot) > 1 else {}
    return max(hubspot, key=lambda m: (counts.get(m.record_id, 0), m.person.modified_at if m.person else ""))


def _merge_hubspot(steps: _Steps, connector, master: DuplicateMember, hubspot: list[DuplicateMember], chosen: dict, action: str) -> list[DuplicateMember]:
    primary = _hubspot_primary(connector, master, hubspot)
    fields = [f for f in sources.FIELD_MAPS[("hubspot", "contacts")].values()] + ["num_notes", "hs_merged_object_ids",
                                                                                  "salesforcecontactid", "salesforceleadid"]
    others = [m for m in hubspot if m is not primary]
    gone: list[DuplicateMember] = []
    for other in others:
        before = _values(connector, "contacts", [primary.record_id, other.record_id], fields)
        step = steps.record(system="HubSpot", action=action, object_name="contacts", master_id=primary.record_id,
                            merged_ids=[other.record_id], before=before)
        if action == HubSpotAction.MERGE:
            result = connector.merge("contacts", primary.record_id, [other.record_id])
            if result.master_id and result.master_id != primary.record_id:
                # HubSpot gives the survivor a new id: the primary's links follow it.
                primary.previous_ids = [*getattr(primary, "previous_ids", []), primary.record_id]
                primary.record_id = result.master_id
        else:
            results = connector.delete([other.record_id])
            if results and not results[0].ok:
                raise results[0].error
        steps.done(step, after=_values(connector, "contacts", [primary.record_id], fields))
        gone.append(other)
    values = {}
    for name, value in chosen.items():
        target = sources.system_field("hubspot", "contacts", name)
        if target and value:
            values[target] = value
    if master.connection.kind == "salesforce":
        values[sources.HUBSPOT_SALESFORCE_ID_FIELDS.get(master.object_name, "salesforcecontactid")] = master.record_id
        values[sources.HUBSPOT_SALESFORCE_ID_FIELDS["Lead"] if master.object_name == "Contact" else "salesforcecontactid"] = ""
    before = _values(connector, "contacts", [primary.record_id], fields)
    step = steps.record(system="HubSpot", action="update", object_name="contacts", master_id=primary.record_id, before=before)
    results = connector.update("contacts", [{"Id": primary.record_id, **values}])
    if results and not results[0].ok:
        raise results[0].error
    steps.done(step, after=_values(connector, "contacts", [primary.record_id], fields),
               message=f"HubSpot contact {primary.record_id} now follows {master.object_name} {master.record_id}.")
    if primary.person is not None:
        Person.objects.filter(pk=primary.person_id).update(linked_to=master.record_id if master.connection.kind == "salesforce" else "")
    primary.primary = True
    return gone


def _resync(steps: _Steps, master: DuplicateMember, members: list[DuplicateMember], gone: list[DuplicateMember],
            *, partial: bool = False) -> None:
    """HS-8: point every HubSpot ⇄ Salesforce link at the survivors, close the errors the
    merged-away records left, and run the syncs so that the survivors agree now. After a
    failure (``partial``) only what is already merged away is unlinked."""
    from syncconfig.services import links_after_merge

    step = steps.record(system="Portal", action="resync" if not partial else "unlink", object_name="links",
                        master_id=master.record_id, merged_ids=[m.record_id for m in gone])
    primary = next((m for m in members if getattr(m, "primary", False)), None)
    summary = links_after_merge(
        master=(master.connection_id, master.object_name, master.record_id),
        primary=(primary.connection_id, primary.object_name, primary.record_id) if primary else None,
        primary_was=getattr(primary, "previous_ids", []) if primary else [],
        gone=[(m.connection_id, m.object_name, m.record_id) for m in gone],
        job=steps.job,
    )
    steps.done(step, after=summary, message=summary.get("message", ""))


def merge_batch_progress(batch: str) -> dict:
    jobs = MergeJob.objects.filter(batch=batch)
    counts = {status: 0 for status in MergeJob.Status.values}
    for status in jobs.values_list("status", flat=True):
        counts[status] += 1
    total = sum(counts.values())
    finished = counts[MergeJob.Status.SUCCEEDED] + counts[MergeJob.Status.FAILED]
    return {"total": total, "finished": finished, "succeeded": counts[MergeJob.Status.SUCCEEDED],
            "failed": counts[MergeJob.Status.FAILED], "done": total > 0 and finished == total}


def _people_gone(members) -> None:
    """The records merged away: deleted for matching, out of its index."""
    pks = [m.person_id for m in members if m.person_id]
    Person.objects.filter(pk__in=pks).update(deleted=True)
    PersonKey.objects.filter(person_id__in=pks).delete()
