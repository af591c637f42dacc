"""/api/webhook-endpoints/ for admins: register, read (secret masked), change, disable and
enable, rotate the secret, send a test event, delete. The secret handed out once is the one that
signs: a real receiver on loopback verifies what it gets with standardwebhooks."""

import json

import pytest

from tests.factories import EndpointFactory
from tests.webhooks.conftest import Receiver
from webhooks.models import Delivery, Endpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook(loopback_allowed, httpserver):
    """A receiver that knows no secret yet: each test gives it the one the API handed out."""
    return Receiver(httpserver, [])


def register(admin_api, url: str, **extra) -> dict:
    response = admin_api.post("/api/webhook-endpoints/", {"url": url, **extra})
    assert response.status_code == 201, response.content
    return response.json()


@pytest.mark.queue
def test_the_secret_returned_on_create_signs_the_test_event(admin_api, hook, run_queued_tasks):
    created = register(
        admin_api, hook.url, description="CRM", event_types=["ticket.resolved", "ticket.created"]
    )
    assert created["secret"].startswith("whsec_")
    assert created["event_types"] == ["ticket.created", "ticket.resolved"]
    assert created["active"] is True and created["max_in_flight"] == 2
    hook.secrets.append(created["secret"])

    response = admin_api.post(f"/api/webhook-endpoints/{created['id']}/test/")
    run_queued_tasks()

    assert response.status_code == 202, response.content
    delivery = response.json()
    assert delivery["event"]["type"] == "webhook.test" and delivery["status"] == "pending"
    assert delivery["payload"]["data"] == {"message": "Test event from Bookbag",
                                           "endpoint": hook.url}  # fmt: skip
    [got] = hook.received
    assert got["verified_by"] == [created["secret"]]
    assert got["id"] == delivery["event"]["message_id"]
    assert json.loads(got["body"])["type"] == "webhook.test"
    assert Delivery.objects.get(pk=delivery["id"]).status == "done"


@pytest.mark.parametrize("path", ["/api/webhook-endpoints/", "/api/webhook-endpoints"])
def test_the_location_of_a_new_endpoint_is_its_own_url(admin_api, hook, path):
    response = admin_api.post(path, {"url": hook.url})
    location = response["Location"]
    assert location == f"http://testserver/api/webhook-endpoints/{response.json()['id']}/"
    assert admin_api.get(location).json()["url"] == hook.url


def test_the_secret_is_never_shown_again(admin_api, hook):
    created = register(admin_api, hook.url)
    secret = created["secret"]

    listed = admin_api.get("/api/webhook-endpoints/").json()["results"]
    one = admin_api.get(f"/api/webhook-endpoints/{created['id']}/").json()
    patched = admin_api.patch(
        f"/api/webhook-endpoints/{created['id']}/", {"description": "ERP"}
    ).json()

    for shown in (listed[0], one, patched):
        assert "secret" not in shown
        assert secret not in json.dumps(shown)
        assert shown["secret_hint"] == f"whsec_…{secret[-4:]}"


@pytest.mark.queue
def test_rotate_secret_returns_the_new_secret_once_and_both_sign_for_a_day(
    admin_api, hook, run_queued_tasks
):
    created = register(admin_api, hook.url)
    url = f"/api/webhook-endpoints/{created['id']}/"

    rotated = admin_api.post(f"{url}rotate-secret/")

    assert rotated.status_code == 200, rotated.content
    new = rotated.json()["secret"]
    assert new.startswith("whsec_") and new != created["secret"]
    assert rotated.json()["previous_secret_expires_at"] is not None
    assert "secret" not in admin_api.get(url).json()
    assert admin_api.get(url).json()["secret_hint"] == f"whsec_…{new[-4:]}"

    hook.secrets.extend([created["secret"], new])
    admin_api.post(f"{url}test/")
    run_queued_tasks()
    [got] = hook.received
    assert set(got["verified_by"]) == {created["secret"], new}, "old and new both sign"


def test_an_endpoint_is_changed_disabled_and_enabled(admin, admin_api, hook):
    created = register(admin_api, hook.url)
    url = f"/api/webhook-endpoints/{created['id']}/"

    changed = admin_api.patch(
        url, {"description": "ERP", "event_types": ["refund.created"], "max_in_flight": 5}
    ).json()
    assert (changed["description"], changed["event_types"], changed["max_in_flight"]) == (
        "ERP", ["refund.created"], 5,
    )  # fmt: skip

    disabled = admin_api.patch(url, {"active": False}).json()
    assert disabled["active"] is False
    assert disabled["disabled_reason"] == f"Disabled by {admin.username} (API)."

    enabled = admin_api.patch(url, {"active": True}).json()
    assert enabled["active"] is True and enabled["disabled_reason"] == ""


def test_deleting_an_endpoint_removes_it_and_its_delivery_log(admin_api, hook):
    created = register(admin_api, hook.url)
    admin_api.post(f"/api/webhook-endpoints/{created['id']}/test/")

    response = admin_api.delete(f"/api/webhook-endpoints/{created['id']}/")

    assert response.status_code == 204
    assert not Endpoint.objects.exists() and not Delivery.objects.exists()
    assert admin_api.get(f"/api/webhook-endpoints/{created['id']}/").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://0177.0.0.1/hook",
        "https://2130706433/hook",
        "https://100.64.0.1/hook",
        "http://8.8.8.8/hook",  # not https
        "ftp://8.8.8.8/hook",
        "not a url",
    ],
)
def test_a_private_or_non_https_url_is_refused_with_a_400_naming_the_field(admin_api, url):
    response = admin_api.post("/api/webhook-endpoints/", {"url": url})

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid" and body["errors"]["url"], body
    assert not Endpoint.objects.exists()


def test_changing_the_url_to_a_private_address_is_refused_too(admin_api):
    endpoint = EndpointFactory(url="https://8.8.8.8/hook")
    response = admin_api.patch(
        f"/api/webhook-endpoints/{endpoint.pk}/", {"url": "https://192.168.1.10/hook"}
    )
    assert response.status_code == 400 and response.json()["errors"]["url"]
    endpoint.refresh_from_db()
    assert endpoint.url == "https://8.8.8.8/hook"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "https://8.8.8.8/h", "event_types": ["ticket.exploded"]}, "event_types.0"),
        ({"url": "https://8.8.8.8/h", "max_in_flight": 0}, "max_in_flight"),
        ({"url": "https://8.8.8.8/h", "max_in_flight": 21}, "max_in_flight"),
        ({"url": "https://8.8.8.8/h", "description": "x" * 256}, "description"),
        ({"description": "no url"}, "url"),
    ],
)
def test_invalid_endpoint_input_is_a_400_naming_the_field(admin_api, body, field):
    response = admin_api.post("/api/webhook-endpoints/", body)
    assert response.status_code == 400 and field in response.json()["errors"]


@pytest.mark.queue
def test_a_disabled_endpoint_holds_its_test_event_until_enabled(admin_api, hook, run_queued_tasks):
    created = register(admin_api, hook.url)
    hook.secrets.append(created["secret"])
    url = f"/api/webhook-endpoints/{created['id']}/"
    admin_api.patch(url, {"active": False})

    response = admin_api.post(f"{url}test/")
    run_queued_tasks()

    assert response.status_code == 202
    assert hook.received == []
    delivery = Delivery.objects.get(pk=response.json()["id"])
    assert delivery.status == "pending" and delivery.next_attempt_at is None  # held

    admin_api.patch(url, {"active": True})
    run_queued_tasks()

    [got] = hook.received
    assert got["verified_by"] and got["id"] == delivery.event.message_id
