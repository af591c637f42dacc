"""Sign a payload with a shop's secret and POST it, as Shopify would (demos, support, testing)."""

import uuid
from pathlib import Path

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from integrations.models import Shop
from integrations.shopify.verification import sign


class Command(BaseCommand):
    help = "Sign FILE.json with the shop's webhook secret and POST it to the Shopify receiver."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="JSON payload (see tests/fixtures/shopify/)")
        parser.add_argument("--shop", required=True, help="the shop's myshopify domain")
        parser.add_argument("--topic", required=True, help="e.g. orders/create")
        parser.add_argument("--url", default="http://127.0.0.1:8000/webhooks/shopify/")
        parser.add_argument("--webhook-id", default="", help="default: a new UUID")
        parser.add_argument("--event-id", default="")
        parser.add_argument("--api-version", default="2025-10")

    def handle(self, *args, file: Path, shop: str, topic: str, url: str, **options):
        try:
            body = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc}") from exc
        record = Shop.objects.filter(domain=shop.lower()).first()
        if record is None:
            known = ", ".join(Shop.objects.values_list("domain", flat=True))
            raise CommandError(f"no shop {shop!r}; known: {known}")
        secret = record.webhook_secret or settings.SHOPIFY_API_SECRET
        if not secret:
            raise CommandError(f"{shop} has no webhook secret and SHOPIFY_API_SECRET is not set")
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Shop-Domain": record.domain,
            "X-Shopify-Hmac-Sha256": sign(secret, body),
            "X-Shopify-Webhook-Id": options["webhook_id"] or str(uuid.uuid4()),
            "X-Shopify-API-Version": options["api_version"],
            "X-Shopify-Triggered-At": timezone.now().isoformat(),
        }
        if options["event_id"]:
            headers["X-Shopify-Event-Id"] = options["event_id"]
        session = requests.Session()
        session.trust_env = False  # a local tool: never through a proxy from the environment
        try:
            response = session.post(
                url, data=body, headers=headers, timeout=10, allow_redirects=False
            )
        except requests.RequestException as exc:
            raise CommandError(f"POST {url} failed: {exc}") from exc
        self.stdout.write(f"{response.status_code} {response.text[:200]}")
        if response.status_code != 200:
            raise CommandError(f"the receiver answered {response.status_code}")
