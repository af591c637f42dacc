"""The per-endpoint in-flight cap under real concurrency: worker threads with their own database
connections (PostgreSQL, transaction=True) and a threaded receiver on loopback that verifies
every signature with standardwebhooks and counts the requests it holds at once."""

import threading
import time

import pytest
from django.db import connections
from django.utils import timezone
from pytest_httpserver import HTTPServer
from werkzeug import Response

from bookbag.core import outbox
from bookbag.core.models import OutboxStatus
from tests.webhooks.conftest import Receiver
from tickets import services as tickets
from webhooks import services
from webhooks.models import Delivery

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WAIT = 10  # seconds: no test waits longer than this for a peer


@pytest.fixture
def threaded_server():
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def capped(ticket, loopback_allowed, threaded_server):
    """An endpoint at the threaded receiver, capped at one delivery in flight."""
    receiver = Receiver(threaded_server, [])
    endpoint, secret = services.create_endpoint(
        url=receiver.url, event_types=["ticket.resolved", "ticket.reopened"]
    )
    endpoint.max_in_flight = 1
    endpoint.save(update_fields=["max_in_flight"])
    receiver.secrets.append(secret)
    return endpoint, receiver


def deliveries_in_creation_order(ticket, n: int) -> list[Delivery]:
    for i in range(n):
        (tickets.resolve if i % 2 == 0 else tickets.reopen)(ticket=ticket)
    return list(Delivery.objects.select_related("event").order_by("created_at", "id"))


def in_thread(target) -> threading.Thread:
    def run() -> None:
        try:
            target()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_deliveries_turned_away_by_the_cap_go_out_when_the_slot_frees_oldest_first(capped, ticket):
    _endpoint, receiver = capped
    first, second, third = deliveries_in_creation_order(ticket, 3)
    arrived, answer = threading.Event(), threading.Event()

    def hold_the_first(request):
        arrived.set()
        answer.wait(WAIT)  # the first delivery is in flight until the other worker has tried
        return Response("ok")

    receiver.script = [hold_the_first]
    worker_a = in_thread(lambda: services.deliver(first.pk))
    assert arrived.wait(WAIT), "the first delivery reached the receiver"

    # Another worker takes the next two while the first is in flight: the cap turns them away.
    outcomes = []
    worker_b = in_thread(lambda: outcomes.extend(services.deliver(d.pk) for d in (second, third)))
    worker_b.join(WAIT)
    answer.set()
    worker_a.join(WAIT)

    assert outcomes == ["deferred", "deferred"]
    # Without waiting for the sweeper or a queue message: the worker whose slot freed sent them.
    assert [r["id"] for r in receiver.received] == [
        d.event.message_id for d in (first, second, third)
    ]
    assert all(r["verified_by"] for r in receiver.received)
    assert set(Delivery.objects.values_list("status", "attempts")) == {(OutboxStatus.DONE, 1)}


def test_concurrent_workers_never_exceed_the_cap_and_deliver_everything_once(
    capped, ticket, run_queued_tasks
):
    endpoint, receiver = capped
    endpoint.max_in_flight = 2
    endpoint.save(update_fields=["max_in_flight"])
    deliveries = deliveries_in_creation_order(ticket, 8)
    lock = threading.Lock()
    holding = {"now": 0, "most": 0}

    def slow_ok(request):
        with lock:
            holding["now"] += 1
            holding["most"] = max(holding["most"], holding["now"])
        time.sleep(0.15)
        with lock:
            holding["now"] -= 1
        return Response("ok")

    receiver.script = [slow_ok] * 20
    start = threading.Barrier(4)

    def worker(ids):
        start.wait(WAIT)
        for pk in ids:
            services.deliver(pk)

    workers = [
        in_thread(lambda ids=deliveries[i::4]: worker([d.pk for d in ids])) for i in range(4)
    ]
    for thread in workers:
        thread.join(WAIT * 2)
    # Whatever the cap turned away and no freed slot picked up, the sweeper hands out later.
    for _ in range(5):
        if not Delivery.objects.exclude(status=OutboxStatus.DONE).exists():
            break
        outbox.sweep_model(Delivery, now=timezone.now() + services.deferral_lease())
        run_queued_tasks()

    assert holding["most"] <= 2, f"{holding['most']} requests in flight at once"
    ids = [r["id"] for r in receiver.received]
    assert sorted(ids) == sorted(d.event.message_id for d in deliveries), "each once"
    assert all(r["verified_by"] for r in receiver.received)
    assert set(Delivery.objects.values_list("status", "attempts")) == {(OutboxStatus.DONE, 1)}
