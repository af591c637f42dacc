"""After a database outage the sweeper hands out at once the rows whose queue messages the
outage made useless (found by benchmarks/chaos.py, scenario 2: a 5-second PostgreSQL crash held
events back for the five minutes of their queue lease)."""

from datetime import timedelta

import pytest
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from bookbag.core.management.commands.sweep import SweepLoop
from bookbag.core.models import OutboxStatus
from integrations.models import InboundWebhook, Shop
from tests import queue
from tests.outage import database_unreachable

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.queue]


def waiting_in_the_queue() -> InboundWebhook:
    """A received event, leased to the queue as the receiver leaves it, whose message was then
    handed to a worker that failed with the database (its claim never happened)."""
    now = timezone.now()
    row = InboundWebhook.objects.create(
        shop=Shop.objects.create(domain="outage.myshopify.com"),
        topic="orders/create",
        webhook_id="during-the-outage",
        body=b"{}",
        next_attempt_at=now,
        locked_until=now + timedelta(minutes=5),
    )
    queue.purge()
    return row


def database_away_for(loop: SweepLoop) -> None:
    """One tick while the database is really unreachable (the connection points nowhere)."""
    with database_unreachable(), pytest.raises((OperationalError, InterfaceError)):
        loop.tick()


def queued_ids() -> list[int]:
    return [t["args"][0] for t in queue.queued_tasks() if t["func"] == InboundWebhook.task]


def test_rows_waiting_for_their_queue_message_are_swept_at_once_after_an_outage():
    row = waiting_in_the_queue()
    loop = SweepLoop()
    loop.tick()
    assert queued_ids() == [], "leased to the queue: normally not swept again for five minutes"

    database_away_for(loop)
    loop.tick()

    assert queued_ids() == [row.pk]
    row.refresh_from_db()
    assert row.status == OutboxStatus.PENDING and row.locked_until > timezone.now()


def test_without_an_outage_a_queued_row_is_not_enqueued_twice():
    waiting_in_the_queue()
    loop = SweepLoop()

    for _ in range(3):
        loop.tick()

    assert queued_ids() == []
