"""The front door: every refusal has its status and writes nothing; accepted deliveries are
stored once and acknowledged without waiting for processing."""

import json
import threading

import pytest
from django.db import connections
from django.test import Client, override_settings

from integrations.models import InboundWebhook, Shop
from integrations.shopify.verification import sign
from tests.integrations.shopify import URL, post_webhook
from tests.outage import database_unreachable

pytestmark = pytest.mark.django_db

ORDER = {"id": 450789469, "name": "#1001", "email": "ada@example.com", "total_price": "10.00"}


@pytest.fixture
def shop():
    return Shop.objects.create(domain="receiver.myshopify.com", webhook_secret="shop-secret")


def test_a_signed_delivery_is_stored_byte_for_byte_and_queued(client, shop, queued_tasks):
    body = b'{"id": 450789469,  "name": "#1001", "total_price": "10.00"}'

    response = post_webhook(client, shop, "orders/create", body, webhook_id="w-1", event_id="e-1")

    assert response.status_code == 200
    row = InboundWebhook.objects.get()
    assert bytes(row.body) == body
    assert (row.topic, row.webhook_id, row.event_id, row.api_version) == (
        "orders/create",
        "w-1",
        "e-1",
        "2025-10",
    )
    assert row.triggered_at is not None and row.status == "pending"
    assert [(t["func"], t["args"]) for t in queued_tasks()] == [(InboundWebhook.task, (row.pk,))]


def test_the_url_without_a_trailing_slash_is_accepted_without_a_redirect(client, shop):
    response = post_webhook(client, shop, "orders/create", ORDER, url="/webhooks/shopify")

    assert response.status_code == 200
    assert InboundWebhook.objects.count() == 1


def test_unprefixed_lowercase_shopify_headers_are_read_too(client, shop):
    body = json.dumps(ORDER).encode()
    response = client.post(
        URL, data=body, content_type="application/json",
        **{
            "HTTP_SHOPIFY_TOPIC": "orders/create",
            "HTTP_SHOPIFY_SHOP_DOMAIN": shop.domain,
            "HTTP_SHOPIFY_HMAC_SHA256": sign("shop-secret", body),
            "HTTP_SHOPIFY_WEBHOOK_ID": "events-1",
        },
    )  # fmt: skip

    assert response.status_code == 200
    assert InboundWebhook.objects.get().webhook_id == "events-1"


def test_the_apps_secret_signs_for_a_shop_without_its_own(client, settings):
    settings.SHOPIFY_API_SECRET = "app-client-secret"
    shop = Shop.objects.create(domain="appsigned.myshopify.com")

    assert (
        post_webhook(client, shop, "orders/create", ORDER, secret="app-client-secret").status_code
        == 200
    )
    assert post_webhook(client, shop, "orders/create", ORDER, secret="wrong").status_code == 401


def test_the_previous_secret_is_accepted_until_it_expires(client, shop):
    from datetime import timedelta

    from django.utils import timezone

    shop.previous_webhook_secret = "old-secret"
    shop.previous_secret_expires_at = timezone.now() + timedelta(hours=1)
    shop.save()
    assert (
        post_webhook(client, shop, "orders/create", ORDER, secret="old-secret").status_code == 200
    )

    shop.previous_secret_expires_at = timezone.now() - timedelta(seconds=1)
    shop.save()
    assert (
        post_webhook(client, shop, "orders/create", ORDER, secret="old-secret").status_code == 401
    )


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("forged signature", 401),
        ("no signature", 401),
        ("non-ascii signature", 401),
        ("unknown shop", 401),
        ("no shop domain", 400),
        ("no topic", 400),
        ("no webhook id", 400),
        ("not json", 400),
        ("json array", 400),
        ("NaN", 400),
        ("NUL", 400),
        ("deep nesting", 400),
        ("invalid utf-8", 400),
    ],
)
def test_bad_requests_get_their_status_and_write_nothing(client, shop, case, status):
    body = json.dumps(ORDER).encode()
    headers = {}
    secret = None
    if case == "forged signature":
        secret = "attacker"
    elif case == "no signature":
        headers["HTTP_X_SHOPIFY_HMAC_SHA256"] = ""
    elif case == "non-ascii signature":
        headers["HTTP_X_SHOPIFY_HMAC_SHA256"] = "ü" * 44
    elif case == "unknown shop":
        headers["HTTP_X_SHOPIFY_SHOP_DOMAIN"] = "nobody.myshopify.com"
    elif case == "no shop domain":
        headers["HTTP_X_SHOPIFY_SHOP_DOMAIN"] = ""
    elif case == "no topic":
        headers["HTTP_X_SHOPIFY_TOPIC"] = ""
    elif case == "no webhook id":
        headers["HTTP_X_SHOPIFY_WEBHOOK_ID"] = ""
    elif case == "not json":
        body = b"id=1&name=x"
    elif case == "json array":
        body = b"[1, 2, 3]"
    elif case == "NaN":
        body = b'{"id": 1, "total_price": NaN}'
    elif case == "NUL":
        body = b'{"id": 1, "note": "a\\u0000b"}'
    elif case == "deep nesting":
        body = b'{"a":' * 5000 + b"1" + b"}" * 5000
    elif case == "invalid utf-8":
        body = b'{"id": "\xff\xfe"}'
    if "HTTP_X_SHOPIFY_HMAC_SHA256" not in headers and secret is None:
        headers["HTTP_X_SHOPIFY_HMAC_SHA256"] = sign("shop-secret", body)

    response = post_webhook(
        client, shop, "orders/create", body, secret=secret, extra_headers=headers
    )

    assert response.status_code == status, response.content
    assert InboundWebhook.objects.count() == 0


