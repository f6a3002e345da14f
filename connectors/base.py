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

from dataclasses import dataclass, field
from typing import Any, ClassVar


# --- errors -------------------------------------------------------------------------------
class ConnectorError(Exception):
    """Base of every error a connector raises. ``message`` is safe to store and show."""

    retriable: ClassVar[bool] = False

    def __init__(self, message: str, *, code: str = ""):
        super().__init__(message)
        self.message = message
        self.code = code


class RateLimited(ConnectorError):
    """The vendor asked us to slow down (429, 503, a daily limit). Retry after ``retry_after`` s."""

    retriable = True

    def __init__(self, message: str, *, retry_after: float | None = None, code: str = ""):
        super().__init__(message, code=code)
        self.retry_after = retry_after


class Unavailable(ConnectorError):
    """The vendor could not be reached or answered 5xx: a passing fault."""

    retriable = True


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


class NotSupported(ConnectorError):
    """The vendor (or this connector) does not offer the operation."""


# --- plain data ---------------------------------------------------------------------------
@dataclass(frozen=True)
class CredentialField:
    """One credential a vendor needs; ``secret`` ones are encrypted and never shown back."""

    name: str
    label: str
    secret: bool = True
    help_text: str = ""


@dataclass
class CheckResult:
    """What "test connection" learnt about the account."""

    account_name: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Record:
    """A vendor record in neutral form."""

    id: str
    object: str
    fields: dict[str, Any]
    modified_at: str | None = None


# --- the contract ---------------------------------------------------------------------------
class Connector:
    """Base class: one subclass per vendor, each overriding the operations it supports.

    Subclasses count every HTTP request they make in ``api_calls`` so that the engine can
    store the cost of a run, and call ``on_credentials_changed(dict)`` when the vendor hands
    out new tokens, so that the caller can store them (encrypted).
    """

    kind: ClassVar[str] = ""

    def __init__(self, *, base_url: str, credentials: dict[str, str], on_credentials_changed=None):
        self.base_url = base_url.rstrip("/")
        self.credentials = dict(credentials)
        self.on_credentials_changed = on_credentials_changed
        self.api_calls = 0

    def check(self) -> CheckResult:
        """Authenticate and read the account's identity; raise a ConnectorError if that fails."""
        raise NotSupported(f"Testing a {self.kind} connection is not available yet.")
