"""Every ticket change goes through tickets.services and says so: timeline and signals."""

import pytest

from tests.factories import AgentFactory, CsatSurveyFactory, CustomerFactory, OrderFactory
from tickets import services, signals
from tickets.models import AuthorKind, Priority, TicketStatus

pytestmark = pytest.mark.django_db

TICKET_SIGNALS = (
    "ticket_created", "ticket_status_changed", "ticket_resolved", "ticket_reopened",
    "ticket_escalated", "ticket_assigned", "message_created", "csat_submitted",
)  # fmt: skip


@pytest.fixture
def heard():
    log = []
    for name in TICKET_SIGNALS:
        getattr(signals, name).connect(
            lambda sender, _n=name, **kw: log.append((_n, kw)), weak=False, dispatch_uid=f"t-{name}"
        )
    yield log
    for name in TICKET_SIGNALS:
        getattr(signals, name).disconnect(dispatch_uid=f"t-{name}")


@pytest.fixture
def customer():
    return CustomerFactory()


@pytest.fixture
def agent():
    return AgentFactory()


def names(log):
    return [n for n, _ in log]


def test_opening_a_ticket_with_a_first_message(customer, heard):
    ticket = services.open_ticket(
        shop=customer.shop, customer=customer, subject="Broken spine", body="It arrived damaged"
    )

    assert ticket.status == TicketStatus.OPEN
    assert ticket.messages.get().author_kind == AuthorKind.CUSTOMER
    assert names(heard) == ["ticket_created", "message_created"]
    assert ticket.events.get().kind == "created"


def test_a_reply_and_a_note_by_an_agent(customer, agent, heard):
    ticket = services.open_ticket(shop=customer.shop, customer=customer, subject="Hi")
    heard.clear()

    reply = services.reply(ticket=ticket, body="On it!", author=agent)
    note = services.add_note(ticket=ticket, body="Check the warehouse", author=agent)

    assert (reply.internal, note.internal) == (False, True)
    assert [kw["message"] for _, kw in heard] == [reply, note]
    assert all(kw["actor"] == agent for _, kw in heard)


def test_resolve_by_a_person_then_reopen(customer, agent, heard):
    ticket = services.open_ticket(shop=customer.shop, customer=customer, subject="Hi")
    heard.clear()

    services.resolve(ticket=ticket, actor=agent)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.RESOLVED and ticket.resolved_by == agent
    assert ticket.resolved_at and ticket.resolved_by_automation == ""

    services.reopen(ticket=ticket, actor=agent)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN and ticket.resolved_at is None

    assert names(heard) == [
        "ticket_status_changed", "ticket_resolved", "ticket_status_changed", "ticket_reopened",
    ]  # fmt: skip
    assert list(ticket.events.filter(kind="status_changed").values_list("data", flat=True)) == [
        {"from": "open", "to": "resolved"},
        {"from": "resolved", "to": "open"},
    ]


def test_resolving_twice_changes_nothing_the_second_time(customer, heard):
    ticket = services.open_ticket(shop=customer.shop, customer=customer, subject="Hi")
    services.resolve(ticket=ticket, automation="test")
    heard.clear()

    services.resolve(ticket=ticket, automation="test")

    assert heard == []


def test_escalation_raises_priority_and_says_why(customer, heard):
    ticket = services.open_ticket(shop=customer.shop, customer=customer, subject="Hi")
    heard.clear()

    ticket = services.escalate(ticket=ticket, automation="rules", reason="chargeback")

    assert (ticket.status, ticket.priority) == (TicketStatus.ESCALATED, Priority.URGENT)
    assert names(heard) == ["ticket_status_changed", "ticket_escalated"]
    assert heard[1][1]["reason"] == "chargeback" and heard[1][1]["automation"] == "rules"


def test_a_customer_reply_reopens_a_resolved_ticket(customer, heard):
    ticket = services.open_ticket(shop=customer.shop, customer=customer, subject="Hi")
    services.resolve(ticket=ticket)

    services.add_customer_message(ticket=ticket, body="Still broken")

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert "ticket_reopened" in names(heard)


def test_assign_tags_priority_and_order_link(customer, agent, heard):
    ticket = services.open_ticket(shop=customer.shop, customer=customer, subject="Hi")
    order = OrderFactory(customer=customer)
    heard.clear()

    services.assign(ticket=ticket, assignee=agent, actor=agent)
    services.set_tags(ticket=ticket, names=["VIP", "damaged ", ""], actor=agent)
    services.change_priority(ticket=ticket, priority=Priority.HIGH, actor=agent)
    services.link_order(ticket=ticket, order=order, actor=agent)

    ticket.refresh_from_db()
    assert ticket.assignee == agent and ticket.priority == Priority.HIGH and ticket.order == order
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["damaged", "vip"]
    assert names(heard) == ["ticket_assigned"]
    assert [e.kind for e in ticket.events.all()] == [
        "created", "assigned", "tags_changed", "priority_changed", "order_linked",
    ]  # fmt: skip


def test_an_order_of_another_shop_cannot_be_linked(customer):
    ticket = services.open_ticket(shop=customer.shop, customer=customer, subject="Hi")

    with pytest.raises(ValueError, match="another shop"):
        services.link_order(ticket=ticket, order=OrderFactory())


def test_recording_csat(heard):
    survey = CsatSurveyFactory()

    services.record_csat(survey=survey, score=5, comment="Lovely")

    survey.refresh_from_db()
    assert survey.score == 5 and survey.answered_at
    assert names(heard) == ["csat_submitted"]
    with pytest.raises(ValueError):
        services.record_csat(survey=survey, score=9)


def test_a_dedupe_key_makes_a_timeline_entry_happen_once(customer):
    ticket = services.open_ticket(shop=customer.shop, customer=customer, subject="Hi")

    first = services.record_event(ticket=ticket, kind="x", dedupe_key="k")
    second = services.record_event(ticket=ticket, kind="x", dedupe_key="k")

    assert first is not None and second is None
