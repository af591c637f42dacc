"""Shopify's webhook headers, read case-insensitively, with or without the `X-` prefix
(the newer Events delivery sends `shopify-*`; HTTP/2 lowercases everything)."""

from dataclasses import dataclass
from datetime import datetime

from django.http import HttpRequest
from django.utils.dateparse import parse_datetime

NAMES = (
    "hmac-sha256",
    "topic",
    "shop-domain",
    "api-version",
    "webhook-id",
    "event-id",
    "triggered-at",
    "name",
)


def shopify_header(request: HttpRequest, name: str) -> str:
    """`request.headers` is already case-insensitive; try both prefixes."""
    return (
        request.headers.get(f"X-Shopify-{name}") or request.headers.get(f"Shopify-{name}") or ""
    ).strip()


@dataclass(frozen=True)
class ShopifyHeaders:
    hmac: str
    topic: str
    shop_domain: str
    api_version: str
    webhook_id: str
    event_id: str
    triggered_at: datetime | None

    @classmethod
    def from_request(cls, request: HttpRequest) -> "ShopifyHeaders":
        triggered = shopify_header(request, "triggered-at")
        try:
            triggered_at = parse_datetime(triggered) if triggered else None
        except ValueError:
            triggered_at = None
        return cls(
            hmac=shopify_header(request, "hmac-sha256"),
            topic=shopify_header(request, "topic").lower(),
            shop_domain=shopify_header(request, "shop-domain").lower(),
            api_version=shopify_header(request, "api-version")[:16],
            webhook_id=shopify_header(request, "webhook-id"),
            event_id=shopify_header(request, "event-id"),
            triggered_at=triggered_at,
        )

    def as_stored(self) -> dict[str, str]:
        """The headers kept with the event (never the signature)."""
        return {
            "topic": self.topic,
            "shop_domain": self.shop_domain,
            "api_version": self.api_version,
            "webhook_id": self.webhook_id,
            "event_id": self.event_id,
            "triggered_at": self.triggered_at.isoformat() if self.triggered_at else "",
        }
