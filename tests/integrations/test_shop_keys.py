"""The receiver keeps what it needs of a shop for a moment; a change is never missed for long."""

import pytest

from integrations.models import InboundWebhook, Shop
from integrations.shopify import shop_keys
from tests.integrations.shopify import fixture, post_webhook

pytestmark = pytest.mark.django_db

ORDER = fixture("orders/create")


def test_a_secret_changed_in_this_process_counts_from_the_next_delivery(client, shop):
    assert post_webhook(client, shop, "orders/create", ORDER).status_code == 200
    old = shop.webhook_secret

    shop.webhook_secret = "a-brand-new-secret"
    shop.save()

    assert post_webhook(client, shop, "orders/create", ORDER, secret=old).status_code == 401
    assert (
        post_webhook(client, shop, "orders/updated", secret="a-brand-new-secret").status_code == 200
    )


def test_a_change_made_by_another_process_counts_within_seconds(client, shop, monkeypatch):
    assert post_webhook(client, shop, "orders/create", ORDER).status_code == 200
    Shop.objects.filter(pk=shop.pk).update(installed=False)  # no signal: as from another host

    assert post_webhook(client, shop, "orders/updated").status_code == 200, "kept for a moment"
    later = shop_keys.time.monotonic() + shop_keys.KEEP_SECONDS + 0.1
    monkeypatch.setattr(shop_keys.time, "monotonic", lambda: later)
    assert post_webhook(client, shop, "orders/paid").status_code == 401
    assert InboundWebhook.objects.count() == 2


def test_a_shop_created_after_a_refusal_is_known_at_once(client):
    stranger = Shop(domain="newcomer.myshopify.com", webhook_secret="newcomer-secret")
    assert post_webhook(client, stranger, "orders/create", ORDER).status_code == 401

    stranger.save()

    assert post_webhook(client, stranger, "orders/create", ORDER).status_code == 200


def test_a_flood_of_unknown_domains_does_not_grow_the_memory(client, shop):
    for n in range(shop_keys.MAX_ENTRIES + 5):
        shop_keys.shop_key(f"forged-{n}.myshopify.com")

    assert len(shop_keys._kept) <= shop_keys.MAX_ENTRIES
