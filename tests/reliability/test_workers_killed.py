"""Scenario 1: qcluster and all its workers SIGKILLed at random moments while inbound events and
the deliveries they cause are being worked; restarted each time; the sweeper finishes the work.

Marked `queue`: CI runs it again with REDIS_URL set, and then the children use Redis, the broker
that loses the tasks a killed cluster held (the durable rows and the sweeper must make up for it).
"""

import pytest
from django.conf import settings

from benchmarks import chaos
from tests.reliability.conftest import SEED, assert_books_balance

pytestmark = [pytest.mark.reliability, pytest.mark.slow, pytest.mark.postgres, pytest.mark.queue]

Q_WORKERS = 2


def test_killed_workers_lose_no_event_and_do_nothing_twice(database_url, tmp_path):
    size = chaos.QUICK["kills"]

    books = chaos.scenario_kills(
        database_url,
        tmp_path,
        seed=SEED,
        q_workers=Q_WORKERS,
        redis_url=settings.REDIS_URL,
        **size,
    )

    assert ("redis broker" in books.scenario) == bool(settings.REDIS_URL)
    assert books.faults == size["kills"]
    assert_books_balance(books)
    assert books.details["inbound"] == {"done": books.events_driven}, "every event applied"
    # At most once: an email a kill interrupted is `unknown` (for a person), never sent twice,
    # and a kill can interrupt only the one send each worker had under way.
    assert books.emails_unknown <= books.faults * Q_WORKERS
    notifications = books.details["notifications"]
    assert set(notifications) <= {"done", "unknown"}
    assert (
        books.details["emails_written"]
        == notifications["done"] + books.details["unknown_but_written"]
    )
