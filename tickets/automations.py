"""Ticket automations fired by verified commerce events (receivers in tickets/receivers.py).

Each runs inside the transaction that applied the Shopify event, writes rows only, and is
idempotent through TicketEvent.dedupe_key: a duplicate delivery finds its key taken.
"""

from django.db.models import Q, QuerySet

from integrations.models import Customer, Fulfillment, Order, Refund, Shop
from tickets import services
from tickets.models import Channel, Priority, Ticket, TicketStatus

TIMELINE = "order_timeline"
REFUND = "refund_auto_resolve"
ESCALATION = "flagged_order_escalation"

FLAG_LABELS = {"risk_high": "Shopify rates the order's risk as high", "fraud": "cancelled as fraud"}


def open_tickets_about(order: Order) -> QuerySet[Ticket]:
    """The customer's unresolved tickets about this order: linked to it, or linked to no order."""
    about = Q(order=order)
    if order.customer_id:
        about |= Q(order__isnull=True, customer_id=order.customer_id)
    return (
        Ticket.objects.filter(about, shop_id=order.shop_id)
        .exclude(status=TicketStatus.RESOLVED)
        .order_by("id")
    )


def _post_to_timeline(order: Order, kind: str, key: str, data: dict) -> list[Ticket]:
    if not order.shop.post_order_timeline:
        return []
    touched = []
    for ticket in open_tickets_about(order):
        event = services.record_event(
            ticket=ticket, kind=kind, automation=TIMELINE,
            data={"order": order.name, **data}, dedupe_key=f"{key}:ticket{ticket.pk}",
        )  # fmt: skip
        if event:
            services.touch_activity(ticket)
            touched.append(ticket)
    return touched


def note_fulfillment(order: Order, fulfillment: Fulfillment) -> None:
    _post_to_timeline(
        order, "order_fulfilled", f"fulfilled:f{fulfillment.pk}",
        {
            "fulfillment": fulfillment.name,
            "tracking_company": fulfillment.tracking_company,
            "tracking_numbers": fulfillment.tracking_numbers,
            "tracking_urls": fulfillment.tracking_urls,
        },
    )  # fmt: skip


def note_shipment_status(order: Order | None, fulfillment: Fulfillment, status: str) -> None:
    if order is None:
        return
    _post_to_timeline(
        order, "shipment_status", f"shipment:f{fulfillment.pk}:{status}",
        {"fulfillment": fulfillment.name, "status": status,
         "tracking_numbers": fulfillment.tracking_numbers},
    )  # fmt: skip


def note_cancellation(order: Order, reason: str) -> None:
    _post_to_timeline(order, "order_cancelled", f"cancelled:o{order.pk}", {"reason": reason})


def resolve_for_refund(order: Order, refund: Refund) -> None:
    """A refund landed: say so on the order's tickets and resolve those waiting on it.

    Escalated tickets get the note and stay for a person.
    """
    note_data = {"amount": str(refund.amount), "currency": refund.currency, "note": refund.note}
    _post_to_timeline(order, "refund_created", f"refund:r{refund.pk}", note_data)
    if not order.shop.auto_resolve_refunds:
        return
    amount = f"{refund.amount.normalize():f} {refund.currency}".strip()
    for ticket in open_tickets_about(order).filter(order=order):
        marker = services.record_event(
            ticket=ticket, kind="refund_auto_resolve", automation=REFUND,
            data=note_data, dedupe_key=f"refund-resolve:r{refund.pk}:ticket{ticket.pk}",
        )  # fmt: skip
        if marker is None:
            continue
        if ticket.status == TicketStatus.ESCALATED:
            body = f"Refund of {amount} issued for {order.name}. Escalated: left open for a person."
            services.post_system_message(ticket=ticket, body=body, automation=REFUND)
            continue
        body = f"Refund of {amount} issued for {order.name}; ticket resolved automatically."
        services.post_system_message(ticket=ticket, body=body, automation=REFUND)
        services.resolve(ticket=ticket, automation=REFUND)


def escalate_flagged(shop: Shop, order: Order, reason: str) -> None:
    """Once per order and flag reason: escalate its open tickets, or open one if there is none."""
    if not shop.escalate_flagged_orders:
        return
    label = FLAG_LABELS.get(reason, f"tagged {reason.removeprefix('tag:')!r}")
    tickets = list(open_tickets_about(order).filter(order=order))
    if not tickets:
        customer = order.customer or _customer_for_guest(order)
        ticket = services.open_ticket(
            shop=shop, customer=customer, order=order, channel=Channel.AUTOMATION,
            subject=f"Flagged order {order.name}: {label}", priority=Priority.URGENT,
            status=TicketStatus.OPEN, automation=ESCALATION,
        )  # fmt: skip
        tickets = [ticket]
    for ticket in tickets:
        marker = services.record_event(
            ticket=ticket, kind="order_flagged", automation=ESCALATION,
            data={"order": order.name, "reason": reason},
            dedupe_key=f"flagged:o{order.pk}:{reason}:ticket{ticket.pk}",
        )  # fmt: skip
        if marker is None:
            continue
        services.post_system_message(
            ticket=ticket, automation=ESCALATION,
            body=f"Order {order.name} was flagged ({label}). Escalated for review.",
        )  # fmt: skip
        services.escalate(ticket=ticket, automation=ESCALATION, reason=reason)


def _customer_for_guest(order: Order) -> Customer:
    """A guest checkout has no Shopify customer: the ticket still needs someone to belong to."""
    email = order.email.lower()
    existing = (
        Customer.objects.filter(shop_id=order.shop_id, email__iexact=email).order_by("id").first()
        if email
        else None
    )
    return existing or Customer.objects.create(shop_id=order.shop_id, email=email)
