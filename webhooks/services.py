"""Outbound webhooks: publish events, deliver them, and manage endpoints.

Publishing writes one Event (payload bytes frozen once) and one Delivery per subscribed endpoint
in the caller's transaction, so a rollback sends nothing and a commit always sends.
"""

import logging
import secrets
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Subquery
from django.utils import timezone

from bookbag.core import outbox
from bookbag.core.json import dumps_bytes
from bookbag.core.logcontext import log_context
from bookbag.core.models import OutboxStatus
from bookbag.core.queue import enqueue
from webhooks import signing, transport
from webhooks.event_types import CATALOGUE
from webhooks.models import Attempt, Delivery, Endpoint, Event

logger = logging.getLogger(__name__)

USER_AGENT = "Bookbag-Webhooks/1.0"
ROTATION_OVERLAP = timedelta(hours=24)
DISABLE_AFTER = timedelta(days=5)
DEFERRED = "deferred"  # turned away by the endpoint's in-flight cap (not an attempt)
# A worker carries on with an endpoint's next waiting deliveries for at most this long / this
# many (deliver_claimed), then hands the rest back to the queue, behind what is already queued;
# far below django-q2's task timeout (Q_TIMEOUT, 120 s) even when the last attempt takes 15 s.
CHAIN_SECONDS = 10.0
CHAIN_DELIVERIES = 100
WAITING_SCAN = 32  # see _waiting


def deferral_lease() -> timedelta:
    """How long a delivery turned away by the cap is left to a freed slot before the sweeper
    hands it out again: longer than an attempt can last, so normally the slot's worker takes it
    first, and the sweeper does not hand the same waiting rows out again and again."""
    return timedelta(seconds=settings.WEBHOOK_TIMEOUT + 5)


def new_message_id() -> str:
    return "msg_" + secrets.token_urlsafe(18).replace("-", "").replace("_", "")[:24]


def publish_event(event_type: str, data: dict, *, shop=None, customer=None) -> Event | None:
    """Freeze the payload and queue a delivery to each endpoint subscribed to `event_type`.

    Endpoints that are disabled get their delivery too, held (no next attempt) until re-enabled.
    Returns None when no endpoint wants the event (nothing is stored).
    """
    if event_type not in CATALOGUE:
        raise ValueError(f"unknown event type {event_type!r}")
    endpoints = [
        e
        for e in Endpoint.objects.defer("secret", "previous_secret")
        if e.subscribes_to(event_type)
    ]
    if not endpoints:
        return None
    now = timezone.now()
    payload = {"type": event_type, "timestamp": now.isoformat(), "data": data}
    with transaction.atomic():
        event = Event.objects.create(
            message_id=new_message_id(),
            type=event_type,
            payload=dumps_bytes(payload),
            shop=shop,
            customer=customer,
        )
        lease = outbox.writer_lease(now)  # none while the queue is full: the sweeper's turn
        deliveries = Delivery.objects.bulk_create(
            [
                Delivery(
                    endpoint=endpoint,
                    event=event,
                    next_attempt_at=now if endpoint.active else None,
                    locked_until=lease if endpoint.active else None,
                )
                for endpoint in endpoints
            ]
        )
        for delivery in deliveries:
            if delivery.locked_until is not None:
                enqueue(Delivery.task, delivery.pk)
    return event


def signing_secrets(endpoint: Endpoint, now: datetime) -> list[str]:
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires and expires > now:
        return [endpoint.secret, endpoint.previous_secret]
    return [endpoint.secret]


def request_headers(endpoint: Endpoint, event: Event, body: bytes) -> dict[str, str]:
    """Signed afresh for every attempt: receivers reject timestamps older than five minutes."""
    timestamp = int(time.time())
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": event.message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signing.signature_header(
            signing_secrets(endpoint, timezone.now()), event.message_id, timestamp, body
        ),
    }


def _release(delivery: Delivery, next_attempt_at: datetime | None) -> None:
    """Give back a claim without counting it as an attempt (the endpoint is disabled)."""
    Delivery.objects.filter(pk=delivery.pk, status=OutboxStatus.IN_PROGRESS).update(
        status=OutboxStatus.PENDING,
        attempts=max(delivery.attempts - 1, 0),
        next_attempt_at=next_attempt_at,
        locked_until=None,
    )


