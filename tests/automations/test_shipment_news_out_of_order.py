"""Shipment news arriving out of order (found by benchmarks/chaos.py, scenario 4): the final
state, the timeline and the emails are those of the in-order story."""

import pytest
from django.core import mail

from integrations.models import Fulfillment
from tests.integrations.shopify import fixture
from tickets import services
from tickets.models import TicketEvent

pytestmark = [pytest.mark.django_db, pytest.mark.queue]


@pytest.fixture
def open_ticket(ada):
    """Ada asked before ordering: a ticket tied to no order hears about all of hers."""
    return services.open_ticket(
        shop=ada.shop, customer=ada, subject="Where is my order?", body="Any news?"
    )


def shipment_timeline(ticket) -> list[str]:
    events = TicketEvent.objects.filter(ticket=ticket, kind="shipment_status").order_by("id")
    return [e.data["status"] for e in events]


def subjects() -> list[str]:
    return sorted(m.subject for m in mail.outbox)


def test_an_old_in_transit_update_after_delivered_leaves_the_shipment_delivered(
    deliver, order, open_ticket
):
    deliver("fulfillments/create")
    deliver("fulfillment_events/create")  # delivered, 2026-11-24
    deliver("fulfillments/update")  # in transit, as of 2026-11-21: older news, arriving late

    assert Fulfillment.objects.get().shipment_status == "delivered"
    assert shipment_timeline(open_ticket) == ["delivered", "in_transit"], "once each"
    assert subjects() == ["#1001: Delivered", "Your order #1001 is on its way"]


def test_shipment_news_before_the_order_reaches_the_tickets_once_the_order_arrives(
    deliver, ada, open_ticket
):
    deliver("fulfillment_events/create")  # delivered: Bookbag knows neither order nor tracking
    deliver("fulfillments/update")  # older news: in transit, with the tracking number
    assert shipment_timeline(open_ticket) == [] and mail.outbox == []

    deliver("orders/create")

    assert Fulfillment.objects.get().shipment_status == "delivered"
    assert shipment_timeline(open_ticket) == ["in_transit", "delivered"], "oldest news first"
    kinds = set(TicketEvent.objects.filter(ticket=open_ticket).values_list("kind", flat=True))
    assert "order_fulfilled" in kinds
    assert subjects() == ["#1001: Delivered", "Your order #1001 is on its way"]


def test_the_order_arriving_last_still_gets_every_shipment_status_once(deliver, ada, open_ticket):
    deliver("fulfillments/create")
    deliver("fulfillments/update")  # in transit
    deliver("fulfillment_events/create")  # delivered
    deliver("orders/create")
    deliver("orders/create")  # a retry changes nothing

    assert shipment_timeline(open_ticket) == ["in_transit", "delivered"]
    assert subjects() == ["#1001: Delivered", "Your order #1001 is on its way"]


def test_an_order_first_known_by_its_risk_assessment_still_announces_its_shipment(
    deliver, ada, open_ticket
):
    low = fixture("orders/risk_assessment_changed") | {"risk_level": "low"}
    deliver("orders/risk_assessment_changed", low)  # a placeholder order: no name yet
    deliver("fulfillments/create")  # linked to the placeholder, which cannot be announced
    deliver("fulfillments/update")
    assert mail.outbox == []

    deliver("orders/create")

    kinds = list(TicketEvent.objects.filter(ticket=open_ticket).values_list("kind", flat=True))
    assert kinds.count("order_fulfilled") == 1
    assert shipment_timeline(open_ticket) == ["in_transit"]
    assert subjects() == ["Your order #1001 is on its way"]
