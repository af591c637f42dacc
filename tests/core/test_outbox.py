"""The outbox state machine shared by inbound events, emails and deliveries."""

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connections, transaction
from django.test import override_settings
from django.utils import timezone

from bookbag.core import outbox
from bookbag.core.models import OutboxStatus
from bookbag.core.queue import enqueue
from integrations.models import InboundWebhook, Shop
from notifications.models import Notification
from tests.queue import purge

pytestmark = pytest.mark.django_db


def make_shop() -> Shop:
    return Shop.objects.get_or_create(domain="outbox.myshopify.com")[0]


def make_inbound(n: int = 1, **fields) -> InboundWebhook:
    return InboundWebhook.objects.create(
        shop=make_shop(), topic="orders/create", webhook_id=f"wh-{n}", body=b"{}", **fields
    )


def make_notification(n: int = 1, **fields) -> Notification:
    return Notification.objects.create(
        shop=make_shop(),
        template_key="test",
        to_email=f"customer{n}@example.com",
        subject=f"Hello {n}",
        text="Your parcel is on its way.",
        idempotency_key=f"test:{n}",
        **fields,
    )


def test_a_claim_wins_once_and_counts_the_attempt():
    row = make_inbound()

    claimed = outbox.claim(InboundWebhook, row.pk)

    assert claimed.status == OutboxStatus.IN_PROGRESS
    assert claimed.attempts == 1
    assert claimed.locked_until > timezone.now() + timedelta(
        seconds=InboundWebhook.lease_seconds - 5
    )
    assert outbox.claim(InboundWebhook, row.pk) is None


def test_a_row_scheduled_for_later_cannot_be_claimed_yet():
    row = make_inbound(next_attempt_at=timezone.now() + timedelta(minutes=5))

    assert outbox.claim(InboundWebhook, row.pk) is None
    assert outbox.claim(InboundWebhook, row.pk, now=timezone.now() + timedelta(minutes=6))


def test_an_expired_claim_can_be_taken_over():
    row = make_inbound()
    outbox.claim(InboundWebhook, row.pk)
    later = timezone.now() + timedelta(seconds=InboundWebhook.lease_seconds + 1)

    retaken = outbox.claim(InboundWebhook, row.pk, now=later)

    assert retaken is not None and retaken.attempts == 2


def test_finished_rows_are_never_claimed_again():
    row = make_inbound()
    outbox.complete(outbox.claim(InboundWebhook, row.pk))
    row.refresh_from_db()

    assert row.status == OutboxStatus.DONE and row.next_attempt_at is None
    assert outbox.claim(InboundWebhook, row.pk, now=timezone.now() + timedelta(days=1)) is None


def test_a_failure_schedules_the_next_attempt_with_jittered_backoff():
    row = make_inbound()
    before = timezone.now()

    status = outbox.fail(outbox.claim(InboundWebhook, row.pk), "boom")

    row.refresh_from_db()
    first_delay = InboundWebhook.retry_delays[0]
    assert status == row.status == OutboxStatus.PENDING
    assert row.last_error == "boom" and row.locked_until is None
    wait = (row.next_attempt_at - before).total_seconds()
    assert first_delay * 0.8 - 1 <= wait <= first_delay * 1.2 + 1


def test_backoff_grows_and_repeats_its_last_step():
    delays = [outbox.backoff(InboundWebhook, n, jitter=0).total_seconds() for n in range(1, 12)]

    assert delays[:7] == list(InboundWebhook.retry_delays)
    assert delays[7:] == [InboundWebhook.retry_delays[-1]] * 4


def test_retry_after_is_honoured_but_capped_at_twice_the_scheduled_wait():
    row = make_inbound()
    claimed = outbox.claim(InboundWebhook, row.pk)
    before = timezone.now()

    outbox.fail(claimed, "429", retry_after=timedelta(hours=10))

    row.refresh_from_db()
    assert (row.next_attempt_at - before).total_seconds() <= 2 * InboundWebhook.retry_delays[
        0
    ] * 1.2 + 1


def test_the_last_failed_attempt_leaves_the_row_dead_and_visible():
    row = make_inbound()
    now = timezone.now()
    for attempt in range(InboundWebhook.max_attempts):
        claimed = outbox.claim(InboundWebhook, row.pk, now=now + timedelta(days=attempt))
        assert claimed is not None, f"attempt {attempt + 1} should be claimable"
        status = outbox.fail(claimed, f"failure {attempt + 1}")

    row.refresh_from_db()
    assert status == row.status == OutboxStatus.DEAD
    assert row.attempts == InboundWebhook.max_attempts
    assert row.last_error == f"failure {InboundWebhook.max_attempts}"
    assert outbox.claim(InboundWebhook, row.pk, now=now + timedelta(days=365)) is None


