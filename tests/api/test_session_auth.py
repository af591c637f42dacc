"""The inbox's own calls use the session: reads work as they are, writes need the CSRF token."""

import pytest
from rest_framework.test import APIClient

from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def session_client(agent):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(agent)
    return client


def csrf_token(client: APIClient) -> str:
    client.get("/admin/login/")  # any page that renders a form sets the cookie
    return client.cookies["csrftoken"].value


def test_a_logged_in_agent_reads_the_api_with_the_session_cookie(session_client):
    TicketFactory()
    response = session_client.get("/api/tickets/")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


def test_a_session_write_without_the_csrf_token_is_refused(session_client):
    ticket = TicketFactory()
    response = session_client.post(
        f"/api/tickets/{ticket.pk}/note/", {"body": "Checked."}, format="json"
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not ticket.messages.exists()


def test_a_session_write_with_the_csrf_token_goes_through(session_client):
    ticket = TicketFactory()
    response = session_client.post(
        f"/api/tickets/{ticket.pk}/note/",
        {"body": "Checked."},
        format="json",
        HTTP_X_CSRFTOKEN=csrf_token(session_client),
    )
    assert response.status_code == 201, response.content
    assert ticket.messages.get().internal
