"""Lemontaps → Salesforce: field users push the contacts they captured (SPEC LT-1 … LT-12).

The sync's source is a Lemontaps connection (its captured contacts, object
``captured_contact``), its target a Salesforce org. The mapping is Lemontaps' own fixed table
(LT-6), so the sync needs no field mappings: each page is routed to Lead or Contact (LT-2),
looked up in Salesforce by email in batches (duplicates, LT-9; owners, LT-7) and checked
(LT-10) before anything is written. The push of chosen contacts goes through
``engine.sync_records_execute``; the automatic push is the sync switched on as an immediate
sync, reading new captures from the moment it was switched on (LT-4).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from django.db import transaction
from django.db.models import Q
from django.db.models.fields.json import KT
from django.db.models.functions import Lower
from django.utils import timezone

from connectors.lemontaps import CUSTOM_FIELD
from syncconfig import duplicates
from syncconfig.duplicates import LikelyDuplicate
from syncconfig.models import CapturedContact, Sync, UpdatePolicy

from . import Integration, IntegrationOptions, register

LEAD_SOURCE = "Lemontaps"  # LT-6: always

# LT-6, exactly: Lemontaps field → Salesforce field, per object. Role, work email, addressee,
# address line 2, GDPR consent, language and images are not transferred.
MAPPING: dict[str, tuple[tuple[str, str], ...]] = {
    "Contact": (
        ("notes", "Description"), ("prefix", "Salutation"), ("first_name", "FirstName"), ("last_name", "LastName"),
        ("position", "Title"), ("department", "Department"), ("email", "Email"), ("phone_work", "Phone"),
        ("phone_mobile", "MobilePhone"), ("address_line1", "MailingStreet"), ("zip", "MailingPostalCode"),
        ("city", "MailingCity"), ("country", "MailingCountry"),
    ),
    "Lead": (
        ("notes", "Description"), ("prefix", "Salutation"), ("first_name", "FirstName"), ("last_name", "LastName"),
        ("position", "Title"), ("company", "Company"), ("email", "Email"), ("phone_work", "Phone"),
        ("phone_mobile", "MobilePhone"), ("website", "Website"), ("address_line1", "Street"), ("zip", "PostalCode"),
        ("city", "City"), ("country", "Country"),
    ),
}


class CreateAs:
    """LT-2: what a captured contact becomes in Salesforce."""

    LEAD = "Lead"
    CONTACT = "Contact"
    CHOOSE = "choose"
    CHOICES = [(LEAD, "Always a Lead"), (CONTACT, "Always a Contact"),
               (CHOOSE, "Let users choose between Contact and Lead for each contact")]


@dataclass
class LemontapsOptions(IntegrationOptions):
    create_as: str = CreateAs.LEAD  # LT-2
    field_users_may_push: bool = False  # LT-11: admins only unless switched on
    update_existing: bool = False  # a duplicate by email is updated instead of failing
    push_updates: bool = False  # LT-12: changes after export stay out unless an admin opts in
    met_on_field: str = ""  # a date field on Lead and Contact for the "met on" date (LT-6)
    automatic_since: str = ""  # LT-4: when the automatic push was switched on
    # LT-1, LT-8: the org's custom fields a capture may carry, per object ([API name, label]),
    # read when the connection was last (re-)authorised; empty until then.
    custom_fields: dict = field(default_factory=dict)
    custom_fields_at: str = ""


def lemontaps_syncs():
    return Sync.objects.filter(integration=LemontapsSalesforceIntegration.key).select_related("source", "target")


@register
class LemontapsSalesforceIntegration(Integration):
    """Captured contacts to Salesforce Leads or Contacts, as Lemontaps' own integration does."""

    key = "lemontaps_salesforce"
    label = "Lemontaps → Salesforce (captured contacts)"
    kinds = frozenset({"lemontaps", "salesforce"})
    settings_pages = (("Lemontaps push", "lemontaps_settings"),)
    options_class = LemontapsOptions

    def __init__(self, sync: Sync):
        super().__init__(sync)
        self.options = LemontapsOptions.of(sync)
        self._owners: dict[str, str | None] = {}  # capturing user's email → Salesforce user id (None: not a user)
        self._duplicates: dict[str, tuple[str, str]] = {}  # email → (object, id) of the record in Salesforce
        self._looked_up: set[str] = set()
        self._no_choice: set[str] = set()
        self._twins: dict[str, str] = {}  # capture id → the capture with the same email earlier in the page
        self._likely: dict[str, LikelyDuplicate] = {}  # capture id → its likely duplicate, found by matching
        self._position: dict[str, int] = {}  # capture id → its place in the push

    # --- which object, and what Salesforce already has (a page at a time) -------------------------
    def route(self, direction, records):
        if direction.target.kind != "salesforce":
            return [(direction, records)]
        self._look_up(direction, records)
        self._match(records)
        groups: dict[str, list] = {"Lead": [], "Contact": []}
        first_with: dict[str, str] = {}
        for record in records:
            email = _email(record.fields)
            if email and not record.fields.get("exported_id"):
                if email in first_with:
                    self._twins[record.id] = first_with[email]
                first_with.setdefault(email, record.id)
            groups[self._object_for(record)].append(record)
        routed = []
        for object_name, some in groups.items():
            if some:
                customs = sorted({key for r in some for key in r.fields if CUSTOM_FIELD.fullmatch(key)})
                pairs = [(s, t, UpdatePolicy.ALWAYS) for s, t in MAPPING[object_name]]
                pairs += [(key, key, UpdatePolicy.ALWAYS) for key in customs]  # LT-8
                if self.options.met_on_field:
                    pairs.append(("met_on", self.options.met_on_field, UpdatePolicy.ALWAYS))
                routed.append((replace(direction, target_object_name=object_name, pairs=pairs), some))
        return routed

    def _object_for(self, record) -> str:
        fields = record.fields
        if fields.get("exported_object") in MAPPING:  # an update goes where the contact went
            return fields["exported_object"]
        duplicate = self._duplicates.get(_email(fields)) or self._in_salesforce(record)
        if duplicate and self.options.update_existing:
            return duplicate[0]
        if self.options.create_as in MAPPING:
            return self.options.create_as
        if fields.get("create_as") in MAPPING:  # LT-2: the choice made at capture
            return fields["create_as"]
        self._no_choice.add(record.id)
        return "Lead"

    def _look_up(self, direction, records) -> None:
        """Duplicates by email in Lead and Contact, and owners by the capturing user's email:
        one query per object for the whole page (200 values a query), never one per record."""
        salesforce = direction.target
        emails = sorted({_email(r.fields) for r in records if not r.fields.get("exported_id")} - self._looked_up - {""})
        if emails:
            for object_name in ("Contact", "Lead"):
                fields = ["Id", "Email"] + (["IsConverted"] if object_name == "Lead" else [])
                for found in salesforce.find(object_name, "Email", emails, fields):
                    if object_name == "Lead" and found.fields.get("IsConverted"):
                        continue  # a converted Lead lives on as its Contact
                    self._duplicates.setdefault(str(found.fields.get("Email") or "").lower(), (object_name, found.id))
            self._looked_up.update(emails)
        capturers = sorted({str(r.fields.get("captured_by") or "").lower() for r in records} - set(self._owners) - {""})
        if capturers:
            users = salesforce.find("User", "Email", capturers, ["Id", "Email", "IsActive"])
            for user in users:
                if user.fields.get("IsActive") is not False:
                    self._owners.setdefault(str(user.fields.get("Email") or "").lower(), user.id)
            for email in capturers:
                self._owners.setdefault(email, None)

    def _match(self, records) -> None:
        """Likely duplicates by matching (fuzzy names, phone, company, address), beyond the
        same email: against Salesforce as duplicate management last read it, and against the
        other captures."""
        fresh = [r for r in records if not r.fields.get("exported_id") and r.id not in self._position]
        for record in fresh:
            self._position[record.id] = len(self._position)
        if fresh:
            rows = CapturedContact.objects.filter(pk__in=[int(r.id) for r in fresh if r.id.isdigit()])
            self._likely.update(likely_duplicates(sync=self.sync, rows=rows))

    def _in_salesforce(self, record) -> tuple[str, str] | None:
        """(object, id) of the Salesforce record a capture likely duplicates, if matching found
        one. A candidate with the capture's own email is left to the live look-up by email,
        which found nothing: duplicate management read it before it was deleted or changed."""
        likely = self._likely.get(record.id)
        if likely is None or likely.object_name not in MAPPING:
            return None
        if _email(record.fields) and likely.email.strip().lower() == _email(record.fields):
            return None
        return likely.object_name, likely.candidate_id

    # --- which records ----------------------------------------------------------------------------
    def skip_reason(self, direction, record) -> str:
        fields = record.fields
        if fields.get("exported_id") and not self.options.push_updates:  # LT-12
            return ("Exported to Salesforce already; changes after export are not pushed "
                    "(an admin may allow it on the sync's Lemontaps page).")
        if not direction.chosen and not fields.get("exported_id"):
            since = self.options.automatic_since
            if not since or (fields.get("received_at") or "") < since:  # LT-4: none of the older ones
                return "Captured before the automatic push was switched on: push it by hand."
        return ""

    # --- what is written ----------------------------------------------------------------------------
    def prepare_create(self, direction, change) -> None:
        fields, object_name = change.record.fields, direction.target_object
        if change.record.id in self._no_choice:  # LT-2
            return _reject(change, "No choice between Lead and Contact was made when it was captured, and users "
                                   "must choose: show the choice on the capture form, then capture or import it again.")
        unknown = self._unknown_custom_fields(object_name, fields)
        if unknown:  # LT-8: only the org's own custom fields
            return _reject(change, f"invalid: {', '.join(unknown)} {'is not a custom field' if len(unknown) == 1 else 'are not custom fields'} "
                                   f"of {object_name} in Salesforce (as of its authorisation on {self.options.custom_fields_at[:16]}); "
                                   "re-authorise the connection if it was added since.")
        has_name = bool(fields.get("first_name") or fields.get("last_name"))
        if object_name == "Contact" and not has_name:  # LT-10
            return _reject(change, "invalid: a Contact needs a first or last name.")
        if object_name == "Lead" and not (has_name and fields.get("company")):
            return _reject(change, "invalid: a Lead needs a company and a first or last name.")
        duplicate = self._duplicates.get(_email(fields))
        if duplicate is not None:
            found_object, found_id = duplicate
            if self.options.update_existing and found_object == object_name:
                change.action, change.target_id, change.matched_by = "update", found_id, "key"
                change.link_reason = f"Same email as {found_object} {found_id} in Salesforce: updated instead of failing."
                change.diffs = {name: (None, value) for name, value in change.values.items()}
                return
            change.target_id = found_id
            return _reject(change, f"duplicate: a {found_object} with this email already exists in Salesforce ({found_id}).",
                           code="DUPLICATE")
        likely = self._likely.get(change.record.id)
        found = self._in_salesforce(change.record)
        if found is not None:
            found_object, found_id = found
            if self.options.update_existing and found_object == object_name:
                change.action, change.target_id, change.matched_by = "update", found_id, "key"
                change.link_reason = (f"Likely the same person as {found_object} {found_id} in Salesforce "
                                      f"({likely.why}): updated instead of failing.")
                change.diffs = {name: (None, value) for name, value in change.values.items()}
                return
            change.target_id = found_id
            return _reject(change, f"duplicate: likely the same person as the {found_object} {likely.label} in Salesforce "
                                   f"({found_id}; {round(likely.score * 100)} %: {likely.why}).", code="DUPLICATE")
        twin = self._twins.get(change.record.id)
        if twin is not None:
            return _reject(change, f"duplicate: captured contact {twin} with the same email is pushed with it.", code="DUPLICATE")
        if likely is not None and not likely.object_name:
            earlier = self._position.get(likely.candidate_id)
            if earlier is not None and earlier < self._position.get(change.record.id, 0):
                return _reject(change, f"duplicate: likely the same person as captured contact {likely.label}, pushed with it "
                                       f"({round(likely.score * 100)} %: {likely.why}).", code="DUPLICATE")
        change.values["LeadSource"] = LEAD_SOURCE
        owner = self._owners.get(str(fields.get("captured_by") or "").lower())
        if owner:  # LT-7; otherwise Salesforce makes the connection's own user the owner
            change.values["OwnerId"] = owner

    def _unknown_custom_fields(self, object_name: str, fields) -> list[str]:
        if not self.options.custom_fields_at:  # never read: Salesforce itself judges them
            return []
        known = {name for name, _ in self.options.custom_fields.get(object_name, [])}
        return sorted(key for key in fields if CUSTOM_FIELD.fullmatch(key) and key not in known)

    def after_write(self, direction, written) -> None:
        """Each contact written shows as exported: when, as what, and a link to the record (LT-5)."""
        if direction.target.kind != "salesforce":
            return
        done = {int(change.record.id): result.id or change.target_id for change, result in written
                if change.action in ("create", "update") and (result.id or change.target_id)}
        if not done:
            return
        now = timezone.now()
        captures = list(CapturedContact.objects.filter(pk__in=list(done)))
        for capture in captures:
            capture.exported_at, capture.exported_object = now, direction.target_object
            capture.exported_id = done[capture.pk]
            capture.exported_url = direction.target.record_url(direction.target_object, capture.exported_id)
            capture.changed_after_export = False
        with transaction.atomic():
            CapturedContact.objects.bulk_update(
                captures, ["exported_at", "exported_object", "exported_id", "exported_url", "changed_after_export"])


