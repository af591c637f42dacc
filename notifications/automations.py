"""Customer emails fired by commerce events: one per fulfillment and status, whatever number of
times Shopify delivers the webhook (the idempotency key decides)."""

from django.conf import settings
from django.utils import timezone

from integrations.models import Fulfillment, Order, Refund
from notifications.services import new_message_id, notify_customer
from tickets import services as tickets
from tickets.models import AuthorKind, CsatSurvey, Message, Ticket

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
    if status != fulfillment.shipment_status:
        return  # older news arriving late ("out for delivery" after "delivered"): no email
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


def send_agent_reply(ticket: Ticket, message: Message) -> None:
    """A public agent reply goes to the customer by email, in the ticket's thread."""
    if message.internal or message.author_kind != AuthorKind.AGENT:
        return
    message_id = new_message_id()
    sent = notify_customer(
        shop=ticket.shop, key="agent_reply", customer=ticket.customer, ticket=ticket,
        order=None, idempotency_key=f"agent_reply:message:{message.pk}",
        message_id=message_id, in_reply_to=tickets.last_email_message_id(ticket),
        context={**ticket_context(ticket), "message": {"body": message.body},
                 "agent": {"name": _agent_name(message)}},
    )  # fmt: skip
    if sent:
        tickets.record_email_message_id(message=message, message_id=message_id)


def send_csat_request(ticket: Ticket) -> None:
    """Once per ticket, when it is first resolved, and only if the customer wrote to us."""
    if not ticket.messages.filter(author_kind=AuthorKind.CUSTOMER).exists():
        return  # a ticket an automation opened: nothing for the customer to rate
    survey = tickets.ensure_csat_survey(ticket)
    sent = notify_customer(
        shop=ticket.shop, key="csat_request", customer=ticket.customer, ticket=ticket,
        idempotency_key=f"csat_request:ticket:{ticket.pk}",
        context={**ticket_context(ticket),
                 "csat_url": f"{settings.BOOKBAG_BASE_URL}/csat/{survey.token}/"},
    )  # fmt: skip
    if sent:
        CsatSurvey.objects.filter(pk=survey.pk, sent_at__isnull=True).update(sent_at=timezone.now())


def ticket_context(ticket: Ticket) -> dict:
    shop = ticket.shop
    return {
        "shop": {"name": shop.sender_name or shop.name or shop.domain},
        "customer": {
            "first_name": ticket.customer.first_name,
            "last_name": ticket.customer.last_name,
        },
        "ticket": {"id": ticket.pk, "subject": ticket.subject},
        "order": {"name": ticket.order.name} if ticket.order else None,
    }


def _agent_name(message: Message) -> str:
    author = message.author
    if author is None:
        return ""
    return author.get_short_name() or author.get_username()
