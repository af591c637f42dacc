"""`manage.py seed_demo`: a demo store to click through, and running it again changes nothing."""

import io

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command

from integrations.models import Customer, Fulfillment, InboundWebhook, Order, Refund, Shop
from notifications.models import Notification
from tickets.models import Message, Ticket, TicketStatus
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db

DEMO_DOMAIN = "bookbag-demo.myshopify.com"
SEEDED_APPS = {"auth", "integrations", "tickets", "notifications", "webhooks"}


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, list[dict]]:
    """Every row of every model seed_demo could touch, M2M tables included, in pk order."""
    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in SEEDED_APPS
    }


def test_seed_demo_creates_the_demo_shop_with_a_webhook_secret_and_prints_the_logins():
    output = seed()

    shop = Shop.objects.get(domain=DEMO_DOMAIN)
    assert shop.webhook_secret == "demo_webhook_secret"
    assert DEMO_DOMAIN in output
    assert "demo_webhook_secret" in output
    assert "admin / admin-demo-pass" in output
    assert "agent / agent-demo-pass" in output
    assert "http://127.0.0.1:8000/admin/" in output
    assert "http://127.0.0.1:8000/inbox/" in output


def test_seed_demo_creates_an_admin_and_an_agent_in_their_groups():
    seed()

    user_model = get_user_model()
    admin = user_model.objects.get(username="admin")
    agent = user_model.objects.get(username="agent")
    assert admin.is_staff and admin.is_superuser
    assert list(admin.groups.values_list("name", flat=True)) == ["admins"]
    assert admin.check_password("admin-demo-pass")
    assert not agent.is_staff and not agent.is_superuser
    assert list(agent.groups.values_list("name", flat=True)) == ["agents"]
    assert agent.check_password("agent-demo-pass")


def test_seed_demo_creates_tickets_in_every_status_with_conversations():
    seed()

    statuses = set(Ticket.objects.values_list("status", flat=True))
    assert statuses == set(TicketStatus.values)
    assert Ticket.objects.count() >= 12
    assert not Ticket.objects.filter(status="resolved", resolved_at__isnull=True).exists()
    assert not Ticket.objects.filter(messages__isnull=True).exists()
    assert Message.objects.filter(author_kind="customer").exists()
    assert Message.objects.filter(author_kind="agent", internal=False).exists()
    assert Message.objects.filter(internal=True).exists()
    for ticket in Ticket.objects.select_related("customer", "order"):
        assert ticket.customer.shop_id == ticket.shop_id
        assert ticket.order is None or ticket.order.shop_id == ticket.shop_id


def test_seed_demo_creates_customers_and_orders_with_shipments_a_refund_and_a_flag():
    seed()

    shop = Shop.objects.get(domain=DEMO_DOMAIN)
    assert Customer.objects.filter(shop=shop).count() >= 10
    assert Order.objects.filter(shop=shop).count() >= 15
    fulfillments = Fulfillment.objects.filter(shop=shop, order__isnull=False)
    assert {f.tracking_company for f in fulfillments} >= {"UPS", "USPS", "DHL Express"}
    for fulfillment in fulfillments:
        assert fulfillment.tracking_numbers and fulfillment.tracking_urls
        assert fulfillment.shipment_status
        assert fulfillment.order_shopify_id == fulfillment.order.shopify_id
    assert Order.objects.filter(financial_status="paid", fulfillment_status="").exists()
    assert Order.objects.filter(cancelled_at__isnull=False).count() == 1
    assert Order.objects.filter(risk_level="high").count() == 1
    refund = Refund.objects.get(shop=shop)
    assert refund.order.financial_status == "refunded"


def test_seed_demo_creates_no_outbox_rows_so_nothing_is_sent():
    seed()

    assert not InboundWebhook.objects.exists()
    assert not Notification.objects.exists()
    assert not Delivery.objects.exists()


def test_running_seed_demo_twice_changes_no_row():
    seed()
    before = snapshot()

    output = seed()

    assert snapshot() == before
    assert "created: nothing" in output


def test_a_changed_password_survives_a_rerun_unless_reset_passwords_is_given():
    seed()
    agent = get_user_model().objects.get(username="agent")
    agent.set_password("my-own-secret-passphrase")
    agent.save()

    output = seed()
    agent.refresh_from_db()
    assert agent.check_password("my-own-secret-passphrase")
    assert "agent-demo-pass" not in output

    seed("--reset-passwords")
    agent.refresh_from_db()
    assert agent.check_password("agent-demo-pass")


def test_the_environment_chooses_the_demo_secrets(monkeypatch):
    monkeypatch.setenv("BOOKBAG_DEMO_WEBHOOK_SECRET", "shpss_from_env")
    monkeypatch.setenv("BOOKBAG_DEMO_ADMIN_PASSWORD", "admin-from-env")

    output = seed()

    assert Shop.objects.get(domain=DEMO_DOMAIN).webhook_secret == "shpss_from_env"
    assert get_user_model().objects.get(username="admin").check_password("admin-from-env")
    assert "admin / admin-from-env" in output
