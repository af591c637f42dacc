"""Backpressure: while the workers are behind, Shopify's webhooks are still acknowledged at once.

Real gunicorn and the sweeper on the test database, and no worker at all: the queue only grows.
The receiver's work (verify, INSERT, enqueue) must not depend on how much is waiting, and the
sweeper, running all along, must not hand out again rows that merely wait in the queue.
"""

import statistics
import time
from datetime import timedelta

import pytest
import requests
from django.utils import timezone
from django_q.brokers import get_broker

from benchmarks.harness import Shopify, Stack, Story, wait_for
from bookbag.core.models import OutboxStatus
from integrations.models import InboundWebhook
from tests.scale.processes import broker_env, children_database_url

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.queue,
    pytest.mark.django_db(transaction=True),
]

SHOP = "backpressure.myshopify.com"
SECRET = "backpressure-webhook-secret"
BACKLOG = 20_000  # a Black Friday hour nobody has worked off yet


def acknowledge(shopify: Shopify, hooks) -> list[float]:
    """Post one after another on one keep-alive connection; seconds per 200 "ok"."""
    latencies = []
    for hook in hooks:
        started = time.perf_counter()
        status, text = shopify.post_once(hook)
        latencies.append(time.perf_counter() - started)
        assert (status, text) == ("200", "ok"), (status, text)
    return latencies


def waiting_rows(shop_id: int, n: int) -> list[InboundWebhook]:
    """Rows as the receiver leaves them: pending, due, leased while they wait in the queue."""
    now = timezone.now()
    return [
        InboundWebhook(
            shop_id=shop_id, topic="orders/create", webhook_id=f"backlog-{i}",
            event_id=f"backlog-{i}", body=b"{}", status=OutboxStatus.PENDING,
            next_attempt_at=now, locked_until=now + timedelta(minutes=5),
        )
        for i in range(n)
    ]  # fmt: skip


def test_acknowledgements_stay_fast_while_the_backlog_grows_and_nothing_is_handed_out_twice(
    tmp_path,
):
    stack = Stack(children_database_url(), tmp_path, web_workers=2, **broker_env())
    try:
        shop_id = stack.seed({"shop": SHOP, "secret": SECRET})["shop_id"]
        stack.start_web()  # no qcluster: nobody works the queue off
        stack.start_sweeper()
        stack.wait_web()
        assert wait_for(lambda: "Sweeping every" in stack.sweeper.log_path.read_text(), 30)
        shopify = Shopify(stack.base_url, SHOP, SECRET)
        hooks = [Story(i).webhook(0) for i in range(320)]

        acknowledge(shopify, hooks[:20])  # warm-up: both gunicorn workers loaded
        empty = acknowledge(shopify, hooks[20:170])
        InboundWebhook.objects.bulk_create(waiting_rows(shop_id, BACKLOG), batch_size=2000)
        behind = acknowledge(shopify, hooks[170:])
        time.sleep(2.5)  # two more sweeps over the whole backlog

        sweeper_log = stack.sweeper.log_path.read_text()
        ready = requests.get(f"{stack.base_url}/readyz", timeout=10).json()
    finally:
        stack.stop()

    # The answers do not slow down with 20,000 events waiting (medians: robust to a neighbour's
    # burst on a shared machine; the slack covers timer noise at millisecond scale).
    assert statistics.median(behind) <= 2 * statistics.median(empty) + 0.010, (
        f"median {statistics.median(empty) * 1000:.1f} ms with an empty queue, "
        f"{statistics.median(behind) * 1000:.1f} ms with {BACKLOG} waiting"
    )
    # Every acknowledged webhook is a row waiting, with exactly one queue message each: the
    # sweeper added none, for them or for the leased backlog.
    acknowledged = InboundWebhook.objects.filter(webhook_id__in=[h.webhook_id for h in hooks])
    assert acknowledged.filter(status=OutboxStatus.PENDING).count() == len(hooks)
    assert get_broker().queue_size() == len(hooks)
    assert "InboundWebhook" not in sweeper_log, sweeper_log
    # /readyz reports the backlog while it is there.
    assert ready["outboxes"]["integrations.InboundWebhook"]["open"] == BACKLOG + len(hooks)
