"""Scenario 3: one endpoint answers 500 half the time, times out, resets connections and answers
slowly; another answers 410 Gone; a third is healthy. Every delivery ends succeeded, dead with
its full attempt log, or held for the disabled endpoint; the healthy one is not slowed."""

import pytest

from benchmarks import chaos
from benchmarks.harness import FLAKY
from tests.reliability.conftest import SEED, assert_books_balance

pytestmark = [pytest.mark.reliability, pytest.mark.slow, pytest.mark.postgres]


def test_a_flaky_and_a_gone_endpoint_end_every_delivery_and_slow_no_one(database_url, tmp_path):
    size = chaos.QUICK["flaky"]

    books = chaos.scenario_flaky(database_url, tmp_path, seed=SEED, **size)

    assert_books_balance(books)
    assert set(books.details["flaky_answers"]) == set(FLAKY), "every kind of fault, injected"
    outcomes = books.details["outcomes"]
    deliveries = sum(outcomes["healthy"].values())
    assert outcomes["healthy"] == {"succeeded": deliveries}
    flaky = outcomes["flaky"]
    assert set(flaky) <= {"succeeded", "dead, full log"}
    assert sum(flaky.values()) == deliveries
    # The 410 disables its endpoint at once (after the one or two attempts in flight then):
    # the rest are kept, held for its return.
    gone = outcomes["gone"]
    assert set(gone) == {"dead, full log", "held (endpoint disabled)"}
    assert gone["dead, full log"] <= 2 and sum(gone.values()) == deliveries
    assert books.details["healthy_latency_s"]["max"] < size["slow"]
