"""Creating emulated accounts (what the `sandbox` command and the test fixtures call) and
their login facts."""
from __future__ import annotations

import secrets
import uuid
from dataclasses import asdict, dataclass

from django.db import transaction
from django.utils.text import slugify

from connectors.sandbox import faults
from connectors.sandbox.models.hubspot import HsAccount

from .properties import defaults_create
from .seed import account_fill


@dataclass(frozen=True)
class LoginFacts:
    """What a connection to the account needs, as `sandbox create-account hubspot --json`
    prints it: the base URL (in place of https://api.hubapi.com) and private app token,
    and the webhook app's id and client secret."""

    name: str
    portal_id: int
    base_url: str
    token: str
    app_id: int
    client_secret: str
    app_url: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def login_facts(account: HsAccount, *, base_url: str) -> LoginFacts:
    """The account's facts for a sandbox served at ``base_url``."""
    root = f"{base_url.rstrip('/')}/hubspot/{account.slug}"
    return LoginFacts(name=account.name, portal_id=account.portal_id, base_url=root, token=account.token,
                      app_id=account.app_id, client_secret=account.client_secret, app_url=f"{root}/app/contacts")


def account_get(slug: str) -> HsAccount:
    """The account named ``slug``; raises HsAccount.DoesNotExist."""
    return HsAccount.objects.get(slug=slug)


def _free_number(field: str, low: int, high: int) -> int:
    while True:
        number = secrets.randbelow(high - low) + low
        if not HsAccount.objects.filter(**{field: number}).exists():
            return number


def account_create(
    *,
    name: str = "Sandbox portal",
    rate_limit: int = 190,
    search_rate_limit: int = 5,
    daily_limit: int = 250_000,
    search_result_cap: int = 10_000,
    records: int = 0,
    seed_value: int = 1,
    search_lag_seconds: float = 0.0,
    search_lag_seed: int = 0,
    one_instant_per_request: bool = False,
) -> HsAccount:
    """A new account with HubSpot's default contact properties; ``records`` > 0 fills it
    with that many realistic contacts and some notes (deterministic for ``seed_value``).

    ``search_lag_seconds`` > 0 makes search find each create or update only after a seeded
    lag of up to that many seconds (:mod:`connectors.sandbox.lag`);
    ``one_instant_per_request`` stamps every contact of one batch with the same
    ``lastmodifieddate``, and the seeded contacts a hundred to an instant."""
    if search_lag_seconds < 0:
        raise ValueError("The search lag must not be negative.")
    if rate_limit < 1 or search_rate_limit < 1 or daily_limit < 1:
        raise ValueError("Rate limits must be at least 1.")
    if search_result_cap < 1:
        raise ValueError("The search result cap must be at least 1.")
    if records < 0:
        raise ValueError("The number of records must not be negative.")
    with transaction.atomic():
        account = HsAccount.objects.create(
            slug=f"{slugify(name)[:40] or 'portal'}-{secrets.token_hex(3)}", name=name,
            portal_id=_free_number("portal_id", 10_000_000, 99_999_999),
            token=f"pat-eu1-{uuid.uuid4()}", app_id=secrets.randbelow(9_000_000) + 1_000_000,
            client_secret=str(uuid.uuid4()), rate_limit=rate_limit, search_rate_limit=search_rate_limit,
            daily_limit=daily_limit, search_result_cap=search_result_cap, search_lag_seconds=search_lag_seconds,
            search_lag_seed=search_lag_seed, one_instant_per_request=one_instant_per_request,
        )
        defaults_create(account)
    if records:
        account_fill(account, records, seed_value=seed_value)
    return account


def account_set_faults(
    account: HsAccount,
    *,
    error_rate: float = 0.0,
    limit_rate: float = 0.0,
    slow_rate: float = 0.0,
    slow_ms: int = 2000,
    hang_rate: float = 0.0,
    hang_seconds: float = 30.0,
    seed_value: int = 0,
    include_setup: bool = False,
) -> HsAccount:
    """Set the share of API calls answered 429 or 502/503, slowed, or left hanging (see
    :mod:`connectors.sandbox.faults`); set-up calls are spared unless ``include_setup``."""
    return faults.faults_set(
        account, error_rate=error_rate, limit_rate=limit_rate, slow_rate=slow_rate, slow_ms=slow_ms,
        hang_rate=hang_rate, hang_seconds=hang_seconds, seed_value=seed_value, include_auth=include_setup,
    )
