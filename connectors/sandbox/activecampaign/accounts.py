"""Creating emulated accounts (what the `sandbox` command and the test fixtures call) and
their login facts."""
from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass

from django.db import transaction
from django.utils.text import slugify

from connectors.sandbox import faults
from connectors.sandbox.models.activecampaign import AcAccount

from .schema import automation_create, field_add, list_create
from .seed import account_fill

# Custom fields of every new account: the kinds a marketing team keeps (one of each shape).
STANDARD_FIELDS = (
    ("Company size", "COMPANY_SIZE", "dropdown", ("1-10", "11-50", "51-200", "201-1000", "1000+")),
    ("Industry", "INDUSTRY", "text", ()),
    ("Birthday", "BIRTHDAY", "date", ()),
    ("Interests", "INTERESTS", "checkbox", ("Newsletter", "Events", "Webinars", "Product news")),
)
STANDARD_LISTS = ("Master Contact List", "Newsletter")
STANDARD_AUTOMATIONS = ("Welcome series", "Re-engagement")


@dataclass(frozen=True)
class LoginFacts:
    """What a connection to the account needs, as `sandbox create-account --json` prints it."""

    name: str
    api_url: str
    api_key: str
    app_url: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def login_facts(account: AcAccount, *, base_url: str) -> LoginFacts:
    """The account's API URL (without ``/api/3``, like ``https://acme.api-us1.com``) and key
    for a sandbox served at ``base_url``."""
    api_url = f"{base_url.rstrip('/')}/activecampaign/{account.slug}"
    return LoginFacts(name=account.name, api_url=api_url, api_key=account.api_key, app_url=f"{api_url}/app/contacts")


def account_get(slug: str) -> AcAccount:
    """The account named ``slug``; raises AcAccount.DoesNotExist."""
    return AcAccount.objects.get(slug=slug)


def account_create(
    *,
    name: str = "Sandbox account",
    rate_limit: int = 5,
    utc_offset_minutes: int = -300,
    records: int = 0,
    seed_value: int = 1,
    bulk_import_limit: int = 100,
    bulk_import_single_limit: int = 20,
) -> AcAccount:
    """A new account with the standard custom fields, lists and automations; ``records`` > 0
    fills it with that many realistic contacts (deterministic for ``seed_value``)."""
    if rate_limit < 1:
        raise ValueError("The rate limit must be at least 1 request per second.")
    if not -720 <= utc_offset_minutes <= 840:
        raise ValueError("The UTC offset must be between -720 and +840 minutes.")
    if records < 0:
        raise ValueError("The number of records must not be negative.")
    with transaction.atomic():
        account = AcAccount.objects.create(
            slug=f"{slugify(name)[:40] or 'account'}-{secrets.token_hex(3)}", name=name,
            api_key=secrets.token_hex(36), rate_limit=rate_limit, utc_offset_minutes=utc_offset_minutes,
            bulk_import_limit=bulk_import_limit, bulk_import_single_limit=bulk_import_single_limit,
        )
        for title, perstag, field_type, options in STANDARD_FIELDS:
            field_add(account, title=title, perstag=perstag, field_type=field_type, options=options)
        for list_name in STANDARD_LISTS:
            list_create(account, name=list_name)
        for automation in STANDARD_AUTOMATIONS:
            automation_create(account, name=automation)
    if records:
        account_fill(account, records, seed_value=seed_value)
    return account



def account_set_faults(
    account: AcAccount,
    *,
    error_rate: float = 0.0,
    limit_rate: float = 0.0,
    slow_rate: float = 0.0,
    slow_ms: int = 2000,
    hang_rate: float = 0.0,
    hang_seconds: float = 30.0,
    seed_value: int = 0,
    include_setup: bool = False,
) -> AcAccount:
    """Set the share of API calls answered 429 or 502/503, slowed, or left hanging (see
    :mod:`connectors.sandbox.faults`); set-up calls are spared unless ``include_setup``."""
    return faults.faults_set(
        account, error_rate=error_rate, limit_rate=limit_rate, slow_rate=slow_rate, slow_ms=slow_ms,
        hang_rate=hang_rate, hang_seconds=hang_seconds, seed_value=seed_value, include_auth=include_setup,
    )
