"""Rate limits per token, counted in the shared cache: every answer says how much is left
(`RateLimit-*`), and once it is used up the answer is 429 with `Retry-After`. The rate comes
from settings (API_THROTTLE_RATE); the API conftest gives each test an empty cache."""

import copy

import pytest

from tests.api.conftest import token_client
from tests.factories import AgentFactory, TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_per_minute(settings):
    rest = copy.deepcopy(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {"user": "3/minute", "anon": "2/minute"}
    settings.REST_FRAMEWORK = rest


def test_every_answer_carries_the_rate_limit_headers(agent_api, three_per_minute):
    answers = [agent_api.get("/api/tickets/") for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a["RateLimit-Limit"] for a in answers] == ["3", "3", "3"]
    assert [a["RateLimit-Remaining"] for a in answers] == ["2", "1", "0"]
    assert all(0 < int(a["RateLimit-Reset"]) <= 60 for a in answers)


def test_once_the_limit_is_used_up_the_answer_is_429_with_retry_after(agent_api, three_per_minute):
    ticket = TicketFactory()
    for _ in range(3):
        agent_api.get(f"/api/tickets/{ticket.pk}/")

    refused = agent_api.post(f"/api/tickets/{ticket.pk}/note/", {"body": "Too many?"})

    assert refused.status_code == 429
    body = refused.json()
    assert body["code"] == "throttled" and set(body) == {"detail", "code"}
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused["RateLimit-Remaining"] == "0"
    assert not ticket.messages.exists(), "a refused request does nothing"


def test_each_token_has_its_own_allowance(agent_api, three_per_minute):
    for _ in range(3):
        agent_api.get("/api/tickets/")
    assert agent_api.get("/api/tickets/").status_code == 429

    other = token_client(AgentFactory())
    response = other.get("/api/tickets/")
    assert response.status_code == 200 and response["RateLimit-Remaining"] == "2"


def test_anonymous_callers_share_the_anonymous_rate(anonymous_api, three_per_minute):
    answers = [anonymous_api.get("/api/schema/") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[0]["RateLimit-Limit"] == "2"


def test_the_default_rate_is_generous(agent_api):
    response = agent_api.get("/api/tickets/")
    assert response["RateLimit-Limit"] == "600"
