"""Zoho's limits, kept in memory (the sandbox is one process); ``clock`` is swappable so
that tests can freeze and advance time.

- Zoho CRM counts API credits per rolling 24 hours (50,000 and more by edition; most calls
  one credit, COQL and search more); past them every call is answered 429
  TOO_MANY_REQUESTS.
- Zoho Campaigns limits each API method on its own: so many calls per duration, after
  which that method alone is locked for a lock period (e.g. ``getlistsubscribers``: 500
  calls per 5 minutes, then 30 minutes locked); other methods go on working.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable

ONE_DAY = 86_400.0

# Campaigns methods: (calls, per seconds, lock seconds). getlistsubscribers and
# listsubscriberscount from their pages; addlistsubscribersinbulk 2,000 a minute with a
# 10-minute lock; the rest (unconfirmed) as the contact APIs' common 500 per 5 minutes.
CAMPAIGNS_LIMITS: dict[str, tuple[int, float, float]] = {
    "getlistsubscribers": (500, 300, 1800),
    "listsubscriberscount": (500, 300, 1800),
    "addlistsubscribersinbulk": (2000, 60, 600),
    "listsubscribe": (500, 300, 1800),
    "listunsubscribe": (500, 300, 1800),
    "getmailinglists": (500, 300, 1800),
    "getlistsegments": (500, 300, 1800),
    "getsegmentcontacts": (500, 300, 1800),
    "allfields": (500, 300, 1800),
}

# CRM credits a call costs (the rest cost 1): COQL and search are heavier.
CRM_CREDITS = {"coql": 1, "search": 1}


class Limiter:
    """Sliding windows per (organisation, bucket) and method locks."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self._calls: dict[tuple[str, str], deque[float]] = {}
        self._locked_until: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def _window(self, key: tuple[str, str], span: float, moment: float) -> deque[float]:
        calls = self._calls.setdefault(key, deque())
        while calls and calls[0] <= moment - span:
            calls.popleft()
        return calls

    def admit_crm(self, org: str, daily_credits: int, cost: int = 1) -> float | None:
        """Count a CRM call's credits; None if admitted, else seconds until credits return."""
        moment = self.clock()
        with self._lock:
            day = self._window((org, "crm"), ONE_DAY, moment)
            if len(day) + cost > daily_credits:
                return (day[0] + ONE_DAY - moment) if day else ONE_DAY
            day.extend([moment] * cost)
            return None

    def admit_method(self, org: str, method: str, limit: tuple[int, float, float]) -> float | None:
        """Count a Campaigns call of ``method``; None if admitted, else the seconds its lock
        has left. The call that goes over the limit starts the lock."""
        calls, per, lock = limit
        moment = self.clock()
        key = (org, method)
        with self._lock:
            until = self._locked_until.get(key, 0.0)
            if until > moment:
                return until - moment
            window = self._window(key, per, moment)
            if len(window) >= calls:
                self._locked_until[key] = moment + lock
                window.clear()
                return lock
            window.append(moment)
            return None

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
            self._locked_until.clear()


limiter = Limiter()
