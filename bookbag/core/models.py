"""Abstract bases shared by every app: timestamps and the outbox (shared/DESIGN.md, "The spine")."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from bookbag.core.fields import EncryptedTextField


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    DEAD = "dead", "Dead"
    IGNORED = "ignored", "Ignored"  # inbound: a topic Bookbag does not handle
    UNKNOWN = "unknown", "Unknown"  # email whose send was interrupted: a person decides


class OutboxModel(TimestampedModel):
    """A durable unit of work: the row is the truth, queue messages only wake workers.

    Subclasses set `task` (dotted path of the task that processes one row by id), `max_attempts`,
    `retry_delays` (seconds after the previous attempt; the last one repeats) and `lease_seconds`
    (how long a claimed attempt may run before the sweeper considers its worker dead).
    `expired_claim_status` is PENDING (retry: at-least-once) or UNKNOWN (at-most-once, e-mail).
    `fair_key` names the column whose values get equal shares of the sweeper's hand-outs.
    """

    task: str = ""
    max_attempts: int = 10
    retry_delays: tuple[int, ...] = (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
    lease_seconds: int = 300
    expired_claim_status: str = OutboxStatus.PENDING
    # The column the sweeper shares its hand-outs by (a shop's flood must not starve the others).
    fair_key: str | None = None

    status = models.CharField(
        max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    # Due now when created; null once nothing more is scheduled (done, dead, ignored, unknown).
    next_attempt_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    locked_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        abstract = True

    @property
    def is_retryable_by_hand(self) -> bool:
        return self.status in (OutboxStatus.DEAD, OutboxStatus.UNKNOWN, OutboxStatus.IGNORED)


def outbox_indexes(prefix: str) -> list[models.Index]:
    """The index the sweeper's query needs: due rows among the open states."""
    return [
        models.Index(
            fields=["next_attempt_at"],
            name=f"{prefix}_due_idx",
            condition=models.Q(status__in=[OutboxStatus.PENDING, OutboxStatus.IN_PROGRESS]),
        )
    ]


class IdempotencyKey(TimestampedModel):
    """An API client's `Idempotency-Key`: the first response to a creating POST, replayed to
    retries of the same request (bookbag/core/idempotency.py). Unique per user and key, so two
    concurrent copies cannot both run: the loser sees the row and gets 409."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of the method, the path and the canonical JSON body.
    fingerprint = models.CharField(max_length=64)
    # Set while the first request runs; a row still open after it passed was abandoned (its
    # work never committed: the response is recorded in the work's own transaction).
    locked_until = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    # Encrypted: a replayed response may carry a secret shown once (a webhook signing secret).
    response_body = EncryptedTextField(blank=True)
    response_headers = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_unique_user_key")
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.user_id})"
