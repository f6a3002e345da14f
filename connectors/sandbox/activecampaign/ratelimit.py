"""The vendor's rate limit: N requests per second per account, shared by all its keys
(developers.activecampaign.com/reference/rate-limits; 5 by default), and the bulk
importer's own limits per minute. A sliding one-second
window kept in memory: the sandbox is one process. ``clock`` is swappable so that tests
can freeze and advance time instead of sleeping.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable

WINDOW = 1.0


class RateLimiter:
    """Admits at most ``limit`` calls per key in any one-second window."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self._calls: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def admit(self, key: str, limit: int, window: float = WINDOW) -> float | None:
        """Count one call; None if it may go ahead, else the seconds until one may.
        ``window`` is the span the limit counts over (a second unless said otherwise)."""
        moment = self.clock()
        with self._lock:
            calls = self._calls.setdefault(key, deque())
            while calls and calls[0] <= moment - window:
                calls.popleft()
            if len(calls) >= limit:
                return calls[0] + window - moment
            calls.append(moment)
            return None

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()


limiter = RateLimiter()
