"""SSRF through endpoint URLs: an admin (or a stolen admin token) types a URL that points inside
the network. Every spelling of a non-public address — and every DNS name that resolves to one —
is refused when the endpoint is saved (API and Django admin) and again at every send, where a
name that changed its answer since (DNS rebinding) and a redirect are refused too.

The guard itself is unit-tested in tests/webhooks/test_ssrf.py; here it is driven through the
real URLs and the real delivery task."""

import socket

import pytest
from django.test import Client
from pytest_httpserver import HTTPServer
from werkzeug import Response

from tests.api.conftest import token_client
from tests.factories import AdminFactory, new_whsec
from tickets import services as tickets
from webhooks.models import Attempt, Delivery, Endpoint
from webhooks.transport import PinnedAdapter

pytestmark = pytest.mark.django_db

REAL_GETADDRINFO = socket.getaddrinfo

# (host as typed, what a name resolves to (None: an address), the words of the refusal)
HOSTILE = [
    ("127.0.0.1", None, "loopback"),
    ("127.1", None, "loopback"),  # the short form
    ("localhost", None, "loopback"),
    ("[::1]", None, "loopback"),
    ("10.1.2.3", None, "private"),
    ("172.16.5.4", None, "private"),
    ("192.168.0.10", None, "private"),
    ("169.254.169.254", None, "link-local"),  # the cloud metadata service
    ("100.100.100.200", None, "carrier-grade NAT"),  # Alibaba's metadata service
    ("[fd00:ec2::254]", None, "private"),  # AWS's IPv6 metadata service, in fc00::/7
    ("[fc00::1]", None, "private"),
    ("[fe80::1]", None, "link-local"),
    ("[::ffff:127.0.0.1]", None, "IPv4-mapped"),
    ("[::ffff:169.254.169.254]", None, "IPv4-mapped"),
    ("[0:0:0:0:0:ffff:7f00:1]", None, "IPv4-mapped"),
    ("2130706433", None, "loopback"),  # 127.0.0.1 as one decimal number
    ("2852039166", None, "link-local"),  # 169.254.169.254 as one decimal number
    ("0177.0.0.1", None, "loopback"),  # octal
    ("0251.0376.0251.0376", None, "link-local"),  # 169.254.169.254 in octal
    ("0x7f000001", None, "loopback"),  # hexadecimal
    ("metadata.attacker.test", ["169.254.169.254"], "link-local"),
    ("intranet.attacker.test", ["10.0.0.7"], "private"),
    ("mixed.attacker.test", ["93.184.215.14", "192.168.1.1"], "private"),  # one bad is enough
    ("six.attacker.test", ["fd12:3456::1"], "private"),
    ("loop6.attacker.test", ["::1"], "loopback"),
    ("mapped.attacker.test", ["::ffff:10.0.0.1"], "IPv4-mapped"),
]
IDS = [host for host, _, _ in HOSTILE]


