"""Customer emails: editable templates, and the notification outbox (at most once)."""

from django.db import models

from bookbag.core.models import OutboxModel, OutboxStatus, TimestampedModel, outbox_indexes
from integrations.models import Customer, Shop
from tickets.models import Ticket


class NotificationTemplate(TimestampedModel):
    """A shop's own wording for one email; the defaults live in templates/notifications/."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="notification_templates")
    key = models.CharField(max_length=64, help_text="e.g. shipping_confirmation")
    locale = models.CharField(max_length=16, blank=True, help_text="Empty: any language")
    subject = models.CharField(max_length=255)
    text = models.TextField()
    html = models.TextField(blank=True)

    class Meta:
        ordering = ["shop", "key", "locale"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "key", "locale"], name="notification_template_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.locale or 'default'})"


class Notification(OutboxModel):
    """One email, rendered when it is created and sent by notifications.tasks.

    At most once: the claim commits before the SMTP call, and an attempt whose worker died
    becomes `unknown` (a person may resend it) rather than being sent again by itself.
    """

    task = "notifications.tasks.send_notification"
    max_attempts = 5
    retry_delays = (30, 120, 600, 3600)
    lease_seconds = 120
    expired_claim_status = OutboxStatus.UNKNOWN
    fair_key = "shop_id"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="notifications")
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )
    template_key = models.CharField(max_length=64)
    to_email = models.EmailField()
    from_email = models.CharField(max_length=255, blank=True)
    reply_to = models.CharField(max_length=255, blank=True)
    subject = models.CharField(max_length=255)
    text = models.TextField()
    html = models.TextField(blank=True)
    idempotency_key = models.CharField(max_length=255, unique=True)
    message_id = models.CharField(max_length=255, blank=True, help_text="The email's Message-ID")
    # Threading: the Message-ID this email answers, so mail clients keep one conversation.
    in_reply_to = models.CharField(max_length=255, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            *outbox_indexes("notification"),
            models.Index(fields=["shop", "template_key", "-created_at"], name="notif_shop_key_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.template_key} to {self.to_email}"
