from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class BookbagConfig(AppConfig):
    name = "bookbag"
    verbose_name = "Bookbag"

    def ready(self) -> None:
        from bookbag.setup import create_reference_rows

        # post_migrate, not ready() or a data migration: it runs again after a test flush. Sent
        # for the last app, so every app's permissions exist by then.
        last_app = list(apps.get_app_configs())[-1]
        post_migrate.connect(
            create_reference_rows, sender=last_app, dispatch_uid="bookbag.reference_rows"
        )
