"""Customer emails in the operations console: the shops' templates, and the notification outbox
where a person decides about the emails that died or whose send was interrupted."""

from django.contrib import admin

from bookbag.core.admin_helpers import (
    ConsoleAdminMixin,
    LogAdminMixin,
    OutboxAdminMixin,
    ReadOnlyAdminMixin,
    excerpt,
    recent_values_filter,
    retry_action,
)
from bookbag.core.models import OutboxStatus
from notifications.models import Notification, NotificationTemplate


@admin.register(NotificationTemplate)
class NotificationTemplateAdmin(ConsoleAdminMixin, admin.ModelAdmin):
    list_display = ("key", "locale", "shop", "subject", "updated_at")
    list_filter = ("shop", "key", "locale")
    search_fields = ("key", "subject", "shop__domain")
    list_select_related = ("shop",)
    readonly_fields = ("created_at", "updated_at")


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, OutboxAdminMixin, LogAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "created_at",
        "shop",
        "template_key",
        "to_email",
        "subject",
        "status",
        "attempts",
        "sent_at",
        "error",
    )
    list_filter = (
        "status",
        recent_values_filter("template_key", "template"),
        "shop",
        "created_at",
    )
    search_fields = ("=to_email", "message_id__exact", "idempotency_key__exact")
    search_help_text = "An exact address, Message-ID or idempotency key."
    list_select_related = ("shop",)
    raw_id_fields = ("customer", "ticket")
    date_hierarchy = "created_at"
    changelist_defer = ("text", "html")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "shop",
                    "template_key",
                    "customer",
                    "ticket",
                    "idempotency_key",
                    "created_at",
                    "sent_at",
                    "message_id",
                )
            },
        ),
        ("Processing", {"fields": OutboxAdminMixin.outbox_state_fields}),
        ("Email", {"fields": ("to_email", "from_email", "reply_to", "subject", "text", "html")}),
    )
    actions = ["resend"]

    # At most once: only a dead email, or one whose send was interrupted (unknown: it may or may
    # not have gone out), is sent again, and only because a person chose to.
    resend = retry_action(
        "Resend selected emails (dead or unknown only)",
        only=(OutboxStatus.DEAD, OutboxStatus.UNKNOWN),
        verb="queued to be sent again",
    )

    @admin.display(description="Last error")
    def error(self, obj):
        return excerpt(obj.last_error)
