"""The vendor-neutral connector contract.

A connector wraps one vendor account (one ``Connection`` row) and is the only code that
knows the vendor's URLs and JSON. Everything it returns is plain data; everything it raises
is a :class:`ConnectorError` subclass — ``requests`` and client-library exceptions never
leave ``connectors/``.

Errors come in two families (see ``retriable``): a retriable error (rate limit, 5xx,
timeout) is worth trying again later; a permanent one (bad credentials, a validation
failure) is not, and its message is stored and shown to the admin as it is, so it must
never contain a secret.
"""
from __future__ import annotations

import base64
import binascii
import hmac
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

log = logging.getLogger(__name__)
T = TypeVar("T")


# --- errors -------------------------------------------------------------------------------
class ConnectorError(Exception):
    """Base of every error a connector raises. ``message`` is safe to store and show."""

    retriable: ClassVar[bool] = False

    def __init__(self, message: str, *, code: str = ""):
        super().__init__(message)
        self.message = message
        self.code = code


class RateLimited(ConnectorError):
    """The vendor asked us to slow down (429, 503, a daily limit). Retry after ``retry_after`` s.

    A momentary refusal (per second, per ten seconds) is worth retrying with back-off inside
    a run; a spent ``daily`` allowance is not: the run pauses until it returns."""

    retriable = True

    def __init__(self, message: str, *, retry_after: float | None = None, code: str = "", daily: bool = False):
        super().__init__(message, code=code)
        self.retry_after = retry_after
        self.daily = daily


class Unavailable(ConnectorError):
    """The vendor could not be reached or answered 5xx: a passing fault."""

    retriable = True


# The code of an Unavailable whose request may have been carried out: its answer was lost (a
# read timeout). A write failing so is never sent again blindly; the record is looked for first.
ANSWER_LOST = "ANSWER_LOST"


class AuthExpired(ConnectorError):
    """Credentials were refused or expired and could not be refreshed: the admin must act."""


class NotFound(ConnectorError):
    """The record or resource does not exist (or was deleted)."""


class Duplicate(ConnectorError):
    """The vendor refused a record as a duplicate of ``matching_ids``."""

    def __init__(self, message: str, *, matching_ids: list[str] | None = None, code: str = ""):
        super().__init__(message, code=code)
        self.matching_ids = matching_ids or []


class ValidationFailed(ConnectorError):
    """The vendor refused a record's data: ``field`` (may be empty) and the vendor's reason."""

    def __init__(self, message: str, *, field: str = "", code: str = ""):
        super().__init__(message, code=code)
        self.field = field


class PermissionDenied(ConnectorError):
    """The account may not do this (field-level security, sharing, missing permission)."""


class NotSupported(ConnectorError):
    """The vendor (or this connector) does not offer the operation."""


class WebhookRefused(ConnectorError):
    """A change notification that is not genuine (no or wrong credentials or signature, too
    old) or, with ``malformed``, whose body cannot be read. The message never holds a secret."""

    def __init__(self, message: str, *, malformed: bool = False, code: str = ""):
        super().__init__(message, code=code)
        self.malformed = malformed


# --- plain data ---------------------------------------------------------------------------
@dataclass(frozen=True)
class CredentialField:
    """One credential a vendor needs; ``secret`` ones are encrypted and never shown back."""

    name: str
    label: str
    secret: bool = True
    help_text: str = ""
    required: bool = True


@dataclass
class CheckResult:
    """What "test connection" learnt about the account."""

    account_name: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Record:
    """A vendor record in neutral form. ``cursor``, where the vendor's change feed has one, is
    the exact place after this record from which ``changes`` resumes (finer than
    ``modified_at`` when many records share a modification instant)."""

    id: str
    object: str
    fields: dict[str, Any]
    modified_at: str | None = None
    cursor: str | None = None
    # Ids of records a vendor merged into this one under a new id (HubSpot does): whatever was
    # linked to them follows this record.
    merged_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class FieldDescription:
    """One field of a vendor object, as its describe call reports it."""

    name: str
    label: str
    type: str
    required: bool = False
    custom: bool = False
    createable: bool = True
    updateable: bool = True
    unique: bool = False
    external_id: bool = False
    length: int | None = None
    picklist_values: tuple[str, ...] = ()
    restricted: bool = False  # only ``picklist_values`` are taken
    reference_to: tuple[str, ...] = ()


@dataclass(frozen=True)
class RecordType:
    id: str
    name: str
    developer_name: str
    is_person_type: bool = False
    is_default: bool = False
    active: bool = True


@dataclass(frozen=True)
class ObjectSummary:
    """One object of an account that syncs may read or write, as the account lists it."""

    name: str  # what ``describe``, ``changes`` and the writes take
    label: str


