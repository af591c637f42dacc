"""Refund auto-resolve, escalation of flagged orders, cancellations and the order timeline."""

import pytest
from django.core import mail

from integrations.models import Customer
from tests.integrations.shopify import fixture
from tickets import services
from tickets.models import AuthorKind, Priority, Ticket, TicketEvent, TicketStatus

pytestmark = [pytest.mark.django_db, pytest.mark.queue]


def test_a_refund_resolves_the_open_ticket_posts_the_amount_and_emails_the_customer(
    deliver, open_ticket_about_order
):
    deliver("refunds/create")

    ticket = Ticket.objects.get(pk=open_ticket_about_order.pk)
    assert ticket.status == TicketStatus.RESOLVED and ticket.resolved_at
    assert ticket.resolved_by is None and ticket.resolved_by_automation == "refund_auto_resolve"
    system = ticket.messages.filter(author_kind=AuthorKind.SYSTEM).get()
    assert "59.9 USD" in system.body and system.internal
    refund_email, csat_email = sorted(mail.outbox, key=lambda m: "How did we do" in m.subject)
    assert refund_email.subject == "Refund issued for your order #1001"
    assert "59.9 USD" in refund_email.body and "Damaged in transit" in refund_email.body
    assert csat_email.subject == f"How did we do? [#{ticket.pk}]", "resolved: the CSAT request"


def test_a_pending_ticket_is_resolved_too_and_a_duplicate_refund_does_nothing_more(
    deliver, open_ticket_about_order
):
    services.change_status(ticket=open_ticket_about_order, status=TicketStatus.PENDING)

    deliver("refunds/create")
    services.reopen(ticket=open_ticket_about_order)
    deliver("refunds/create")

    ticket = Ticket.objects.get(pk=open_ticket_about_order.pk)
    assert ticket.status == TicketStatus.OPEN, "the person's reopen stands"
    assert ticket.messages.filter(author_kind=AuthorKind.SYSTEM).count() == 1
    assert sorted(m.subject for m in mail.outbox) == [
        f"How did we do? [#{ticket.pk}]",
        "Refund issued for your order #1001",
    ], "one refund email, and the CSAT request once even after a second resolution"


def test_an_escalated_ticket_gets_the_note_but_stays_for_a_person(deliver, open_ticket_about_order):
    services.escalate(ticket=open_ticket_about_order, reason="angry customer")

    deliver("refunds/create")

    ticket = Ticket.objects.get(pk=open_ticket_about_order.pk)
    assert ticket.status == TicketStatus.ESCALATED
    assert "left open for a person" in ticket.messages.get(author_kind=AuthorKind.SYSTEM).body


def test_a_high_risk_order_escalates_its_open_ticket_once(deliver, open_ticket_about_order):
    deliver("orders/risk_assessment_changed")
    deliver("orders/risk_assessment_changed")

    ticket = Ticket.objects.get(pk=open_ticket_about_order.pk)
    assert (ticket.status, ticket.priority) == (TicketStatus.ESCALATED, Priority.URGENT)
    assert ticket.events.filter(kind="order_flagged").count() == 1
    assert Ticket.objects.count() == 1


def test_a_flagged_order_without_a_ticket_opens_an_escalation_ticket(deliver, order):
    deliver("orders/risk_assessment_changed")
    deliver("orders/risk_assessment_changed", webhook_id="again")

    ticket = Ticket.objects.get()
    assert ticket.order == order and ticket.customer == order.customer
    assert ticket.status == TicketStatus.ESCALATED and ticket.priority == Priority.URGENT
    assert "#1001" in ticket.subject and "risk" in ticket.subject
    assert ticket.events.get(kind="created").automation == "flagged_order_escalation"


def test_a_flagged_guest_order_gets_a_ticket_for_its_email(deliver, shop):
    payload = fixture("orders/create_guest")
    payload["tags"] = "fraud"
    deliver("orders/create", payload)

    ticket = Ticket.objects.get()
    assert ticket.customer.email == "guest@example.com" and ticket.customer.shopify_id is None
    assert Customer.objects.filter(shop=shop).count() == 1


