"""Brute force at the Django admin's sign-in: it counts failures with the inbox's sign-in
(bookbag.core.login_limits), so neither door gives an attacker more guesses than the other.
The inbox's own limits are tested in tests/inbox/test_sign_in.py."""

import pytest
from django.core.cache import cache
from django.test import Client

from tests.factories import TEST_PASSWORD, AdminFactory, AgentFactory

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed sign-in attempts"


@pytest.fixture(autouse=True)
def _private_cache(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "login"}
    }
    cache.clear()
    yield
    cache.clear()


def admin_sign_in(client, username, password):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password, "next": "/admin/"},
    )


def inbox_sign_in(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_five_wrong_passwords_lock_the_admin_sign_in_for_that_username(client):
    admin = AdminFactory()
    for _ in range(5):
        response = admin_sign_in(client, admin.username, "wrong")
        assert response.status_code == 200 and LOCKED not in response.content.decode()

    response = admin_sign_in(client, admin.username, TEST_PASSWORD)

    assert response.status_code == 200
    assert LOCKED in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lock_holds_for_that_address_only(client):
    admin = AdminFactory()
    for _ in range(5):
        admin_sign_in(client, admin.username, "wrong")

    elsewhere = Client(REMOTE_ADDR="10.0.0.9")
    assert admin_sign_in(elsewhere, admin.username, TEST_PASSWORD)["Location"] == "/admin/"


def test_failures_at_either_door_count_together(client):
    admin = AdminFactory()
    for _ in range(3):
        inbox_sign_in(client, admin.username, "wrong")
    for _ in range(2):
        admin_sign_in(client, admin.username, "wrong")

    assert LOCKED in admin_sign_in(client, admin.username, TEST_PASSWORD).content.decode()
    assert inbox_sign_in(client, admin.username, TEST_PASSWORD).status_code == 429


def test_spraying_usernames_at_the_admin_is_stopped_by_the_per_address_limit(client):
    admin = AdminFactory()
    for i in range(30):
        admin_sign_in(client, f"nobody{i}", "wrong")

    assert LOCKED in admin_sign_in(client, admin.username, TEST_PASSWORD).content.decode()


def test_an_agent_at_the_admins_door_is_told_no_but_not_counted_as_a_guess(client):
    agent = AgentFactory()
    for _ in range(6):
        response = admin_sign_in(client, agent.username, TEST_PASSWORD)
        assert response.status_code == 200 and LOCKED not in response.content.decode()

    assert inbox_sign_in(client, agent.username, TEST_PASSWORD)["Location"] == "/inbox/"


def test_a_successful_admin_sign_in_clears_the_usernames_failures(client):
    admin = AdminFactory()
    for _ in range(4):
        admin_sign_in(client, admin.username, "wrong")
    assert admin_sign_in(client, admin.username, TEST_PASSWORD)["Location"] == "/admin/"
    client.post("/admin/logout/")

    for _ in range(4):
        admin_sign_in(client, admin.username, "wrong")

    assert admin_sign_in(client, admin.username, TEST_PASSWORD)["Location"] == "/admin/"


def test_behind_a_proxy_each_client_is_counted_by_the_address_the_proxy_saw(settings):
    """The proxy appends the address it saw to X-Forwarded-For; whatever the client wrote there
    itself (the left part) is ignored."""
    settings.TRUSTED_PROXY_HOPS = 1
    admin = AdminFactory()
    attacker = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.7")
    for _ in range(5):
        admin_sign_in(attacker, admin.username, "wrong")

    colleague = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.4")
    assert admin_sign_in(colleague, admin.username, TEST_PASSWORD)["Location"] == "/admin/"
    spoofing = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.4, 203.0.113.7")
    assert LOCKED in admin_sign_in(spoofing, admin.username, TEST_PASSWORD).content.decode()


def test_without_trusted_proxies_x_forwarded_for_is_ignored(settings):
    settings.TRUSTED_PROXY_HOPS = 0
    admin = AdminFactory()
    for i in range(5):
        admin_sign_in(Client(HTTP_X_FORWARDED_FOR=f"198.51.100.{i}"), admin.username, "wrong")

    fresh_header = Client(HTTP_X_FORWARDED_FOR="198.51.100.99")
    assert LOCKED in admin_sign_in(fresh_header, admin.username, TEST_PASSWORD).content.decode()
