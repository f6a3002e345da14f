"""HubSpot's moments: milliseconds, shown as ``2019-10-30T03:30:17.883Z`` on records and as
milliseconds since the epoch in search filters and webhook events."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, timezone

# The one moment every record of the current request is stamped with, when the account
# asks for one instant per request (see ``one_instant``).
_pinned: ContextVar[datetime | None] = ContextVar("hubspot_pinned_moment", default=None)


def now() -> datetime:
    """The current UTC time in whole milliseconds, as the vendor keeps it."""
    moment = datetime.now(timezone.utc)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def stamp() -> datetime:
    """The moment a record written now gets as ``createdate``/``lastmodifieddate``: the
    request's pinned moment inside ``one_instant()``, else now."""
    return _pinned.get() or now()


@contextmanager
def one_instant() -> Iterator[None]:
    """Stamp every record written inside with the same millisecond (a whole batch alike)."""
    token = _pinned.set(now())
    try:
        yield
    finally:
        _pinned.reset(token)


def iso(moment: datetime) -> str:
    """``2019-10-30T03:30:17.883Z``."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def epoch_ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, timezone.utc)


def parse_ms(text: object) -> int | None:
    """A date or datetime value as milliseconds since the epoch: ``1700000000000``,
    ``2023-11-14T22:13:20.000Z`` or ``2023-11-14`` (midnight UTC). None if unreadable."""
    value = str(text).strip() if text is not None else ""
    if not value:
        return None
    if value.lstrip("-").isdigit():
        return int(value)
    try:
        if len(value) == 10:
            moment = datetime.combine(date.fromisoformat(value), datetime.min.time(), timezone.utc)
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)
