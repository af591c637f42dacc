from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Shopify"

    def ready(self) -> None:
        from bookbag.core import outbox
        from integrations.models import InboundWebhook

        outbox.register(InboundWebhook)
