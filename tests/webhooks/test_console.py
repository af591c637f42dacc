"""The endpoint console in Django admin, as an admin uses it, against a real receiver on loopback
that verifies every delivery with standardwebhooks."""

import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from bookbag.core.models import OutboxStatus
from tests.webhooks.conftest import Receiver
from tickets import services as tickets
from webhooks.models import Delivery, Endpoint

pytestmark = [pytest.mark.django_db, pytest.mark.queue]

SECRET = re.compile(r"whsec_[A-Za-z0-9+/]+=*")


def messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def form(endpoint: Endpoint | None = None, **changes) -> dict:
    """The endpoint form as the browser posts it."""
    data = {
        "url": endpoint.url if endpoint else "",
        "description": endpoint.description if endpoint else "",
        "event_types": list(endpoint.event_types) if endpoint else [],
        "max_in_flight": endpoint.max_in_flight if endpoint else 2,
        "active": "on" if endpoint is None or endpoint.active else "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v not in ("", None)}


def action(admin_client, name: str, endpoint: Endpoint, **extra):
    return admin_client.post(
        reverse("admin:webhooks_endpoint_changelist"),
        {"action": name, "_selected_action": [endpoint.pk], **extra},
        follow=True,
    )


def test_a_new_endpoint_shows_its_secret_once_and_that_secret_verifies_its_deliveries(
    admin_client, httpserver, loopback_allowed, ticket, run_queued_tasks
):
    receiver = Receiver(httpserver, [])

    response = admin_client.post(
        reverse("admin:webhooks_endpoint_add"),
        form(url=receiver.url, description="CRM", event_types=["ticket.resolved"]),
        follow=True,
    )

    shown = [m for m in messages(response) if "whsec_" in m]
    assert len(shown) == 1 and "will not be shown again" in shown[0]
    secret = SECRET.search(shown[0]).group()
    endpoint = Endpoint.objects.get()
    assert (
        secret
        not in admin_client.get(
            reverse("admin:webhooks_endpoint_change", args=[endpoint.pk])
        ).content.decode()
    )

    receiver.secrets.append(secret)
    tickets.resolve(ticket=ticket)
    run_queued_tasks()

    assert [json.loads(r["body"])["type"] for r in receiver.received] == ["ticket.resolved"]
    assert receiver.received[0]["verified_by"] == [secret]


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://localhost/hook",  # a name that resolves to loopback
    ],
)
def test_the_console_refuses_a_private_destination_unless_allowed(admin_client, settings, url):
    settings.WEBHOOK_ALLOWED_HOSTS = []

    response = admin_client.post(reverse("admin:webhooks_endpoint_add"), form(url=url))

    assert response.status_code == 200  # the form again, with the reason
    assert "Refusing to send webhooks to" in response.content.decode()
    assert not Endpoint.objects.exists()

    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.0/8", "10.0.0.0/8", "169.254.169.254", "localhost"]
    response = admin_client.post(reverse("admin:webhooks_endpoint_add"), form(url=url))
    assert response.status_code == 302 and Endpoint.objects.filter(url=url).exists()


def test_resend_everything_failed_since_a_time_resends_only_those_with_their_ids(
    admin_client, endpoint, receiver, ticket, run_queued_tasks
):
    endpoint.event_types = ["ticket.resolved", "ticket.reopened"]
    endpoint.save()
    receiver.script = [500, 500, 500, 200]
    for change in (tickets.resolve, tickets.reopen, tickets.resolve, tickets.reopen):
        change(ticket=ticket)
    run_queued_tasks()
    before, dead, retrying, delivered = Delivery.objects.select_related("event").order_by("id")
    since = timezone.now() - timedelta(hours=1)
    Delivery.objects.filter(pk=before.pk).update(created_at=since - timedelta(minutes=1))
    Delivery.objects.filter(pk=dead.pk).update(status=OutboxStatus.DEAD, next_attempt_at=None)
    assert (retrying.status, retrying.attempts) == (OutboxStatus.PENDING, 1)
    assert delivered.status == OutboxStatus.DONE
    receiver.received.clear()

    asked = action(admin_client, "resend_failed_since", endpoint)
    assert "Resend every failed delivery" in asked.content.decode()  # it asks for the time first
    response = action(
        admin_client, "resend_failed_since", endpoint, since=since.strftime("%Y-%m-%d %H:%M:%S")
    )
    run_queued_tasks()

    assert messages(response) == ["2 failed deliveries queued to be sent again."]
    assert sorted(r["id"] for r in receiver.received) == sorted(
        d.event.message_id for d in (dead, retrying)
    )
    assert all(r["verified_by"] for r in receiver.received)
    assert Delivery.objects.get(pk=before.pk).status == OutboxStatus.PENDING, "before T: left"


def test_rotating_in_the_console_shows_the_new_secret_once_and_both_sign_meanwhile(
    admin_client, endpoint_and_secret, ticket, run_queued_tasks
):
    endpoint, old, receiver = endpoint_and_secret

    response = action(admin_client, "rotate", endpoint)

    new = SECRET.search(next(m for m in messages(response) if "New secret" in m)).group()
    assert new != old
    receiver.secrets.append(new)
    tickets.resolve(ticket=ticket)
    run_queued_tasks()
    assert receiver.received
    assert all(set(r["verified_by"]) == {old, new} for r in receiver.received)


def test_disabling_in_the_console_holds_deliveries_and_enabling_sends_them(
    admin_client, endpoint, receiver, ticket, run_queued_tasks
):
    change = reverse("admin:webhooks_endpoint_change", args=[endpoint.pk])
    admin_client.post(change, form(endpoint, active=""))
    endpoint.refresh_from_db()
    assert not endpoint.active and "Disabled by" in endpoint.disabled_reason

    tickets.resolve(ticket=ticket)
    run_queued_tasks()
    held = Delivery.objects.count()
    assert held and receiver.received == [], "recorded, not sent"

    response = admin_client.post(change, form(endpoint, active="on"), follow=True)
    run_queued_tasks()

    assert f"Enabled; {held} held deliveries queued to be sent." in messages(response)
    assert len(receiver.received) == held and all(r["verified_by"] for r in receiver.received)


def test_send_test_event_reaches_the_endpoint_signed(
    admin_client, endpoint, receiver, run_queued_tasks
):
    action(admin_client, "send_test", endpoint)
    run_queued_tasks()

    assert [json.loads(r["body"])["type"] for r in receiver.received] == ["webhook.test"]
    assert receiver.received[0]["verified_by"]
