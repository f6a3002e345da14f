"""ActiveCampaign ⇄ Salesforce, with Person Accounts (SPEC AC-1 … AC-14).

A sync of this integration has Salesforce on one end — ``Account`` for the Person-Account
model, ``Contact`` (or ``Lead``) for the Contact model — and ActiveCampaign contacts on the
other. One sync, one model: a record goes either way, never both (AC-1); the tags say which.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from django.db import transaction

from syncconfig.models import RecordTypeChoice, Sync

from . import Integration, IntegrationOptions, register

# AC-8, spelled exactly.
PA_CREATED = "created-from-salesforce-person-account"
PA_FROM_LEAD = "salesforce-lead-converted-to-person-account"
PA_ADDED = "added-to-salesforce-person-account"
CONTACT_CREATED = "created-from-salesforce-contact"
CONTACT_FROM_LEAD = "salesforce-lead-converted-to-contact"
CONTACT_ADDED = "added-to-salesforce-contact"
PA_TAGS = (PA_CREATED, PA_FROM_LEAD, PA_ADDED)
CONTACT_TAGS = (CONTACT_CREATED, CONTACT_FROM_LEAD, CONTACT_ADDED)


class Outbound:
    """AC-7: which Person Accounts go from Salesforce to ActiveCampaign."""

    NONE = "none"
    FROM_NOW = "from_now"
    MARKED = "marked"
    CHOICES = [
        (NONE, "Not using Person Accounts"),
        (FROM_NOW, "All Person Accounts created/updated from this point on"),
        (MARKED, "Person Accounts marked via Process Builder or another custom method"),
    ]


@dataclass
class PersonAccountOptions(IntegrationOptions):
    """The integration's settings, kept in ``Sync.options``."""

    outbound: str = Outbound.FROM_NOW
    outbound_since: str = ""  # AC-7 (2): the moment the option was saved, as an ISO timestamp
    marker_field: str = ""  # AC-7 (3): a checkbox on the Salesforce side
    allow_lead_without_company: bool = False  # AC-6
    tag_cleanup: bool = False  # AC-11 switched on
    # Whether the org has Person Accounts, and when that was read (see _org_person_accounts).
    org_person_accounts: bool | None = None
    org_person_accounts_at: str = ""


ORG_FACTS_FOR = timedelta(days=1)  # how long a read fact about the org is trusted


def salesforce_object(sync: Sync) -> str:
    return sync.source_object if sync.source.kind == "salesforce" else sync.target_object


def uses_person_accounts(sync: Sync) -> bool:
    return salesforce_object(sync) == "Account"


def _truthy(value) -> bool:
    return bool(value) and str(value).lower() not in ("false", "0")


def _after(moment: str | None, since: str) -> bool:
    def parse(text: str) -> datetime:
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("+0000", "+00:00"))
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)

    return bool(moment) and parse(moment) > parse(since)


