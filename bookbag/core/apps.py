from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "bookbag.core"
    label = "core"
    verbose_name = "Bookbag core"
