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


# --- one configuration for Leads, Contacts and custom modules (ZO-2) -------------------------------
SHARED = ("marketing_field", "marketing_operator", "marketing_value", "opt_out_field", "on_unsubscribe", "on_bounce")


def configuration_syncs(*, sync: Sync):
    """The new-model syncs that make one configuration with ``sync``: the same CRM
    organisation, Campaigns account and list; one sync per module, each with its watermark."""
    from .integrations.zoho_campaigns import ZohoCampaignsIntegration

    return Sync.objects.filter(integration=ZohoCampaignsIntegration.key, source=sync.source, target=sync.target,
                               target_object=sync.target_object).select_related("source", "target").order_by("pk")


def configuration_modules(*, sync: Sync) -> list[str]:
    """The modules the configuration covers."""
    return [s.source_object for s in configuration_syncs(sync=sync) if ZohoCampaignsOptions.of(s).covered]


def zoho_modules_set(*, sync: Sync, modules: list[str]) -> list[Sync]:
    """Make ``sync``'s configuration cover exactly ``modules`` (ZO-2): Leads, Contacts and
    custom modules, all immediate into one list, with one marketing rule and opt-out setting.
    A module added gets a sync of its own (the engine keeps a watermark per module) with the
    configuration's settings, switched on when the configuration is; a module left out is
    switched off and keeps its links, so adding it again syncs nothing twice. Returns the
    configuration's syncs."""
    from connectors.base import ConnectorError

    from .integrations.zoho_campaigns import RELATED_ONLY, ZohoCampaignsIntegration
    from .services import sync_enable

    wanted = list(dict.fromkeys(m.strip() for m in modules if m and m.strip()))
    if not wanted:
        raise ValidationError("Choose at least one module: Contacts, Leads or a custom module.")
    related = [m for m in wanted if m in RELATED_ONLY]
    if related:
        raise ValidationError(f"{', '.join(related)} travel with Contacts in the new model; they have no sync of their own.")
    crm = connection_connector(sync.source)
    for module in wanted:
        try:
            crm.describe(module)
        except ConnectorError:
            raise ValidationError(f"Zoho CRM has no module {module} (use its API name, e.g. Event_Guests).") from None
    shared = {name: getattr(ZohoCampaignsOptions.of(sync), name) for name in SHARED}
    present = {s.source_object: s for s in configuration_syncs(sync=sync)}
    for module in wanted:
        member = present.get(module)
        if member is None:
            member = Sync.objects.create(
                name=f"{sync.name} · {module}"[:200], source=sync.source, source_object=module, target=sync.target,
                target_object=sync.target_object, direction=Sync.Direction.TWO_WAY, trigger=Sync.Trigger.IMMEDIATE,
                integration=ZohoCampaignsIntegration.key,
                options={k: v for k, v in (sync.options or {}).items() if k == "object_labels"})
            present[module] = member
        options = ZohoCampaignsOptions.of(member)
        for name, value in shared.items():
            setattr(options, name, value)
        options.covered = True
        options.save(member)
        if sync.enabled and not member.enabled:
            sync_enable(sync=member, enabled=True)
    for module, member in present.items():
        if module not in wanted:
            options = ZohoCampaignsOptions.of(member)
            options.covered = False
            options.save(member)
            if member.enabled:
                sync_enable(sync=member, enabled=False)
    return list(configuration_syncs(sync=sync))


def zoho_options_save(*, sync: Sync, marketing_field: str, marketing_operator: str, marketing_value: str,
                      opt_out_field: str, on_unsubscribe: str, on_bounce: str) -> ZohoCampaignsOptions:
    """Save the new model's settings (ZO-3, ZO-4) for every module of the configuration; a
    rule's field must exist in each module."""
    valid_flow = {value for value, _ in FlowBack.CHOICES}
    if on_unsubscribe not in valid_flow or on_bounce not in valid_flow:
        raise ValidationError("Choose what an unsubscribe and a bounce do to the CRM record.")
    if marketing_operator not in SyncRule.Operator.values:
        raise ValidationError("Choose how the marketing rule compares the field.")
    crm = connection_connector(sync.source)
    members = [s for s in configuration_syncs(sync=sync) if s.pk == sync.pk or ZohoCampaignsOptions.of(s).covered]
    for member in members:
        known = {f.name for f in crm.describe(member.source_object).fields}
        for name in (marketing_field, opt_out_field):
            if name and name not in known:
                raise ValidationError(f"{member.source_object} has no field {name}.")
    for member in members:
        options = ZohoCampaignsOptions.of(member)
        options.marketing_field, options.marketing_operator = marketing_field, marketing_operator
        options.marketing_value, options.opt_out_field = marketing_value, opt_out_field
        options.on_unsubscribe, options.on_bounce = on_unsubscribe, on_bounce
        options.save(member)
        if member.pk == sync.pk:
            saved = options
    return saved


