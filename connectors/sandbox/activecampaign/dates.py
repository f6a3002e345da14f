"""ActiveCampaign's dates: whole seconds, shown in the account's time zone
(``2018-09-28T13:50:41-05:00``), and the date filters of list endpoints."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone


def now() -> datetime:
    """The current UTC time in whole seconds, as the vendor keeps it."""
    return datetime.now(timezone.utc).replace(microsecond=0)


def account_zone(offset_minutes: int) -> timezone:
    return timezone(timedelta(minutes=offset_minutes))


def format_datetime(moment: datetime | None, offset_minutes: int) -> str | None:
    """``2018-09-28T13:50:41-05:00`` in the account's zone; None stays None."""
    if moment is None:
        return None
    return moment.astimezone(account_zone(offset_minutes)).replace(microsecond=0).isoformat()


def format_timestamp(moment: datetime, offset_minutes: int = 0) -> str:
    """``2018-09-28 13:50:41``: the plain form of ``created_timestamp`` and friends."""
    return moment.astimezone(account_zone(offset_minutes)).strftime("%Y-%m-%d %H:%M:%S")


def parse_filter(text: str, offset_minutes: int) -> datetime | None:
    """A ``filters[...]`` value: a date or a datetime, with or without an offset (without
    one it is the account's local time). None if it cannot be read."""
    text = text.strip().replace(" ", "+") if "T" in text else text.strip()  # "+" arrives as a space
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), time())
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=account_zone(offset_minutes))
    return moment.astimezone(timezone.utc)
