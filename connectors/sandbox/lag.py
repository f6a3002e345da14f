"""Reads that run behind writes: Salesforce's commit lag and HubSpot's search-index lag.

A vendor's change-reading queries do not see a write at once. Salesforce stamps a record's
SystemModstamp when its transaction *starts*, so a record stamped t may only become
visible to SOQL some seconds after t; HubSpot's CRM search finds a contact's new state
only once its index caught up. Either lets an incremental reader that already moved its
watermark past t miss the change for good.

A sandbox that emulates this gives each write a seeded random lag in [0, max] seconds
(``lag_draw``: one number per write, from a generator seeded with (seed, write number),
so the same seed lags the same writes by the same amounts) and keeps the moment the write
becomes visible on the row (``clock.at(stamp) + lag``); its queries compare that moment
with ``clock.now()``.
``clock`` is real time plus a skew tests move forward (``clock.advance(seconds)``), so a
test need not sleep through the lag.
"""
from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta, timezone

from django.db import models
from django.db.models import F


class VisibilityClock:
    """The time the lagging reads compare with: real time, moved ``skew`` seconds ahead."""

    def __init__(self) -> None:
        self.skew = 0.0
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + timedelta(seconds=self.skew)

    def at(self, moment: datetime) -> datetime:
        """A real moment (a write's stamp) on this clock."""
        return moment + timedelta(seconds=self.skew)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.skew += seconds

    def reset(self) -> None:
        with self._lock:
            self.skew = 0.0


clock = VisibilityClock()


def lag_draw(row: models.Model, *, max_seconds: float, seed: int, counter: str) -> timedelta:
    """The lag of one more write under ``row``'s settings (an org or account), counting it
    in ``row``'s ``counter`` field. Zero when ``max_seconds`` is 0 (lag off)."""
    if max_seconds <= 0:
        return timedelta(0)
    model = type(row)
    model.objects.filter(pk=row.pk).update(**{counter: F(counter) + 1})
    write = model.objects.values_list(counter, flat=True).get(pk=row.pk)
    # Whole milliseconds, as both vendors keep their moments.
    return timedelta(milliseconds=round(random.Random(f"{seed}:{write}").uniform(0, max_seconds) * 1000))