def _claim_within_cap(delivery_pk: int) -> Delivery | str | None:
    """Claim a delivery for one attempt, unless its endpoint already has `max_in_flight`
    deliveries in flight: then DEFERRED, without claiming it. None when it is not claimable
    (another worker has it, it is finished, or it is not due). The claimed row comes with its
    endpoint and event.

    The count and the claim happen under a lock on the endpoint's row, so two workers cannot
    both take the last slot, and a worker that is turned away never holds a slot, not even for
    a moment (it would turn away the deliveries of the workers that do hold one).
    """
    now = timezone.now()
    of_this_delivery = Delivery.objects.filter(outbox.claimable(now), pk=delivery_pk).values(
        "endpoint_id"
    )
    with transaction.atomic():
        endpoint = (
            # NO KEY: claims exclude each other, not the foreign-key checks of new deliveries.
            Endpoint.objects.select_for_update(no_key=True)
            .filter(pk=Subquery(of_this_delivery[:1]))
            .values_list("pk", "max_in_flight")
            .first()
        )
        if endpoint is None:
            return None
        endpoint_id, cap = endpoint
        # A statement of its own, after the lock: it sees every claim committed before it.
        in_flight = Delivery.objects.filter(
            endpoint_id=endpoint_id, status=OutboxStatus.IN_PROGRESS, locked_until__gt=now
        ).count()
        if in_flight >= cap:
            # One slow endpoint must not hold every worker. Turned away, not failed: it stays
            # due, so the worker whose delivery to this endpoint finishes next sends it
            # (deliver_claimed); the lease keeps the sweeper from handing it straight back,
            # and has it handed out again if no one has taken it by then.
            Delivery.objects.filter(pk=delivery_pk, status=OutboxStatus.PENDING).update(
                locked_until=now + deferral_lease()
            )
            return DEFERRED
        # The claim's UPDATE under the endpoint's lock, in this transaction (no savepoint);
        # the row is then fetched with its endpoint and event at once.
        if not outbox.take(Delivery, delivery_pk, now):
            return None
    return Delivery.objects.select_related("endpoint", "event").get(pk=delivery_pk)


def deliver(delivery_pk: int) -> str | None:
    """One attempt at one delivery (then, after a success, at the endpoint's next ones: see
    deliver_claimed). Only a 2xx is success; 410 disables the endpoint. Returns what became of
    this delivery: DEFERRED when its endpoint's in-flight slots are taken, None when another
    worker has it or it is not due."""
    claimed = _claim_within_cap(delivery_pk)
    if not isinstance(claimed, Delivery):
        return claimed
    return deliver_claimed(claimed)


def deliver_claimed(delivery: Delivery) -> str:
    """Attempt a delivery this worker has claimed; after a success, claim and attempt the same
    endpoint's next waiting delivery (earliest due, one no queue message is on its way for),
    within CHAIN_SECONDS and CHAIN_DELIVERIES; past those, hand the next one to the queue.

    Why: the in-flight cap turns deliveries away while an endpoint's slots are taken. If only
    the sweeper brought them back, workers beyond the cap would spend their time taking queue
    messages only to be turned away, and a backlog to one endpoint would go slower with more
    workers (measured: 8 deliveries/s with 4 workers and one endpoint). The worker whose slot
    frees sends what waits instead, in creation order.
    """
    started = time.monotonic()
    first: str | None = None
    for sent in range(1, CHAIN_DELIVERIES + 1):
        if not (Delivery.endpoint.is_cached(delivery) and Delivery.event.is_cached(delivery)):
            delivery = Delivery.objects.select_related("endpoint", "event").get(pk=delivery.pk)
        with log_context(message_id=delivery.event.message_id, endpoint=delivery.endpoint_id):
            outcome = _attempt(delivery)
        first = first or outcome
        if outcome != OutboxStatus.DONE:
            break  # a failing endpoint is left to its backoff, not hammered
        if sent == CHAIN_DELIVERIES or time.monotonic() - started >= CHAIN_SECONDS:
            _hand_over(delivery.endpoint_id)  # claim nothing more than will be attempted
            break
        following = _claim_next(delivery.endpoint_id)
        if following is None:
            break
        delivery = following
    return first or OutboxStatus.DONE


