"""Each app exports and erases its own rows when Shopify's compliance topics arrive."""

import pytest
from django.core import mail

from bookbag.core.models import OutboxStatus
from integrations.models import DataExport
from notifications.models import Notification
from tickets import services
from tickets.models import Message, Ticket

pytestmark = [pytest.mark.django_db, pytest.mark.queue]


@pytest.fixture
def history(deliver, open_ticket_about_order, order):
    services.reply(ticket=open_ticket_about_order, body="Dear Ada, it ships today", author=None)
    deliver("fulfillments/create")  # a tracking email
    return open_ticket_about_order


def test_the_export_carries_tickets_messages_and_notifications(deliver, history):
    deliver("customers/data_request")

    data = DataExport.objects.get().data
    assert data["tickets"][0]["subject"] == "Where is my order?"
    bodies = [m["body"] for m in data["tickets"][0]["messages"]]
    assert "Hi, any news on #1001?" in bodies and "Dear Ada, it ships today" in bodies
    subjects = {n["subject"] for n in data["notifications"]}
    assert subjects == {
        f"Re: Where is my order? [#{history.pk}]",
        "Your order #1001 is on its way",
    }


def test_a_redaction_erases_messages_and_emails_and_cancels_unsent_ones(deliver, history, settings):
    sent_before = len(mail.outbox)
    pending = Notification.objects.create(
        shop=history.shop, customer=history.customer, template_key="x", to_email="ada@example.com",
        subject="Ada, about #1001", text="Dear Ada", idempotency_key="pending-one",
        next_attempt_at=None,
    )  # fmt: skip

    deliver("customers/redact")

    assert not Message.objects.filter(body__icontains="ada").exists()
    assert Ticket.objects.get(pk=history.pk).subject == "[redacted]"
    for n in Notification.objects.all():
        assert "ada" not in (n.to_email + n.subject + n.text + n.html).lower()
    pending.refresh_from_db()
    assert pending.status == OutboxStatus.DEAD and "redacted" in pending.last_error
    assert len(mail.outbox) == sent_before, "nothing more was sent"


def test_shop_redact_removes_tickets_and_notifications(deliver, history, shop):
    shop.installed = False
    shop.save()

    deliver("shop/redact")

    assert not Ticket.objects.exists() and not Notification.objects.exists()
