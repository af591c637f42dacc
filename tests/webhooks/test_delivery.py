"""Outbound deliveries against a real HTTP receiver on loopback, verified by standardwebhooks."""

import json
import threading
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from werkzeug import Response

from bookbag.core import outbox
from bookbag.core.models import OutboxStatus
from tests.factories import AdminFactory
from tickets import services as tickets
from webhooks import services
from webhooks.models import Attempt, Delivery, Endpoint, Event

pytestmark = [pytest.mark.django_db, pytest.mark.queue]


def retry_due(run_queued_tasks):
    """Jump to the next attempt: make the pending deliveries due, sweep, run."""
    Delivery.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__isnull=False).update(
        next_attempt_at=timezone.now(), locked_until=None
    )
    outbox.sweep_model(Delivery)
    run_queued_tasks()


def test_a_resolved_ticket_produces_one_signed_post_that_verifies(
    endpoint, receiver, ticket, run_queued_tasks
):
    endpoint.event_types = ["ticket.resolved"]
    endpoint.save()

    tickets.resolve(ticket=ticket, automation="test")
    run_queued_tasks()

    assert len(receiver.received) == 1
    got = receiver.received[0]
    assert got["verified_by"], "standardwebhooks verified the signature at arrival"
    payload = json.loads(got["body"])
    assert payload["type"] == "ticket.resolved"
    assert payload["data"]["ticket"]["id"] == ticket.pk
    assert payload["data"]["ticket"]["status"] == "resolved"
    assert payload["data"]["ticket"]["customer"]["shopify_id"] == str(ticket.customer.shopify_id)
    assert payload["data"]["actor"] == {"kind": "automation", "name": "test"}
    assert got["headers"]["Content-Type"] == "application/json"
    assert "Bookbag" in got["headers"]["User-Agent"]
    assert got["body"] == bytes(Event.objects.get(type="ticket.resolved").payload)
    delivery = Delivery.objects.get()
    assert delivery.status == OutboxStatus.DONE and delivery.last_status_code == 200
    endpoint.refresh_from_db()
    assert endpoint.last_success_at is not None


def test_a_receiver_failing_twice_then_succeeding_sees_three_attempts_with_one_id(
    endpoint, receiver, ticket, run_queued_tasks
):
    endpoint.event_types = ["ticket.escalated"]
    endpoint.save()
    receiver.script = [500, 503]

    tickets.escalate(ticket=ticket, reason="vip")
    run_queued_tasks()
    retry_due(run_queued_tasks)
    retry_due(run_queued_tasks)

    ids = [r["id"] for r in receiver.received]
    assert len(ids) == 3 and len(set(ids)) == 1 and ids[0].startswith("msg_")
    assert all(r["verified_by"] for r in receiver.received), "re-signed on every attempt"
    delivery = Delivery.objects.get()
    assert delivery.status == OutboxStatus.DONE and delivery.attempts == 3
    assert list(delivery.attempt_log.order_by("id").values_list("response_status", flat=True)) == [
        500, 503, 200,
    ]  # fmt: skip


def test_failures_back_off_as_documented_and_end_dead(endpoint, receiver, ticket, run_queued_tasks):
    endpoint.event_types = ["ticket.escalated"]
    endpoint.save()
    receiver.script = [500] * 20

    before = timezone.now()
    tickets.escalate(ticket=ticket)
    run_queued_tasks()
    delivery = Delivery.objects.get()
    wait = (delivery.next_attempt_at - before).total_seconds()
    assert 4 - 1 <= wait <= 6 + 1, "first retry after about 5 s"
    for _ in range(Delivery.max_attempts - 1):
        retry_due(run_queued_tasks)

    delivery.refresh_from_db()
    assert delivery.status == OutboxStatus.DEAD and delivery.attempts == 10
    assert Attempt.objects.filter(delivery=delivery).count() == 10
    assert delivery.last_error == "HTTP 500"


def test_410_gone_disables_the_endpoint_at_once(endpoint, receiver, ticket, run_queued_tasks):
    receiver.script = [410]

    tickets.resolve(ticket=ticket)
    run_queued_tasks()

    endpoint.refresh_from_db()
    assert not endpoint.active and "410" in endpoint.disabled_reason
    assert Delivery.objects.filter(status=OutboxStatus.DEAD).count() == 1
    assert len(receiver.received) == 1, "the rest is held, not sent"


def test_a_timeout_is_recorded_and_retried(endpoint, receiver, ticket, run_queued_tasks, settings):
    settings.WEBHOOK_TIMEOUT = 0.5
    endpoint.event_types = ["ticket.resolved"]
    endpoint.save()
    answered = threading.Event()

    def too_slow(request):
        time.sleep(1.5)  # past the sender's deadline
        answered.set()
        return Response("late")

    receiver.script = [too_slow]

    tickets.resolve(ticket=ticket)
    run_queued_tasks()

    delivery = Delivery.objects.get()
    attempt = delivery.attempt_log.get()
    assert attempt.response_status is None
    assert "0.5 s deadline" in attempt.error, attempt.error
    assert delivery.status == OutboxStatus.PENDING and delivery.next_attempt_at > timezone.now()

    assert answered.wait(5)  # the test server answers one request at a time
    retry_due(run_queued_tasks)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (OutboxStatus.DONE, 2)
    assert [r["id"] for r in receiver.received] == [delivery.event.message_id] * 2
    assert all(r["verified_by"] for r in receiver.received)


