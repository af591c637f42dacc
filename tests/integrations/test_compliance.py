"""The mandatory compliance topics: export, redact, delete, and keep answering afterwards."""

import pytest

from integrations import signals
from integrations.models import Customer, DataExport, Fulfillment, InboundWebhook, Order, Shop
from tests.integrations.shopify import fixture, post_webhook

pytestmark = [pytest.mark.django_db, pytest.mark.queue]


@pytest.fixture
def story(client, shop, run_queued_tasks):
    """Ada's order, shipment and refund, as Shopify told them."""
    for topic in ("customers/create", "orders/create", "fulfillments/create", "refunds/create"):
        assert post_webhook(client, shop, topic).status_code == 200
    post_webhook(client, shop, "orders/create", fixture("orders/create_guest"))
    run_queued_tasks()
    return shop


def process(client, shop, run_queued_tasks, topic):
    response = post_webhook(client, shop, topic)
    assert response.status_code == 200
    run_queued_tasks()
    return InboundWebhook.objects.get(topic=topic)


def test_a_data_request_exports_everything_held_on_the_customer(client, story, run_queued_tasks):
    def tickets_section(sender, **kwargs):
        return {"tickets": [{"subject": "Where is my book?"}]}

    signals.customer_data_requested.connect(tickets_section, dispatch_uid="test-export")
    try:
        row = process(client, story, run_queued_tasks, "customers/data_request")
    finally:
        signals.customer_data_requested.disconnect(dispatch_uid="test-export")

    export = DataExport.objects.get()
    assert row.status == "done" and export.inbound_webhook == row
    assert export.data["customer"][0]["email"] == "ada@example.com"
    assert export.data["customer"][0]["id"] == "9007199254740993"
    assert [o["name"] for o in export.data["orders"]] == ["#1001"]
    assert export.data["orders"][0]["fulfillments"][0]["tracking_numbers"] == ["1Z2345"]
    assert export.data["orders"][0]["refunds"][0]["amount"] == "59.900"
    assert export.data["tickets"] == [{"subject": "Where is my book?"}], "other apps' sections"


def test_a_redact_erases_the_customers_personal_data_everywhere(client, story, run_queued_tasks):
    email_only = Customer.objects.create(shop=story, email="ADA@example.com", first_name="Ada")
    heard = []
    signals.customer_redact_requested.connect(
        lambda sender, **kw: heard.append(kw), weak=False, dispatch_uid="test-redact"
    )
    try:
        row = process(client, story, run_queued_tasks, "customers/redact")
    finally:
        signals.customer_redact_requested.disconnect(dispatch_uid="test-redact")

    assert row.status == "done"
    redacted = [email_only.pk, *(c.pk for c in heard[0]["customers"])]
    for customer in Customer.objects.filter(pk__in=redacted):
        assert (customer.email, customer.first_name, customer.last_name, customer.phone) == (
            "",
        ) * 4
        assert customer.redacted_at
    ada_order = Order.objects.get(name="#1001")
    assert ada_order.email == "" and ada_order.raw == {} and ada_order.shipping_address == {}
    assert Order.objects.get(name="#1002").email == "guest@example.com", "others are untouched"
    for body in InboundWebhook.objects.values_list("body", flat=True):
        assert b"ada@example.com" not in bytes(body).lower() and b"Lovelace" not in bytes(body)
    assert heard[0]["email"] == "ada@example.com"


def test_a_redacted_customer_is_not_restored_by_a_later_update(client, story, run_queued_tasks):
    process(client, story, run_queued_tasks, "customers/redact")

    post_webhook(client, story, "customers/update")
    run_queued_tasks()

    assert not Customer.objects.filter(email="ada@example.com").exists()


def test_shop_redact_deletes_the_shops_data_and_leaves_a_tombstone(client, story, run_queued_tasks):
    other = Shop.objects.create(domain="other.myshopify.com", webhook_secret="s")
    post_webhook(client, other, "orders/create")
    run_queued_tasks()
    story.installed = False
    story.save()

    row = process(client, story, run_queued_tasks, "shop/redact")

    story.refresh_from_db()
    assert row.status == "done" and story.redacted_at and not story.installed
    for model in (Order, Customer, Fulfillment, DataExport):
        assert not model.objects.filter(shop=story).exists(), model.__name__
    assert list(InboundWebhook.objects.filter(shop=story)) == [row]
    assert Order.objects.filter(shop=other).count() == 1, "other shops keep their data"

    again = post_webhook(client, story, "shop/redact", webhook_id=row.webhook_id)
    assert again.status_code == 200, "a duplicate after the redaction still gets 200"


def test_compliance_topics_are_accepted_from_an_uninstalled_shop(client, story, run_queued_tasks):
    story.installed = False
    story.save()

    for topic in ("customers/data_request", "customers/redact"):
        assert process(client, story, run_queued_tasks, topic).status == "done"
