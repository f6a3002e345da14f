"""Zoho Campaigns connector (API v1.1 over plain ``requests``).

The connection's base URL is the data centre's Campaigns host
(``https://campaigns.zoho.eu``; the sandbox's ``…/zoho/<org>/campaigns``); OAuth as for
Zoho CRM (:mod:`.zoho_oauth`). **The object is a mailing list, named by its list key**
(``lists()`` shows them): its records are the list's subscribers, whose id is their email
address in lower case (the API names contacts by address only). Fields go by Campaigns'
display names (``Contact Email``, ``First Name``, ``Last Name``, ``Company Name``,
``Phone``; ``describe`` lists them all) plus ``Status`` (active, unsub, bounce).

Every answer is an envelope, errors with HTTP 200: ``status``/``code`` decide. Each API
method has its own limit (e.g. 500 reads per five minutes) and locks for a period when
passed; a lock is reported as a RateLimited that is not retried at once.

Costs: Campaigns has no modified-since filter and looks no single subscriber up. A first
``changes`` reads each status of the list from the start (``fromindex``/``range``, 200 a
call); a later one reads each status from its newest subscriber back to the watermark, so
it costs what changed (three calls at least). ``fetch`` and ``find`` read the whole list:
the engine does not call them for updates (``reads_partners``), as ``listsubscribe`` writes
a subscriber whole by address. Writes are one ``listsubscribe`` per contact with fields, and
``addlistsubscribersinbulk`` per ten contacts with an address only.
"""
from __future__ import annotations

import heapq
import json
import re
import threading
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from typing import Any

import requests

from .base import (
    AuthExpired,
    CheckResult,
    ConnectorError,
    FieldDescription,
    NotFound,
    ObjectDescription,
    ObjectSummary,
    PermissionDenied,
    RateLimited,
    Record,
    Unavailable,
    ValidationFailed,
    WriteResult,
    parse_instant,
)
from .zoho_oauth import ZohoConnector

RANGE = 200  # subscribers per listing call
BULK = 10  # addresses per addlistsubscribersinbulk, the vendor's maximum
EMAIL = "Contact Email"
STATUS = "Status"
STATUSES = ("active", "unsub", "bounce")
# getlistsubscribers keys → display names.
LISTED = {"contact_email": EMAIL, "firstname": "First Name", "lastname": "Last Name", "companyname": "Company Name",
          "phone": "Phone"}
# Lock periods per method in seconds (the methods' pages), for a lock the answer does not time.
LOCKS = {"getlistsubscribers": 1800, "listsubscriberscount": 1800, "addlistsubscribersinbulk": 600}
# Zoho's limits per API method as (calls, seconds) windows, from each method's page (e.g.
# https://www.zoho.com/campaigns/help/developers/contact-subscribe.html: listsubscribe 500 a
# minute, 12,500 an hour, 75,000 a day; getlistsubscribers 500 per five minutes). The call
# that passes one locks the method for half an hour, so calls are paced to stay inside them.
PACE: dict[str, tuple[tuple[int, int], ...]] = {
    "listsubscribe": ((500, 60), (12_500, 3600), (75_000, 86_400)),
    "listunsubscribe": ((500, 60),),
    "getlistsubscribers": ((500, 300),),
    "listsubscriberscount": ((500, 300),),
    "addlistsubscribersinbulk": ((2000, 60),),
}
PACE_WAIT = 60  # the longest a call waits for its turn inside a run; longer, the run pauses
_LOCK_MINUTES = re.compile(r"(\d+)\s*minute")
_NOT_FOUND = {"2501", "2502", "2203", "2206", "2102", "2002", "1004", "2103", "2606", "2604", "2602"}


