"""Agent replies reach the customer by email, in one thread; internal notes never do; a
resolved ticket asks for a rating once."""

import pytest
from django.core import mail

from notifications.models import Notification
from tests.factories import AgentFactory, CustomerFactory
from tickets import services
from tickets.models import CsatSurvey

pytestmark = [pytest.mark.django_db, pytest.mark.queue]


@pytest.fixture
def ticket(db):
    customer = CustomerFactory(email="ada@example.com", first_name="Ada")
    customer.shop.name = "Bookbag Books"
    customer.shop.sender_name = ""
    customer.shop.save()
    return services.open_ticket(
        shop=customer.shop, customer=customer, subject="Broken spine", body="It came damaged"
    )


@pytest.fixture
def agent(db):
    return AgentFactory(first_name="Grace")


def test_a_reply_is_emailed_to_the_customer_in_the_tickets_thread(ticket, agent, run_queued_tasks):
    first = services.reply(ticket=ticket, body="Sorry! A new copy is on its way.", author=agent)
    second = services.reply(ticket=ticket, body="It shipped today.", author=agent)
    run_queued_tasks()

    assert [m.to for m in mail.outbox] == [["ada@example.com"], ["ada@example.com"]]
    one, two = mail.outbox
    assert one.subject == f"Re: Broken spine [#{ticket.pk}]"
    assert "A new copy is on its way" in one.body and "Grace, Bookbag Books" in one.body
    first.refresh_from_db()
    second.refresh_from_db()
    assert one.extra_headers["Message-ID"] == first.email_message_id
    assert two.extra_headers["In-Reply-To"] == first.email_message_id, "threaded"


def test_an_internal_note_is_never_emailed(ticket, agent, run_queued_tasks):
    services.add_note(ticket=ticket, body="Customer is a VIP", author=agent)
    run_queued_tasks()

    assert mail.outbox == [] and not Notification.objects.exists()


def test_resolving_sends_one_csat_request_with_a_working_link(
    ticket, agent, run_queued_tasks, settings
):
    settings.BOOKBAG_BASE_URL = "https://support.example.com"

    services.resolve(ticket=ticket, actor=agent)
    services.reopen(ticket=ticket, actor=agent)
    services.resolve(ticket=ticket, actor=agent)
    run_queued_tasks()

    survey = CsatSurvey.objects.get(ticket=ticket)
    assert [m.subject for m in mail.outbox] == [f"How did we do? [#{ticket.pk}]"]
    assert f"https://support.example.com/csat/{survey.token}/" in mail.outbox[0].body
    assert survey.sent_at is not None and survey.expires_at > survey.created_at


def test_no_csat_for_a_ticket_the_customer_never_wrote(run_queued_tasks, db):
    customer = CustomerFactory()
    ticket = services.open_ticket(
        shop=customer.shop, customer=customer, subject="Flagged order", automation="x"
    )

    services.resolve(ticket=ticket)
    run_queued_tasks()

    assert mail.outbox == []
