"""Cursor pagination on every list: newest first by id, so paging never repeats or skips a row
while new ones arrive; a cursor or page size that cannot be right is a 400 naming it (DRF's own
answer would be a 404, which reads as "the list is gone"), as the schema says."""

from base64 import b64encode

import pytest

from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def crafted(query: str) -> str:
    return b64encode(query.encode()).decode()


def test_following_next_visits_every_ticket_once_newest_first(agent_api):
    tickets = [TicketFactory() for _ in range(5)]
    seen, url = [], "/api/tickets/?page_size=2"
    for _ in range(5):
        body = agent_api.get(url).json()
        seen += [t["id"] for t in body["results"]]
        url = body["next"]
        if url is None:
            break
    assert seen == [t.pk for t in reversed(tickets)]


def test_a_ticket_opened_while_paging_is_neither_repeated_nor_makes_one_skip(agent_api):
    tickets = [TicketFactory() for _ in range(4)]
    first = agent_api.get("/api/tickets/", {"page_size": 2}).json()

    newest = TicketFactory()  # arrives between two pages
    second = agent_api.get(first["next"]).json()

    assert [t["id"] for t in first["results"] + second["results"]] == [
        t.pk for t in reversed(tickets)
    ]
    back = agent_api.get(second["previous"]).json()
    assert [t["id"] for t in back["results"]] == [t["id"] for t in first["results"]]
    assert newest.pk in [t["id"] for t in agent_api.get("/api/tickets/").json()["results"]]


def test_the_page_size_defaults_to_50_and_goes_up_to_200(agent_api):
    for _ in range(51):
        TicketFactory()
    assert len(agent_api.get("/api/tickets/").json()["results"]) == 50
    assert len(agent_api.get("/api/tickets/", {"page_size": 200}).json()["results"]) == 51


@pytest.mark.parametrize(
    "cursor",
    [
        "not-base64!",
        crafted("p=abc"),
        crafted(f"p={2**63}"),
        crafted("p=1%00"),
        crafted("o=x"),
    ],
    ids=["garbage", "text-position", "beyond-bigint", "nul", "bad-offset"],
)
def test_a_bad_cursor_is_a_400_naming_it(agent_api, cursor):
    TicketFactory()
    response = agent_api.get("/api/tickets/", {"cursor": cursor})
    assert response.status_code == 400, response.content
    assert "cursor" in response.json()["errors"]


@pytest.mark.parametrize("size", ["0", "201", "-1", "ten", "1.5", "٣"])
def test_a_bad_page_size_is_a_400_naming_it(agent_api, size):
    response = agent_api.get("/api/tickets/", {"page_size": size})
    assert response.status_code == 400
    assert "page_size" in response.json()["errors"]


def test_the_schema_documents_the_cursor_and_its_400(anonymous_api):
    document = anonymous_api.get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    ).json()
    operation = document["paths"]["/api/tickets/"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert "cursor" in parameters and "next" in parameters["cursor"]["description"]
    assert parameters["page_size"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 200}
    assert "cursor" in operation["responses"]["400"]["description"]


@pytest.mark.parametrize(
    "url",
    ["/api/customers/", "/api/orders/", "/api/notifications/", "/api/webhook-endpoints/",
     "/api/deliveries/", "/api/inbound-webhooks/", "/api/shops/", "/api/agents/"],
)  # fmt: skip
def test_every_list_has_the_same_envelope_and_refuses_a_bad_cursor(admin_api, url):
    body = admin_api.get(url).json()
    assert set(body) == {"next", "previous", "results"}
    assert admin_api.get(url, {"cursor": "garbage"}).status_code == 400
