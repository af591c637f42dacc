"""The ticket actions of the API (`reply`, `note`, `assign`, `resolve`, `reopen`, `escalate`) do
exactly what the same action does in the inbox: the same timeline entries, the same messages,
the same emails to the customer (a reply is emailed, a note never) and the same signed outbound
webhooks, delivered to a real receiver on loopback and verified there with standardwebhooks."""

import json
import re

import pytest
from django.core import mail
from django.test import Client

from tests.api.conftest import token_client
from tests.factories import AgentFactory, CustomerFactory, UserFactory
from tickets import services
from tickets.models import Message, Ticket, TicketEvent

pytestmark = [pytest.mark.django_db, pytest.mark.queue]


def open_ticket(email: str) -> Ticket:
    """A ticket the customer opened by writing to us (so resolving it asks for a rating)."""
    customer = CustomerFactory(email=email, first_name="Ada")
    return services.open_ticket(
        shop=customer.shop, customer=customer, subject="Lost parcel", body="Where is it?"
    )


# action → (the inbox's URL part and form, the API's body); the agent is filled in as `{agent}`.
ACTIONS = {
    "reply": (("messages", {"kind": "reply", "body": "It ships today."}),
              {"body": "It ships today."}),
    "note": (("messages", {"kind": "note", "body": "Checked with UPS."}),
             {"body": "Checked with UPS."}),
    "assign": (("assign", {"to_me": "1"}), {"assignee": "{agent}"}),
    "resolve": (("resolve", {}), None),
    "reopen": (("reopen", {}), None),
    "escalate": (("escalate", {"reason": "vip customer"}), {"reason": "vip customer"}),
}  # fmt: skip


def do_in_the_inbox(agent, ticket: Ticket, action: str) -> None:
    (part, form), _ = ACTIONS[action]
    client = Client()
    client.force_login(agent)
    response = client.post(f"/inbox/tickets/{ticket.pk}/{part}/", form)
    assert response.status_code == 302, response.content


def do_through_the_api(agent, ticket: Ticket, action: str) -> dict:
    _, body = ACTIONS[action]
    if body is not None:
        body = {k: agent.pk if v == "{agent}" else v for k, v in body.items()}
    response = token_client(agent).post(f"/api/tickets/{ticket.pk}/{action}/", body)
    assert response.status_code in (200, 201), response.content
    return response.json()


def aftermath(ticket: Ticket, first_event: int, first_message: int, receiver, emails) -> dict:
    """What a person (or the merchant's systems) would notice after an action on `ticket`,
    with the ticket's own id and times taken out so two tickets compare."""
    ticket.refresh_from_db()
    hooks = []
    for got in receiver.received:
        payload = json.loads(got["body"])
        data = payload["data"]
        if data.get("ticket", {}).get("id") != ticket.pk:
            continue
        assert got["verified_by"], "standardwebhooks verified the signature at arrival"
        hooks.append(
            (payload["type"], data["ticket"]["status"], data["ticket"]["priority"],
             data["ticket"]["assignee"], json.dumps(data.get("actor")), data.get("reason"),
             data.get("message", {}).get("internal"), data.get("message", {}).get("body"))
        )  # fmt: skip
    return {
        "ticket": (ticket.status, ticket.priority, ticket.assignee_id, ticket.resolved_by_id),
        "timeline": [
            (e.kind, e.actor_id, json.dumps(e.data, sort_keys=True))
            for e in ticket.events.filter(pk__gte=first_event).order_by("id")
        ],
        "messages": [
            (m.author_kind, m.author_id, m.internal, m.body)
            for m in ticket.messages.filter(pk__gte=first_message).order_by("id")
        ],
        "emails": [
            re.sub(rf"#{ticket.pk}\b", "#N", e.subject)
            for e in emails
            if e.to == [ticket.customer.email]
        ],
        "webhooks": sorted(hooks),
    }


def next_pk(model) -> int:
    last = model.objects.order_by("-pk").values_list("pk", flat=True).first()
    return (last or 0) + 1


@pytest.mark.parametrize("action", list(ACTIONS))
def test_each_action_through_the_api_does_what_the_inbox_does(
    action, endpoint, receiver, run_queued_tasks
):
    agent = AgentFactory()
    by_inbox, by_api = open_ticket("inbox@example.com"), open_ticket("api@example.com")
    if action == "reopen":
        services.resolve(ticket=by_inbox, actor=agent)
        services.resolve(ticket=by_api, actor=agent)
    run_queued_tasks()
    receiver.received.clear()
    mail.outbox.clear()

    marks = (next_pk(TicketEvent), next_pk(Message))
    do_in_the_inbox(agent, by_inbox, action)
    run_queued_tasks()
    inbox = aftermath(by_inbox, *marks, receiver, mail.outbox)

    marks = (next_pk(TicketEvent), next_pk(Message))
    do_through_the_api(agent, by_api, action)
    run_queued_tasks()
    api = aftermath(by_api, *marks, receiver, mail.outbox)

    assert api == inbox
    assert api["webhooks"], "the action published at least one outbound webhook"
    assert api["timeline"] or api["messages"], "the action left a trace on the ticket"


def test_a_reply_is_emailed_to_the_customer_and_a_note_is_not(agent, agent_api, run_queued_tasks):
    ticket = open_ticket("ada@example.com")

    reply = agent_api.post(f"/api/tickets/{ticket.pk}/reply/", {"body": "It ships today."})
    note = agent_api.post(f"/api/tickets/{ticket.pk}/note/", {"body": "VIP, be quick."})
    run_queued_tasks()

    assert reply.status_code == 201 and note.status_code == 201
    assert reply.json()["internal"] is False and reply.json()["author"]["id"] == agent.pk
    assert note.json()["internal"] is True
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["ada@example.com"], f"Re: Lost parcel [#{ticket.pk}]")
    ]
    assert "It ships today." in mail.outbox[0].body
    assert "VIP" not in mail.outbox[0].body