@dataclass
class ObjectDescription:
    name: str
    label: str
    fields: list[FieldDescription]
    record_types: list[RecordType] = field(default_factory=list)

    def field(self, name: str) -> FieldDescription | None:
        return next((f for f in self.fields if f.name.lower() == name.lower()), None)


# A record handed to a write may carry, under this key, tags (names) to apply only if the
# write creates it, where the vendor has tags: a vendor that can write them with the record
# saves a call per tag, and says so in ``WriteResult.tagged``.
TAGS_IF_CREATED = "tags_if_created"


@dataclass
class WriteResult:
    """The outcome for one record of a batch write: an id, or the error that refused it.
    ``tagged``: the write created the record and applied its ``TAGS_IF_CREATED`` itself.
    ``silent``: the vendor sends no change notification of this write (a bulk import)."""

    id: str | None
    error: ConnectorError | None = None
    created: bool | None = None
    tagged: bool = False
    silent: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class WebhookEvent:
    """A vendor's change notification in neutral form: what happened (``created``,
    ``updated``, ``subscribed``, ``unsubscribed``, ``tag_added``, ``tag_removed``, or the
    vendor's own word for anything else), to which record of which object (named as
    ``objects`` names it), its values as the notification carried them (named as
    ``describe`` names fields), and who caused it."""

    type: str
    record_id: str
    email: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    tag: str | None = None
    occurred_at: str | None = None
    initiated_from: str = ""
    object: str = ""