def error_from(code: str, message: str, *, http_status: int = 200, method: str = "") -> ConnectorError:
    """Turn a Campaigns error envelope (or a non-2xx answer) into a neutral error
    (reference: the API's error-codes page)."""
    text = f"Zoho Campaigns: {message or 'error ' + code}"
    if http_status == 429:
        return RateLimited("Zoho Campaigns asked to slow down.", code=code or "429")
    if http_status >= 500:
        return Unavailable(f"Zoho Campaigns answered HTTP {http_status}.", code=str(http_status))
    if code == "429" or "locked" in message.lower():
        found = _LOCK_MINUTES.search(message)
        lock = int(found.group(1)) * 60 if found else LOCKS.get(method, 1800)
        # A lock lasts minutes: not worth waiting for inside a run.
        return RateLimited(f"Zoho Campaigns locked {method or 'the method'} for {lock // 60} minutes after too many "
                           "calls.", retry_after=lock, code=code, daily=True)
    if code == "1007" or http_status == 401:
        return AuthExpired("Zoho Campaigns refused the access token (1007). Check the connection's grant and its "
                           "ZohoCampaigns scopes.", code="1007")
    if code in ("2701", "2704") or http_status == 403:
        return PermissionDenied(text, code=code)
    if code == "2001":
        return Unavailable(text, code=code)  # "subscription error, retry"
    if code in _NOT_FOUND:
        return NotFound(text, code=code)
    if code in ("903", "1003", "1005"):
        field = EMAIL if "email" in message.lower() else ""
        return ValidationFailed(text, field=field, code=code)
    return ConnectorError(text, code=code)


class Pacer:
    """The calls of this process per account and method, to keep inside ``PACE``: a call
    is given the moment at which it fits every window of its method, and booked there."""

    def __init__(self) -> None:
        self._calls: dict[tuple[str, str], list[float]] = {}
        self._lock = threading.Lock()

    def reserve(self, key: tuple[str, str], windows, now: float, *, longest_wait: float) -> float:
        """Seconds to wait before calling (0: at once); the call is booked unless the wait
        is longer than ``longest_wait``."""
        with self._lock:
            times = self._calls.setdefault(key, [])
            old = bisect_right(times, now - max(span for _, span in windows))
            if old > len(times) // 2:
                del times[:old]
            moment = max(now, times[-1]) if times else now
            for limit, span in windows:
                if len(times) >= limit:
                    moment = max(moment, times[-limit] + span)
            if moment - now > longest_wait:
                return moment - now
            times.append(moment)
            return moment - now

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()


pacer = Pacer()


