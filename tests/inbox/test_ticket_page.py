"""The ticket page: one timeline, and the customer with their orders beside it."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import (
    CsatSurveyFactory,
    FulfillmentFactory,
    MessageFactory,
    OrderFactory,
    RefundFactory,
    TicketEventFactory,
    TicketFactory,
)
from tickets import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(customer, order):
    return TicketFactory(customer=customer, order=order, subject="Where is my tote?")


def page(client, ticket) -> str:
    response = client.get(f"/inbox/tickets/{ticket.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_timeline_shows_messages_replies_notes_and_system_entries_in_order(
    agent_client, agent, ticket
):
    services.add_customer_message(ticket=ticket, body="Hi, any news on my tote?")
    services.reply(ticket=ticket, body="It ships today!", author=agent)
    services.add_note(ticket=ticket, body="Warehouse says Tuesday.", author=agent)
    services.post_system_message(
        ticket=ticket, body="Refund of 59.9 USD issued for #1001.", automation="refund_auto_resolve"
    )

    html = page(agent_client, ticket)

    order = [html.index(text) for text in (
        "Hi, any news on my tote?", "It ships today!", "Warehouse says Tuesday.",
        "Refund of 59.9 USD issued",
    )]  # fmt: skip
    assert order == sorted(order)
    assert 'class="entry entry-message entry-customer"' in html
    assert 'class="entry entry-message entry-reply"' in html
    assert "Reply · emailed to the customer" in html
    assert 'class="entry entry-message entry-note"' in html
    assert "Internal note · agents only" in html
    assert 'class="entry entry-message entry-system"' in html
    assert "System · not sent to the customer" in html


@pytest.mark.parametrize(
    ("kind", "data", "automation", "text"),
    [
        ("order_fulfilled", {"order": "#1001", "tracking_company": "UPS",
         "tracking_numbers": ["1Z999"], "tracking_urls": ["https://ups.test/1Z999"]},
         "order_timeline", "Order #1001 shipped with UPS"),
        ("shipment_status", {"fulfillment": "#1001.1", "status": "out_for_delivery"},
         "order_timeline", "Shipment #1001.1: Out for delivery"),
        ("refund_created", {"order": "#1001", "amount": "59.90", "currency": "USD",
         "note": "Damaged"}, "order_timeline", "Refund of 59.90 USD issued for #1001"),
        ("refund_auto_resolve", {}, "refund_auto_resolve", "resolved automatically"),
        ("order_flagged", {"order": "#1001", "reason": "risk_high"}, "flagged_order_escalation",
         "Order #1001 flagged: Shopify rates the order&#x27;s risk as high"),
        ("order_cancelled", {"order": "#1001", "reason": "customer"}, "order_timeline",
         "Order #1001 cancelled (Customer)"),
        ("status_changed", {"from": "open", "to": "escalated", "reason": "risk_high"},
         "flagged_order_escalation", "Status changed from Open to Escalated"),
        ("priority_changed", {"from": "normal", "to": "urgent"}, "", "Priority changed from "
         "Normal to Urgent"),
        ("assigned", {"to": "sam"}, "", "Assigned to sam"),
        ("tags_changed", {"added": ["vip"], "removed": []}, "", "added vip"),
        ("order_linked", {"order": "#1001"}, "", "Linked to order #1001"),
        ("csat_submitted", {"score": 4}, "", "Customer rated the support 4/5"),
        ("something_new", {"detail": "x"}, "", "Something new"),
    ],
)  # fmt: skip
def test_every_timeline_event_reads_as_a_sentence(agent_client, ticket, kind, data, automation,
                                                   text):  # fmt: skip
    TicketEventFactory(ticket=ticket, kind=kind, data=data, automation=automation)

    assert text in page(agent_client, ticket)


def test_automation_entries_name_the_automation_and_link_the_tracking(agent_client, ticket):
    TicketEventFactory(
        ticket=ticket, kind="order_fulfilled", automation="order_timeline",
        data={"order": "#1001", "tracking_company": "UPS", "tracking_numbers": ["1Z999", "1Z998"],
              "tracking_urls": ["https://ups.test/1Z999", "javascript:alert(1)"]},
    )  # fmt: skip

    html = page(agent_client, ticket)

    assert "by Order timeline" in html
    assert '<a href="https://ups.test/1Z999"' in html
    assert "javascript:" not in html, "only http(s) links from Shopify data"


def test_the_sidebar_shows_the_customer_and_their_orders_linked_first(
    agent_client, customer, order, ticket
):
    now = timezone.now()
    newer = OrderFactory(customer=customer, name="#1007", shopify_created_at=now)
    order.shopify_created_at = now - timedelta(days=30)
    order.fulfillment_status = "fulfilled"
    order.save()
    FulfillmentFactory(
        order=order, tracking_company="UPS", tracking_numbers=["1ZTRACK"],
        tracking_urls=["https://www.ups.com/track?tracknum=1ZTRACK"], shipment_status="in_transit",
    )  # fmt: skip
    RefundFactory(order=order, amount=Decimal("12.50"), note="Bent cover")
    OrderFactory(customer=customer, name="#1009", risk_level="high")
    TicketFactory(customer=customer, subject="An older question", resolved=True)

    html = page(agent_client, ticket)

    assert html.index("#1001") < html.index("#1007"), "the linked order first"
    assert "Linked" in html
    assert 'href="https://www.ups.com/track?tracknum=1ZTRACK"' in html
    assert "In transit" in html and "UPS" in html
    assert "Refunded 12.50 USD" in html and "Bent cover" in html
    assert "High risk" in html
    assert "64.90 USD" in html
    assert "maya@example.com" in html
    assert "An older question" in html, "the customer's other tickets"
    assert newer.name in html


def test_the_csat_answer_shows_on_the_ticket(agent_client, ticket):
    CsatSurveyFactory(ticket=ticket, answered=True, score=4, comment="Quick, thanks")

    html = page(agent_client, ticket)

    assert "CSAT 4/5" in html and "Quick, thanks" in html


def test_a_ticket_that_does_not_exist_is_404(agent_client):
    assert agent_client.get("/inbox/tickets/999999/").status_code == 404


def test_customer_text_is_escaped(agent_client, customer, ticket):
    customer.first_name = "<script>alert(1)</script>"
    customer.save()
    MessageFactory(ticket=ticket, body="<img src=x onerror=alert(2)>")

    html = page(agent_client, ticket)

    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert "<img src=x" not in html


def test_the_ticket_page_shows_who_else_is_looking(agent_client, other_agent, ticket):
    from tickets import presence

    presence.touch(ticket.pk, other_agent, "replying")

    assert "Alex Kim</strong> is replying to this ticket" in page(agent_client, ticket)
