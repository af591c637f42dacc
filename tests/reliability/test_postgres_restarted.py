"""Scenario 2: a scratch PostgreSQL cluster (its own port, never the shared server) crashed and
restarted while Shopify is sending: the receiver answers 503 while it is down, Shopify retries,
and nothing that was acknowledged is lost."""

import pytest

from benchmarks import chaos
from tests.reliability.conftest import SEED, assert_books_balance

pytestmark = [pytest.mark.reliability, pytest.mark.slow, pytest.mark.postgres]


def test_a_database_crash_answers_503_then_loses_nothing(postgres_binaries, tmp_path):
    size = chaos.QUICK["restart"]

    books = chaos.scenario_pg_restart(tmp_path, seed=SEED, **size)

    assert books.faults == size["restarts"]
    assert_books_balance(books)
    answers = books.details["answers"]
    assert answers.get("503", 0) > 0, "Shopify was told to retry while the database was down"
    assert set(answers) <= {"200", "503"}, "never a 500, never a dropped connection"
    assert books.details["inbound"] == {"done": books.events_driven}