def _waiting(endpoint_id: int, now: datetime) -> list[int]:
    """The endpoint's due deliveries that no queue message is on its way for (turned away by
    the cap, or never handed out), earliest due first. Rows leased to the queue are left to
    their message: taking them here would leave it nothing to do but cost a round trip.

    Only among the endpoint's WAITING_SCAN earliest due rows (delivery_waiting_idx, with a
    limit): behind a backlog whose rows all have messages, an unbounded look would read the
    whole backlog after every delivery. Turned-away rows are among the earliest; any beyond
    are the sweeper's.
    """
    free_by = now + deferral_lease()
    earliest = (
        Delivery.objects.filter(
            endpoint_id=endpoint_id, status=OutboxStatus.PENDING, next_attempt_at__lte=now
        )
        .order_by("next_attempt_at", "id")
        .values_list("pk", "locked_until")[:WAITING_SCAN]
    )
    return [pk for pk, leased in earliest if leased is None or leased <= free_by]


def _claim_next(endpoint_id: int) -> Delivery | None:
    """Claim the endpoint's earliest due waiting delivery; None if none, or no slot is free."""
    for pk in _waiting(endpoint_id, timezone.now())[:3]:  # another worker may win one
        claimed = _claim_within_cap(pk)
        if claimed == DEFERRED:
            return None
        if claimed is not None:
            return claimed
    return None


def _hand_over(endpoint_id: int) -> None:
    """A chain's budget is spent: give the endpoint's next waiting delivery a queue message, so
    it goes out after what other endpoints have queued, without waiting for its lease."""
    now = timezone.now()
    waiting = _waiting(endpoint_id, now)
    if not waiting:
        return
    pk = waiting[0]
    lease = outbox.queue_lease(now)
    with transaction.atomic():
        if Delivery.objects.filter(pk=pk, status=OutboxStatus.PENDING).update(locked_until=lease):
            enqueue(Delivery.task, pk)


def _attempt(delivery: Delivery) -> str:
    endpoint, event = delivery.endpoint, delivery.event
    if not endpoint.active:
        _release(delivery, None)  # held until the endpoint is enabled again
        return "held"
    body = bytes(event.payload)
    headers = request_headers(endpoint, event, body)
    result = transport.post(
        endpoint.url,
        body,
        headers,
        connect_timeout=settings.WEBHOOK_CONNECT_TIMEOUT,
        total_timeout=settings.WEBHOOK_TIMEOUT,
    )
    attempt = Attempt(
        delivery=delivery,
        request_headers={k: v for k, v in headers.items() if k != "webhook-signature"}
        | {"webhook-signature": "v1,…"},
        response_status=result.status,
        response_body=result.body,
        error=result.error,
        duration_ms=result.duration_ms,
    )
    attempted = {"last_status_code": result.status, "last_attempt_at": timezone.now()}
    if result.status is not None and 200 <= result.status < 300:
        # The attempt's log, the delivery's new state and the endpoint's last success commit
        # together: one commit (one WAL flush) per delivery instead of three.
        # The endpoint's row first: claims lock it before the delivery's (no deadlock).
        with transaction.atomic():
            Endpoint.objects.filter(pk=endpoint.pk).update(
                last_success_at=timezone.now(), failing_since=None
            )
            attempt.save()
            outbox.complete(delivery, succeeded_at=timezone.now(), **attempted)
        return OutboxStatus.DONE
    reason = result.error or f"HTTP {result.status}"
    if result.status == 410:
        with transaction.atomic():
            attempt.save()
            outbox.fail(delivery, f"{reason}: the endpoint is gone", permanent=True, **attempted)
        disable_endpoint(endpoint, reason="The endpoint answered 410 Gone.")
        return OutboxStatus.DEAD
    retry_after = timedelta(seconds=result.retry_after) if result.retry_after else None
    if result.status not in (429, 503):
        retry_after = None
    with transaction.atomic():
        attempt.save()
        status = outbox.fail(delivery, reason, retry_after=retry_after, **attempted)
    note_failure(endpoint)  # may email the admins: outside the transaction
    return status


def note_failure(endpoint: Endpoint) -> None:
    """Start the failing clock; after five days without a success, disable and tell admins."""
    now = timezone.now()
    Endpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
    endpoint.refresh_from_db(fields=["failing_since", "last_success_at", "active"])
    if endpoint.active and endpoint.failing_since and now - endpoint.failing_since >= DISABLE_AFTER:
        disable_endpoint(endpoint, reason="No successful delivery for 5 days.", notify=True)


