"""Creating emulated Zoho organisations (what the `sandbox` command and the test fixtures
call) and their login facts."""
from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass

from django.db import transaction
from django.utils.text import slugify

from connectors.sandbox import faults
from connectors.sandbox.models.zoho import ZohoOrg

from .campaigns_views import list_create
from .seed import org_fill


@dataclass(frozen=True)
class LoginFacts:
    """What connections to the organisation need, as `sandbox create-account zoho --json`
    prints it: the accounts (OAuth) server, the CRM API domain and the Campaigns host, in
    place of https://accounts.zoho.<dc>, https://www.zohoapis.<dc> and
    https://campaigns.zoho.<dc>, and the OAuth client and grant."""

    name: str
    accounts_url: str
    api_domain: str
    campaigns_url: str
    client_id: str
    client_secret: str
    refresh_token: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def login_facts(org: ZohoOrg, *, base_url: str) -> LoginFacts:
    root = f"{base_url.rstrip('/')}/zoho/{org.slug}"
    return LoginFacts(name=org.name, accounts_url=f"{root}/accounts", api_domain=root, campaigns_url=f"{root}/campaigns",
                      client_id=org.client_id, client_secret=org.client_secret, refresh_token=org.refresh_token)


def org_get(slug: str) -> ZohoOrg:
    """The organisation named ``slug``; raises ZohoOrg.DoesNotExist."""
    return ZohoOrg.objects.get(slug=slug)


def _free(field: str, low: int, high: int) -> int:
    while True:
        number = secrets.randbelow(high - low) + low
        if not ZohoOrg.objects.filter(**{field: number}).exists():
            return number


def org_create(
    *,
    name: str = "Sandbox organisation",
    records: int = 0,
    seed_value: int = 1,
    token_lifetime: int = 3600,
    token_rate_limit: int = 10,
    crm_daily_credits: int = 50_000,
    campaigns_limits: dict | None = None,
    one_instant_per_request: bool = False,
    list_name: str = "Newsletter",
    utc_offset_minutes: int = 330,
) -> ZohoOrg:
    """A new organisation with one Campaigns mailing list (``list_name``); ``records`` > 0
    fills CRM with about that many Contacts and Leads (a few opted out of email) and some
    Accounts, and the list with the contacts who did not opt out (deterministic for
    ``seed_value``). ``token_lifetime`` shortens access tokens to test their refresh."""
    if token_lifetime < 1 or token_rate_limit < 1 or crm_daily_credits < 1:
        raise ValueError("Token lifetime, token rate limit and credits must be at least 1.")
    if records < 0:
        raise ValueError("The number of records must not be negative.")
    with transaction.atomic():
        org_id = _free("org_id", 10_000_000, 99_999_999)
        org = ZohoOrg.objects.create(
            slug=f"{slugify(name)[:40] or 'org'}-{secrets.token_hex(3)}", name=name, org_id=org_id,
            id_base=(secrets.randbelow(4_000_000) + 1_000_000) * 10**12,
            client_id=f"1000.{secrets.token_hex(15).upper()}", client_secret=secrets.token_hex(21),
            refresh_token=f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}", token_lifetime=token_lifetime,
            token_rate_limit=token_rate_limit, crm_daily_credits=crm_daily_credits,
            campaigns_limits=campaigns_limits or {}, one_instant_per_request=one_instant_per_request,
            utc_offset_minutes=utc_offset_minutes,
        )
        mailing_list = list_create(org, list_name)
    if records:
        org_fill(org, records, mailing_list, seed_value=seed_value)
    return org


def org_set_faults(org: ZohoOrg, *, error_rate: float = 0.0, limit_rate: float = 0.0, slow_rate: float = 0.0,
                   slow_ms: int = 2000, hang_rate: float = 0.0, hang_seconds: float = 30.0, seed_value: int = 0,
                   include_auth: bool = False) -> ZohoOrg:
    """Set the share of API calls (CRM and Campaigns) refused as over the limit, failed with a
    server error, slowed or left hanging (:mod:`connectors.sandbox.faults`); the token
    endpoint is spared unless ``include_auth``."""
    return faults.faults_set(org, error_rate=error_rate, limit_rate=limit_rate, slow_rate=slow_rate, slow_ms=slow_ms,
                             hang_rate=hang_rate, hang_seconds=hang_seconds, seed_value=seed_value,
                             include_auth=include_auth)
