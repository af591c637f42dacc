"""Shopify webhook secrets and endpoint signing secrets: encrypted in the database (Fernet, keys
from FIELD_ENCRYPTION_KEYS), never in a log line, and shown once — when created or rotated —
then only masked, in the API as in the admin (tests/admin/test_admin_pages.py)."""

import base64
import logging

import pytest
from django.db import connection
from django.test import Client

from bookbag.core.logcontext import ContextFilter, JsonFormatter
from integrations.models import InboundWebhook, Shop
from tests.api.conftest import token_client
from tests.factories import AdminFactory, ShopFactory
from tests.integrations.shopify import fixture, post_webhook
from tickets import services as tickets
from webhooks import services
from webhooks.models import Attempt, Endpoint

pytestmark = pytest.mark.django_db

SHOP_SECRET = "shpss_0123456789abcdef0123456789abcdef"
PREVIOUS_SHOP_SECRET = "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"


def raw_column(model, pk: int, column: str) -> str:
    """The value as stored, read past the ORM."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {connection.ops.quote_name(column)} FROM {table} WHERE id = %s", [pk]
        )
        return cursor.fetchone()[0]


def forms_of(secret: str) -> list[str]:
    """A secret as it could leak: whole, and the key material after a `whsec_` prefix."""
    forms = [secret]
    if secret.startswith("whsec_"):
        forms.append(secret.removeprefix("whsec_"))
        forms.append(base64.b64decode(secret.removeprefix("whsec_")).hex())
    return forms


@pytest.fixture
def every_log_line():
    """Every record any logger writes (SQL included), formatted as production formats it."""
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            ContextFilter().filter(record)
            lines.append(JsonFormatter().format(record))
            lines.append(repr(record.__dict__))  # extras a formatter might add later

    handler = Keep(level=logging.DEBUG)
    root = logging.getLogger()
    previous = root.level, {name: logging.getLogger(name).level for name in ("django-q", "django")}
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in previous[1]:
        logging.getLogger(name).setLevel(logging.DEBUG)
    connection.force_debug_cursor = True  # SQL statements and their parameters are logged too
    yield lines
    connection.force_debug_cursor = False
    root.removeHandler(handler)
    root.setLevel(previous[0])
    for name, level in previous[1].items():
        logging.getLogger(name).setLevel(level)


def assert_absent(secrets: list[str], lines: list[str]) -> None:
    assert lines, "nothing was logged: the capture is not working"
    for secret in secrets:
        for form in forms_of(secret):
            leaks = [line[:200] for line in lines if form in line]
            assert not leaks, f"{form[:12]}… found in the logs"


# --- At rest ---------------------------------------------------------------------------------


def test_shop_secrets_are_stored_encrypted_and_read_back_plain():
    shop = Shop.objects.create(
        domain="rest.myshopify.com",
        webhook_secret=SHOP_SECRET,
        previous_webhook_secret=PREVIOUS_SHOP_SECRET,
    )

    for column, secret in (
        ("webhook_secret", SHOP_SECRET),
        ("previous_webhook_secret", PREVIOUS_SHOP_SECRET),
    ):
        stored = raw_column(Shop, shop.pk, column)
        assert secret not in stored and secret[6:] not in stored
        assert stored.startswith("gAAAAA")  # a Fernet token
    shop.refresh_from_db()
    assert (shop.webhook_secret, shop.previous_webhook_secret) == (
        SHOP_SECRET,
        PREVIOUS_SHOP_SECRET,
    )


def test_endpoint_signing_secrets_are_stored_encrypted(loopback_allowed):
    endpoint, secret = services.create_endpoint(url="http://127.0.0.1:9/hook")
    previous = secret
    secret = services.rotate_secret(endpoint)

    for column, value in (("secret", secret), ("previous_secret", previous)):
        stored = raw_column(Endpoint, endpoint.pk, column)
        assert all(form not in stored for form in forms_of(value))
        assert stored.startswith("gAAAAA")


def test_a_database_copy_without_the_key_reveals_nothing_and_keys_rotate(settings):
    shop = Shop.objects.create(domain="keys.myshopify.com", webhook_secret=SHOP_SECRET)

    old_keys = list(settings.FIELD_ENCRYPTION_KEYS)

    settings.FIELD_ENCRYPTION_KEYS = ["a-key-the-thief-guessed"]
    with pytest.raises(ValueError, match="wrong key"):
        Shop.objects.get(pk=shop.pk)

    # Rotation: the new key first; the old one still decrypts until the row is saved again.
    settings.FIELD_ENCRYPTION_KEYS = ["the-new-key", *old_keys]
    shop = Shop.objects.get(pk=shop.pk)
    assert shop.webhook_secret == SHOP_SECRET
    shop.save()
    settings.FIELD_ENCRYPTION_KEYS = ["the-new-key"]
    assert Shop.objects.get(pk=shop.pk).webhook_secret == SHOP_SECRET


# --- Never logged -----------------------------------------------------------------------------


def test_receiving_and_processing_a_shopify_webhook_logs_no_secret(
    client, every_log_line, run_queued_tasks
):
    shop = ShopFactory(
        domain="logs.myshopify.com",
        webhook_secret=SHOP_SECRET,
        previous_webhook_secret=PREVIOUS_SHOP_SECRET,
    )

    assert post_webhook(client, shop, "orders/create", fixture("orders/create")).status_code == 200
    forged = post_webhook(client, shop, "orders/create", secret="not-the-secret")
    run_queued_tasks()

    assert forged.status_code == 401
    assert_absent([SHOP_SECRET, PREVIOUS_SHOP_SECRET], every_log_line)


def test_delivering_and_failing_to_deliver_logs_no_signing_secret(
    endpoint_and_secret, ticket, every_log_line, run_queued_tasks
):
    endpoint, secret, receiver = endpoint_and_secret
    receiver.script = [500, 200]
    tickets.resolve(ticket=ticket)
    run_queued_tasks()  # the 500: recorded, retried later
    services.resend(list(endpoint.deliveries.values_list("pk", flat=True)))
    run_queued_tasks()  # the 200
    rotated = services.rotate_secret(endpoint)
    services.send_test_event(endpoint)
    run_queued_tasks()

    assert [r["verified_by"] != [] for r in receiver.received] == [True] * len(receiver.received)
    assert len(receiver.received) >= 3
    assert_absent([secret, rotated], every_log_line)
    for attempt in Attempt.objects.all():  # the delivery log keeps the signature, not the key
        assert all(form not in str(attempt.request_headers) for form in forms_of(secret))


# --- Shown once, then masked ------------------------------------------------------------------


@pytest.fixture
def admin_api(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    return token_client(AdminFactory())


def test_the_api_shows_an_endpoints_secret_once_then_only_its_last_characters(
    admin_api, loopback_allowed
):
    created = admin_api.post("/api/webhook-endpoints/", {"url": "http://127.0.0.1:9/crm"})
    assert created.status_code == 201
    secret = created.json()["secret"]
    assert secret.startswith("whsec_")
    pk = created.json()["id"]

    rotated = admin_api.post(f"/api/webhook-endpoints/{pk}/rotate-secret/")
    new_secret = rotated.json()["secret"]
    assert new_secret != secret

    for url in ("/api/webhook-endpoints/", f"/api/webhook-endpoints/{pk}/"):
        body = admin_api.get(url).content.decode()
        for value in (secret, new_secret):
            assert all(form not in body for form in forms_of(value)), url
        assert f"whsec_…{new_secret[-4:]}" in body
    patched = admin_api.patch(f"/api/webhook-endpoints/{pk}/", {"description": "CRM"})
    assert "secret" not in patched.json() and new_secret not in patched.content.decode()


def test_no_api_answer_carries_a_shops_webhook_secret(admin_api):
    shop = ShopFactory(webhook_secret=SHOP_SECRET, previous_webhook_secret=PREVIOUS_SHOP_SECRET)
    inbound = post_webhook(Client(), shop, "orders/create")
    assert inbound.status_code == 200
    row_id = InboundWebhook.objects.get(shop=shop).pk

    for url in ("/api/shops/", f"/api/shops/{shop.pk}/", f"/api/inbound-webhooks/{row_id}/"):
        body = admin_api.get(url).content.decode()
        assert SHOP_SECRET not in body and PREVIOUS_SHOP_SECRET not in body, url
        assert "hmac" not in body.lower(), url  # nor the signature header it arrived with


def test_a_new_endpoint_secret_is_drawn_fresh_every_time(loopback_allowed):
    secrets = {services.create_endpoint(url="http://127.0.0.1:9/x")[1] for _ in range(20)}

    assert len(secrets) == 20
    assert all(len(base64.b64decode(s.removeprefix("whsec_"))) >= 24 for s in secrets)
