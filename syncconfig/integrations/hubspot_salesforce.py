"""HubSpot ⇄ Salesforce, with links made explicit (SPEC HS-1, HS-2, HS-6, HS-8).

HubSpot knows a contact by its email and links it to whichever Salesforce record with that
email came back first, then drifts to the most recently updated one (HS-2). Here the link is
a stored :class:`RecordLink` with a history, moved only by the policy the admin chose or by a
person's pin; every email that matches more than one Salesforce record is put in the merge
queue as a duplicate candidate. When the linked Salesforce record disappears (merged away,
deleted) the contact is held back with a "Resync" error instead of silently getting a new
Salesforce record (HS-8); the HS-6 setting says what a Salesforce deletion does in HubSpot.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from connectors.base import NotSupported
from connectors.salesforce import id18
from syncconfig import duplicates, echoes
from syncconfig.duplicates import flag_candidates
from syncconfig.models import RecordError, RecordLink, RecordLinkEvent, Sync

from . import Integration, IntegrationOptions, register

log = logging.getLogger(__name__)


class LinkPolicy:
    """Which Salesforce record a HubSpot contact follows when several share its email."""

    STABLE = "stable"
    RECENT = "recent"
    COMPLETE = "complete"
    CHOICES = [
        (STABLE, "Keep the first link; never move it by itself"),
        (RECENT, "Follow the most recently updated record (HubSpot's own behaviour)"),
        (COMPLETE, "Prefer the most complete record (most mapped fields filled)"),
    ]


class OnSalesforceDelete:
    """HS-6: what happens in HubSpot when the linked Salesforce record is deleted or merged away."""

    DELETE = "delete"
    KEEP = "keep"
    CHOICES = [
        (DELETE, "Delete the HubSpot contact (recommended)"),
        (KEEP, "Keep the HubSpot contact"),
    ]


@dataclass
class HubSpotOptions(IntegrationOptions):
    """The integration's settings, kept in ``Sync.options``."""

    link_policy: str = LinkPolicy.STABLE
    on_salesforce_delete: str = OnSalesforceDelete.DELETE


# How often Salesforce is asked for deletions (HS-6): one query, not on every immediate run.
DELETIONS_EVERY = timedelta(minutes=2)

# HubSpot's own properties for the Salesforce record a contact syncs with (HS-4).
ID_PROPERTIES = {"Contact": "salesforcecontactid", "Lead": "salesforceleadid"}


def hubspot_syncs(connection_ids) -> list[Sync]:
    """The HubSpot ⇄ Salesforce syncs that use any of these connections."""
    return list(Sync.objects.filter(Q(source_id__in=connection_ids) | Q(target_id__in=connection_ids),
                                    integration=HubSpotSalesforceIntegration.key).select_related("source", "target"))


def _salesforce_is_target(direction) -> bool:
    return (direction.sync.target.kind == "salesforce") == direction.forward


