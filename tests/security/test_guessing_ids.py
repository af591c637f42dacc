"""IDOR: ids are small integers, so anyone can guess them. Guessing gets nobody further than
their role allows: an agent's answer on an admin-only route is the same whether the row exists
or not (the API promises it: permissions are checked before the lookup), an id that is not a
number is a 404 and never a 500, and a ticket's nested routes reach only that ticket's rows."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.api.conftest import token_client
from tests.factories import (
    AgentFactory,
    DeliveryFactory,
    EndpointFactory,
    InboundWebhookFactory,
    MessageFactory,
    OrderFactory,
    ShopFactory,
    TicketFactory,
)
from tickets.models import Message

pytestmark = pytest.mark.django_db

MISSING = 987_654_321


@pytest.fixture(autouse=True)
def _private_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture
def agent_api():
    return token_client(AgentFactory())


def admin_only_routes(endpoint: int, delivery: int, inbound: int) -> list[tuple[str, str]]:
    return [
        ("get", f"/api/webhook-endpoints/{endpoint}/"),
        ("patch", f"/api/webhook-endpoints/{endpoint}/"),
        ("delete", f"/api/webhook-endpoints/{endpoint}/"),
        ("post", f"/api/webhook-endpoints/{endpoint}/rotate-secret/"),
        ("post", f"/api/webhook-endpoints/{endpoint}/test/"),
        ("get", f"/api/deliveries/{delivery}/"),
        ("post", f"/api/deliveries/{delivery}/resend/"),
        ("get", f"/api/inbound-webhooks/{inbound}/"),
        ("post", f"/api/inbound-webhooks/{inbound}/reprocess/"),
    ]


def test_an_agent_cannot_tell_whether_an_admin_only_row_exists(agent_api):
    delivery = DeliveryFactory(endpoint=EndpointFactory())
    inbound = InboundWebhookFactory()
    real = admin_only_routes(delivery.endpoint_id, delivery.pk, inbound.pk)
    guessed = admin_only_routes(MISSING, MISSING + 1, MISSING + 2)

    for (method, real_url), (_, guessed_url) in zip(real, guessed, strict=True):
        there = getattr(agent_api, method)(real_url, {}, format="json")
        not_there = getattr(agent_api, method)(guessed_url, {}, format="json")
        assert there.status_code == not_there.status_code == 403, real_url
        assert there.content == not_there.content, real_url
    for method, url in (("get", real[0][1]), ("get", guessed[0][1])):
        assert getattr(APIClient(), method)(url).status_code == 401  # nobody: 401 either way


@pytest.mark.parametrize(
    "pk", ["abc", "99999999999999999999999", "-1", "1.5", "0", "%00", "1%20OR%201=1"]
)
def test_an_id_that_is_not_a_row_is_a_404_in_the_apis_error_shape(agent_api, pk):
    TicketFactory()
    for prefix in ("tickets", "customers", "orders", "shops", "agents", "notifications"):
        response = agent_api.get(f"/api/{prefix}/{pk}/")
        assert response.status_code == 404, (prefix, pk, response.content[:200])
        assert response.json()["code"] == "not_found"


def test_a_tickets_messages_are_only_its_own(agent_api):
    mine, theirs = TicketFactory(), TicketFactory()
    MessageFactory(ticket=mine, body="About my mug")
    MessageFactory(ticket=theirs, body="Someone else's address: 1 Secret Lane")
    MessageFactory(ticket=theirs, note=True, body="Internal: VIP")

    listed = agent_api.get(f"/api/tickets/{mine.pk}/messages/").content.decode()

    assert "About my mug" in listed
    assert "Secret Lane" not in listed and "VIP" not in listed


def test_posting_a_message_to_a_guessed_ticket_creates_nothing(agent_api):
    TicketFactory()
    before = Message.objects.count()

    response = agent_api.post(f"/api/tickets/{MISSING}/messages/", {"body": "Hi"}, format="json")

    assert response.status_code == 404
    assert Message.objects.count() == before


def test_the_inbox_cannot_link_a_ticket_to_another_shops_order():
    ticket = TicketFactory(order=None)
    elsewhere = OrderFactory(shop=ShopFactory())
    client = Client()
    client.force_login(AgentFactory())

    client.post(f"/inbox/tickets/{ticket.pk}/order/", {"order": elsewhere.pk})

    ticket.refresh_from_db()
    assert ticket.order_id is None


def test_the_api_cannot_open_a_ticket_on_another_customers_order(agent_api):
    order = OrderFactory()
    stranger = TicketFactory().customer

    response = agent_api.post(
        "/api/tickets/",
        {"subject": "Refund?", "body": "Hi", "customer": stranger.pk, "order": order.pk},
        format="json",
    )

    assert response.status_code == 400
    assert "order" in response.json()["errors"]


def test_the_inbox_answers_404_for_guessed_or_malformed_ticket_ids():
    client = Client()
    client.force_login(AgentFactory())

    assert client.get(f"/inbox/tickets/{MISSING}/").status_code == 404
    assert client.get(f"/inbox/tickets/{MISSING}/saved-replies/1/").status_code == 404
    for value in (str(MISSING), "abc", "9" * 30, "%00"):
        assert client.get(f"/inbox/poll/?ticket={value}").status_code == 404, value
    assert client.post(f"/inbox/tickets/{MISSING}/resolve/").status_code == 404
