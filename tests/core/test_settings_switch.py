"""The environment picks the database, the broker and the cache; defaults are the embedded mode.

Each case imports the settings in a fresh interpreter: they are read once, at import.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, django
from django.conf import settings
django.setup()
from bookbag.core.queue import uses_transactional_broker
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "options": db.get("OPTIONS", {}), "test": db.get("TEST", {}),
    "conn_max_age": db.get("CONN_MAX_AGE"), "health": db.get("CONN_HEALTH_CHECKS"),
    "q": {k: v for k, v in settings.Q_CLUSTER.items() if k in ("orm", "redis", "name")},
    "transactional": uses_transactional_broker(),
    "cache": settings.CACHES["default"]["BACKEND"], "email": settings.EMAIL_BACKEND,
}))
"""
KEYS = ("DATABASE_URL", "REDIS_URL", "CACHE_URL", "EMAIL_URL", "SECRET_KEY")


def settings_with(tmp_path, **env) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in KEYS}
    clean.update(DJANGO_SETTINGS_MODULE="bookbag.settings", BOOKBAG_VAR_DIR=str(tmp_path), **env)
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_no_configuration_means_sqlite_with_immediate_transactions_and_the_orm_broker(tmp_path):
    s = settings_with(tmp_path)

    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["options"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in s["options"]["init_command"]
    assert s["test"]["NAME"].endswith(".sqlite3"), "the test database must be a file"
    assert s["q"] == {"name": "bookbag", "orm": "default"} and s["transactional"]
    assert s["cache"].endswith("FileBasedCache")
    assert s["email"].endswith("console.EmailBackend")


def test_a_postgres_url_gets_persistent_checked_connections_and_no_sqlite_options(tmp_path):
    s = settings_with(tmp_path, DATABASE_URL="postgres://bookbag@db.internal:5432/bookbag")

    assert s["engine"] == "django.db.backends.postgresql"
    assert "transaction_mode" not in s["options"]
    assert s["options"]["connect_timeout"] == 3
    assert s["conn_max_age"] == 60 and s["health"] is True


def test_a_redis_url_switches_the_broker_and_enqueues_on_commit(tmp_path):
    s = settings_with(tmp_path, REDIS_URL="redis://127.0.0.1:6379/0")

    assert s["q"] == {"name": "bookbag", "redis": "redis://127.0.0.1:6379/0"}
    assert s["transactional"] is False


def test_the_embedded_secret_key_is_generated_once_and_kept(tmp_path):
    probe = "from django.conf import settings; print(settings.SECRET_KEY)"
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update(DJANGO_SETTINGS_MODULE="bookbag.settings", BOOKBAG_VAR_DIR=str(tmp_path))

    def run():
        return subprocess.run(
            [sys.executable, "-c", probe],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.strip()

    first, second = run(), run()
    assert first == second and len(first) >= 50
    assert (tmp_path / "secret_key").read_text().strip() == first
