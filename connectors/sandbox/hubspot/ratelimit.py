"""HubSpot's rate limits, per account (developers.hubspot.com, "API usage details"): a
rolling ten-second bucket for most calls (190 for a Professional private app), a daily
total, and a separate per-second limit for search. Sliding windows kept in memory (the
sandbox is one process); ``clock`` is swappable so that tests can freeze and advance time.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable

TEN_SECONDS = 10.0
ONE_SECOND = 1.0
ONE_DAY = 86_400.0


@dataclass(frozen=True)
class Admission:
    """The outcome of one call: refused with ``wait`` seconds to go, or admitted, with how
    many calls the window has left (after this one)."""

    wait: float | None
    remaining: int
    secondly_remaining: int = 0
    daily_remaining: int = 0


class RateLimiter:
    """Sliding-window counters per (account, bucket)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self._calls: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _window(self, key: tuple[str, str], span: float, moment: float) -> deque[float]:
        calls = self._calls.setdefault(key, deque())
        while calls and calls[0] <= moment - span:
            calls.popleft()
        return calls

    def admit_api(self, account: str, limit: int, daily_limit: int) -> Admission:
        """Count one ordinary API call against the ten-second and daily buckets."""
        moment = self.clock()
        with self._lock:
            ten = self._window((account, "ten"), TEN_SECONDS, moment)
            day = self._window((account, "day"), ONE_DAY, moment)
            if len(ten) >= limit:
                return Admission(ten[0] + TEN_SECONDS - moment, 0, 0, max(0, daily_limit - len(day)))
            if len(day) >= daily_limit:
                return Admission(day[0] + ONE_DAY - moment, max(0, limit - len(ten)), 0, 0)
            ten.append(moment)
            day.append(moment)
            secondly = sum(1 for t in ten if t > moment - ONE_SECOND)
            return Admission(None, limit - len(ten), max(0, secondly_limit(limit) - secondly), daily_limit - len(day))

    def admit_search(self, account: str, limit: int) -> float | None:
        """Count one search call; None if it may go ahead, else the seconds until one may."""
        moment = self.clock()
        with self._lock:
            calls = self._window((account, "search"), ONE_SECOND, moment)
            if len(calls) >= limit:
                return calls[0] + ONE_SECOND - moment
            calls.append(moment)
            return None

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()


def secondly_limit(ten_second_limit: int) -> int:
    """What the ``X-HubSpot-RateLimit-Secondly`` header reports: a tenth of the bucket."""
    return max(1, ten_second_limit // 10)


limiter = RateLimiter()
