import threading

import pytest
from standardwebhooks import Webhook
from werkzeug import Response

from webhooks import services


@pytest.fixture
def loopback_allowed(settings):
    """Tests deliver to a real server on 127.0.0.1: allowed explicitly, as in development."""
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_TIMEOUT = 2.0


class Receiver:
    """A merchant's endpoint: a real HTTP server that verifies every signature on arrival with
    the standardwebhooks package, and answers from a script of statuses."""

    def __init__(self, httpserver, secrets):
        self.httpserver = httpserver
        self.secrets = secrets  # any one of them must verify
        self.received: list[dict] = []
        self.script: list[int | Response] = []
        self.lock = threading.Lock()
        httpserver.expect_request("/hook", method="POST").respond_with_handler(self.handle)

    @property
    def url(self) -> str:
        return self.httpserver.url_for("/hook")

    def handle(self, request):
        body = request.get_data()
        headers = dict(request.headers)
        verified_by = []
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers)
                verified_by.append(secret)
            except Exception:
                continue
        with self.lock:
            self.received.append(
                {"body": body, "headers": headers, "verified_by": verified_by,
                 "id": headers.get("Webhook-Id")}
            )  # fmt: skip
            answer = self.script.pop(0) if self.script else 200
        if isinstance(answer, Response):
            return answer
        if callable(answer):  # a handler of its own: slow, blocking until told, ...
            return answer(request)
        return Response("ok" if answer < 300 else "nope", status=answer)


@pytest.fixture
def ticket(db):
    """A ticket opened before any endpoint exists (so its ticket.created goes nowhere)."""
    from tests.factories import CustomerFactory
    from tickets import services as tickets

    customer = CustomerFactory(email="ada@example.com")
    return tickets.open_ticket(shop=customer.shop, customer=customer, subject="Lost parcel")


@pytest.fixture
def endpoint_and_secret(ticket, loopback_allowed, httpserver, db):
    receiver = Receiver(httpserver, [])
    endpoint, secret = services.create_endpoint(url=receiver.url, description="CRM")
    receiver.secrets.append(secret)
    return endpoint, secret, receiver


@pytest.fixture
def endpoint(endpoint_and_secret):
    return endpoint_and_secret[0]


@pytest.fixture
def receiver(endpoint_and_secret):
    return endpoint_and_secret[2]
