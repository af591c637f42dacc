"""Saved replies, filled in for the ticket on the server from a plain-dict context."""

import pytest

from tests.factories import FulfillmentFactory, OrderFactory, SavedReplyFactory, TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(customer, order):
    FulfillmentFactory(order=order, tracking_urls=["https://www.ups.com/track?tracknum=1Z1"])
    return TicketFactory(customer=customer, order=order)


def fill(client, ticket, reply) -> str:
    response = client.get(f"/inbox/tickets/{ticket.pk}/saved-replies/{reply.pk}/")
    assert response.status_code == 200
    return response.json()["body"]


def test_the_variables_are_filled_in(agent_client, ticket):
    reply = SavedReplyFactory(
        body="Hi {{ customer.first_name }}, {{ order.name }} is on its way: {{ tracking_url }}"
        "\n{{ agent.first_name }}"
    )

    assert fill(agent_client, ticket, reply) == (
        "Hi Maya, #1001 is on its way: https://www.ups.com/track?tracknum=1Z1\nSam"
    )


def test_without_a_linked_order_the_customers_latest_order_is_used(agent_client, customer, order):
    ticket = TicketFactory(customer=customer, order=None)
    reply = SavedReplyFactory(body="{{ order.name }}")

    assert fill(agent_client, ticket, reply) == "#1001"
    ticket_without_any = TicketFactory()
    assert fill(agent_client, ticket_without_any, reply) == ""


def test_the_text_is_plain_text_for_the_reply_box_and_escaped_on_the_page(
    agent_client, customer, ticket
):
    customer.first_name = "<b>O'Neil</b>"
    customer.save()
    reply = SavedReplyFactory(title="Greeting", body="Hi {{ customer.first_name }}")

    assert fill(agent_client, ticket, reply) == "Hi <b>O'Neil</b>", "a textarea value, not HTML"
    html = agent_client.get(f"/inbox/tickets/{ticket.pk}/").content.decode()
    assert "<b>O'Neil</b>" not in html
    assert ">Greeting</option>" in html, "the reply box offers it"


def test_templates_cannot_reach_beyond_the_plain_context(agent_client, ticket):
    sneaky = SavedReplyFactory(
        body='{% include "inbox/base.html" %}{{ customer.shop.webhook_secret }}'
        "{{ settings.SECRET_KEY }}"
    )
    broken = SavedReplyFactory(body="Hi {% if %}")

    assert fill(agent_client, ticket, sneaky) == '{% include "inbox/base.html" %}' + (
        "{{ customer.shop.webhook_secret }}{{ settings.SECRET_KEY }}"
    ), "a template that cannot render is inserted as written"
    assert fill(agent_client, ticket, broken) == "Hi {% if %}"
    only_vars = SavedReplyFactory(body="[{{ customer.shop.webhook_secret }}{{ settings }}]")
    assert fill(agent_client, ticket, only_vars) == "[]"


def test_an_unknown_saved_reply_or_ticket_is_404(agent_client, ticket):
    reply = SavedReplyFactory()
    assert agent_client.get(f"/inbox/tickets/{ticket.pk}/saved-replies/9999/").status_code == 404
    assert agent_client.get(f"/inbox/tickets/9999/saved-replies/{reply.pk}/").status_code == 404


def test_other_orders_do_not_leak_into_a_reply(agent_client, ticket):
    OrderFactory(name="#9999")  # another customer's
    reply = SavedReplyFactory(body="{{ order.name }}")
    assert fill(agent_client, ticket, reply) == "#1001"