@register
class PersonAccountIntegration(Integration):
    """ActiveCampaign ⇄ Salesforce with Person Accounts, tags and lead conversions (AC-1…AC-14)."""

    key = "activecampaign_salesforce"
    label = "ActiveCampaign ⇄ Salesforce (Person Accounts, tags)"
    kinds = frozenset({"activecampaign", "salesforce"})
    settings_pages = (("Person Accounts and tags", "person_account_settings"),)

    @classmethod
    def fills_on_create(cls, kind: str, object_name: str) -> frozenset[str]:
        # A Person Account's Name is made by Salesforce from its first and last name.
        return frozenset({"Name"}) if (kind, object_name) == ("salesforce", "Account") else frozenset()
    options_class = PersonAccountOptions

    def __init__(self, sync: Sync):
        super().__init__(sync)
        self.options = PersonAccountOptions.of(sync)
        self.person_accounts = uses_person_accounts(sync)
        self._org_has_person_accounts: bool | None = None
        self._from_leads: set[str] | None = None

    def _org_person_accounts(self, salesforce) -> bool:
        """Whether the org has Person Accounts: a fact that changes once in an org's life (they
        cannot be switched off again), so it is read once a day, not on every run (a describe
        each, and an immediate sync runs every few seconds)."""
        if self._org_has_person_accounts is None:
            known, at = self.options.org_person_accounts, self.options.org_person_accounts_at
            now = datetime.now(timezone.utc)
            if known is None or not at or now - datetime.fromisoformat(at) > ORG_FACTS_FOR:
                known = salesforce.person_accounts_enabled()
                with transaction.atomic():  # only these two options: a person may be saving the others
                    options = Sync.objects.select_for_update().values_list("options", flat=True).get(pk=self.sync.pk) or {}
                    Sync.objects.filter(pk=self.sync.pk).update(
                        options={**options, "org_person_accounts": known, "org_person_accounts_at": now.isoformat()})
            self._org_has_person_accounts = known
        return self._org_has_person_accounts

    # --- which records ---------------------------------------------------------------------
    def extra_source_fields(self, direction) -> list[str]:
        if direction.source.kind == "activecampaign":
            return ["tags"]
        # AC-1: in an org with Person Accounts, person contacts also show as Contacts.
        sf_object = salesforce_object(self.sync)
        fields = ["IsPersonAccount"] if self.person_accounts or (sf_object == "Contact" and self._org_person_accounts(direction.source)) else []
        if self.person_accounts and self.options.outbound == Outbound.MARKED and self.options.marker_field:
            fields.append(self.options.marker_field)
        if salesforce_object(self.sync) == "Lead":
            fields.append("Company")
        return fields

    def skip_reason(self, direction, record) -> str:
        if direction.source.kind == "activecampaign":
            return self._inbound_skip(record.fields.get("tags") or [])
        return self._outbound_skip(record)

    def _inbound_skip(self, tags: list[str]) -> str:
        has_pa, has_contact = any(t in PA_TAGS for t in tags), any(t in CONTACT_TAGS for t in tags)
        if self.person_accounts:
            return "" if has_pa else f"Not tagged “{PA_ADDED}”: this sync brings only Person-Account contacts to Salesforce."
        if has_pa:  # AC-10: the Person-Account tag wins
            return "Has a Person-Account tag: it syncs as a Person Account, not as a Contact."
        return "" if has_contact else f"Not tagged “{CONTACT_ADDED}”: this sync brings only tagged contacts to Salesforce."

    def create_skip_reason(self, direction, record) -> str:
        """AC-9: only the “added-to-…” tag asks for a new Salesforce record. A contact tagged as
        having come from Salesforce whose record is not linked is not made again there."""
        if direction.source.kind != "activecampaign":
            return ""
        added = PA_ADDED if self.person_accounts else CONTACT_ADDED
        tags = record.fields.get("tags") or []
        if added in tags:
            return ""
        came_from = next((t for t in tags if t in (PA_TAGS if self.person_accounts else CONTACT_TAGS)), None)
        return (f"Tagged “{came_from}” (it came from Salesforce), but no Salesforce record is linked to it: it is "
                f"not created again. Tag it “{added}” to create one (AC-9).") if came_from else ""

    def _outbound_skip(self, record) -> str:
        fields = record.fields
        if not self.person_accounts:
            if _truthy(fields.get("IsPersonAccount")):  # AC-1: a Person Account never syncs as a Contact
                return "A Person Account: it syncs as a Person Account, not as a Contact."
            return ""
        if not _truthy(fields.get("IsPersonAccount")):
            return "A business account, not a Person Account."
        if self.options.outbound == Outbound.NONE:
            return "Person Accounts are not synced (outbound setting “Not using Person Accounts”)."
        if self.options.outbound == Outbound.FROM_NOW and self.options.outbound_since:
            if not _after(record.modified_at, self.options.outbound_since):
                return "Last changed before Person Accounts were switched on for this sync."
        if self.options.outbound == Outbound.MARKED:
            if not self.options.marker_field:
                return "No marker field is chosen for “marked” Person Accounts."
            if not _truthy(fields.get(self.options.marker_field)):
                return f"Not marked for sync ({self.options.marker_field} is not set)."
        return ""

    # --- what is written ---------------------------------------------------------------------
    def prepare_create(self, direction, change) -> None:
        if direction.target.kind != "salesforce":
            return
        if self.person_accounts:
            choice = self._record_type()
            if choice is None:
                change.action = "reject"
                change.reason = "Choose the default record type for new Person Accounts on the sync's page (AC-5)."
                return
            change.values["RecordTypeId"] = choice.record_type_id
        elif direction.target_object == "Lead" and not change.values.get("Company") and not self.options.allow_lead_without_company:
            change.action = "reject"
            change.reason = ("A Lead needs a company name. Switch on “Allow lead sync without company name for "
                             "Person Account conversion” to sync it anyway.")

    def after_write(self, direction, written) -> None:
        """AC-8: tag what the integration created in ActiveCampaign — as converted from a
        Lead when Salesforce made the record by lead conversion (AC-12), else as created."""
        if direction.target.kind != "activecampaign":
            return
        # An upsert that found the contact by email (created False) did not create it; one
        # the write tagged itself (a bulk import) needs no call.
        created = [(change, result) for change, result in written
                   if change.action == "create" and result.id and result.created is not False and not result.tagged]
        for change, result in created:
            direction.target.add_tags(result.id, self.create_tags(direction, change))

    def create_tags(self, direction, change) -> list[str]:
        """AC-8's tag for a contact created in ActiveCampaign (see ``after_write``)."""
        if direction.target.kind != "activecampaign":
            return []
        from_lead = change.record.id in self._converted_from_leads(direction)
        if self.person_accounts:
            return [PA_FROM_LEAD if from_lead else PA_CREATED]
        return [CONTACT_FROM_LEAD if from_lead else CONTACT_CREATED]

    def _record_type(self) -> RecordTypeChoice | None:
        """The default record type for new Person Accounts (AC-5), read once per run."""
        if not hasattr(self, "_default_record_type"):
            self._default_record_type = RecordTypeChoice.objects.filter(
                sync=self.sync, side=_side(self.sync, "salesforce"), object_name="Account", is_default=True).first()
        return self._default_record_type

    def _converted_from_leads(self, direction) -> set[str]:
        """Ids of the records that Leads converted into since this run's watermark: read once
        per run (the Leads changed since), not once per batch."""
        if self._from_leads is None:
            converted_field = "ConvertedAccountId" if self.person_accounts else "ConvertedContactId"
            since = getattr(direction.sync, direction.watermark_field) or None
            self._from_leads = {
                lead.fields[converted_field]
                for page in direction.source.changes("Lead", since, ["IsConverted", converted_field])
                for lead in page if _truthy(lead.fields.get("IsConverted")) and lead.fields.get(converted_field)
            }
        return self._from_leads

    def after_run(self, direction) -> None:
        if self.options.tag_cleanup:
            ac = direction.source if direction.source.kind == "activecampaign" else direction.target
            tag_cleanup(ac, apply=True)


