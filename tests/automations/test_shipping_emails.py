"""Tracking emails: one per fulfillment and status, however often Shopify delivers."""

import pytest
from django.core import mail

from bookbag.core.models import OutboxStatus
from notifications.models import Notification
from tests.integrations.shopify import fixture

pytestmark = [pytest.mark.django_db, pytest.mark.queue]


def test_a_fulfillment_with_tracking_sends_one_tracking_email(deliver, order):
    deliver("fulfillments/create")

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["ada@example.com"]
    assert "#1001" in email.subject
    assert "1Z2345" in email.body and "https://www.ups.com/track?tracknum=1Z2345" in email.body
    assert "UPS" in email.body and "Hi Ada" in email.body
    html = email.alternatives[0][0]
    assert '<a href="https://www.ups.com/track?tracknum=1Z2345">1Z2345</a>' in html
    assert Notification.objects.get().status == OutboxStatus.DONE


def test_the_same_fulfillment_webhook_three_more_times_sends_nothing_more(deliver, order):
    for _ in range(4):
        deliver("fulfillments/create")
    deliver("fulfillments/update")  # in_transit: no email for that status

    assert len(mail.outbox) == 1
    assert Notification.objects.count() == 1


def test_delivered_sends_one_update_and_repeats_send_nothing(deliver, order):
    deliver("fulfillments/create")
    deliver("fulfillment_events/create")
    deliver("fulfillment_events/create")

    assert [m.subject for m in mail.outbox] == [
        "Your order #1001 is on its way",
        "#1001: Delivered",
    ]
    assert "delivered" in mail.outbox[1].body


def test_emails_go_from_the_shops_sender_with_its_reply_to(deliver, order, shop):
    shop.sender_name, shop.from_email = "Bookbag Books", "orders@bookbag.example"
    shop.reply_to_email = "help@bookbag.example"
    shop.save()

    deliver("fulfillments/create")

    assert mail.outbox[0].from_email == "Bookbag Books <orders@bookbag.example>"
    assert mail.outbox[0].reply_to == ["help@bookbag.example"]


def test_the_customers_language_is_used_where_a_template_exists(deliver, ada):
    payload = fixture("orders/create")
    payload["customer_locale"] = "es-MX"
    deliver("orders/create", payload)

    deliver("fulfillments/create")

    assert mail.outbox[0].subject == "Tu pedido #1001 está en camino"


def test_a_shop_template_overrides_the_default(deliver, order, shop):
    from notifications.models import NotificationTemplate

    NotificationTemplate.objects.create(
        shop=shop, key="shipping_confirmation", subject="Shipped: {{ order.name }}",
        text="Track {{ fulfillment.tracking.0.number }} <now>",
        html="<p>{{ customer.first_name }}</p>",
    )  # fmt: skip
    order.customer.first_name = "<b>Ada</b>"
    order.customer.save()

    deliver("fulfillments/create")

    assert mail.outbox[0].subject == "Shipped: #1001"
    assert mail.outbox[0].body.strip() == "Track 1Z2345 <now>"
    assert mail.outbox[0].alternatives[0][0] == "<p>&lt;b&gt;Ada&lt;/b&gt;</p>", "HTML is escaped"


def test_no_email_without_an_address_for_an_uninstalled_shop_or_a_test_order(deliver, shop, ada):
    guest = fixture("orders/create")
    guest.pop("customer")
    guest["email"] = guest["contact_email"] = ""
    deliver("orders/create", guest)
    deliver("fulfillments/create")
    assert mail.outbox == []

    test_order = fixture("orders/create")
    test_order.update(id=1, name="#T1", test=True)
    deliver("orders/create", test_order)
    deliver("fulfillments/create", {**fixture("fulfillments/create"), "id": 2, "order_id": 1})
    assert mail.outbox == []

    shop.notify_test_orders = True
    shop.save()
    deliver("fulfillments/create", {**fixture("fulfillments/create"), "id": 3, "order_id": 1})
    assert len(mail.outbox) == 1


def test_no_email_once_the_shop_is_uninstalled(deliver, order, shop):
    shop.installed = False
    shop.save()

    from notifications import automations

    automations.send_shipping_confirmation(order, order.fulfillments.create(
        shop=shop, shopify_id=5, order_shopify_id=order.shopify_id, tracking_numbers=["X"]
    ))  # fmt: skip

    assert Notification.objects.count() == 0


def test_a_refusing_email_backend_leaves_the_email_pending_then_it_goes_once(
    deliver, order, run_queued_tasks, settings
):
    from datetime import timedelta

    from django.utils import timezone

    from bookbag.core import outbox

    settings.EMAIL_BACKEND = "tests.core.test_outbox.RefusingBackend"
    deliver("fulfillments/create")
    notification = Notification.objects.get()
    assert (
        notification.status == OutboxStatus.PENDING and "relay refused" in notification.last_error
    )

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    outbox.sweep(now=timezone.now() + timedelta(hours=1))
    Notification.objects.filter(pk=notification.pk).update(next_attempt_at=timezone.now())
    run_queued_tasks()
    deliver("fulfillments/create")

    notification.refresh_from_db()
    assert notification.status == OutboxStatus.DONE and notification.attempts == 2
    assert len(mail.outbox) == 1
