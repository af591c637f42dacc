"""Bulk actions from the list: one service call per ticket."""

import pytest

from tests.factories import TagFactory, TicketFactory
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def bulk(client, tickets, **data):
    return client.post(
        "/inbox/bulk/", {"tickets": [t.pk for t in tickets], "next": "/inbox/?view=all", **data}
    )


def test_bulk_assign_status_priority_and_tag(agent_client, agent, other_agent):
    tickets = [TicketFactory(), TicketFactory()]
    untouched = TicketFactory()
    TagFactory(name="vip")
    tickets[0].tags.add(TagFactory(name="shipping"))

    assert bulk(agent_client, tickets, action="assign", assignee="me")["Location"] == (
        "/inbox/?view=all"
    )
    assert {t.assignee for t in Ticket.objects.filter(pk__in=[t.pk for t in tickets])} == {agent}

    bulk(agent_client, tickets, action="assign", assignee=str(other_agent.pk))
    bulk(agent_client, tickets, action="status", status="pending")
    bulk(agent_client, tickets, action="priority", priority="urgent")
    bulk(agent_client, tickets, action="tag", tag="vip")

    for ticket in Ticket.objects.filter(pk__in=[t.pk for t in tickets]):
        assert (ticket.assignee, ticket.status) == (other_agent, "pending")
        assert ticket.priority == "urgent"
        assert "vip" in ticket.tags.values_list("name", flat=True)
        assert ticket.events.filter(kind="status_changed").exists(), "through the services"
    assert sorted(Ticket.objects.get(pk=tickets[0].pk).tags.values_list("name", flat=True)) == [
        "shipping", "vip",
    ], "adding a tag keeps the others"  # fmt: skip
    untouched.refresh_from_db()
    assert (untouched.status, untouched.assignee) == ("open", None)


def test_bulk_unassign_and_resolve(agent_client, agent):
    tickets = [TicketFactory(assignee=agent), TicketFactory(assignee=agent)]

    bulk(agent_client, tickets, action="assign", assignee="none")
    bulk(agent_client, tickets, action="status", status="resolved")

    for ticket in Ticket.objects.filter(pk__in=[t.pk for t in tickets]):
        assert ticket.assignee is None and ticket.status == "resolved" and ticket.resolved_at


def test_bulk_refuses_a_missing_value_a_non_agent_and_more_than_100_tickets(agent_client, stranger):
    ticket = TicketFactory()

    bulk(agent_client, [ticket], action="status")
    bulk(agent_client, [ticket], action="assign", assignee=str(stranger.pk))
    response = agent_client.post(
        "/inbox/bulk/", {"tickets": list(range(1, 102)), "action": "status", "status": "pending"},
        follow=True,
    )  # fmt: skip

    assert b"at most 100 tickets" in response.content
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee) == ("open", None)


def test_bulk_never_redirects_to_another_site(agent_client):
    ticket = TicketFactory()
    response = agent_client.post(
        "/inbox/bulk/",
        {"tickets": [ticket.pk], "action": "priority", "priority": "low",
         "next": "https://evil.test/"},
    )  # fmt: skip
    assert response["Location"] == "/inbox/"


def test_bulk_is_for_agents_only(client, stranger):
    ticket = TicketFactory()
    client.force_login(stranger)

    assert bulk(client, [ticket], action="status", status="pending").status_code == 403