@dataclass(frozen=True)
class WebhookDelivery:
    """A change notification as it reached the portal: what a connector needs to tell
    whether it is genuine. ``url`` is the address as the vendor called it (the registered
    one); ``headers`` are matched case-insensitively by ``header``."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str:
        wanted = name.lower()
        return next((str(v) for k, v in self.headers.items() if k.lower() == wanted), "")


@dataclass
class MergeResult:
    master_id: str
    merged_ids: list[str]
    updated_related_ids: list[str] = field(default_factory=list)


# --- the contract ---------------------------------------------------------------------------
class Connector:
    """Base class: one subclass per vendor, each overriding the operations it supports.

    Subclasses count every HTTP request they make in ``api_calls`` so that the engine can
    store the cost of a run, and call ``on_credentials_changed(dict)`` when the vendor hands
    out new tokens, so that the caller can store them (encrypted).
    """

    kind: ClassVar[str] = ""  # the Connection.kind it serves
    label: ClassVar[str] = ""  # the vendor's name as people know it, for messages
    # How long after its modification stamp a change may still be missing from ``changes``
    # (a transaction committed after its stamp, a search index behind the writes). Reads
    # start this far back, and the engine drops what it has already applied.
    read_lag: ClassVar[timedelta] = timedelta(0)
    # The finest step at which the vendor compares modification stamps.
    stamp_resolution: ClassVar[timedelta] = timedelta(milliseconds=1)

    # The vendor refuses email addresses with characters outside ASCII (where its documentation
    # says so); pre-flight checks then refuse them before sending.
    ascii_email_only: ClassVar[bool] = False

    # Records handed to one write call (the vendor's batch, or how often outcomes are stored
    # where the vendor writes one record a call).
    write_batch_size: ClassVar[int] = 200
    # False where the vendor looks no record up by id or key short of reading them all, and
    # its upsert by the natural key takes every field (Zoho Campaigns): the engine then
    # writes a linked partner whose source changed without reading it first, when every
    # mapping overwrites, so that an update costs its write and not a read of everything.
    reads_partners: ClassVar[bool] = True
    # Where the vendor has a bulk write for large loads: a write of at least
    # ``bulk_write_from`` records uses it, and the engine hands one create up to
    # ``bulk_batch_size`` records when a page brings that many creates (None: no bulk write).
    bulk_write_from: ClassVar[int | None] = None
    bulk_batch_size: ClassVar[int | None] = None
    # Where the vendor has a bulk export for large reads: a read of ``changes`` with more than
    # ``bulk_read_from`` records to go uses it (None: no bulk read). A connector that has one
    # takes the keyword ``bulk_read_from``, by which a connection sets its own threshold.
    bulk_read_from: int | None = None

    def __init__(self, *, base_url: str, credentials: dict[str, str], on_credentials_changed=None, max_retries: int = 4,
                 backoff: float = 0.5, sleep=time.sleep):
        self.max_retries = max_retries  # retries of passing faults (rate limits, 5xx) before giving up
        self.backoff = backoff  # seconds before the first retry; doubled each time
        self.sleep = sleep
        self.base_url = base_url.rstrip("/")
        self.credentials = dict(credentials)
        self.on_credentials_changed = on_credentials_changed
        self.api_calls = 0
        self.api_usage: tuple[int, int] | None = None  # (used, limit) of the day, where the vendor says
        # How many records the read under way (``changes``) gives in all, where the vendor says
        # so with its first page (set by then); None where it does not. A run's progress shows it.
        self.changes_total: int | None = None
        # The portal's Connection this connector serves, for vendors whose records the portal
        # itself receives and keeps (captured contacts); None when built without one.
        self.connection_id: int | None = None

    def retrying(self, attempt: Callable[[], T], *, what: str = "call", mend: Callable[[ConnectorError], bool] | None = None) -> T:
        """Run ``attempt`` (one request, raising a ConnectorError when it fails) and run it
        again after a passing fault: after the vendor's ``Retry-After`` where it sends one,
        else with exponential back-off, ``max_retries`` times at most. A spent daily
        allowance is not retried. ``mend(error)`` may put an error right (log in again) and
        return True to try again at once."""
        tries = 0
        while True:
            try:
                return attempt()
            except ConnectorError as error:
                if mend is not None and mend(error):
                    continue
                if not error.retriable or tries >= self.max_retries or getattr(error, "daily", False):
                    raise
                delay = self.backoff * 2**tries
                if isinstance(error, RateLimited) and error.retry_after is not None:
                    delay = error.retry_after
                tries += 1
                log.info("%s %s (%s); retry %d in %.1fs", self.label, what, error.code or "network", tries, delay)
                self.sleep(delay)

    def check(self) -> CheckResult:
        """Authenticate and read the account's identity; raise a ConnectorError if that fails."""
        raise NotSupported(f"Testing a {self.label} connection is not available yet.")

    @classmethod
    def app_record_url(cls, base_url: str, object_name: str, record_id: str) -> str | None:
        """Where a person opens the record in the vendor's own app (from the connection's
        URL alone, without a call), or None where that cannot be told."""
        return None

    def natural_key(self, object_name: str) -> str | None:
        """The field by which the vendor itself keeps records of ``object_name`` unique and
        upserts them (e.g. an email), or None. Creates through it are idempotent."""
        return None

    def _unsupported(self, what: str):
        return NotSupported(f"{what} {self.label or 'this system'} is not available yet.")

    def objects(self) -> list[ObjectSummary]:
        """The objects of the account that a sync may read or write, each by the name the
        other operations take and the label people know it by, so that a sync's objects are
        picked from the account's own list rather than typed."""
        raise self._unsupported("Listing the objects of")

    def describe(self, object_name: str) -> ObjectDescription:
        """The object's fields (name, label, type, required, custom, picklist values) and record types."""
        raise self._unsupported("Describing objects of")

    def changes(self, object_name: str, since: str | None, fields) -> Iterator[list[Record]]:
        """Pages of records modified after the watermark ``since`` (all when None), oldest
        first, one page in memory at a time; the last record of a page gives the watermark
        from which the next read resumes: its ``cursor`` when set, else its ``modified_at``."""
        raise self._unsupported("Reading changes from")

    def settled_watermark(self, last: Record | None, watermark: str, read_started: datetime, *, exhausted: bool) -> str:
        """Where the next read of ``changes`` starts, after a page ending with ``last`` (None
        when the read found nothing) of a read that began at ``read_started`` from
        ``watermark``; ``exhausted`` when the read came to its end.

        Past the read lag every change up to a stamp is visible, so a settled record's cursor
        is exact (and at the end of a read, the next read starts just after its instant). A
        record younger than the lag may still have unseen neighbours: the watermark then
        stays ``read_lag`` before the read began, and the next read reads that window again.
        """
        if last is None:
            return watermark
        exact = last.cursor or last.modified_at or watermark
        if not self.read_lag:
            return exact
        settled_until = read_started - self.read_lag
        stamp = parse_instant(last.modified_at) if last.modified_at else None
        if stamp is not None and stamp + self.stamp_resolution <= settled_until:
            return self.format_instant(self._floor(stamp) + self.stamp_resolution) if exhausted else exact
        start = self._floor(settled_until)
        if stamp is not None:  # a stamp in the second before ``start``: what follows it in the read may too
            start = min(start, self._floor(stamp))
        earlier = watermark_instant(watermark)
        if earlier is not None and earlier > start:
            return watermark
        return self.format_instant(start)

    def _floor(self, moment: datetime) -> datetime:
        step = self.stamp_resolution
        epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
        return epoch + (moment - epoch) // step * step

    def format_instant(self, moment: datetime) -> str:
        """A bare instant as a watermark ``changes`` reads from (inclusive)."""
        moment = moment.astimezone(timezone.utc)
        return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"

    def fetch(self, object_name: str, ids, fields) -> list[Record]:
        """Records by id; ids that do not exist (any more) are left out."""
        raise self._unsupported("Reading records from")

    def find(self, object_name: str, field: str, values, fields) -> list[Record]:
        """Records whose ``field`` equals one of ``values`` (case-insensitive for emails), most
        recently modified first."""
        raise self._unsupported("Searching records in")

    def create(self, object_name: str, records: list[dict]) -> list[WriteResult]:
        """Create records with the vendor's batch endpoint; one result per record, in order."""
        raise self._unsupported("Creating records in")

    def update(self, object_name: str, records: list[dict]) -> list[WriteResult]:
        """Update records (each with its ``Id``); one result per record, in order."""
        raise self._unsupported("Updating records in")

    def upsert(self, object_name: str, records: list[dict], key: str) -> list[WriteResult]:
        """Insert or update by ``key``; must be idempotent: replaying a batch creates nothing twice."""
        raise self._unsupported("Upserting records in")

    def delete(self, ids: list[str]) -> list[WriteResult]:
        raise self._unsupported("Deleting records in")

    # --- optional operations: each vendor offers some; callers catch NotSupported ----------------
    def deleted(self, object_name: str, since: str) -> list[Record]:
        """Records deleted (or merged away) at or after ``since``, each with the record it was
        merged into where the vendor says (``fields["MasterRecordId"]``)."""
        raise self._unsupported("Reading deletions from")

    def merged_into(self, object_name: str, ids) -> dict[str, str]:
        """For records merged away, the id of the record each was merged into."""
        raise self._unsupported("Following merges in")

    def merge(self, object_name: str, master_id: str, duplicate_ids: list[str], chosen_values: dict | None = None) -> MergeResult:
        """Merge the duplicates into the master (whose id may change: see ``MergeResult``),
        writing ``chosen_values`` onto the survivor."""
        raise self._unsupported("Merging records in")

    def activity_counts(self, ids) -> dict[str, int]:
        """How much history (notes, activities) each record has, by id."""
        raise self._unsupported("Counting activities in")

    def add_tags(self, record_id: str, tags: list[str]) -> None:
        raise self._unsupported("Tagging records in")

    def record_url(self, object_name: str, record_id: str) -> str:
        """Where a person opens the record in the vendor's app ("" when unknown)."""
        return self.app_record_url(self.base_url, object_name, record_id) or ""

    def webhook_register(self, url: str) -> str:
        """Ask the vendor to post change notifications to ``url``."""
        raise self._unsupported("Registering change notifications with")

    # The user name the portal's own notification credentials go under (see ``webhook_url``).
    WEBHOOK_USER: ClassVar[str] = "portal"

    def webhook_url(self, url: str, *, secret: str) -> str:
        """The address to register so that notifications reach ``url`` with proof of origin.

        By default the connection's ``secret`` rides in the address's user-info
        (``https://portal:SECRET@host/hooks/5/``), which HTTP clients send as basic
        authentication: never in the path, so never in an access log. A vendor that signs its
        deliveries overrides this (and ``webhook_verify``) to register ``url`` as it is."""
        parts = urlsplit(url)
        host = parts.netloc.rsplit("@", 1)[-1]
        return urlunsplit(parts._replace(netloc=f"{self.WEBHOOK_USER}:{quote(secret, safe='')}@{host}"))

    def webhook_changes(self, delivery: WebhookDelivery) -> list[WebhookEvent] | None:
        """What a genuine ``delivery`` (checked by ``webhook_verify`` first) says changed: one
        neutral event per record and change, with the values the vendor sent along. None
        where the connector cannot tell from a notification what changed (the default): it
        then counts as a change of anything. The portal trusts these only to recognise the
        notifications of its own writes; its runs still read every change themselves."""
        return None

    def webhook_verify(self, delivery: WebhookDelivery, *, secret: str, now_ms: int | None = None) -> None:
        """Raise WebhookRefused unless ``delivery`` is genuine. By default it must carry
        ``secret`` as the password of basic authentication (see ``webhook_url``)."""
        scheme, _, encoded = delivery.header("Authorization").partition(" ")
        if scheme.lower() != "basic" or not encoded.strip():
            raise WebhookRefused("The notification carries no credentials: register the notifications again, "
                                 "the address the vendor has is an old one.")
        try:
            _, _, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise WebhookRefused("The notification's credentials cannot be read.") from None
        if not secret or not hmac.compare_digest(password.encode(), secret.encode()):
            raise WebhookRefused("The notification's credentials do not match the connection's secret.")


# --- watermarks ----------------------------------------------------------------------------
CURSOR_SEPARATOR = "|"  # between a cursor's instant and the id of the record it stops after


def parse_instant(text: str) -> datetime:
    """A vendor's ISO timestamp (``Z``, ``+0000`` or ``+00:00``; naive means UTC)."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def watermark_instant(watermark: str) -> datetime | None:
    """The instant of a watermark, bare or a cursor; None when there is none (or it is no
    timestamp, such as a page token)."""
    text = (watermark or "").split(CURSOR_SEPARATOR, 1)[0]
    if not text:
        return None
    try:
        return parse_instant(text)
    except ValueError:
        return None
