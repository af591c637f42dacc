"""The outbox state machine: claim, complete, fail with backoff, sweep (shared/DESIGN.md).

pending -> in_progress -> done; a transient failure returns the row to pending with a later
next_attempt_at; after the last attempt -> dead. Every transition is a conditional UPDATE, so two
workers never both own a row, and nothing holds a lock across network I/O.
"""

import logging
import random
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from bookbag.core.models import OutboxModel, OutboxStatus
from bookbag.core.queue import enqueue, waiting_messages

logger = logging.getLogger(__name__)

OPEN_STATES = (OutboxStatus.PENDING, OutboxStatus.IN_PROGRESS)
_registry: list[type[OutboxModel]] = []


def register(model: type[OutboxModel]) -> None:
    """Called from an AppConfig.ready(): the sweeper then watches this model's rows."""
    if not model.task:
        raise ValueError(f"{model.__name__}.task must name the task that processes one row")
    if model not in _registry:
        _registry.append(model)


def registered() -> list[type[OutboxModel]]:
    return list(_registry)


def backoff(model: type[OutboxModel], attempts: int, jitter: float = 0.2) -> timedelta:
    """The wait after attempt number `attempts` (1-based), with +-jitter so retries spread out."""
    delays = model.retry_delays
    base = delays[min(max(attempts, 1) - 1, len(delays) - 1)]
    return timedelta(seconds=base * random.uniform(1 - jitter, 1 + jitter))


def claimable(now: datetime) -> Q:
    """Rows a worker may take: pending and due, or in progress with an expired lease (its worker
    died)."""
    return Q(status=OutboxStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=OutboxStatus.IN_PROGRESS, locked_until__lt=now
    )


def take(model: type[OutboxModel], pk: int, now: datetime) -> bool:
    """The claim's conditional UPDATE, in the caller's transaction: True for the one winner.
    The winner's attempt is counted at once, so a worker killed mid-way still uses up an attempt.
    """
    return bool(
        model.objects.filter(claimable(now), pk=pk).update(
            status=OutboxStatus.IN_PROGRESS,
            locked_until=now + timedelta(seconds=model.lease_seconds),
            attempts=F("attempts") + 1,
            updated_at=now,
        )
    )


def claim(model: type[OutboxModel], pk: int, now: datetime | None = None) -> OutboxModel | None:
    """Take row `pk` for one attempt, or return None if another worker has it or it is not due."""
    now = now or timezone.now()
    with transaction.atomic():
        won = take(model, pk, now)
    if not won:
        return None
    return model.objects.get(pk=pk)


def queue_lease(now: datetime) -> datetime:
    """Until when a row handed to the queue is left to its message: the sweeper does not hand it
    out again before then (OUTBOX_QUEUE_LEASE_SECONDS)."""
    return now + timedelta(seconds=settings.OUTBOX_QUEUE_LEASE_SECONDS)


def complete(row: OutboxModel, status: str = OutboxStatus.DONE, **fields) -> None:
    """Finish the attempt that `row` holds. Extra fields are written in the same UPDATE."""
    type(row).objects.filter(pk=row.pk, status=OutboxStatus.IN_PROGRESS).update(
        status=status,
        locked_until=None,
        next_attempt_at=None,
        last_error="",
        updated_at=timezone.now(),
        **fields,
    )


def fail(
    row: OutboxModel,
    error: str,
    *,
    permanent: bool = False,
    retry_after: timedelta | None = None,
    **fields,
) -> str:
    """Record a failed attempt in its own transaction and schedule the next one (or give up).

    Call it after the failed transaction has rolled back, never inside it: its writes would roll
    back too. `retry_after` (say, from a Retry-After header) replaces the backoff, capped at twice
    the scheduled wait. Returns the new status.
    """
    model = type(row)
    now = timezone.now()
    with transaction.atomic():
        current = model.objects.filter(pk=row.pk).values_list("attempts", flat=True).first()
        if current is None:
            return OutboxStatus.DEAD
        if permanent or current >= model.max_attempts:
            status, next_at = OutboxStatus.DEAD, None
        else:
            wait = backoff(model, current)
            if retry_after is not None:
                wait = min(retry_after, 2 * wait)
            status, next_at = OutboxStatus.PENDING, now + wait
        model.objects.filter(pk=row.pk).update(
            status=status,
            next_attempt_at=next_at,
            locked_until=None,
            last_error=error[:10_000],
            updated_at=now,
            **fields,
        )
    log = logger.error if status == OutboxStatus.DEAD else logger.warning
    log("%s %s attempt %s failed (%s): %s", model.__name__, row.pk, current, status, error[:500])
    return status


