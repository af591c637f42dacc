import os
import shutil

import pytest
from django.conf import settings
from django.db import connection

from tests import queue


def pytest_collection_modifyitems(config, items):
    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    chromium = shutil.which("chromium")
    in_ci = os.environ.get("CI", "").lower() == "true"
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL=postgres://…)"))
        if "browser" in item.keywords and not chromium and not in_ci:
            item.add_marker(pytest.mark.skip(reason="needs Chromium (apt-get install chromium)"))


@pytest.fixture(autouse=True)
def _empty_external_broker():
    """The ORM broker's queue rolls back with each test; Redis keeps it, so empty it."""
    if settings.REDIS_URL:
        queue.purge()
    yield


@pytest.fixture
def run_queued_tasks():
    return queue.run_queued_tasks


@pytest.fixture
def queued_tasks():
    return queue.queued_tasks


@pytest.fixture
def vendor():
    return connection.vendor
