"""Encryption of connection credentials at rest.

Credentials are a small dict of strings (API keys, client secrets, passwords) kept as one
Fernet token. ``CREDENTIALS_KEYS`` lists Fernet keys: the first encrypts, every key
decrypts, so rotating is "put a new key in front, run ``manage.py rotate_credentials``,
then drop the old key".
"""
import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class CredentialsUnreadable(Exception):
    """The stored token was written with a key that is no longer in CREDENTIALS_KEYS."""


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "CREDENTIALS_KEYS holds a value that is not a Fernet key (32 url-safe base64 bytes)."
        ) from exc


def _current() -> MultiFernet:
    return _fernet(tuple(settings.CREDENTIALS_KEYS))


def encrypt(values: dict[str, str]) -> str:
    """Encrypt a dict of credential values with the primary key."""
    return _current().encrypt(json.dumps(values, sort_keys=True).encode()).decode()


def decrypt(token: str) -> dict[str, str]:
    """Decrypt a token written by :func:`encrypt` with any configured key."""
    if not token:
        return {}
    try:
        return json.loads(_current().decrypt(token.encode()))
    except InvalidToken as exc:
        raise CredentialsUnreadable(
            "The stored credentials cannot be decrypted with CREDENTIALS_KEYS; "
            "was a key removed before running rotate_credentials?"
        ) from exc


def rotate(token: str) -> str:
    """Re-encrypt a token under the primary key (no-op for an empty token)."""
    if not token:
        return token
    try:
        return _current().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise CredentialsUnreadable("A stored token cannot be decrypted with any configured key.") from exc


def mask(value: str) -> str:
    """What a page may show of a secret: that it is set, never any part of it."""
    return "•••••••• (set)" if value else ""
