"""ActiveCampaign connector (API v3 over plain ``requests``).

The connection's base URL is the account's "API URL" (``https://acme.api-us1.com``; the
sandbox's ``…/activecampaign/<account>``), the credential its API key, sent as the
``Api-Token`` header. One object, ``contact``: the standard fields ``email``, ``firstName``,
``lastName``, ``phone``, ``orgname`` (read-only), custom fields named by their
personalisation tag (``COMPANY_SIZE``) and the contact's tags as ``tags``.

Costs, in API calls (the vendor allows 5 a second per account; see ``changes`` and
``upsert`` for the details): reads page 100 contacts a call, plus one call per contact for
custom values and one for tags when those are asked for; an upsert of more than 10 contacts
goes through the Bulk Contact Importer (250 a request, tags included, plus status reads and
a read of the new ids per 100), a smaller one costs a call per record. Every request is counted in ``api_calls``; 429 and
5xx answers are retried after ``Retry-After`` or an exponential back-off.
"""
from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests

from .base import (
    ANSWER_LOST,
    AuthExpired,
    CheckResult,
    Connector,
    ConnectorError,
    Duplicate,
    FieldDescription,
    NotFound,
    NotSupported,
    ObjectDescription,
    ObjectSummary,
    TAGS_IF_CREATED,
    RateLimited,
    Record,
    Unavailable,
    ValidationFailed,
    WebhookDelivery,
    WebhookEvent,
    WriteResult,
)

log = logging.getLogger(__name__)

PAGE_SIZE = 100  # the most any list endpoint hands out per call
# The Bulk Contact Importer (reference: "Bulk import contacts"): at most 250 contacts a
# request; "10 or fewer → use the Contacts API instead".
IMPORT_MAX = 250
IMPORT_FROM = 11
IMPORT_KEYS = {"firstName": "first_name", "lastName": "last_name", "phone": "phone"}
# Seconds before the first status read, per contact imported (at least IMPORT_FIRST_POLL: the
# status is not even known for about a second); doubled up to IMPORT_POLL_CAP.
IMPORT_FIRST_POLL = 1.0
IMPORT_POLL_PER_CONTACT = 0.01
IMPORT_POLL_CAP = 8.0
IMPORT_WAIT = 600.0  # an import not done by then is left to the records' retry, which looks them up
AUTH_RETRIES = 1  # the vendor sometimes answers 403 to a good key; the singer tap retries those too
WRITABLE_FIELDS = ("email", "firstName", "lastName", "phone")
STANDARD_FIELDS = (
    FieldDescription("email", "Email", "email", required=True, unique=True, external_id=True, length=255),
    FieldDescription("firstName", "First name", "string", length=255),
    FieldDescription("lastName", "Last name", "string", length=255),
    FieldDescription("phone", "Phone", "phone", length=255),
    # Written through the Accounts API, not on the contact (contact's orgid is deprecated).
    FieldDescription("orgname", "Organization", "string", createable=False, updateable=False, length=255),
)
STANDARD_NAMES = frozenset(f.name for f in STANDARD_FIELDS)
TAGS = "tags"
FIELD_TYPES = {
    "text": "string", "textarea": "textarea", "hidden": "string", "date": "date", "datetime": "datetime",
    "dropdown": "picklist", "radio": "picklist", "checkbox": "multipicklist", "multiselect": "multipicklist",
    "listbox": "multipicklist",
}
# Neutral webhook event names ↔ the vendor's (GET /webhook/events).
WEBHOOK_EVENTS = {
    "subscribed": "subscribe", "unsubscribed": "unsubscribe", "updated": "update",
    "tag_added": "contact_tag_added", "tag_removed": "contact_tag_removed",
}
WEBHOOK_SOURCES = ("public", "admin", "api", "system")
_FORM_FIELD = re.compile(r"contact\[fields\]\[(.+)\]")
_WEBHOOK_STANDARD = {
    "contact[email]": "email", "contact[first_name]": "firstName", "contact[last_name]": "lastName",
    "contact[phone]": "phone", "contact[orgname]": "orgname",
}


@dataclass
class _Import:
    """One bulk import sent (or refused before it was), waiting to be collected."""

    records: list[dict]
    results: list  # one WriteResult (or None, until collected) per record
    items: list[dict]  # what was sent, of the records that could be
    sent: list[int]  # the records' positions, item by item
    batch_id: str = ""  # "" when the answer was lost: collected as ANSWER_LOST
    refused: ConnectorError | None = None  # the request as a whole was refused
    sent_at: float = 0.0  # time.monotonic() when it was sent


@dataclass(frozen=True)
class CustomField:
    """A custom field as ``GET /fields`` describes it."""

    id: str
    perstag: str
    title: str
    type: str
    required: bool
    options: tuple[str, ...]

    @property
    def multi(self) -> bool:
        return FIELD_TYPES.get(self.type) == "multipicklist"


