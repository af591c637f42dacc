"""/api/notifications/: the customer emails Bookbag sent (or holds, or gave up on), read-only."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import Notification
from tests.factories import CustomerFactory, NotificationFactory, TicketFactory
from tickets import services

pytestmark = pytest.mark.django_db


def ids(client, params=None) -> list[int]:
    response = client.get("/api/notifications/", params or {})
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.mark.queue
def test_an_api_reply_shows_up_as_the_email_sent_to_the_customer(
    agent, agent_api, run_queued_tasks
):
    customer = CustomerFactory(email="ada@example.com")
    ticket = services.open_ticket(
        shop=customer.shop, customer=customer, subject="Lost parcel", body="Where is it?"
    )
    agent_api.post(f"/api/tickets/{ticket.pk}/reply/", {"body": "It ships today."})
    run_queued_tasks()

    [email] = agent_api.get("/api/notifications/", {"ticket": ticket.pk}).json()["results"]

    assert email["template_key"] == "agent_reply"
    assert email["to_email"] == "ada@example.com"
    assert email["status"] == "done" and email["sent_at"] is not None
    assert "It ships today." in email["text"]
    assert (email["ticket"], email["customer"], email["shop"]) == (
        ticket.pk,
        customer.pk,
        customer.shop_id,
    )
    assert "html" not in email


def test_notifications_filter_by_shop_customer_ticket_template_status_and_time(agent_api):
    ticket = TicketFactory()
    for_ticket = NotificationFactory(ticket=ticket, template_key="agent_reply")
    dead = NotificationFactory(status="dead", template_key="shipping_confirmation")
    old = NotificationFactory(customer=dead.customer, template_key="refund_issued")
    Notification.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=3))

    assert ids(agent_api, {"ticket": ticket.pk}) == [for_ticket.pk]
    assert ids(agent_api, {"shop": dead.shop_id}) == [old.pk, dead.pk]
    assert ids(agent_api, {"customer": dead.customer_id}) == [old.pk, dead.pk]
    assert ids(agent_api, {"template_key": "agent_reply"}) == [for_ticket.pk]
    assert ids(agent_api, {"status": "dead"}) == [dead.pk]
    assert ids(agent_api, {"status": ["dead", "pending"]}) == [old.pk, dead.pk, for_ticket.pk]
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids(agent_api, {"updated_since": since}) == [dead.pk, for_ticket.pk]


def test_a_bad_notification_filter_is_a_400(agent_api):
    response = agent_api.get("/api/notifications/", {"status": "sent"})
    assert response.status_code == 400 and "status" in response.json()["errors"]


def test_notifications_are_read_only(agent_api):
    notification = NotificationFactory()
    url = f"/api/notifications/{notification.pk}/"
    assert agent_api.post("/api/notifications/", {"subject": "x"}).status_code == 405
    assert agent_api.patch(url, {"status": "done"}).status_code == 405
    assert agent_api.put(url, {"status": "done"}).status_code == 405
    assert agent_api.delete(url).status_code == 405
    notification.refresh_from_db()
    assert notification.status == "pending"
