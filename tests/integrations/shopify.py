"""Posting webhooks the way Shopify does: signed raw bytes through the real URL."""

import json
import uuid
from pathlib import Path

from integrations.shopify.verification import sign

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "shopify"
URL = "/webhooks/shopify/"


def fixture_bytes(topic_or_name: str) -> bytes:
    return (FIXTURES / f"{topic_or_name.replace('/', '__')}.json").read_bytes()


def fixture(topic_or_name: str) -> dict:
    return json.loads(fixture_bytes(topic_or_name))


def post_webhook(
    client,
    shop,
    topic: str,
    payload: dict | bytes | None = None,
    *,
    secret: str | None = None,
    webhook_id: str | None = None,
    event_id: str | None = None,
    url: str = URL,
    extra_headers: dict | None = None,
):
    if payload is None:
        body = fixture_bytes(topic)
    elif isinstance(payload, bytes):
        body = payload
    else:
        body = json.dumps(payload).encode()
    headers = {
        "HTTP_X_SHOPIFY_TOPIC": topic,
        "HTTP_X_SHOPIFY_SHOP_DOMAIN": shop.domain,
        "HTTP_X_SHOPIFY_HMAC_SHA256": sign(secret or shop.webhook_secret, body),
        "HTTP_X_SHOPIFY_WEBHOOK_ID": webhook_id or str(uuid.uuid4()),
        "HTTP_X_SHOPIFY_API_VERSION": "2025-10",
        "HTTP_X_SHOPIFY_TRIGGERED_AT": "2026-11-20T15:15:47.000000Z",
    }
    if event_id:
        headers["HTTP_X_SHOPIFY_EVENT_ID"] = event_id
    headers.update(extra_headers or {})
    return client.post(url, data=body, content_type="application/json", **headers)