@register
class HubSpotSalesforceIntegration(Integration):
    """HubSpot ⇄ Salesforce with explicit links and duplicates made visible (HS-1…HS-10)."""

    key = "hubspot_salesforce"
    label = "HubSpot ⇄ Salesforce (explicit links, duplicates)"
    kinds = frozenset({"hubspot", "salesforce"})
    settings_pages = (("HubSpot links and duplicates", "hubspot_links"),)
    options_class = HubSpotOptions

    @classmethod
    def after_merge(cls, *, master, primary, gone, job, primary_was=()) -> dict | None:
        return links_after_merge(master=master, primary=primary, gone=gone, job=job, primary_was=primary_was)

    def __init__(self, sync: Sync):
        super().__init__(sync)
        self.options = HubSpotOptions.of(sync)

    # --- HS-4: the Salesforce id HubSpot keeps on the contact -----------------------------------
    def _id_property(self, direction) -> str:
        sf_object = direction.target_object if _salesforce_is_target(direction) else direction.source_object
        return ID_PROPERTIES.get(sf_object, "")

    def extra_source_fields(self, direction) -> list[str]:
        return [self._id_property(direction)] if _salesforce_is_target(direction) and self._id_property(direction) else []

    def prepare_create(self, direction, change) -> None:
        if not _salesforce_is_target(direction) and self._id_property(direction):
            change.values[self._id_property(direction)] = change.record.id  # a new HubSpot contact names its record

    def after_write(self, direction, written) -> None:
        """A contact linked to a Salesforce record (created or found) stores its id, as
        HubSpot's own integration does, so that HubSpot and the merge queue agree on it."""
        prop = self._id_property(direction)
        if not prop or not _salesforce_is_target(direction):
            return
        updates = [{"Id": change.record.id, prop: result.id or change.target_id} for change, result in written
                   if (result.id or change.target_id) and id18(change.record.fields.get(prop) or "") != (result.id or change.target_id)]
        if updates:
            results = direction.source.update(direction.source_object, updates)
            for result in results:
                if not result.ok:
                    log.warning("Sync %s: could not store the Salesforce id on a HubSpot contact: %s", self.sync.pk, result.error.message)
            # HubSpot notifies the change of the property: the notification is this write's echo.
            echoes.own_writes_note(connector=direction.source, object_name=direction.source_object, records=updates,
                                   results=results)

    # --- HS-2: which Salesforce record a contact follows -----------------------------------
    def looks_up_before_upsert(self, direction) -> bool:
        # A second Salesforce record with a linked contact's email must not take that contact
        # over (HubSpot's drift); it is flagged as a duplicate instead.
        return True

    def relinks(self, direction) -> bool:
        return _salesforce_is_target(direction) and self.options.link_policy != LinkPolicy.STABLE

    def choose_partner(self, direction, change, free, all_found):
        if not _salesforce_is_target(direction):
            return super().choose_partner(direction, change, free, all_found)
        if len(all_found) > 1:
            self._flag_duplicates(direction, all_found)
        if not free:
            return None, ""
        named = id18(change.record.fields.get(self._id_property(direction)) or "")
        if named and change.matched_by != "link" and any(r.id == named for r in free):
            return next(r for r in free if r.id == named), "The contact's Salesforce ID property names this record."
        if self.options.link_policy == LinkPolicy.COMPLETE:
            fields = [t for _, t, _ in direction.pairs]
            chosen = max(free, key=lambda r: (sum(1 for f in fields if r.fields.get(f) not in (None, "")), r.modified_at or ""))
            why = "the most complete"
        else:  # free is newest first
            chosen = free[0]
            why = "the most recently updated" if len(free) > 1 else "the only"
        if len(all_found) == 1:
            return chosen, "Matched by email."
        others = ", ".join(r.id for r in all_found if r.id != chosen.id)
        moved = "Moved: " if change.matched_by == "link" else ""
        return chosen, (f"{moved}{len(all_found)} {direction.target_object}s share this email; linked to {why} "
                        f"(policy: {dict(LinkPolicy.CHOICES)[self.options.link_policy]}). Others: {others}.")[:300]

    def _flag_duplicates(self, direction, records) -> None:
        """Every email that matches several Salesforce records is a duplicate candidate (HS-2)."""
        flag_candidates(connection=self.sync.target if direction.forward else self.sync.source,
                        object_name=direction.target_object, records=records)

    # --- HS-8: the linked Salesforce record is gone -----------------------------------------
    def partner_gone(self, direction, change) -> str:
        if not _salesforce_is_target(direction):
            return ""
        return (f"The Salesforce record it synced with ({change.target_id}) no longer exists. "
                "Resync links it to the record it was merged into (or to the one with its email).")

    # --- HS-6: Salesforce deletions ----------------------------------------------------------
    def after_run(self, direction) -> None:
        # Once per run: in the Salesforce → HubSpot direction, or the only one there is.
        if _salesforce_is_target(direction) and self.sync.direction == Sync.Direction.TWO_WAY:
            return
        salesforce, hubspot = (direction.target, direction.source) if _salesforce_is_target(direction) else (direction.source, direction.target)
        sf_object = direction.target_object if _salesforce_is_target(direction) else direction.source_object
        since = (direction.sync.options or {}).get("hs6_deleted_since") or (self.sync.created_at.isoformat())
        if timezone.now() - datetime.fromisoformat(since) < DELETIONS_EVERY:
            return  # an immediate sync runs every few seconds; deletions are read less often
        started = timezone.now().isoformat()
        try:
            gone = {r.id: r.fields.get("MasterRecordId") for r in salesforce.deleted(sf_object, since)}
        except NotSupported:
            return
        if gone:
            hubspot_deletions_apply(sync=self.sync, hubspot=hubspot, gone=gone, options=self.options)
        with transaction.atomic():  # only this key: a setting saved meanwhile on the page stays
            current = Sync.objects.select_for_update().get(pk=self.sync.pk)
            current.options = {**(current.options or {}), "hs6_deleted_since": started}
            current.save(update_fields=["options"])


