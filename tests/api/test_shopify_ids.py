"""No Shopify id is ever a JSON number in the API: JavaScript would round it. The factories make
every Shopify id larger than 2**53, so any integer that large in any answer is one that leaked."""

import json

import pytest

from tests.factories import (
    AttemptFactory,
    DeliveryFactory,
    EndpointFactory,
    FulfillmentFactory,
    InboundWebhookFactory,
    MessageFactory,
    NotificationFactory,
    RefundFactory,
    TicketFactory,
)

pytestmark = pytest.mark.django_db

BEYOND_FLOAT = 2**53


def big_numbers(value, path="") -> list[str]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in big_numbers(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in big_numbers(v, f"{path}[{i}]")]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > BEYOND_FLOAT:
        return [f"{path} = {value}"]
    return []


def test_no_answer_carries_a_shopify_id_as_a_number(admin_api):
    refund = RefundFactory()
    order = refund.order
    FulfillmentFactory(order=order)
    ticket = TicketFactory(customer=order.customer, order=order)
    MessageFactory(ticket=ticket)
    NotificationFactory(ticket=ticket)
    delivery = DeliveryFactory(endpoint=EndpointFactory())
    AttemptFactory(delivery=delivery)
    inbound = InboundWebhookFactory(shop=order.shop)

    urls = [
        "/api/tickets/", f"/api/tickets/{ticket.pk}/", f"/api/tickets/{ticket.pk}/messages/",
        "/api/customers/", f"/api/customers/{order.customer_id}/",
        "/api/orders/", f"/api/orders/{order.pk}/", "/api/notifications/", "/api/shops/",
        "/api/deliveries/", f"/api/deliveries/{delivery.pk}/", "/api/event-types/",
        "/api/inbound-webhooks/", f"/api/inbound-webhooks/{inbound.pk}/",
    ]  # fmt: skip
    leaks = []
    for url in urls:
        response = admin_api.get(url)
        assert response.status_code == 200, (url, response.content)
        leaks += [f"{url}: {leak}" for leak in big_numbers(json.loads(response.content))]

    assert leaks == []


def test_the_ids_that_are_strings_are_the_right_ones(admin_api):
    order = FulfillmentFactory().order
    body = admin_api.get(f"/api/orders/{order.pk}/").json()
    assert body["shopify_id"] == str(order.shopify_id)
    assert body["fulfillments"][0]["line_items"][0]["id"] == str(order.line_items[0]["id"])
    assert isinstance(body["id"], int), "Bookbag's own ids stay numbers"
