"""Cheap polling: the ticket list and a ticket carry an `ETag`; sending it back as
`If-None-Match` gets a bodiless 304 until something a client would see has changed."""

import pytest

from tests.factories import TicketFactory
from tickets import services
from tickets.models import Tag

pytestmark = pytest.mark.django_db


def poll(client, url: str, etag: str, **params):
    return client.get(url, params, HTTP_IF_NONE_MATCH=etag)


def test_the_ticket_list_answers_304_until_a_ticket_on_it_changes(agent, agent_api):
    ticket = TicketFactory()
    first = agent_api.get("/api/tickets/")
    etag = first["ETag"]

    unchanged = poll(agent_api, "/api/tickets/", etag)
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged["ETag"] == etag

    services.add_note(ticket=ticket, body="Checked with UPS.", author=agent)
    changed = poll(agent_api, "/api/tickets/", etag)
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_a_new_ticket_changes_the_lists_etag(agent_api):
    TicketFactory()
    etag = agent_api.get("/api/tickets/")["ETag"]
    TicketFactory()
    assert poll(agent_api, "/api/tickets/", etag).status_code == 200


def test_a_ticket_leaving_a_filtered_list_changes_its_etag(agent, agent_api):
    ticket = TicketFactory()
    etag = agent_api.get("/api/tickets/", {"status": "open"})["ETag"]

    services.resolve(ticket=ticket, actor=agent)

    response = poll(agent_api, "/api/tickets/", etag, status="open")
    assert response.status_code == 200 and response.json()["results"] == []


def test_each_filter_and_page_has_its_own_etag(agent_api):
    TicketFactory(priority="high")
    everything = agent_api.get("/api/tickets/")["ETag"]
    assert poll(agent_api, "/api/tickets/", everything, priority="low").status_code == 200


def test_a_ticket_answers_304_until_it_or_its_customer_changes(agent_api):
    ticket = TicketFactory()
    url = f"/api/tickets/{ticket.pk}/"
    etag = agent_api.get(url)["ETag"]

    assert poll(agent_api, url, etag).status_code == 304

    agent_api.post(f"{url}reply/", {"body": "On its way."})
    replied = poll(agent_api, url, etag)
    assert replied.status_code == 200 and replied.json()["messages"][-1]["body"] == "On its way."

    etag = replied["ETag"]
    ticket.customer.first_name = "Ada"
    ticket.customer.save()
    renamed = poll(agent_api, url, etag)
    assert renamed.status_code == 200 and renamed.json()["customer"]["first_name"] == "Ada"


def test_renaming_or_deleting_a_tag_changes_the_etags_of_its_tickets(agent_api):
    tag = Tag.objects.create(name="vip")
    ticket = TicketFactory()
    ticket.tags.add(tag)
    other = TicketFactory()
    url = f"/api/tickets/{ticket.pk}/"
    etag, list_etag = agent_api.get(url)["ETag"], agent_api.get("/api/tickets/")["ETag"]
    other_etag = agent_api.get(f"/api/tickets/{other.pk}/")["ETag"]

    tag.name = "gold"
    tag.save()
    renamed = poll(agent_api, url, etag)
    assert renamed.status_code == 200 and renamed.json()["tags"] == ["gold"]
    assert poll(agent_api, "/api/tickets/", list_etag).status_code == 200
    assert poll(agent_api, f"/api/tickets/{other.pk}/", other_etag).status_code == 304

    tag.delete()
    untagged = poll(agent_api, url, renamed["ETag"])
    assert untagged.status_code == 200 and untagged.json()["tags"] == []


def test_actions_and_patches_answer_with_the_new_etag(agent_api):
    ticket = TicketFactory()
    url = f"/api/tickets/{ticket.pk}/"

    patched = agent_api.patch(url, {"priority": "high"})

    assert poll(agent_api, url, patched["ETag"]).status_code == 304


def test_a_304_is_cheap_it_never_loads_the_conversation(agent_api, django_assert_max_num_queries):
    ticket = TicketFactory()
    url = f"/api/tickets/{ticket.pk}/"
    etag = agent_api.get(url)["ETag"]

    # The token with its user, the user's groups, the ticket with customer and order.
    with django_assert_max_num_queries(3):
        assert poll(agent_api, url, etag).status_code == 304


@pytest.mark.parametrize(
    "header", ["{weak}", "{strong}", '"nope", {weak}', "*"], ids=["weak", "strong", "list", "star"]
)
def test_if_none_match_is_compared_weakly_as_http_says_for_get(agent_api, header):
    ticket = TicketFactory()
    url = f"/api/tickets/{ticket.pk}/"
    weak = agent_api.get(url)["ETag"]
    value = header.format(weak=weak, strong=weak.removeprefix("W/"))
    assert poll(agent_api, url, value).status_code == 304


def test_a_stale_or_malformed_etag_gets_the_full_answer(agent_api):
    ticket = TicketFactory()
    url = f"/api/tickets/{ticket.pk}/"
    for value in ('"stale"', "garbage", 'W/"', ","):
        response = poll(agent_api, url, value)
        assert response.status_code == 200, value
        assert response.json()["id"] == ticket.pk