def test_a_redirect_is_not_followed(endpoint, receiver, ticket, run_queued_tasks, httpserver):
    endpoint.event_types = ["ticket.resolved"]
    endpoint.save()
    receiver.script = [Response("", status=302, headers={"Location": httpserver.url_for("/x")})]
    httpserver.expect_request("/x").respond_with_data("should not be reached")

    tickets.resolve(ticket=ticket)
    run_queued_tasks()

    assert len(receiver.received) == 1, [r["body"][:60] for r in receiver.received]
    assert not [r for r, _ in httpserver.log if r.path == "/x"], "the redirect was not followed"
    delivery = Delivery.objects.get()
    assert delivery.last_status_code == 302 and delivery.status == OutboxStatus.PENDING


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost:9/hook",
    ],
)
def test_private_destinations_are_refused_at_send_unless_allowed(
    url, settings, ticket, run_queued_tasks
):
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOWED_HOSTS = []
    endpoint = Endpoint.objects.create(url=url, secret="whsec_" + "A" * 43 + "=")

    tickets.resolve(ticket=ticket)
    run_queued_tasks()

    attempts = Attempt.objects.filter(delivery__endpoint=endpoint)
    assert attempts.exists()
    for attempt in attempts:
        assert attempt.response_status is None
        assert attempt.error.startswith("Refusing to send webhooks to")


def test_a_rolled_back_transaction_sends_nothing(endpoint, receiver, ticket, run_queued_tasks):
    with pytest.raises(RuntimeError), transaction.atomic():
        tickets.resolve(ticket=ticket)
        raise RuntimeError("the change failed")

    run_queued_tasks()

    assert receiver.received == [] and not Event.objects.exists()


def test_a_delivery_whose_worker_died_mid_send_is_picked_up_by_the_sweeper(
    endpoint, receiver, ticket, run_queued_tasks
):
    from tests import queue

    tickets.resolve(ticket=ticket)
    queue.purge()
    for delivery in Delivery.objects.all():
        outbox.claim(Delivery, delivery.pk)  # ... and the worker was killed mid-send

    later = timezone.now() + timedelta(seconds=Delivery.lease_seconds + 1)
    outbox.sweep_model(Delivery, now=later)
    Delivery.objects.update(locked_until=None)
    run_queued_tasks()

    assert Delivery.objects.filter(status=OutboxStatus.DONE).count() == Delivery.objects.count()
    assert len({r["id"] for r in receiver.received}) == Delivery.objects.count()


def test_a_rotated_secret_verifies_with_both_secrets_during_the_overlap(
    endpoint_and_secret, ticket, run_queued_tasks
):
    endpoint, old_secret, receiver = endpoint_and_secret
    new_secret = services.rotate_secret(endpoint)
    receiver.secrets.append(new_secret)

    tickets.resolve(ticket=ticket)
    run_queued_tasks()

    assert all(set(r["verified_by"]) == {old_secret, new_secret} for r in receiver.received)

    Endpoint.objects.filter(pk=endpoint.pk).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )
    tickets.reopen(ticket=ticket)
    run_queued_tasks()
    assert set(receiver.received[-1]["verified_by"]) == {new_secret}


def test_a_disabled_endpoint_holds_its_deliveries_until_enabled(
    endpoint, receiver, ticket, run_queued_tasks
):
    services.disable_endpoint(endpoint, reason="maintenance")

    tickets.resolve(ticket=ticket)
    run_queued_tasks()
    outbox.sweep()
    run_queued_tasks()
    held = Delivery.objects.count()
    assert receiver.received == [] and held > 0

    assert services.enable_endpoint(endpoint) == held
    run_queued_tasks()

    assert len(receiver.received) == held


def test_five_days_without_success_disables_the_endpoint_and_emails_the_admins(
    endpoint, receiver, ticket, run_queued_tasks
):
    AdminFactory(email="ops@example.com")
    Endpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now() - timedelta(days=5))
    receiver.script = [500] * 10

    tickets.resolve(ticket=ticket)
    run_queued_tasks()

    endpoint.refresh_from_db()
    assert not endpoint.active and "5 days" in endpoint.disabled_reason
    assert [m.to for m in mail.outbox] == [["ops@example.com"]]
    assert endpoint.url in mail.outbox[0].body


def test_a_429_with_retry_after_waits_as_asked_within_twice_the_schedule(
    endpoint, receiver, ticket, run_queued_tasks
):
    endpoint.event_types = ["ticket.resolved"]
    endpoint.save()
    receiver.script = [Response("slow down", status=429, headers={"Retry-After": "8"})]

    before = timezone.now()
    tickets.resolve(ticket=ticket)
    run_queued_tasks()

    wait = (Delivery.objects.get().next_attempt_at - before).total_seconds()
    assert 7 <= wait <= 9 + 1