def test_only_post_is_allowed(client, shop):
    for method in ("get", "put", "delete", "patch"):
        assert getattr(client, method)(URL).status_code == 405
    assert InboundWebhook.objects.count() == 0


@override_settings(SHOPIFY_WEBHOOK_MAX_BYTES=1000)
def test_an_oversized_body_gets_413_before_it_is_read(client, shop):
    body = json.dumps({**ORDER, "note": "x" * 2000}).encode()

    response = post_webhook(client, shop, "orders/create", body)

    assert response.status_code == 413
    assert InboundWebhook.objects.count() == 0


def test_an_uninstalled_shop_may_send_only_compliance_topics_and_app_uninstalled(client, shop):
    shop.installed = False
    shop.save()

    assert post_webhook(client, shop, "orders/create", ORDER).status_code == 401
    for topic in ("customers/data_request", "customers/redact", "shop/redact", "app/uninstalled"):
        assert post_webhook(client, shop, topic, {"shop_domain": shop.domain}).status_code == 200
    assert InboundWebhook.objects.count() == 4


def test_a_duplicate_delivery_gets_200_and_is_stored_once(client, shop):
    first = post_webhook(client, shop, "orders/create", ORDER, webhook_id="same")
    second = post_webhook(client, shop, "orders/create", ORDER, webhook_id="same")

    assert first.status_code == second.status_code == 200
    assert InboundWebhook.objects.count() == 1


def test_the_same_event_under_a_new_webhook_id_is_a_duplicate_too(client, shop):
    post_webhook(client, shop, "orders/create", ORDER, webhook_id="a", event_id="evt-1")

    assert (
        post_webhook(
            client, shop, "orders/create", ORDER, webhook_id="b", event_id="evt-1"
        ).status_code
        == 200
    )
    assert (
        post_webhook(
            client, shop, "orders/updated", ORDER, webhook_id="c", event_id="evt-1"
        ).status_code
        == 200
    )
    assert InboundWebhook.objects.count() == 2


def test_the_receiver_uses_no_session_and_sets_no_cookie(
    client, shop, django_assert_max_num_queries
):
    # shop lookup, savepoint, insert, queue insert, release: no session, no user.
    with django_assert_max_num_queries(5):
        response = post_webhook(client, shop, "orders/create", ORDER)

    assert response.status_code == 200
    assert not response.cookies


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_store_one_row_and_never_500(shop):
    copies = 6
    barrier = threading.Barrier(copies)
    statuses = []

    def deliver():
        try:
            barrier.wait()
            statuses.append(
                post_webhook(Client(), shop, "orders/create", ORDER, webhook_id="race").status_code
            )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(copies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert statuses == [200] * copies
    assert InboundWebhook.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_delivery_while_the_database_is_down_gets_503_with_retry_after(shop):
    with database_unreachable():
        response = post_webhook(Client(), shop, "orders/create", ORDER)

    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert InboundWebhook.objects.count() == 0
