"""refunds/create."""

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from integrations import signals
from integrations.models import Order, Refund, Shop
from integrations.shopify.handlers.fulfillments import find_order
from integrations.shopify.handlers.registry import ShopifyEvent, handles
from integrations.shopify.parsing import items, money, obj, shopify_id, text, timestamp


def refunded_amount(data: dict) -> tuple[Decimal, str]:
    """The money that went back: successful refund transactions (Shopify's own total)."""
    total, currency = Decimal("0"), ""
    for tx in items(data.get("transactions")):
        tx = obj(tx)
        if tx.get("kind") == "refund" and tx.get("status") in ("success", None):
            total += money(tx.get("amount"))
            currency = currency or text(tx.get("currency"), 3)
    return total, currency


def announce_refund(event: ShopifyEvent, refund: Refund, order: Order | None) -> None:
    if refund.announced_at or order is None or not order.name:
        return
    refund.announced_at = timezone.now()
    refund.save(update_fields=["announced_at", "updated_at"])
    order.total_refunded = Refund.objects.filter(order=order).aggregate(s=Sum("amount"))["s"] or 0
    order.save(update_fields=["total_refunded", "updated_at"])
    signals.refund_created.send(
        sender=Shop, shop=event.shop, order=order, refund=refund, webhook=event.webhook
    )


@handles("refunds/create")
def refund_created(event: ShopifyEvent) -> None:
    data = event.payload
    order_sid = shopify_id(data.get("order_id"))
    order = find_order(event.shop, order_sid)
    sid = shopify_id(data.get("id"))
    amount, currency = refunded_amount(data)
    refund = (
        Refund.objects.select_for_update(of=("self",))
        .filter(shop=event.shop, shopify_id=sid)
        .first()
    )
    if refund is None:
        try:
            with transaction.atomic():
                refund = Refund.objects.create(
                    shop=event.shop,
                    shopify_id=sid,
                    order=order,
                    order_shopify_id=order_sid,
                    amount=amount,
                    currency=currency or (order.currency if order else ""),
                    note=text(data.get("note"), 10_000),
                    processed_at=timestamp(data.get("processed_at")),
                    shopify_created_at=timestamp(data.get("created_at")),
                    line_items=items(data.get("refund_line_items")),
                )
        except IntegrityError:
            refund = Refund.objects.select_for_update(of=("self",)).get(
                shop=event.shop, shopify_id=sid
            )
    if order is not None:
        event.webhook.customer = order.customer
    announce_refund(event, refund, refund.order)
