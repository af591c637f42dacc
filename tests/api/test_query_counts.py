"""Every list of the API runs the same, small number of SQL queries for 2 rows or 20, each row
with its related rows (tags, messages, orders, fulfillments, refunds, attempts): no N+1."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import (
    AgentFactory,
    AttemptFactory,
    CustomerFactory,
    DeliveryFactory,
    EndpointFactory,
    FulfillmentFactory,
    InboundWebhookFactory,
    MessageFactory,
    NotificationFactory,
    OrderFactory,
    RefundFactory,
    ShopFactory,
    TagFactory,
    TicketFactory,
)

pytestmark = pytest.mark.django_db


def busy_ticket(shop):
    order = OrderFactory(shop=shop, fulfilled=True)
    FulfillmentFactory(order=order)
    RefundFactory(order=order)
    ticket = TicketFactory(
        customer=order.customer, order=order, assignee=AgentFactory(),
        resolved_by=AgentFactory(), tags=[TagFactory(), TagFactory()],
    )  # fmt: skip
    MessageFactory(ticket=ticket)
    MessageFactory(ticket=ticket, reply=True)
    return ticket


def busy_delivery(endpoint):
    delivery = DeliveryFactory(endpoint=endpoint)
    AttemptFactory(delivery=delivery, response_status=500)
    AttemptFactory(delivery=delivery)
    return delivery


class World:
    """Rows for every list, added `n` at a time (one ticket owns the messages list)."""

    def __init__(self):
        self.shop = ShopFactory()
        self.endpoint = EndpointFactory()
        self.ticket = busy_ticket(self.shop)

    def add(self, n: int) -> None:
        for _ in range(n):
            ticket = busy_ticket(self.shop)
            customer = CustomerFactory(shop=self.shop)
            OrderFactory(customer=customer)
            TicketFactory(customer=customer)
            MessageFactory(ticket=self.ticket, reply=True)
            NotificationFactory(ticket=ticket)
            EndpointFactory()
            busy_delivery(self.endpoint)
            InboundWebhookFactory(shop=self.shop)
            AgentFactory()
            ShopFactory()


# url → the most queries one page may take: the token with its user and the user's groups (2),
# then the page's own.
LISTS = {
    "/api/tickets/": 4,  # tickets joined with shop/customer/order/assignee/resolved_by; tags
    "/api/tickets/{ticket}/messages/": 4,  # the ticket; messages joined with their authors
    "/api/customers/": 5,  # customers; their recent orders; their recent tickets
    "/api/orders/": 5,  # orders joined with customers; fulfillments; refunds
    "/api/shops/": 3,
    "/api/agents/": 3,
    "/api/notifications/": 3,
    "/api/webhook-endpoints/": 3,
    "/api/deliveries/": 4,  # deliveries joined with events; attempts
    "/api/event-types/": 2,  # a fixed catalogue, no query of its own
    "/api/inbound-webhooks/": 3,
}


def queries(client, url: str) -> tuple[int, int]:
    """How many queries one page of `url` took, and how many rows it showed."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, {"page_size": 200})
    assert response.status_code == 200, response.content
    return len(captured), len(response.json()["results"])


def test_every_list_runs_the_same_queries_for_2_rows_as_for_20(admin_api):
    world = World()
    world.add(1)
    urls = {url.format(ticket=world.ticket.pk): most for url, most in LISTS.items()}
    few = {url: queries(admin_api, url) for url in urls}

    world.add(18)
    many = {url: queries(admin_api, url) for url in urls}

    for url, most in urls.items():
        (few_queries, few_rows), (many_queries, many_rows) = few[url], many[url]
        if url != "/api/event-types/":  # a fixed catalogue
            assert many_rows >= few_rows + 18, f"{url}: the second page really has more rows"
        assert many_queries == few_queries, (
            f"{url}: {few_queries} queries for {few_rows} rows, {many_queries} for {many_rows}"
        )
        assert many_queries <= most, f"{url}: {many_queries} queries"


def test_a_ticket_with_many_messages_takes_as_few_queries_as_one_with_two(
    agent_api, django_assert_max_num_queries
):
    ticket = busy_ticket(ShopFactory())
    for _ in range(30):
        MessageFactory(ticket=ticket, reply=True)

    # token + user, groups, the ticket's version, the ticket joined, tags, messages + authors
    with django_assert_max_num_queries(6):
        response = agent_api.get(f"/api/tickets/{ticket.pk}/")

    assert len(response.json()["messages"]) == 32
