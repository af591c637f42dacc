"""/api/deliveries/ for admins: the delivery log with every attempt, and `resend`, which sends
the same event again (same webhook-id) to a real receiver that verifies the signature."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from bookbag.core.models import OutboxStatus
from tests.factories import AttemptFactory, DeliveryFactory, EndpointFactory, EventFactory
from tickets import services as tickets
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db


def ids(client, params=None) -> list[int]:
    response = client.get("/api/deliveries/", params or {})
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.mark.queue
def test_a_failed_delivery_shows_its_attempts_and_resend_sends_it_again_with_the_same_id(
    admin_api, endpoint, receiver, ticket, run_queued_tasks
):
    endpoint.event_types = ["ticket.resolved"]
    endpoint.save()
    receiver.script = [500]
    tickets.resolve(ticket=ticket, automation="test")
    run_queued_tasks()
    delivery = Delivery.objects.get()

    listed = admin_api.get("/api/deliveries/").json()["results"]
    detail = admin_api.get(f"/api/deliveries/{delivery.pk}/").json()

    assert [d["id"] for d in listed] == [delivery.pk]
    assert listed[0]["event"]["type"] == "ticket.resolved"
    assert listed[0]["last_status_code"] == 500 and listed[0]["attempts"] == 1
    [attempt] = listed[0]["attempt_log"]
    assert attempt["response_status"] == 500
    assert attempt["request_headers"]["webhook-id"] == delivery.event.message_id
    assert attempt["request_headers"]["webhook-signature"] == "v1,…", "never the signature"
    assert "response_body" not in attempt and "payload" not in listed[0]
    assert detail["attempt_log"][0]["response_body"] == "nope"
    assert detail["payload"]["type"] == "ticket.resolved"
    assert detail["payload"]["data"]["ticket"]["id"] == ticket.pk

    response = admin_api.post(f"/api/deliveries/{delivery.pk}/resend/")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "pending" and response.json()["attempts"] == 0
    run_queued_tasks()

    first, second = receiver.received
    assert first["id"] == second["id"] == delivery.event.message_id
    assert second["verified_by"], "re-signed and verified by standardwebhooks"
    assert json.loads(second["body"]) == detail["payload"]
    body = admin_api.get(f"/api/deliveries/{delivery.pk}/").json()
    assert body["status"] == "done" and body["last_status_code"] == 200
    assert [a["response_status"] for a in body["attempt_log"]] == [200, 500]  # newest first


def test_a_delivery_being_attempted_right_now_cannot_be_resent(admin_api):
    delivery = DeliveryFactory(
        status=OutboxStatus.IN_PROGRESS, locked_until=timezone.now() + timedelta(minutes=1)
    )
    response = admin_api.post(f"/api/deliveries/{delivery.pk}/resend/")
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"


def test_an_unknown_delivery_is_a_404(admin_api):
    assert admin_api.post("/api/deliveries/987654/resend/").status_code == 404
    assert admin_api.get("/api/deliveries/987654/").json()["code"] == "not_found"


def test_deliveries_filter_by_endpoint_status_event_type_message_id_and_time(admin_api):
    crm = EndpointFactory()
    resolved = DeliveryFactory(endpoint=crm, event=EventFactory(type="ticket.resolved"))
    dead = DeliveryFactory(status=OutboxStatus.DEAD, event=EventFactory(type="refund.created"))
    old = DeliveryFactory(endpoint=crm, event=EventFactory(type="refund.created"))
    Delivery.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    AttemptFactory(delivery=dead, response_status=500)

    assert ids(admin_api, {"endpoint": crm.pk}) == [old.pk, resolved.pk]
    assert ids(admin_api, {"status": "dead"}) == [dead.pk]
    assert ids(admin_api, {"event_type": "refund.created"}) == [old.pk, dead.pk]
    assert ids(admin_api, {"message_id": resolved.event.message_id}) == [resolved.pk]
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids(admin_api, {"created_since": since}) == [dead.pk, resolved.pk]


@pytest.mark.parametrize(
    "params", [{"status": "failed"}, {"event_type": "ticket.exploded"}, {"endpoint": "x"}]
)
def test_a_bad_delivery_filter_is_a_400(admin_api, params):
    response = admin_api.get("/api/deliveries/", params)
    assert response.status_code == 400 and set(params) <= set(response.json()["errors"])


def test_deliveries_are_read_only_apart_from_resend(admin_api):
    delivery = DeliveryFactory()
    assert admin_api.post("/api/deliveries/", {}).status_code == 405
    assert admin_api.patch(f"/api/deliveries/{delivery.pk}/", {"status": "done"}).status_code == 405
    assert admin_api.delete(f"/api/deliveries/{delivery.pk}/").status_code == 405
