"""The inbox list: views with counts, search, filters, sort, pages."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.utils import timezone

from tests.factories import (
    AgentFactory,
    CustomerFactory,
    FulfillmentFactory,
    MessageFactory,
    OrderFactory,
    ShopFactory,
    TagFactory,
    TicketFactory,
)
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def subjects(response) -> list[str]:
    return subjects_of(response.content.decode())


def counts(response) -> dict[str, int]:
    found = re.findall(r'data-count="(\w+)">(\d+)<', response.content.decode())
    return {name: int(n) for name, n in found}


def age(ticket: Ticket, hours: float) -> Ticket:
    at = timezone.now() - timedelta(hours=hours)
    Ticket.objects.filter(pk=ticket.pk).update(last_activity_at=at, created_at=at)
    return ticket


def test_every_view_shows_its_count(agent_client, agent, other_agent):
    TicketFactory(subject="Mine, open", assignee=agent)
    TicketFactory(subject="Mine, pending", assignee=agent, status="pending")
    TicketFactory(subject="Mine, resolved", assignee=agent, resolved=True)
    TicketFactory(subject="Nobody's", status="open")
    TicketFactory(subject="Alex's", assignee=other_agent, escalated=True)

    response = agent_client.get("/inbox/")

    assert counts(response) == {
        "mine": 2, "unassigned": 1, "open": 2, "pending": 1, "escalated": 1, "resolved": 1,
        "all": 5,
    }  # fmt: skip
    assert sorted(subjects(response)) == ["Mine, open", "Nobody's"], "the default view: Open"
    assert sorted(subjects(agent_client.get("/inbox/?view=mine"))) == [
        "Mine, open", "Mine, pending",
    ]  # fmt: skip
    assert subjects(agent_client.get("/inbox/?view=unassigned")) == ["Nobody's"]
    assert subjects(agent_client.get("/inbox/?view=resolved")) == ["Mine, resolved"]
    assert len(subjects(agent_client.get("/inbox/?view=all"))) == 5


def test_a_row_shows_customer_subject_last_message_order_state_priority_assignee_and_age(
    agent_client, agent, customer
):
    order = OrderFactory(customer=customer, name="#1042", fulfillment_status="fulfilled")
    FulfillmentFactory(order=order, shipment_status="out_for_delivery")
    ticket = TicketFactory(
        customer=customer, order=order, subject="Parcel?", priority="high", assignee=agent
    )
    MessageFactory(ticket=ticket, body="Where is my parcel?")
    MessageFactory(ticket=ticket, reply=True, body="It is out for delivery today!")
    MessageFactory(ticket=ticket, note=True, body="Internal: do not show in the list")
    age(ticket, 3)

    html = agent_client.get("/inbox/").content.decode()

    assert "Maya Patel" in html and "maya@example.com" in html
    assert "It is out for delivery today!" in html, "the last public message"
    assert "do not show in the list" not in html
    assert "#1042" in html and "Out for delivery" in html
    assert 'class="priority priority-high"' in html
    assert "Sam Rivera" in html
    assert ">3h</time>" in html


@pytest.mark.parametrize("query", ["#1001", "1001", "%231001"])
def test_search_finds_a_ticket_by_its_order_name(agent_client, customer, order, query):
    TicketFactory(customer=customer, order=order, subject="About my tote")
    TicketFactory(subject="Something else")

    response = agent_client.get("/inbox/", {"view": "all", "q": query.replace("%23", "#")})

    assert subjects(response) == ["About my tote"]


def test_search_by_order_name_finds_the_customers_tickets_without_a_linked_order(
    agent_client, customer, order
):
    TicketFactory(customer=customer, order=None, subject="Not linked yet")

    assert subjects(agent_client.get("/inbox/", {"view": "all", "q": "#1001"})) == [
        "Not linked yet"
    ]


@pytest.mark.parametrize(
    "query", ["tote", "TOTE", "patel", "Maya Patel", "maya@example", "arrived torn"]
)
def test_search_covers_subject_customer_name_email_and_message_text(agent_client, customer, query):
    ticket = TicketFactory(customer=customer, subject="About my tote")
    MessageFactory(ticket=ticket, body="The strap arrived torn.")
    TicketFactory(subject="Unrelated", customer=CustomerFactory(first_name="Li", last_name="Wu"))

    assert subjects(agent_client.get("/inbox/", {"view": "all", "q": query})) == ["About my tote"]


def test_search_by_ticket_number(agent_client):
    ticket = TicketFactory(subject="Number seven")
    TicketFactory(subject="Other")

    assert subjects(agent_client.get("/inbox/", {"view": "all", "q": f"#{ticket.pk}"})) == [
        "Number seven"
    ]


def test_a_nul_character_or_garbage_in_the_query_string_is_ignored_not_a_500(agent_client):
    TicketFactory(subject="Still here")

    for params in (
        {"q": "a\x00b"}, {"view": "nope"}, {"sort": "x"}, {"after": "!!"},
        {"assignee": "bob"}, {"shop": "abc"}, {"status": "\x00"},
    ):  # fmt: skip
        response = agent_client.get("/inbox/", params)
        assert response.status_code == 200, params


def test_filters_by_shop_status_priority_assignee_and_tag(agent_client, agent, other_agent):
    north, south = ShopFactory(name="North"), ShopFactory(name="South")
    vip = TagFactory(name="vip")
    TicketFactory(shop=north, subject="N urgent", priority="urgent", assignee=agent, tags=[vip])
    TicketFactory(shop=south, subject="S pending", status="pending", assignee=other_agent)
    TicketFactory(shop=south, subject="S nobody")

    def found(**params):
        return sorted(subjects(agent_client.get("/inbox/", {"view": "all", **params})))

    assert found(shop=north.pk) == ["N urgent"]
    assert found(status="pending") == ["S pending"]
    assert found(priority="urgent") == ["N urgent"]
    assert found(assignee="me") == ["N urgent"]
    assert found(assignee="none") == ["S nobody"]
    assert found(assignee=other_agent.pk) == ["S pending"]
    assert found(tag="vip") == ["N urgent"]
    assert found(shop=south.pk, assignee="none") == ["S nobody"]
    html = agent_client.get("/inbox/", {"view": "all"}).content.decode()
    assert "North" in html and "South" in html, "several stores: each row names its store"


def test_sorting_by_activity_priority_and_creation(agent_client):
    a = age(TicketFactory(subject="old urgent", priority="urgent"), 50)
    b = age(TicketFactory(subject="new low", priority="low"), 1)
    c = age(TicketFactory(subject="mid normal", priority="normal"), 10)
    Ticket.objects.filter(pk=a.pk).update(created_at=timezone.now() - timedelta(hours=1))
    Ticket.objects.filter(pk__in=[b.pk, c.pk]).update(created_at=timezone.now() - timedelta(days=9))

    def order(sort):
        return subjects(agent_client.get("/inbox/", {"sort": sort}))

    assert order("activity") == ["new low", "mid normal", "old urgent"]
    assert order("oldest") == ["old urgent", "mid normal", "new low"]
    assert order("priority") == ["old urgent", "mid normal", "new low"]
    assert order("created")[0] == "old urgent"


def test_pages_follow_each_other_without_gaps_or_repeats(agent_client):
    tickets = [TicketFactory(subject=f"T{i:02d}") for i in range(60)]
    at = timezone.now()
    for i, t in enumerate(tickets):  # some share the same moment: the id breaks the tie
        Ticket.objects.filter(pk=t.pk).update(last_activity_at=at - timedelta(minutes=i // 3))

    seen, pages, url = [], [], "/inbox/?view=all"
    while url:
        html = agent_client.get(url).content.decode()
        page = subjects_of(html)
        pages.append(page)
        seen += page
        match = re.search(r'rel="next" href="([^"]+)"', html)
        url = "/inbox/" + match.group(1).replace("&amp;", "&") if match else None

    assert [len(p) for p in pages] == [25, 25, 10]
    expected = Ticket.objects.order_by("-last_activity_at", "-id").values_list("subject", flat=True)
    assert seen == list(expected) and len(set(seen)) == 60
    back = re.search(r'rel="prev" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert subjects_of(agent_client.get("/inbox/" + back).content.decode()) == pages[1]


def subjects_of(html: str) -> list[str]:
    return [unescape(s) for s in re.findall(r'<span class="subject">([^<]*)</span>', html)]


def test_the_counts_are_cached_until_something_changes(agent_client, agent, settings):
    ticket = TicketFactory()
    assert counts(agent_client.get("/inbox/"))["open"] == 1

    TicketFactory()
    assert counts(agent_client.get("/inbox/"))["open"] == 2, "a new ticket: a new version"

    from tickets import services

    services.resolve(ticket=ticket, actor=agent)
    assert counts(agent_client.get("/inbox/"))["open"] == 1


def test_agents_show_in_the_assignee_filter(agent_client):
    AgentFactory(first_name="Zed", last_name="Zulu")
    assert "Zed Zulu" in agent_client.get("/inbox/").content.decode()
