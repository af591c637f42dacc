"""/api/inbound-webhooks/ for admins: the log of what Shopify sent (headers and raw body), and
`reprocess`, which runs a stored event through the handlers again."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from bookbag.core.models import OutboxStatus
from integrations.models import InboundWebhook, Order
from tests.factories import InboundWebhookFactory, ShopFactory
from tests.integrations.shopify import fixture, post_webhook
from tests.queue import purge

pytestmark = pytest.mark.django_db


@pytest.mark.queue
def test_a_dead_event_is_reprocessed_through_the_api(admin_api, shop, run_queued_tasks):
    response = post_webhook(Client(), shop, "orders/create")
    assert response.status_code == 200
    row = InboundWebhook.objects.get()
    # Its attempts ran out (say the database was down): nothing was applied.
    InboundWebhook.objects.filter(pk=row.pk).update(
        status=OutboxStatus.DEAD, attempts=5, last_error="OperationalError", locked_until=None
    )
    purge()  # the first enqueue is gone with the dead worker
    assert not Order.objects.exists()

    reprocessed = admin_api.post(f"/api/inbound-webhooks/{row.pk}/reprocess/")
    run_queued_tasks()

    assert reprocessed.status_code == 202, reprocessed.content
    assert reprocessed.json()["status"] == "pending"
    order = Order.objects.get()
    assert order.shopify_id == fixture("orders/create")["id"]
    body = admin_api.get(f"/api/inbound-webhooks/{row.pk}/").json()
    assert body["status"] == "done" and body["processed_at"] is not None


@pytest.mark.queue
def test_reprocessing_a_done_event_changes_nothing(admin_api, shop, run_queued_tasks):
    post_webhook(Client(), shop, "orders/create")
    run_queued_tasks()
    row = InboundWebhook.objects.get()
    before = list(Order.objects.values_list("pk", "updated_at"))

    assert admin_api.post(f"/api/inbound-webhooks/{row.pk}/reprocess/").status_code == 202
    run_queued_tasks()

    assert list(Order.objects.values_list("pk", flat=True)) == [pk for pk, _ in before]
    row.refresh_from_db()
    assert row.status == "done"


def test_an_event_is_shown_with_its_headers_and_raw_body(admin_api, shop):
    post_webhook(Client(), shop, "orders/create")
    row = InboundWebhook.objects.get()

    listed = admin_api.get("/api/inbound-webhooks/").json()["results"]
    detail = admin_api.get(f"/api/inbound-webhooks/{row.pk}/").json()

    assert [r["id"] for r in listed] == [row.pk]
    assert listed[0]["shop"] == shop.domain and listed[0]["topic"] == "orders/create"
    assert "body" not in listed[0] and "headers" not in listed[0]
    assert detail["body"] == bytes(row.body).decode()
    assert json.loads(detail["body"])["id"] == fixture("orders/create")["id"]
    assert detail["headers"]["topic"] == "orders/create"
    assert "hmac" not in json.dumps(detail["headers"]).lower(), "never the signature"
    assert detail["webhook_id"] == row.webhook_id and detail["api_version"] == "2025-10"


def test_a_body_that_is_not_utf8_is_shown_with_replacement_characters(admin_api):
    row = InboundWebhookFactory(body=b'{"note": "caf\xe9"}')
    body = admin_api.get(f"/api/inbound-webhooks/{row.pk}/").json()["body"]
    assert body == '{"note": "caf\ufffd"}'


def test_an_event_being_processed_right_now_cannot_be_reprocessed(admin_api):
    row = InboundWebhookFactory(
        status=OutboxStatus.IN_PROGRESS, locked_until=timezone.now() + timedelta(minutes=1)
    )
    response = admin_api.post(f"/api/inbound-webhooks/{row.pk}/reprocess/")
    assert response.status_code == 409 and response.json()["code"] == "conflict"


def test_inbound_webhooks_filter_by_shop_topic_status_and_webhook_id(admin_api):
    shop = ShopFactory()
    created = InboundWebhookFactory(shop=shop, topic="orders/create", status="done")
    dead = InboundWebhookFactory(shop=shop, topic="refunds/create", status="dead")
    elsewhere = InboundWebhookFactory(topic="orders/create", status="ignored")

    def ids(params):
        response = admin_api.get("/api/inbound-webhooks/", params)
        assert response.status_code == 200, response.content
        return [r["id"] for r in response.json()["results"]]

    assert ids({"shop": shop.pk}) == [dead.pk, created.pk]
    assert ids({"topic": "orders/create"}) == [elsewhere.pk, created.pk]
    assert ids({"status": ["dead", "ignored"]}) == [elsewhere.pk, dead.pk]
    assert ids({"webhook_id": created.webhook_id}) == [created.pk]
    assert admin_api.get("/api/inbound-webhooks/", {"status": "lost"}).status_code == 400


def test_the_inbound_log_is_read_only_apart_from_reprocess(admin_api):
    row = InboundWebhookFactory()
    url = f"/api/inbound-webhooks/{row.pk}/"
    assert admin_api.post("/api/inbound-webhooks/", {"topic": "x"}).status_code == 405
    assert admin_api.patch(url, {"status": "done"}).status_code == 405
    assert admin_api.delete(url).status_code == 405