def _salesforce_side(sync: Sync) -> str:
    return "target" if sync.target.kind == "salesforce" else "source"


def hubspot_deletions_apply(*, sync: Sync, hubspot, gone: dict[str, str | None], options: HubSpotOptions) -> int:
    """HS-6 for Salesforce records deleted (or merged away, with their master's id): delete the
    linked HubSpot contact, or keep it unlinked. Returns how many HubSpot contacts it deleted."""
    side = _salesforce_side(sync)
    links = list(RecordLink.objects.filter(sync=sync, **{f"{side}_id__in": list(gone)}))
    if not links:
        return 0
    hubspot_ids = [link.source_id if side == "target" else link.target_id for link in links]
    deleted = 0
    if options.on_salesforce_delete == OnSalesforceDelete.DELETE:
        results = hubspot.delete(hubspot_ids)
        deleted = sum(1 for r in results if r.ok)
    # The links stay, with the event in their history: a kept contact that changes later is
    # held back with a Resync error (HS-8) rather than silently paired with a new record.
    RecordLinkEvent.objects.bulk_create([
        RecordLinkEvent(
            link=link, action=RecordLinkEvent.Action.UNLINKED, old_target_id=link.target_id, reason=(
                (f"Salesforce merged {getattr(link, f'{side}_id')} into {gone[getattr(link, f'{side}_id')]}"
                 if gone.get(getattr(link, f"{side}_id")) else f"Salesforce deleted {getattr(link, f'{side}_id')}")
                + ("; the HubSpot contact was deleted too (HS-6)." if options.on_salesforce_delete == OnSalesforceDelete.DELETE
                   else "; the HubSpot contact was kept (HS-6)."))[:300],
        )
        for link in links
    ])
    return deleted


