"""Every log line of a delivery's attempt names the outbound message (its `webhook-id`)."""

import logging

import pytest

from bookbag.core.logcontext import ContextFilter
from tickets import services as tickets
from webhooks.models import Delivery

pytestmark = [pytest.mark.django_db, pytest.mark.queue]


def test_a_failed_attempt_is_logged_with_its_message_id_and_endpoint(
    endpoint, receiver, ticket, run_queued_tasks, caplog
):
    endpoint.event_types = ["ticket.escalated"]
    endpoint.save()
    receiver.script = [500]
    caplog.handler.addFilter(ContextFilter())  # what the JSON console handler does

    with caplog.at_level(logging.INFO):
        tickets.escalate(ticket=ticket, reason="vip")
        run_queued_tasks()

    delivery = Delivery.objects.select_related("event").get()
    failed = [
        r for r in caplog.records if "attempt" in r.getMessage() and "failed" in r.getMessage()
    ]
    assert failed, [r.getMessage() for r in caplog.records]
    for record in failed:
        assert record.context["message_id"] == delivery.event.message_id
        assert record.context["endpoint"] == endpoint.pk
