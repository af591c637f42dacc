"""/api/tickets/: list, open, read and change tickets, always through tickets.services."""

import json

import pytest

from tests.factories import (
    AgentFactory,
    CustomerFactory,
    MessageFactory,
    OrderFactory,
    ShopFactory,
    TagFactory,
    TicketFactory,
)
from tickets.models import Ticket, TicketEvent
from webhooks.models import Event

pytestmark = pytest.mark.django_db


# --- Reading --------------------------------------------------------------------------------------


def test_the_list_is_newest_first_with_shopify_ids_as_strings(agent_api):
    order = OrderFactory()
    older = TicketFactory(customer=order.customer)
    newer = TicketFactory(customer=order.customer, order=order, tags=[TagFactory(name="vip")])

    body = agent_api.get("/api/tickets/").json()

    assert [t["id"] for t in body["results"]] == [newer.pk, older.pk]
    first = body["results"][0]
    assert first["customer"]["shopify_id"] == str(order.customer.shopify_id)
    assert first["order"]["shopify_id"] == str(order.shopify_id)
    assert isinstance(first["order"]["shopify_id"], str) and order.shopify_id > 2**53
    assert first["tags"] == ["vip"]
    assert first["shop"]["domain"] == order.shop.domain
    assert "messages" not in first
    assert body["next"] is None and body["previous"] is None


def test_a_ticket_comes_with_its_messages_internal_notes_included(agent_api):
    ticket = TicketFactory()
    MessageFactory(ticket=ticket)
    MessageFactory(ticket=ticket, reply=True)
    MessageFactory(ticket=ticket, note=True)

    body = agent_api.get(f"/api/tickets/{ticket.pk}/").json()

    assert [m["author_kind"] for m in body["messages"]] == ["customer", "agent", "agent"]
    assert [m["internal"] for m in body["messages"]] == [False, False, True]
    assert body["messages"][1]["author"]["username"].startswith("agent")


def test_an_unknown_ticket_is_a_json_404(agent_api):
    for url in ("/api/tickets/987654/", "/api/tickets/abc/", "/api/tickets/0.5/"):
        response = agent_api.get(url)
        assert response.status_code == 404, url
        assert response.json()["code"] == "not_found"


def test_a_tickets_messages_are_paginated_and_filterable(agent_api):
    ticket = TicketFactory()
    first = MessageFactory(ticket=ticket)
    note = MessageFactory(ticket=ticket, note=True)
    MessageFactory(ticket=TicketFactory())  # another ticket's

    url = f"/api/tickets/{ticket.pk}/messages/"
    assert [m["id"] for m in agent_api.get(url).json()["results"]] == [note.pk, first.pk]
    assert [m["id"] for m in agent_api.get(url, {"internal": "true"}).json()["results"]] == [
        note.pk
    ]
    assert [m["id"] for m in agent_api.get(url, {"after": first.pk}).json()["results"]] == [note.pk]
    assert agent_api.get("/api/tickets/987654/messages/").status_code == 404


def test_a_customer_message_through_the_api_reopens_a_resolved_ticket(agent_api):
    ticket = TicketFactory(resolved=True)

    response = agent_api.post(
        f"/api/tickets/{ticket.pk}/messages/", {"body": "It still hasn't come.", "channel": "chat"}
    )

    assert response.status_code == 201, response.content
    assert response.json()["author_kind"] == "customer"
    assert response.json()["channel"] == "chat"
    ticket.refresh_from_db()
    assert ticket.status == "open"


# --- Opening --------------------------------------------------------------------------------------