def test_a_permanent_failure_is_dead_at_once():
    row = make_inbound()

    assert outbox.fail(outbox.claim(InboundWebhook, row.pk), "410 Gone", permanent=True) == "dead"


def test_retry_by_hand_revives_a_dead_row(queued_tasks):
    row = make_inbound(status=OutboxStatus.DEAD, next_attempt_at=None, attempts=8)

    assert outbox.retry_now(InboundWebhook, [row.pk]) == 1

    row.refresh_from_db()
    assert row.status == OutboxStatus.PENDING and row.attempts == 0
    assert [(t["func"], t["args"]) for t in queued_tasks()] == [(InboundWebhook.task, (row.pk,))]


@pytest.mark.queue
def test_the_sweeper_enqueues_due_rows_once_and_leaves_the_rest(queued_tasks):
    due = make_inbound(1)
    later = make_inbound(2, next_attempt_at=timezone.now() + timedelta(minutes=10))
    done = make_inbound(3, status=OutboxStatus.DONE, next_attempt_at=None)

    assert outbox.sweep_model(InboundWebhook) == 1
    # Still waiting in the queue: the queue lease keeps the next sweep from enqueueing it again.
    assert outbox.sweep_model(InboundWebhook) == 0

    assert [(t["func"], t["args"]) for t in queued_tasks()] == [(InboundWebhook.task, (due.pk,))]
    due.refresh_from_db()
    assert due.locked_until > timezone.now()
    assert {later.pk, done.pk}.isdisjoint(t["args"][0] for t in queued_tasks())


def fill_queue(n: int) -> None:
    """A backlog of n messages (for rows that are already done: running them is a no-op)."""
    for i in range(n):
        enqueue(InboundWebhook.task, make_inbound(100 + i, status=OutboxStatus.DONE).pk)


@pytest.mark.queue
def test_a_full_queue_takes_nothing_more_until_there_is_room(queued_tasks, settings):
    settings.OUTBOX_SWEEP_QUEUE_LIMIT = 3
    past = timezone.now() - timedelta(seconds=1)
    behind_the_backlog = make_inbound(1, locked_until=past)  # its message may still be queued
    retry = make_inbound(2)  # due, no message anywhere
    fill_queue(3)
    assert len(queued_tasks()) == 3

    assert outbox.sweep() == {"integrations.InboundWebhook": 0, "notifications.Notification": 0,
                              "webhooks.Delivery": 0}  # fmt: skip

    purge()  # the workers caught up; the first row's message turns out to have been lost
    assert outbox.sweep_model(InboundWebhook) == 2
    assert sorted(t["args"] for t in queued_tasks()) == [(behind_the_backlog.pk,), (retry.pk,)]


@pytest.mark.queue
def test_an_expired_claim_is_handled_even_when_the_queue_is_full(queued_tasks, settings):
    settings.OUTBOX_SWEEP_QUEUE_LIMIT = 1
    row = make_inbound()
    outbox.claim(InboundWebhook, row.pk)  # ... and the worker is killed here
    fill_queue(2)
    after_lease = timezone.now() + timedelta(seconds=InboundWebhook.lease_seconds + 1)

    assert outbox.sweep_model(InboundWebhook, now=after_lease) == 1

    row.refresh_from_db()
    assert row.status == OutboxStatus.PENDING
    assert (row.pk,) in [t["args"] for t in queued_tasks()]


@pytest.mark.queue
def test_the_sweeper_shares_its_room_equally_among_shops(queued_tasks, settings):
    settings.OUTBOX_SWEEP_QUEUE_LIMIT = 4
    flood_shop = make_shop()
    quiet_shop = Shop.objects.create(domain="quiet.myshopify.com")
    flood = [make_inbound(n) for n in range(10)]  # earliest due: FIFO would take only these
    quiet = [
        InboundWebhook.objects.create(
            shop=quiet_shop, topic="orders/create", webhook_id=f"quiet-{n}", body=b"{}"
        )
        for n in range(2)
    ]
    assert {r.shop_id for r in flood} == {flood_shop.pk}

    assert outbox.sweep_model(InboundWebhook) == 4

    handed_out = {t["args"][0] for t in queued_tasks()}
    assert handed_out == {flood[0].pk, flood[1].pk, quiet[0].pk, quiet[1].pk}


@pytest.mark.queue
def test_while_the_queue_is_full_new_rows_are_left_to_the_sweeper(client, queued_tasks, settings):
    from tests.factories import ShopFactory
    from tests.integrations.shopify import post_webhook

    settings.OUTBOX_SWEEP_QUEUE_LIMIT = 2
    shop = ShopFactory()
    fill_queue(2)
    assert len(queued_tasks()) == 2
    outbox.sweep()  # tells the writers the queue is full

    assert post_webhook(client, shop, "orders/create").status_code == 200

    row = InboundWebhook.objects.get(shop=shop)
    assert row.status == OutboxStatus.PENDING and row.locked_until is None
    assert len(queued_tasks()) == 2, "no message of its own while the queue is full"
    purge()
    outbox.sweep()
    assert [t["args"] for t in queued_tasks()] == [(row.pk,)]
    assert post_webhook(client, shop, "orders/updated").status_code == 200
    assert len(queued_tasks()) == 2, "with room again, the writer enqueues by itself"


