"""orders/* topics: upsert the order (and its customer), then say what really changed."""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from integrations import signals
from integrations.models import Order, RiskLevel, Shop
from integrations.shopify.handlers.customers import upsert_customer
from integrations.shopify.handlers.registry import ShopifyEvent, handles
from integrations.shopify.parsing import items, money, obj, shopify_id, text, timestamp

TRACKED = (
    "name", "email", "financial_status", "fulfillment_status", "cancelled_at", "cancel_reason",
    "tags", "total_price", "subtotal_price", "currency", "test", "customer_id", "deleted_at",
)  # fmt: skip


def lock_order(shop: Shop, sid: int) -> tuple[Order, bool]:
    """The order row, locked for this transaction (created empty if unknown); True if created.

    Every event about an order takes this lock first, so two events for one order never
    interleave (shared/TRAPS.md: lock the resource, not only the event).
    """
    order = Order.objects.select_for_update(of=("self",)).filter(shop=shop, shopify_id=sid).first()
    if order:
        return order, False
    try:
        with transaction.atomic():
            return Order.objects.create(shop=shop, shopify_id=sid), True
    except IntegrityError:  # another worker created it between our read and our insert
        return Order.objects.select_for_update(of=("self",)).get(shop=shop, shopify_id=sid), False


def flag_reasons(order: Order) -> set[str]:
    reasons = set()
    if order.risk_level == RiskLevel.HIGH:
        reasons.add("risk_high")
    if order.cancel_reason == "fraud":
        reasons.add("fraud")
    flag_tags = {t.strip().lower() for t in settings.SHOPIFY_FLAG_TAGS}
    reasons.update(f"tag:{t.lower()}" for t in order.tag_list if t.lower() in flag_tags)
    return reasons


def apply_order(event: ShopifyEvent, data: dict) -> Order | None:
    """Upsert the order a payload describes and send the signals for what changed."""
    shop = event.shop
    order, created = lock_order(shop, shopify_id(data.get("id")))
    updated_at = timestamp(data.get("updated_at"))
    # Apply on equal timestamps (1-second resolution; the work is idempotent).
    if order.shopify_updated_at and updated_at and updated_at < order.shopify_updated_at:
        return order  # stale: newer data is already stored
    customer_data = obj(data.get("customer"))
    customer = upsert_customer(shop, customer_data, event.webhook) if customer_data else None
    before = {f: getattr(order, f) for f in TRACKED}
    flags_before = set() if created else flag_reasons(order)
    was_cancelled = bool(order.cancelled_at)

    order.name = text(data.get("name"), 64) or order.name
    order.email = text(data.get("email") or data.get("contact_email"), 254) or order.email
    order.customer_locale = text(data.get("customer_locale"), 16)
    order.financial_status = text(data.get("financial_status"), 32)
    order.fulfillment_status = text(data.get("fulfillment_status"), 32)
    order.cancelled_at = timestamp(data.get("cancelled_at"))
    order.cancel_reason = text(data.get("cancel_reason"), 32)
    order.tags = text(data.get("tags"), 10_000)
    order.test = bool(data.get("test"))
    order.total_price = money(data.get("total_price"))
    order.subtotal_price = money(data.get("subtotal_price"))
    order.currency = text(data.get("currency") or data.get("presentment_currency"), 3)
    order.shopify_created_at = timestamp(data.get("created_at")) or order.shopify_created_at
    order.processed_at = timestamp(data.get("processed_at")) or order.processed_at
    order.shopify_updated_at = updated_at or order.shopify_updated_at
    order.line_items = items(data.get("line_items"))
    order.shipping_address = obj(data.get("shipping_address"))
    order.raw = data
    if customer is not None:
        order.customer = customer
    order.save()
    event.webhook.customer = order.customer

    from integrations.shopify.handlers.fulfillments import apply_fulfillment, link_orphans

    became_known = created or (not before["name"] and bool(order.name))
    link_orphans(event, order, became_known=became_known)
    for fulfillment in items(data.get("fulfillments")):
        if isinstance(fulfillment, dict) and fulfillment.get("id"):
            apply_fulfillment(event, {**fulfillment, "order_id": order.shopify_id}, order=order)

    changed = [f for f in TRACKED if getattr(order, f) != before[f]]
    if became_known:
        signals.order_created.send(sender=Shop, shop=shop, order=order, webhook=event.webhook)
    elif changed:
        signals.order_updated.send(
            sender=Shop, shop=shop, order=order, changed=changed, webhook=event.webhook
        )
    if order.cancelled_at and not was_cancelled:
        signals.order_cancelled.send(
            sender=Shop, shop=shop, order=order, reason=order.cancel_reason, webhook=event.webhook
        )
    send_new_flags(event, order, flags_before)
    return order


def send_new_flags(event: ShopifyEvent, order: Order, flags_before: set[str]) -> None:
    for reason in sorted(flag_reasons(order) - flags_before):
        signals.order_flagged.send(
            sender=Shop, shop=event.shop, order=order, reason=reason, webhook=event.webhook
        )


@handles(
    "orders/create",
    "orders/updated",
    "orders/paid",
    "orders/cancelled",
    "orders/fulfilled",
    "orders/partially_fulfilled",
)
def order_changed(event: ShopifyEvent) -> None:
    apply_order(event, event.payload)


@handles("orders/delete")
def order_deleted(event: ShopifyEvent) -> None:
    order, _ = lock_order(event.shop, shopify_id(event.payload.get("id")))
    if not order.deleted_at:
        order.deleted_at = timezone.now()
        order.save(update_fields=["deleted_at", "updated_at"])
        signals.order_updated.send(
            sender=Shop, shop=event.shop, order=order, changed=["deleted_at"], webhook=event.webhook
        )
    event.webhook.customer = order.customer


@handles("orders/risk_assessment_changed")
def risk_assessment_changed(event: ShopifyEvent) -> None:
    data = event.payload
    order, _ = lock_order(event.shop, shopify_id(data.get("order_id") or data.get("id")))
    level = text(data.get("risk_level"), 16).lower()
    if level not in RiskLevel.values:
        level = {"none": "", "pending": ""}.get(level, order.risk_level)
    flags_before = flag_reasons(order)
    if level != order.risk_level:
        order.risk_level = level
        order.save(update_fields=["risk_level", "updated_at"])
        signals.order_updated.send(
            sender=Shop, shop=event.shop, order=order, changed=["risk_level"], webhook=event.webhook
        )
    send_new_flags(event, order, flags_before)
    event.webhook.customer = order.customer
