"""Zoho's moments. CRM keeps whole seconds and shows them in the organisation's time zone
(``2019-07-25T15:26:49+05:30``); Campaigns shows milliseconds since the epoch."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta, timezone

_pinned: ContextVar[datetime | None] = ContextVar("zoho_pinned_moment", default=None)


def now() -> datetime:
    """The current UTC time in whole seconds, as Zoho CRM keeps it."""
    return datetime.now(timezone.utc).replace(microsecond=0)


def now_ms() -> datetime:
    """The current UTC time in whole milliseconds, as Zoho Campaigns shows its times."""
    moment = datetime.now(timezone.utc)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def stamp() -> datetime:
    """What a record written now gets as Modified_Time: the request's pinned moment inside
    ``one_instant()``, else now."""
    return _pinned.get() or now()


@contextmanager
def one_instant() -> Iterator[None]:
    """Stamp every record written inside with the same second (a whole call alike)."""
    token = _pinned.set(now())
    try:
        yield
    finally:
        _pinned.reset(token)


def crm_time(moment: datetime, offset_minutes: int) -> str:
    """``2019-07-25T15:26:49+05:30``: the moment in the organisation's time zone."""
    return moment.astimezone(timezone(timedelta(minutes=offset_minutes))).isoformat(timespec="seconds")


def parse(text: str) -> datetime:
    """An ISO moment as clients send it (If-Modified-Since, COQL); naive means UTC."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def epoch_ms(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))