# --- likely duplicates, found by matching ------------------------------------------------------------
NEAR_CAPTURES_MAX = 1000


def capture_person(capture_id, fields: dict) -> dict:
    """A capture in the neutral person fields matching compares."""
    return {
        "id": str(capture_id), "first_name": fields.get("first_name", ""), "last_name": fields.get("last_name", ""),
        "email": fields.get("email", ""), "phone": fields.get("phone_work") or fields.get("phone_mobile") or "",
        "company": fields.get("company", ""), "street": fields.get("address_line1", ""), "city": fields.get("city", ""),
        "postcode": fields.get("zip", ""), "country": fields.get("country", ""),
    }


def likely_duplicates(*, sync: Sync, rows) -> dict[str, LikelyDuplicate]:
    """The captures among ``rows`` not exported yet that likely duplicate a Lead or Contact of
    the sync's Salesforce org (as duplicate management last read it), or another capture of
    the connection, by capture id. A capture exported already stands for the record it became."""
    fresh = [row for row in rows if not row.exported_id]
    if not fresh:
        return {}
    emails = {_email(row.data) for row in fresh} - {""}
    last_names = {str(row.data.get("last_name") or "").strip().lower() for row in fresh} - {""}
    near = list(CapturedContact.objects.filter(connection_id=sync.source_id).exclude(pk__in=[row.pk for row in fresh])
                .annotate(email_lower=Lower(KT("data__email")), last_name_lower=Lower(KT("data__last_name")))
                .filter(Q(email_lower__in=emails) | Q(last_name_lower__in=last_names)).order_by("pk")[:NEAR_CAPTURES_MAX])
    refused = {str(row.pk): {_refused_id(value) for value in row.not_duplicate_of} for row in fresh if row.not_duplicate_of}
    found = duplicates.port.likely_duplicates(
        connection=sync.target, records=[{**capture_person(row.pk, row.data), "label": str(row)} for row in fresh],
        others=[{**capture_person(row.pk, row.data), "label": str(row)} for row in near], refused=refused)
    exported = {str(row.pk): row for row in near if row.exported_id}
    for record_id, likely in list(found.items()):
        became = exported.get(likely.candidate_id) if not likely.object_name else None
        if became is not None:
            if became.exported_id in refused.get(record_id, ()):
                del found[record_id]
            else:
                found[record_id] = replace(likely, candidate_id=became.exported_id, object_name=became.exported_object)
    return found


def not_duplicate_key(likely: LikelyDuplicate) -> str:
    """How a capture remembers a candidate a person said is someone else."""
    return likely.candidate_id if likely.object_name else f"capture:{likely.candidate_id}"


def _refused_id(value: str) -> str:
    return value.removeprefix("capture:")


def _email(fields) -> str:
    return str(fields.get("email") or "").strip().lower()


def _reject(change, reason: str, *, code: str = "VALIDATION") -> None:
    change.action, change.reason, change.code = "reject", reason, code
