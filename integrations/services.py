"""Receiving and processing Shopify webhooks (shared/DESIGN.md, "The spine")."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from bookbag.core import outbox
from bookbag.core.json import InvalidJSON, loads_strict
from bookbag.core.logcontext import log_context
from bookbag.core.models import OutboxStatus
from bookbag.core.queue import enqueue
from integrations.models import InboundWebhook
from integrations.shopify.handlers.registry import ShopifyEvent, handler_for
from integrations.shopify.headers import ShopifyHeaders
from integrations.shopify.parsing import PayloadError

logger = logging.getLogger(__name__)


def record_inbound_webhook(*, shop_id: int, headers: ShopifyHeaders, body: bytes) -> bool:
    """Store a verified delivery and enqueue its processing in one transaction.

    Returns False for a duplicate (same webhook id, or same shop, topic and event id): the unique
    constraints decide, so two concurrent copies cannot both be stored.
    """
    now = timezone.now()
    lease = outbox.writer_lease(now)
    try:
        with transaction.atomic():
            row = InboundWebhook.objects.create(
                shop_id=shop_id,
                topic=headers.topic,
                webhook_id=headers.webhook_id,
                event_id=headers.event_id or None,
                api_version=headers.api_version,
                triggered_at=headers.triggered_at,
                body=body,
                headers=headers.as_stored(),
                next_attempt_at=now,
                # Leased while it waits in the queue, so the sweeper does not enqueue it twice;
                # none while the queue is full: then the sweeper hands it out in its turn.
                locked_until=lease,
            )
            if lease:
                enqueue(InboundWebhook.task, row.pk)
    except IntegrityError:
        return False
    return True


class Skip(Exception):
    """The row is not ours to apply any more (another attempt finished or took it over)."""


def apply_inbound_webhook(row: InboundWebhook) -> str:
    """Apply one claimed event in one transaction; mark it done in the same transaction.

    Returns the final status: done, or ignored for a topic Bookbag does not handle.
    """
    handler = handler_for(row.topic)
    with transaction.atomic():
        # Our claim must still hold: a worker that outlived its lease must not apply twice.
        current = (
            InboundWebhook.objects.select_for_update(of=("self",))
            .filter(pk=row.pk, status=OutboxStatus.IN_PROGRESS, attempts=row.attempts)
            .select_related("shop")
            .first()
        )
        if current is None:
            raise Skip
        if handler is None:
            outbox.complete(current, status=OutboxStatus.IGNORED, processed_at=timezone.now())
            return OutboxStatus.IGNORED
        try:
            payload = loads_strict(bytes(current.body))
        except InvalidJSON as exc:
            raise PayloadError(f"stored body is not valid JSON: {exc}") from exc
        if not isinstance(payload, dict):
            raise PayloadError("payload is not a JSON object")
        event = ShopifyEvent(
            shop=current.shop,
            topic=current.topic,
            payload=payload,
            webhook=current,
            triggered_at=current.triggered_at,
        )
        handler(event)
        outbox.complete(
            current,
            processed_at=timezone.now(),
            customer=current.customer,
            body=current.body,  # compliance topics may have redacted it
        )
    return OutboxStatus.DONE


def process_inbound_webhook(webhook_pk: int) -> str | None:
    """Claim, apply, record. A failure is recorded after the failed transaction rolled back."""
    row = outbox.claim(InboundWebhook, webhook_pk)
    if row is None:
        return None
    with log_context(webhook_id=row.webhook_id, topic=row.topic, shop=row.shop_id):
        return _process_claimed(row)


def _process_claimed(row: InboundWebhook) -> str | None:
    try:
        status = apply_inbound_webhook(row)
    except Skip:
        return None
    except PayloadError as exc:  # the payload itself is wrong: retrying cannot help
        outbox.fail(row, f"bad payload: {exc}", permanent=True)
        return OutboxStatus.DEAD
    except Exception as exc:
        logger.exception("processing %s %s failed", row.topic, row.webhook_id)
        return outbox.fail(row, f"{type(exc).__name__}: {exc}")
    logger.info("processed %s %s: %s", row.topic, row.webhook_id, status)
    return status


def reprocess_inbound_webhooks(pks, enqueue_tasks: bool = True) -> int:
    """A person's "reprocess": dead, ignored or done events run again (handlers are idempotent)."""
    return outbox.retry_now(InboundWebhook, pks, enqueue_tasks=enqueue_tasks)


def mark_inbound_webhooks_ignored(pks) -> int:
    return (
        InboundWebhook.objects.filter(pk__in=pks)
        .exclude(status=OutboxStatus.IN_PROGRESS)
        .update(status=OutboxStatus.IGNORED, next_attempt_at=None, locked_until=None)
    )


def prune_inbound_webhooks(retention_days: int | None = None) -> int:
    """Processed (or ignored) events older than the retention period; failed ones stay.

    The retention must outlast Shopify's retries (48 hours at most) for deduplication to hold.
    """
    days = retention_days or settings.INBOUND_RETENTION_DAYS
    before = timezone.now() - timedelta(days=days)
    return outbox.prune(
        InboundWebhook, statuses=[OutboxStatus.DONE, OutboxStatus.IGNORED], before=before
    )