def test_deliveries_beyond_the_endpoints_in_flight_cap_wait_their_turn(
    endpoint, receiver, ticket, run_queued_tasks
):
    endpoint.max_in_flight = 1
    endpoint.save()
    tickets.resolve(ticket=ticket)
    first, *rest = Delivery.objects.order_by("id")
    outbox.claim(Delivery, first.pk)  # one is in flight on another worker

    for delivery in rest:
        assert services.deliver(delivery.pk) == "deferred"

    assert receiver.received == []
    for delivery in rest:
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == (OutboxStatus.PENDING, 0), "no attempt used"
    # Not handed straight back to the queue; if no freed slot has taken them (see
    # test_in_flight_cap.py), the sweeper hands them out after a moment.
    assert outbox.sweep_model(Delivery) == 0
    later = timezone.now() + services.deferral_lease() + timedelta(seconds=1)
    assert outbox.sweep_model(Delivery, now=later) == len(rest)


def test_a_worker_past_its_chain_budget_hands_the_endpoints_next_delivery_to_the_queue(
    endpoint, receiver, ticket, run_queued_tasks, monkeypatch
):
    monkeypatch.setattr(services, "CHAIN_DELIVERIES", 1)
    endpoint.max_in_flight = 1
    endpoint.event_types = ["ticket.resolved", "ticket.reopened"]
    endpoint.save()
    for change in (tickets.resolve, tickets.reopen, tickets.resolve):
        change(ticket=ticket)
    first, *rest = Delivery.objects.select_related("event").order_by("id")
    in_flight = outbox.claim(Delivery, first.pk)
    assert [services.deliver(d.pk) for d in rest] == ["deferred", "deferred"]

    services.deliver_claimed(in_flight)  # sends one, then hands the next to the queue
    assert len(receiver.received) == 1
    run_queued_tasks()  # each of those sends one and hands over the next

    assert [r["id"] for r in receiver.received] == [d.event.message_id for d in (first, *rest)]
    assert set(Delivery.objects.values_list("status", "attempts")) == {(OutboxStatus.DONE, 1)}


def test_a_test_event_can_be_sent_from_the_console(endpoint, receiver, run_queued_tasks):
    services.send_test_event(endpoint)
    run_queued_tasks()

    assert json.loads(receiver.received[0]["body"])["type"] == "webhook.test"


def test_resend_sends_again_with_the_same_webhook_id(endpoint, receiver, ticket, run_queued_tasks):
    endpoint.event_types = ["ticket.resolved"]
    endpoint.save()
    tickets.resolve(ticket=ticket)
    run_queued_tasks()

    services.resend(Delivery.objects.values_list("pk", flat=True))
    run_queued_tasks()

    assert len(receiver.received) == 2
    assert receiver.received[0]["id"] == receiver.received[1]["id"]


def test_old_succeeded_deliveries_are_pruned_and_failed_ones_kept(
    endpoint, receiver, ticket, run_queued_tasks, settings
):
    settings.WEBHOOK_RETENTION_DAYS = 7
    endpoint.event_types = ["ticket.resolved", "ticket.reopened"]
    endpoint.save()
    receiver.script = [200, 500, 500, 200]
    for change in (tickets.resolve, tickets.reopen, tickets.resolve, tickets.reopen):
        change(ticket=ticket)
    run_queued_tasks()
    old_done, old_failing, old_dead, recent_done = Delivery.objects.order_by("id")
    Delivery.objects.filter(pk=old_dead.pk).update(status=OutboxStatus.DEAD, next_attempt_at=None)
    Delivery.objects.exclude(pk=recent_done.pk).update(
        created_at=timezone.now() - timedelta(days=8)
    )
    Event.objects.filter(deliveries__in=[old_done, old_failing, old_dead]).update(
        created_at=timezone.now() - timedelta(days=8)
    )

    assert services.prune_deliveries() == 1

    assert set(Delivery.objects.values_list("pk", flat=True)) == {
        old_failing.pk, old_dead.pk, recent_done.pk,
    }  # fmt: skip
    assert not Attempt.objects.filter(delivery_id=old_done.pk).exists(), "its attempts went too"
    assert not Event.objects.filter(pk=old_done.event_id).exists(), "and its event"
    assert Attempt.objects.filter(delivery=old_dead).exists(), "a failure keeps its log"


def test_pruning_runs_on_an_hourly_schedule(settings):
    from django_q.models import Schedule

    from tests.factories import DeliveryFactory

    old = DeliveryFactory(status=OutboxStatus.DONE)
    Delivery.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=settings.WEBHOOK_RETENTION_DAYS + 1)
    )
    schedule = Schedule.objects.get(name="bookbag.prune")
    assert schedule.schedule_type == Schedule.HOURLY and schedule.repeats < 0

    import_string(schedule.func)()  # what the cluster runs every hour

    assert not Delivery.objects.filter(pk=old.pk).exists()


def test_no_endpoint_means_no_event_is_stored(ticket, db):
    tickets.resolve(ticket=ticket)

    assert not Event.objects.exists()
