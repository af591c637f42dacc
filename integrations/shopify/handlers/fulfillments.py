"""fulfillments/create, fulfillments/update, fulfillment_events/create."""

from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.db.models import Q
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


def take_status(fulfillment: Fulfillment, status: str, at: datetime | None) -> bool:
    """Note shipment news on the fulfillment (not saved); True when the status is new to it.

    Every status goes into the history; it becomes the current one only when its news is not
    older than the current status's: carriers' scans and Shopify's updates arrive out of order,
    and a late "in transit" must not undo "delivered".
    """
    if not status:
        return False
    new = status not in {h.get("status") for h in fulfillment.shipment_history}
    if new:
        when = at.astimezone(UTC).isoformat() if at else None  # UTC: sorts as text
        fulfillment.shipment_history = [
            *fulfillment.shipment_history,
            {"status": status, "at": when},
        ]
    current_at = fulfillment.last_event_at
    if not (current_at and at and at < current_at):
        fulfillment.shipment_status = status
        fulfillment.last_event_at = max(at, current_at) if at and current_at else at or current_at
    return new


def send_statuses(event: ShopifyEvent, fulfillment: Fulfillment, statuses: list[str]) -> None:
    """shipment_status_changed for each status, once the order is known (until then the history
    keeps them: receivers need the order to find tickets and the customer)."""
    if fulfillment.order is None or not fulfillment.order.name:
        return
    previous = ""
    for status in statuses:
        signals.shipment_status_changed.send(
            sender=Shop, shop=event.shop, order=fulfillment.order, fulfillment=fulfillment,
            status=status, previous=previous, webhook=event.webhook,
        )  # fmt: skip
        previous = status


def history(fulfillment: Fulfillment) -> list[str]:
    """The statuses seen, oldest news first (news without a time last)."""
    entries = sorted(
        fulfillment.shipment_history, key=lambda h: (h.get("at") is None, h.get("at") or "")
    )
    return [h["status"] for h in entries if h.get("status")]


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
    gains_order = fulfillment.order_id is None and order is not None
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
        fulfillment.tracking_company = text(data.get("tracking_company"))
        fulfillment.tracking_numbers = numbers
        fulfillment.tracking_urls = urls
        fulfillment.line_items = items(data.get("line_items")) or fulfillment.line_items
        fulfillment.shopify_created_at = timestamp(data.get("created_at"))
        fulfillment.shopify_updated_at = updated_at or fulfillment.shopify_updated_at
    else:
        gains_order = False
    # Even a stale payload is news of its shipment status, for the history.
    status = text(data.get("shipment_status"), 32)
    new_status = take_status(fulfillment, status, updated_at)
    fulfillment.save()
    if order is not None:
        event.webhook.customer = order.customer
    announce(event, fulfillment, fulfillment.order)
    if gains_order:
        send_statuses(event, fulfillment, history(fulfillment))
    elif new_status:
        send_statuses(event, fulfillment, [status])
    return fulfillment


def link_orphans(event: ShopifyEvent, order: Order, *, became_known: bool = False) -> None:
    """Fulfillments and refunds that arrived before their order: link them, then announce them
    and their shipment news. `became_known`: the order has just got its name (it may have been
    a placeholder row until now, made by a risk assessment), so what is already linked to it and
    could not be announced without a name goes out now too (announcing is idempotent)."""
    waiting = Q(order__isnull=True, order_shopify_id=order.shopify_id)
    if became_known:
        waiting |= Q(order=order)
    for fulfillment in (
        Fulfillment.objects.select_for_update(of=("self",))
        .filter(waiting, shop=event.shop)
        .order_by("pk")
    ):
        if fulfillment.order_id is None:
            fulfillment.order = order
            fulfillment.save(update_fields=["order", "updated_at"])
        fulfillment.order = order
        announce(event, fulfillment, order)
        send_statuses(event, fulfillment, history(fulfillment))
    from integrations.shopify.handlers.refunds import announce_refund

    for refund in (
        Refund.objects.select_for_update(of=("self",))
        .filter(waiting, shop=event.shop)
        .order_by("pk")
    ):
        if refund.order_id is None:
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
    gains_order = order is not None and fulfillment.order_id is None
    if gains_order:
        fulfillment.order = order
    happened_at = timestamp(data.get("happened_at")) or timestamp(data.get("created_at"))
    status = text(data.get("status"), 32)
    if order is not None:
        event.webhook.customer = order.customer
    # An older scan arriving late joins the history but does not overwrite the newer status.
    new_status = take_status(fulfillment, status, happened_at)
    fulfillment.save()
    if gains_order:
        send_statuses(event, fulfillment, history(fulfillment))
    elif new_status:
        send_statuses(event, fulfillment, [status])
