"""The one way to hand work to django-q2 (shared/DESIGN.md, "Enqueueing").

With the ORM broker on `default` the queued task is an INSERT in the caller's transaction: it
commits or rolls back with the rows it is about. Redis (and sync mode) cannot join the
transaction, so the task is pushed once the transaction commits.
"""

import functools
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django_q.brokers import Broker, get_broker
from django_q.tasks import async_task


def uses_transactional_broker() -> bool:
    q = settings.Q_CLUSTER
    return q.get("orm") == "default" and not q.get("sync")


def task_path(task: str | Callable) -> str:
    return task if isinstance(task, str) else f"{task.__module__}.{task.__qualname__}"


def enqueue(task: str | Callable, *ids: int) -> None:
    func = task_path(task)
    if uses_transactional_broker():
        async_task(func, *ids)
    else:
        transaction.on_commit(lambda: async_task(func, *ids))


@functools.cache
def _broker() -> Broker:
    # One per process: the sweeper asks every second, and each new Redis broker is a new pool.
    return get_broker()


def waiting_messages() -> int:
    """Messages in the queue that no worker has taken yet."""
    return _broker().queue_size()