class ZohoCampaignsConnector(ZohoConnector):
    """One Zoho Campaigns account; each mailing list (by list key) is an object."""

    kind = "zoho_campaigns"
    label = "Zoho Campaigns"
    service = "Zoho Campaigns"
    write_batch_size = 100  # one listsubscribe per contact; outcomes are stored per hundred
    # Campaigns looks no subscriber up by address (only whole lists and segments are read),
    # and listsubscribe upserts by address with every field: a subscriber is written, not read.
    reads_partners = False

    def natural_key(self, object_name: str) -> str | None:
        """Subscribers are kept unique by address, and listsubscribe upserts by it."""
        return EMAIL

    # --- HTTP ---------------------------------------------------------------------------------------
    def _call(self, method: str, *, post: bool = False, **params: Any) -> dict[str, Any]:
        """One API method call; its envelope's body, or a neutral error."""
        params = {"resfmt": "JSON", **{k: v for k, v in params.items() if v is not None}}

        def attempt() -> dict[str, Any]:
            self._pace(method.split("/")[-1])
            url = f"{self.base_url}/api/v1.1/{method}"
            response = (self._send("POST", url, data=params) if post else self._send("GET", url, params=params))
            body = _json(response)
            if response.status_code >= 300:
                raise error_from(str(body.get("code") or response.status_code), str(body.get("message") or ""),
                                 http_status=response.status_code, method=method.split("/")[-1])
            if str(body.get("status")).lower() != "success":
                raise error_from(str(body.get("code") or ""), str(body.get("message") or ""),
                                 method=method.split("/")[-1])
            return body

        return self._with_token(attempt, method)

    def _pace(self, name: str) -> None:
        """Wait for the method's turn within Zoho's limits (``PACE``), or pause the run
        (RateLimited) when the turn is further away than ``PACE_WAIT``: a lock is never
        provoked."""
        windows = PACE.get(name)
        if not windows:
            return
        wait = pacer.reserve((self.base_url, name), windows, self.clock(), longest_wait=PACE_WAIT)
        if wait > PACE_WAIT:
            raise RateLimited(f"Zoho Campaigns allows no more {name} calls for now (its hourly or daily limit); "
                              f"going on in {round(wait / 60)} minutes.", retry_after=wait, code="pace", daily=True)
        if wait > 0:
            self.sleep(wait)

    # --- identity, lists and fields -----------------------------------------------------------------
    def check(self) -> CheckResult:
        """Refresh the token and list the mailing lists; one call (and the token's)."""
        lists = self.lists()
        return CheckResult("Zoho Campaigns account", {"Mailing lists": str(len(lists))} | (
            {"Lists": ", ".join(f"{item['listname']} ({item['listkey'][:8]}…)" for item in lists[:5])} if lists else {}))

    def lists(self) -> list[dict[str, str]]:
        """Every mailing list: ``listkey``, ``listname``, ``noofcontacts`` (active)."""
        found: list[dict[str, str]] = []
        start = 1
        while True:
            page = self._call("getmailinglists", sort="asc", fromindex=start, range=RANGE).get("list_of_details") or []
            found += [{"listkey": item["listkey"], "listname": item.get("listname", ""),
                       "noofcontacts": str(item.get("noofcontacts", ""))} for item in page]
            if len(page) < RANGE:
                return found
            start += RANGE

    def segments(self, listkey: str) -> list[dict[str, str]]:
        """A list's segments (``segment_id``, ``segment_name``); none is an empty list."""
        try:
            body = self._call("getlistsegments", listkey=listkey)
        except NotFound as error:
            if error.code == "2602":
                return []
            raise
        return [{"segment_id": str(s["segment_id"]), "segment_name": s.get("segment_name", "")}
                for s in body.get("list_of_segments") or []]

    def segment_contacts(self, segment_id: str) -> list[Record]:
        """The active contacts of a segment; an empty segment gives none."""
        found: list[Record] = []
        start = 1
        while True:
            try:
                page = self._call("getsegmentcontacts", segmentid=segment_id, fromindex=start,
                                  range=RANGE).get("list_of_details") or []
            except NotFound as error:
                if error.code == "2604":
                    return found
                raise
            found += [_record(f"segment:{segment_id}", row, "active") for row in page]
            if len(page) < RANGE:
                return found
            start += RANGE

    def count(self, listkey: str, status: str = "active") -> int:
        """How many of the list's contacts have ``status`` (active, unsub, bounce, spam)."""
        return int(self._call("listsubscriberscount", listkey=listkey, status=status).get("no_of_contacts") or 0)

    def objects(self) -> list[ObjectSummary]:
        """The mailing lists, by list key (a sync's object is a list), named by their names."""
        return [ObjectSummary(item["listkey"], item["listname"] or item["listkey"]) for item in self.lists()]

    def describe(self, object_name: str) -> ObjectDescription:
        """The contact fields (``contact/allfields``) by display name, and ``Status``."""
        body = self._call("contact/allfields", type="json")
        listed = ((body.get("response") or {}).get("fieldnames") or {}).get("fieldname") or []
        fields = [FieldDescription(
            name=f["DISPLAY_NAME"], label=f["DISPLAY_NAME"], type="email" if f["DISPLAY_NAME"] == EMAIL else
            {"phone": "phone", "date": "date"}.get(str(f.get("TYPE", "")).lower(), "string"),
            required=bool(f.get("IS_MANDATORY")), unique=f["DISPLAY_NAME"] == EMAIL,
            external_id=f["DISPLAY_NAME"] == EMAIL, custom=not str(f.get("FIELD_NAME", "")).isupper(),
        ) for f in listed]
        fields.append(FieldDescription(STATUS, "Status", "picklist", createable=False, updateable=False,
                                       picklist_values=(*STATUSES, "spam")))
        return ObjectDescription(name=object_name, label="Mailing list", fields=fields)

    # --- reading ------------------------------------------------------------------------------------
    def changes(self, object_name: str, since: str | None, fields: Iterable[str] = (), *,
                page_size: int = RANGE) -> Iterator[list[Record]]:
        """Pages of the list's subscribers (active, unsubscribed, bounced) whose ``added_time``
        (when they last joined, changed or left) is at or after ``since``, oldest first.

        Campaigns cannot filter by time. A first read (no ``since``) reads each status from
        its oldest subscriber (``sort=asc``), the three reads merged as they go: memory holds
        one page per status. A later read reads each status from its newest subscriber
        (``sort=desc``) down to the first one older than ``since``, so that it costs what
        changed (a call per status at least), and holds what changed in memory."""
        if since:
            rows = self._recent_rows(object_name, parse_instant(since.split("|")[0]), page_size)
        else:
            rows = (row for _, _, status, row in heapq.merge(
                *(self._status_rows(object_name, status, page_size) for status in STATUSES)))
        page: list[Record] = []
        for row in rows:
            page.append(_record(object_name, row, row["_status"]))
            if len(page) >= page_size:
                yield page
                page = []
        if page:
            yield page

    def _status_rows(self, listkey: str, status: str, size: int, *,
                     sort: str = "asc") -> Iterator[tuple[int, str, str, dict]]:
        start = 1
        while True:
            rows = self._call("getlistsubscribers", listkey=listkey, status=status, sort=sort, fromindex=start,
                              range=size).get("list_of_details") or []
            for row in rows:
                row["_status"] = status
                yield int(row.get("added_time") or 0), str(row.get("contact_email", "")).lower(), status, row
            if len(rows) < size:
                return
            start += size

    def _recent_rows(self, listkey: str, floor: datetime, size: int) -> list[dict]:
        """The rows of every status changed at or after ``floor``, oldest first; each status
        read newest first until a row older than ``floor``. A subscriber read twice (it
        changed while the read went on, and moved up) is kept once, as last read."""
        floor_ms = round(floor.timestamp() * 1000)
        found: dict[str, tuple[int, str, str, dict]] = {}
        for status in STATUSES:
            for entry in self._status_rows(listkey, status, size, sort="desc"):
                if entry[0] < floor_ms:
                    break
                found[entry[1]] = entry
        return [row for *_, row in sorted(found.values(), key=lambda entry: entry[:2])]

    def fetch(self, object_name: str, ids: Iterable[str], fields: Iterable[str] = ()) -> list[Record]:
        """Subscribers by address (their id). Campaigns looks up no single contact, so the
        list is read through (see ``changes``)."""
        wanted = {str(i).strip().lower() for i in ids if str(i).strip()}
        if not wanted:
            return []
        return [r for page in self.changes(object_name, None, fields) for r in page if r.id in wanted]

    def find(self, object_name: str, field: str, values: Iterable[str], fields: Iterable[str] = ()) -> list[Record]:
        """Subscribers by address (``Contact Email``, ``email`` or ``id``)."""
        if field.lower() not in ("id", "email", EMAIL.lower()):
            raise ValidationFailed(f"Zoho Campaigns finds subscribers by address, not by {field}.", field=field)
        found = self.fetch(object_name, values, fields)
        return sorted(found, key=lambda r: r.modified_at or "", reverse=True)

    # --- writing ------------------------------------------------------------------------------------
    def upsert(self, object_name: str, records: list[dict], key: str = EMAIL) -> list[WriteResult]:
        """Subscribe each record to the list, or update it there, by address: contacts with
        fields one ``listsubscribe`` each (fields travel only there), contacts with an
        address only ten a call with ``addlistsubscribersinbulk``. A bulk call refused for
        one bad address is made again one contact a call, so that it fails alone. An
        address that unsubscribed stays unsubscribed (Zoho asks it to confirm by email)."""
        results: list[WriteResult | None] = [None] * len(records)
        email_only: list[int] = []
        for n, record in enumerate(records):
            info = _contactinfo(record, key)
            if not info.get(EMAIL):
                results[n] = WriteResult(None, ValidationFailed("Zoho Campaigns needs the contact's email address.",
                                                                field=EMAIL))
            elif len([v for v in info.values() if v not in (None, "")]) == 1:
                email_only.append(n)
            else:
                results[n] = self._subscribe(object_name, info)
        for start in range(0, len(email_only), BULK):
            chunk = email_only[start:start + BULK]
            addresses = [str(_contactinfo(records[n], key)[EMAIL]).strip() for n in chunk]
            try:
                self._call("addlistsubscribersinbulk", post=True, listkey=object_name, emailids=",".join(addresses))
            except (ValidationFailed, NotFound) as error:
                if isinstance(error, NotFound) and error.code in ("2501", "2206", "2203"):
                    raise
                for n, address in zip(chunk, addresses):
                    results[n] = self._subscribe(object_name, {EMAIL: address})
                continue
            for n, address in zip(chunk, addresses):
                results[n] = WriteResult(address.lower())
        return [r if r is not None else WriteResult(None, ConnectorError("Not written.")) for r in results]

    def create(self, object_name: str, records: list[dict]) -> list[WriteResult]:
        return self.upsert(object_name, records)

    def update(self, object_name: str, records: list[dict]) -> list[WriteResult]:
        """Update subscribers by their id (the address) or ``Contact Email``."""
        return self.upsert(object_name, [{EMAIL: r.get("Id") or r.get("id"), **r} if not r.get(EMAIL) else r
                                         for r in records])

    def _subscribe(self, listkey: str, info: dict[str, Any]) -> WriteResult:
        address = str(info[EMAIL]).strip()
        try:
            self._call("json/listsubscribe", post=True, listkey=listkey,
                       contactinfo=json.dumps({k: ("" if v is None else str(v)) for k, v in info.items()}))
        except (ValidationFailed, PermissionDenied) as error:
            return WriteResult(None, error)
        except NotFound as error:
            if error.code in ("2501", "2206", "2203"):
                raise  # the list itself: a configuration mistake, not this record's
            return WriteResult(None, error)
        return WriteResult(address.lower())

    def unsubscribe(self, object_name: str, emails: Iterable[str]) -> list[WriteResult]:
        """Unsubscribe addresses from the list (``json/listunsubscribe``), one call each; an
        address not on the list fails alone (NotFound)."""
        results = []
        for email in emails:
            try:
                self._call("json/listunsubscribe", post=True, listkey=object_name,
                           contactinfo=json.dumps({EMAIL: str(email).strip()}))
            except (ValidationFailed, NotFound) as error:
                if isinstance(error, NotFound) and error.code in ("2501", "2206", "2203"):
                    raise
                results.append(WriteResult(None, error))
                continue
            results.append(WriteResult(str(email).strip().lower()))
        return results


def _contactinfo(record: dict[str, Any], key: str) -> dict[str, Any]:
    info = {k: v for k, v in record.items() if k not in ("Id", "id", STATUS)}
    if key != EMAIL and key in info:
        info[EMAIL] = info.pop(key)
    return info


def _record(object_name: str, row: dict[str, Any], status: str) -> Record:
    values = {name: row.get(key) or "" for key, name in LISTED.items()}
    values[STATUS] = row.get("contact_status") or status
    added = int(row.get("added_time") or 0)
    moment = datetime.fromtimestamp(added / 1000, timezone.utc)
    return Record(id=str(row.get("contact_email", "")).lower(), object=object_name, fields=values,
                  modified_at=f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z")


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