def test_a_cancellation_notes_the_ticket_and_emails_the_customer(deliver, open_ticket_about_order):
    deliver("orders/cancelled")
    deliver("orders/cancelled")

    event = TicketEvent.objects.get(kind="order_cancelled")
    assert event.ticket_id == open_ticket_about_order.pk and event.data["reason"] == "customer"
    assert event.automation == "order_timeline"
    cancelled = [m for m in mail.outbox if "cancelled" in m.subject]
    assert len(cancelled) == 1 and "at your request" in cancelled[0].body


def test_a_fraud_cancellation_escalates_instead_of_emailing(deliver, open_ticket_about_order):
    payload = fixture("orders/cancelled")
    payload["cancel_reason"] = "fraud"

    deliver("orders/cancelled", payload)

    assert not [m for m in mail.outbox if "cancelled" in m.subject]
    assert Ticket.objects.get(pk=open_ticket_about_order.pk).status == TicketStatus.ESCALATED


def test_every_commerce_event_lands_on_the_tickets_timeline_once(deliver, open_ticket_about_order):
    for topic in (
        "fulfillments/create", "fulfillments/create", "fulfillments/update",
        "fulfillment_events/create", "fulfillment_events/create", "orders/cancelled",
    ):  # fmt: skip
        deliver(topic)

    kinds = list(
        open_ticket_about_order.events.filter(automation="order_timeline").values_list(
            "kind", "data__status"
        )
    )
    assert kinds == [
        ("order_fulfilled", None),
        ("shipment_status", "in_transit"),
        ("shipment_status", "delivered"),
        ("order_fulfilled", None),  # the cancelled order's payload names a second shipment
        ("order_cancelled", None),
    ]
    fulfilled = open_ticket_about_order.events.filter(kind="order_fulfilled").first()
    assert fulfilled.data["tracking_numbers"] == ["1Z2345"]


def test_resolved_tickets_and_other_customers_tickets_are_left_alone(
    deliver, order, open_ticket_about_order, shop
):
    services.resolve(ticket=open_ticket_about_order)
    someone = Customer.objects.create(shop=shop, email="someone@example.com")
    other = services.open_ticket(shop=shop, customer=someone, subject="Hello")

    deliver("fulfillments/create")

    assert not TicketEvent.objects.filter(kind="order_fulfilled").exists()
    assert not other.events.exclude(kind="created").exists()


@pytest.mark.parametrize(
    ("switch", "topic", "effect"),
    [
        ("send_tracking_emails", "fulfillments/create", "email"),
        ("post_order_timeline", "fulfillments/create", "timeline"),
        ("auto_resolve_refunds", "refunds/create", "resolve"),
        ("escalate_flagged_orders", "orders/risk_assessment_changed", "escalate"),
        ("send_cancellation_emails", "orders/cancelled", "email"),
    ],
)
def test_each_switch_turned_off_stops_its_automation(
    deliver, shop, open_ticket_about_order, switch, topic, effect
):
    setattr(shop, switch, False)
    shop.save()

    deliver(topic)

    ticket = Ticket.objects.get(pk=open_ticket_about_order.pk)
    if effect == "email":
        stopped = {"send_tracking_emails": "on its way", "send_cancellation_emails": "cancelled"}
        assert not [m for m in mail.outbox if stopped[switch] in m.subject]
    elif effect == "timeline":
        assert not ticket.events.filter(automation="order_timeline").exists()
        assert len(mail.outbox) == 1, "the email automation still runs"
    elif effect == "resolve":
        assert ticket.status == TicketStatus.OPEN and mail.outbox == []
    elif effect == "escalate":
        assert ticket.status == TicketStatus.OPEN and Ticket.objects.count() == 1
