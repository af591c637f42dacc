from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Shopify"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from bookbag.core import outbox
        from integrations.models import InboundWebhook, Shop
        from integrations.shopify.shop_keys import forget_shops

        outbox.register(InboundWebhook)
        for signal in (post_save, post_delete):
            signal.connect(forget_shops, sender=Shop, dispatch_uid=f"forget-shops-{signal}")
