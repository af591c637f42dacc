"""The console's bulk actions on outbox rows: reprocess, ignore, resend."""

import pytest
from django.urls import reverse

from bookbag.core.models import OutboxStatus
from integrations.models import InboundWebhook
from notifications.models import Notification
from tests import factories
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db


def run_action(client, model, action: str, rows) -> list[str]:
    """Post the changelist's action form as the browser does; return the messages shown."""
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    response = client.post(
        url, {"action": action, "_selected_action": [r.pk for r in rows]}, follow=True
    )
    assert response.status_code == 200
    return [str(m) for m in response.context["messages"]]


def test_reprocess_puts_dead_webhooks_back_to_pending_and_queues_them(admin_client, queued_tasks):
    dead = factories.InboundWebhookFactory(
        status=OutboxStatus.DEAD, attempts=8, next_attempt_at=None
    )

    shown = run_action(admin_client, InboundWebhook, "reprocess", [dead])

    dead.refresh_from_db()
    assert (dead.status, dead.attempts) == (OutboxStatus.PENDING, 0)
    assert [t["func"] for t in queued_tasks()] == [InboundWebhook.task]
    assert shown == ["1 inbound webhook queued for processing."]


def test_mark_ignored_stops_waiting_webhooks_but_leaves_done_ones_alone(admin_client):
    pending = factories.InboundWebhookFactory()
    done = factories.InboundWebhookFactory(status=OutboxStatus.DONE, next_attempt_at=None)

    run_action(admin_client, InboundWebhook, "ignore", [pending, done])

    pending.refresh_from_db()
    done.refresh_from_db()
    assert (pending.status, pending.next_attempt_at) == (OutboxStatus.IGNORED, None)
    assert done.status == OutboxStatus.DONE


def test_resend_sends_again_only_dead_or_unknown_emails_and_says_how_many(
    admin_client, queued_tasks
):
    unknown = factories.NotificationFactory(status=OutboxStatus.UNKNOWN, next_attempt_at=None)
    sent = factories.NotificationFactory(status=OutboxStatus.DONE, next_attempt_at=None)

    shown = run_action(admin_client, Notification, "resend", [unknown, sent])

    unknown.refresh_from_db()
    sent.refresh_from_db()
    assert (unknown.status, sent.status) == (OutboxStatus.PENDING, OutboxStatus.DONE)
    assert [t["args"] for t in queued_tasks()] == [(unknown.pk,)]
    assert shown == ["1 notification queued to be sent again. 1 skipped: not dead or unknown."]


def test_an_admin_without_superuser_rights_can_resend_a_delivery(client, queued_tasks):
    client.force_login(factories.AdminFactory())
    delivery = factories.DeliveryFactory(status=OutboxStatus.DEAD, next_attempt_at=None)

    shown = run_action(client, Delivery, "resend", [delivery])

    delivery.refresh_from_db()
    assert delivery.status == OutboxStatus.PENDING
    assert [t["func"] for t in queued_tasks()] == [Delivery.task]
    assert shown == ["1 delivery queued to be sent again."]
