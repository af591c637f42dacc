"""Outbound webhooks: endpoints, events (payload bytes frozen once), deliveries (an outbox) and
the log of every attempt."""

from django.db import models

from bookbag.core.fields import EncryptedTextField
from bookbag.core.models import OutboxModel, TimestampedModel, outbox_indexes
from integrations.models import Customer, Shop


class Endpoint(TimestampedModel):
    url = models.URLField(max_length=2048)
    description = models.CharField(max_length=255, blank=True)
    secret = EncryptedTextField(help_text="whsec_ + base64 of 32 random bytes")
    previous_secret = EncryptedTextField(blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    event_types = models.JSONField(default=list, blank=True, help_text="Empty means every event.")
    active = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=255, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    max_in_flight = models.PositiveSmallIntegerField(
        default=2,
        help_text="Deliveries sent at once to this endpoint: a slow one can't hold all workers.",
    )

    class Meta:
        ordering = ["url"]

    def __str__(self) -> str:
        return self.description or self.url

    def subscribes_to(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class Event(TimestampedModel):
    message_id = models.CharField(max_length=64, unique=True, help_text="msg_…, the webhook-id")
    type = models.CharField(max_length=64, db_index=True)
    # Exact bytes: jsonb would reorder keys and the body must be what was signed.
    payload = models.BinaryField()
    # Whose data the payload carries: compliance requests find (and redact) events by these.
    shop = models.ForeignKey(
        Shop, null=True, blank=True, on_delete=models.CASCADE, related_name="webhook_events"
    )
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="webhook_events"
    )

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.type} {self.message_id}"


class Delivery(OutboxModel):
    task = "webhooks.tasks.deliver"
    max_attempts = 10
    lease_seconds = 60
    fair_key = "endpoint_id"

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event"], name="delivery_unique_endpoint_event"
            )
        ]
        indexes = [
            *outbox_indexes("delivery"),
            models.Index(
                fields=["endpoint", "status", "-created_at"], name="delivery_endpoint_idx"
            ),
            # An endpoint's waiting deliveries, earliest due first (services._waiting): only the
            # pending rows, so the look never walks the finished ones.
            models.Index(
                fields=["endpoint", "next_attempt_at"],
                name="delivery_waiting_idx",
                condition=models.Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id}"


class Attempt(TimestampedModel):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    request_headers = models.JSONField(default=dict, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True, help_text="At most 20 KB")
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["delivery", "-id"], name="attempt_delivery_idx")]

    def __str__(self) -> str:
        return f"Attempt {self.pk} of delivery {self.delivery_id}"

    @property
    def succeeded(self) -> bool:
        return self.response_status is not None and 200 <= self.response_status < 300
