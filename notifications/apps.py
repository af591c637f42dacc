from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Customer notifications"

    def ready(self) -> None:
        from bookbag.core import outbox
        from notifications import receivers  # noqa: F401  (connects the signal receivers)
        from notifications.models import Notification

        outbox.register(Notification)
