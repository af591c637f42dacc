"""Fairness: one shop's flood does not make another shop's webhooks wait behind it.

Real gunicorn, one qcluster worker and the sweeper on the test database. A burst of one shop's
order webhooks is acknowledged far faster than one worker applies them; then another shop sends
one webhook. The sweeper hands rows to the queue shop by shop (bookbag.core.outbox), so the
second shop's event is applied within seconds, while most of the flood is still waiting; in a
first-in-first-out queue it would have waited for the whole flood.
"""

import time

import pytest

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

FLOOD = 600
QUEUE_LIMIT = 10  # small, so that a short test shows what a Black Friday would
OPEN = (OutboxStatus.PENDING, OutboxStatus.IN_PROGRESS)


def test_a_quiet_shops_webhook_is_applied_while_another_shops_flood_still_waits(tmp_path):
    stack = Stack(
        children_database_url(), tmp_path, q_workers=1,
        OUTBOX_SWEEP_QUEUE_LIMIT=str(QUEUE_LIMIT), **broker_env(),
    )  # fmt: skip
    try:
        # Seeded by a child: the shops' secrets are encrypted with the children's key.
        flooding = stack.seed({"shop": "flooding.myshopify.com", "secret": "flood-secret"})
        quiet = stack.seed({"shop": "quiet.myshopify.com", "secret": "quiet-secret"})
        stack.start()
        assert wait_for(lambda: "Sweeping every" in stack.sweeper.log_path.read_text(), 30)
        flood = Shopify(stack.base_url, "flooding.myshopify.com", "flood-secret")
        for i in range(FLOOD):
            assert flood.post_once(Story(i).webhook(0)) == ("200", "ok")

        sent = time.monotonic()
        one = Story(100_000).webhook(0)
        assert Shopify(stack.base_url, "quiet.myshopify.com", "quiet-secret").post_once(one) == (
            "200",
            "ok",
        )
        row = InboundWebhook.objects.get(shop_id=quiet["shop_id"])
        assert wait_for(
            lambda: InboundWebhook.objects.filter(pk=row.pk, status=OutboxStatus.DONE).exists(),
            timeout=60,
            interval=0.1,
        ), stack.workers.tail(20)
        waited = time.monotonic() - sent
        still_waiting = InboundWebhook.objects.filter(
            shop_id=flooding["shop_id"], status__in=OPEN
        ).count()
    finally:
        stack.stop()

    assert InboundWebhook.objects.filter(shop_id=flooding["shop_id"]).count() == FLOOD
    assert still_waiting > FLOOD // 4, f"the flood was mostly done first ({still_waiting} left)"
    assert waited < 20, f"the quiet shop waited {waited:.1f} s"