def links_after_merge(*, master, primary, gone, job, primary_was=()) -> dict:
    """After a merge: in every HubSpot ⇄ Salesforce sync of these connections, link the
    surviving HubSpot contact to the Salesforce master, drop the merged-away records' links,
    close the errors they left, and run the sync. ``master``, ``primary`` and each of ``gone``
    are (connection id, object, record id); ``primary_was`` the ids the surviving contact had
    before HubSpot's merge gave it a new one (its links follow it)."""
    from syncconfig.services import sync_run_request_if_idle

    connection_ids = {master[0], *(g[0] for g in gone)} | ({primary[0]} if primary else set())
    moved = dropped = closed = 0
    runs = []
    for sync in hubspot_syncs(connection_ids):
        sf_side = _salesforce_side(sync)
        hs_side = "source" if sf_side == "target" else "target"
        sf_end = (getattr(sync, sf_side).pk, getattr(sync, f"{sf_side}_object"))
        hs_end = (getattr(sync, hs_side).pk, getattr(sync, f"{hs_side}_object"))
        # Ids are only unique within one system's object: each end sees its own records only.
        sf_gone = {g[2] for g in gone if (g[0], g[1]) == sf_end}
        hs_gone = {g[2] for g in gone if (g[0], g[1]) == hs_end}
        # Relinking is for the sync between the master's object and the primary's account;
        # any other sync only loses its links to records that are gone.
        relink = primary is not None and (master[0], master[1]) == sf_end and (primary[0], primary[1]) == hs_end
        with transaction.atomic():
            was = set(primary_was) if relink else set()
            stale = RecordLink.objects.filter(sync=sync).filter(
                Q(**{f"{sf_side}_id__in": sf_gone}) | Q(**{f"{hs_side}_id__in": hs_gone | was}))
            keep = None
            for link in stale:
                hs_id = getattr(link, f"{hs_side}_id")
                if relink and (hs_id == primary[2] or (hs_id in was and keep is None)):
                    keep = link
                    continue
                dropped += 1
            stale.exclude(pk=keep.pk if keep else None).delete()
            if relink:
                link = keep or RecordLink.objects.filter(sync=sync, **{f"{hs_side}_id": primary[2]}).first()
                # The master may be linked to another contact that is now merged away: free it.
                RecordLink.objects.filter(sync=sync, **{f"{sf_side}_id": master[2]}).exclude(pk=link.pk if link else None).delete()
                ends = {f"{sf_side}_id": master[2], f"{sf_side}_object": master[1],
                        f"{hs_side}_id": primary[2], f"{hs_side}_object": primary[1]}
                if link is None:
                    link = RecordLink.objects.create(sync=sync, **ends)
                    RecordLinkEvent.objects.create(link=link, action=RecordLinkEvent.Action.LINKED, new_target_id=link.target_id,
                                                   reason=f"Merge #{job.pk}: linked to the surviving records.", user=job.requested_by)
                elif (getattr(link, f"{sf_side}_id"), getattr(link, f"{hs_side}_id")) != (master[2], primary[2]):
                    old = link.target_id
                    for k, v in ends.items():
                        setattr(link, k, v)
                    link.source_digest = link.target_digest = ""
                    link.save()
                    RecordLinkEvent.objects.create(link=link, action=RecordLinkEvent.Action.MOVED, old_target_id=old,
                                                   new_target_id=link.target_id, user=job.requested_by,
                                                   reason=f"Merge #{job.pk}: the master chosen by sales ops.")
                moved += 1
            sf_closed = sf_gone | ({master[2]} if (master[0], master[1]) == sf_end else set())
            hs_closed = hs_gone | ({primary[2]} if relink else set())
            errors = RecordError.objects.filter(
                sync=sync, state__in=[RecordError.State.OPEN, RecordError.State.RETRY_SCHEDULED],
            ).filter(Q(object_name=sf_end[1], record_id__in=sf_closed) | Q(object_name=hs_end[1], record_id__in=hs_closed))
            closed += errors.update(state=RecordError.State.RESOLVED, resolved_at=timezone.now())
        if sync.enabled:
            # A change (the merge), not "Run now".
            run = sync_run_request_if_idle(sync=sync, trigger="immediate", user=job.requested_by, cause="merge")
            if run is not None:
                runs.append(run.pk)
    return {"links_moved": moved, "links_dropped": dropped, "errors_closed": closed, "sync_runs_started": len(runs),
            "message": f"{moved} link(s) pointed at the survivors, {dropped} dropped, {closed} sync error(s) closed."}


