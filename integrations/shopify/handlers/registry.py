"""Topic → handler. Each handler applies one Shopify event inside the processing transaction."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from integrations.models import InboundWebhook, Shop

COMPLIANCE_TOPICS = frozenset({"customers/data_request", "customers/redact", "shop/redact"})
# What an uninstalled shop may still send (shop/redact arrives 48 hours after the uninstall).
ALLOWED_AFTER_UNINSTALL = COMPLIANCE_TOPICS | {"app/uninstalled"}


@dataclass
class ShopifyEvent:
    shop: Shop
    topic: str
    payload: dict[str, Any]
    webhook: InboundWebhook
    triggered_at: datetime | None


Handler = Callable[[ShopifyEvent], None]
HANDLERS: dict[str, Handler] = {}


def handles(*topics: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        for topic in topics:
            HANDLERS[topic] = func
        return func

    return register


def handler_for(topic: str) -> Handler | None:
    # Import the topic modules on first use so that registration never depends on import order.
    from integrations.shopify.handlers import (  # noqa: F401
        app,
        compliance,
        customers,
        fulfillments,
        orders,
        refunds,
    )

    return HANDLERS.get(topic)