def test_an_api_resolve_sends_the_signed_ticket_resolved_webhook_and_the_csat_email(
    agent, agent_api, endpoint, receiver, run_queued_tasks, settings
):
    settings.BOOKBAG_BASE_URL = "https://support.example.com"
    endpoint.event_types = ["ticket.resolved"]
    endpoint.save()
    ticket = open_ticket("ada@example.com")

    response = agent_api.post(f"/api/tickets/{ticket.pk}/resolve/")
    run_queued_tasks()

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "resolved" and body["resolved_by"]["id"] == agent.pk
    [got] = receiver.received
    assert got["verified_by"], "standardwebhooks verified the signature at arrival"
    payload = json.loads(got["body"])
    assert payload["type"] == "ticket.resolved"
    assert payload["data"]["ticket"]["id"] == ticket.pk
    assert payload["data"]["ticket"]["status"] == "resolved"
    assert payload["data"]["actor"] == {"kind": "user", "name": agent.username}
    assert payload["data"]["ticket"]["customer"]["shopify_id"] == str(ticket.customer.shopify_id)
    [email] = mail.outbox
    assert email.to == ["ada@example.com"]
    assert email.subject == f"How did we do? [#{ticket.pk}]"
    assert f"https://support.example.com/csat/{ticket.csat.token}/" in email.body


def test_resolving_twice_changes_nothing_the_second_time(agent_api, endpoint, run_queued_tasks):
    ticket = open_ticket("ada@example.com")
    agent_api.post(f"/api/tickets/{ticket.pk}/resolve/")
    run_queued_tasks()
    events, emails = ticket.events.count(), len(mail.outbox)

    response = agent_api.post(f"/api/tickets/{ticket.pk}/resolve/")
    run_queued_tasks()

    assert response.status_code == 200 and response.json()["status"] == "resolved"
    assert ticket.events.count() == events and len(mail.outbox) == emails


def test_escalate_takes_a_priority_and_a_reason(agent_api):
    ticket = open_ticket("ada@example.com")

    response = agent_api.post(
        f"/api/tickets/{ticket.pk}/escalate/", {"reason": "chargeback", "priority": "high"}
    )

    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["priority"]) == ("escalated", "high")
    change = ticket.events.filter(kind="status_changed").latest("id")
    assert change.data == {"from": "open", "to": "escalated", "reason": "chargeback"}


def test_assign_to_a_colleague_and_back_to_nobody(agent_api):
    ticket = open_ticket("ada@example.com")
    colleague = AgentFactory()

    assigned = agent_api.post(f"/api/tickets/{ticket.pk}/assign/", {"assignee": colleague.pk})
    unassigned = agent_api.post(f"/api/tickets/{ticket.pk}/assign/", {"assignee": None})

    assert assigned.json()["assignee"]["id"] == colleague.pk
    assert unassigned.json()["assignee"] is None
    assert [e.data["to"] for e in ticket.events.filter(kind="assigned").order_by("id")] == [
        colleague.username,
        None,
    ]


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("reply", {}, "body"),
        ("reply", {"body": "   "}, "body"),
        ("note", {"body": 42}, "body"),
        ("assign", {}, "assignee"),
        ("assign", {"assignee": "me"}, "assignee"),
        ("escalate", {"priority": "whenever"}, "priority"),
        ("escalate", {"reason": "x" * 256}, "reason"),
    ],
)
def test_invalid_action_input_is_a_400_naming_the_field_and_changes_nothing(
    agent_api, action, body, field
):
    ticket = open_ticket("ada@example.com")
    events, messages = ticket.events.count(), ticket.messages.count()

    response = agent_api.post(f"/api/tickets/{ticket.pk}/{action}/", body)

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid" and field in response.json()["errors"]
    assert (ticket.events.count(), ticket.messages.count()) == (events, messages)


def test_assigning_someone_who_is_not_an_agent_is_refused(agent_api):
    ticket = open_ticket("ada@example.com")
    response = agent_api.post(f"/api/tickets/{ticket.pk}/assign/", {"assignee": UserFactory().pk})
    assert response.status_code == 400 and "assignee" in response.json()["errors"]


def test_a_superuser_outside_the_inbox_groups_is_not_assignable(agent_api):
    """They cannot open the inbox, so a ticket assigned to them would sit unseen; the API offers
    and accepts the same people as the inbox's assignee menu."""
    ticket = open_ticket("ada@example.com")
    root = UserFactory(is_superuser=True, is_staff=True)
    response = agent_api.post(f"/api/tickets/{ticket.pk}/assign/", {"assignee": root.pk})
    assert response.status_code == 400 and "assignee" in response.json()["errors"]
    listed = [a["id"] for a in agent_api.get("/api/agents/").json()["results"]]
    assert root.pk not in listed and listed


@pytest.mark.parametrize("action", list(ACTIONS))
def test_an_action_on_an_unknown_ticket_is_a_404(agent, agent_api, action):
    _, body = ACTIONS[action]
    if body is not None:
        body = {k: agent.pk if v == "{agent}" else v for k, v in body.items()}
    response = agent_api.post(f"/api/tickets/987654/{action}/", body)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found" and set(response.json()) == {"detail", "code"}
