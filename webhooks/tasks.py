"""Thin task: an id in; webhooks.services.deliver owns the attempt and its failure policy."""

from webhooks.services import deliver as _deliver


def deliver(delivery_pk: int) -> None:
    _deliver(delivery_pk)
