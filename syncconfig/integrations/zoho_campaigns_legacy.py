"""Zoho CRM → Zoho Campaigns in Zoho's legacy model (SPEC ZO-1), until it is migrated (ZO-6).

Two kinds of sync over the same two connections as the new model: **immediate** (Leads,
Contacts and custom modules only) and **periodic** (any module, Accounts and Deals too; daily,
weekly or monthly). Accounts and Deals have no people of their own: their legacy syncs are
kept as configured (and counted) but write nothing, as in the new model they travel with
Contacts. Every record that did not opt out syncs (no marketing rule), and a **monthly limit**
caps the runs per organisation (the CRM connection) and module: past it a run pauses until
the next month.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from syncconfig.models import Sync, SyncRun

from . import register
from .zoho_campaigns import RELATED_ONLY, ZohoCampaignsBase, ZohoCampaignsOptions


class Frequency:
    DAILY, WEEKLY, MONTHLY = "daily", "weekly", "monthly"
    CHOICES = [(DAILY, "Daily"), (WEEKLY, "Weekly"), (MONTHLY, "Monthly")]
    CRONTAB = {DAILY: "0 3 * * *", WEEKLY: "0 3 * * 1", MONTHLY: "0 3 1 * *"}  # at night, the org's quiet hours


@dataclass
class ZohoLegacyOptions(ZohoCampaignsOptions):
    frequency: str = Frequency.DAILY  # for a periodic sync
    monthly_limit: int = 0  # runs per organisation and module a month; 0: no limit (set it to the edition's)


def month_start(moment: datetime) -> datetime:
    local = timezone.localtime(moment)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def runs_this_month(sync: Sync, *, now: datetime | None = None, exclude: int | None = None) -> int:
    """Runs this calendar month of the legacy syncs reading ``sync``'s CRM organisation and module."""
    runs = SyncRun.objects.filter(
        sync__integration=ZohoCampaignsLegacyIntegration.key, sync__source=sync.source,
        sync__source_object=sync.source_object, started_at__gte=month_start(now or timezone.now()),
    ).exclude(status=SyncRun.Status.QUEUED)
    return runs.exclude(pk=exclude).count() if exclude else runs.count()


@register
class ZohoCampaignsLegacyIntegration(ZohoCampaignsBase):
    """The legacy model: immediate or periodic per module, within a monthly limit."""

    key = "zoho_campaigns_legacy"
    label = "Zoho CRM → Zoho Campaigns (legacy model: immediate and periodic syncs)"
    default_for_kinds = False
    settings_pages = (("Zoho legacy sync and migration", "zoho_legacy_settings"),)
    options_class = ZohoLegacyOptions

    def before_run(self, direction, run) -> None:
        from syncconfig.engine import Stop

        if not direction.forward or not self.options.monthly_limit:
            return
        used = runs_this_month(self.sync, exclude=run.pk)
        if used >= self.options.monthly_limit:
            now = timezone.now()
            next_month = (month_start(now) + timedelta(days=32)).replace(day=1)
            raise Stop(SyncRun.Status.PAUSED,
                       f"Paused: {used} of the {self.options.monthly_limit} syncs a month of "
                       f"{self.sync.source_object} in this organisation are used (Zoho's legacy limit). It goes on "
                       "next month, or at once after migrating to the new model.", resume_after=next_month - now)

    def skip_reason(self, direction, record) -> str:
        if direction.forward and direction.source_object in RELATED_ONLY:
            return f"{direction.source_object} have no people of their own: nothing goes to the list."
        return super().skip_reason(direction, record)
