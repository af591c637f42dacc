"""Only active members of `agents` or `admins` reach the inbox; agents are not staff."""

import pytest
from django.test import Client

from tests.factories import AdminFactory, AgentFactory, TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket():
    return TicketFactory()


def inbox_urls(ticket) -> list[str]:
    return ["/inbox/", f"/inbox/tickets/{ticket.pk}/", "/inbox/?view=all&q=x"]


def test_anonymous_visitors_are_sent_to_sign_in_and_come_back_after(client, ticket):
    for url in inbox_urls(ticket):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


def test_the_site_root_goes_to_the_inbox(client):
    assert client.get("/")["Location"] == "/inbox/"


def test_a_signed_in_user_who_is_not_an_agent_is_refused(client, stranger, ticket):
    client.force_login(stranger)

    for url in inbox_urls(ticket):
        response = client.get(url)
        assert response.status_code == 403
        assert b"This inbox is for support agents" in response.content
    assert client.post(f"/inbox/tickets/{ticket.pk}/resolve/").status_code == 403
    assert client.get("/inbox/poll/?list=1").status_code == 403
    ticket.refresh_from_db()
    assert ticket.status == "open"


def test_agents_and_admins_reach_the_inbox(ticket):
    for user in (AgentFactory(), AdminFactory()):
        client = Client()
        client.force_login(user)
        for url in inbox_urls(ticket):
            assert client.get(url).status_code == 200, (user, url)


def test_agents_are_not_staff_so_the_django_admin_stays_closed_to_them(agent_client, agent):
    assert not agent.is_staff
    response = agent_client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_a_deactivated_agent_is_signed_out(client, agent, ticket):
    client.force_login(agent)
    agent.is_active = False
    agent.save(update_fields=["is_active"])

    response = client.get("/inbox/")

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_poll_answers_401_to_anonymous_scripts_instead_of_a_login_page(client, ticket):
    assert client.get("/inbox/poll/?list=1").status_code == 401
    assert client.get(f"/inbox/tickets/{ticket.pk}/saved-replies/1/").status_code == 401


def test_actions_are_post_only(agent_client, ticket):
    assert agent_client.get(f"/inbox/tickets/{ticket.pk}/resolve/").status_code == 405
    assert agent_client.get("/inbox/bulk/").status_code == 405
