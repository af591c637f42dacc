"""/api/event-types/: the catalogue of what Bookbag sends, with an example payload for each.
The catalogue is a promise to the merchant's developers, so it is checked against the payloads
Bookbag really sends: same `data` keys, same shape of every object inside."""

import json

import pytest

from integrations import signals as commerce
from integrations.models import Shop
from tests.factories import (
    AgentFactory,
    FulfillmentFactory,
    OrderFactory,
    RefundFactory,
    TagFactory,
)
from tickets import services as tickets
from webhooks import services as webhooks
from webhooks.event_types import CATALOGUE
from webhooks.models import Endpoint, Event

pytestmark = pytest.mark.django_db


def test_the_catalogue_lists_every_event_type_with_an_example(admin_api):
    body = admin_api.get("/api/event-types/").json()

    assert body["next"] is None and body["previous"] is None
    names = [row["name"] for row in body["results"]]
    assert sorted(names) == sorted(CATALOGUE)
    for row in body["results"]:
        assert row["description"]
        assert row["example"]["type"] == row["name"]
        assert sorted(row["example"]["data"]) == sorted(row["data_keys"]), row["name"]


def test_one_event_type_and_an_unknown_one(admin_api):
    body = admin_api.get("/api/event-types/ticket.resolved/").json()
    assert body["name"] == "ticket.resolved"
    assert body["example"]["data"]["ticket"]["status"] == "resolved"
    assert body["example"]["data"]["ticket"]["customer"]["shopify_id"] == "9007199254740993"

    response = admin_api.get("/api/event-types/ticket.exploded/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def send_one_of_each() -> None:
    """Make Bookbag publish every event type once, through its real services and signals."""
    agent = AgentFactory()
    order = OrderFactory(fulfilled=True)
    customer = order.customer
    ticket = tickets.open_ticket(
        shop=order.shop, customer=customer, order=order, subject="Lost", body="Where is it?",
        actor=agent,
    )  # fmt: skip
    ticket.tags.add(TagFactory(name="shipping"))
    tickets.assign(ticket=ticket, assignee=agent, actor=agent)
    tickets.reply(ticket=ticket, body="On its way.", author=agent)
    tickets.escalate(ticket=ticket, actor=agent, reason="vip")
    tickets.resolve(ticket=ticket, actor=agent)
    tickets.record_csat(survey=ticket.csat, score=5, comment="Thanks")
    tickets.reopen(ticket=ticket, actor=agent)
    shop = Shop.objects.get(pk=order.shop_id)
    fulfillment = FulfillmentFactory(order=order)
    commerce.order_fulfilled.send(sender=Shop, shop=shop, order=order, fulfillment=fulfillment)
    commerce.order_cancelled.send(sender=Shop, shop=shop, order=order, reason="customer")
    refund = RefundFactory(order=order)
    commerce.refund_created.send(sender=Shop, shop=shop, order=order, refund=refund)
    webhooks.send_test_event(Endpoint.objects.get())


def same_shape(example, real, path: str) -> list[str]:
    """Where the example and a real payload differ in their keys (None on either side is fine:
    a nullable value)."""
    if isinstance(example, dict) and isinstance(real, dict):
        problems = []
        if set(example) != set(real):
            problems.append(f"{path}: example {sorted(example)} but sent {sorted(real)}")
        for key in set(example) & set(real):
            problems += same_shape(example[key], real[key], f"{path}.{key}")
        return problems
    if isinstance(example, list) and isinstance(real, list) and example and real:
        return same_shape(example[0], real[0], f"{path}[0]")
    return []


def test_every_example_has_the_shape_of_what_bookbag_really_sends(admin_api, endpoint):
    send_one_of_each()
    catalogue = {row["name"]: row for row in admin_api.get("/api/event-types/").json()["results"]}

    sent = {}
    for event in Event.objects.order_by("id"):
        sent.setdefault(event.type, json.loads(bytes(event.payload)))
    assert sorted(sent) == sorted(CATALOGUE), "one of each was sent"

    problems = []
    for name, payload in sent.items():
        entry = catalogue[name]
        if sorted(payload["data"]) != sorted(entry["data_keys"]):
            problems.append(
                f"{name}: data_keys {entry['data_keys']} but sent {sorted(payload['data'])}"
            )
        problems += same_shape(entry["example"], payload, name)
    assert problems == []
