"""Who may call what: anonymous → 401, a role that may not → 403, never a 500 and never a hint
of what exists; agents work tickets, admins may do everything."""

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from tests.api.conftest import token_client
from tests.factories import (
    AttemptFactory,
    DeliveryFactory,
    EndpointFactory,
    InboundWebhookFactory,
    MessageFactory,
    NotificationFactory,
    OrderFactory,
    TicketFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@dataclass
class World:
    ticket: object
    order: object
    notification: object
    endpoint: object
    delivery: object
    inbound: object


@pytest.fixture
def world(loopback_allowed):
    order = OrderFactory()
    ticket = TicketFactory(customer=order.customer, order=order)
    MessageFactory(ticket=ticket)
    endpoint = EndpointFactory(url="http://127.0.0.1:9/hook")
    delivery = DeliveryFactory(endpoint=endpoint)
    AttemptFactory(delivery=delivery)
    return World(
        ticket=ticket,
        order=order,
        notification=NotificationFactory(customer=order.customer, ticket=ticket),
        endpoint=endpoint,
        delivery=delivery,
        inbound=InboundWebhookFactory(shop=order.shop, status="dead"),
    )


def agent_requests(w: World) -> list[tuple[str, str, dict | None]]:
    t = w.ticket.pk
    return [
        ("get", "/api/tickets/", None),
        (
            "post",
            "/api/tickets/",
            {"subject": "Hi", "body": "Hello", "customer": w.ticket.customer_id},
        ),
        ("get", f"/api/tickets/{t}/", None),
        ("patch", f"/api/tickets/{t}/", {"priority": "high"}),
        ("post", f"/api/tickets/{t}/reply/", {"body": "On its way."}),
        ("post", f"/api/tickets/{t}/note/", {"body": "Checked with UPS."}),
        ("post", f"/api/tickets/{t}/assign/", {"assignee": None}),
        ("post", f"/api/tickets/{t}/escalate/", {"reason": "vip"}),
        ("post", f"/api/tickets/{t}/resolve/", None),
        ("post", f"/api/tickets/{t}/reopen/", None),
        ("get", f"/api/tickets/{t}/messages/", None),
        ("post", f"/api/tickets/{t}/messages/", {"body": "Any news?"}),
        ("get", "/api/customers/", None),
        ("get", f"/api/customers/{w.ticket.customer_id}/", None),
        ("get", "/api/orders/", None),
        ("get", f"/api/orders/{w.order.pk}/", None),
        ("get", "/api/shops/", None),
        ("get", f"/api/shops/{w.order.shop_id}/", None),
        ("get", "/api/agents/", None),
        ("get", "/api/notifications/", None),
        ("get", f"/api/notifications/{w.notification.pk}/", None),
    ]  # fmt: skip


def admin_requests(w: World) -> list[tuple[str, str, dict | None]]:
    e, d, i = w.endpoint.pk, w.delivery.pk, w.inbound.pk
    return [
        ("get", "/api/webhook-endpoints/", None),
        ("post", "/api/webhook-endpoints/", {"url": "http://127.0.0.1:9/other"}),
        ("get", f"/api/webhook-endpoints/{e}/", None),
        ("patch", f"/api/webhook-endpoints/{e}/", {"description": "CRM"}),
        ("post", f"/api/webhook-endpoints/{e}/rotate-secret/", None),
        ("post", f"/api/webhook-endpoints/{e}/test/", None),
        ("get", "/api/deliveries/", None),
        ("get", f"/api/deliveries/{d}/", None),
        ("post", f"/api/deliveries/{d}/resend/", None),
        ("get", "/api/event-types/", None),
        ("get", "/api/event-types/ticket.resolved/", None),
        ("get", "/api/inbound-webhooks/", None),
        ("get", f"/api/inbound-webhooks/{i}/", None),
        ("post", f"/api/inbound-webhooks/{i}/reprocess/", None),
        ("delete", f"/api/webhook-endpoints/{e}/", None),  # last: its deliveries go with it
    ]


def call(client: APIClient, method: str, url: str, body: dict | None):
    return getattr(client, method)(url, body, format="json")


def test_anonymous_callers_get_401_everywhere_with_a_token_challenge(world, anonymous_api):
    for method, url, body in agent_requests(world) + admin_requests(world):
        response = call(anonymous_api, method, url, body)
        assert response.status_code == 401, (method, url, response.content)
        assert response["WWW-Authenticate"] == "Token"
        assert response.json()["code"] == "not_authenticated"


def test_a_bad_token_is_401(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = client.get("/api/tickets/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_an_inactive_users_token_is_401(world, agent, agent_api):
    agent.is_active = False
    agent.save()
    assert agent_api.get("/api/tickets/").status_code == 401


def test_agents_may_use_every_ticket_endpoint(world, agent_api):
    for method, url, body in agent_requests(world):
        response = call(agent_api, method, url, body)
        assert response.status_code in (200, 201), (method, url, response.content)


def test_agents_get_403_on_admin_endpoints_whether_or_not_the_row_exists(world, agent_api):
    for method, url, body in admin_requests(world):
        response = call(agent_api, method, url, body)
        assert response.status_code == 403, (method, url, response.content)
        assert response.json()["code"] == "permission_denied"
    for url in ("/api/webhook-endpoints/987654/", "/api/deliveries/987654/resend/"):
        method = "post" if url.endswith("resend/") else "get"
        assert call(agent_api, method, url, None).status_code == 403


def test_admins_may_use_every_endpoint(world, admin_api):
    for method, url, body in agent_requests(world) + admin_requests(world):
        response = call(admin_api, method, url, body)
        assert response.status_code in (200, 201, 202, 204), (method, url, response.content)


def test_a_user_in_neither_role_gets_403_everywhere(world, nobody_api):
    for method, url, body in agent_requests(world) + admin_requests(world):
        response = call(nobody_api, method, url, body)
        assert response.status_code == 403, (method, url, response.content)


def test_staff_outside_the_admins_group_is_no_admin(world):
    staff = UserFactory(is_staff=True)
    response = token_client(staff).get("/api/webhook-endpoints/")
    assert response.status_code == 403


def test_the_schema_and_docs_are_public(anonymous_api):
    assert anonymous_api.get("/api/schema/").status_code == 200
    assert anonymous_api.get("/api/docs/").status_code == 200
