"""Fuzz the whole API from its own OpenAPI schema with schemathesis 4, as each role: an admin,
an agent and an anonymous caller.

gunicorn serves the test database (committed data: `transaction=True`) on a free loopback port,
and the schemathesis CLI runs against it as a subprocess: every operation gets generated valid
and invalid requests (boundary values, wrong types, NUL bytes, missing headers, unknown methods,
stateful sequences), and any 5xx or any response that the schema does not describe fails the
test. The run's settings are in tests/api/schemathesis.toml; the ids of the seeded rows are
added to them, so half of the generated paths reach real rows instead of 404.

The admin's run is the full one (every operation is theirs: coverage, fuzzing and stateful
phases). The agent's and the anonymous caller's runs are shorter: what they add is the 403s and
401s in front of the same code, and those must be documented, well formed and never a 5xx.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from django.conf import settings
from django.db import connection
from rest_framework.authtoken.models import Token

from tests.factories import (
    AdminFactory,
    AgentFactory,
    AttemptFactory,
    CustomerFactory,
    DeliveryFactory,
    EndpointFactory,
    FulfillmentFactory,
    InboundWebhookFactory,
    MessageFactory,
    NotificationFactory,
    OrderFactory,
    RefundFactory,
    ShopFactory,
    TagFactory,
    TicketFactory,
)

HERE = Path(__file__).parent
VENV_BIN = Path(sys.executable).parent
RUN_TIMEOUT = 240  # seconds; the admin's run takes about a minute on a quiet machine
ROLES = {  # extra `st run` arguments per role (the settings file sets the rest)
    "admin": [],
    "agent": ["--phases", "fuzzing", "--max-examples", "5"],
    "anonymous": ["--phases", "fuzzing", "--max-examples", "2"],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url_for_subprocess() -> str:
    """The database this test runs on, as a URL for the server subprocess."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    return f"postgres://{auth}@{host}:{db.get('PORT') or 5432}/{db['NAME']}"


def seed() -> dict[str, list]:
    """One of everything, so generated ids and names can hit real rows."""
    shop = ShopFactory(domain="bookbag-demo.myshopify.com")
    customer = CustomerFactory(shop=shop, email="ada@example.com")
    order = OrderFactory(customer=customer, name="#1001")
    FulfillmentFactory(order=order)
    RefundFactory(order=order)
    tickets = [
        TicketFactory(customer=customer, order=order, tags=[TagFactory(name="shipping")]),
        TicketFactory(customer=customer, resolved=True),
    ]
    MessageFactory(ticket=tickets[0])
    MessageFactory(ticket=tickets[0], note=True)
    notification = NotificationFactory(customer=customer, ticket=tickets[0])
    # A public address, never contacted: no task worker runs here.
    endpoint = EndpointFactory(url="https://203.0.113.10/hook")
    delivery = DeliveryFactory(endpoint=endpoint)
    AttemptFactory(delivery=delivery, response_status=500)
    inbound = InboundWebhookFactory(shop=shop, status="dead")
    agent = AgentFactory()
    ids = {shop.pk, customer.pk, order.pk, notification.pk, endpoint.pk, delivery.pk, inbound.pk}
    ids |= {agent.pk, *(t.pk for t in tickets)}
    return {"ids": sorted(ids), "tickets": [t.pk for t in tickets]}


def config_file(directory: Path, seeded: dict[str, list]) -> Path:
    path = directory / "schemathesis.toml"
    path.write_text(
        (HERE / "schemathesis.toml").read_text()
        + f"""
[dictionaries.ids]
values = {seeded["ids"]}

[dictionaries.tickets]
values = {seeded["tickets"]}

[dictionaries.event_types]
values = ["ticket.resolved", "webhook.test"]

[parameters]
"path.id" = {{ dictionary = "ids", probability = 0.5 }}
"path.ticket_pk" = {{ dictionary = "tickets", probability = 0.5 }}
"path.name" = {{ dictionary = "event_types", probability = 0.5 }}
"""
    )
    return path


def wait_until_up(url: str, server: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"gunicorn exited with {server.returncode}:\n{log.read_text()[-5000:]}")
        try:
            if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer within {timeout} s:\n{log.read_text()[-5000:]}")


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)  # the group this test started: master + workers
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_no_server_error_and_no_schema_violation(tmp_path):
    st = VENV_BIN / "st"
    if not st.exists():
        st = shutil.which("st")
    if not st:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("schemathesis is not installed: pip install -e '.[dev]'")
        pytest.skip("schemathesis is not installed: pip install -e '.[dev]'")
    seeded = seed()
    tokens = {
        "admin": Token.objects.create(user=AdminFactory(username="fuzzer")).key,
        "agent": Token.objects.create(user=AgentFactory(username="fuzzing-agent")).key,
        "anonymous": None,
    }
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_subprocess(),
        "SECRET_KEY": settings.SECRET_KEY,
        "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
        "CACHE_URL": "locmemcache://",
        "API_THROTTLE_RATE": "100000/minute",  # the fuzzer is fast; 429s are tested elsewhere
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "ERROR",
    }
    env.pop("REDIS_URL", None)  # nothing is enqueued to a worker here
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "bookbag.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", "2", "--timeout", "60"],
            cwd=settings.BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    config = config_file(tmp_path, seeded)
    failures = []
    try:
        wait_until_up(url, server, log)
        for role, extra in ROLES.items():
            auth = ["--header", f"Authorization: Token {tokens[role]}"] if tokens[role] else []
            started = time.monotonic()
            result = subprocess.run(
                [str(st), "--config-file", str(config), "run", f"{url}/api/schema/", *auth,
                 *extra, "--no-color"],
                cwd=tmp_path, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False,
            )  # fmt: skip
            elapsed = time.monotonic() - started
            output = result.stdout + result.stderr
            (tmp_path / f"schemathesis-{role}.out").write_text(output)
            if result.returncode != 0:
                failures.append(f"as {role}, after {elapsed:.0f} s:\n{output[-12_000:]}")
    finally:
        stop(server)
    assert not failures, "schemathesis failed " + "\n\n".join(failures)