def retry_now(
    model: type[OutboxModel], pks, reset_attempts: bool = True, enqueue_tasks: bool = True
) -> int:
    """A person's "retry": put rows back to pending, due now, and (unless told not to) enqueue."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            model.objects.filter(pk__in=pks)
            .exclude(status=OutboxStatus.IN_PROGRESS, locked_until__gt=now)
            .values_list("pk", flat=True)
        )
        update = {"status": OutboxStatus.PENDING, "next_attempt_at": now, "updated_at": now}
        if reset_attempts:
            update["attempts"] = 0
        model.objects.filter(pk__in=ids).update(locked_until=queue_lease(now), **update)
        for pk in ids if enqueue_tasks else ():
            enqueue(model.task, pk)
    return len(ids)


# Set by every sweep pass: while true, the writers of new rows leave them to the sweeper instead
# of enqueueing them (writer_lease), so the queue stays short and the sweeper decides the order.
QUEUE_FULL_KEY = "bookbag:outbox:queue-full"
MAX_PARTITIONS = 100  # a pass shares its room among at most this many shops (or endpoints)


_queue_full_seen = (0.0, False)  # (monotonic time read, value): read at most once a second


def _remember_queue_full(full: bool, read_at: float | None = None) -> None:
    global _queue_full_seen
    _queue_full_seen = (time.monotonic() if read_at is None else read_at, full)


def _queue_full() -> bool:
    read_at, full = _queue_full_seen
    if time.monotonic() - read_at < 1.0:  # the sweeper itself updates it once a second
        return full
    try:
        full = bool(cache.get(QUEUE_FULL_KEY))
    except Exception:  # the shared cache is only a hint: without it, enqueue as usual
        full = False
    _remember_queue_full(full)
    return full


def writer_lease(now: datetime) -> datetime | None:
    """The queue lease for a row its writer is about to create and enqueue, or None when the
    queue is full: then the writer creates the row due and unleased, without a message, and the
    sweeper hands it out in its turn (sweep_model). One shop's flood then waits behind the rows
    of the others instead of in front of them."""
    return None if _queue_full() else queue_lease(now)


def forget_queue_full() -> None:
    """Tests: the next writer reads the hint from the shared cache again."""
    _remember_queue_full(False, read_at=0.0)


def _fair_pick(model: type[OutboxModel], due: Q, limit: int) -> list[int]:
    """Up to `limit` due rows, locked (SKIP LOCKED), earliest due first within each partition
    (the model's `fair_key`: its shop, or its endpoint) and an equal share for each partition."""
    if limit <= 0:
        return []
    rows = (
        model.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(due)
        .order_by("next_attempt_at", "pk")
    )
    key = model.fair_key
    partitions = (
        list(
            model.objects.filter(due)
            .order_by()
            .values_list(key, flat=True)
            .distinct()[: min(limit, MAX_PARTITIONS)]
        )
        if key
        else []
    )
    if len(partitions) <= 1:
        return list(rows.values_list("pk", flat=True)[:limit])
    share = max(limit // len(partitions), 1)
    picked: list[int] = []
    for partition in partitions:
        picked += rows.filter(**{key: partition}).values_list("pk", flat=True)[:share]
    return picked


def sweep_model(
    model: type[OutboxModel],
    now: datetime | None = None,
    batch: int | None = None,
    room: int | None = None,
) -> int:
    """Enqueue the rows of `model` that are due and not leased; returns how many.

    A row whose attempt lease expired (its worker died) goes back to pending, or to unknown for an
    at-most-once outbox, or to dead when its attempts are used up. The queue lease set here keeps a
    row that merely waits in the queue from being enqueued again on the next sweep.

    `room` is how many more messages the queue should take (OUTBOX_SWEEP_QUEUE_LIMIT less what
    waits in it; worked out here when not given). The sweeper tops the queue up to that limit and
    no further, sharing the room equally among the shops (endpoints, for deliveries) with due
    rows. So a flood of one shop's webhooks, left unqueued by writer_lease, goes out interleaved
    with everyone else's, and a row waits at most about the time the workers take to drain the
    limit. A full queue also means that rows whose queue lease ran out are still waiting behind
    it: they are not handed out again until there is room (a 20,000-webhook drain used to hand
    out 32,712 copies). Expired claims are handled whatever the room: they have no message.
    """
    now = now or timezone.now()
    if room is None:
        room = max(settings.OUTBOX_SWEEP_QUEUE_LIMIT - waiting_messages(), 0)
    limit = min(batch or settings.OUTBOX_SWEEP_BATCH, room)
    lease = queue_lease(now)
    due = Q(status=OutboxStatus.PENDING, next_attempt_at__lte=now) & (
        Q(locked_until__isnull=True) | Q(locked_until__lt=now)
    )
    expired = Q(status=OutboxStatus.IN_PROGRESS, locked_until__lt=now)
    with transaction.atomic():
        claims = list(
            model.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(expired)
            .order_by("next_attempt_at")
            .values_list("pk", "attempts")[: settings.OUTBOX_SWEEP_BATCH]
        )
        expired_ids = [pk for pk, _ in claims]
        used_up = {pk for pk, n in claims if n >= model.max_attempts}
        if expired_ids:
            interrupted = "attempt interrupted: its worker stopped before finishing"
            if model.expired_claim_status == OutboxStatus.UNKNOWN:
                used_up = set(expired_ids)  # at most once: a person decides, never a resend
                final = OutboxStatus.UNKNOWN
            else:
                final = OutboxStatus.DEAD
            model.objects.filter(pk__in=used_up).update(
                status=final,
                locked_until=None,
                next_attempt_at=None,
                last_error=interrupted,
                updated_at=now,
            )
        to_enqueue = [pk for pk in expired_ids if pk not in used_up]
        to_enqueue += _fair_pick(model, due, limit)
        if to_enqueue:
            model.objects.filter(pk__in=to_enqueue).update(
                status=OutboxStatus.PENDING, locked_until=lease, updated_at=now
            )
            for pk in to_enqueue:
                enqueue(model.task, pk)
    if to_enqueue or expired_ids:
        logger.info(
            "swept %s: %s enqueued, %s expired claims",
            model.__name__,
            len(to_enqueue),
            len(expired_ids),
        )
    return len(to_enqueue)


def sweep(now: datetime | None = None) -> dict[str, int]:
    """One pass over every registered outbox: the queue is topped up to OUTBOX_SWEEP_QUEUE_LIMIT,
    the room shared among the outboxes (what one leaves unused goes to the next), and the writers
    are told whether to enqueue their new rows themselves (writer_lease)."""
    waiting = waiting_messages()
    limit = settings.OUTBOX_SWEEP_QUEUE_LIMIT
    _remember_queue_full(waiting >= limit)  # this process's writers
    try:
        cache.set(QUEUE_FULL_KEY, waiting >= limit, timeout=10)  # everyone else's
    except Exception:  # no shared cache: writers keep enqueueing themselves (as without a sweeper)
        logger.warning("could not tell the writers how full the queue is", exc_info=True)
    room = max(limit - waiting, 0)
    models = registered()
    swept = {}
    for n, model in enumerate(models):
        share = -(-room // (len(models) - n))  # ceil: the last outboxes take what is left
        swept[model._meta.label] = sweep_model(model, now=now, room=share)
        room = max(room - swept[model._meta.label], 0)
    return swept


def release_queue_leases(now: datetime | None = None) -> int:
    """After a database outage: rows waiting for their queue message are sweepable again at once.

    The tasks handed out while the database was away failed before they could claim their row,
    and their messages are gone (Redis) or locked for Q_RETRY (ORM broker): without this, their
    rows would wait out OUTBOX_QUEUE_LEASE_SECONDS (five minutes) after a blip of seconds. A row
    whose message is still queued gets a second one; the claim makes that a no-op.
    """
    now = now or timezone.now()
    released = 0
    for model in registered():
        released += model.objects.filter(status=OutboxStatus.PENDING, locked_until__gt=now).update(
            locked_until=None, updated_at=now
        )
    return released


def prune(model: type[OutboxModel], *, statuses, before: datetime, batch: int = 1000) -> int:
    """Delete finished rows older than `before`, a small batch per transaction, so no long lock
    is held and the table stays writable meanwhile. Returns how many rows went."""
    deleted = 0
    while True:
        ids = list(
            model.objects.filter(status__in=statuses, created_at__lt=before)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return deleted
        with transaction.atomic():
            model.objects.filter(pk__in=ids).delete()
        deleted += len(ids)


def stats(now: datetime | None = None) -> dict[str, dict]:
    """Throughput and backlog per outbox (bookbag_stats, the admin index)."""
    from django.db.models import Count, Min

    now = now or timezone.now()
    day_ago, hour_ago = now - timedelta(days=1), now - timedelta(hours=1)
    report = {}
    for model in registered():
        rows = model.objects.all()
        by_status = dict(
            rows.filter(status__in=[*OPEN_STATES, OutboxStatus.DEAD, OutboxStatus.UNKNOWN])
            .values_list("status")
            .annotate(n=Count("pk"))
        )
        recent = rows.filter(created_at__gte=day_ago)  # bounded by the created_at index
        oldest_due = rows.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now).aggregate(
            t=Min("next_attempt_at")
        )["t"]
        report[model._meta.label] = {
            "pending": by_status.get(OutboxStatus.PENDING, 0),
            "in_progress": by_status.get(OutboxStatus.IN_PROGRESS, 0),
            "dead": by_status.get(OutboxStatus.DEAD, 0),
            "unknown": by_status.get(OutboxStatus.UNKNOWN, 0),
            "created_last_hour": recent.filter(created_at__gte=hour_ago).count(),
            "done_last_hour": recent.filter(
                status=OutboxStatus.DONE, updated_at__gte=hour_ago
            ).count(),
            "done_last_day": recent.filter(status=OutboxStatus.DONE).count(),
            "oldest_due_seconds": int((now - oldest_due).total_seconds()) if oldest_due else 0,
        }
    return report


def backlog() -> dict[str, dict]:
    """Per outbox: rows open (pending or in progress) and the oldest due time, for /readyz."""
    from django.db.models import Count, Min

    report = {}
    for model in registered():
        agg = model.objects.filter(status__in=OPEN_STATES).aggregate(
            open=Count("pk"), oldest_due=Min("next_attempt_at")
        )
        dead = model.objects.filter(status=OutboxStatus.DEAD).count()
        report[model._meta.label] = {
            "open": agg["open"],
            "dead": dead,
            "oldest_due": agg["oldest_due"].isoformat() if agg["oldest_due"] else None,
        }
    return report
