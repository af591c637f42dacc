"""Sign-in with Django's views, rate limited; password reset by email."""

import re

import pytest
from django.core import mail
from django.test import Client

from tests.factories import TEST_PASSWORD, AgentFactory

pytestmark = pytest.mark.django_db


def sign_in(client, username, password, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def test_an_agent_signs_in_and_lands_on_the_inbox(client, agent):
    page = client.get("/accounts/login/")
    assert page.status_code == 200 and b"Forgot your password?" in page.content

    response = sign_in(client, agent.username, TEST_PASSWORD)

    assert response.status_code == 302 and response["Location"] == "/inbox/"
    assert client.get("/inbox/").status_code == 200


def test_the_next_page_is_honoured_but_never_another_site(client, agent):
    response = client.post(
        "/accounts/login/?next=/inbox/?view=all",
        {"username": agent.username, "password": TEST_PASSWORD, "next": "/inbox/?view=all"},
    )
    assert response["Location"] == "/inbox/?view=all"

    client.logout()
    response = client.post(
        "/accounts/login/",
        {"username": agent.username, "password": TEST_PASSWORD, "next": "https://evil.test/"},
    )
    assert response["Location"] == "/inbox/"


def test_sign_in_needs_the_csrf_token(agent):
    client = Client(enforce_csrf_checks=True)
    assert sign_in(client, agent.username, TEST_PASSWORD).status_code == 403

    page = client.get("/accounts/login/")
    token = page.cookies["csrftoken"].value
    response = sign_in(client, agent.username, TEST_PASSWORD, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 302


def test_five_wrong_passwords_lock_that_username_from_that_address(client, agent):
    for _ in range(5):
        assert sign_in(client, agent.username, "wrong").status_code == 200

    response = sign_in(client, agent.username, TEST_PASSWORD)

    assert response.status_code == 429
    assert b"Too many failed sign-in attempts" in response.content
    assert "_auth_user_id" not in client.session


def test_the_lock_is_per_address_and_username(client, agent):
    for _ in range(5):
        sign_in(client, agent.username, "wrong")
    other = AgentFactory()

    assert sign_in(client, other.username, TEST_PASSWORD).status_code == 302
    from_elsewhere = Client(REMOTE_ADDR="10.0.0.9")
    assert sign_in(from_elsewhere, agent.username, TEST_PASSWORD).status_code == 302


def test_one_address_spraying_many_usernames_is_stopped(client, agent):
    for i in range(30):
        sign_in(client, f"nobody{i}", "wrong")

    assert sign_in(client, agent.username, TEST_PASSWORD).status_code == 429


def test_signing_out_is_a_post(client, agent):
    client.force_login(agent)

    response = client.post("/accounts/logout/")

    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert client.get("/inbox/").status_code == 302


def test_password_reset_by_email(client, agent):
    response = client.post("/accounts/password-reset/", {"email": agent.email})
    assert response["Location"] == "/accounts/password-reset/sent/"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [agent.email]
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)

    form = client.get(link, follow=True)
    assert b"Choose a new password" in form.content
    response = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-new-Passw0rd-42", "new_password2": "a-new-Passw0rd-42"},
    )

    assert response["Location"] == "/accounts/reset/done/"
    agent.refresh_from_db()
    assert agent.check_password("a-new-Passw0rd-42")


def test_password_reset_requests_are_rate_limited_without_saying_so(client, agent):
    for _ in range(7):
        response = client.post("/accounts/password-reset/", {"email": agent.email})
        assert response["Location"] == "/accounts/password-reset/sent/"

    assert len(mail.outbox) == 5
