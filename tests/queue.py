"""Run what the task queue holds, as a worker would, after the caller's transaction committed.

Never django-q2's sync mode (shared/TESTING.md): it runs a task inside the caller's transaction.
This drains the real broker (ORM or Redis) instead; tasks run in the test's thread.
"""

from django.db import connections
from django.utils.module_loading import import_string
from django_q.brokers import get_broker
from django_q.signing import SignedPackage


def run_commit_hooks() -> None:
    """Inside a test's wrapping transaction nothing really commits: run the on_commit callbacks
    (the Redis broker's enqueues) as the commit would have."""
    conn = connections["default"]
    while conn.in_atomic_block and conn.run_on_commit:
        callbacks, conn.run_on_commit = conn.run_on_commit, []
        for _sids, func, _robust in callbacks:
            func()


def queued_tasks() -> list[dict]:
    """The tasks waiting in the broker, without taking them."""
    run_commit_hooks()
    broker = get_broker()
    if hasattr(broker, "get_connection") and broker.__class__.__name__ == "ORM":
        return [
            SignedPackage.loads(q.payload)
            for q in broker.get_connection().filter(key=broker.list_key)
        ]
    return [SignedPackage.loads(p) for p in broker.connection.lrange(broker.list_key, 0, -1)]


def purge() -> None:
    get_broker().purge_queue()


def run_queued_tasks(max_tasks: int = 10_000) -> list[str]:
    """Run queued tasks until none is left (tasks may enqueue more); return their function names."""
    broker = get_broker()
    ran: list[str] = []
    while len(ran) < max_tasks:
        run_commit_hooks()
        if not broker.queue_size():
            break
        for ack_id, payload in broker.dequeue() or []:
            task = SignedPackage.loads(payload)
            broker.acknowledge(ack_id)
            func = task["func"]
            (import_string(func) if isinstance(func, str) else func)(
                *task["args"], **task["kwargs"]
            )
            ran.append(func if isinstance(func, str) else func.__name__)
    return ran