@pytest.fixture
def dns(monkeypatch):
    """Names in the dict resolve to the given addresses; everything else resolves for real."""
    answers: dict[str, list[str]] = {}

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return REAL_GETADDRINFO(host, port, *args, **kwargs)
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (a, port, 0, 0))
            if ":" in a
            else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in answers[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.fixture
def strict(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    settings.WEBHOOK_ALLOW_HTTP = False
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture
def admin_api(strict):
    return token_client(AdminFactory())


@pytest.fixture
def no_connection(monkeypatch):
    def send(*args, **kwargs):
        raise AssertionError("a refused destination was connected to")

    monkeypatch.setattr(PinnedAdapter, "send", send)


def refused_for(message: str, why: str) -> bool:
    """The guard's refusal, or (for the all-digit spellings: 2130706433, 0177.0.0.1, 127.1…)
    the URL validation's, which refuses them before the guard is asked; at send, where no
    validator runs, the guard refuses them itself."""
    if message == "Enter a valid URL.":
        return True
    return message.startswith("Refusing to send webhooks to") and why in message


def hostile_url(host: str, answer, dns) -> str:
    if answer is not None:
        dns[host] = answer
    return f"https://{host}/hook"


# --- At save ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("host", "answer", "why"), HOSTILE, ids=IDS)
def test_the_api_refuses_to_register_an_endpoint_inside_the_network(
    admin_api, dns, host, answer, why
):
    response = admin_api.post("/api/webhook-endpoints/", {"url": hostile_url(host, answer, dns)})

    assert response.status_code == 400, response.content
    assert refused_for(" ".join(response.json()["errors"]["url"]), why)
    assert not Endpoint.objects.exists()


def test_the_api_refuses_to_point_an_existing_endpoint_inside_the_network(admin_api, dns):
    dns["hooks.merchant.test"] = ["93.184.215.14"]
    endpoint = Endpoint.objects.create(url="https://hooks.merchant.test/h", secret=new_whsec())

    for host, answer, _ in HOSTILE:
        url = hostile_url(host, answer, dns)
        response = admin_api.patch(f"/api/webhook-endpoints/{endpoint.pk}/", {"url": url})
        assert response.status_code == 400, (host, response.content)

    endpoint.refresh_from_db()
    assert endpoint.url == "https://hooks.merchant.test/h"


@pytest.mark.parametrize(("host", "answer", "why"), HOSTILE, ids=IDS)
def test_the_admin_refuses_to_save_an_endpoint_inside_the_network(strict, dns, host, answer, why):
    client = Client()
    client.force_login(AdminFactory())

    response = client.post(
        "/admin/webhooks/endpoint/add/",
        {"url": hostile_url(host, answer, dns), "description": "CRM", "max_in_flight": "2",
         "active": "on"},
    )  # fmt: skip

    assert response.status_code == 200  # the form again, with the reason
    errors = response.context["adminform"].form.errors["url"]
    assert refused_for(" ".join(errors), why)
    assert not Endpoint.objects.exists()


# --- At send ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("host", "answer", "why"), HOSTILE, ids=IDS)
def test_a_stored_endpoint_inside_the_network_is_refused_at_send_without_connecting(
    strict, dns, no_connection, ticket, run_queued_tasks, host, answer, why
):
    # Saved before the guard existed, or while WEBHOOK_ALLOWED_HOSTS allowed it.
    Endpoint.objects.create(url=hostile_url(host, answer, dns), secret=new_whsec())

    tickets.resolve(ticket=ticket)
    run_queued_tasks()

    attempts = list(Attempt.objects.all())
    assert attempts
    for attempt in attempts:
        assert attempt.response_status is None
        assert attempt.error.startswith("Refusing to send webhooks to") and why in attempt.error


def test_a_name_that_resolves_elsewhere_after_saving_is_refused_at_send(
    settings, dns, ticket, run_queued_tasks, httpserver: HTTPServer
):
    """DNS rebinding: public when saved, 127.0.0.1 (where a real server listens) when sent."""
    settings.WEBHOOK_ALLOWED_HOSTS = []
    settings.WEBHOOK_ALLOW_HTTP = True
    httpserver.expect_request("/hook").respond_with_data("the internal service answered")
    dns["rebind.attacker.test"] = ["93.184.215.14"]
    admin = token_client(AdminFactory())
    url = f"http://rebind.attacker.test:{httpserver.port}/hook"
    assert admin.post("/api/webhook-endpoints/", {"url": url}).status_code == 201

    dns["rebind.attacker.test"] = ["127.0.0.1"]
    tickets.resolve(ticket=ticket)
    run_queued_tasks()

    assert httpserver.log == []
    attempts = list(Attempt.objects.all())
    assert attempts
    for attempt in attempts:
        assert "resolves to 127.0.0.1, which is a loopback address" in attempt.error


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize(
    "target", ["http://169.254.169.254/latest/meta-data/", "internal", "http://[::1]/"]
)
def test_a_redirect_towards_the_network_is_not_followed(
    loopback_allowed, receiver, endpoint, ticket, run_queued_tasks, status, target
):
    """The merchant's endpoint (allowed here: it is on loopback in tests) answers with a redirect
    to the metadata service or to another internal server: Bookbag does not follow it."""
    endpoint.event_types = ["ticket.resolved"]
    endpoint.save(update_fields=["event_types"])
    internal = HTTPServer(host="127.0.0.1", port=0)
    internal.expect_request("/").respond_with_data("secrets of the internal network")
    internal.start()
    try:
        location = internal.url_for("/") if target == "internal" else target
        receiver.script = [Response("", status=status, headers={"Location": location})]

        tickets.resolve(ticket=ticket)
        run_queued_tasks()

        assert internal.log == []
    finally:
        internal.stop()
    assert len(receiver.received) == 1
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.last_status_code == status and delivery.status == "pending"  # retried later
