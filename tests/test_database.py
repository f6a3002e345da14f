"""The shared SQLite file never answers “database is locked” to concurrent writers."""
import threading

import pytest
from django.db import connection, connections, transaction

from syncconfig.models import SyncRun
from tests.factories import SyncFactory

sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite settings only")


@sqlite_only
@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode_with_a_busy_timeout():
    with connection.cursor() as cursor:
        assert cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert cursor.execute("PRAGMA busy_timeout").fetchone()[0] >= 20000


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_wait_for_each_other_instead_of_failing():
    sync = SyncFactory()
    errors = []

    def writer():
        try:
            for _ in range(15):
                with transaction.atomic():  # read, then write: the classic lock-upgrade failure
                    count = SyncRun.objects.filter(sync=sync).count()
                    SyncRun.objects.create(sync=sync, trigger="manual", read_count=count)
        except Exception as exc:  # noqa: BLE001 - any failure is the finding
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert SyncRun.objects.filter(sync=sync).count() == 90
