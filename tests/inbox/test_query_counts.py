"""The list and ticket pages run the same number of queries for 3 rows or 40."""

import pytest

from tests.factories import (
    AgentFactory,
    CsatSurveyFactory,
    CustomerFactory,
    FulfillmentFactory,
    MessageFactory,
    OrderFactory,
    RefundFactory,
    SavedReplyFactory,
    ShopFactory,
    TagFactory,
    TicketEventFactory,
    TicketFactory,
)

pytestmark = pytest.mark.django_db

LIST_QUERIES = 11  # session, user, role, version, 2 counts, rows, tags, shops, agents, tag list
TICKET_QUERIES = 16  # session, user, role, ticket, tags, messages, events, orders, fulfillments,
# refunds, history, version, agents, tag list, saved replies (+1 spare)


def busy_ticket(shop, customer=None):
    customer = customer or CustomerFactory(shop=shop)
    order = OrderFactory(customer=customer, fulfillment_status="fulfilled")
    FulfillmentFactory(order=order)
    RefundFactory(order=order)
    ticket = TicketFactory(
        customer=customer, order=order, assignee=AgentFactory(), tags=[TagFactory(), TagFactory()]
    )
    MessageFactory(ticket=ticket)
    MessageFactory(ticket=ticket, reply=True)
    MessageFactory(ticket=ticket, note=True)
    TicketEventFactory(ticket=ticket, kind="order_fulfilled", data={"order": order.name})
    return ticket


@pytest.mark.parametrize("rows", [3, 40])
def test_the_list_page_query_count_does_not_grow_with_rows(
    agent_client, rows, django_assert_max_num_queries
):
    shops = [ShopFactory(), ShopFactory()]
    for i in range(rows):
        busy_ticket(shops[i % 2])

    with django_assert_max_num_queries(LIST_QUERIES):
        response = agent_client.get("/inbox/?view=all")
    assert response.content.decode().count('class="ticket-row"') == min(rows, 25)

    with django_assert_max_num_queries(LIST_QUERIES):
        agent_client.get("/inbox/?view=all&q=where&tag=x&sort=priority&assignee=none")


@pytest.mark.parametrize("size", [1, 12])
def test_the_ticket_page_query_count_does_not_grow_with_the_conversation(
    agent_client, size, django_assert_max_num_queries
):
    shop = ShopFactory()
    customer = CustomerFactory(shop=shop)
    ticket = busy_ticket(shop, customer)
    CsatSurveyFactory(ticket=ticket, answered=True)
    for _ in range(size):
        busy_ticket(shop, customer)  # more orders, fulfillments, refunds, other tickets
        MessageFactory(ticket=ticket)
        MessageFactory(ticket=ticket, note=True)
        TicketEventFactory(ticket=ticket, kind="shipment_status", data={"status": "in_transit"})
        SavedReplyFactory()

    with django_assert_max_num_queries(TICKET_QUERIES):
        response = agent_client.get(f"/inbox/tickets/{ticket.pk}/")
    assert response.status_code == 200

    with django_assert_max_num_queries(TICKET_QUERIES):
        agent_client.get(f"/inbox/tickets/{ticket.pk}/?fragment=1")