def test_opening_a_ticket_by_email_creates_the_customer_and_the_first_message(agent_api, store):
    response = agent_api.post(
        "/api/tickets/",
        {
            "subject": "Where is my order?",
            "body": "It was due on Monday.",
            "customer_email": "Grace@Example.com",
            "customer_first_name": "Grace",
            "channel": "web",
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    ticket = Ticket.objects.get(pk=body["id"])
    assert response["Location"].endswith(f"/api/tickets/{ticket.pk}/")
    assert ticket.shop == store and ticket.channel == "web" and ticket.status == "open"
    assert ticket.customer.email == "grace@example.com" and ticket.customer.shopify_id is None
    assert ticket.customer.first_name == "Grace"
    assert [m["body"] for m in body["messages"]] == ["It was due on Monday."]
    assert body["messages"][0]["author_kind"] == "customer"
    assert TicketEvent.objects.filter(ticket=ticket, kind="created").exists()


def test_the_first_message_is_the_customers_not_the_api_users(agent, agent_api, store, endpoint):
    # The endpoint fixture brings a second shop, so this one is named.
    response = agent_api.post(
        "/api/tickets/",
        {"subject": "Hi", "body": "Where is it?", "customer_email": "a@example.com",
         "shop": store.pk},
    )  # fmt: skip

    [message] = response.json()["messages"]
    assert (message["author_kind"], message["author"]) == ("customer", None)
    published = json.loads(bytes(Event.objects.get(type="message.created").payload))
    assert published["data"]["message"]["author"] is None
    created = json.loads(bytes(Event.objects.get(type="ticket.created").payload))
    assert created["data"]["actor"] == {"kind": "user", "name": agent.username}, "who opened it"


def test_opening_by_email_finds_the_shops_existing_customer(agent_api, store):
    existing = CustomerFactory(shop=store, email="ada@example.com")
    CustomerFactory(email="ada@example.com")  # another shop's Ada

    response = agent_api.post(
        "/api/tickets/",
        {"subject": "Hi", "body": "Hello", "customer_email": "ADA@example.com", "shop": store.pk},
    )

    assert response.status_code == 201, response.content
    assert response.json()["customer"]["id"] == existing.pk


def test_opening_by_customer_id_takes_the_customers_shop(agent_api):
    ShopFactory()  # two shops: the customer says which
    customer = CustomerFactory()
    response = agent_api.post(
        "/api/tickets/", {"subject": "Hi", "body": "Hello", "customer": customer.pk}
    )
    assert response.status_code == 201, response.content
    assert response.json()["shop"]["id"] == customer.shop_id


@pytest.mark.parametrize("ref", ["order", "order_name", "order_shopify_id", "bare_name"])
def test_an_order_links_by_bookbag_id_shopify_name_or_shopify_id(agent_api, store, ref):
    order = OrderFactory(shop=store, name="#1042")
    value = {
        "order": order.pk,
        "order_name": "#1042",
        "order_shopify_id": str(order.shopify_id),
        "bare_name": "1042",
    }[ref]
    field = "order_name" if ref == "bare_name" else ref

    response = agent_api.post(
        "/api/tickets/", {"subject": "Damaged", "body": "The tote is torn.", field: value}
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["order"]["id"] == order.pk
    assert body["customer"]["id"] == order.customer_id  # the order says who


def test_a_guest_orders_email_becomes_the_customer(agent_api, store):
    order = OrderFactory(shop=store, guest=True, email="guest@example.com")
    response = agent_api.post("/api/tickets/", {"subject": "Hi", "body": "x", "order": order.pk})
    assert response.status_code == 201, response.content
    assert response.json()["customer"]["email"] == "guest@example.com"


def test_the_shop_may_be_named_by_domain(agent_api):
    shop = ShopFactory(domain="second.myshopify.com")
    ShopFactory()
    response = agent_api.post(
        "/api/tickets/",
        {"subject": "Hi", "body": "x", "customer_email": "a@example.com",
         "shop_domain": "SECOND.myshopify.com"},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    assert response.json()["shop"]["id"] == shop.pk


def test_tags_and_priority_can_be_set_when_opening(agent_api, store):
    response = agent_api.post(
        "/api/tickets/",
        {"subject": "Hi", "body": "x", "customer_email": "a@example.com",
         "tags": ["Refund", "vip"], "priority": "high"},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    assert response.json()["tags"] == ["refund", "vip"]
    assert response.json()["priority"] == "high"


def test_opening_publishes_ticket_created_for_the_outbound_webhooks(agent_api, store, endpoint):
    # The endpoint fixture brings a second shop with its ticket, so this one is named.
    response = agent_api.post(
        "/api/tickets/",
        {"subject": "Hi", "body": "x", "customer_email": "a@example.com", "shop": store.pk},
    )
    assert response.status_code == 201, response.content
    assert set(Event.objects.values_list("type", flat=True)) >= {
        "ticket.created",
        "message.created",
    }


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"body": "x", "customer_email": "a@example.com"}, "subject"),
        ({"subject": "x", "customer_email": "a@example.com"}, "body"),
        ({"subject": "x", "body": "x"}, "customer"),
        ({"subject": "x", "body": "x", "customer_email": "not an email"}, "customer_email"),
        ({"subject": "x", "body": "x", "customer": 987654}, "customer"),
        ({"subject": "x", "body": "x", "customer_email": "a@example.com", "order": 987654},
         "order"),
        ({"subject": "x", "body": "x", "customer_email": "a@example.com", "order_name": "#9"},
         "order_name"),
        ({"subject": "x", "body": "x", "customer_email": "a@example.com", "channel": "automation"},
         "channel"),
        ({"subject": "x" * 256, "body": "x", "customer_email": "a@example.com"}, "subject"),
        ({"subject": "x", "body": "nul \x00", "customer_email": "a@example.com"}, "body"),
        ({"subject": 42, "body": "x", "customer_email": "a@example.com"}, "subject"),
        ({"subject": "x", "body": "x", "customer": "12"}, "customer"),
        ({"subject": "x", "body": "x", "customer_email": "a@example.com", "tags": "vip"}, "tags"),
    ],
)  # fmt: skip
def test_invalid_input_is_a_400_naming_the_field(agent_api, store, payload, field):
    response = agent_api.post("/api/tickets/", payload)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid" and body["detail"] == "Invalid input."
    assert field in body["errors"], body
    assert not Ticket.objects.exists()


def test_with_two_shops_and_nothing_naming_one_the_shop_is_required(agent_api):
    ShopFactory(), ShopFactory()
    response = agent_api.post(
        "/api/tickets/", {"subject": "x", "body": "x", "customer_email": "a@example.com"}
    )
    assert response.status_code == 400
    assert "shop" in response.json()["errors"]


def test_another_customers_order_is_refused(agent_api, store):
    order = OrderFactory(shop=store)
    someone_else = CustomerFactory(shop=store)
    for extra in ({"customer": someone_else.pk}, {"customer_email": "mallory@example.com"}):
        response = agent_api.post(
            "/api/tickets/", {"subject": "x", "body": "x", "order": order.pk, **extra}
        )
        assert response.status_code == 400, extra
        assert "order" in response.json()["errors"]


def test_a_body_that_is_not_json_is_a_415(agent_api, store):
    response = agent_api.post(
        "/api/tickets/", "subject=x&body=y", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_malformed_json_is_a_400(agent_api, store):
    response = agent_api.post("/api/tickets/", "{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


# --- Changing -------------------------------------------------------------------------------------


def test_patch_changes_priority_tags_assignee_and_order_through_the_services(agent_api):
    order = OrderFactory()
    ticket = TicketFactory(customer=order.customer)
    colleague = AgentFactory()

    response = agent_api.patch(
        f"/api/tickets/{ticket.pk}/",
        {"priority": "high", "tags": ["Damaged"], "assignee": colleague.pk, "order": order.pk},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["priority"] == "high" and body["tags"] == ["damaged"]
    assert body["assignee"]["id"] == colleague.pk and body["order"]["id"] == order.pk
    kinds = set(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert kinds >= {"priority_changed", "tags_changed", "assigned", "order_linked"}


def test_patch_with_null_unassigns_and_unlinks(agent_api):
    order = OrderFactory()
    ticket = TicketFactory(customer=order.customer, order=order, assignee=AgentFactory())
    response = agent_api.patch(f"/api/tickets/{ticket.pk}/", {"assignee": None, "order": None})
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.assignee is None and ticket.order is None


def test_patch_refuses_a_non_agent_assignee_and_another_shops_order(agent_api):
    from tests.factories import UserFactory

    ticket = TicketFactory()
    response = agent_api.patch(f"/api/tickets/{ticket.pk}/", {"assignee": UserFactory().pk})
    assert response.status_code == 400 and "assignee" in response.json()["errors"]
    response = agent_api.patch(f"/api/tickets/{ticket.pk}/", {"order": OrderFactory().pk})
    assert response.status_code == 400 and "order" in response.json()["errors"]


def test_status_cannot_be_patched_and_put_is_not_allowed(agent_api):
    ticket = TicketFactory()
    agent_api.patch(f"/api/tickets/{ticket.pk}/", {"status": "resolved"})
    ticket.refresh_from_db()
    assert ticket.status == "open"
    response = agent_api.put(f"/api/tickets/{ticket.pk}/", {"priority": "low"})
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_paths_work_without_the_trailing_slash(agent_api, store):
    response = agent_api.post(
        "/api/tickets", {"subject": "x", "body": "x", "customer_email": "a@example.com"}
    )
    assert response.status_code == 201, response.content
    assert response["Location"] == f"http://testserver/api/tickets/{response.json()['id']}/"
    assert agent_api.get(f"/api/tickets/{response.json()['id']}").status_code == 200
