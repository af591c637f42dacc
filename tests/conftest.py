import os
import shutil

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from bookbag.core import outbox
from integrations import signals
from integrations.models import InboundWebhook, Shop
from integrations.shopify.shop_keys import forget_shops
from tests import queue
from tests.integrations.shopify import fixture, post_webhook


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
    """The ORM broker's queue rolls back with each test; Redis keeps it, so empty it. The
    sweeper's "queue full" hint lives in the shared cache, which outlives a test too."""
    if settings.REDIS_URL:
        queue.purge()
    cache.delete(outbox.QUEUE_FULL_KEY)
    outbox.forget_queue_full()
    forget_shops()  # the receiver's memory of shops of a rolled-back test
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


COMMERCE_SIGNALS = (
    "order_created", "order_updated", "order_fulfilled", "shipment_status_changed",
    "order_cancelled", "refund_created", "order_flagged", "customer_updated",
)  # fmt: skip


@pytest.fixture
def shop(db):
    return Shop.objects.create(
        domain="bookbag-demo.myshopify.com", name="Bookbag Demo", webhook_secret="demo-secret"
    )


class SignalLog(list):
    def names(self) -> list[str]:
        return [name for name, _ in self]

    def of(self, name: str) -> list[dict]:
        return [kwargs for n, kwargs in self if n == name]


@pytest.fixture
def sent_signals():
    """Every commerce signal sent, in order, as (name, kwargs)."""
    log = SignalLog()
    receivers = []
    for name in COMMERCE_SIGNALS:

        def receiver(sender, _name=name, **kwargs):
            kwargs.pop("signal", None)
            log.append((_name, kwargs))

        getattr(signals, name).connect(receiver, weak=False, dispatch_uid=f"test-{name}")
        receivers.append((name, receiver))
    yield log
    for name, _ in receivers:
        getattr(signals, name).disconnect(dispatch_uid=f"test-{name}")


@pytest.fixture
def deliver(client, shop, run_queued_tasks):
    """Post a signed Shopify webhook (a fixture by topic, or a payload) and run what it queued."""

    def deliver(topic, payload=None, **kwargs):
        response = post_webhook(client, shop, topic, payload or fixture(topic), **kwargs)
        assert response.status_code == 200, response.content
        run_queued_tasks()
        return InboundWebhook.objects.order_by("-id").first()

    return deliver
