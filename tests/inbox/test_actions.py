"""Every action on the ticket page goes through tickets.services, and every form needs CSRF."""

import pytest
from django.core import mail
from django.test import Client

from tests.factories import OrderFactory, TicketFactory
from tickets.models import AuthorKind, CsatSurvey, TicketEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(customer):
    from tickets import services

    return services.open_ticket(
        shop=customer.shop, customer=customer, subject="Where is my tote?",
        body="Hi, any news on my order?",
    )  # fmt: skip


def post(client, ticket, action, data=None):
    response = client.post(f"/inbox/tickets/{ticket.pk}/{action}/", data or {})
    assert response.status_code == 302, response.content
    ticket.refresh_from_db()
    return response


def test_a_reply_is_posted_and_emailed_to_the_customer(
    agent_client, agent, ticket, run_queued_tasks
):
    response = post(agent_client, ticket, "messages", {"kind": "reply", "body": "It ships today!"})

    assert response["Location"] == f"/inbox/tickets/{ticket.pk}/#latest"
    message = ticket.messages.order_by("-id").first()
    assert (message.body, message.author, message.internal) == ("It ships today!", agent, False)
    assert message.author_kind == AuthorKind.AGENT
    run_queued_tasks()
    assert [m.to for m in mail.outbox] == [["maya@example.com"]]
    assert "It ships today!" in mail.outbox[0].body


def test_a_note_stays_internal_and_is_never_emailed(agent_client, ticket, run_queued_tasks):
    post(agent_client, ticket, "messages", {"kind": "note", "body": "Check the warehouse"})

    assert ticket.messages.order_by("-id").first().internal
    run_queued_tasks()
    assert mail.outbox == []


def test_an_empty_message_is_refused_with_a_message(agent_client, ticket):
    response = agent_client.post(
        f"/inbox/tickets/{ticket.pk}/messages/", {"kind": "reply", "body": "   "}, follow=True
    )

    assert b"This field is required" in response.content
    assert ticket.messages.count() == 1


def test_assign_to_me_to_another_agent_and_unassign(agent_client, agent, other_agent, ticket):
    post(agent_client, ticket, "assign", {"to_me": "1"})
    assert ticket.assignee == agent

    post(agent_client, ticket, "assign", {"assignee": other_agent.pk})
    assert ticket.assignee == other_agent

    post(agent_client, ticket, "assign", {"assignee": ""})
    assert ticket.assignee is None
    assert ticket.events.filter(kind="assigned").count() == 3


def test_only_agents_can_be_assigned(agent_client, stranger, ticket):
    post(agent_client, ticket, "assign", {"assignee": stranger.pk})
    assert ticket.assignee is None


def test_status_priority_and_tags(agent_client, agent, ticket):
    post(agent_client, ticket, "status", {"status": "pending"})
    post(agent_client, ticket, "priority", {"priority": "high"})
    post(agent_client, ticket, "tags", {"tags": "Shipping, vip, , shipping"})

    assert (ticket.status, ticket.priority) == ("pending", "high")
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["shipping", "vip"]
    kinds = set(ticket.events.values_list("kind", flat=True))
    assert {"status_changed", "priority_changed", "tags_changed"} <= kinds
    assert ticket.events.get(kind="priority_changed").actor == agent


def test_resolve_sends_the_csat_request_and_reopen_clears_the_resolution(
    agent_client, agent, ticket, run_queued_tasks
):
    post(agent_client, ticket, "resolve")
    assert ticket.status == "resolved" and ticket.resolved_by == agent
    run_queued_tasks()
    survey = CsatSurvey.objects.get(ticket=ticket)
    assert any(f"/csat/{survey.token}/" in m.body for m in mail.outbox)

    post(agent_client, ticket, "reopen")
    assert ticket.status == "open" and ticket.resolved_at is None


def test_escalate_makes_it_urgent_with_the_reason(agent_client, ticket):
    post(agent_client, ticket, "escalate", {"reason": "angry customer"})

    assert (ticket.status, ticket.priority) == ("escalated", "urgent")
    event = ticket.events.get(kind="status_changed", data__to="escalated")
    assert event.data["reason"] == "angry customer"


def test_link_and_unlink_an_order(agent_client, ticket, customer):
    order = OrderFactory(customer=customer, name="#1002")

    post(agent_client, ticket, "order", {"order": order.pk})
    assert ticket.order == order

    post(agent_client, ticket, "order", {"order": ""})
    assert ticket.order is None
    assert list(ticket.events.filter(kind__startswith="order_").values_list("kind", flat=True)) == [
        "order_linked", "order_unlinked",
    ]  # fmt: skip


def test_an_order_of_another_store_cannot_be_linked(agent_client, ticket):
    elsewhere = OrderFactory()

    post(agent_client, ticket, "order", {"order": elsewhere.pk})

    assert ticket.order is None


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("messages", {"kind": "reply", "body": "Hi"}),
        ("assign", {"to_me": "1"}),
        ("status", {"status": "pending"}),
        ("priority", {"priority": "urgent"}),
        ("tags", {"tags": "x"}),
        ("resolve", {}),
        ("escalate", {}),
        ("order", {"order": ""}),
    ],
)
def test_every_action_needs_the_csrf_token(agent, ticket, action, data):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    events_before = TicketEvent.objects.count()

    refused = client.post(f"/inbox/tickets/{ticket.pk}/{action}/", data)

    assert refused.status_code == 403
    assert TicketEvent.objects.count() == events_before
    token = client.get(f"/inbox/tickets/{ticket.pk}/").cookies["csrftoken"].value
    accepted = client.post(
        f"/inbox/tickets/{ticket.pk}/{action}/", {**data, "csrfmiddlewaretoken": token}
    )
    assert accepted.status_code == 302


def test_the_page_carries_a_csrf_token_in_every_form(agent_client, ticket):
    html = agent_client.get(f"/inbox/tickets/{ticket.pk}/").content.decode()

    forms = html.count('method="post"')
    assert forms >= 8
    assert html.count('name="csrfmiddlewaretoken"') >= forms


def test_actions_on_a_missing_ticket_are_404(agent_client):
    assert agent_client.post("/inbox/tickets/424242/resolve/").status_code == 404


def test_a_closed_page_clears_the_presence_entry(agent_client, agent, other_agent, ticket):
    from tickets import presence

    agent_client.get(f"/inbox/tickets/{ticket.pk}/")
    assert presence.others(ticket.pk, other_agent) == [{"name": "Sam Rivera", "state": "viewing"}]

    assert agent_client.post(f"/inbox/tickets/{ticket.pk}/leave/").status_code == 204
    assert presence.others(ticket.pk, other_agent) == []


def test_tickets_of_the_factory_work_too(agent_client):
    ticket = TicketFactory()
    post(agent_client, ticket, "resolve")
    assert ticket.status == "resolved"
