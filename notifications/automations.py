"""Customer emails fired by commerce events: one per fulfillment and status, whatever number of
times Shopify delivers the webhook (the idempotency key decides)."""

from integrations.models import Fulfillment, Order, Refund
from notifications.services import notify_customer

SHIPMENT_UPDATES = {
    "out_for_delivery": ("Out for delivery", "it is out for delivery today."),
    "delivered": ("Delivered", "it has been delivered."),
    "attempted_delivery": ("Delivery attempted", "the carrier tried to deliver it."),
    "failure": ("Delivery problem", "the carrier reported a problem delivering it."),
}
CANCEL_REASONS = {
    "customer": "at your request",
    "inventory": "an item is out of stock",
    "declined": "the payment was declined",
    "other": "",
    "staff": "",
}


def base_context(order: Order) -> dict:
    customer = order.customer
    return {
        "shop": {"name": order.shop.sender_name or order.shop.name or order.shop.domain},
        "customer": {
            "first_name": customer.first_name if customer else "",
            "last_name": customer.last_name if customer else "",
        },
        "order": {"name": order.name, "total": str(order.total_price), "currency": order.currency},
    }


def fulfillment_context(fulfillment: Fulfillment) -> dict:
    urls = fulfillment.tracking_urls
    shipped_ids = {item.get("id") for item in fulfillment.line_items if isinstance(item, dict)}
    order_lines = fulfillment.order.line_items if fulfillment.order else []
    return {
        "tracking_company": fulfillment.tracking_company,
        "tracking": [
            {"number": n, "url": urls[i] if i < len(urls) else ""}
            for i, n in enumerate(fulfillment.tracking_numbers)
        ],
        "partial": bool(shipped_ids) and len(shipped_ids) < len(order_lines),
    }


def shipped_items(fulfillment: Fulfillment) -> list[dict]:
    return [
        {
            "title": str(item.get("title") or item.get("name") or ""),
            "quantity": item.get("quantity"),
        }
        for item in fulfillment.line_items
        if isinstance(item, dict)
    ]


def send_shipping_confirmation(order: Order, fulfillment: Fulfillment) -> None:
    if not order.shop.send_tracking_emails:
        return
    notify_customer(
        shop=order.shop, key="shipping_confirmation", customer=order.customer, order=order,
        idempotency_key=f"shipping_confirmation:fulfillment:{fulfillment.pk}",
        context={**base_context(order), "fulfillment": fulfillment_context(fulfillment),
                 "items": shipped_items(fulfillment)},
    )  # fmt: skip


def send_shipment_update(order: Order | None, fulfillment: Fulfillment, status: str) -> None:
    if order is None or status not in SHIPMENT_UPDATES or not order.shop.send_tracking_emails:
        return
    label, sentence = SHIPMENT_UPDATES[status]
    notify_customer(
        shop=order.shop, key="shipment_update", customer=order.customer, order=order,
        idempotency_key=f"shipment_update:fulfillment:{fulfillment.pk}:{status}",
        context={**base_context(order), "fulfillment": fulfillment_context(fulfillment),
                 "status": status, "status_label": label, "status_sentence": sentence},
    )  # fmt: skip


def send_cancellation(order: Order, reason: str) -> None:
    # Fraud is escalated to a person instead (tickets.automations), never emailed.
    if reason == "fraud" or not order.shop.send_cancellation_emails:
        return
    notify_customer(
        shop=order.shop, key="order_cancelled", customer=order.customer, order=order,
        idempotency_key=f"order_cancelled:order:{order.pk}",
        context={**base_context(order), "reason": reason,
                 "reason_label": CANCEL_REASONS.get(reason, "")},
    )  # fmt: skip


def send_refund_issued(order: Order, refund: Refund) -> None:
    if not order.shop.auto_resolve_refunds:
        return
    notify_customer(
        shop=order.shop, key="refund_issued", customer=order.customer, order=order,
        idempotency_key=f"refund_issued:refund:{refund.pk}",
        context={**base_context(order), "refund": {
            "amount": f"{refund.amount.normalize():f}", "currency": refund.currency,
            "note": refund.note}},
    )  # fmt: skip