def activecampaign_connection(sync: Sync):
    return getattr(sync, _side(sync, "activecampaign"))


def _side(sync: Sync, kind: str) -> str:
    return "source" if sync.source.kind == kind else "target"


def tag_cleanup(connector, *, apply: bool) -> int:
    """AC-11: contacts with a Person-Account tag lose their Contact tags. Returns how many
    contacts are (or, with ``apply=False``, would be) touched."""
    touched = 0
    seen: set[str] = set()
    for tag in PA_TAGS:
        for page in connector.contacts_with_tag(tag, fields=["tags"]):
            for record in page:
                stale = [t for t in record.fields.get("tags") or [] if t in CONTACT_TAGS]
                if record.id in seen or not stale:
                    continue
                seen.add(record.id)
                touched += 1
                if apply:
                    connector.remove_tags(record.id, stale)
    return touched


# --- settings (services for the sync's Person-Account page) ------------------------------------
@dataclass
class SalesforceFacts:
    """What the page needs to know about the Salesforce org, read from it."""

    person_accounts: bool
    record_types: list  # person-account record types (AC-5)
    marker_fields: list[tuple[str, str]]  # checkbox fields usable as the AC-7 marker
    error: str = ""


def salesforce_facts(sync: Sync) -> SalesforceFacts:
    from connectors.base import ConnectorError
    from syncconfig.services import connection_connector

    connection = sync.source if sync.source.kind == "salesforce" else sync.target
    connector = connection_connector(connection)
    try:
        enabled = connector.person_accounts_enabled()
        if not enabled:
            return SalesforceFacts(False, [], [])
        types = [rt for rt in connector.record_types("Account") if rt.is_person_type]
        booleans = [(f.name, f"{f.label} ({f.name})") for f in connector.describe("Account").fields if f.type == "boolean" and f.custom]
    except ConnectorError as exc:
        return SalesforceFacts(False, [], [], error=f"{connection.name} could not be read: {exc.message}")
    return SalesforceFacts(True, types, booleans)


