"""Every log line of a piece of work names it: request id, Shopify webhook id, message id."""

import json
import logging

import pytest

from bookbag.core.logcontext import JsonFormatter, current, log_context
from integrations import signals

pytestmark = pytest.mark.django_db


def test_a_json_line_carries_the_context_fields():
    record = logging.LogRecord("bookbag", logging.WARNING, __file__, 1, "hello %s", ("you",), None)

    with log_context(request_id="r-1", webhook_id="w-1", empty=""):
        line = json.loads(JsonFormatter().format(record))

    assert line["message"] == "hello you" and line["level"] == "WARNING"
    assert line["request_id"] == "r-1" and line["webhook_id"] == "w-1"
    assert "empty" not in line
    assert current() == {}, "the context ends with the block"


def test_each_response_names_its_request_id_and_keeps_a_valid_incoming_one(client):
    made = client.get("/healthz")["X-Request-ID"]
    kept = client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")["X-Request-ID"]
    refused = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")["X-Request-ID"]

    assert len(made) == 32 and kept == "abc-123" and refused not in ("", "bad id\nwith newline")


@pytest.mark.queue
def test_processing_a_shopify_webhook_runs_under_its_webhook_id(deliver):
    seen = []
    signals.order_created.connect(
        lambda sender, **kw: seen.append(current()), weak=False, dispatch_uid="log-test"
    )
    try:
        row = deliver("orders/create", webhook_id="wh-logged")
    finally:
        signals.order_created.disconnect(dispatch_uid="log-test")

    assert seen[0]["webhook_id"] == "wh-logged" and seen[0]["topic"] == "orders/create"
    assert row.status == "done"
