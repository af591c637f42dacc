"""Retention pruning across the apps, run by the `bookbag.prune` schedule (hourly)."""

from integrations.services import prune_inbound_webhooks
from notifications.services import prune_notifications
from webhooks.services import prune_deliveries


def prune_all() -> dict[str, int]:
    return {
        "inbound_webhooks": prune_inbound_webhooks(),
        "notifications": prune_notifications(),
        "deliveries": prune_deliveries(),
    }
