"""Delivering an emulated vendor's webhooks after the change that caused them has committed.

Both sandboxes that notify (ActiveCampaign, HubSpot) record what they will send in the same
transaction as the change, then hand the sending to a :class:`Dispatcher`, so that a change
that rolls back notifies nobody and a slow receiver never holds an API answer up.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from django.db import connections

log = logging.getLogger(__name__)


class Dispatcher:
    """Runs ``deliver`` in one of three modes: ``background`` (a daemon thread; the default),
    ``synchronous`` (at once, in the thread that committed: the API answer leaves after the
    webhooks went out — what tests want) or ``manual`` (only when someone calls ``deliver``).
    With ``next_due`` (when the earliest retry is due, or None) the thread also wakes for
    retries; ``retry_after`` seconds is its pause after a failed delivery pass."""

    BACKGROUND, SYNCHRONOUS, MANUAL = "background", "synchronous", "manual"

    def __init__(self, name: str, deliver: Callable[[], object], *, next_due: Callable[[], datetime | None] | None = None,
                 now: Callable[[], datetime] | None = None, retry_after: float = 2.0) -> None:
        self.name, self.deliver, self.next_due, self.now, self.retry_after = name, deliver, next_due, now, retry_after
        self.mode = self.BACKGROUND
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def schedule(self) -> None:
        if self.mode == self.SYNCHRONOUS:
            self.deliver()
        elif self.mode == self.BACKGROUND:
            self._ensure_thread()
            self._wake.set()

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()

    def _run(self) -> None:
        timeout: float | None = None
        while True:
            self._wake.wait(timeout)
            self._wake.clear()
            try:
                self.deliver()
                due = self.next_due() if self.next_due else None
                timeout = None if due is None else max(0.05, (due - self.now()).total_seconds())
            except Exception:
                log.exception("Sandbox webhook delivery (%s) failed", self.name)
                timeout = self.retry_after if self.next_due else None
            finally:
                connections.close_all()  # this thread's connections only
