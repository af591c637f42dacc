"""/api/customers/ (found by email, with their orders and tickets) and /api/orders/ (read-only,
filtered, with fulfillments and refunds). Shopify ids are strings everywhere, line items too."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from integrations.models import Order
from tests.factories import (
    CustomerFactory,
    FulfillmentFactory,
    OrderFactory,
    RefundFactory,
    ShopFactory,
    TicketFactory,
)

pytestmark = pytest.mark.django_db


def ids(client, url, params=None) -> list[int]:
    response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


# --- Customers ------------------------------------------------------------------------------------


def test_a_customer_is_found_by_email_with_their_orders_and_tickets(agent_api):
    ada = CustomerFactory(email="ada@example.com")
    order = OrderFactory(customer=ada, name="#1001")
    ticket = TicketFactory(customer=ada, order=order, subject="Lost parcel")
    CustomerFactory(email="grace@example.com")

    body = agent_api.get("/api/customers/", {"email": "ADA@example.com"}).json()

    [found] = body["results"]
    assert found["id"] == ada.pk and found["email"] == "ada@example.com"
    assert found["shopify_id"] == str(ada.shopify_id) and ada.shopify_id > 2**53
    assert [o["name"] for o in found["orders"]] == ["#1001"]
    assert found["orders"][0]["shopify_id"] == str(order.shopify_id)
    assert [(t["id"], t["subject"]) for t in found["tickets"]] == [(ticket.pk, "Lost parcel")]


def test_customer_search_matches_names_email_and_phone(agent_api):
    ada = CustomerFactory(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    grace = CustomerFactory(first_name="Grace", last_name="Hopper", phone="+15551234567")

    assert ids(agent_api, "/api/customers/", {"search": "lovelace"}) == [ada.pk]
    assert ids(agent_api, "/api/customers/", {"search": "ada@"}) == [ada.pk]
    assert ids(agent_api, "/api/customers/", {"search": "5551234"}) == [grace.pk]


def test_customers_filter_by_shop_and_shopify_id(agent_api):
    shop = ShopFactory()
    here = CustomerFactory(shop=shop)
    there = CustomerFactory()

    assert ids(agent_api, "/api/customers/", {"shop": shop.pk}) == [here.pk]
    assert ids(agent_api, "/api/customers/", {"shopify_id": there.shopify_id}) == [there.pk]


def test_a_customer_known_only_by_email_has_a_null_shopify_id(agent_api):
    customer = CustomerFactory(email_only=True)
    body = agent_api.get(f"/api/customers/{customer.pk}/").json()
    assert body["shopify_id"] is None and body["orders"] == [] and body["tickets"] == []


def test_a_customer_shows_their_25_most_recent_orders_and_tickets(agent_api):
    ada = CustomerFactory()
    orders = [OrderFactory(customer=ada) for _ in range(27)]
    tickets = [TicketFactory(customer=ada) for _ in range(26)]
    CustomerFactory()  # another customer in the same page: the limit is per customer

    body = agent_api.get(f"/api/customers/{ada.pk}/").json()

    assert [o["id"] for o in body["orders"]] == [o.pk for o in reversed(orders)][:25]
    assert [t["id"] for t in body["tickets"]] == [t.pk for t in reversed(tickets)][:25]


def test_customers_are_read_only(agent_api):
    customer = CustomerFactory()
    assert agent_api.post("/api/customers/", {"email": "x@example.com"}).status_code == 405
    assert agent_api.patch(f"/api/customers/{customer.pk}/", {"email": "x@x.io"}).status_code == 405
    assert agent_api.delete(f"/api/customers/{customer.pk}/").status_code == 405


# --- Orders ---------------------------------------------------------------------------------------


def test_an_order_comes_with_its_fulfillments_and_refunds_ids_as_strings(agent_api):
    order = OrderFactory(fulfilled=True, tags="vip, gift")
    fulfillment = FulfillmentFactory(order=order)
    refund = RefundFactory(order=order)

    body = agent_api.get(f"/api/orders/{order.pk}/").json()

    assert body["shopify_id"] == str(order.shopify_id) and order.shopify_id > 2**53
    assert body["customer"]["shopify_id"] == str(order.customer.shopify_id)
    assert body["tags"] == ["vip", "gift"]
    assert Decimal(body["total_price"]) == Decimal("64.90")  # money as a decimal string
    assert {item["id"] for item in body["line_items"]} == {
        str(item["id"]) for item in order.line_items
    }
    [f] = body["fulfillments"]
    assert f["shopify_id"] == str(fulfillment.shopify_id)
    assert f["tracking_numbers"] == fulfillment.tracking_numbers
    assert all(isinstance(item["id"], str) for item in f["line_items"])
    [r] = body["refunds"]
    assert r["shopify_id"] == str(refund.shopify_id) and Decimal(r["amount"]) == refund.amount


def test_a_guest_order_has_no_customer(agent_api):
    order = OrderFactory(guest=True, email="guest@example.com")
    body = agent_api.get(f"/api/orders/{order.pk}/").json()
    assert body["customer"] is None and body["email"] == "guest@example.com"


def test_orders_filter_by_shop_customer_name_shopify_id_and_statuses(agent_api):
    shop = ShopFactory()
    paid = OrderFactory(shop=shop, name="#1001")
    shipped = OrderFactory(shop=shop, name="#1002", fulfilled=True)
    refunded = OrderFactory(name="#1001", financial_status="refunded")

    url = "/api/orders/"
    assert ids(agent_api, url, {"shop": shop.pk}) == [shipped.pk, paid.pk]
    assert ids(agent_api, url, {"customer": paid.customer_id}) == [paid.pk]
    assert ids(agent_api, url, {"name": "#1001"}) == [refunded.pk, paid.pk]
    # `#` starts a URL's fragment, so a bare number finds the order too.
    assert ids(agent_api, url, {"name": "1001", "shop": shop.pk}) == [paid.pk]
    assert ids(agent_api, url, {"shopify_id": shipped.shopify_id}) == [shipped.pk]
    assert ids(agent_api, url, {"financial_status": "refunded"}) == [refunded.pk]
    assert ids(agent_api, url, {"fulfillment_status": "fulfilled"}) == [shipped.pk]
    assert ids(agent_api, url, {"email": paid.email.upper()}) == [paid.pk]


def test_orders_changed_since(agent_api):
    old, new = OrderFactory(), OrderFactory()
    Order.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=2))
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids(agent_api, "/api/orders/", {"updated_since": since}) == [new.pk]


@pytest.mark.parametrize(
    "params",
    [{"shopify_id": "12ab"}, {"shopify_id": str(2**63)}, {"shop": "-3"},
     {"updated_since": "last week"}, {"name": "\x00"}],
)  # fmt: skip
def test_a_bad_order_filter_is_a_400_naming_it(agent_api, params):
    response = agent_api.get("/api/orders/", params)
    assert response.status_code == 400
    assert set(params) <= set(response.json()["errors"])


def test_orders_are_read_only(agent_api):
    order = OrderFactory()
    assert agent_api.post("/api/orders/", {"name": "#1"}).status_code == 405
    assert agent_api.patch(f"/api/orders/{order.pk}/", {"name": "#2"}).status_code == 405
    assert agent_api.delete(f"/api/orders/{order.pk}/").status_code == 405
