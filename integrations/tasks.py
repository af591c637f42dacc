"""Thin tasks: an id in, the service does the work and owns nothing but the failure policy."""

from integrations.services import process_inbound_webhook as _process


def process_inbound_webhook(webhook_pk: int) -> None:
    _process(webhook_pk)
