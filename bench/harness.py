"""What every benchmark needs: a throw-away database and the sandboxes in their own process."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, seconds: float = 30) -> None:
    import requests

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise SystemExit(f"The sandbox did not answer at {url}.")


@contextlib.contextmanager
def django_environment() -> Iterator[dict[str, str]]:
    """Set Django up on a fresh SQLite database in a temporary folder; yield the environment
    a process needs to use the same database."""
    from cryptography.fernet import Fernet

    with tempfile.TemporaryDirectory(prefix="portal-bench-") as workdir:
        env = {**os.environ, "VAR_DIR": workdir, "DATABASE_URL": f"sqlite:///{workdir}/bench.sqlite3",
               "SECRET_KEY": "bench-only", "CREDENTIALS_KEYS": Fernet.generate_key().decode(),
               "DJANGO_SETTINGS_MODULE": "portal.settings", "LOG_LEVEL": "WARNING"}
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        yield env


@contextlib.contextmanager
def sandbox_environment() -> Iterator[str]:
    """Set Django up on a fresh SQLite database in a temporary folder, serve the sandboxes
    from a separate process on it, and yield their base URL."""
    with django_environment() as env:
        port = _free_port()
        server = subprocess.Popen([sys.executable, "manage.py", "sandbox", "serve", "--port", str(port)],
                                  cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            base_url = f"http://127.0.0.1:{port}"
            _wait_for(f"{base_url}/services/data/")
            yield base_url
        finally:
            server.terminate()
            server.wait(timeout=10)


def measure(action):
    """(result, seconds, peak bytes allocated by Python meanwhile) of ``action()``."""
    tracemalloc.start()
    started = time.perf_counter()
    result = action()
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return result, elapsed, peak