def error_from(response: requests.Response) -> ConnectorError:
    """Turn an ActiveCampaign error answer into a neutral error (reference: "Errors")."""
    status = response.status_code
    body = _json(response)
    if status == 429:
        return RateLimited("ActiveCampaign's rate limit was reached (requests per second for the account).",
                           retry_after=_retry_after(response), code="429")
    if status >= 500:
        return Unavailable(f"ActiveCampaign answered HTTP {status}.", code=str(status))
    if status in (401, 403):
        return AuthExpired(
            f"ActiveCampaign refused the API key (HTTP {status}). Check the API URL and the key under Settings → "
            "Developer in ActiveCampaign: the key may have been reset or belong to another account.", code=str(status),
        )
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        message = first.get("title") or f"ActiveCampaign answered HTTP {status}."
        pointer = (first.get("source") or {}).get("pointer") or ""
        field = pointer.removeprefix("/data/attributes").strip("/")
        if first.get("code") == "duplicate":
            return Duplicate(message, code="duplicate")
        return ValidationFailed(message, field=field, code=first.get("code") or str(status))
    message = body.get("message") or f"ActiveCampaign answered HTTP {status}."
    if status == 404:
        return NotFound(message, code="404")
    return ConnectorError(message, code=str(status))


class ActiveCampaignConnector(Connector):
    """One ActiveCampaign account, reached at its API URL with an API key."""

    kind = "activecampaign"
    label = "ActiveCampaign"
    write_batch_size = 250  # one bulk import (or 250 single writes); outcomes are stored per 250
    # "Email address is not valid." for an address with characters outside ASCII, IDN domains
    # included (unconfirmed in the vendor's reference; the sandbox answers so).
    ascii_email_only = True
    # A large load hands over up to eight imports at once, all sent before any is waited for.
    bulk_write_from = 2 * IMPORT_MAX
    bulk_batch_size = 8 * IMPORT_MAX

    @classmethod
    def app_record_url(cls, base_url: str, object_name: str, record_id: str) -> str | None:
        """The account's app shows a contact at ``/app/contacts/<id>``; its API lives at
        ``<account>.api-us1.com`` and its app at ``<account>.activehosted.com``."""
        if object_name != "contact":
            return None
        parts = urlsplit(base_url.rstrip("/"))
        host = re.sub(r"\.api-\w+\.com$", ".activehosted.com", parts.hostname or "")
        if host != parts.hostname:
            return f"https://{host}/app/contacts/{record_id}"
        return f"{base_url.rstrip('/')}/app/contacts/{record_id}"

    def __init__(self, *, base_url, credentials, on_credentials_changed=None, session=None,
                 max_retries: int = 4, backoff: float = 0.5, sleep=time.sleep, timeout: float = 30):
        super().__init__(base_url=base_url, credentials=credentials, on_credentials_changed=on_credentials_changed,
                         max_retries=max_retries, backoff=backoff, sleep=sleep)
        self.session = session or requests.Session()
        self.session.hooks["response"].append(self._count)
        self.timeout = timeout
        self._fields: list[CustomField] | None = None
        self._tag_ids: dict[str, str] = {}
        self._tag_names: dict[str, str] | None = None

    def natural_key(self, object_name: str) -> str | None:
        """Contacts are unique by email, and ``contact/sync`` upserts by it."""
        return "email" if object_name == "contact" else None

    # --- HTTP ---------------------------------------------------------------------------------
    def _count(self, response, *args, **kwargs):
        if "/api/3/" in urlsplit(response.url).path:
            self.api_calls += 1

    def _call(self, method: str, path: str, *, params: Any = None, body: Any = None,
              idempotent: bool = True) -> tuple[int, dict]:
        """One API call with back-off on 429/5xx (and one retry of a 403); returns
        (status, JSON body) or raises a neutral error. A write that is not ``idempotent`` is
        not sent again once it may have reached ActiveCampaign (its answer timed out or broke
        off): it fails with ``ANSWER_LOST``, for the caller to look up what landed."""
        url = f"{self.base_url}/api/3/{path}"
        headers = {"Api-Token": self.credentials.get("api_key", ""), "Accept": "application/json"}
        auth_retries = 0

        def attempt() -> tuple[int, dict]:
            try:
                response = self.session.request(method, url, params=params, json=body, headers=headers, timeout=self.timeout)
            except (requests.ReadTimeout, requests.exceptions.ChunkedEncodingError) as exc:
                if not idempotent:
                    raise Unavailable(f"ActiveCampaign's answer was lost ({exc.__class__.__name__}); the contact may "
                                      "have been written.", code=ANSWER_LOST) from exc
                raise Unavailable(f"ActiveCampaign could not be reached ({exc.__class__.__name__}).") from exc
            except requests.RequestException as exc:
                raise Unavailable(f"ActiveCampaign could not be reached ({exc.__class__.__name__}).") from exc
            if response.status_code < 300:
                return response.status_code, _json(response)
            raise error_from(response)

        def mend(error: ConnectorError) -> bool:
            nonlocal auth_retries
            if error.code == ANSWER_LOST:
                raise error  # it may have been written: never sent again
            if isinstance(error, AuthExpired) and auth_retries < AUTH_RETRIES:  # a 403 to a good key, now and then
                auth_retries += 1
                self.sleep(self.backoff)
                return True
            return False

        return self.retrying(attempt, what=method, mend=mend)

    def _get(self, path: str, params: Any = None) -> dict:
        return self._call("GET", path, params=params)[1]

    def _pages(self, path: str, key: str, params: dict | None = None) -> Iterator[list[dict]]:
        """Every page of a list endpoint, by offset (for small, stable lists)."""
        offset = 0
        while True:
            items = self._get(path, {**(params or {}), "limit": PAGE_SIZE, "offset": offset}).get(key) or []
            yield items
            if len(items) < PAGE_SIZE:
                return
            offset += PAGE_SIZE

    # --- identity and schema ------------------------------------------------------------------
    def check(self) -> CheckResult:
        """Authenticate (``GET /users/me``) and count the contacts; two calls."""
        user = self._get("users/me").get("user") or {}
        total = self._get("contacts", {"limit": 1}).get("meta", {}).get("total", "0")
        details = {"Contacts": f"{int(total):,}"}
        if user.get("email"):
            details["Connected as"] = user["email"]
        return CheckResult(_account_name(self.base_url), details)

    def objects(self) -> list[ObjectSummary]:
        """Contacts are the one object this connector reads and writes; no call."""
        return [ObjectSummary("contact", "Contact")]

    def describe(self, object_name: str) -> ObjectDescription:
        """The contact's standard fields and every custom field, named by its personalisation
        tag (``custom=True``, with its type and options); ``GET /fields``, cached."""
        _check_object(object_name)
        custom = [
            FieldDescription(name=f.perstag, label=f.title, type=FIELD_TYPES.get(f.type, "string"), required=f.required,
                             custom=True, picklist_values=f.options,
                             # A value outside a choice field's options is refused.
                             restricted=bool(f.options) and FIELD_TYPES.get(f.type) in ("picklist", "multipicklist"))
            for f in self._custom_fields()
        ]
        return ObjectDescription(name="contact", label="Contact", fields=[*STANDARD_FIELDS, *custom])

    def _custom_fields(self) -> list[CustomField]:
        if self._fields is None:
            fields: list[CustomField] = []
            offset = 0
            while True:
                page = self._get("fields", {"limit": PAGE_SIZE, "offset": offset})
                options: dict[str, list[str]] = {}
                for option in page.get("fieldOptions") or []:
                    options.setdefault(str(option["field"]), []).append(option["value"])
                fields += [
                    CustomField(id=str(f["id"]), perstag=f["perstag"], title=f["title"], type=f["type"],
                                required=str(f.get("isrequired")) == "1", options=tuple(options.get(str(f["id"]), ())))
                    for f in page.get("fields") or []
                ]
                if len(page.get("fields") or []) < PAGE_SIZE:
                    break
                offset += PAGE_SIZE
            self._fields = fields
        return self._fields

    def _custom_field(self, name: str) -> CustomField | None:
        return next((f for f in self._custom_fields() if f.perstag.upper() == name.upper()), None)

    # --- reading ------------------------------------------------------------------------------
    def changes(self, object_name: str, since: str | None, fields: Iterable[str], *,
                page_size: int = PAGE_SIZE) -> Iterator[list[Record]]:
        """Pages of contacts changed at or after ``since`` (a ``modified_at``), oldest first.

        ``udate`` has whole seconds only, so the watermark's own second is read again: a
        contact already seen there may come twice, none is lost. The cursor moves with the
        pages (``filters[updated_after]`` + ``orders[udate]=ASC``): an offset only counts
        contacts of the cursor's second, and a page that does not start with one already seen
        (one changed meanwhile and moved on) makes that second be read again. Memory holds one
        page and the ids of one second. Each page costs one call, plus one per contact when a
        custom field is in ``fields`` and one per contact when ``tags`` is.
        """
        _check_object(object_name)
        wanted = self._wanted(fields)
        cursor = _parse(since).replace(microsecond=0) if since else None
        seen: set[str] = set()  # ids of the cursor's second already handed out
        offset = 0
        self.changes_total = None
        while True:
            params: dict[str, Any] = {"orders[udate]": "ASC", "limit": page_size, "offset": offset}
            if cursor is not None:
                # "after" is strict: a second earlier keeps the cursor's own second in the answer.
                params["filters[updated_after]"] = (cursor - timedelta(seconds=1)).isoformat()
            answer = self._get("contacts", params)
            page = answer.get("contacts") or []
            if self.changes_total is None and str(answer.get("meta", {}).get("total", "")).isdigit():
                self.changes_total = int(answer["meta"]["total"])  # the first page's filter matches the whole read
            if offset and (not page or str(page[0]["id"]) not in seen):
                offset = 0
                continue
            fresh = [c for c in page if cursor is None or _parse(c["udate"]) > cursor
                     or (_parse(c["udate"]) == cursor and str(c["id"]) not in seen)]
            if fresh:
                yield self._records(fresh, wanted)
            if len(page) < page_size:
                return
            last = _parse(page[-1]["udate"])
            if last == cursor:  # the whole page was of the cursor's second: page on within it
                seen.update(str(c["id"]) for c in page)
                offset += len(page) - 1
            else:
                cursor, seen = last, {str(c["id"]) for c in page if _parse(c["udate"]) == last}
                offset = len(seen) - 1

    def fetch(self, object_name: str, ids: Iterable[str], fields: Iterable[str] = ()) -> list[Record]:
        """Contacts by id, 100 a call (plus the per-contact cost of ``fields``, see ``changes``);
        unknown and deleted ids are left out."""
        _check_object(object_name)
        wanted = self._wanted(fields)
        records: list[Record] = []
        unique = list(dict.fromkeys(str(i) for i in ids))
        for start in range(0, len(unique), PAGE_SIZE):
            chunk = unique[start:start + PAGE_SIZE]
            page = self._get("contacts", [("ids[]", i) for i in chunk] + [("limit", PAGE_SIZE)]).get("contacts") or []
            records += self._records(page, wanted)
        return records

    def find(self, object_name: str, field: str, values: Iterable[str], fields: Iterable[str] = ()) -> list[Record]:
        """Contacts whose ``email`` (any case) is one of ``values``: one call per email, as the
        list endpoint filters on one email at a time. ``field="id"`` fetches by id."""
        _check_object(object_name)
        if field == "id":
            return self.fetch(object_name, values, fields)
        if field.lower() != "email":
            raise NotSupported(f"ActiveCampaign contacts can be looked up by email or id, not by {field}.")
        wanted = self._wanted(fields)
        found: list[Record] = []
        for email in dict.fromkeys(v.strip() for v in values if v and v.strip()):
            found += self._records(self._get("contacts", {"email": email}).get("contacts") or [], wanted)
        return found

    def _wanted(self, fields: Iterable[str]) -> tuple[list[CustomField], bool]:
        """The custom fields and whether the tags a read must fetch; standard fields always come."""
        names = list(fields)
        custom = []
        for name in dict.fromkeys(n for n in names if n not in STANDARD_NAMES and n not in ("id", TAGS)):
            spec = self._custom_field(name)
            if spec is None:
                raise ValidationFailed(f"ActiveCampaign has no contact field {name}.", field=name)
            custom.append(spec)
        return custom, TAGS in names

    def _records(self, contacts: list[dict], wanted: tuple[list[CustomField], bool]) -> list[Record]:
        custom, tags = wanted
        records = []
        for contact in contacts:
            contact_id = str(contact["id"])
            values: dict[str, Any] = {name: contact.get(name) or None for name in STANDARD_NAMES}
            if custom:
                answer = self._get(f"contacts/{contact_id}/fieldValues").get("fieldValues") or []
                stored = {str(v["field"]): v.get("value") for v in answer}
                values.update({f.perstag: _neutral_value(f, stored.get(f.id)) for f in custom})
            if tags:
                values[TAGS] = self._contact_tag_names(contact_id)
            records.append(Record(id=contact_id, object="contact", fields=values,
                                  modified_at=_parse(contact["udate"]).isoformat() if contact.get("udate") else None))
        return records

    # --- writing ------------------------------------------------------------------------------
    def upsert(self, object_name: str, records: list[dict], key: str = "email") -> list[WriteResult]:
        """Create or update each record by email, so that replaying a batch never creates a
        second contact. More than 10 records go through the Bulk Contact Importer (see
        ``_import_submit`` and ``_import_collect``); fewer through ``POST /contact/sync``, one
        call per record. Custom values go by field id (from one cached ``GET /fields``); a
        ``tags`` list is added (tags are never removed here). ``TAGS_IF_CREATED`` are applied
        by an import only (to what it created: ``WriteResult.tagged``); ``contact/sync`` leaves
        them to the caller.

        One ``WriteResult`` per record, ``created`` telling new from existing; a refused record
        fails alone (``ValidationFailed(field, reason)``). Rate limits and outages that outlast
        the back-off, and a refused key, abort the call: the records before were written, and
        writing them again is harmless.
        """
        _check_object(object_name)
        if key.lower() != "email":
            raise NotSupported(f"ActiveCampaign matches contacts by email, not by {key}.")
        if len(records) >= IMPORT_FROM:
            # Every import is sent before any is waited for: the importer works on the first
            # ones while the next are sent, so that one status read finds most of them done.
            submitted = [self._import_submit(records[start:start + IMPORT_MAX])
                         for start in range(0, len(records), IMPORT_MAX)]
            return [result for one in submitted for result in self._import_collect(one)]
        return [self._write_one("POST", "contact/sync", record) for record in records]

    def _import_submit(self, records: list[dict]) -> "_Import":
        """Send up to 250 contacts as one bulk import (see ``_import_collect`` for the rest).
        Contacts the portal can tell are bad fail alone before anything is sent."""
        results: list[WriteResult | None] = [None] * len(records)
        items, sent = [], []
        for index, record in enumerate(records):
            try:
                items.append(self._import_item(record))
                sent.append(index)
            except ValidationFailed as error:
                results[index] = WriteResult(None, error)
        submitted = _Import(records, results, items, sent, sent_at=time.monotonic())
        if not items:
            return submitted
        try:
            answer = self._call("POST", "import/bulk_import", body={"contacts": items, "exclude_automations": False},
                                idempotent=False)[1]
        except Unavailable as error:
            if error.code != ANSWER_LOST:
                raise
            answer = {}
        except (AuthExpired, RateLimited):
            raise
        except ConnectorError as error:  # the request as a whole was refused (400)
            submitted.refused = error
            return submitted
        submitted.batch_id = str(answer.get("batchId") or "")
        return submitted

    def _import_collect(self, submitted: "_Import") -> list[WriteResult]:
        """Wait for a submitted import (status reads with back-off, bounded) and learn each
        contact's id: a created one from the ids the status gives (one read per 100), one
        that existed by its email (a call each).

        A contact the import refused fails alone (the vendor names only its email, not why).
        An import whose answer was lost, or that is not done in time, is never sent again: its
        records fail retriably with ``ANSWER_LOST``, and their retry looks them up by email.
        ``TAGS_IF_CREATED`` ride along in the import; a contact that turns out to have existed
        loses them again (two calls), as they are owed only to what the write created. An
        import notifies no webhook ("Bulk import contacts"): its results are ``silent``.
        """
        records, results, items, sent = submitted.records, submitted.results, submitted.items, submitted.sent
        if not items:
            return [r for r in results if r is not None]
        if submitted.refused is not None:
            for index in sent:
                results[index] = WriteResult(None, submitted.refused)
            return results  # type: ignore[return-value]
        try:
            status = self._import_wait(submitted.batch_id, len(items), since=submitted.sent_at)
        except (Unavailable, RateLimited):  # queued, perhaps carried out: never sent again
            status = None
        if status is None:
            lost = Unavailable("ActiveCampaign's import did not report back in time; its contacts may have been "
                               "written.", code=ANSWER_LOST)
            for index in sent:
                results[index] = WriteResult(None, lost)
            return results  # type: ignore[return-value]
        failed = {str(email).strip().lower() for email in status.get("failure") or []}
        created: dict[str, str] = {}
        ids = [str(i) for i in status.get("success") or []]
        for start in range(0, len(ids), PAGE_SIZE):
            chunk = ids[start:start + PAGE_SIZE]
            page = self._get("contacts", [("ids[]", i) for i in chunk] + [("limit", PAGE_SIZE)]).get("contacts") or []
            created.update({str(c.get("email") or "").strip().lower(): str(c["id"]) for c in page})
        existing: dict[str, str] = {}
        claimed: set[str] = set()
        for index, item in zip(sent, items):
            email = item["email"].lower()
            record = records[index]
            if email in failed:
                results[index] = WriteResult(None, ValidationFailed(
                    "ActiveCampaign's bulk import refused this contact (it does not say why: check the email and "
                    "the custom field values).", field="", code="import_failed"))
                continue
            if email in created:
                first = email not in claimed  # the same email twice: the first one created it
                claimed.add(email)
                results[index] = WriteResult(created[email], created=first, tagged=first and bool(record.get(TAGS_IF_CREATED)),
                                             silent=True)
                continue
            if email not in existing:
                found = self._get("contacts", {"email": item["email"]}).get("contacts") or []
                existing[email] = str(found[0]["id"]) if found else ""
            if not existing[email]:
                results[index] = WriteResult(None, Unavailable(
                    "ActiveCampaign's import reported this contact written, but it cannot be found; it is tried again."))
                continue
            owed_only_if_created = [t for t in record.get(TAGS_IF_CREATED) or [] if t not in (record.get(TAGS) or [])]
            if owed_only_if_created:
                self.remove_tags(existing[email], owed_only_if_created)
            results[index] = WriteResult(existing[email], created=False, silent=True)
        return results  # type: ignore[return-value]

    def _import_item(self, record: dict) -> dict:
        """One contact of a bulk import (snake_case keys, custom fields by id, tags by name)."""
        email = str(record.get("email") or "").strip()
        if not email:
            raise ValidationFailed("An email address is required.", field="email")
        item: dict[str, Any] = {"email": email}
        fields = []
        for name, value in record.items():
            if name in ("id", "email", TAGS, TAGS_IF_CREATED):
                continue
            if name in IMPORT_KEYS:
                item[IMPORT_KEYS[name]] = "" if value is None else str(value)
            elif name in STANDARD_NAMES:
                raise ValidationFailed(f"{name} cannot be written on an ActiveCampaign contact.", field=name)
            else:
                spec = self._custom_field(name)
                if spec is None:
                    raise ValidationFailed(f"ActiveCampaign has no contact field {name}.", field=name)
                fields.append({"id": int(spec.id), "value": _wire_value(spec, value)})
        if fields:
            item["fields"] = fields
        tags = list(dict.fromkeys([*(record.get(TAGS) or []), *(record.get(TAGS_IF_CREATED) or [])]))
        if tags:
            item["tags"] = tags
        return item

    def _import_wait(self, batch_id: str, size: int, *, since: float | None = None) -> dict | None:
        """Read an import's status, with back-off, until it is over; None if it is not done
        within ``IMPORT_WAIT`` seconds (or the vendor gave no batch id). ``since``: when the
        import was sent (``time.monotonic()``); the time gone by since counts as waited."""
        if not batch_id:
            return None
        delay, waited = max(IMPORT_FIRST_POLL, IMPORT_POLL_PER_CONTACT * size), 0.0
        gone = 0.0 if since is None else max(0.0, time.monotonic() - since)
        while waited < IMPORT_WAIT:
            self.sleep(max(0.0, delay - gone))
            gone = 0.0
            waited += delay
            status = self._get("import/info", {"batchId": batch_id})
            if status.get("status") in ("completed", "failed", "interrupted"):
                return status if status["status"] == "completed" else None
            delay = min(delay * 2, IMPORT_POLL_CAP)
        return None

    def create(self, object_name: str, records: list[dict]) -> list[WriteResult]:
        """Create contacts (``POST /contacts``), one call per record; an email in use fails
        alone with ``Duplicate``. Prefer ``upsert``, which cannot create twice."""
        _check_object(object_name)
        return [self._write_one("POST", "contacts", record) for record in records]

    def update(self, object_name: str, records: list[dict]) -> list[WriteResult]:
        """Update contacts by their ``Id`` (``PUT /contacts/{id}``), one call per record."""
        _check_object(object_name)
        results = []
        for record in records:
            contact_id = record.get("Id")
            if not contact_id:
                results.append(WriteResult(None, ValidationFailed("The record has no Id.", field="Id")))
                continue
            values = {k: v for k, v in record.items() if k != "Id"}
            results.append(self._write_one("PUT", f"contacts/{contact_id}", values, contact_id=str(contact_id)))
        return results

    def delete(self, ids: list[str]) -> list[WriteResult]:
        """Delete contacts by id, one call each; an unknown id fails alone with NotFound."""
        results = []
        for contact_id in ids:
            try:
                self._call("DELETE", f"contacts/{contact_id}")
                results.append(WriteResult(str(contact_id)))
            except NotFound as error:
                results.append(WriteResult(str(contact_id), error))
        return results

    def _write_one(self, method: str, path: str, record: dict, *, contact_id: str | None = None) -> WriteResult:
        """Write one contact; a refusal of this record becomes its WriteResult's error."""
        try:
            body, sent = self._contact_body(record, require_email=method == "POST")
            try:
                status, answer = self._call(method, path, body={"contact": body}, idempotent=False)
            except ValidationFailed as error:
                raise _named(error, sent) from None
            written = str(answer["contact"]["id"])
            if record.get(TAGS):
                self.add_tags(written, record[TAGS])
            # TAGS_IF_CREATED cost a call each here as anywhere: left to the caller's follow-up.
            return WriteResult(written, created=status == 201 if method == "POST" else False)
        except Unavailable as error:
            if error.code != ANSWER_LOST:
                raise
            return WriteResult(contact_id, error)  # retriable; its retry looks it up by email first
        except (AuthExpired, RateLimited):
            raise
        except ConnectorError as error:
            return WriteResult(contact_id, error)

    def _contact_body(self, record: dict, *, require_email: bool) -> tuple[dict, list[CustomField]]:
        """The ``contact`` body of a record, and the custom fields in the order sent."""
        if require_email and not str(record.get("email") or "").strip():
            raise ValidationFailed("An email address is required.", field="email")
        body: dict[str, Any] = {}
        values, sent = [], []
        for name, value in record.items():
            if name in ("id", TAGS, TAGS_IF_CREATED):
                continue
            if name in WRITABLE_FIELDS:
                body[name] = "" if value is None else str(value)
            elif name in STANDARD_NAMES:
                raise ValidationFailed(f"{name} cannot be written on an ActiveCampaign contact.", field=name)
            else:
                spec = self._custom_field(name)
                if spec is None:
                    raise ValidationFailed(f"ActiveCampaign has no contact field {name}.", field=name)
                values.append({"field": spec.id, "value": _wire_value(spec, value)})
                sent.append(spec)
        if values:
            body["fieldValues"] = values
        return body, sent

    # --- tags ---------------------------------------------------------------------------------
    def add_tags(self, contact_id: str, names: Iterable[str]) -> None:
        """Apply tags by name, creating a tag the account lacks; applying a tag the contact
        has is harmless. One call per tag, plus a look-up per name not seen before."""
        for name in dict.fromkeys(names):
            tag_id = self._tag_id(name, create=True)
            self._call("POST", "contactTags", body={"contactTag": {"contact": str(contact_id), "tag": tag_id}})

    def remove_tags(self, contact_id: str, names: Iterable[str]) -> None:
        """Remove tags by name (those the contact lacks are ignored): one call to read the
        contact's tags and one per tag removed."""
        tag_ids = {self._tag_id(name, create=False) for name in names} - {None}
        if not tag_ids:
            return
        for applied in self._get(f"contacts/{contact_id}/contactTags").get("contactTags") or []:
            if str(applied["tag"]) in tag_ids:
                self._call("DELETE", f"contactTags/{applied['id']}")

    def contacts_with_tag(self, name: str, fields: Iterable[str] = ()) -> Iterator[list[Record]]:
        """Pages of the contacts carrying tag ``name``, by id (``tagid`` + ``id_greater``,
        robust to changes while paging); nothing if the account has no such tag."""
        tag_id = self._tag_id(name, create=False)
        if tag_id is None:
            return
        wanted = self._wanted(fields)
        last = 0
        while True:
            params = {"tagid": tag_id, "id_greater": last, "orders[id]": "ASC", "limit": PAGE_SIZE}
            page = self._get("contacts", params).get("contacts") or []
            if page:
                yield self._records(page, wanted)
            if len(page) < PAGE_SIZE:
                return
            last = int(page[-1]["id"])

    def _tag_id(self, name: str, *, create: bool) -> str | None:
        """The id of the tag spelled exactly ``name`` (the lowest, as names need not be
        unique), found by ``search``; created when missing and ``create``. Cached."""
        if name in self._tag_ids:
            return self._tag_ids[name]
        matches: list[dict] = []
        for page in self._pages("tags", "tags", {"search": name}):
            matches += [t for t in page if t.get("tag") == name]
        if matches:
            tag_id = str(min(matches, key=lambda t: int(t["id"]))["id"])
        elif create:
            tag = self._call("POST", "tags", body={"tag": {"tag": name, "tagType": "contact", "description": ""}})[1]["tag"]
            tag_id = str(tag["id"])
        else:
            return None
        self._tag_ids[name] = tag_id
        if self._tag_names is not None:
            self._tag_names[tag_id] = name
        return tag_id

    def _contact_tag_names(self, contact_id: str) -> list[str]:
        applied = self._get(f"contacts/{contact_id}/contactTags").get("contactTags") or []
        if self._tag_names is None or any(str(a["tag"]) not in self._tag_names for a in applied):
            # Every tag's name, read once (and again when a tag appears that was made since).
            self._tag_names = {str(t["id"]): t["tag"] for page in self._pages("tags", "tags") for t in page}
        return [self._tag_names[str(a["tag"])] for a in applied if str(a["tag"]) in self._tag_names]

    # --- webhooks -----------------------------------------------------------------------------
    def webhook_register(self, url: str, events: Iterable[str] = tuple(WEBHOOK_EVENTS), *,
                         sources: Iterable[str] = WEBHOOK_SOURCES, name: str = "CRM integration portal") -> str:
        """Make ``url`` receive ``events`` (neutral names: subscribed, unsubscribed, updated,
        tag_added, tag_removed) caused from ``sources``; returns the hook's id. Idempotent: a
        hook with the same URL is reused (widened if it lacks events or sources).

        The vendor turns a hook inactive for good when the receiver answers 410 and still lists
        it, with nothing to tell it apart over the API: answer 410 only to stop a hook, and
        unregister then register to start again.
        """
        unknown = [e for e in events if e not in WEBHOOK_EVENTS]
        if unknown:
            raise ValidationFailed(f"Unknown webhook events: {', '.join(unknown)}.", field="events")
        wanted_events = [WEBHOOK_EVENTS[e] for e in dict.fromkeys(events)]
        wanted_sources = list(dict.fromkeys(sources))
        # Matched here, not with ``filters[url]``: the address may carry the connection's
        # secret (as its user-info), which must never stand in a request line.
        hooks = (hook for page in self._pages("webhooks", "webhooks") for hook in page)
        for hook in hooks:
            if hook.get("url") != url:
                continue
            have_events, have_sources = list(hook.get("events") or []), list(hook.get("sources") or [])
            if not set(wanted_events) <= set(have_events) or not set(wanted_sources) <= set(have_sources):
                self._call("PUT", f"webhooks/{hook['id']}", body={"webhook": {
                    "events": list(dict.fromkeys(have_events + wanted_events)),
                    "sources": list(dict.fromkeys(have_sources + wanted_sources)),
                }})
            return str(hook["id"])
        body = {"webhook": {"name": name, "url": url, "events": wanted_events, "sources": wanted_sources, "listid": 0}}
        return str(self._call("POST", "webhooks", body=body)[1]["webhook"]["id"])

    def webhook_unregister(self, webhook_id: str) -> None:
        """Delete a hook; one already gone is fine."""
        try:
            self._call("DELETE", f"webhooks/{webhook_id}")
        except NotFound:
            pass

    @staticmethod
    def parse_webhook(form: Mapping[str, Any]) -> WebhookEvent:
        """Turn a delivered webhook form (PHP-bracket keys: ``contact[email]``,
        ``contact[fields][company_size]``; values as strings or lists of strings) into a
        neutral event. A new contact arrives as ``subscribe`` to list 0 and comes out as
        ``created``; custom fields are keyed by personalisation tag in upper case, as
        ``describe`` names them."""
        def value(key: str) -> str:
            raw = form.get(key)
            if isinstance(raw, (list, tuple)):
                raw = raw[-1] if raw else None
            return "" if raw is None else str(raw)

        vendor_type = value("type")
        if not vendor_type:
            raise ValidationFailed("Not an ActiveCampaign webhook: it has no type.", field="type")
        if vendor_type == "subscribe" and value("list") in ("", "0"):
            event_type = "created"
        else:
            event_type = {v: k for k, v in WEBHOOK_EVENTS.items()}.get(vendor_type, vendor_type)
        fields: dict[str, Any] = {name: value(key) or None for key, name in _WEBHOOK_STANDARD.items() if key in form}
        for key in form:
            match = _FORM_FIELD.fullmatch(key)
            if match:
                text = value(key)
                parts = [p for p in text.split("||") if p]
                fields[match.group(1).upper()] = parts if text.startswith("||") else (text or None)
        occurred = value("date_time")
        try:
            occurred_at = _parse(occurred).isoformat() if occurred else None
        except ValueError:
            occurred_at = None
        return WebhookEvent(
            type=event_type, record_id=value("contact[id]"), email=value("contact[email]") or None, fields=fields,
            tags=[t.strip() for t in value("contact[tags]").split(",") if t.strip()], tag=value("tag") or None,
            occurred_at=occurred_at, initiated_from=value("initiated_from"), object="contact",
        )

    def webhook_changes(self, delivery: WebhookDelivery) -> list[WebhookEvent] | None:
        """A verified delivery's one event (see ``parse_webhook``). The vendor sends the whole
        contact with every event, not what changed: ``fields`` is the contact as it is now. A
        change of its tags comes as an event of its own (``tag_added``, ``tag_removed``),
        which names the tag. None for a body that is not one of the vendor's forms."""
        form: dict[str, list[str]] = {}
        for key, value in parse_qsl(delivery.body.decode("utf-8", "replace"), keep_blank_values=True):
            form.setdefault(key, []).append(value)
        try:
            return [self.parse_webhook(form)]
        except ValidationFailed:
            return None


