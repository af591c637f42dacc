"""Scenario 4: every webhook delivered five times (two at the same moment), and orders whose
webhooks arrive in the wrong order (updates before creates, old news after new): each story
ends in the state of the same story delivered once and in order, each automation fired once."""

import pytest

from benchmarks import chaos
from tests.reliability.conftest import SEED, assert_books_balance

pytestmark = [pytest.mark.reliability, pytest.mark.slow, pytest.mark.postgres]


def test_duplicates_and_reordered_deliveries_end_as_the_in_order_story(database_url, tmp_path):
    books = chaos.scenario_storms(database_url, tmp_path, seed=SEED, **chaos.QUICK["storms"])

    assert_books_balance(books)
    groups = books.details["groups"]
    assert set(chaos.REORDERINGS) < set(groups)
    assert groups == dict.fromkeys(groups, "ok")
    assert books.details["duplicate_answers"] > 0, "copies were recognised as duplicates"
    assert books.emails_unknown == 0 and books.details["notifications"].keys() == {"done"}
