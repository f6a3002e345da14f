"""Zoho CRM → Zoho Campaigns, in Zoho's new (simplified) model (SPEC ZO-2 … ZO-4).

A sync reads one CRM module (Contacts, Leads or a custom one) immediately and writes its
people into one Campaigns mailing list (the sync's target object is the list key). It needs
no field mappings: each module has its own fixed table (``PAIRS``), and a Contact's related
Account travels with it (its name into Company Name), looked up a page at a time (ZO-2).

Every record syncs unless it opted out of email (ZO-4a); the admin's marketing rule marks
each one marketing or non-marketing (ZO-3). Campaigns keeps no marketing status that its API
can set, so a non-marketing contact stays out of the list (and so is never counted) with
that reason. A two-way sync brings unsubscribes and bounces back: the CRM record opts out,
as the admin configured, and each flow-back is logged with its reason (ZO-4b).

The legacy model (:mod:`.zoho_campaigns_legacy`) is a second integration over the same two
connections; :mod:`syncconfig.zoho` moves a legacy configuration to this one.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

from django.utils import timezone

from syncconfig.models import Sync, SyncRule, UpdatePolicy

from . import Integration, IntegrationOptions, register

log = logging.getLogger(__name__)

EMAIL_FIELD = "Contact Email"  # Campaigns' key for a subscriber
ACCOUNT_NAME = "_account_name"  # a Contact's related Account's name, filled in by ``route``
OPTED_OUT = "_opted_out"  # set on a subscriber read back that unsubscribed or bounced
REASON = "_opt_out_reason"
LOG_KEPT = 200  # flow-back entries the settings page keeps

# CRM field → Campaigns field, per module; custom modules use the Leads table's names that exist.
PAIRS: dict[str, tuple[tuple[str, str], ...]] = {
    "Contacts": (("Email", EMAIL_FIELD), ("First_Name", "First Name"), ("Last_Name", "Last Name"),
                 ("Phone", "Phone"), ("Mobile", "Mobile"), ("Title", "Job Title"), ("Mailing_City", "City"),
                 ("Mailing_Country", "Country"), ("Lead_Source", "Lead Source"), (ACCOUNT_NAME, "Company Name")),
    "Leads": (("Email", EMAIL_FIELD), ("First_Name", "First Name"), ("Last_Name", "Last Name"),
              ("Phone", "Phone"), ("Mobile", "Mobile"), ("Designation", "Job Title"), ("City", "City"),
              ("Country", "Country"), ("Lead_Source", "Lead Source"), ("Company", "Company Name")),
}
PAIRS["custom"] = (("Email", EMAIL_FIELD), ("First_Name", "First Name"), ("Last_Name", "Last Name"))
STANDARD_MODULES = ("Contacts", "Leads")  # with custom modules, what one configuration covers (ZO-2)
# Legacy Accounts and Deals syncs have no people of their own (ZO-1); the new model carries
# them along with Contacts.
RELATED_ONLY = ("Accounts", "Deals")


class FlowBack:
    """ZO-4b: what an unsubscribe or a bounce in Campaigns does to the CRM record."""

    OPT_OUT = "opt_out"
    LOG_ONLY = "log_only"
    CHOICES = [(OPT_OUT, "Opt the CRM record out of email (and log why)"),
               (LOG_ONLY, "Leave the CRM record as it is (only log it)")]


@dataclass
class ZohoCampaignsOptions(IntegrationOptions):
    # ZO-3: a record is a marketing contact when this rule holds; no field: all are.
    marketing_field: str = ""
    marketing_operator: str = SyncRule.Operator.IS_SET
    marketing_value: str = ""
    opt_out_field: str = "Email_Opt_Out"  # ZO-4a: records with it set are not imported
    on_unsubscribe: str = FlowBack.OPT_OUT  # ZO-4b
    on_bounce: str = FlowBack.OPT_OUT
    counts: dict = field(default_factory=dict)  # the last count (see ``syncconfig.zoho.marketing_counts``)
    flow_back_log: list = field(default_factory=list)  # newest first: {at, email, record, status, reason, action}
    migrated_from: str = ""  # ZO-6: the legacy configuration this one replaced, and when
    migrated_at: str = ""
    # ZO-2: whether this module is one its configuration covers (see ``syncconfig.zoho``).
    covered: bool = True


def pairs_for(module: str) -> tuple[tuple[str, str], ...]:
    return PAIRS.get(module) or PAIRS["custom"]


def marketing_rule(options: ZohoCampaignsOptions) -> SyncRule | None:
    if not options.marketing_field:
        return None
    return SyncRule(kind=SyncRule.Kind.SCOPE, field=options.marketing_field, operator=options.marketing_operator,
                    value=options.marketing_value)


def is_marketing(options: ZohoCampaignsOptions, fields: dict) -> bool:
    from syncconfig.engine import rule_skip_reason

    rule = marketing_rule(options)
    return rule is None or not rule_skip_reason([rule], fields)


def opted_out(options: ZohoCampaignsOptions, fields: dict) -> bool:
    value = fields.get(options.opt_out_field) if options.opt_out_field else None
    return bool(value) and str(value).lower() not in ("false", "0")


class ZohoCampaignsBase(Integration):
    """What both of Zoho's models share: the fixed field table, related Accounts, opt-outs."""

    kinds = frozenset({"zoho_crm", "zoho_campaigns"})
    options_class = ZohoCampaignsOptions

    def __init__(self, sync: Sync):
        super().__init__(sync)
        self.options = self.options_class.of(sync)
        self._accounts: dict[str, str] = {}  # Account id → name

    def _crm_module(self, direction) -> str:
        return direction.source_object if direction.forward else direction.target_object

    def extra_source_fields(self, direction) -> list[str]:
        if not direction.forward:
            return []
        module = direction.source_object
        fields = [s for s, _ in pairs_for(module) if not s.startswith("_")]
        fields += ["Account_Name"] if module == "Contacts" else []
        fields += [f for f in (self.options.opt_out_field, getattr(self.options, "marketing_field", "")) if f]
        return fields

    def route(self, direction, records):
        if direction.forward:
            return self._route_forward(direction, records)
        return self._route_back(direction, records)

    def _route_forward(self, direction, records):
        module = direction.source_object
        if module == "Contacts":
            self._look_up_accounts(direction, records)
            for record in records:
                record.fields[ACCOUNT_NAME] = self._accounts.get(str(record.fields.get("Account_Name") or ""), "")
        pairs = list(direction.pairs) or [(s, t, UpdatePolicy.ALWAYS) for s, t in pairs_for(module)]
        key = direction.key or ("Email", EMAIL_FIELD)
        return [(replace(direction, pairs=pairs, key=key), records)]

    def _look_up_accounts(self, direction, records) -> None:
        """ZO-2: the related Accounts of a page, read at once (100 ids a call)."""
        wanted = sorted({str(r.fields.get("Account_Name") or "") for r in records} - set(self._accounts) - {""})
        if wanted:
            for account in direction.source.fetch("Accounts", wanted, ["Account_Name"]):
                self._accounts[account.id] = str(account.fields.get("Account_Name") or "")
            for account_id in wanted:
                self._accounts.setdefault(account_id, "")

    def _route_back(self, direction, records):
        """ZO-4b: only unsubscribes and bounces of people this sync put on the list come back."""
        linked = direction.links_for(r.id for r in records)
        back, now = [], timezone.now().isoformat(timespec="seconds")
        for record in records:
            status = str(record.fields.get("Status") or "")
            if status not in ("unsub", "bounce") or record.id not in linked:
                continue
            action = self.options.on_unsubscribe if status == "unsub" else self.options.on_bounce
            reason = ("Unsubscribed from marketing email in Zoho Campaigns." if status == "unsub"
                      else "Email bounced in Zoho Campaigns.")
            self._log_flow_back(now, record.id, linked[record.id].source_id, status, reason, action)
            if action == FlowBack.OPT_OUT and self.options.opt_out_field:
                record.fields[OPTED_OUT], record.fields[REASON] = True, reason
                back.append(record)
        pairs = [(OPTED_OUT, self.options.opt_out_field, UpdatePolicy.ALWAYS)]
        return [(replace(direction, pairs=pairs, key=None), back)] if back else []

    def _log_flow_back(self, at, email, record_id, status, reason, action) -> None:
        entries = self.options.flow_back_log
        if any(e["email"] == email and e["status"] == status for e in entries[:LOG_KEPT]):
            return  # read again in the list's window: logged already
        entries.insert(0, {"at": at, "email": email, "record": record_id, "status": status, "reason": reason,
                           "action": action})
        del entries[LOG_KEPT:]
        log.info("Sync %s: %s %s in Campaigns (%s): CRM record %s %s", self.sync.pk, email, status, reason, record_id,
                 "opted out" if action == FlowBack.OPT_OUT else "left as it is")
        fresh = Sync.objects.get(pk=self.sync.pk)
        fresh.options = {**(fresh.options or {}), "flow_back_log": entries}
        fresh.save(update_fields=["options", "updated_at"])

    def skip_reason(self, direction, record) -> str:
        if not direction.forward:
            return ""
        fields = record.fields
        if opted_out(self.options, fields):  # ZO-4a
            return f"Opted out of email in Zoho CRM ({self.options.opt_out_field}): not imported into Campaigns."
        if not str(fields.get("Email") or "").strip():
            return "Zoho Campaigns keeps contacts by email, and this record has none."
        return ""

    def prepare_create(self, direction, change) -> None:
        if not direction.forward:  # the way back only updates records the sync put on the list
            change.action, change.reason = "skip", "Not on the list through this sync: nothing to update in the CRM."


@register
class ZohoCampaignsIntegration(ZohoCampaignsBase):
    """The new model: immediate, every record, marketing or not by the admin's rule."""

    key = "zoho_campaigns"
    label = "Zoho CRM → Zoho Campaigns (new model: immediate, marketing contacts)"
    default_for_kinds = True
    settings_pages = (("Zoho Campaigns", "zoho_campaigns_settings"),)

    def skip_reason(self, direction, record) -> str:
        reason = super().skip_reason(direction, record)
        if reason or not direction.forward:
            return reason
        if not is_marketing(self.options, record.fields):  # ZO-3
            return (f"Non-marketing contact (by the rule on {self.options.marketing_field}): kept out of the list, "
                    "so it is not counted.")
        return ""
