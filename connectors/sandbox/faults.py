"""Injected faults, shared by every emulated vendor: a seeded share of calls refused as
rate-limited, failed with a server error, slowed down, or left hanging.

Each vendor keeps the same settings on its org or account row (``error_rate``,
``limit_rate``, ``slow_rate``/``slow_ms``, ``hang_rate``/``hang_seconds``, ``fault_seed``,
``fault_calls``) and answers a fault in its own words; what is shared is deciding which
call gets which fault. One number is drawn per call from a generator seeded with
(seed, call number), so a given seed faults the same calls every run.

A *hang* is a call the client gives up on: the sandbox does the work (a write lands),
then waits ``hang_seconds`` — longer than a client's read timeout — before answering. It
is the case of "did my write happen?" that retries must survive.
"""
from __future__ import annotations

import random
import time
from typing import Any

from django.db import models, transaction

ERROR, LIMIT, SLOW, HANG = "error", "limit", "slow", "hang"
RATES = ("error_rate", "limit_rate", "slow_rate", "hang_rate")


def faults_on(row: Any) -> bool:
    return any(getattr(row, rate) for rate in RATES)


def fault_draw(row: models.Model) -> str | None:
    """Count one call against ``row``'s fault settings; the fault it gets, if any
    (ERROR, LIMIT, SLOW or HANG). SLOW has already slept when this returns."""
    if not faults_on(row):
        return None
    model = type(row)
    with transaction.atomic():
        call = model.objects.select_for_update().values_list("fault_calls", flat=True).get(pk=row.pk) + 1
        model.objects.filter(pk=row.pk).update(fault_calls=call)
    draw = random.Random(f"{row.fault_seed}:{call}").random()
    edge = 0.0
    for outcome, rate in ((ERROR, row.error_rate), (LIMIT, row.limit_rate), (SLOW, row.slow_rate), (HANG, row.hang_rate)):
        edge += rate
        if draw < edge:
            if outcome == SLOW:
                time.sleep(row.slow_ms / 1000)
            return outcome
    return None


def fault_variant(row: Any, choices: tuple[Any, ...]) -> Any:
    """One of ``choices`` for the current call, as seeded (e.g. 502 or 503)."""
    return random.Random(f"{row.fault_seed}:{row.fault_calls}:variant").choice(choices)


def hang(row: Any) -> None:
    """Hold the answer back for ``hang_seconds``."""
    time.sleep(row.hang_seconds)


def faults_set(
    row: models.Model,
    *,
    error_rate: float = 0.0,
    limit_rate: float = 0.0,
    slow_rate: float = 0.0,
    slow_ms: int = 2000,
    hang_rate: float = 0.0,
    hang_seconds: float = 30.0,
    seed_value: int = 0,
    include_auth: bool = False,
) -> models.Model:
    """Store fault settings on an org or account row (and restart its call count);
    raises ValueError with a message for the person at the keyboard."""
    rates: dict[str, Any] = {"error_rate": error_rate, "limit_rate": limit_rate, "slow_rate": slow_rate,
                             "hang_rate": hang_rate}
    if any(not 0 <= rate <= 1 for rate in rates.values()) or sum(rates.values()) > 1:
        raise ValueError("Each rate must be between 0 and 1, and together at most 1.")
    if slow_ms < 0 or hang_seconds < 0:
        raise ValueError("The slow and hang delays must not be negative.")
    settings = {**rates, "slow_ms": slow_ms, "hang_seconds": hang_seconds, "fault_seed": seed_value,
                "faults_on_auth": include_auth, "fault_calls": 0}
    for attribute, value in settings.items():
        setattr(row, attribute, value)
    row.save(update_fields=list(settings))
    return row