# --- the legacy model and the migration (ZO-1, ZO-6) -----------------------------------------------
def legacy_options_save(*, sync: Sync, trigger: str, frequency: str, monthly_limit: int) -> None:
    """ZO-1: immediate for Leads, Contacts and custom modules only; periodic daily, weekly or
    monthly for any module (its beat schedule follows)."""
    from .integrations.zoho_campaigns_legacy import RELATED_ONLY, Frequency, ZohoLegacyOptions
    from .services import sync_schedule_set

    if trigger not in (Sync.Trigger.IMMEDIATE, Sync.Trigger.PERIODIC):
        raise ValidationError("A legacy Zoho sync is immediate or periodic.")
    if trigger == Sync.Trigger.IMMEDIATE and sync.source_object in RELATED_ONLY:
        raise ValidationError(f"{sync.source_object} sync only periodically in the legacy model.")
    if frequency not in Frequency.CRONTAB:
        raise ValidationError("Choose daily, weekly or monthly.")
    if monthly_limit < 0:
        raise ValidationError("The monthly limit cannot be negative.")
    options = ZohoLegacyOptions.of(sync)
    options.frequency, options.monthly_limit = frequency, monthly_limit
    options.save(sync)
    sync.trigger = trigger
    sync.save(update_fields=["trigger", "updated_at"])
    sync_schedule_set(sync=sync, crontab=Frequency.CRONTAB[frequency] if trigger == Sync.Trigger.PERIODIC else "")


def legacy_syncs(*, source, target):
    from .integrations.zoho_campaigns_legacy import ZohoCampaignsLegacyIntegration

    return Sync.objects.filter(integration=ZohoCampaignsLegacyIntegration.key, source=source, target=target
                               ).select_related("source", "target").order_by("pk")


def migration_preview(*, source, target) -> list[dict]:
    """What moving the legacy configuration between two connections to the new model changes
    (ZO-6), one entry per legacy sync: what it is now, what it becomes, and notes."""
    from .integrations.zoho_campaigns_legacy import RELATED_ONLY, ZohoLegacyOptions

    rows = []
    for sync in legacy_syncs(source=source, target=target):
        options = ZohoLegacyOptions.of(sync)
        covering = _covered_already(sync)
        now = (f"{sync.get_trigger_display()}" + (f", {options.frequency}" if sync.trigger == Sync.Trigger.PERIODIC else "")
               + (f", at most {options.monthly_limit} runs a month" if options.monthly_limit else ""))
        notes = []
        if sync.source_object in RELATED_ONLY:
            after = f"Switched off: {sync.source_object} fields travel with Contacts immediately."
        elif covering is not None:
            after = f"Switched off: the new-model sync “{covering.name}” covers {sync.source_object} already."
        else:
            after = "Immediate, both ways (unsubscribes and bounces come back); every record is a marketing contact until you set a rule."
            if options.monthly_limit:
                notes.append("The monthly limit no longer applies.")
            if sync.direction != Sync.Direction.TWO_WAY:
                notes.append("Unsubscribes and bounces start flowing back to the CRM records.")
        scopes = [str(rule) for rule in sync.rules.all() if rule.enabled and rule.kind == rule.Kind.SCOPE]
        if scopes:
            notes.append("Criteria (custom-view) filters are switched off; build segments in Campaigns instead: "
                         + "; ".join(scopes) + ".")
        notes.append(f"Links and the watermark are kept: nothing is synced twice, nothing is lost "
                     f"({sync.links.count()} linked records).")
        rows.append({"sync": sync, "module": sync.source_object, "now": now, "after": after, "notes": notes,
                     "enabled": sync.enabled})
    return rows


