"""Two worker clusters against one PostgreSQL share the work, and nothing is done twice.

Real processes (benchmarks/harness.py): gunicorn, two `manage.py qcluster` (two workers each)
and the sweeper, on the test database. Shopify-signed webhooks of 32 orders go in through
gunicorn; the emails and the deliveries to a loopback receiver (signatures verified on arrival)
come out. Every claim is a conditional UPDATE, so each row is worked by one cluster only.
"""

import sys
from collections import Counter

import pytest

from benchmarks.harness import (
    HEALTHY,
    Behaviour,
    Books,
    Db,
    Receiver,
    Shopify,
    Stack,
    check_books,
    drive_in_steps,
    read_emails,
    settle,
    start_child,
    stories,
    wait_for,
)
from tests.scale.processes import broker_env, children_database_url, json_lines

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.queue,
    pytest.mark.django_db(transaction=True),
]

SHOP = "two-clusters.myshopify.com"
SECRET = "two-clusters-webhook-secret"


def processed_webhook_ids(log) -> list[str]:
    """Inbound events this cluster applied: its "processed <topic> <id>: <status>" lines."""
    return [
        line["webhook_id"]
        for line in json_lines(log)
        if line.get("message", "").startswith("processed ") and "webhook_id" in line
    ]


def tasks_run(log) -> Counter:
    """django-q2's "Processed '<task>' (<name>)" line per task this cluster ran."""
    found = Counter()
    for line in json_lines(log):
        message = line.get("message", "")
        if message.startswith("Processed '"):
            found[message.split("'")[1]] += 1
    return found


def test_two_clusters_share_the_work_with_no_double_sends(tmp_path):
    orders = stories(32)  # 192 inbound webhooks, 128 emails, 160 deliveries
    receiver = Receiver().start()
    endpoints = [
        {"name": "crm", "url": receiver.add("crm", Behaviour(HEALTHY))},
        {
            "name": "erp",
            "url": receiver.add("erp", Behaviour(HEALTHY)),
            "event_types": ["order.fulfilled", "refund.created"],
        },
    ]
    url = children_database_url()
    stack = Stack(
        url, tmp_path, web_workers=2, q_workers=2, LOG_LEVEL="INFO", Q_LOG_LEVEL="INFO",
        **broker_env(),
    )  # fmt: skip
    db = Db(url)
    second = None
    try:
        seeded = stack.seed(
            {
                "shop": SHOP,
                "secret": SECRET,
                "customers": [s.customer_spec() for s in orders],
                "endpoints": endpoints,
            }
        )
        for e in endpoints:
            seeded["endpoints"][e["name"]]["event_types"] = e.get("event_types", [])
            receiver.set_secret(e["name"], seeded["endpoints"][e["name"]]["secret"])
        stack.start()
        second = start_child(
            "qcluster-b", [sys.executable, "manage.py", "qcluster"], stack.env, stack.logs
        )
        clusters = [stack.workers, second]
        # Both clusters are taking work before the first webhook arrives.
        assert wait_for(
            lambda: all("running." in c.log_path.read_text(errors="replace") for c in clusters),
            timeout=30,
        ), stack.logs_tail()

        drive = drive_in_steps(
            Shopify(stack.base_url, SHOP, SECRET), db, orders, rate=100, timeout=40
        )
        assert settle(db, timeout=40, fast_forward=False), stack.logs_tail()
        books = check_books(
            db,
            Books("two clusters", events_driven=len(orders) * 6),
            shop_id=seeded["shop_id"],
            all_stories=orders,
            drive=drive,
            receiver=receiver,
            endpoints=seeded["endpoints"],
            maildir=stack.maildir,
        )
        deliveries = db.rows(
            "SELECT d.attempts, (SELECT count(*) FROM webhooks_attempt a "
            "WHERE a.delivery_id = d.id) AS logged FROM webhooks_delivery d"
        )
        emails = read_emails(stack.maildir)
        notifications = db.rows("SELECT status, attempts FROM notifications_notification")
    finally:
        if second is not None:
            second.stop()
        stack.stop()
        db.close()
        receiver.stop()

    # Every webhook acknowledged and applied once, by one cluster or the other.
    assert len(drive.accepted) == 192 and not drive.unaccepted
    per_cluster = [processed_webhook_ids(c.log_path) for c in clusters]
    applied = Counter(per_cluster[0] + per_cluster[1])
    assert set(applied) == drive.accepted
    assert max(applied.values()) == 1, "an inbound event was applied twice"
    assert all(per_cluster), f"one cluster did nothing: {[len(p) for p in per_cluster]}"
    # Each email written once (one per idempotency key), each delivery sent and acknowledged
    # once, every attempt logged: the audit of the reliability suite, with two clusters.
    assert books.problems() == [] and books.details["not_delivered"] == 0, books.notes
    assert len(emails) == len(notifications) == 128
    assert {(n["status"], n["attempts"]) for n in notifications} == {("done", 1)}
    assert books.details["redelivered_arrivals"] == {}
    assert len(deliveries) == 160
    assert all(d["attempts"] == d["logged"] == 1 for d in deliveries), deliveries
    # Both clusters sent emails and deliveries, not only inbound events.
    for tasks in (tasks_run(c.log_path) for c in clusters):
        assert tasks["notifications.tasks.send_notification"] > 0, tasks
        assert tasks["webhooks.tasks.deliver"] > 0, tasks
