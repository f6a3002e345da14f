"""Zoho CRM connector (records API v2 over plain ``requests``).

The connection's base URL is the data centre's API domain (``https://www.zohoapis.eu``; the
sandbox's ``…/zoho/<org>``); the token's answer may name another, which is then used
(:mod:`.zoho_oauth`). Objects are modules by API name (``Contacts``, ``Leads``,
``Accounts``, custom ones); fields by API name (``Email``, ``Last_Name``,
``Email_Opt_Out``). A lookup reads as the id of the record it points to and is written
the same way.

Costs, in API calls (credits): ``changes`` reads 200 records a call; ``fetch`` 100;
``find`` one search per ten values; writes go 100 records a call with one outcome per
record; ``deleted`` 200 a call. Every request is counted in ``api_calls``; 429 and 5xx
answers are retried with back-off, ``max_retries`` times.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import requests

from .base import (
    CURSOR_SEPARATOR,
    AuthExpired,
    CheckResult,
    ConnectorError,
    Duplicate,
    FieldDescription,
    NotFound,
    ObjectDescription,
    ObjectSummary,
    PermissionDenied,
    RateLimited,
    Record,
    Unavailable,
    ValidationFailed,
    WebhookDelivery,
    WebhookEvent,
    WebhookRefused,
    WriteResult,
    parse_instant,
)
from .zoho_oauth import API_DOMAIN, ZohoConnector

PAGE_SIZE = 200  # records per listing call, the vendor's maximum
PAGE_LIMIT = 2000  # records page/per_page reach; past them, page_token
BATCH_SIZE = 100  # records per write call and ids per read-by-id or delete call
SEARCH_VALUES = 10  # values per search criteria (keeps the URL short)
MODIFIED = "Modified_Time"
NATURAL_KEYS = {"Contacts": "Email", "Leads": "Email", "Accounts": "Account_Name"}
MODULES = ("Contacts", "Leads", "Accounts")  # where ``delete`` looks for ids given without a module
WATCH_LIFE = timedelta(days=1) - timedelta(minutes=5)  # a channel lasts a day at most
WEBHOOK_EVENTS = {"insert": "created", "update": "updated", "delete": "deleted"}
FIELD_TYPES = {
    "text": "string", "email": "email", "phone": "phone", "picklist": "picklist", "multiselectpicklist": "multipicklist",
    "boolean": "boolean", "lookup": "reference", "ownerlookup": "reference", "datetime": "datetime", "date": "date",
    "textarea": "textarea", "website": "url", "integer": "int", "double": "double", "currency": "currency",
    "bigint": "string", "autonumber": "string",
}
_ESCAPE = re.compile(r"([(),\\])")


def error_from(status: int, body: Any, headers: Mapping[str, str] | None = None) -> ConnectorError:
    """Turn a Zoho CRM error (a whole answer, or one record's outcome) into a neutral error
    (reference: "Status codes")."""
    payload = body if isinstance(body, dict) else {}
    code = str(payload.get("code") or status)
    message = str(payload.get("message") or f"Zoho CRM answered HTTP {status}.")
    details = payload.get("details") if isinstance(payload.get("details"), dict) else {}
    api_name = str(details.get("api_name") or details.get("param_name") or "")
    if status == 429 or code == "TOO_MANY_REQUESTS":
        return RateLimited("Zoho CRM's API limit was reached (credits or concurrent calls).",
                           retry_after=_retry_after(headers), code=code)
    if status >= 500 or code == "INTERNAL_ERROR":
        return Unavailable(f"Zoho CRM answered HTTP {status}.", code=code)
    if status == 401 or code in ("INVALID_TOKEN", "AUTHENTICATION_FAILURE", "OAUTH_SCOPE_MISMATCH"):
        return AuthExpired(f"Zoho CRM refused the access token ({code}). Check the connection's grant and its scopes.",
                           code=code)
    if code in ("NO_PERMISSION", "OAUTH_SCOPE_MISMATCH") or status == 403:
        return PermissionDenied(f"Zoho CRM refused the request: {message}", code=code)
    if code == "DUPLICATE_DATA":
        found = details.get("id") or (details.get("duplicate_record") or {}).get("id")
        return Duplicate(f"Zoho CRM refused a duplicate of {api_name or 'a unique field'}.",
                         matching_ids=[str(found)] if found else [], code=code)
    if code == "ID_ALREADY_DELETED" or (code == "INVALID_DATA" and api_name == "id") or status == 404:
        return NotFound(f"Zoho CRM: {message}.", code=code)
    if code == "INVALID_MODULE":
        return ValidationFailed(f"Zoho CRM has no module {details.get('module') or ''}.".replace(" .", "."),
                                field="module", code=code)
    if code in ("INVALID_DATA", "MANDATORY_NOT_FOUND", "LIMIT_EXCEEDED", "INVALID_REQUEST", "REQUIRED_PARAM_MISSING"):
        reason = {"MANDATORY_NOT_FOUND": "is required", "INVALID_DATA": "has an invalid value"}.get(code, message)
        expected = details.get("expected_data_type")
        text = f"Zoho CRM: {api_name} {reason}" if api_name else f"Zoho CRM: {message}"
        return ValidationFailed(text + (f" (expected {expected})." if expected else "."), field=api_name, code=code)
    return ConnectorError(f"Zoho CRM: {message}", code=code)


class ZohoCrmConnector(ZohoConnector):
    """One Zoho CRM organisation, reached at its data centre's API domain."""

    kind = "zoho_crm"
    label = "Zoho CRM"
    service = "Zoho CRM"
    write_batch_size = BATCH_SIZE
    # Zoho keeps Modified_Time to the second: a write in the second a read ends may still come.
    read_lag = timedelta(seconds=1)
    stamp_resolution = timedelta(seconds=1)

    def __init__(self, **options: Any):
        super().__init__(**options)
        self._descriptions: dict[str, ObjectDescription] = {}

    @property
    def api_domain(self) -> str:
        """The API domain the token's answer named (Zoho's data-centre discovery), else the base URL."""
        return str(self.credentials.get(API_DOMAIN) or self.base_url).rstrip("/")

    def natural_key(self, object_name: str) -> str | None:
        """Leads and Contacts are kept unique by Email (upsert's default duplicate check)."""
        return NATURAL_KEYS.get(object_name)

    def format_instant(self, moment: datetime) -> str:
        return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")

    # --- HTTP ---------------------------------------------------------------------------------------
    def _call(self, method: str, path: str, *, params: Any = None, body: Any = None,
              headers: dict[str, str] | None = None, per_record: bool = False) -> tuple[int, Any]:
        """One API call with a token, back-off on 429/5xx and one refresh of a refused token;
        (status, JSON or None for 204/304). A write's per-record outcomes are left to the
        caller (``per_record``)."""

        def attempt() -> tuple[int, Any]:
            response = self._send(method, f"{self.api_domain}/crm/v2/{path}", params=params, json=body,
                                  headers=headers or {})
            status = response.status_code
            if status in (204, 304):
                return status, None
            payload = _json(response)
            if status < 300 or (per_record and isinstance(payload.get("data"), list) and status in (207, 400)):
                return status, payload
            raise error_from(status, payload, response.headers)

        return self._with_token(attempt, f"{method} {path}")

    # --- identity and schema ------------------------------------------------------------------------
    def check(self) -> CheckResult:
        """Refresh the token, read the organisation and the current user; two calls."""
        org = (self._call("GET", "org")[1] or {}).get("org") or [{}]
        users = (self._call("GET", "users", params={"type": "CurrentUser"})[1] or {}).get("users") or [{}]
        details = {"API domain": self.api_domain}
        if org[0].get("time_zone"):
            details["Time zone"] = org[0]["time_zone"]
        if users[0].get("email"):
            details["Connected as"] = users[0]["email"]
        name = org[0].get("company_name")
        return CheckResult(f"Zoho CRM organisation {name}" if name else "Zoho CRM organisation", details)

    def objects(self) -> list[ObjectSummary]:
        """The modules records can be read from and written to (``GET /settings/modules``),
        custom ones included, by API name."""
        modules = (self._call("GET", "settings/modules")[1] or {}).get("modules") or []
        return [ObjectSummary(m["api_name"], m.get("plural_label") or m.get("module_name") or m["api_name"])
                for m in modules if m.get("api_supported", True) and m.get("creatable", True)]

    def describe(self, object_name: str) -> ObjectDescription:
        """A module's fields (``GET /settings/fields?module=``), cached."""
        if object_name not in self._descriptions:
            fields = (self._call("GET", "settings/fields", params={"module": object_name})[1] or {}).get("fields") or []
            self._descriptions[object_name] = ObjectDescription(name=object_name, label=object_name, fields=[
                FieldDescription(
                    name=f["api_name"], label=f.get("field_label") or f["api_name"],
                    type=FIELD_TYPES.get(f.get("data_type", ""), "string"), required=bool(f.get("system_mandatory")),
                    custom=bool(f.get("custom_field")), createable=not f.get("read_only"),
                    updateable=not f.get("read_only"), unique=bool(f.get("unique")), external_id=bool(f.get("unique")),
                    length=f.get("length"),
                    picklist_values=tuple(v.get("actual_value") or v.get("display_value")
                                          for v in f.get("pick_list_values") or []),
                    reference_to=tuple(filter(None, [((f.get("lookup") or {}).get("module") or {}).get("api_name")])),
                ) for f in fields])
        return self._descriptions[object_name]

    # --- reading ------------------------------------------------------------------------------------
    def changes(self, object_name: str, since: str | None, fields: Iterable[str], *,
                page_size: int = PAGE_SIZE) -> Iterator[list[Record]]:
        """Pages of records modified at or after ``since``, oldest first.

        A keyset read over Modified_Time (whole seconds): each page is the first page of
        ``If-Modified-Since`` one second before the cursor, sorted by Modified_Time
        ascending, so a record changed while we read moves past the cursor and is read
        again rather than shifting an offset. Records of the cursor's second already
        handed out are skipped. A second holding a whole page or more (an import stamps
        hundreds alike) is read apart with COQL by id, and those records carry an exact
        cursor (``second|id``). Memory holds one page and the ids of one second.
        """
        names = _names(fields, MODIFIED)
        floor: datetime | None = None
        if since:
            instant, _, after_id = since.partition(CURSOR_SEPARATOR)
            floor = parse_instant(instant).replace(microsecond=0)
            if after_id:
                yield from self._same_second(object_name, floor, names, set(), after_id=int(after_id), size=page_size)
                floor += timedelta(seconds=1)
        seen: set[str] = set()  # ids of the floor's second already handed out
        while True:
            headers = {"If-Modified-Since": self.format_instant(floor - timedelta(seconds=1))} if floor else {}
            _, body = self._call("GET", object_name, params={
                "fields": ",".join(names), "sort_by": MODIFIED, "sort_order": "asc", "per_page": page_size, "page": 1,
            }, headers=headers)
            rows = (body or {}).get("data") or []
            fresh = [r for r in rows if floor is None or (_second(r) > floor or (_second(r) == floor and r["id"] not in seen))]
            if fresh:
                yield [self._record(object_name, r) for r in fresh]
            if not rows or not (body.get("info") or {}).get("more_records"):
                return
            last = _second(rows[-1])
            if _second(rows[0]) == last:  # a whole page of one second: read it apart
                handed = seen if last == floor else set()
                yield from self._same_second(object_name, last, names, handed | {r["id"] for r in rows}, size=page_size)
                floor, seen = last + timedelta(seconds=1), set()
            else:
                floor, seen = last, {r["id"] for r in rows if _second(r) == last}

    def _same_second(self, object_name: str, second: datetime, names: list[str], handed: set[str], *,
                     size: int, after_id: int = 0) -> Iterator[list[Record]]:
        """Every record of one Modified_Time second, by id (COQL), but those ``handed`` out already."""
        while True:
            query = (f"select {', '.join(names)} from {object_name} where {MODIFIED} = '{self.format_instant(second)}' "
                     f"and id > {after_id} order by id asc limit {size}")
            _, body = self._call("POST", "coql", body={"select_query": query})
            rows = (body or {}).get("data") or []
            fresh = [r for r in rows if r["id"] not in handed]
            if fresh:
                records = [self._record(object_name, r) for r in fresh]
                for record in records:
                    record.cursor = f"{self.format_instant(second)}{CURSOR_SEPARATOR}{record.id}"
                yield records
            if not rows or not (body.get("info") or {}).get("more_records"):
                return
            after_id = int(rows[-1]["id"])

    def _record(self, object_name: str, row: dict[str, Any]) -> Record:
        values = {k: _neutral(v) for k, v in row.items() if k != "id"}
        modified = row.get(MODIFIED)
        return Record(id=str(row["id"]), object=object_name, fields=values,
                      modified_at=self.format_instant(parse_instant(modified)) if modified else None)

    def fetch(self, object_name: str, ids: Iterable[str], fields: Iterable[str] = ()) -> list[Record]:
        """Records by id, 100 a call; unknown and deleted ids are left out."""
        names = _names(fields, MODIFIED)
        records: list[Record] = []
        unique = list(dict.fromkeys(str(i) for i in ids if str(i).strip()))
        for start in range(0, len(unique), BATCH_SIZE):
            chunk = unique[start:start + BATCH_SIZE]
            _, body = self._call("GET", object_name, params={"ids": ",".join(chunk), "fields": ",".join(names),
                                                              "per_page": PAGE_SIZE})
            records += [self._record(object_name, r) for r in (body or {}).get("data") or []]
        return records

    def find(self, object_name: str, field: str, values: Iterable[str], fields: Iterable[str] = ()) -> list[Record]:
        """Records whose ``field`` equals one of ``values`` (search criteria, ten values a
        call; emails compare case-insensitively), most recently modified first."""
        if field.lower() == "id":
            return self.fetch(object_name, values, fields)
        names = _names(fields, MODIFIED, field)
        wanted = list(dict.fromkeys(str(v).strip() for v in values if v is not None and str(v).strip()))
        found: dict[str, Record] = {}
        for start in range(0, len(wanted), SEARCH_VALUES):
            chunk = wanted[start:start + SEARCH_VALUES]
            criteria = "or".join(f"({field}:equals:{_escape(v)})" for v in chunk)
            if len(chunk) > 1:
                criteria = f"({criteria})"
            for row in self._search(object_name, criteria, names):
                found[str(row["id"])] = self._record(object_name, row)
        return sorted(found.values(), key=lambda r: r.modified_at or "", reverse=True)

    def _search(self, object_name: str, criteria: str, names: list[str]) -> Iterator[dict[str, Any]]:
        page = 1
        while page * PAGE_SIZE <= PAGE_LIMIT:
            status, body = self._call("GET", f"{object_name}/search", params={
                "criteria": criteria, "fields": ",".join(names), "page": page, "per_page": PAGE_SIZE})
            rows = (body or {}).get("data") or []
            yield from rows
            if not rows or not (body.get("info") or {}).get("more_records"):
                return
            page += 1

    def deleted(self, object_name: str, since: str) -> list[Record]:
        """Records deleted (to the recycle bin or for good) at or after ``since``: pages of
        200 by ``page``, then by ``page_token`` past 2,000."""
        floor = parse_instant(since.split(CURSOR_SEPARATOR)[0]).replace(microsecond=0)
        headers = {"If-Modified-Since": self.format_instant(floor - timedelta(seconds=1))}
        found: dict[str, Record] = {}
        for row in self._pages(f"{object_name}/deleted", {"type": "all"}, headers):
            when = parse_instant(row["deleted_time"])
            if when >= floor:
                found[str(row["id"])] = Record(
                    id=str(row["id"]), object=object_name, modified_at=self.format_instant(when),
                    fields={"display_name": row.get("display_name"), "type": row.get("type")})
        return list(found.values())

    def _pages(self, path: str, params: dict[str, Any], headers: dict[str, str]) -> Iterator[dict[str, Any]]:
        """Every row of a listing: ``page`` up to 2,000 records, then ``page_token``."""
        page, token = 1, None
        while True:
            query = {**params, "per_page": PAGE_SIZE, **({"page_token": token} if token else {"page": page})}
            _, body = self._call("GET", path, params=query, headers=headers)
            rows = (body or {}).get("data") or []
            yield from rows
            info = (body or {}).get("info") or {}
            if not rows or not info.get("more_records"):
                return
            if (page + 1) * PAGE_SIZE > PAGE_LIMIT or token:
                token = info.get("next_page_token")
                if not token:
                    return
            page += 1

    # --- writing ------------------------------------------------------------------------------------
    def create(self, object_name: str, records: list[dict]) -> list[WriteResult]:
        """Insert, 100 a call; one outcome per record, in order."""
        return self._write("POST", object_name, [_wire(r) for r in records], created=True)

    def update(self, object_name: str, records: list[dict]) -> list[WriteResult]:
        """Update records by ``Id`` (or ``id``), 100 a call."""
        prepared = [{**_wire(r), "id": str(r.get("Id") or r.get("id") or "")} for r in records]
        return self._write("PUT", object_name, prepared, created=False)

    def upsert(self, object_name: str, records: list[dict], key: str | None = None) -> list[WriteResult]:
        """Insert or update by ``key`` (Zoho's ``duplicate_check_fields``; the module's own
        duplicate check when None), 100 a call. Replaying a batch creates nothing twice."""
        key = key or self.natural_key(object_name)
        extra = {"duplicate_check_fields": [key]} if key else {}
        return self._write("POST", f"{object_name}/upsert", [_wire(r) for r in records], created=None, extra=extra)

    def _write(self, method: str, path: str, records: list[dict], *, created: bool | None,
               extra: dict | None = None) -> list[WriteResult]:
        results: list[WriteResult] = []
        for start in range(0, len(records), BATCH_SIZE):
            chunk = records[start:start + BATCH_SIZE]
            _, body = self._call(method, path, body={"data": chunk, "trigger": [], **(extra or {})}, per_record=True)
            entries = (body or {}).get("data") or []
            for n, record in enumerate(chunk):
                entry = entries[n] if n < len(entries) else {}
                results.append(_outcome(entry, created, record.get("id")))
        return results

    def delete(self, ids: list[str], object_name: str | None = None) -> list[WriteResult]:
        """Delete records (to the recycle bin), 100 a call. Zoho deletes within a module;
        without ``object_name`` the module of each id is looked up among Contacts, Leads
        and Accounts (a read per module)."""
        unique = [str(i) for i in ids]
        modules: dict[str, str] = {}
        if object_name:
            modules = {i: object_name for i in unique}
        else:
            for module in MODULES:
                rest = [i for i in unique if i not in modules]
                if not rest:
                    break
                for record in self.fetch(module, rest, ["id"]):
                    modules[record.id] = module
        outcomes: dict[str, WriteResult] = {}
        for module in dict.fromkeys(modules.values()):
            chosen = [i for i in dict.fromkeys(unique) if modules.get(i) == module]
            for start in range(0, len(chosen), BATCH_SIZE):
                chunk = chosen[start:start + BATCH_SIZE]
                _, body = self._call("DELETE", module, params={"ids": ",".join(chunk), "wf_trigger": "false"},
                                     per_record=True)
                for n, entry in enumerate((body or {}).get("data") or []):
                    outcomes[chunk[n]] = _outcome(entry, False, chunk[n])
        missing = NotFound("Zoho CRM has no record with this id.", code="INVALID_DATA")
        return [outcomes.get(i) or WriteResult(i, missing) for i in unique]

    # --- notifications ------------------------------------------------------------------------------
    def webhook_register(self, url: str, events: Iterable[str] = ("Contacts.all", "Leads.all"), *,
                         token: str | None = None) -> str:
        """Subscribe a notification channel (``actions/watch``) posting ``events`` to ``url``
        for a day (Zoho's longest); returns the channel id, derived from the URL so that
        registering again renews the same channel (``webhook_renew`` does too). The token
        Zoho echoes in every post is ``token``, else ``webhook_token(url)``."""
        channel = channel_id(url)
        item = {"channel_id": channel, "events": list(events), "notify_url": url,
                "token": token or self.webhook_token(url),
                "channel_expiry": (datetime.now(timezone.utc) + WATCH_LIFE).replace(microsecond=0).isoformat()}
        self._call("POST", "actions/watch", body={"watch": [item]})
        return channel

    def webhook_renew(self, url: str) -> str:
        """Move the channel's expiry a day ahead (``PATCH actions/watch``)."""
        channel = channel_id(url)
        expiry = (datetime.now(timezone.utc) + WATCH_LIFE).replace(microsecond=0).isoformat()
        self._call("PATCH", "actions/watch", body={"watch": [{"channel_id": channel, "channel_expiry": expiry}]})
        return channel

    def webhook_unregister(self, url: str) -> None:
        self._call("DELETE", "actions/watch", params={"channel_ids": channel_id(url)})

    def webhook_token(self, url: str) -> str:
        """The token a channel for ``url`` carries: derived from the client secret, so that
        the receiver can check it without storing anything (Zoho signs nothing)."""
        secret = str(self.credentials.get("client_secret") or "").encode()
        return hmac.new(secret, url.encode(), hashlib.sha256).hexdigest()[:40]

    def webhook_url(self, url: str, *, secret: str) -> str:
        """Zoho echoes the channel's token in every post (``webhook_token``): ``url`` goes as it is."""
        return url

    def webhook_verify(self, delivery: WebhookDelivery, *, secret: str, now_ms: int | None = None) -> None:
        """The notification must carry the token of the channel registered for its address."""
        if not self.credentials.get("client_secret"):
            raise WebhookRefused("Checking Zoho's channel token needs the client secret among the connection's credentials.")
        try:
            self.parse_webhook(delivery.body, token=self.webhook_token(delivery.url))
        except ValidationFailed as exc:
            raise WebhookRefused(exc.message, malformed=exc.field == "body", code=exc.field) from None

    @staticmethod
    def parse_webhook(body: bytes, *, token: str) -> list[WebhookEvent]:
        """Check a notification's token and turn it into one neutral event per id
        (``created``, ``updated`` with the changed fields, ``deleted``). Raises
        ValidationFailed if the token is wrong."""
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            raise ValidationFailed("The notification's body is not JSON.", field="body") from None
        if not isinstance(payload, dict) or not hmac.compare_digest(str(payload.get("token") or ""), token):
            raise ValidationFailed("The notification's token does not match.", field="token")
        kind = WEBHOOK_EVENTS.get(str(payload.get("operation") or ""), str(payload.get("operation") or ""))
        when = payload.get("server_time")
        occurred = datetime.fromtimestamp(int(when) / 1000, timezone.utc).isoformat() if when else None
        changed = {name: None for name in payload.get("affected_fields") or [] if isinstance(name, str)}
        return [WebhookEvent(type=kind, record_id=str(i), fields=dict(changed), occurred_at=occurred,
                             initiated_from=str(payload.get("module") or "")) for i in payload.get("ids") or []]


# --- helpers --------------------------------------------------------------------------------------------
def channel_id(url: str) -> str:
    """A channel id (digits, as Zoho's) fixed for a notify URL."""
    return str(int(hashlib.sha256(url.encode()).hexdigest()[:15], 16))


def _outcome(entry: dict[str, Any], created: bool | None, record_id: Any) -> WriteResult:
    if entry.get("status") == "success":
        made = (entry.get("action") == "insert") if created is None else created
        return WriteResult(str((entry.get("details") or {}).get("id") or record_id or ""), created=made)
    if not entry:
        return WriteResult(str(record_id) if record_id else None,
                           ConnectorError("Zoho CRM's answer did not mention this record."))
    return WriteResult(str(record_id) if record_id else None, error_from(400, entry))


def _escape(value: str) -> str:
    """A search value with ( ) , and \\ escaped, as the criteria syntax asks."""
    return _ESCAPE.sub(r"\\\1", value)


def _names(fields: Iterable[str], *always: str) -> list[str]:
    return list(dict.fromkeys([*(f for f in fields if f and f.lower() != "id"), *always]))


def _second(row: dict[str, Any]) -> datetime:
    return parse_instant(row[MODIFIED]).astimezone(timezone.utc).replace(microsecond=0)


def _neutral(value: Any) -> Any:
    """A lookup or user (``{"name","id"}``) reads as its id."""
    if isinstance(value, dict) and "id" in value:
        return str(value["id"])
    return value


def _wire(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record's values as Zoho takes them; ``Id`` is left to the caller; a lookup given
    as an id is wrapped as ``{"id": …}``; moments go as ISO strings."""
    values: dict[str, Any] = {}
    for name, value in record.items():
        if name in ("Id", "id"):
            continue
        if name in ("Account_Name", "Owner", "Reporting_To", "Vendor_Name") and isinstance(value, (str, int)) \
                and str(value).isdigit():
            value = {"id": str(value)}
        elif isinstance(value, datetime):
            value = value.astimezone(timezone.utc).isoformat(timespec="seconds")
        values[name] = value
    return values


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    try:
        return max(0.0, float((headers or {}).get("Retry-After", "")))
    except (TypeError, ValueError):
        return None

