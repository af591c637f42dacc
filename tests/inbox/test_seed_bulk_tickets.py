"""`manage.py seed_bulk_tickets` builds a big inbox fast (small numbers here)."""

import pytest
from django.core.management import call_command

from integrations.models import Customer, Order
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db


def test_it_creates_the_tickets_and_messages_asked_for_with_their_own_times(agent_client):
    call_command("seed_bulk_tickets", tickets=200, messages=900, agents=3, batch_size=50)

    assert Ticket.objects.count() == 200
    assert Message.objects.count() == 900
    assert Customer.objects.count() == 50 and Order.objects.count() >= 50
    times = set(Ticket.objects.values_list("last_activity_at", flat=True))
    assert len(times) > 150, "spread over the year, not stamped with the insert time"
    assert Ticket.objects.filter(status="resolved", resolved_at__isnull=True).count() == 0
    response = agent_client.get("/inbox/?view=all")
    assert response.content.decode().count('class="ticket-row"') == 25