def migrate(*, source, target, automatic: bool = False) -> list[Sync]:
    """Move the legacy configuration between two connections to the new model (ZO-6): the
    same sync rows, so links, watermarks, runs and failures stay; returns the syncs changed."""
    from .integrations.zoho_campaigns import ZohoCampaignsIntegration, ZohoCampaignsOptions
    from .integrations.zoho_campaigns_legacy import RELATED_ONLY
    from .services import sync_enable, sync_schedule_set

    moved = []
    stamp = timezone.now().isoformat(timespec="seconds")
    for sync in legacy_syncs(source=source, target=target):
        note = {"migrated_at": stamp, "migrated_automatically": automatic}
        covering = _covered_already(sync)
        if sync.source_object in RELATED_ONLY or covering is not None:
            into = "new model (carried by Contacts)" if covering is None else f"new model (sync {covering.pk})"
            sync.options = {**(sync.options or {}), **note, "migrated_to": into}
            sync.save(update_fields=["options", "updated_at"])
            sync_enable(sync=sync, enabled=False)
            moved.append(sync)
            continue
        was_enabled = sync.enabled
        sync.rules.filter(kind="scope", enabled=True).update(enabled=False)
        kept = {k: v for k, v in (sync.options or {}).items() if k in ZohoCampaignsOptions.__dataclass_fields__}
        sync.options = {**kept, "migrated_from": sync.name, **note}
        sync.integration, sync.trigger, sync.direction = ZohoCampaignsIntegration.key, Sync.Trigger.IMMEDIATE, Sync.Direction.TWO_WAY
        sync.save(update_fields=["options", "integration", "trigger", "direction", "updated_at"])
        sync_schedule_set(sync=sync)  # an immediate sync keeps no schedule
        if was_enabled:
            sync_enable(sync=sync, enabled=True)  # registers the notification channel
        moved.append(sync)
    return moved


def _covered_already(legacy: Sync) -> Sync | None:
    """The new-model sync that already reads the legacy sync's module into its list, if any:
    the legacy sync then makes way for it rather than becoming a second one."""
    from .integrations.zoho_campaigns import ZohoCampaignsIntegration

    return Sync.objects.filter(integration=ZohoCampaignsIntegration.key, source=legacy.source, target=legacy.target,
                               target_object=legacy.target_object, source_object=legacy.source_object).first()


def migrate_due(*, today=None) -> int:
    """After the cut-off date (``settings.ZOHO_LEGACY_CUTOFF``) every legacy configuration is
    moved to the new model by itself (ZO-6). Returns how many syncs moved."""
    from django.conf import settings

    from .integrations.zoho_campaigns_legacy import ZohoCampaignsLegacyIntegration

    cutoff = settings.ZOHO_LEGACY_CUTOFF
    if not cutoff or (today or timezone.localdate()) < cutoff:
        return 0
    pairs = set(Sync.objects.filter(integration=ZohoCampaignsLegacyIntegration.key).values_list("source", "target"))
    from .models import Connection

    moved = 0
    for source_id, target_id in pairs:
        moved += len(migrate(source=Connection.objects.get(pk=source_id), target=Connection.objects.get(pk=target_id),
                             automatic=True))
    return moved


def notification_channels_renew() -> int:
    """Zoho's notification channels (``actions/watch``) last a day at most: renew the channel
    of every Zoho CRM connection that immediate syncs read, subscribing it again when the
    renewal is refused (it expired). While a channel is down the immediate syncs' short poll
    (an ``If-Modified-Since`` read) still finds every change. Returns the channels renewed."""
    import logging

    from connectors.base import ConnectorError

    from .models import Connection
    from .services import connection_webhook_register, connection_webhook_url, runnable_syncs

    log = logging.getLogger(__name__)
    readers = runnable_syncs().filter(trigger=Sync.Trigger.IMMEDIATE, source__kind="zoho_crm").values_list("source", flat=True)
    renewed = 0
    for connection in Connection.objects.filter(pk__in=set(readers), is_active=True):
        try:
            connection_connector(connection).webhook_renew(connection_webhook_url(connection))
            renewed += 1
        except ConnectorError as exc:
            log.warning("Connection %s: Zoho channel not renewed (%s); subscribing again", connection.pk, exc.message)
            renewed += connection_webhook_register(connection=connection)
    return renewed
