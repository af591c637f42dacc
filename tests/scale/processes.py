"""Real processes against the test database: its URL for the children, and their logs."""

import json
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection


def children_database_url() -> str:
    """The URL of the database this test runs in (test_<name>), for gunicorn and qcluster.

    With transaction=True what the children write is committed and visible here, and the
    end-of-test flush empties it again."""
    s = connection.settings_dict
    auth = quote(s["USER"] or "", safe="")
    if s["PASSWORD"]:
        auth += ":" + quote(s["PASSWORD"], safe="")
    host = s["HOST"] or "127.0.0.1"
    return f"postgres://{auth}@{host}:{s['PORT'] or 5432}/{s['NAME']}?conn_max_age=60"


def broker_env() -> dict[str, str]:
    """The children use the broker this pytest process was started with (CI runs both)."""
    return {"REDIS_URL": settings.REDIS_URL} if settings.REDIS_URL else {}


def json_lines(path: Path) -> list[dict]:
    """The JSON log lines a child wrote (anything else on its stdout is skipped)."""
    lines = []
    for text in path.read_text(errors="replace").splitlines():
        if text.startswith("{"):
            try:
                lines.append(json.loads(text))
            except ValueError:
                continue
    return lines
