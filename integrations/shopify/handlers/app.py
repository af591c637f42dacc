"""app/uninstalled: the merchant removed the app."""

from django.utils import timezone

from integrations.shopify.handlers.registry import ShopifyEvent, handles


@handles("app/uninstalled")
def app_uninstalled(event: ShopifyEvent) -> None:
    shop = event.shop
    if shop.installed:
        shop.installed = False
        shop.uninstalled_at = timezone.now()
        shop.save(update_fields=["installed", "uninstalled_at", "updated_at"])
