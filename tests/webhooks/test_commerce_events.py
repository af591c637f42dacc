"""Commerce events reach the merchant's systems; compliance requests reach stored payloads."""

import json

import pytest

from bookbag.core.models import OutboxStatus
from integrations.models import DataExport
from webhooks.models import Delivery, Event

pytestmark = [pytest.mark.django_db, pytest.mark.queue]


@pytest.fixture
def crm(endpoint, receiver):
    endpoint.event_types = ["order.fulfilled", "refund.created", "order.cancelled"]
    endpoint.save()
    return receiver


def test_shopify_events_become_outbound_events_with_ids_as_strings(deliver, crm):
    deliver("orders/create")
    deliver("fulfillments/create")
    deliver("refunds/create")
    deliver("orders/cancelled")

    types = [json.loads(r["body"])["type"] for r in crm.received]
    assert types == ["order.fulfilled", "refund.created", "order.fulfilled", "order.cancelled"]
    fulfilled = json.loads(crm.received[0]["body"])["data"]
    assert fulfilled["order"]["shopify_id"] == "820982911946154508"
    assert fulfilled["order"]["customer"]["shopify_id"] == "9007199254740993"
    assert fulfilled["fulfillment"]["tracking_numbers"] == ["1Z2345"]
    assert json.loads(crm.received[1]["body"])["data"]["refund"]["amount"] == "59.900"


def test_a_duplicate_shopify_delivery_publishes_nothing_more(deliver, crm):
    deliver("orders/create")
    for _ in range(3):
        deliver("fulfillments/create")

    assert len(crm.received) == 1


def test_compliance_exports_and_redacts_stored_payloads(deliver, crm, endpoint, receiver):
    deliver("orders/create")
    deliver("fulfillments/create")
    receiver.script = [500]  # the refund's delivery fails and waits for a retry
    deliver("refunds/create")
    assert Delivery.objects.filter(status=OutboxStatus.PENDING).count() == 1

    deliver("customers/data_request")
    exported = DataExport.objects.get().data["webhook_events"]
    assert {e["type"] for e in exported} == {"order.fulfilled", "refund.created"}

    deliver("customers/redact")

    for payload in Event.objects.values_list("payload", flat=True):
        assert b"ada@example.com" not in bytes(payload) and b"Lovelace" not in bytes(payload)
    cancelled = Delivery.objects.get(event__type="refund.created")
    assert cancelled.status == OutboxStatus.DEAD and "redacted" in cancelled.last_error
