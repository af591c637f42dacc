"""The short variants of benchmarks/chaos.py's scenarios: real gunicorn, qcluster and sweeper on
127.0.0.1, a fault injected, then the books checked (benchmarks/harness.py: check_books).

They need PostgreSQL (marker `postgres`: skipped on SQLite). Scenarios 1, 3 and 4 run against
this test's own database (transaction=True: what the children write is committed, and the
end-of-test flush empties it); scenario 2 crashes a scratch cluster of its own on its own port,
never the server this test runner is connected to.
"""

import os
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from benchmarks.harness import Books, pg_bindir

SEED = int(os.environ.get("CHAOS_SEED", "1"))  # the same faults every run, unless told


@pytest.fixture
def database_url(transactional_db) -> str:
    """This test's database, as the children's DATABASE_URL."""
    s = connection.settings_dict
    auth = quote(s["USER"] or "", safe="")
    if s["PASSWORD"]:
        auth += ":" + quote(s["PASSWORD"], safe="")
    host, port = s["HOST"] or "127.0.0.1", s["PORT"] or 5432
    return f"postgres://{auth}@{host}:{port}/{s['NAME']}?conn_max_age=60"


@pytest.fixture
def postgres_binaries() -> Path:
    """initdb and pg_ctl, for a cluster of the scenario's own: CI has them (it runs PostgreSQL)."""
    bindir = pg_bindir()
    if bindir is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) are missing in CI")
        pytest.skip("needs the PostgreSQL server binaries (initdb, pg_ctl)")
    return bindir


def assert_books_balance(books: Books) -> None:
    """The zeros every scenario promises, with the notes that explain a non-zero."""
    explain = "\n".join(books.failures + books.notes)
    assert books.events_driven > 0 and books.faults > 0, "the scenario injected no fault"
    assert books.events_lost == 0, explain
    assert books.duplicate_effects == 0, explain
    assert books.missing_effects == 0, explain
    assert books.deliveries_not_delivered == 0, explain
    assert books.failures == [], explain
