"""A throw-away PostgreSQL cluster for benchmarks that must run on the production database.

Uses ``DATABASE_URL`` when it already points at PostgreSQL; otherwise starts a private
cluster from the system's PostgreSQL binaries (installed by ``.ci/run`` or ``apt-get install
postgresql``) in a temporary folder, as the ``postgres`` user when run as root.
"""
from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@contextlib.contextmanager
def postgres_url() -> Iterator[str]:
    existing = os.environ.get("DATABASE_URL", "")
    if existing.startswith(("postgres://", "postgresql://")):
        yield existing
        return
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not bins:
        raise SystemExit("PostgreSQL is not installed: run `apt-get install postgresql` (or set DATABASE_URL).")
    pg_bin = bins[-1]
    workdir = tempfile.mkdtemp(prefix="portal-bench-pg-")
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres")
    port = _free_port()
    data = os.path.join(workdir, "data")
    subprocess.run(_as_postgres([f"{pg_bin}/initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8"]),
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(_as_postgres([f"{pg_bin}/pg_ctl", "-D", data, "-l", os.path.join(workdir, "log"), "-w", "-o",
                                 f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off "
                                 "-c synchronous_commit=off -c shared_buffers=512MB", "start"]),
                   check=True, stdout=subprocess.DEVNULL)
    try:
        yield f"postgres://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_postgres([f"{pg_bin}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"]),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(workdir, ignore_errors=True)
