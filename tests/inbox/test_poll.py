"""The live-update poll: an ETag over what the page shows, 304 while nothing changed."""

import pytest
from django.test import Client

from tests.factories import FulfillmentFactory, TicketFactory
from tickets import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(customer, order):
    return TicketFactory(customer=customer, order=order)


def poll(client, query, etag=None):
    headers = {"HTTP_IF_NONE_MATCH": etag} if etag else {}
    return client.get(f"/inbox/poll/?{query}", **headers)


def test_nothing_changed_is_a_304_with_the_same_etag(agent_client, ticket):
    first = poll(agent_client, "list=1")
    assert first.status_code == 200 and first["ETag"]
    assert first["Cache-Control"] == "private, no-cache"

    again = poll(agent_client, "list=1", first["ETag"])

    assert again.status_code == 304 and again["ETag"] == first["ETag"]
    assert again.content == b""


@pytest.mark.parametrize(
    "change",
    [
        lambda t, a: services.add_customer_message(ticket=t, body="Any news?"),
        lambda t, a: services.change_status(ticket=t, status="pending", actor=a),
        lambda t, a: services.assign(ticket=t, assignee=a, actor=a),
        lambda t, a: TicketFactory(),
    ],
    ids=["new message", "status", "assignment", "new ticket"],
)
def test_a_ticket_change_moves_the_list_version(agent_client, agent, ticket, change):
    before = poll(agent_client, "list=1")

    change(ticket, agent)
    after = poll(agent_client, "list=1", before["ETag"])

    assert after.status_code == 200
    assert after.json()["versions"]["list"] != before.json()["versions"]["list"]


@pytest.mark.parametrize(
    "change",
    [
        lambda t, a: services.add_note(ticket=t, body="psst", author=a),
        lambda t, a: services.record_event(ticket=t, kind="order_fulfilled", data={}),
        lambda t, a: FulfillmentFactory(order=t.order),
        lambda t, a: t.order.__class__.objects.filter(pk=t.order_id).update(
            financial_status="refunded"
        )
        and t.order.save(update_fields=["updated_at"]),
        lambda t, a: services.open_ticket(shop=t.shop, customer=t.customer, subject="Another"),
    ],
    ids=["note", "timeline event", "fulfillment", "order update", "customer's other ticket"],
)
def test_anything_the_ticket_page_shows_moves_the_ticket_version(
    agent_client, agent, ticket, change
):
    before = poll(agent_client, f"ticket={ticket.pk}")

    change(ticket, agent)
    after = poll(agent_client, f"ticket={ticket.pk}", before["ETag"])

    assert after.status_code == 200
    assert after.json()["versions"]["ticket"] != before.json()["versions"]["ticket"]


def test_an_order_update_moves_the_list_version_too(agent_client, ticket):
    before = poll(agent_client, "list=1")

    FulfillmentFactory(order=ticket.order, shipment_status="delivered")

    assert poll(agent_client, "list=1", before["ETag"]).status_code == 200


def test_another_agent_opening_the_ticket_shows_in_the_poll(agent_client, other_agent, ticket):
    alone = poll(agent_client, f"ticket={ticket.pk}")
    assert alone.json()["others"] == []

    alex = Client()
    alex.force_login(other_agent)
    alex.get(f"/inbox/poll/?ticket={ticket.pk}&state=replying")
    response = poll(agent_client, f"ticket={ticket.pk}", alone["ETag"])

    assert response.status_code == 200, "presence is part of the ETag"
    assert response.json()["others"] == [{"name": "Alex Kim", "state": "replying"}]


def test_a_missing_or_malformed_ticket_is_404(agent_client):
    assert poll(agent_client, "ticket=999999").status_code == 404
    assert poll(agent_client, "ticket=abc").status_code == 404


def test_the_poll_is_cheap(agent_client, ticket, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):  # session, user, role, one version query (+ ticket)
        poll(agent_client, "list=1")
    with django_assert_max_num_queries(5):
        poll(agent_client, f"ticket={ticket.pk}")


def test_the_list_fragment_is_what_the_page_refreshes(agent_client, ticket):
    response = agent_client.get("/inbox/?fragment=1")

    html = response.content.decode()
    assert 'id="ticket-rows"' in html and 'id="view-tabs"' in html and "<html" not in html


def test_the_ticket_fragment_is_what_the_page_refreshes(agent_client, ticket):
    html = agent_client.get(f"/inbox/tickets/{ticket.pk}/?fragment=1").content.decode()

    for part in ("ticket-header", "timeline", "ticket-sidebar", "ticket-actions"):
        assert f'id="{part}"' in html
    assert "<html" not in html and 'id="composer"' not in html, "the composer is never replaced"
