"""Salesforce connector, built on simple-salesforce.

Reads stream through SOQL pages (``nextRecordsUrl``) or, when more than ``bulk_read_from``
records remain after the first page, one Bulk API 2.0 query job whose CSV result sets are
streamed (a handful of calls whatever the size); writes go through sObject Collections (200
records a call) or, for more than 2,000 records, one Bulk API 2.0 ingest job (about six calls
whatever the size); merge and lead conversion through the SOAP API with the same session.
Every request to the org's API is counted in ``api_calls``; the org's own counter (the
``Sforce-Limit-Info`` header) is kept in ``api_usage`` so that callers can budget.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import logging
import tempfile
import time
from collections.abc import Iterable, Iterator
from datetime import timedelta
from datetime import timezone as tz
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError
from simple_salesforce.util import exception_handler

from .base import (
    ANSWER_LOST,
    CURSOR_SEPARATOR,
    AuthExpired,
    CheckResult,
    Connector,
    ConnectorError,
    Duplicate,
    FieldDescription,
    MergeResult,
    NotFound,
    ObjectDescription,
    ObjectSummary,
    PermissionDenied,
    RateLimited,
    Record,
    RecordType,
    Unavailable,
    ValidationFailed,
    WriteResult,
    parse_instant,
)

log = logging.getLogger(__name__)

API_VERSION = "59.0"
COLLECTION_SIZE = 200  # sObject Collections take at most 200 records a call
QUERY_PAGE_SIZE = 2000  # the largest SOQL batch Salesforce hands out
MAX_MERGE_DUPLICATES = 2  # a merge takes the master plus at most two others
SOQL_IN_CHUNK = 200  # values per `IN (...)`: keeps the query URL well under its limit
# Bulk API 2.0 (Bulk API 2.0 Developer Guide, "Ingest"): a write of more records than this
# goes as one ingest job (create, upload, close, status reads, results) instead of a
# collection call per 200; the daily allowance is what a large load spends otherwise.
BULK_FROM = 2001
BULK_FIRST_POLL = 1.0  # seconds before the first status read, at least; doubled up to BULK_POLL_CAP
BULK_POLL_PER_RECORD = 0.0005  # seconds before it per record written (a large job takes a while)
BULK_POLL_CAP = 30.0
BULK_WAIT = 1800.0  # a job not done by then is left to the records' retry, which looks them up
BULK_NULL = "#N/A"  # clears a field; an empty cell leaves it as it is
# Bulk API 2.0 query ("Bulk API 2.0 Query"): a read with more than this many records left after
# its first SOQL page reads them as one query job (create, status reads, one call per result
# set) instead of one call per 2,000. A job takes a few seconds to start, which a small read
# need not wait for. The connection can set another threshold.
BULK_READ_FROM = 10_000
BULK_QUERY_SET = 50_000  # maxRecords of a result set: rows per call (simple-salesforce's default)
# Field types a Bulk API 2.0 query cannot select (compound address and location fields, blobs:
# "Selecting compound data not supported in Bulk Query", "Blob field not supported in Bulk V2
# Query with CSV content type"): a read naming one keeps to SOQL pages.
BULK_QUERY_REFUSES = {"address", "location", "base64"}
_NUMBER_TYPES = {"double", "currency", "percent"}
READ_ONLY_FIELDS = {"Id", "CreatedDate", "LastModifiedDate", "SystemModstamp", "IsDeleted", "MasterRecordId"}

_SOAP_NS = {
    "soapenv": "http://schemas.xmlsoap.org/soap/envelope/",
    "p": "urn:partner.soap.sforce.com",
    "sf": "urn:fault.partner.soap.sforce.com",
}

# statusCode / errorCode → neutral error class (Salesforce REST "Status Codes and Error Responses").
_VALIDATION_CODES = {
    "REQUIRED_FIELD_MISSING", "INVALID_EMAIL_ADDRESS", "STRING_TOO_LONG", "FIELD_CUSTOM_VALIDATION_EXCEPTION",
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "INVALID_FIELD", "INVALID_FIELD_FOR_INSERT_UPDATE",
    "INVALID_CROSS_REFERENCE_KEY", "MALFORMED_ID", "INVALID_TYPE", "JSON_PARSER_ERROR", "INVALID_ID_FIELD",
    "FIELD_INTEGRITY_EXCEPTION", "MALFORMED_QUERY", "INVALID_TYPE_ON_FIELD_IN_RECORD", "NUMBER_OUTSIDE_VALID_RANGE",
}
_DUPLICATE_CODES = {"DUPLICATES_DETECTED", "DUPLICATE_VALUE", "DUPLICATE_EXTERNAL_ID"}
_NOT_FOUND_CODES = {"NOT_FOUND", "ENTITY_IS_DELETED", "INVALID_QUERY_LOCATOR"}
_PERMISSION_CODES = {"INSUFFICIENT_ACCESS", "INSUFFICIENT_ACCESS_OR_READONLY", "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY", "API_DISABLED_FOR_ORG"}
_RETRIABLE_STATUS = {500, 502, 503, 504}

TIMEOUT = (10, 120)  # seconds to connect, and to wait for an answer (a SOQL page can take a while)


class _TimeoutAdapter(HTTPAdapter):
    """Gives every request a connect and a read timeout: simple-salesforce sets none, and a
    vendor that hangs must fail the call (retriably) rather than hold a worker for ever."""

    def __init__(self, *args, timeout=TIMEOUT, **kwargs):
        super().__init__(*args, **kwargs)
        self.timeout = timeout

    def send(self, request, **kwargs):
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


class _SchemeAdapter(_TimeoutAdapter):
    """simple-salesforce always builds ``https://host:port`` URLs from an instance URL. For an
    org served over plain http (the bundled sandbox) this adapter, mounted for that origin
    only, sends the request with the scheme the connection was configured with."""

    def send(self, request, **kwargs):
        request.url = "http://" + request.url[len("https://"):]
        return super().send(request, **kwargs)


def error_from(code: str, message: str, fields: list[str] | None = None, detail: dict | None = None) -> ConnectorError:
    """Turn one Salesforce error (code, message, fields) into a neutral error."""
    fields = fields or []
    if code in _DUPLICATE_CODES:
        matches = []
        for result in (detail or {}).get("duplicateResult", {}).get("matchResults", []):
            matches += [m["record"]["Id"] for m in result.get("matchRecords", []) if m.get("record", {}).get("Id")]
        if not matches and "with id: " in message:  # DUPLICATE_VALUE names the clashing record
            matches = [message.rsplit("with id: ", 1)[1].strip()]
        return Duplicate(message, matching_ids=matches, code=code)
    if code == "REQUEST_LIMIT_EXCEEDED":  # the org's rolling 24-hour allowance is spent
        return RateLimited(message, code=code, daily=True)
    if code in ("INVALID_SESSION_ID", "INVALID_AUTH_HEADER"):
        return AuthExpired(message, code=code)
    if code in _NOT_FOUND_CODES:
        return NotFound(message, code=code)
    if code in _PERMISSION_CODES:
        return PermissionDenied(message, code=code)
    if code in _VALIDATION_CODES or code.startswith("INVALID_") or code.endswith("_EXCEPTION"):
        return ValidationFailed(message, field=fields[0] if fields else "", code=code)
    if code in ("SERVER_UNAVAILABLE", "UNABLE_TO_LOCK_ROW"):
        return Unavailable(message, code=code)
    return ConnectorError(message, code=code)


class SalesforceConnector(Connector):
    """One Salesforce org. ``base_url`` is where to log in (login.salesforce.com, My Domain or
    a sandbox); credentials are an OAuth connected app's client id/secret plus, for the
    username-password flow, the integration user's username and password."""

    kind = "salesforce"
    label = "Salesforce"
    # SystemModstamp is set when a transaction starts, so a long one commits records stamped
    # before changes already read; SOQL compares it to the whole second.
    read_lag = timedelta(minutes=2)
    stamp_resolution = timedelta(seconds=1)
    # A write of this many records or more is one Bulk API 2.0 job; the engine may hand one
    # create up to bulk_batch_size records when a page brings that many.
    bulk_write_from = BULK_FROM
    bulk_batch_size = 10_000
    bulk_read_from = BULK_READ_FROM  # see ``changes``; each connector may have its own
    # Email fields take ASCII addresses only ("invalid email address" for jürgen@…, IDN
    # domains included; help.salesforce.com, "Custom Field Types", Email).
    ascii_email_only = True

    @classmethod
    def app_record_url(cls, base_url: str, object_name: str, record_id: str) -> str | None:
        """``https://<domain>/<id>``: Salesforce opens the record there (after a log-in on
        login.salesforce.com), in Lightning or Classic as the user prefers."""
        return f"{base_url.rstrip('/')}/{record_id}"

    def __init__(self, *, base_url, credentials, on_credentials_changed=None, session=None,
                 max_retries: int = 4, backoff: float = 0.5, sleep=time.sleep, timeout=TIMEOUT,
                 bulk_read_from: int | None = BULK_READ_FROM, bulk_query_set: int = BULK_QUERY_SET):
        super().__init__(base_url=base_url, credentials=credentials, on_credentials_changed=on_credentials_changed,
                         max_retries=max_retries, backoff=backoff, sleep=sleep)
        self.timeout = timeout
        self.bulk_read_from = bulk_read_from  # None: every read pages through SOQL
        self.bulk_query_set = bulk_query_set
        self.session = session or requests.Session()
        if session is None:
            for prefix in ("https://", "http://"):
                self.session.mount(prefix, _TimeoutAdapter(timeout=timeout))
        self.session.hooks["response"].append(self._count)
        self._sf: Salesforce | None = None
        self.instance_url = ""
        self.query_total: int | None = None  # what the last query matched in all (its totalSize)

    # --- session ------------------------------------------------------------------------
    def _count(self, response, *args, **kwargs):
        path = urlsplit(response.url).path
        if path.startswith(("/services/data/", "/services/Soap/")):
            self.api_calls += 1
        info = response.headers.get("Sforce-Limit-Info", "")
        if info.startswith("api-usage="):
            used, _, limit = info.split("=", 1)[1].split(";")[0].partition("/")
            if used.isdigit() and limit.isdigit():
                self.api_usage = (int(used), int(limit))

    def _login(self) -> Salesforce:
        """OAuth token request to the configured login URL; builds the client on its answer."""
        c = self.credentials
        form = {"client_id": c.get("client_id", ""), "client_secret": c.get("client_secret", "")}
        if c.get("username"):
            form.update(grant_type="password", username=c["username"], password=c.get("password", ""))
        else:
            form.update(grant_type="client_credentials")
        try:
            response = self.session.post(f"{self.base_url}/services/oauth2/token", data=form, timeout=30)
        except requests.RequestException as exc:
            raise Unavailable(f"Salesforce login at {self.base_url} could not be reached: {exc.__class__.__name__}.") from exc
        if response.status_code >= 500:
            raise Unavailable(f"Salesforce login answered {response.status_code}.")
        body = _json(response)
        if response.status_code != 200 or "access_token" not in body:
            reason = body.get("error_description") or body.get("error") or f"HTTP {response.status_code}"
            raise AuthExpired(f"Salesforce refused the login: {reason}.", code=body.get("error", ""))
        instance_url = self.instance_url = body["instance_url"].rstrip("/")
        parts = urlsplit(instance_url)
        if parts.scheme == "http":
            self.session.mount(f"https://{parts.netloc}", _SchemeAdapter(timeout=self.timeout))
        self._sf = Salesforce(instance_url=instance_url, session_id=body["access_token"], version=API_VERSION, session=self.session)
        return self._sf

    @property
    def sf(self) -> Salesforce:
        return self._sf or self._login()

    def _call(self, operation, *args, idempotent: bool = True, **kwargs):
        """Run one simple-salesforce call with re-login on an expired session and back-off on
        passing faults; every failure leaves as a neutral ConnectorError. A call that is not
        ``idempotent`` (a create) is not sent again once it may have reached Salesforce (the
        answer timed out or broke off): it fails with ``ANSWER_LOST`` instead, for the caller
        to find out what happened rather than create twice."""
        relogged = False

        def attempt():
            try:
                return operation(self.sf, *args, **kwargs)
            except SalesforceError as exc:
                raise self._neutral(exc) from exc
            except (requests.ReadTimeout, requests.exceptions.ChunkedEncodingError) as exc:
                if not idempotent:
                    raise Unavailable(f"Salesforce's answer was lost ({exc.__class__.__name__}); the records may have "
                                      "been written.", code=ANSWER_LOST) from exc
                raise Unavailable(f"Salesforce could not be reached: {exc.__class__.__name__}.") from exc
            except requests.RequestException as exc:
                raise Unavailable(f"Salesforce could not be reached: {exc.__class__.__name__}.") from exc

        def mend(error: ConnectorError) -> bool:
            nonlocal relogged
            if error.code == ANSWER_LOST:
                raise error  # it may have been written: never sent again
            if isinstance(error, AuthExpired) and not relogged:  # the session expired: log in once more
                relogged = True
                self._sf = None
                return True
            return False

        return self.retrying(attempt, mend=mend)

    @staticmethod
    def _neutral(exc: SalesforceError) -> ConnectorError:
        content = exc.content if isinstance(exc.content, list) else []
        first = content[0] if content and isinstance(content[0], dict) else {}
        code = first.get("errorCode", "")
        message = first.get("message") or f"Salesforce answered HTTP {exc.status}."
        if exc.status in _RETRIABLE_STATUS:
            return Unavailable(message, code=code or str(exc.status))
        if exc.status == 401:
            return AuthExpired(message, code=code)
        return error_from(code, message, first.get("fields"), first)

    # --- identity and schema ----------------------------------------------------------------
    def check(self) -> CheckResult:
        org = self._call(lambda sf: sf.query("SELECT Id, Name FROM Organization LIMIT 1"))["records"]
        details = {"Person Accounts": "enabled" if self.person_accounts_enabled() else "not enabled"}
        if self.api_usage:
            details["API usage"] = f"{self.api_usage[0]:,} of {self.api_usage[1]:,} today"
        return CheckResult(org[0]["Name"] if org else urlsplit(self.sf.base_url).netloc, details)

    def objects(self) -> list[ObjectSummary]:
        """The org's objects a sync can read and write (``GET /sobjects``, one call): queryable,
        createable and updateable ones, so settings objects such as ``RecordType`` are left out."""
        raw = self._call(lambda sf: sf.restful("sobjects/"))
        return sorted((ObjectSummary(o["name"], o["label"]) for o in raw.get("sobjects") or []
                       if o.get("queryable") and o.get("createable") and o.get("updateable")),
                      key=lambda o: o.label.lower())

    def describe(self, object_name: str) -> ObjectDescription:
        raw = self._call(lambda sf: sf.restful(f"sobjects/{object_name}/describe/"))
        fields = [
            FieldDescription(
                name=f["name"], label=f["label"], type=f["type"],
                # Salesforce fills a defaulted or nillable field itself; the others must be sent.
                required=f.get("createable", False) and not f.get("nillable", True) and not f.get("defaultedOnCreate", False),
                custom=f.get("custom", False), createable=f.get("createable", False), updateable=f.get("updateable", False),
                unique=f.get("unique", False), external_id=f.get("externalId", False), length=f.get("length") or None,
                picklist_values=tuple(p["value"] for p in f.get("picklistValues") or [] if p.get("active", True)),
                restricted=bool(f.get("restrictedPicklist")),
                reference_to=tuple(f.get("referenceTo") or []),
            )
            for f in raw["fields"]
        ]
        record_types = [
            RecordType(id=r["recordTypeId"], name=r["name"], developer_name=r.get("developerName", ""),
                       is_default=r.get("defaultRecordTypeMapping", False), active=r.get("active", True))
            for r in raw.get("recordTypeInfos", []) if not r.get("master")
        ]
        return ObjectDescription(name=raw["name"], label=raw["label"], fields=fields, record_types=record_types)

    def record_url(self, object_name: str, record_id: str) -> str:
        """The record in Salesforce's app: ``<instance>/<id>`` opens any object's record page."""
        if self._sf is None:
            self._login()
        return f"{self.instance_url}/{record_id}"

    def person_accounts_enabled(self) -> bool:
        """True when the org has Person Accounts (``IsPersonAccount`` exists on Account)."""
        return self.describe("Account").field("IsPersonAccount") is not None

    def record_types(self, object_name: str) -> list[RecordType]:
        """Active record types of an object, with whether each is a person-account type."""
        fields = "Id, Name, DeveloperName, IsActive" + (", IsPersonType" if object_name == "Account" and self.person_accounts_enabled() else "")
        rows = self.query_all(f"SELECT {fields} FROM RecordType WHERE SobjectType = {_literal(object_name)} AND IsActive = true ORDER BY Name")
        return [RecordType(id=r["Id"], name=r["Name"], developer_name=r["DeveloperName"], is_person_type=bool(r.get("IsPersonType")))
                for page in rows for r in page]

    # --- reading --------------------------------------------------------------------------------
    def query_all(self, soql: str, *, include_deleted: bool = False, page_size: int = QUERY_PAGE_SIZE) -> Iterator[list[dict]]:
        """Pages of raw rows for a SOQL query, one page in memory at a time."""
        headers = {"Sforce-Query-Options": f"batchSize={page_size}"}
        page = self._call(lambda sf: sf.query(soql, include_deleted=include_deleted, headers=headers))
        self.query_total = page.get("totalSize")  # rows the whole query matches, said with its first page
        while True:
            yield [_strip(row) for row in page["records"]]
            if page.get("done", True):
                return
            next_url = page["nextRecordsUrl"]
            page = self._call(lambda sf: sf.query_more(next_url, identifier_is_url=True, headers=headers))

    def changes(self, object_name: str, since: str | None, fields: Iterable[str], *,
                include_deleted: bool = False, page_size: int = QUERY_PAGE_SIZE) -> Iterator[list[Record]]:
        """Pages of records modified after ``since``, oldest first, in (SystemModstamp, Id)
        order. Each record's ``cursor`` is that pair, so a read resumes exactly after the last
        record applied, however many records share its SystemModstamp (a bulk load stamps
        thousands alike). A bare SystemModstamp as ``since`` reads from its instant on.

        SOQL compares datetimes to the whole second, though it orders by the millisecond, so
        a cursor's own second is read again and what precedes the cursor in it is dropped
        here. Salesforce stamps a record when its transaction starts, so a change may show
        up after later stamps were read: ``read_lag`` covers that (see ``settled_watermark``).

        When the first page's ``totalSize`` leaves more than ``bulk_read_from`` records, the
        rest is read as one Bulk API 2.0 query job (see ``_bulk_changes``), whose records come
        in no promised order.
        """
        self.changes_total = None
        names = _select_list(fields, "Id", "SystemModstamp", *(("IsDeleted",) if include_deleted else ()))
        bulk = self.bulk_read_from is not None and "." not in names  # a related record's field keeps to SOQL
        yield from self._changes(object_name, names, since, include_deleted=include_deleted, page_size=page_size, bulk=bulk)

    def _changes(self, object_name: str, names: str, since: str | None, *, include_deleted: bool, page_size: int,
                 bulk: bool) -> Iterator[list[Record]]:
        """``changes`` through SOQL pages; with ``bulk``, what the first page leaves, if more than
        ``bulk_read_from`` records, through a query job."""
        where, after = "", None
        if since:
            stamp, _, last_id = since.partition(CURSOR_SEPARATOR)
            where = f" WHERE SystemModstamp >= {_soql_datetime(stamp)}"
            if last_id:
                after = (_stamp_key(stamp), last_id)
        soql = f"SELECT {names} FROM {object_name}{where} ORDER BY SystemModstamp, Id"
        read, total = 0, None
        for rows in self.query_all(soql, include_deleted=include_deleted, page_size=page_size):
            if total is None:
                # Kept here: the connector's other queries (an integration's, between two pages)
                # say their own totals.
                total = self.query_total or 0
                self.changes_total = self.query_total  # the cursor's own second, read again, is among them
            read += len(rows)
            end = _cursor(rows[-1]) if rows else None
            if after is not None:
                rows = [r for r in rows if (_stamp_key(r.get("SystemModstamp") or ""), r["Id"]) > after]
                if rows:
                    after = None  # past the cursor: the rest is all new
            if rows:
                yield [self._change(object_name, r) for r in rows]
            if bulk and end and total - read > (self.bulk_read_from or 0):
                resume = end if after is None else since  # a page wholly before ``since`` leaves the read there
                yield from self._bulk_changes(object_name, names, resume, include_deleted=include_deleted, page_size=page_size)
                return
            bulk = False  # only the first page decides

    def _change(self, object_name: str, row: dict, cursor: str | None = None) -> Record:
        return Record(id=row["Id"], object=object_name, fields=row, modified_at=row.get("SystemModstamp"),
                      cursor=cursor or _cursor(row))

    def _bulk_changes(self, object_name: str, names: str, resume: str, *, include_deleted: bool,
                      page_size: int) -> Iterator[list[Record]]:
        """The records after the cursor ``resume`` through one Bulk API 2.0 query job, in
        pages of ``page_size``: create the job, read its state with back-off, then stream its
        result sets (``bulk_query_set`` rows a call, ``Sforce-Locator`` to the next), each
        downloaded whole to a temporary file and parsed from it with the csv module,
        its values typed back as a SOQL read gives them (``describe`` says how).

        Salesforce promises no order for a query job's rows, and ORDER BY would switch off
        the PK chunking that keeps a large one from timing out ("Understanding Bulk API 2.0
        Query"), so the job asks for none. No record may then pass the watermark before every
        record of the job is handed out: each record goes out with ``resume`` as its cursor
        (where a read starting again finds everything not yet read), but the one of the
        highest (SystemModstamp, Id), held back to the very end of the read, which carries
        its own. ``settled_watermark`` reads such a cursor as the place it names. A read
        stopped part way resumes at ``resume`` and reads the job's records again.

        A job refused at creation (an object or field the Bulk API does not take), failed,
        aborted or not done within ``BULK_WAIT`` is left for SOQL pages from ``resume``; a
        result set that cannot be read fails the read retriably, the watermark still at
        ``resume``.
        """
        types = {f.name.lower(): f.type for f in self.describe(object_name).fields}
        if any(types.get(name.strip().lower()) in BULK_QUERY_REFUSES for name in names.split(",")):
            yield from self._changes(object_name, names, resume, include_deleted=include_deleted, page_size=page_size, bulk=False)
            return
        stamp, _, last_id = resume.partition(CURSOR_SEPARATOR)
        after = (_stamp_key(stamp), last_id)
        soql = f"SELECT {names} FROM {object_name} WHERE SystemModstamp >= {_soql_datetime(stamp)}"

        def client(sf: Salesforce):
            return getattr(sf.bulk2, object_name)._client

        try:
            job_id = self._call(lambda sf: client(sf).create_job("queryAll" if include_deleted else "query", query=soql))["id"]
        except ConnectorError as error:
            if error.retriable:
                raise
            log.info("Salesforce refused a bulk query of %s (%s); reading it in SOQL pages.", object_name, error.code)
            state = None
        else:
            state = self._bulk_wait(client, job_id, is_query=True)
            if state is None:
                self._abort(client, job_id, is_query=True)
        if state != "JobComplete":
            if state is not None:
                log.info("Salesforce bulk query %s ended %s; reading %s in SOQL pages.", job_id, state, object_name)
            yield from self._changes(object_name, names, resume, include_deleted=include_deleted, page_size=page_size, bulk=False)
            return
        page: list[Record] = []
        highest: tuple[tuple[str, str], dict] | None = None
        locator = ""
        while True:
            download, locator, count = self._call(lambda sf: self._result_set(sf, job_id, locator))
            with download:
                reader = csv.reader(io.TextIOWrapper(download, encoding="utf-8", newline=""))
                header = next(reader, [])
                kinds = [types.get(name.lower(), "") for name in header]
                got = 0
                for cells in reader:
                    got += 1
                    row = {name: _typed(value, kind) for name, kind, value in zip(header, kinds, cells)}
                    key = (_stamp_key(row.get("SystemModstamp") or ""), row["Id"])
                    if key <= after:  # the cursor's own second, read again
                        continue
                    if highest is None or key > highest[0]:  # held back; the one held before goes out
                        previous = highest[1] if highest else None
                        highest = (key, row)
                        row = previous
                    if row is not None:
                        page.append(self._change(object_name, row, cursor=resume))
                        if len(page) >= page_size:
                            yield page
                            page = []
            if count is not None and got != count:
                raise Unavailable(f"Salesforce's bulk query {job_id} handed {got} records of a set of {count}; it is read again.")
            if not locator or locator == "null":
                break
        if highest is not None:
            page.append(self._change(object_name, highest[1]))  # the last of all: its cursor is exact
        if page:
            yield page

    def _result_set(self, sf: Salesforce, job_id: str, locator: str):
        """One result set of a query job, downloaded whole: (the CSV as a binary file at its
        start, the next set's locator, the rows the set holds where Salesforce says)."""
        params = {"maxRecords": self.bulk_query_set, **({"locator": locator} if locator else {})}
        headers = {"Authorization": f"Bearer {sf.session_id}", "Accept": "text/csv"}
        with sf.session.get(f"{sf.bulk2_url}query/{job_id}/results", params=params, headers=headers, stream=True) as response:
            if response.status_code >= 300:
                exception_handler(response)
            # On disk, not in memory: a set holds up to ``bulk_query_set`` rows, megabytes of them.
            download = tempfile.TemporaryFile()
            try:
                for chunk in response.iter_content(chunk_size=64 * 1024):
                    download.write(chunk)
            except BaseException:
                download.close()
                raise
        download.seek(0)
        count = response.headers.get("Sforce-NumberOfRecords", "")
        return download, response.headers.get("Sforce-Locator", ""), int(count) if count.isdigit() else None

    def settled_watermark(self, last: Record | None, watermark: str, read_started, *, exhausted: bool) -> str:
        """As the base class's; a record a bulk query handed out of order carries as its cursor
        the place the read was in order up to (see ``_bulk_changes``), and settles as that
        place: the watermark never passes a record not yet handed out."""
        if last is not None and last.cursor:
            stamp, _, record_id = last.cursor.partition(CURSOR_SEPARATOR)
            if record_id != last.id:
                last = dataclasses.replace(last, modified_at=stamp)
        return super().settled_watermark(last, watermark, read_started, exhausted=exhausted)

    def fetch(self, object_name: str, ids: Iterable[str], fields: Iterable[str]) -> list[Record]:
        """Records by id (2000 ids a call); unknown ids are left out."""
        names = [n.strip() for n in _select_list(fields, "Id", "SystemModstamp").split(",")]
        records: list[Record] = []
        for chunk in _chunks(list(ids), 2000):
            rows = self._call(lambda sf: sf.restful(f"composite/sobjects/{object_name}", method="POST", json={"ids": chunk, "fields": names}))
            records += [Record(id=r["Id"], object=object_name, fields=_strip(r), modified_at=r.get("SystemModstamp")) for r in rows or [] if r]
        return records

    def find(self, object_name: str, field: str, values: Iterable[str], fields: Iterable[str]) -> list[Record]:
        """Records whose ``field`` equals one of ``values`` (e.g. Email), newest change first."""
        names = _select_list(fields, "Id", field, "SystemModstamp")
        found: list[Record] = []
        for chunk in _chunks(sorted(set(v for v in values if v)), SOQL_IN_CHUNK):
            soql = f"SELECT {names} FROM {object_name} WHERE {field} IN ({', '.join(_literal(v) for v in chunk)}) ORDER BY SystemModstamp DESC"
            for rows in self.query_all(soql):
                found += [Record(id=r["Id"], object=object_name, fields=r, modified_at=r.get("SystemModstamp")) for r in rows]
        return found

    def deleted(self, object_name: str, since: str) -> list[Record]:
        """Records deleted (or merged away) at or after ``since``, each with the
        ``MasterRecordId`` a merge left on it (None for a plain deletion)."""
        since = since.split(CURSOR_SEPARATOR, 1)[0]  # a change cursor's instant will do
        soql = (f"SELECT Id, MasterRecordId, SystemModstamp FROM {object_name} "
                f"WHERE IsDeleted = true AND SystemModstamp >= {_soql_datetime(since)} ORDER BY SystemModstamp, Id")
        return [Record(id=r["Id"], object=object_name, fields=r, modified_at=r.get("SystemModstamp"))
                for rows in self.query_all(soql, include_deleted=True) for r in rows]

    def merged_into(self, object_name: str, ids: Iterable[str]) -> dict[str, str]:
        """For records merged away, the id of the record each was merged into."""
        masters: dict[str, str] = {}
        for chunk in _chunks(sorted(set(i for i in ids if i)), SOQL_IN_CHUNK):
            soql = (f"SELECT Id, MasterRecordId FROM {object_name} WHERE IsDeleted = true "
                    f"AND Id IN ({', '.join(_literal(i) for i in chunk)})")
            for rows in self.query_all(soql, include_deleted=True):
                masters.update({r["Id"]: r["MasterRecordId"] for r in rows if r.get("MasterRecordId")})
        return masters

    # --- writing --------------------------------------------------------------------------------
    def create(self, object_name: str, records: list[dict], *, allow_duplicates: bool = False) -> list[WriteResult]:
        """More than 2,000 records go as one Bulk API 2.0 job (see ``_bulk``; duplicate rules
        apply to it as to any API write), fewer in collections of 200."""
        if len(records) >= BULK_FROM and not allow_duplicates:
            return self._bulk("insert", object_name, records)
        return self._collection("POST", "composite/sobjects", object_name, records, allow_duplicates=allow_duplicates, created=True)

    def update(self, object_name: str, records: list[dict], *, allow_duplicates: bool = False) -> list[WriteResult]:
        """Each record needs its ``Id``."""
        if len(records) >= BULK_FROM and not allow_duplicates:
            return self._bulk("update", object_name, records)
        return self._collection("PATCH", "composite/sobjects", object_name, records, allow_duplicates=allow_duplicates, created=False)

    def upsert(self, object_name: str, records: list[dict], key: str) -> list[WriteResult]:
        """Insert or update by an external-id field ``key``: replaying a batch never creates twice."""
        if len(records) >= BULK_FROM:
            return self._bulk("upsert", object_name, records, key=key)
        return self._collection("PATCH", f"composite/sobjects/{object_name}/{key}", object_name, records, created=None)

    def _bulk(self, operation: str, object_name: str, records: list[dict], *, key: str | None = None) -> list[WriteResult]:
        """Write ``records`` with one Bulk API 2.0 ingest job through simple-salesforce's bulk2
        client: create the job, upload the CSV, close it, read its state with back-off
        (bounded), then map the successful and failed results back to the records by the
        values they carried. A refused row fails alone with the vendor's reason (``sf__Error``).

        Nothing is written before the close: a failure until then aborts the job and fails
        the records retriably. A close or a status read whose answer is lost is never sent
        again — the job may run — so its records fail retriably with ``ANSWER_LOST`` and their
        retry looks them up by key (an upsert by external id cannot create twice).
        """
        rows = [_writable(r, keep_id=operation == "update") for r in records]
        header = list(dict.fromkeys(name for row in rows for name in row))
        cells = [tuple(_bulk_cell(row.get(name), name in row) for name in header) for row in rows]
        text = io.StringIO(newline="")
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(cells)

        def client(sf: Salesforce):
            return getattr(sf.bulk2, object_name)._client

        job_id = self._call(lambda sf: client(sf).create_job(operation, external_id_field=key))["id"]
        try:
            self._call(lambda sf: client(sf).upload_job_data(job_id, text.getvalue()), idempotent=False)
        except Unavailable as error:  # nothing is written until the job is closed
            self._abort(client, job_id)
            if error.code != ANSWER_LOST:
                raise
            return [WriteResult(None, Unavailable("Salesforce's bulk upload was lost before the job ran; it is tried again."))
                    for _ in records]
        try:
            self._call(lambda sf: client(sf).close_job(job_id), idempotent=False)
            state = self._bulk_wait(client, job_id, size=len(records))
        except (Unavailable, RateLimited):  # closed, perhaps, and running: never sent again
            state = None
        if state != "JobComplete":
            lost = Unavailable(f"Salesforce's bulk job {job_id} did not report back in time; its records may have been "
                               "written.", code=ANSWER_LOST)
            return [WriteResult(None, lost) for _ in records]
        places: dict[tuple, list[int]] = {}
        for index, row in enumerate(cells):
            places.setdefault(row, []).append(index)
        results: list[WriteResult | None] = [None] * len(records)

        def place(row: dict) -> int | None:
            waiting = places.get(tuple(row.get(name, "") for name in header))
            return waiting.pop(0) if waiting else None

        for row in csv.DictReader(io.StringIO(self._call(lambda sf: _ingest_results(client(sf), job_id, "successfulResults")))):
            index = place(row)
            if index is not None:
                created = True if operation == "insert" else False if operation == "update" else row.get("sf__Created") == "true"
                results[index] = WriteResult(id=row.get("sf__Id") or None, created=created)
        if any(r is None for r in results):
            for row in csv.DictReader(io.StringIO(self._call(lambda sf: _ingest_results(client(sf), job_id, "failedResults")))):
                index = place(row)
                if index is not None:
                    code, message, fields = _bulk_error(row.get("sf__Error", ""))
                    results[index] = WriteResult(id=row.get("sf__Id") or None, error=error_from(code, message, fields))
        unprocessed = Unavailable("Salesforce did not process this record in its bulk job; it is tried again.")
        return [r if r is not None else WriteResult(None, unprocessed) for r in results]

    def _bulk_wait(self, client, job_id: str, *, is_query: bool = False, size: int = 0) -> str | None:
        """Read a job's state with back-off until it is over; its state, or None when it is
        not over within ``BULK_WAIT`` seconds. A job of ``size`` records is first asked after
        a wait that grows with it: each status read is a call of the org's daily allowance."""
        delay, waited = min(max(BULK_FIRST_POLL, BULK_POLL_PER_RECORD * size), BULK_POLL_CAP), 0.0
        while waited < BULK_WAIT:
            self.sleep(delay)
            waited += delay
            state = self._call(lambda sf: client(sf).get_job(job_id, is_query)).get("state")
            if state in ("JobComplete", "Failed", "Aborted"):
                return state
            delay = min(delay * 2, BULK_POLL_CAP)
        return None

    def _abort(self, client, job_id: str, *, is_query: bool = False) -> None:
        try:
            self._call(lambda sf: client(sf).abort_job(job_id, is_query))
        except ConnectorError:
            log.info("Salesforce bulk job %s could not be aborted; it stays open and runs nothing.", job_id)

    def delete(self, ids: list[str]) -> list[WriteResult]:
        results: list[WriteResult] = []
        for chunk in _chunks(ids, COLLECTION_SIZE):
            answer = self._call(lambda sf: sf.restful("composite/sobjects", method="DELETE", params={"ids": ",".join(chunk), "allOrNone": "false"}))
            results += [self._result(r) for r in answer or []]
        return results

    def _collection(self, method, path, object_name, records, *, allow_duplicates=False, created):
        headers = {"Sforce-Duplicate-Rule-Header": "allowSave=true"} if allow_duplicates else {}
        results: list[WriteResult] = []
        for chunk in _chunks(records, COLLECTION_SIZE):
            body = {"allOrNone": False, "records": [{"attributes": {"type": object_name}, **_writable(r, keep_id=method == "PATCH" and created is False)} for r in chunk]}
            try:
                # Not sent again once it may have been carried out: a create would be made twice,
                # and an update or upsert written twice.
                answer = self._call(lambda sf: sf.restful(path, method=method, json=body, headers=headers), idempotent=False)
            except Unavailable as exc:
                if exc.code != ANSWER_LOST:
                    raise
                # Each record fails retriably; its retry looks for it by key before creating.
                results += [WriteResult(None, Unavailable(exc.message, code=ANSWER_LOST)) for _ in chunk]
                continue
            results += [self._result(r, created) for r in answer]
        return results

    @staticmethod
    def _result(item: dict, created: bool | None = None) -> WriteResult:
        if item.get("success"):
            return WriteResult(id=item.get("id"), created=item.get("created", created))
        error = (item.get("errors") or [{}])[0]
        code = error.get("statusCode") or error.get("errorCode", "")
        return WriteResult(id=item.get("id"), error=error_from(code, error.get("message", code), error.get("fields"), error))

    # --- SOAP: merge and lead conversion ----------------------------------------------------------
    def merge(self, object_name: str, master_id: str, duplicate_ids: list[str], chosen_values: dict | None = None) -> MergeResult:
        """Merge up to two records into ``master_id`` (Salesforce's limit is three records in
        all); ``chosen_values`` are written onto the master, ``None`` clears a field."""
        if not 1 <= len(duplicate_ids) <= MAX_MERGE_DUPLICATES:
            raise ValidationFailed(f"A merge takes one to {MAX_MERGE_DUPLICATES} records besides the master; got {len(duplicate_ids)}.")
        values = chosen_values or {}
        sobject = [f"<s:type>{escape(object_name)}</s:type>", f"<s:Id>{escape(master_id)}</s:Id>"]
        sobject += [f"<s:fieldsToNull>{escape(k)}</s:fieldsToNull>" for k, v in values.items() if v is None]
        sobject += [f"<{k}>{escape(_soap_value(v))}</{k}>" for k, v in values.items() if v is not None]
        body = ("<p:merge><p:request><p:masterRecord>" + "".join(sobject) + "</p:masterRecord>"
                + "".join(f"<p:recordToMergeIds>{escape(i)}</p:recordToMergeIds>" for i in duplicate_ids)
                + "</p:request></p:merge>")
        result = self._soap(body, "mergeResponse")
        return MergeResult(master_id=_text(result, "id") or master_id, merged_ids=_texts(result, "mergedRecordIds"),
                           updated_related_ids=_texts(result, "updatedRelatedIds"))

    def convert_lead(self, lead_id: str, *, converted_status: str, account_id: str | None = None,
                     contact_id: str | None = None, create_opportunity: bool = False) -> dict[str, str | None]:
        """Convert a Lead; returns the ids of the Account, Contact and Opportunity it became."""
        parts = [f"<p:leadId>{escape(lead_id)}</p:leadId>", f"<p:convertedStatus>{escape(converted_status)}</p:convertedStatus>",
                 f"<p:doNotCreateOpportunity>{'false' if create_opportunity else 'true'}</p:doNotCreateOpportunity>"]
        if account_id:
            parts.append(f"<p:accountId>{escape(account_id)}</p:accountId>")
        if contact_id:
            parts.append(f"<p:contactId>{escape(contact_id)}</p:contactId>")
        result = self._soap("<p:convertLead><p:leadConverts>" + "".join(parts) + "</p:leadConverts></p:convertLead>", "convertLeadResponse")
        return {key: _text(result, key) for key in ("accountId", "contactId", "opportunityId")}

    def _soap(self, body: str, response_tag: str) -> ET.Element:
        def post(sf: Salesforce) -> ET.Element:
            envelope = (
                '<?xml version="1.0" encoding="utf-8"?>'
                '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
                'xmlns:p="urn:partner.soap.sforce.com" xmlns:s="urn:sobject.partner.soap.sforce.com">'
                f"<soapenv:Header><p:SessionHeader><p:sessionId>{escape(sf.session_id)}</p:sessionId></p:SessionHeader></soapenv:Header>"
                f"<soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"
            )
            url = f"https://{sf.sf_instance}/services/Soap/u/{API_VERSION}"
            response = sf.session.post(url, data=envelope.encode(), headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": '""'}, timeout=60)
            return _soap_result(response, response_tag)

        return self._call(post)


# --- helpers ------------------------------------------------------------------------------------
def _soap_result(response: requests.Response, response_tag: str) -> ET.Element:
    """The ``result`` element of a SOAP answer; faults and failed results raise neutral errors."""
    if response.status_code >= 500 and b"Fault" not in response.content:
        raise Unavailable(f"Salesforce SOAP answered HTTP {response.status_code}.")
    try:
        root = ET.fromstring(response.content)
    except ET.ParseError as exc:
        raise ConnectorError(f"Salesforce SOAP answered something that is not XML (HTTP {response.status_code}).") from exc
    fault = root.find(".//soapenv:Fault", _SOAP_NS)
    if fault is not None:
        code = (fault.findtext(".//sf:exceptionCode", namespaces=_SOAP_NS) or fault.findtext("faultcode") or "").split(":")[-1]
        message = fault.findtext(".//sf:exceptionMessage", namespaces=_SOAP_NS) or fault.findtext("faultstring") or code
        if code == "INVALID_SESSION_ID":
            raise AuthExpired(message, code=code)
        raise error_from(code, message)
    result = root.find(f".//p:{response_tag}/p:result", _SOAP_NS)
    if result is None:
        raise ConnectorError(f"Salesforce SOAP answer has no {response_tag} result.")
    if _text(result, "success") != "true":
        error = result.find("p:errors", _SOAP_NS)
        code = _text(error, "statusCode") if error is not None else ""
        message = _text(error, "message") if error is not None else "The operation failed."
        raise error_from(code or "", message or code or "", _texts(error, "fields") if error is not None else [])
    return result


def _text(element: ET.Element | None, tag: str) -> str | None:
    return element.findtext(f"p:{tag}", namespaces=_SOAP_NS) if element is not None else None


def _texts(element: ET.Element | None, tag: str) -> list[str]:
    return [e.text or "" for e in element.findall(f"p:{tag}", _SOAP_NS)] if element is not None else []


def _soap_value(value) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _json(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _strip(row: dict) -> dict:
    """A row without Salesforce's ``attributes`` envelopes (also on related records)."""
    return {k: (_strip(v) if isinstance(v, dict) else v) for k, v in row.items() if k != "attributes"}


def _writable(record: dict, *, keep_id: bool) -> dict:
    return {k: v for k, v in record.items() if (k == "Id" and keep_id) or k not in READ_ONLY_FIELDS and k != "attributes"}


def _ingest_results(client, job_id: str, kind: str) -> str:
    """A job's results CSV, decoded as the UTF-8 it is. Salesforce names no charset (``text/csv``),
    so text taken as the HTTP default (Latin-1), as the bulk client's own reader does, would
    turn every accented name into another, matching none of the rows sent."""
    from simple_salesforce.util import call_salesforce

    response = call_salesforce(url=f"{client._construct_request_url(job_id, False)}/{kind}", method="GET",
                               session=client.session, headers=client._get_headers(client.JSON_CONTENT_TYPE, client.CSV_CONTENT_TYPE))
    return response.content.decode("utf-8")


def _bulk_cell(value, named: bool) -> str:
    """A value as a Bulk API 2.0 CSV cell: a field a record does not name stays empty (left as
    it is), a None clears it; booleans and multi-select values as Salesforce writes them."""
    if not named:
        return ""
    if value is None or value == "":
        return BULK_NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _bulk_error(text: str) -> tuple[str, str, list[str]]:
    """``CODE:message:Field1,Field2 --`` (sf__Error) as (code, message, fields)."""
    code, _, rest = text.partition(":")
    message, _, fields = rest.rstrip(" -").rpartition(":")
    if not message:  # no fields part
        message, fields = fields, ""
    return code, message or code, [f for f in fields.split(",") if f]


def _cursor(row: dict) -> str:
    """Where a change read resumes after ``row``: its (SystemModstamp, Id)."""
    return f"{row.get('SystemModstamp')}{CURSOR_SEPARATOR}{row['Id']}"


def _typed(value: str, kind: str):
    """A Bulk API 2.0 CSV cell as a SOQL read gives the value: empty as None, checkboxes as
    booleans, numbers as numbers, datetimes in REST's ``+0000`` form (the CSV says ``Z``)."""
    if value == "":
        return None
    if kind == "boolean":
        return value == "true"
    if kind == "int":
        return int(float(value))
    if kind in _NUMBER_TYPES:
        return float(value)
    if kind == "datetime":
        moment = parse_instant(value).astimezone(tz.utc)
        return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}+0000"
    return value


def _select_list(fields: Iterable[str], *always: str) -> str:
    return ", ".join(dict.fromkeys([*always, *fields]))


def _literal(value: str) -> str:
    """A SOQL string literal (quotes and backslashes escaped)."""
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def _stamp_key(stamp: str) -> str:
    """A SystemModstamp as a UTC string that sorts chronologically, to the millisecond."""
    try:
        return parse_instant(stamp).astimezone(tz.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")
    except ValueError:
        return stamp


def _soql_datetime(moment: str) -> str:
    """A timestamp as a SOQL datetime literal (UTC, whole seconds, as SOQL compares them)."""
    return parse_instant(moment).astimezone(tz.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


_ID_CHECKSUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def id18(value: str) -> str:
    """A Salesforce record id in its 18-character form: people copy the 15-character,
    case-sensitive form from the address bar and reports, and both name one record. The suffix
    is Salesforce's own checksum of where the 15 characters have capitals. Anything that is no
    Salesforce id comes back trimmed, as it was."""
    value = (value or "").strip()
    if len(value) == 15 and value.isalnum() and value.isascii():
        return value + "".join(
            _ID_CHECKSUM[sum(1 << i for i, ch in enumerate(value[start:start + 5]) if "A" <= ch <= "Z")]
            for start in (0, 5, 10))
    return value