def disable_endpoint(endpoint: Endpoint, *, reason: str, notify: bool = False) -> None:
    updated = Endpoint.objects.filter(pk=endpoint.pk, active=True).update(
        active=False, disabled_reason=reason[:255], disabled_at=timezone.now()
    )
    if updated:
        logger.warning("endpoint %s disabled: %s", endpoint.url, reason)
        # Its pending deliveries are held, not sent, until someone enables it again.
        Delivery.objects.filter(endpoint=endpoint, status=OutboxStatus.PENDING).update(
            next_attempt_at=None, locked_until=None
        )
        if notify:
            email_admins(
                f"Webhook endpoint disabled: {endpoint.url}",
                f"Bookbag disabled the webhook endpoint {endpoint.url}.\n\nReason: {reason}\n\n"
                "Deliveries for it are kept and held. Enable it again in Django admin "
                "(Outbound webhooks → Endpoints) to send them.",
            )


def email_admins(subject: str, body: str) -> None:
    emails = list(
        get_user_model()
        .objects.filter(is_active=True, groups__name="admins")
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )
    if emails:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, emails, fail_silently=True)


@transaction.atomic
def enable_endpoint(endpoint: Endpoint, *, send_held: bool = True) -> int:
    """Enable an endpoint; with send_held, what was held while it was disabled goes out now."""
    Endpoint.objects.filter(pk=endpoint.pk).update(
        active=True, disabled_reason="", disabled_at=None, failing_since=None
    )
    held = Delivery.objects.filter(
        endpoint=endpoint, status=OutboxStatus.PENDING, next_attempt_at__isnull=True
    )
    ids = list(held.values_list("pk", flat=True))
    if send_held and ids:
        return outbox.retry_now(Delivery, ids, reset_attempts=False)
    return 0


@transaction.atomic
def create_endpoint(*, url: str, description: str = "", event_types=()) -> tuple[Endpoint, str]:
    """Returns the endpoint and its secret, to be shown once."""
    secret = signing.new_secret()
    endpoint = Endpoint.objects.create(
        url=url, description=description, event_types=list(event_types), secret=secret
    )
    return endpoint, secret


@transaction.atomic
def rotate_secret(endpoint: Endpoint) -> str:
    """A new secret; the previous one keeps signing too for 24 hours."""
    endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    new = signing.new_secret()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = timezone.now() + ROTATION_OVERLAP
    endpoint.secret = new
    endpoint.save(
        update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"]
    )
    return new


@transaction.atomic
def send_test_event(endpoint: Endpoint) -> Event:
    now = timezone.now()
    payload = {
        "type": "webhook.test",
        "timestamp": now.isoformat(),
        "data": {"message": "Test event from Bookbag", "endpoint": endpoint.url},
    }
    event = Event.objects.create(
        message_id=new_message_id(), type="webhook.test", payload=dumps_bytes(payload)
    )
    delivery = Delivery.objects.create(endpoint=endpoint, event=event, next_attempt_at=now)
    enqueue(Delivery.task, delivery.pk)
    return event


def resend(delivery_ids) -> int:
    """Resend now, with the same webhook-id (receivers dedupe on it)."""
    return outbox.retry_now(Delivery, delivery_ids, reset_attempts=True)


def resend_failed_since(endpoint: Endpoint, since: datetime) -> int:
    failed = Delivery.objects.filter(
        endpoint=endpoint, created_at__gte=since, status=OutboxStatus.DEAD
    ) | Delivery.objects.filter(
        endpoint=endpoint, created_at__gte=since, status=OutboxStatus.PENDING, attempts__gt=0
    )
    return resend(list(failed.values_list("pk", flat=True)))


def prune_deliveries(retention_days: int | None = None) -> int:
    """Succeeded deliveries (and their attempts) older than the retention period go, in small
    batches; events left without deliveries go too. Failed and dead ones are kept."""
    days = retention_days or settings.WEBHOOK_RETENTION_DAYS
    cutoff = timezone.now() - timedelta(days=days)
    deleted = outbox.prune(Delivery, statuses=[OutboxStatus.DONE], before=cutoff)
    Event.objects.filter(created_at__lt=cutoff, deliveries__isnull=True).delete()
    return deleted
