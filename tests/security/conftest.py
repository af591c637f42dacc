"""Fixtures for the security tests: the outbound-webhook ones (a real loopback receiver that
verifies every signature with the standardwebhooks package) come from tests/webhooks/conftest.py.
"""

import pytest

from tests.webhooks.conftest import (  # noqa: F401  (fixtures)
    endpoint,
    endpoint_and_secret,
    loopback_allowed,
    receiver,
    ticket,
)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Every test here makes users; PBKDF2's cost would dominate them."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
