"""The webhooks app's part of the compliance topics: stored payloads are exported, and on
redaction rewritten ("frozen" yields to the law); unsent deliveries carrying them are cancelled."""

import json

from django.db.models import Q

from bookbag.core.json import dumps_bytes
from bookbag.core.models import OutboxStatus
from integrations.models import Customer, Shop
from webhooks.models import Delivery, Event


def _events(shop: Shop, customers: list[Customer], email: str):
    match = Q(customer__in=customers)
    events = Event.objects.filter(shop=shop).filter(match)
    if email:
        # Events whose customer link was lost still carry the address in their bytes.
        needle = email.encode()
        extra = [
            pk
            for pk, payload in Event.objects.filter(shop=shop, customer__isnull=True)
            .values_list("pk", "payload")
            .iterator()
            if needle in bytes(payload).lower()
        ]
        events = Event.objects.filter(Q(pk__in=events.values("pk")) | Q(pk__in=extra))
    return events


def export_customer(shop: Shop, customers: list[Customer], email: str) -> dict:
    return {
        "webhook_events": [
            {"message_id": e.message_id, "type": e.type, "payload": json.loads(bytes(e.payload))}
            for e in _events(shop, customers, email).order_by("id")
        ]
    }


def redact_customer(shop: Shop, customers: list[Customer], email: str) -> None:
    events = list(_events(shop, customers, email).only("pk", "type"))
    for event in events:
        Event.objects.filter(pk=event.pk).update(
            payload=dumps_bytes({"type": event.type, "redacted": True})
        )
    Delivery.objects.filter(
        event__in=events, status__in=[OutboxStatus.PENDING, OutboxStatus.IN_PROGRESS]
    ).update(
        status=OutboxStatus.DEAD,
        next_attempt_at=None,
        locked_until=None,
        last_error="cancelled: the customer's data was redacted",
    )


def delete_shop(shop: Shop) -> None:
    Event.objects.filter(shop=shop).delete()
