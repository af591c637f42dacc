"""A worker killed mid-send: a real child process sends the delivery and is SIGKILLed while its
request is at the receiver; the sweeper then has it sent again, with the same webhook-id.

PostgreSQL (transaction=True): the child works on this test's committed database."""

import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from werkzeug import Response

from bookbag.core import outbox
from bookbag.core.models import OutboxStatus
from tests import queue
from tickets import services as tickets
from webhooks.models import Attempt, Delivery

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.queue,
    pytest.mark.django_db(transaction=True),
]

WORKER = (
    "import sys, django; django.setup(); "
    "from webhooks.services import deliver; deliver(int(sys.argv[1]))"
)


def worker_env(tmp_path) -> dict[str, str]:
    """This test's database and keys, for a worker process of its own."""
    s = connection.settings_dict
    auth = quote(s["USER"] or "", safe="")
    if s["PASSWORD"]:
        auth += ":" + quote(s["PASSWORD"], safe="")
    host, port = s["HOST"] or "127.0.0.1", s["PORT"] or 5432
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(
        DATABASE_URL=f"postgres://{auth}@{host}:{port}/{s['NAME']}",
        DJANGO_SETTINGS_MODULE="bookbag.settings",
        SECRET_KEY=settings.SECRET_KEY,  # the endpoint's secret is encrypted with it
        FIELD_ENCRYPTION_KEYS=",".join(settings.FIELD_ENCRYPTION_KEYS),
        BOOKBAG_VAR_DIR=str(tmp_path),
        WEBHOOK_ALLOWED_HOSTS="127.0.0.1",
        WEBHOOK_ALLOW_HTTP="1",
    )
    return env


def test_a_delivery_whose_worker_was_killed_mid_send_is_sent_again_by_the_sweeper(
    endpoint, receiver, ticket, run_queued_tasks, tmp_path
):
    endpoint.event_types = ["ticket.resolved"]
    endpoint.save()
    arrived, released = threading.Event(), threading.Event()

    def hold(request):
        arrived.set()
        released.wait(60)  # the worker is killed while this request is open
        return Response("too late")

    receiver.script = [hold]
    tickets.resolve(ticket=ticket)
    delivery = Delivery.objects.select_related("event").get()
    queue.purge()  # the worker took the queue message with it

    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(delivery.pk)],
        cwd=settings.BASE_DIR,
        env=worker_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert arrived.wait(60), worker.stderr.read().decode() if worker.poll() else "no request"
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)
        released.set()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (OutboxStatus.IN_PROGRESS, 1)
    assert not Attempt.objects.exists(), "killed before it could record the attempt"
    assert outbox.sweep_model(Delivery) == 0, "its lease has not expired yet"

    after_the_lease = timezone.now() + timedelta(seconds=Delivery.lease_seconds + 1)
    assert outbox.sweep_model(Delivery, now=after_the_lease) == 1
    run_queued_tasks()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (OutboxStatus.DONE, 2)
    assert [r["id"] for r in receiver.received] == [delivery.event.message_id] * 2
    assert all(r["verified_by"] for r in receiver.received), "verified at arrival, both times"
