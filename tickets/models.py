"""Tickets, their conversation and timeline, tags, saved replies and CSAT surveys."""

import secrets

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Case, F, IntegerField, Q, Value, When

from bookbag.core.models import TimestampedModel
from integrations.models import Customer, Order, Shop


class Tag(TimestampedModel):
    name = models.CharField(max_length=64, unique=True)
    color = models.CharField(max_length=7, default="#6b7280", help_text="#rrggbb")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TicketStatus(models.TextChoices):
    OPEN = "open", "Open"
    PENDING = "pending", "Pending"
    ESCALATED = "escalated", "Escalated"
    RESOLVED = "resolved", "Resolved"


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


# Priority as a number, most urgent highest: the inbox sorts by it (and an index holds it).
PRIORITY_RANK = Case(
    When(priority=Priority.URGENT, then=Value(3)),
    When(priority=Priority.HIGH, then=Value(2)),
    When(priority=Priority.NORMAL, then=Value(1)),
    default=Value(0),
    output_field=IntegerField(),
)


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    WEB = "web", "Web form"
    CHAT = "chat", "Chat"
    API = "api", "API"
    PHONE = "phone", "Phone"
    AUTOMATION = "automation", "Automation"


class Ticket(TimestampedModel):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="tickets")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="tickets")
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    subject = models.CharField(max_length=255)
    status = models.CharField(
        max_length=16, choices=TicketStatus.choices, default=TicketStatus.OPEN
    )
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.EMAIL)
    tags = models.ManyToManyField(Tag, blank=True, related_name="tickets")
    last_activity_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolved_by_automation = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-last_activity_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-last_activity_at"], name="ticket_status_activity_idx"),
            models.Index(fields=["assignee", "status"], name="ticket_assignee_status_idx"),
            models.Index(fields=["shop", "status"], name="ticket_shop_status_idx"),
            # The inbox: "All" by last activity (keyset pages walk this index), the same by
            # priority, and the live-update poll's "what changed last".
            models.Index(fields=["-last_activity_at", "-id"], name="ticket_activity_idx"),
            models.Index(
                PRIORITY_RANK.desc(),
                F("last_activity_at").desc(),
                F("id").desc(),
                name="ticket_priority_rank_idx",
            ),
            models.Index(fields=["updated_at"], name="ticket_updated_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="resolved") | Q(resolved_at__isnull=False),
                name="ticket_resolved_has_time",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"


class AuthorKind(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    AGENT = "agent", "Agent"
    SYSTEM = "system", "System"


class Message(TimestampedModel):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author_kind = models.CharField(max_length=16, choices=AuthorKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    internal = models.BooleanField(default=False, help_text="Internal notes are never emailed.")
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.EMAIL)
    email_message_id = models.CharField(max_length=255, blank=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="message_ticket_time_idx")]

    def __str__(self) -> str:
        return f"{self.get_author_kind_display()} on #{self.ticket_id}"


class TicketEvent(TimestampedModel):
    """A timeline entry: what happened to the ticket, by whom or by which automation."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=64)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    automation = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    # Automations fire once per real change: a duplicate webhook finds its key taken.
    dedupe_key = models.CharField(max_length=255, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="event_ticket_time_idx")]

    def __str__(self) -> str:
        return f"{self.kind} on #{self.ticket_id}"


class SavedReply(TimestampedModel):
    title = models.CharField(max_length=255, unique=True)
    body = models.TextField(
        help_text="Variables: {{ customer.first_name }}, {{ order.name }}, {{ tracking_url }}"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "saved replies"

    def __str__(self) -> str:
        return self.title


def new_csat_token() -> str:
    return secrets.token_urlsafe(32)


class CsatSurvey(TimestampedModel):
    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="csat")
    token = models.CharField(max_length=64, unique=True, default=new_csat_token, editable=False)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=1, score__lte=5),
                name="csat_score_1_to_5",
            )
        ]

    def __str__(self) -> str:
        return f"CSAT for #{self.ticket_id}"