@pytest.mark.queue
def test_a_row_whose_worker_died_is_swept_again_after_its_lease(queued_tasks):
    row = make_inbound()
    outbox.claim(InboundWebhook, row.pk)  # ... and the worker is killed here

    assert outbox.sweep_model(InboundWebhook) == 0, "the lease is still running"
    after_lease = timezone.now() + timedelta(seconds=InboundWebhook.lease_seconds + 1)
    assert outbox.sweep_model(InboundWebhook, now=after_lease) == 1

    row.refresh_from_db()
    assert row.status == OutboxStatus.PENDING
    assert outbox.claim(InboundWebhook, row.pk, now=after_lease) is not None


def test_an_expired_claim_with_no_attempts_left_becomes_dead():
    row = make_inbound(attempts=InboundWebhook.max_attempts - 1)
    outbox.claim(InboundWebhook, row.pk)
    after_lease = timezone.now() + timedelta(seconds=InboundWebhook.lease_seconds + 1)

    assert outbox.sweep_model(InboundWebhook, now=after_lease) == 0

    row.refresh_from_db()
    assert row.status == OutboxStatus.DEAD and "interrupted" in row.last_error


@pytest.mark.queue
def test_an_email_whose_send_was_interrupted_becomes_unknown_not_resent(queued_tasks):
    row = make_notification()
    outbox.claim(Notification, row.pk)  # the worker dies during the SMTP call
    after_lease = timezone.now() + timedelta(seconds=Notification.lease_seconds + 1)

    assert outbox.sweep_model(Notification, now=after_lease) == 0

    row.refresh_from_db()
    assert row.status == OutboxStatus.UNKNOWN
    assert queued_tasks() == []


@pytest.mark.queue
def test_a_swept_notification_is_sent_once(run_queued_tasks):
    row = make_notification()

    outbox.sweep()
    run_queued_tasks()
    outbox.sweep()
    run_queued_tasks()

    row.refresh_from_db()
    assert row.status == OutboxStatus.DONE and row.sent_at is not None
    assert [m.to for m in mail.outbox] == [["customer1@example.com"]]
    assert mail.outbox[0].extra_headers["Message-ID"] == row.message_id


class RefusingBackend:
    """Stands in for an SMTP relay that refuses (the one peer that cannot run here)."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("relay refused")


@pytest.mark.queue
@override_settings(EMAIL_BACKEND="tests.core.test_outbox.RefusingBackend")
def test_a_refused_email_is_retried_then_dead_and_never_doubled(run_queued_tasks):
    row = make_notification()

    outbox.sweep()
    run_queued_tasks()
    row.refresh_from_db()
    assert row.status == OutboxStatus.PENDING and "relay refused" in row.last_error

    now = timezone.now()
    for step in range(1, Notification.max_attempts):
        outbox.sweep(now=now + timedelta(days=step))
        # The sweeper used a future "now"; let the claim see the row as due too.
        Notification.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
        run_queued_tasks()

    row.refresh_from_db()
    assert row.status == OutboxStatus.DEAD
    assert row.attempts == Notification.max_attempts
    assert mail.outbox == []


@pytest.mark.queue
@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_enqueues_nothing(queued_tasks):
    from bookbag.core.queue import enqueue

    with pytest.raises(RuntimeError), transaction.atomic():
        row = make_notification()
        enqueue(Notification.task, row.pk)
        raise RuntimeError("the change failed")

    assert Notification.objects.count() == 0
    assert queued_tasks() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_claimers_never_both_win():
    rows = [make_inbound(n) for n in range(20)]
    workers = 6
    barrier = threading.Barrier(workers)
    wins: list[int] = []
    lock = threading.Lock()

    def claimer():
        try:
            barrier.wait()
            for row in rows:
                if outbox.claim(InboundWebhook, row.pk):
                    with lock:
                        wins.append(row.pk)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claimer) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert sorted(wins) == sorted(r.pk for r in rows)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_sweepers_hand_out_each_row_once(queued_tasks):
    for n in range(60):
        make_inbound(n)
    workers = 4
    barrier = threading.Barrier(workers)
    counts: list[int] = []

    def sweeper():
        try:
            barrier.wait()
            counts.append(outbox.sweep_model(InboundWebhook, batch=10))
            counts.append(outbox.sweep_model(InboundWebhook, batch=10))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweeper) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    ids = [t["args"][0] for t in queued_tasks()]
    assert sum(counts) == len(ids) == len(set(ids))