@transaction.atomic
def person_account_options_save(*, sync: Sync, facts: SalesforceFacts, outbound: str, marker_field: str,
                                record_type_id: str, allow_lead_without_company: bool, tag_cleanup: bool) -> PersonAccountOptions:
    """Save the integration's settings; Person-Account settings are refused for an org without them (AC-2)."""
    from django.core.exceptions import ValidationError
    from django.utils import timezone as dj_timezone

    if uses_person_accounts(sync) and not facts.person_accounts:
        raise ValidationError("Person Accounts are not enabled in the connected Salesforce org, so this sync cannot use them. "
                              "Enable Person Accounts in Salesforce, or sync Contacts instead.")
    options = PersonAccountOptions.of(sync)
    if outbound not in dict(Outbound.CHOICES):
        raise ValidationError("Pick one of the three outbound options.")
    if outbound == Outbound.MARKED and marker_field not in {name for name, _ in facts.marker_fields}:
        raise ValidationError("Choose the checkbox field that marks Person Accounts for sync.")
    chosen = next((rt for rt in facts.record_types if rt.id == record_type_id), None)
    if uses_person_accounts(sync) and chosen is None:
        raise ValidationError("Choose the record type new Person Accounts get (AC-5).")
    if outbound == Outbound.FROM_NOW and (options.outbound != Outbound.FROM_NOW or not options.outbound_since):
        now = dj_timezone.now()
        options.outbound_since = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"  # AC-7 (2): from this point on
        watermark = "source_watermark" if sync.source.kind == "salesforce" else "target_watermark"
        if not getattr(sync, watermark):
            setattr(sync, watermark, options.outbound_since)  # nothing older is even read
            sync.save(update_fields=[watermark])
    options.outbound, options.marker_field = outbound, marker_field if outbound == Outbound.MARKED else ""
    options.allow_lead_without_company, options.tag_cleanup = allow_lead_without_company, tag_cleanup
    if not facts.error:  # read just now
        options.org_person_accounts = facts.person_accounts
        options.org_person_accounts_at = datetime.now(timezone.utc).isoformat()
    options.save(sync)
    if chosen is not None:
        RecordTypeChoice.objects.update_or_create(
            sync=sync, side=_side(sync, "salesforce"), object_name="Account", is_default=True,
            defaults={"record_type_id": chosen.id, "label": chosen.name},
        )
    return options


def troubleshooting(sync: Sync, facts: SalesforceFacts, *, conflicting_tags: int | None) -> list[str]:
    """AC-13: the problems the integration's documents name, as they stand for this sync."""
    from syncconfig.models import RecordError

    problems = []
    if facts.error:
        problems.append(facts.error)
    elif not facts.person_accounts:
        problems.append("Person Accounts are not enabled in the connected Salesforce org: the Person-Account options are hidden.")
    mapping_errors = RecordError.objects.filter(sync=sync, state=RecordError.State.OPEN, error_class=RecordError.ErrorClass.MAPPING).count()
    if mapping_errors:
        problems.append(f"{mapping_errors} record(s) failed on a mapping error: check the field mappings, then retry them.")
    if not sync.mappings.exists():
        problems.append("No field is mapped yet.")
    if conflicting_tags:
        problems.append(f"{conflicting_tags} contact(s) carry both Person-Account and Contact tags; the Person-Account tag wins. "
                        "Run the tag clean-up to remove the Contact tags.")
    return problems
