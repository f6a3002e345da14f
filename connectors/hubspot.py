"""HubSpot connector (CRM API v3), built on the official ``hubspot-api-client``.

The connection's base URL is the API's origin (``https://api.hubapi.com``; the sandbox's
``…/hubspot/<account>``) and the credential a private app's access token, sent as a bearer
token. One object, ``contacts``, whose fields are its properties by internal name
(``email``, ``firstname``, ``salesforcecontactid``, …), all values strings on the wire.

Costs, in API calls: reads come 200 a call from search (``changes``, ``find`` by other
fields) or 100 a call from batch read (``fetch``, ``find`` by email); writes go 100 a call
through the batch endpoints, except that a batch the vendor refuses as a whole because of
one record (an email in use: 409; a bad value: 400) is written again one record a call, so
that the record fails alone. Every HTTP request is counted in ``api_calls``; 429 and 5xx
answers are retried after ``Retry-After`` or an exponential back-off, ``max_retries`` times.

The webhook app (``app_id``, ``client_secret``) is needed only to register and verify
webhooks. The vendor authenticates the webhooks API with a developer API key; the sandbox
accepts the private app token there instead, which is what ``webhook_register`` sends.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable

import requests
import urllib3
from hubspot import HubSpot
from hubspot.crm import contacts as hs_contacts
from hubspot.crm import properties as hs_properties
from hubspot import webhooks as hs_webhooks

from .base import (
    ANSWER_LOST,
    AuthExpired,
    CheckResult,
    Connector,
    ConnectorError,
    Duplicate,
    FieldDescription,
    MergeResult,
    NotFound,
    NotSupported,
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
)

log = logging.getLogger(__name__)

OBJECT = "contacts"
BATCH_SIZE = 100  # inputs per batch call, the vendor's maximum
MERGED_IDS = "hs_merged_object_ids"  # a merge's survivor lists the ids it absorbed (";"-separated)
SEARCH_PAGE_SIZE = 200  # results per search call, the vendor's maximum
SEARCH_RESULT_CAP = 10_000  # how far one search query pages; beyond is refused
IN_CHUNK = 100  # values per IN filter
SIGNATURE_WINDOW_MS = 5 * 60 * 1000  # deliveries older than this are refused (replay protection)
NOTE_COUNT = "num_notes"
# "A plain text string, limited to 65,536 characters" (CRM properties guide, "type and
# fieldType values"): the length of every string property, which describe does not report.
STRING_LENGTH = 65_536
MODIFIED = "lastmodifieddate"
# Property changes the portal wants to hear of by default (the vendor needs one
# subscription per property).
WEBHOOK_PROPERTIES = ("email", "firstname", "lastname", "phone", "company", "jobtitle", "lifecyclestage",
                      "salesforcecontactid", "salesforceleadid")
WEBHOOK_EVENTS = {"contact.creation": "created", "contact.propertyChange": "updated", "contact.deletion": "deleted",
                  "contact.merge": "merged", "contact.restore": "restored", "contact.privacyDeletion": "deleted"}
_EXISTING_ID = re.compile(r"Existing ID: (\d+)")
_PROPERTY_NAME = re.compile(r'"name":"([^"]+)"')
# Characters the vendor decodes in the URI before signing (developers.hubspot.com,
# "Validating requests", v3).
_URI_DECODE = {"%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$", "%27": "'", "%28": "(",
               "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";"}
_VENDOR_ERRORS = (hs_contacts.ApiException, hs_properties.ApiException, hs_webhooks.ApiException)
# The request went out but its answer timed out or broke off: it may have been carried out.
_ANSWER_BROKEN = (urllib3.exceptions.ReadTimeoutError, urllib3.exceptions.ProtocolError,
                  requests.ReadTimeout, requests.exceptions.ChunkedEncodingError)


class _HttpFailure(Exception):
    """A non-2xx answer to a request made without the client library."""

    def __init__(self, status: int, body: bytes, headers: Mapping[str, str]):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers


def error_from(status: int, body: Any, headers: Mapping[str, str] | None = None) -> ConnectorError:
    """Turn a HubSpot error answer into a neutral error (reference: "Error handling")."""
    payload = _payload(body)
    message = str(payload.get("message") or f"HubSpot answered HTTP {status}.")
    category = str(payload.get("category") or payload.get("policyName") or status)
    if status == 429:
        policy = payload.get("policyName") or "rate limit"
        daily = str(policy).upper() == "DAILY"
        return RateLimited(f"HubSpot's {str(policy).lower().replace('_', ' ')} was reached.",
                           retry_after=_until_midnight() if daily else _retry_after(headers), code=str(policy), daily=daily)
    if status >= 500:
        return Unavailable(f"HubSpot answered HTTP {status}.", code=str(status))
    if status == 401:
        return AuthExpired(
            "HubSpot refused the access token (HTTP 401). Check the base URL and the private app's token: it may "
            "have been rotated or belong to another account.", code=category,
        )
    if status == 403:
        return PermissionDenied(f"HubSpot refused the request: {message}", code=category)
    if status == 404:
        return NotFound(message, code=category)
    if status == 409:
        found = _EXISTING_ID.search(message)
        return Duplicate(message, matching_ids=[found.group(1)] if found else [], code=category)
    if status == 400:
        return ValidationFailed(message, field=_error_field(payload), code=_error_code(payload) or category)
    return ConnectorError(message, code=category)


class HubSpotConnector(Connector):
    """One HubSpot account, reached at its API origin with a private app token."""

    kind = "hubspot"
    label = "HubSpot"
    write_batch_size = BATCH_SIZE

    @classmethod
    def app_record_url(cls, base_url: str, object_name: str, record_id: str) -> str | None:
        """HubSpot's app names the account in a contact's address, which the API origin
        does not carry: only an origin serving the app too (the sandbox) gives a link."""
        if object_name not in (OBJECT, "contact") or "hubapi.com" in base_url:
            return None
        return f"{base_url.rstrip('/')}/app/contacts/{record_id}"
    # CRM search, which the change feed reads, is seconds behind the writes it indexes.
    read_lag = timedelta(minutes=1)

    def __init__(self, *, base_url, credentials, on_credentials_changed=None, max_retries: int = 4,
                 backoff: float = 0.5, sleep: Callable[[float], None] = time.sleep, timeout: float = 30,
                 search_result_cap: int = SEARCH_RESULT_CAP):
        super().__init__(base_url=base_url, credentials=credentials, on_credentials_changed=on_credentials_changed,
                         max_retries=max_retries, backoff=backoff, sleep=sleep)
        self.timeout = timeout
        self.search_result_cap = search_result_cap
        self._apis: dict[str, Any] = {}
        self._session: requests.Session | None = None
        self._description: ObjectDescription | None = None
        # The client's own retries would resend requests behind our back (and our count);
        # back-off is done here, where Retry-After is honoured.
        self._client = HubSpot(access_token=self._token, host=self.base_url,
                               retry=urllib3.Retry(total=0, redirect=0, respect_retry_after_header=False, raise_on_status=False),
                               api_factory=self._api_factory)

    @property
    def _token(self) -> str:
        return self.credentials.get("token", "")

    def natural_key(self, object_name: str) -> str | None:
        """HubSpot keeps contacts unique by email and upserts them by it."""
        return "email" if object_name in (OBJECT, "contact") else None

    # --- HTTP ---------------------------------------------------------------------------------
    def _api_factory(self, package, api_name: str, config: dict) -> Any:
        """Build one API object of the client (each has its own connection pool); kept so
        that ``close()`` can end the pools."""
        configuration = package.Configuration()
        for key, value in config.items():
            if key == "retry":
                configuration.retries = value
            elif key != "api_key":
                setattr(configuration, key, value)
        return getattr(package, api_name)(api_client=package.ApiClient(configuration=configuration))

    def _api(self, name: str) -> Any:
        """The client's API object ``name`` (``contacts.batch``…), made once."""
        if name not in self._apis:
            crm = self._client.crm
            self._apis[name] = {
                "contacts.basic": lambda: crm.contacts.basic_api, "contacts.batch": lambda: crm.contacts.batch_api,
                "contacts.search": lambda: crm.contacts.search_api, "properties": lambda: crm.properties.core_api,
                "webhooks.settings": lambda: self._client.webhooks.settings_api,
                "webhooks.subscriptions": lambda: self._client.webhooks.subscriptions_api,
            }[name]()
        return self._apis[name]

    def close(self) -> None:
        """End the keep-alive connections."""
        for api in self._apis.values():
            api.api_client.rest_client.pool_manager.clear()
        if self._session is not None:
            self._session.close()

    def _call(self, operation: Callable[..., Any], *args: Any, idempotent: bool = True, **kwargs: Any) -> Any:
        """One API request with back-off on 429/5xx; returns its answer or raises a neutral
        error. Each attempt is one request, counted in ``api_calls``. A write that is not
        ``idempotent`` is not sent again once it may have reached HubSpot (its answer timed
        out or broke off): it fails with ``ANSWER_LOST``, for the caller to look up what
        landed rather than write it twice."""
        def attempt():
            self.api_calls += 1
            try:
                return operation(*args, **kwargs)
            except _VENDOR_ERRORS as exc:
                raise error_from(exc.status or 0, exc.body, exc.headers) from exc
            except _HttpFailure as exc:
                raise error_from(exc.status, exc.body, exc.headers) from exc
            except _ANSWER_BROKEN as exc:
                if not idempotent:
                    raise Unavailable(f"HubSpot's answer was lost ({exc.__class__.__name__}); the records may have "
                                      "been written.", code=ANSWER_LOST) from exc
                raise Unavailable(f"HubSpot could not be reached ({exc.__class__.__name__}).") from exc
            except (urllib3.exceptions.HTTPError, requests.RequestException, OSError) as exc:
                raise Unavailable(f"HubSpot could not be reached ({exc.__class__.__name__}).") from exc

        def mend(error: ConnectorError) -> bool:
            if error.code == ANSWER_LOST:
                raise error  # it may have been written: never sent again
            return False

        return self.retrying(attempt, what=getattr(operation, "__name__", "call"), mend=mend)

    def _client_call(self, api: str, method: str, *args: Any, idempotent: bool = True, **kwargs: Any) -> Any:
        bound = getattr(self._api(api), method)
        return self._call(bound, *args, idempotent=idempotent, _request_timeout=self.timeout, **kwargs)

    def _raw(self, method: str, path: str, **kwargs: Any) -> Any:
        """A request the client library has no method for, over a plain session."""
        if self._session is None:
            self._session = requests.Session()

        def send() -> Any:
            response = self._session.request(method, f"{self.base_url}{path}", timeout=self.timeout,
                                             headers={"Authorization": f"Bearer {self._token}"}, **kwargs)
            if response.status_code >= 300:
                raise _HttpFailure(response.status_code, response.content, response.headers)
            return response.json() if response.content else None

        send.__name__ = f"{method} {path.split('?')[0]}"
        return self._call(send)

    # --- identity and schema ------------------------------------------------------------------
    def check(self) -> CheckResult:
        """Authenticate and read the account's details and contact count; two calls. The
        client library has no account-info API, so that one goes over a plain session."""
        details = self._raw("GET", "/account-info/v3/details") or {}
        total = self._search([], [MODIFIED], limit=1).total
        info = {"Contacts": f"{int(total or 0):,}"}
        if details.get("timeZone"):
            info["Time zone"] = details["timeZone"]
        portal = details.get("portalId")
        return CheckResult(f"HubSpot account {portal}" if portal else "HubSpot account", info)

    def objects(self) -> list[ObjectSummary]:
        """Contacts are the one object this connector reads and writes; no call."""
        return [ObjectSummary(OBJECT, "Contact")]

    def describe(self, object_name: str) -> ObjectDescription:
        """The contact's properties (``GET /crm/v3/properties/contacts``), cached: custom
        ones are those not HubSpot-defined; read-only ones are calculated or have a
        read-only value; email and properties with unique values are unique; strings take
        ``STRING_LENGTH`` characters."""
        _check_object(object_name)
        if self._description is None:
            answer = self._client_call("properties", "get_all", OBJECT, archived=False)
            fields = []
            for p in answer.results:
                meta = p.modification_metadata
                read_only = bool(p.calculated) or bool(meta and meta.read_only_value)
                unique = bool(p.has_unique_value) or p.name == "email"
                fields.append(FieldDescription(
                    name=p.name, label=p.label, type=_neutral_type(p.name, p.type, p.field_type),
                    custom=not p.hubspot_defined, createable=not read_only, updateable=not read_only, unique=unique,
                    external_id=unique, length=STRING_LENGTH if p.type == "string" else None,
                    picklist_values=tuple(o.value for o in p.options or () if not o.hidden),
                    # An enumeration takes only its options ("… was not one of the allowed options").
                    restricted=p.type == "enumeration" and bool(p.options) and p.field_type != "booleancheckbox",
                ))
            self._description = ObjectDescription(name=OBJECT, label="Contact", fields=fields)
        return self._description

    # --- reading --------------------------------------------------------------------------------
    def changes(self, object_name: str, since: str | None, fields: Iterable[str], *,
                page_size: int = SEARCH_PAGE_SIZE) -> Iterator[list[Record]]:
        """Pages of contacts modified at or after ``since`` (a ``modified_at``), oldest first.

        A keyset read over (``lastmodifieddate``, id), never an offset into a set that can
        change while it is read. Search, sorted by ``lastmodifieddate``, restarts from the last
        timestamp seen after every page: a contact changed while we read (our own write-back
        of a linked id included) moves past the cursor and past the read's end, and the next
        read reads it, rather than shifting anything. The contacts of the cursor's own millisecond already handed out are
        skipped; a millisecond holding a whole page or more is read apart, by id. Memory holds
        one page and the ids of one millisecond; no query comes near the 10,000-result cap.
        """
        _check_object(object_name)
        names = _names(fields, MODIFIED, MERGED_IDS)
        floor = _to_ms(since) if since else None
        # The read ends where it began: what changes while it is read (the portal's own
        # write-backs of what it read, above all) is the next read's, which starts before it
        # (see ``settled_watermark``). Read on, a large load's write-backs would be read back
        # whole within the same run, for nothing.
        ceiling = int(datetime.now(timezone.utc).timestamp() * 1000)
        seen: set[str] = set()  # ids handed out whose lastmodifieddate is the floor
        self.changes_total = None
        while True:
            filters = ([_filter(MODIFIED, "GTE", floor)] if floor is not None else []) + [_filter(MODIFIED, "LT", ceiling)]
            page = self._search(filters, names, sort=(MODIFIED, "ASCENDING"), limit=page_size)
            if self.changes_total is None and page.total is not None:
                self.changes_total = int(page.total)  # the first search matches the whole read
            rows = page.results or []
            fresh = [r for r in rows if not (_modified_ms(r) == floor and r.id in seen)]
            if fresh:
                yield [_record(r) for r in fresh]
            if not rows or page.paging is None or page.paging.next is None:
                return
            last = _modified_ms(rows[-1])
            if last == floor or _modified_ms(rows[0]) == last:
                # A whole page of one millisecond: read that millisecond apart, by id.
                yield from self._same_moment(last, names, seen if last == floor else {r.id for r in rows}, page_size)
                floor, seen = last + 1, set()
            else:
                floor, seen = last, {r.id for r in rows if _modified_ms(r) == last}

    def _same_moment(self, moment: int, names: list[str], seen: set[str], page_size: int) -> Iterator[list[Record]]:
        """Every contact last modified at ``moment`` (ms), paged by id."""
        last_id = 0
        while True:
            filters = [_filter(MODIFIED, "EQ", moment), _filter("hs_object_id", "GT", last_id)]
            rows = self._search(filters, names, sort=("hs_object_id", "ASCENDING"), limit=page_size).results or []
            fresh = [r for r in rows if r.id not in seen]
            if fresh:
                yield [_record(r) for r in fresh]
            if len(rows) < page_size:
                return
            last_id = int(rows[-1].id)

    def _search(self, filters: list, names: list[str], *, sort: tuple[str, str] | None = None, limit: int,
                after: int = 0) -> Any:
        request = hs_contacts.PublicObjectSearchRequest(
            filter_groups=[hs_contacts.FilterGroup(filters=filters)] if filters else [], properties=names, limit=limit,
            after=str(after), sorts=[{"propertyName": sort[0], "direction": sort[1]}] if sort else [],
        )
        return self._client_call("contacts.search", "do_search", request)

    def fetch(self, object_name: str, ids: Iterable[str], fields: Iterable[str] = ()) -> list[Record]:
        """Contacts by id, 100 a call (batch read); unknown and archived ids are left out,
        and a merged-away id gives its survivor (under the survivor's id)."""
        _check_object(object_name)
        return self._batch_read([str(i) for i in ids], _names(fields, MODIFIED, MERGED_IDS), id_property=None)

    def _batch_read(self, keys: list[str], names: list[str], *, id_property: str | None) -> list[Record]:
        records: list[Record] = []
        seen: set[str] = set()
        for chunk in _chunks(list(dict.fromkeys(k for k in keys if k)), BATCH_SIZE):
            request = hs_contacts.BatchReadInputSimplePublicObjectId(
                properties=names, properties_with_history=[], id_property=id_property,
                inputs=[hs_contacts.SimplePublicObjectId(id=key) for key in chunk],
            )
            answer = self._client_call("contacts.batch", "read", request, archived=False)
            for row in answer.results or []:
                if row.id not in seen:
                    seen.add(row.id)
                    records.append(_record(row))
        return records

    def find(self, object_name: str, field: str, values: Iterable[str], fields: Iterable[str] = ()) -> list[Record]:
        """Contacts whose ``field`` equals one of ``values``, most recently modified first:
        by email with batch read (``idProperty=email``, 100 a call, any case), by id with
        ``fetch``, by any other property with search (``IN``, 100 values a query)."""
        _check_object(object_name)
        wanted = [str(v).strip() for v in values if v is not None and str(v).strip()]
        names = _names(fields, MODIFIED, field)
        if field in ("id", "hs_object_id"):
            found = self.fetch(object_name, wanted, fields)
        elif field == "email":
            found = self._batch_read(wanted, names, id_property="email")
        else:
            found = []
            spec = self.describe(object_name).field(field)
            lower = spec is not None and spec.type in ("string", "textarea", "email", "phone")
            for chunk in _chunks(list(dict.fromkeys(wanted)), IN_CHUNK):
                # The vendor matches IN on text properties against lower-case values only.
                chunk_values = [v.lower() for v in chunk] if lower else chunk
                after = 0
                while True:
                    page = self._search([hs_contacts.Filter(property_name=field, operator="IN", values=chunk_values)],
                                        names, sort=(MODIFIED, "DESCENDING"), limit=SEARCH_PAGE_SIZE, after=after)
                    found += [_record(r) for r in page.results or []]
                    if page.paging is None or page.paging.next is None:
                        break
                    after = int(page.paging.next.after)
        return sorted(found, key=lambda r: r.modified_at or "", reverse=True)

    def activity_counts(self, ids: Iterable[str]) -> dict[str, int]:
        """The number of notes (activity history) of each contact, by id, from the
        calculated ``num_notes``; 100 contacts a call. Ids that no longer exist are left out."""
        return {r.id: int(float(r.fields.get(NOTE_COUNT) or 0)) for r in self.fetch(OBJECT, ids, [NOTE_COUNT])}

    # --- writing ----------------------------------------------------------------------------------
    def create(self, object_name: str, records: list[dict]) -> list[WriteResult]:
        """Create contacts, 100 a call; one result per record, in order. An email in use
        fails its record with ``Duplicate`` (``matching_ids`` naming the contact that has
        it). Prefer ``upsert``, which cannot create twice."""
        _check_object(object_name)
        results: list[WriteResult] = []
        for chunk in _chunks(records, BATCH_SIZE):
            inputs = [hs_contacts.SimplePublicObjectBatchInputForCreate(
                properties=_wire(r), associations=[], object_write_trace_id=str(n)) for n, r in enumerate(chunk)]
            request = hs_contacts.BatchInputSimplePublicObjectBatchInputForCreate(inputs=inputs)
            results += self._batch_write(
                "create", request, len(chunk), created=True,
                one_by_one=lambda: [self._write_one(lambda r=r: self._client_call(
                    "contacts.basic", "create",
                    hs_contacts.SimplePublicObjectInputForCreate(properties=_wire(r), associations=[]), idempotent=False), True)
                    for r in chunk],
            )
        return results

    def update(self, object_name: str, records: list[dict]) -> list[WriteResult]:
        """Update contacts by their ``Id``, 100 a call; one result per record, in order.
        An unknown id fails its record with ``NotFound``."""
        _check_object(object_name)
        results: list[WriteResult] = []
        for chunk in _chunks(records, BATCH_SIZE):
            ids = [str(r.get("Id") or r.get("id") or "") for r in chunk]
            ready = [(n, i) for n, i in enumerate(ids) if i]
            chunk_results: list[WriteResult | None] = [
                None if i else WriteResult(None, ValidationFailed("The record has no Id.", field="Id")) for i in ids]
            if ready:
                inputs = [hs_contacts.SimplePublicObjectBatchInput(
                    id=i, properties=_wire(chunk[n]), object_write_trace_id=str(k)) for k, (n, i) in enumerate(ready)]
                request = hs_contacts.BatchInputSimplePublicObjectBatchInput(inputs=inputs)
                written = self._batch_write(
                    "update", request, len(ready), created=False, ids=[i for _, i in ready],
                    one_by_one=lambda: [self._write_one(lambda n=n, i=i: self._client_call(
                        "contacts.basic", "update", i, hs_contacts.SimplePublicObjectInput(properties=_wire(chunk[n])),
                        idempotent=False),
                        False, record_id=i) for n, i in ready],
                )
                for (n, _), result in zip(ready, written, strict=True):
                    chunk_results[n] = result
            results += [r for r in chunk_results if r is not None]
        return results

    def upsert(self, object_name: str, records: list[dict], key: str = "email") -> list[WriteResult]:
        """Create or update by ``key`` (email, or a property with unique values), 100 a
        call; ``created`` tells new from existing. Idempotent: replaying a batch creates
        nothing twice. A record without a value for ``key`` fails alone."""
        _check_object(object_name)
        results: list[WriteResult] = []
        for chunk in _chunks(records, BATCH_SIZE):
            keys = [str(r.get(key) or "").strip() for r in chunk]
            ready = [n for n, k in enumerate(keys) if k]
            chunk_results: list[WriteResult | None] = [
                None if k else WriteResult(None, ValidationFailed(f"The record has no {key}.", field=key)) for k in keys]
            if ready:
                def inputs(numbers: list[int]) -> Any:
                    return hs_contacts.BatchInputSimplePublicObjectBatchInputUpsert(inputs=[
                        hs_contacts.SimplePublicObjectBatchInputUpsert(
                            id_property=key, id=keys[n], properties=_wire(chunk[n]), object_write_trace_id=str(k))
                        for k, n in enumerate(numbers)])

                written = self._batch_write(
                    "upsert", inputs(ready), len(ready), created=None,
                    one_by_one=lambda: [self._write_one(
                        lambda n=n: self._client_call("contacts.batch", "upsert", inputs([n]), idempotent=False), None, batch=True)
                        for n in ready],
                )
                for n, result in zip(ready, written, strict=True):
                    chunk_results[n] = result
            results += [r for r in chunk_results if r is not None]
        return results

    def _batch_write(self, action: str, request: Any, count: int, *, created: bool | None,
                     one_by_one: Callable[[], list[WriteResult]], ids: list[str] | None = None) -> list[WriteResult]:
        """One batch call; its results in input order (matched by ``objectWriteTraceId``).
        A batch refused as a whole for one record's sake is written again record by record."""
        try:
            answer = self._client_call("contacts.batch", action, request, idempotent=False)
        except (Duplicate, ValidationFailed):
            return one_by_one()
        except Unavailable as exc:
            if exc.code != ANSWER_LOST:
                raise
            # Each record fails retriably; its retry looks for it by key before writing.
            return [WriteResult(ids[n] if ids else None, Unavailable(exc.message, code=ANSWER_LOST)) for n in range(count)]
        results: list[WriteResult | None] = [None] * count
        for n, row in enumerate(answer.results or []):
            trace = getattr(row, "object_write_trace_id", None)
            slot = int(trace) if trace is not None and str(trace).isdigit() and int(trace) < count else n
            results[slot] = WriteResult(row.id, created=getattr(row, "new", created) if created is None else created)
        for error in getattr(answer, "errors", None) or []:
            neutral = error_from(_error_status(error.category), {"message": error.message, "category": error.category})
            context = error.context or {}
            for trace in context.get("objectWriteTraceId") or []:
                if str(trace).isdigit() and int(trace) < count:
                    results[int(trace)] = WriteResult(None, neutral)
            for failed in context.get("ids") or []:
                if ids and failed in ids:
                    slot = ids.index(failed)
                    results[slot] = WriteResult(failed, neutral)
        unknown = ConnectorError("HubSpot's answer did not mention this record.")
        return [r or WriteResult(ids[n] if ids else None, unknown) for n, r in enumerate(results)]

    def _write_one(self, call: Callable[[], Any], created: bool | None, *, record_id: str | None = None,
                   batch: bool = False) -> WriteResult:
        """One record written alone; a refusal of it becomes its WriteResult's error."""
        try:
            answer = call()
        except Unavailable as error:
            if error.code != ANSWER_LOST:
                raise
            return WriteResult(record_id, error)
        except (AuthExpired, RateLimited):
            raise
        except ConnectorError as error:
            return WriteResult(record_id, error)
        if batch:
            if getattr(answer, "errors", None):
                first = answer.errors[0]
                return WriteResult(record_id, error_from(_error_status(first.category),
                                                         {"message": first.message, "category": first.category}))
            answer = answer.results[0]
        return WriteResult(answer.id, created=getattr(answer, "new", created) if created is None else created)

    def delete(self, ids: list[str]) -> list[WriteResult]:
        """Archive contacts, 100 a call. The vendor passes over ids that do not exist, so
        every id comes back without an error."""
        unique = [str(i) for i in ids]
        for chunk in _chunks(list(dict.fromkeys(unique)), BATCH_SIZE):
            request = hs_contacts.BatchInputSimplePublicObjectId(inputs=[hs_contacts.SimplePublicObjectId(id=i) for i in chunk])
            self._client_call("contacts.batch", "archive", request)
        return [WriteResult(i) for i in unique]

    def merge(self, object_name: str, master_id: str, duplicate_ids: list[str],
              chosen_values: dict | None = None) -> MergeResult:
        """Merge each duplicate into the master, one call each (the vendor merges two
        contacts a call, irreversibly), following the id each merge answers with; then
        write ``chosen_values`` onto the survivor (``None`` clears). The merged-away ids
        land in the survivor's ``hs_merged_object_ids``; its notes move to the survivor."""
        _check_object(object_name)
        if not duplicate_ids:
            raise ValidationFailed("A merge needs at least one record besides the master.")
        survivor = str(master_id)
        for duplicate in duplicate_ids:
            answer = self._client_call("contacts.basic", "merge", hs_contacts.PublicMergeInput(
                primary_object_id=survivor, object_id_to_merge=str(duplicate)))
            survivor = str(answer.id)
        if chosen_values:
            self._client_call("contacts.basic", "update", survivor,
                              hs_contacts.SimplePublicObjectInput(properties=_wire(chosen_values)))
        return MergeResult(master_id=survivor, merged_ids=[str(d) for d in duplicate_ids])

    # --- webhooks -----------------------------------------------------------------------------
    def webhook_register(self, url: str, properties: Iterable[str] = WEBHOOK_PROPERTIES) -> str:
        """Make the app post contact events to ``url``: creation, deletion, merge, and a
        change of each of ``properties``. Idempotent: existing subscriptions are reused
        (switched on if off). Needs ``app_id`` and ``client_secret`` among the credentials;
        returns the app id."""
        app_id = str(self.credentials.get("app_id") or "").strip()
        if not app_id.isdigit():
            raise ValidationFailed("Registering webhooks needs the HubSpot app's id.", field="app_id")
        if not self.credentials.get("client_secret"):
            # Every delivery is checked against its signature (``webhook_verify``): without the
            # secret each would be refused.
            raise ValidationFailed("Registering webhooks needs the HubSpot app's client secret, to check their signatures.",
                                   field="client_secret")
        auth = {"Authorization": f"Bearer {self._token}"}
        self._client_call("webhooks.settings", "configure", int(app_id), hs_webhooks.SettingsChangeRequest(
            target_url=url, throttling=hs_webhooks.ThrottlingSettings(max_concurrent_requests=10)), _headers=auth)
        wanted = [("contact.creation", None), ("contact.deletion", None), ("contact.merge", None)]
        wanted += [("contact.propertyChange", name) for name in dict.fromkeys(properties)]
        existing = {(s.event_type, s.property_name or None): s for s in
                    self._client_call("webhooks.subscriptions", "get_all", int(app_id), _headers=auth).results or []}
        for event_type, name in wanted:
            found = existing.get((event_type, name))
            if found is None:
                self._client_call("webhooks.subscriptions", "create", int(app_id), hs_webhooks.SubscriptionCreateRequest(
                    event_type=event_type, property_name=name, active=True), _headers=auth)
            elif not found.active:
                self._client_call("webhooks.subscriptions", "update", int(found.id), int(app_id),
                                  hs_webhooks.SubscriptionPatchRequest(active=True), _headers=auth)
        return app_id

    def webhook_url(self, url: str, *, secret: str) -> str:
        """HubSpot signs every delivery with the app's client secret: ``url`` goes as it is."""
        return url

    def webhook_verify(self, delivery: WebhookDelivery, *, secret: str, now_ms: int | None = None) -> None:
        """The delivery's v3 signature, made with the app's client secret (a credential of
        the connection), and its timestamp (five minutes at most) must hold."""
        client_secret = str(self.credentials.get("client_secret") or "")
        if not client_secret:
            raise WebhookRefused("Checking HubSpot's signature needs the app's client secret among the connection's credentials.")
        try:
            self.parse_webhook(delivery.body, delivery.headers, url=delivery.url, client_secret=client_secret,
                               method=delivery.method, now_ms=now_ms)
        except ValidationFailed as exc:
            raise WebhookRefused(exc.message, malformed=exc.field == "body", code=exc.field) from None

    @staticmethod
    def parse_webhook(body: bytes, headers: Mapping[str, str], *, url: str, client_secret: str,
                      method: str = "POST", now_ms: int | None = None) -> list[WebhookEvent]:
        """Verify a delivery's v3 signature (HMAC-SHA256 with the app's client secret over
        method, URL as the vendor called it, raw body and timestamp) and its timestamp (at
        most five minutes old), then turn its events into neutral ones: ``created``,
        ``updated`` (``fields`` holding the changed property), ``deleted`` and ``merged``
        (``fields``: ``primary_id``, ``merged_ids``). Raises ValidationFailed if the
        delivery is not genuine. Deliveries come at least once: the same change may arrive
        twice."""
        lowered = {k.lower(): v for k, v in headers.items()}
        signature = lowered.get("x-hubspot-signature-v3", "")
        timestamp = lowered.get("x-hubspot-request-timestamp", "")
        if not signature or not timestamp.isdigit():
            raise ValidationFailed("The webhook has no HubSpot v3 signature.", field="signature")
        current = now_ms if now_ms is not None else int(time.time() * 1000)
        if abs(current - int(timestamp)) > SIGNATURE_WINDOW_MS:
            raise ValidationFailed("The webhook's timestamp is more than five minutes off.", field="timestamp")
        uri = url
        for encoded, plain in _URI_DECODE.items():
            uri = uri.replace(encoded, plain).replace(encoded.lower(), plain)
        message = method.upper().encode() + uri.encode() + body + timestamp.encode()
        expected = base64.b64encode(hmac.new(client_secret.encode(), message, hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(expected, signature):
            raise ValidationFailed("The webhook's signature does not match: wrong client secret or altered body.",
                                   field="signature")
        events = _webhook_events(body)
        if events is None:
            raise ValidationFailed("The webhook's body is not JSON.", field="body")
        return events

    def webhook_changes(self, delivery: WebhookDelivery) -> list[WebhookEvent] | None:
        """The events of a verified delivery (see ``parse_webhook``): a property change
        carries the one property that changed and its new value, as the vendor stores it (a
        string); a creation carries none."""
        return _webhook_events(delivery.body)


# --- helpers --------------------------------------------------------------------------------------
def _check_object(object_name: str) -> None:
    if object_name not in (OBJECT, "contact"):
        raise NotSupported(f"The HubSpot connector reads and writes contacts, not {object_name}.")


def _webhook_events(body: bytes) -> list[WebhookEvent] | None:
    """The events of a delivery's body (a JSON array, at most 100); None if it is not JSON."""
    try:
        events = json.loads(body or b"[]")
    except ValueError:
        return None
    if not isinstance(events, list):
        events = [events]
    return [_webhook_event(e) for e in events if isinstance(e, dict)]


def _webhook_event(event: dict) -> WebhookEvent:
    vendor_type = str(event.get("subscriptionType") or "")
    kind = WEBHOOK_EVENTS.get(vendor_type, vendor_type)
    fields: dict[str, Any] = {}
    email = None
    if event.get("propertyName"):
        fields[event["propertyName"]] = event.get("propertyValue")
        if event["propertyName"] == "email":
            email = event.get("propertyValue") or None
    if vendor_type == "contact.merge":
        fields = {"primary_id": str(event.get("primaryObjectId") or event.get("objectId") or ""),
                  "merged_ids": [str(i) for i in event.get("mergedObjectIds") or []]}
    occurred = event.get("occurredAt")
    # "contact.propertyChange" is about a contact; another object's events name theirs first.
    prefix = vendor_type.split(".", 1)[0]
    return WebhookEvent(
        type=kind, record_id=str(event.get("objectId") or ""), email=email, fields=fields,
        occurred_at=datetime.fromtimestamp(int(occurred) / 1000, timezone.utc).isoformat() if occurred else None,
        initiated_from=str(event.get("changeSource") or ""), object=OBJECT if prefix == "contact" else prefix,
    )


def _neutral_type(name: str, vendor_type: str, field_type: str) -> str:
    if name == "email":
        return "email"
    if vendor_type == "enumeration":
        if field_type == "booleancheckbox":
            return "boolean"
        return "multipicklist" if field_type == "checkbox" else "picklist"
    if vendor_type == "bool":
        return "boolean"
    if vendor_type == "number":
        return "double"
    if vendor_type in ("date", "datetime"):
        return vendor_type
    return {"textarea": "textarea", "phonenumber": "phone"}.get(field_type, "string")


def _names(fields: Iterable[str], *always: str) -> list[str]:
    return list(dict.fromkeys([*(f for f in fields if f and f not in ("id", "Id")), *always]))


def _filter(name: str, operator: str, value: Any) -> Any:
    return hs_contacts.Filter(property_name=name, operator=operator, value=str(value))


def _record(row: Any) -> Record:
    values = dict(row.properties or {})
    merged = tuple(i.strip() for i in str(values.get(MERGED_IDS) or "").split(";") if i.strip() and i.strip() != str(row.id))
    return Record(id=str(row.id), object=OBJECT, fields=values, modified_at=values.get(MODIFIED), merged_ids=merged)


def _modified_ms(row: Any) -> int | None:
    value = (row.properties or {}).get(MODIFIED)
    return _to_ms(value) if value else None


def _to_ms(value: str) -> int:
    """A watermark (``modified_at``, ISO, or milliseconds) in milliseconds since the epoch."""
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return round(moment.timestamp() * 1000)


def _wire(record: Mapping[str, Any]) -> dict[str, str]:
    """A record's values as HubSpot takes them: strings; None clears; lists join with ';'."""
    values = {}
    for name, value in record.items():
        if name in ("Id", "id"):
            continue
        if value is None:
            values[name] = ""
        elif isinstance(value, bool):
            values[name] = "true" if value else "false"
        elif isinstance(value, (list, tuple, set)):
            values[name] = ";".join(str(v) for v in value)
        elif isinstance(value, datetime):
            values[name] = str(int(value.timestamp() * 1000))
        elif isinstance(value, date):
            values[name] = value.isoformat()
        else:
            values[name] = str(value)
    return values


def _payload(body: Any) -> dict:
    if isinstance(body, (bytes, bytearray)):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return {}
    return body if isinstance(body, dict) else {}


def _error_field(payload: dict) -> str:
    for error in payload.get("errors") or []:
        names = ((error or {}).get("context") or {}).get("propertyName") or []
        if names:
            return str(names[0])
    found = _PROPERTY_NAME.search(str(payload.get("message") or ""))
    return found.group(1) if found else ""


def _error_code(payload: dict) -> str:
    for error in payload.get("errors") or []:
        if (error or {}).get("code"):
            return str(error["code"])
    return ""


def _error_status(category: str | None) -> int:
    """The HTTP status a batch error's category stands for."""
    return {"OBJECT_NOT_FOUND": 404, "CONFLICT": 409, "VALIDATION_ERROR": 400, "RATE_LIMITS": 429,
            "MISSING_SCOPES": 403, "INVALID_AUTHENTICATION": 401}.get(category or "", 400)


def _until_midnight() -> float:
    """Seconds until HubSpot's daily allowance returns (midnight; the account's time zone is
    not in the answer, so UTC's)."""
    now = datetime.now(timezone.utc)
    return (datetime.combine(now.date(), datetime.min.time(), timezone.utc) + timedelta(days=1) - now).total_seconds()


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    try:
        return max(0.0, float((headers or {}).get("Retry-After", "")))
    except (TypeError, ValueError):
        return None


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
