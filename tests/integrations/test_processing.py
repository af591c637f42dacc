"""Every handled topic, replayed from Shopify-shaped fixtures through the real URL, with the
queued tasks run as a worker would."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bookbag.core import outbox
from bookbag.core.models import OutboxStatus
from integrations import signals
from integrations.models import Customer, Fulfillment, InboundWebhook, Order, Refund
from tests.integrations.shopify import fixture, post_webhook

pytestmark = [pytest.mark.django_db, pytest.mark.queue]

ORDER_ID = 820982911946154508
CUSTOMER_ID = 9007199254740993  # 2**53 + 1: a float would lose the last digit


def test_orders_create_stores_the_order_and_its_customer_exactly(deliver, sent_signals):
    row = deliver("orders/create")

    order = Order.objects.get()
    assert (order.shopify_id, order.name, order.email) == (ORDER_ID, "#1001", "ada@example.com")
    assert order.total_price == Decimal("59.90") and order.currency == "USD"
    assert order.financial_status == "paid" and order.fulfillment_status == ""
    assert len(order.line_items) == 2
    assert order.customer.shopify_id == CUSTOMER_ID
    assert order.customer.full_name == "Ada Lovelace"
    assert row.status == OutboxStatus.DONE and row.processed_at and row.customer == order.customer
    assert sent_signals.names() == ["order_created"]


def test_a_guest_checkout_has_no_customer_but_keeps_the_email(deliver):
    deliver("orders/create", fixture("orders/create_guest"))

    order = Order.objects.get()
    assert order.customer is None and order.email == "guest@example.com"


def test_an_update_changes_the_order_and_says_what_changed(deliver, sent_signals):
    deliver("orders/create")
    deliver("orders/updated")

    assert Order.objects.get().tag_list == ["vip"]
    assert sent_signals.names() == ["order_created", "order_updated"]
    assert "tags" in sent_signals.of("order_updated")[0]["changed"]


def test_a_duplicate_delivery_is_applied_once_and_signals_once(deliver, sent_signals):
    deliver("orders/create", webhook_id="dup")
    deliver("orders/create", webhook_id="dup")
    deliver("orders/create", webhook_id="another-delivery-same-content")

    assert Order.objects.count() == 1 and Customer.objects.count() == 1
    assert InboundWebhook.objects.count() == 2
    assert sent_signals.names() == ["order_created"]


def test_orders_paid_records_the_payment(deliver, sent_signals):
    pending = fixture("orders/create")
    pending["financial_status"] = "pending"
    deliver("orders/create", pending)
    assert Order.objects.get().financial_status == "pending"

    deliver("orders/paid")

    assert Order.objects.get().financial_status == "paid"
    assert sent_signals.names() == ["order_created", "order_updated"]
    assert "financial_status" in sent_signals.of("order_updated")[0]["changed"]


def test_orders_partially_fulfilled_records_the_partial_state(deliver):
    deliver("orders/create")

    deliver("orders/partially_fulfilled")

    order = Order.objects.get()
    assert order.fulfillment_status == "partial"
    assert order.shopify_updated_at.isoformat().startswith("2026-11-21T19:05:11")


def test_an_older_update_arriving_late_does_not_overwrite_newer_data(deliver):
    deliver("orders/updated")
    deliver("orders/create")  # older updated_at

    order = Order.objects.get()
    assert order.tag_list == ["vip"]
    assert order.shopify_updated_at.isoformat().startswith("2026-11-20T16:02:17")


def test_a_cancellation_is_signalled_once_with_its_reason(deliver, sent_signals):
    deliver("orders/create")
    deliver("orders/cancelled")
    deliver("orders/cancelled")

    assert Order.objects.get().cancel_reason == "customer"
    assert [s["reason"] for s in sent_signals.of("order_cancelled")] == ["customer"]


def test_a_fulfillment_with_tracking_fires_order_fulfilled_once(deliver, sent_signals):
    deliver("orders/create")
    for _ in range(4):
        deliver("fulfillments/create")

    fulfillment = Fulfillment.objects.get()
    assert fulfillment.order.shopify_id == ORDER_ID
    assert fulfillment.tracking_company == "UPS" and fulfillment.tracking_numbers == ["1Z2345"]
    assert fulfillment.tracking_urls and fulfillment.announced_at
    assert [s["fulfillment"].pk for s in sent_signals.of("order_fulfilled")] == [fulfillment.pk]


def test_a_fulfillment_before_its_order_is_kept_and_announced_when_the_order_arrives(
    deliver, sent_signals
):
    deliver("fulfillments/create")
    orphan = Fulfillment.objects.get()
    assert orphan.order is None and orphan.order_shopify_id == ORDER_ID
    assert sent_signals.of("order_fulfilled") == []

    deliver("orders/create")

    orphan.refresh_from_db()
    assert orphan.order.shopify_id == ORDER_ID
    assert len(sent_signals.of("order_fulfilled")) == 1


def test_shopifys_inconsistent_fulfilled_sample_is_handled(deliver, sent_signals):
    payload = fixture("orders/fulfilled")
    payload["fulfillment_status"] = None  # as Shopify's own sample has it

    deliver("orders/fulfilled", payload)

    assert Order.objects.get().fulfillments.count() == 2
    assert len(sent_signals.of("order_fulfilled")) == 2


def test_shipment_status_changes_are_signalled_and_old_scans_ignored(deliver, sent_signals):
    deliver("orders/create")
    deliver("fulfillments/create")
    deliver("fulfillments/update")
    deliver("fulfillment_events/create")
    late = fixture("fulfillment_events/create")
    late.update(status="in_transit", happened_at="2026-11-23T08:00:00-05:00", id=1)
    deliver("fulfillment_events/create", late)

    assert Fulfillment.objects.get().shipment_status == "delivered"
    assert [s["status"] for s in sent_signals.of("shipment_status_changed")] == [
        "in_transit",
        "delivered",
    ]


def test_a_refund_is_recorded_with_its_amount_and_signalled_once(deliver, sent_signals):
    deliver("orders/create")
    deliver("refunds/create")
    deliver("refunds/create")

    refund = Refund.objects.get()
    assert refund.amount == Decimal("59.90") and refund.currency == "USD"
    assert refund.note == "Damaged in transit"
    assert refund.order.total_refunded == Decimal("59.90")
    assert len(sent_signals.of("refund_created")) == 1


def test_a_refund_before_its_order_waits_for_it(deliver, sent_signals):
    deliver("refunds/create")
    assert sent_signals.of("refund_created") == []

    deliver("orders/create")

    assert Refund.objects.get().order.shopify_id == ORDER_ID
    assert len(sent_signals.of("refund_created")) == 1


def test_a_high_risk_assessment_flags_the_order_once(deliver, sent_signals):
    deliver("orders/create")
    deliver("orders/risk_assessment_changed")
    deliver("orders/risk_assessment_changed")

    assert Order.objects.get().risk_level == "high"
    assert [s["reason"] for s in sent_signals.of("order_flagged")] == ["risk_high"]


def test_a_flag_tag_or_a_fraud_cancellation_flags_the_order(deliver, sent_signals, settings):
    settings.SHOPIFY_FLAG_TAGS = ["chargeback"]
    payload = fixture("orders/create")
    payload["tags"] = "vip, Chargeback"
    deliver("orders/create", payload)
    cancelled = fixture("orders/cancelled")
    cancelled.update(cancel_reason="fraud", tags="vip, Chargeback")
    deliver("orders/cancelled", cancelled)

    assert [s["reason"] for s in sent_signals.of("order_flagged")] == ["tag:chargeback", "fraud"]


def test_customers_create_and_update_keep_the_customer_current(deliver, sent_signals):
    deliver("customers/create")
    deliver("customers/update")

    customer = Customer.objects.get()
    assert customer.shopify_id == CUSTOMER_ID and customer.phone == "+14155550199"
    assert sent_signals.of("customer_updated")[-1]["changed"] == ["phone"]


def test_an_email_only_customer_gains_the_shopify_id_when_shopify_first_mentions_them(
    deliver, shop
):
    known = Customer.objects.create(shop=shop, email="ada@example.com", first_name="Ada")
    other = Customer.objects.create(shop=shop, email="someone@example.com")

    deliver("orders/create")

    known.refresh_from_db()
    assert known.shopify_id == CUSTOMER_ID
    assert Order.objects.get().customer == known
    assert Customer.objects.count() == 2 and other.shopify_id is None


def test_deletes_are_soft(deliver):
    deliver("orders/create")
    deliver("orders/delete")
    deliver("customers/delete")

    assert Order.objects.get().deleted_at is not None
    assert Customer.objects.get().deleted_at is not None


def test_app_uninstalled_marks_the_shop_and_later_order_webhooks_are_refused(deliver, shop, client):
    deliver("app/uninstalled")

    shop.refresh_from_db()
    assert not shop.installed and shop.uninstalled_at
    assert post_webhook(client, shop, "orders/create", fixture("orders/create")).status_code == 401


def test_an_unknown_topic_is_stored_and_marked_ignored(deliver):
    row = deliver("products/update")

    assert row.status == OutboxStatus.IGNORED and bytes(row.body)


def test_a_failing_handler_is_retried_then_left_dead_and_can_be_reprocessed(
    deliver, run_queued_tasks
):
    def explode(sender, **kwargs):
        raise RuntimeError("automation crashed")

    signals.order_created.connect(explode, dispatch_uid="explode")
    try:
        row = deliver("orders/create")
        row.refresh_from_db()
        assert row.status == OutboxStatus.PENDING and "automation crashed" in row.last_error
        assert Order.objects.count() == 0, "the failed transaction rolled back"
        for _ in range(InboundWebhook.max_attempts - 1):
            InboundWebhook.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
            outbox.sweep_model(InboundWebhook)
            run_queued_tasks()
        row.refresh_from_db()
        assert row.status == OutboxStatus.DEAD and row.attempts == InboundWebhook.max_attempts
    finally:
        signals.order_created.disconnect(dispatch_uid="explode")

    from integrations.services import reprocess_inbound_webhooks

    reprocess_inbound_webhooks([row.pk])
    run_queued_tasks()

    row.refresh_from_db()
    assert row.status == OutboxStatus.DONE and Order.objects.count() == 1


def test_a_payload_missing_its_id_is_dead_at_once_and_kept(deliver):
    row = deliver("orders/create", {"name": "#1", "email": "x@example.com"})

    assert row.status == OutboxStatus.DEAD and "bad payload" in row.last_error
    assert Order.objects.count() == 0


def test_the_sweeper_finishes_an_event_whose_worker_died(client, shop, run_queued_tasks):
    from tests import queue

    post_webhook(client, shop, "orders/create", fixture("orders/create"))
    queue.purge()  # the queue message is lost ...
    row = InboundWebhook.objects.get()
    outbox.claim(InboundWebhook, row.pk)  # ... and the worker that claimed it was killed

    after_lease = timezone.now() + timedelta(seconds=InboundWebhook.lease_seconds + 1)
    outbox.sweep_model(InboundWebhook, now=after_lease)
    InboundWebhook.objects.filter(pk=row.pk).update(locked_until=None)  # lease as seen later
    run_queued_tasks()

    row.refresh_from_db()
    assert row.status == OutboxStatus.DONE and Order.objects.count() == 1
