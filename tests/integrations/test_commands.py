"""The command-line tools: sign-and-send like Shopify, and replay stored webhooks."""

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core.management import CommandError, call_command

from bookbag.core.models import OutboxStatus
from integrations.models import InboundWebhook, Order
from integrations.shopify.verification import verify
from tests.integrations.shopify import FIXTURES, fixture

pytestmark = pytest.mark.django_db


class Recorder(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Recorder.received.append((dict(self.headers), body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def loopback_receiver():
    Recorder.received = []
    server = HTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/webhooks/shopify/", Recorder.received
    server.shutdown()


def test_send_shopify_webhook_signs_the_file_as_shopify_would(shop, loopback_receiver):
    url, received = loopback_receiver
    path = FIXTURES / "orders__create.json"

    call_command(
        "send_shopify_webhook", str(path), shop=shop.domain, topic="orders/create", url=url
    )

    headers, body = received[0]
    assert body == path.read_bytes()
    assert headers["X-Shopify-Topic"] == "orders/create"
    assert headers["X-Shopify-Shop-Domain"] == shop.domain
    assert verify([shop.webhook_secret], body, headers["X-Shopify-Hmac-Sha256"])
    assert headers["X-Shopify-Webhook-Id"]


def test_send_shopify_webhook_explains_an_unknown_shop(shop):
    with pytest.raises(CommandError, match="no shop"):
        call_command(
            "send_shopify_webhook", str(FIXTURES / "orders__create.json"),
            shop="nobody.myshopify.com", topic="orders/create",
        )  # fmt: skip


@pytest.mark.queue
def test_replay_reprocesses_dead_events_after_a_fix(deliver, capsys):
    bad = fixture("orders/create")
    bad["id"] = "not-a-number"
    row = deliver("orders/create", bad)
    assert row.status == OutboxStatus.DEAD
    # The fix: here, the stored body is corrected (as a code fix would make it parse).
    InboundWebhook.objects.filter(pk=row.pk).update(
        body=(FIXTURES / "orders__create.json").read_bytes()
    )

    call_command("replay_webhooks", "--status", "dead")

    row.refresh_from_db()
    assert row.status == OutboxStatus.DONE and Order.objects.count() == 1
    out = capsys.readouterr().out
    assert "1 webhook(s) to reprocess" in out and "done: 1" in out


@pytest.mark.queue
def test_replay_dry_run_changes_nothing(deliver, capsys):
    deliver("orders/create")

    call_command("replay_webhooks", "--status", "done", "--topic", "orders/create", "--dry-run")

    assert "1 webhook(s) to reprocess" in capsys.readouterr().out
    assert InboundWebhook.objects.get().status == OutboxStatus.DONE