# --- helpers --------------------------------------------------------------------------------------
def _check_object(object_name: str) -> None:
    if object_name != "contact":
        raise NotSupported(f"The ActiveCampaign connector reads and writes contacts, not {object_name}.")


def _account_name(base_url: str) -> str:
    """``acme`` for ``https://acme.api-us1.com``; the last path segment for a URL with a path
    (the sandbox's ``…/activecampaign/acme-1a2b3c``)."""
    parts = urlsplit(base_url)
    path = parts.path.strip("/")
    if path:
        return path.rsplit("/", 1)[-1]
    return (parts.hostname or base_url).split(".")[0]


def _parse(text: str) -> datetime:
    """An ISO-8601 moment (``2018-09-28T13:50:41-05:00``, ``…Z``) in UTC; naive means UTC."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _neutral_value(spec: CustomField, value: Any) -> Any:
    """A stored value in neutral form: multi-value fields (``||A||B||``) as lists, blanks as None."""
    text = "" if value is None else str(value)
    if spec.multi:
        return [part for part in text.split("||") if part]
    return text or None


def _wire_value(spec: CustomField, value: Any) -> str:
    """A custom value as the vendor takes it: multi-value fields as ``||A||B||``, from a list
    or from the neutral ``A;B`` (a multi-select picklist's value in the other systems)."""
    if value is None:
        return ""
    if spec.multi:
        parts = value if isinstance(value, (list, tuple, set)) else [p for p in re.split(r";|\|\|", str(value)) if p]
        return f"||{'||'.join(str(p) for p in parts)}||" if parts else ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _named(error: ValidationFailed, sent: list[CustomField]) -> ValidationFailed:
    """Name the custom field a ``fieldValues/N/...`` pointer refers to by its personalisation tag."""
    match = re.match(r"fieldValues/(\d+)", error.field)
    if match and int(match.group(1)) < len(sent):
        return ValidationFailed(error.message, field=sent[int(match.group(1))].perstag, code=error.code)
    return error


def _retry_after(response: requests.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None


def _json(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
