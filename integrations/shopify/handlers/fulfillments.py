"""fulfillments/create, fulfillments/update, fulfillment_events/create."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from integrations import signals
from integrations.models import Fulfillment, Order, Refund, Shop
from integrations.shopify.handlers.registry import ShopifyEvent, handles
from integrations.shopify.parsing import items, shopify_id, text, timestamp


def lock_fulfillment(shop: Shop, sid: int, order_sid: int) -> Fulfillment:
    found = (
        Fulfillment.objects.select_for_update(of=("self",))
        .filter(shop=shop, shopify_id=sid)
        .first()
    )
    if found:
        return found
    try:
        with transaction.atomic():
            return Fulfillment.objects.create(shop=shop, shopify_id=sid, order_shopify_id=order_sid)
    except IntegrityError:
        return Fulfillment.objects.select_for_update(of=("self",)).get(shop=shop, shopify_id=sid)


def find_order(shop: Shop, order_sid: int) -> Order | None:
    """The order, locked, if Bookbag knows it (lock order: order before fulfillment)."""
    return (
        Order.objects.select_for_update(of=("self",))
        .filter(shop=shop, shopify_id=order_sid)
        .first()
    )


def announce(event: ShopifyEvent, fulfillment: Fulfillment, order: Order | None) -> None:
    """order_fulfilled, once per fulfillment, as soon as it has tracking and a known order."""
    if fulfillment.announced_at or not fulfillment.has_tracking or order is None or not order.name:
        return
    fulfillment.announced_at = timezone.now()
    fulfillment.save(update_fields=["announced_at", "updated_at"])
    signals.order_fulfilled.send(
        sender=Shop, shop=event.shop, order=order, fulfillment=fulfillment, webhook=event.webhook
    )


def apply_fulfillment(event: ShopifyEvent, data: dict, order: Order | None = None) -> Fulfillment:
    shop = event.shop
    order_sid = shopify_id(data.get("order_id"))
    if order is None:
        order = find_order(shop, order_sid)
    fulfillment = lock_fulfillment(shop, shopify_id(data.get("id")), order_sid)
    updated_at = timestamp(data.get("updated_at"))
    stale = (
        fulfillment.shopify_updated_at
        and updated_at
        and updated_at < fulfillment.shopify_updated_at
    )
    previous_status = fulfillment.shipment_status
    if not stale:
        numbers = [str(n) for n in items(data.get("tracking_numbers")) if n] or (
            [str(data["tracking_number"])] if data.get("tracking_number") else []
        )
        urls = [str(u) for u in items(data.get("tracking_urls")) if u] or (
            [str(data["tracking_url"])] if data.get("tracking_url") else []
        )
        fulfillment.order = order or fulfillment.order
        fulfillment.order_shopify_id = order_sid
        fulfillment.name = text(data.get("name"), 64) or fulfillment.name
        fulfillment.status = text(data.get("status"), 32)
        fulfillment.shipment_status = text(data.get("shipment_status"), 32) or previous_status
        fulfillment.tracking_company = text(data.get("tracking_company"))
        fulfillment.tracking_numbers = numbers
        fulfillment.tracking_urls = urls
        fulfillment.line_items = items(data.get("line_items")) or fulfillment.line_items
        fulfillment.shopify_created_at = timestamp(data.get("created_at"))
        fulfillment.shopify_updated_at = updated_at or fulfillment.shopify_updated_at
        fulfillment.save()
    if order is not None:
        event.webhook.customer = order.customer
    announce(event, fulfillment, fulfillment.order)
    if fulfillment.shipment_status != previous_status and fulfillment.shipment_status:
        signals.shipment_status_changed.send(
            sender=Shop, shop=shop, order=fulfillment.order, fulfillment=fulfillment,
            status=fulfillment.shipment_status, previous=previous_status, webhook=event.webhook,
        )  # fmt: skip
    return fulfillment


def link_orphans(event: ShopifyEvent, order: Order) -> None:
    """Fulfillments and refunds that arrived before their order: link them, then announce."""
    for fulfillment in Fulfillment.objects.select_for_update(of=("self",)).filter(
        shop=event.shop, order_shopify_id=order.shopify_id, order__isnull=True
    ):
        fulfillment.order = order
        fulfillment.save(update_fields=["order", "updated_at"])
        announce(event, fulfillment, order)
    from integrations.shopify.handlers.refunds import announce_refund

    for refund in Refund.objects.select_for_update(of=("self",)).filter(
        shop=event.shop, order_shopify_id=order.shopify_id, order__isnull=True
    ):
        refund.order = order
        refund.save(update_fields=["order", "updated_at"])
        announce_refund(event, refund, order)


@handles("fulfillments/create", "fulfillments/update")
def fulfillment_changed(event: ShopifyEvent) -> None:
    apply_fulfillment(event, event.payload)


@handles("fulfillment_events/create")
def fulfillment_event(event: ShopifyEvent) -> None:
    """A carrier scan: in_transit, out_for_delivery, delivered, failure, ..."""
    data = event.payload
    order_sid = shopify_id(data.get("order_id"))
    order = find_order(event.shop, order_sid)
    fulfillment = lock_fulfillment(event.shop, shopify_id(data.get("fulfillment_id")), order_sid)
    if order is not None and fulfillment.order_id is None:
        fulfillment.order = order
        fulfillment.save(update_fields=["order", "updated_at"])
    happened_at = timestamp(data.get("happened_at")) or timestamp(data.get("created_at"))
    status = text(data.get("status"), 32)
    if order is not None:
        event.webhook.customer = order.customer
    if not status:
        return
    if fulfillment.last_event_at and happened_at and happened_at < fulfillment.last_event_at:
        return  # an older scan arriving late does not overwrite the newer status
    previous = fulfillment.shipment_status
    fulfillment.shipment_status = status
    fulfillment.last_event_at = happened_at or fulfillment.last_event_at
    fulfillment.save(update_fields=["shipment_status", "last_event_at", "updated_at"])
    if status != previous:
        signals.shipment_status_changed.send(
            sender=Shop, shop=event.shop, order=fulfillment.order, fulfillment=fulfillment,
            status=status, previous=previous, webhook=event.webhook,
        )  # fmt: skip
