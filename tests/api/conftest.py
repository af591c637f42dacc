"""API test helpers: token-authenticated clients per role, and a private cache so the rate
limit of one test never leaks into another (the suite's cache is a shared file cache).

The outbound-webhook fixtures (a real loopback receiver that verifies every signature with the
standardwebhooks package) come from tests/webhooks/conftest.py.
"""

import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import AdminFactory, AgentFactory, ShopFactory, UserFactory
from tests.webhooks.conftest import (  # noqa: F401  (fixtures)
    endpoint,
    endpoint_and_secret,
    loopback_allowed,
    receiver,
    ticket,
)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Every test makes users; the real hasher costs about a second each on a busy CI box, and
    the API never checks a password (tokens, or force_login for the session)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _private_cache(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "bookbag-api-tests",
        }
    }
    cache.clear()
    yield
    cache.clear()


def token_client(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    client.user = user
    return client


@pytest.fixture
def agent(db):
    return AgentFactory()


@pytest.fixture
def admin(db):
    return AdminFactory()


@pytest.fixture
def agent_api(agent):
    return token_client(agent)


@pytest.fixture
def admin_api(admin):
    return token_client(admin)


@pytest.fixture
def nobody_api(db):
    """Authenticated, but in neither role."""
    return token_client(UserFactory())


@pytest.fixture
def anonymous_api():
    return APIClient()


@pytest.fixture
def store(db):
    """The one connected shop (so a ticket may be opened without naming it)."""
    return ShopFactory(domain="bookbag-demo.myshopify.com")
