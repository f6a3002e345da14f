"""Services of the Zoho CRM → Zoho Campaigns integrations: the marketing counts (ZO-3) and
the settings a page saves. Views and tasks call these; the engine never does."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone

from .integrations.zoho_campaigns import FlowBack, ZohoCampaignsOptions, is_marketing, opted_out
from .models import Sync, SyncRule
from .services import connection_connector


def marketing_counts(*, sync: Sync) -> dict:
    """Count the sync's CRM module by the marketing rule (ZO-3): records, marketing,
    non-marketing, opted out and without an email, and the list's active, unsubscribed and
    bounced subscribers (the active ones are what Campaigns bills). Reads the whole module
    (200 records a call) and three counts; stored on the sync for its settings page."""
    options = ZohoCampaignsOptions.of(sync)
    crm, campaigns = connection_connector(sync.source), connection_connector(sync.target)
    fields = ["Email"] + [f for f in (options.opt_out_field, options.marketing_field) if f]
    counts = {"records": 0, "marketing": 0, "non_marketing": 0, "opted_out": 0, "no_email": 0}
    for page in crm.changes(sync.source_object, None, fields):
        for record in page:
            counts["records"] += 1
            if opted_out(options, record.fields):
                counts["opted_out"] += 1
            elif not str(record.fields.get("Email") or "").strip():
                counts["no_email"] += 1
            elif is_marketing(options, record.fields):
                counts["marketing"] += 1
            else:
                counts["non_marketing"] += 1
    for status, name in (("active", "list_active"), ("unsub", "list_unsubscribed"), ("bounce", "list_bounced")):
        counts[name] = campaigns.count(sync.target_object, status)
    counts["counted_at"] = timezone.now().isoformat(timespec="seconds")
    counts["api_calls"] = crm.api_calls + campaigns.api_calls
    options.counts = counts
    options.save(sync)
    return counts


def zoho_options_save(*, sync: Sync, marketing_field: str, marketing_operator: str, marketing_value: str,
                      opt_out_field: str, on_unsubscribe: str, on_bounce: str) -> ZohoCampaignsOptions:
    """Save the new model's settings (ZO-3, ZO-4); a rule's field must exist in the module."""
    valid_flow = {value for value, _ in FlowBack.CHOICES}
    if on_unsubscribe not in valid_flow or on_bounce not in valid_flow:
        raise ValidationError("Choose what an unsubscribe and a bounce do to the CRM record.")
    if marketing_operator not in SyncRule.Operator.values:
        raise ValidationError("Choose how the marketing rule compares the field.")
    known = {f.name for f in connection_connector(sync.source).describe(sync.source_object).fields}
    for name in (marketing_field, opt_out_field):
        if name and name not in known:
            raise ValidationError(f"{sync.source_object} has no field {name}.")
    options = ZohoCampaignsOptions.of(sync)
    options.marketing_field, options.marketing_operator = marketing_field, marketing_operator
    options.marketing_value, options.opt_out_field = marketing_value, opt_out_field
    options.on_unsubscribe, options.on_bounce = on_unsubscribe, on_bounce
    options.save(sync)
    return options
