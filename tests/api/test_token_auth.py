"""A token from `manage.py drf_create_token <user>` is what an integration sends as
`Authorization: Token <key>`; resetting it locks the old key out at once."""

import io

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from tests.factories import AgentFactory, TicketFactory

pytestmark = pytest.mark.django_db


def create_token(username: str, *args: str) -> str:
    out = io.StringIO()
    call_command("drf_create_token", username, *args, stdout=out)
    return out.getvalue().split()[2]  # "Generated token <key> for user <name>"


def with_token(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_token_from_the_management_command_works():
    service = AgentFactory(username="contact-form")
    TicketFactory()

    key = create_token("contact-form")

    response = with_token(key).get("/api/tickets/")
    assert response.status_code == 200 and len(response.json()["results"]) == 1
    assert len(key) == 40 and service.auth_token.key == key


def test_resetting_the_token_locks_the_old_key_out():
    AgentFactory(username="zapier")
    old = create_token("zapier")

    new = create_token("zapier", "--reset")

    assert new != old
    assert with_token(old).get("/api/tickets/").status_code == 401
    assert with_token(new).get("/api/tickets/").status_code == 200


def test_the_token_keyword_is_required():
    AgentFactory(username="widget")
    key = create_token("widget")
    client = APIClient()
    for header in (key, f"Bearer {key}", f"Token {key} extra", "Token"):
        client.credentials(HTTP_AUTHORIZATION=header)
        assert client.get("/api/tickets/").status_code == 401, header
