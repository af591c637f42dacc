import pytest
from django.core.cache import cache
from django.test import Client

from tests.factories import AgentFactory, CustomerFactory, OrderFactory, UserFactory


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    """The shared cache is a file cache that outlives a test: presence entries, sign-in counters
    and cached counts must not leak from one test into the next. The poll's one-second version
    cache is off so a test sees a change at once."""
    settings.INBOX_VERSION_CACHE_SECONDS = 0
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast tests
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def agent(db):
    return AgentFactory(first_name="Sam", last_name="Rivera")


@pytest.fixture
def other_agent(db):
    return AgentFactory(first_name="Alex", last_name="Kim")


@pytest.fixture
def agent_client(agent):
    client = Client()
    client.force_login(agent)
    return client


@pytest.fixture
def stranger(db):
    """Signed in, active, but in neither `agents` nor `admins`."""
    return UserFactory()


@pytest.fixture
def customer(db):
    return CustomerFactory(first_name="Maya", last_name="Patel", email="maya@example.com")


@pytest.fixture
def order(customer):
    return OrderFactory(customer=customer, name="#1001")
