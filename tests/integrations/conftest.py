import pytest

from integrations import signals
from integrations.models import Shop

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
