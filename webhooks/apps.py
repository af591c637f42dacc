from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Outbound webhooks"

    def ready(self) -> None:
        from bookbag.core import outbox
        from webhooks import receivers  # noqa: F401  (connects the signal receivers)
        from webhooks.models import Delivery

        outbox.register(Delivery)