def resync(*, errors, user=None) -> list:
    """HS-8's Resync, for one error or many: link each held-back HubSpot contact to the
    Salesforce record its old partner was merged into (or, failing that, to the one with its
    email), then retry it."""
    from syncconfig.services import connection_connector, record_errors_retry

    errors = [e for e in errors if e.code == "PARTNER_GONE" and e.state == RecordError.State.OPEN]
    by_sync: dict[int, list[RecordError]] = {}
    for error in errors:
        by_sync.setdefault(error.sync_id, []).append(error)
    for sync_id, items in by_sync.items():
        sync = Sync.objects.select_related("source", "target").get(pk=sync_id)
        sf_side = _salesforce_side(sync)
        hs_side = "source" if sf_side == "target" else "target"
        salesforce = connection_connector(getattr(sync, sf_side))
        sf_object = getattr(sync, f"{sf_side}_object")
        old_ids = [e.payload.get("target_id") for e in items if e.payload.get("target_id")]
        try:
            masters = salesforce.merged_into(sf_object, old_ids)
        except NotSupported:
            masters = {}
        by_key = _partners_by_key(sync, [e.record_id for e in items if not masters.get(e.payload.get("target_id") or "")],
                                  salesforce, connection_connector(getattr(sync, hs_side)))
        with transaction.atomic():
            for error in items:
                link = RecordLink.objects.filter(sync=sync, **{f"{hs_side}_id": error.record_id}).first()
                if link is None:
                    continue
                master = masters.get(error.payload.get("target_id") or "")
                old = getattr(link, f"{sf_side}_id")
                reason = f"Resync: {old} was merged into {master}."
                if not master and by_key.get(error.record_id):
                    master = by_key[error.record_id]
                    reason = f"Resync: {old} no longer exists; {master} has the contact's email."
                if master and not RecordLink.objects.filter(sync=sync, **{f"{sf_side}_id": master}).exists():
                    setattr(link, f"{sf_side}_id", master)
                    link.source_digest = link.target_digest = ""
                    link.save()
                    RecordLinkEvent.objects.create(link=link, action=RecordLinkEvent.Action.MOVED, old_target_id=old,
                                                   new_target_id=link.target_id, user=user, reason=reason)
                else:  # no partner left: the retry creates one (the link and its history go)
                    RecordLinkEvent.objects.create(link=link, action=RecordLinkEvent.Action.UNLINKED, old_target_id=old,
                                                   user=user, reason=f"Resync: {old} no longer exists; matched again by email.")
                    link.delete()
    return record_errors_retry(errors=RecordError.objects.filter(pk__in=[e.pk for e in errors]), user=user)


def _partners_by_key(sync: Sync, hubspot_ids: list[str], salesforce, hubspot) -> dict[str, str]:
    """For HubSpot contacts, the newest Salesforce record of the sync's object sharing the key
    mapping's value (the email) that no other contact is linked to."""
    key = next((m for m in sync.mappings.all() if m.is_key), None)
    if key is None or not hubspot_ids:
        return {}
    sf_side = _salesforce_side(sync)
    hs_field, sf_field = (key.source_field, key.target_field) if sf_side == "target" else (key.target_field, key.source_field)
    hs_object, sf_object = getattr(sync, f"{'source' if sf_side == 'target' else 'target'}_object"), getattr(sync, f"{sf_side}_object")
    emails = {r.id: str(r.fields.get(hs_field) or "").strip().lower() for r in hubspot.fetch(hs_object, hubspot_ids, [hs_field])}
    found = salesforce.find(sf_object, sf_field, [e for e in emails.values() if e], [sf_field]) if any(emails.values()) else []
    taken = set(RecordLink.objects.filter(sync=sync, **{f"{sf_side}_id__in": [r.id for r in found]})
                .values_list(f"{sf_side}_id", flat=True))
    newest: dict[str, str] = {}
    for record in found:  # newest first
        value = str(record.fields.get(sf_field) or "").strip().lower()
        if record.id not in taken:
            newest.setdefault(value, record.id)
    return {hs_id: newest[email] for hs_id, email in emails.items() if email in newest}


