"""What the receiver needs of a shop to judge a delivery, kept for a moment in each process.

Loading the Shop row through the ORM was the most expensive step of acknowledging a webhook
(~0.5 ms of CPU, more than the HMAC, the JSON checks and the INSERT together; benchmarks/README.md,
inbound), and Shopify's deliveries come from a handful of shops. So each web process keeps a
shop's id, install state and secrets for KEEP_SECONDS. A change saved in this process is seen at
once (the cache is emptied on every Shop save or delete); one saved by another process is seen
within KEEP_SECONDS, which a rotation absorbs (the previous secret stays valid for its overlap)
and an uninstall tolerates (the event is stored; the automations check the shop when applying).
"""

import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from integrations.models import Shop

KEEP_SECONDS = 2.0
MAX_ENTRIES = 1000  # unknown domains are remembered too: a flood of forgeries cannot grow it

_kept: dict[str, tuple[float, "ShopKey | None"]] = {}


@dataclass(frozen=True)
class ShopKey:
    id: int
    installed: bool
    secret: str
    previous_secret: str
    previous_expires_at: datetime | None

    def secrets(self) -> list[str]:
        """The shop's own secret if it has one, else the app's; plus an unexpired previous one."""
        secrets = [self.secret or settings.SHOPIFY_API_SECRET]
        expires = self.previous_expires_at
        if self.previous_secret and (expires is None or expires > timezone.now()):
            secrets.append(self.previous_secret)
        return [s for s in secrets if s]


def shop_key(domain: str) -> ShopKey | None:
    now = time.monotonic()
    kept = _kept.get(domain)
    if kept is not None and kept[0] > now:
        return kept[1]
    shop = (
        Shop.objects.filter(domain=domain)
        .only(
            "installed", "webhook_secret", "previous_webhook_secret", "previous_secret_expires_at"
        )
        .first()
    )
    key = (
        ShopKey(
            id=shop.pk,
            installed=shop.installed,
            secret=shop.webhook_secret,
            previous_secret=shop.previous_webhook_secret,
            previous_expires_at=shop.previous_secret_expires_at,
        )
        if shop
        else None
    )
    if len(_kept) >= MAX_ENTRIES:
        _kept.clear()
    _kept[domain] = (now + KEEP_SECONDS, key)
    return key


def forget_shops(**kwargs) -> None:
    """Connected to Shop's post_save and post_delete (integrations.apps)."""
    _kept.clear()
