"""Who may call, and how often: access tokens, the daily API allowance, injected faults.

Salesforce counts API requests per org over a rolling 24 hours and answers 403
REQUEST_LIMIT_EXCEEDED once the allowance is used up; every response reports
``Sforce-Limit-Info: api-usage=N/MAX`` (REST API guide, "Limits" and "Sforce-Limit-Info").
The emulator restarts the count 24 hours after the window began. Which calls get an
injected fault is decided by :mod:`connectors.sandbox.faults` (seeded, shared with the
other vendors); here a fault is answered in Salesforce's words.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import F

from connectors.sandbox import faults

from connectors.sandbox.models import SandboxOrg, SandboxRecord, SandboxToken

from . import errors
from .values import now

TOKEN_LIFETIME = timedelta(hours=2)
USAGE_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Usage:
    """API requests used and allowed, as ``Sforce-Limit-Info`` reports them."""

    used: int
    allowed: int

    def header(self) -> str:
        return f"api-usage={self.used}/{self.allowed}"


def integration_user_id(org: SandboxOrg) -> str:
    """The id of the org's first user, the one the integration logs in as."""
    return SandboxRecord.objects.filter(org=org, sobject="User").order_by("number").values_list("record_id", flat=True)[0]


def token_issue(org: SandboxOrg) -> SandboxToken:
    """A new access token for the integration user (``00D…!…``, like a session id)."""
    key = f"{org.org_id[:15]}!{secrets.token_urlsafe(48)}"
    moment = now()
    return SandboxToken.objects.create(
        org=org, key=key, user_id=integration_user_id(org), issued_at=moment, expires_at=moment + TOKEN_LIFETIME,
    )


def token_resolve(key: str) -> SandboxToken | None:
    """The live token ``key`` (with its org), or None if unknown or expired."""
    if not key:
        return None
    return SandboxToken.objects.select_related("org").filter(key=key, expires_at__gt=now()).first()


def usage(org: SandboxOrg) -> Usage:
    used, allowed = SandboxOrg.objects.values_list("api_usage", "daily_limit").get(pk=org.pk)
    return Usage(used, allowed)


def api_call(org: SandboxOrg) -> tuple[Usage, bool]:
    """Admit one API request: inject a fault if one is due, then count it against the
    daily allowance. Raises the ApiError the caller must answer with; otherwise returns
    the usage and whether the answer must hang (``faults.hang``) once the work is done."""
    hangs = inject_faults(org)
    moment = now()
    if moment - org.usage_window_start >= USAGE_WINDOW:
        SandboxOrg.objects.filter(pk=org.pk, usage_window_start=org.usage_window_start).update(
            api_usage=0, usage_window_start=moment,
        )
    admitted = SandboxOrg.objects.filter(pk=org.pk, api_usage__lt=F("daily_limit")).update(api_usage=F("api_usage") + 1)
    if not admitted:
        raise errors.limit_exceeded()
    return usage(org), hangs


def inject_faults(org: SandboxOrg) -> bool:
    """Fail (503 SERVER_UNAVAILABLE, 403 REQUEST_LIMIT_EXCEEDED) or delay this call if the
    org's fault settings say so; True if its answer must hang."""
    outcome = faults.fault_draw(org)
    if outcome == faults.ERROR:
        raise errors.server_unavailable()
    if outcome == faults.LIMIT:
        raise errors.limit_exceeded()
    return outcome == faults.HANG