# --- the settings page's services -----------------------------------------------------------------
def hubspot_options_save(*, sync: Sync, link_policy: str, on_salesforce_delete: str) -> HubSpotOptions:
    from django.core.exceptions import ValidationError

    if link_policy not in dict(LinkPolicy.CHOICES):
        raise ValidationError("Choose how a contact picks among several Salesforce records with its email.")
    if on_salesforce_delete not in dict(OnSalesforceDelete.CHOICES):
        raise ValidationError("Choose what happens in HubSpot when Salesforce deletes a record.")
    options = HubSpotOptions.of(sync)
    options.link_policy, options.on_salesforce_delete = link_policy, on_salesforce_delete
    options.save(sync)
    return options


def matching_warnings(sync: Sync) -> list[str]:
    """HS-1: a field Salesforce matching relies on that is not mapped to HubSpot cannot keep
    the two systems' notion of "the same person" in step."""
    sf = sync.target if sync.target.kind == "salesforce" else sync.source
    mapped = {(m.target_field if sync.target.kind == "salesforce" else m.source_field).lower() for m in sync.mappings.all()}
    return [f"{object_name}.{name} is used to match duplicates in Salesforce but is not mapped to HubSpot: records "
            "HubSpot sees as different may be one person in Salesforce."
            for object_name, name in duplicates.port.exact_match_fields(connection=sf) if name.lower() not in mapped]


def duplicate_candidates(sync: Sync, links) -> set[str]:
    """Salesforce ids among ``links`` that sit in an open duplicate group (HS-2's flag)."""
    sf_side = _salesforce_side(sync)
    return duplicates.port.in_open_groups(connection=getattr(sync, sf_side),
                                          record_ids=[getattr(link, f"{sf_side}_id") for link in links])


def salesforce_record_check(*, sync: Sync, salesforce_id: str) -> None:
    """A hand-picked Salesforce id must name a record of the sync's object (asked before any
    transaction opens: it is a call to Salesforce)."""
    from django.core.exceptions import ValidationError

    from syncconfig.services import connection_connector

    side = _salesforce_side(sync)
    sf_object = getattr(sync, f"{side}_object")
    if not connection_connector(getattr(sync, side)).fetch(sf_object, [id18(salesforce_id)], ["Id"]):
        raise ValidationError(f"No {sf_object} with the id “{salesforce_id}” in {getattr(sync, side).name}.")


@transaction.atomic
def link_pin(*, link: RecordLink, user, pinned: bool, salesforce_id: str = "") -> RecordLink:
    """A person fixes a contact's Salesforce record (optionally moving it first); the sync never
    moves a pinned link by itself. Unpinning hands it back to the policy."""
    from django.core.exceptions import ValidationError

    sf_side = _salesforce_side(link.sync)
    old = getattr(link, f"{sf_side}_id")
    salesforce_id = id18(salesforce_id)  # a 15-character id typed by a person names the same record
    if salesforce_id and salesforce_id != old:
        if RecordLink.objects.filter(sync=link.sync, **{f"{sf_side}_id": salesforce_id}).exists():
            raise ValidationError(f"{salesforce_id} is already linked to another HubSpot contact.")
        setattr(link, f"{sf_side}_id", salesforce_id)
        link.source_digest = link.target_digest = ""
        RecordLinkEvent.objects.create(link=link, action=RecordLinkEvent.Action.MOVED, old_target_id=old if sf_side == "target" else link.target_id,
                                       new_target_id=link.target_id, user=user, reason="Moved by hand.")
    link.pinned = pinned
    link.save()
    RecordLinkEvent.objects.create(link=link, action=RecordLinkEvent.Action.PINNED if pinned else RecordLinkEvent.Action.UNPINNED,
                                   new_target_id=link.target_id, user=user,
                                   reason="Pinned by hand." if pinned else "Unpinned: the link policy applies again.")
    return link
