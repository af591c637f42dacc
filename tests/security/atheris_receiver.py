"""Coverage-guided fuzzing of the Shopify receiver with atheris (libFuzzer), one process.

Run by tests/security/test_receiver_atheris.py against its test database (DATABASE_URL and the
shop it seeded: FUZZ_SHOP_DOMAIN, FUZZ_SHOP_SECRET); the corpus starts from the captured Shopify
payloads. An input is one flags byte and a body: the flags choose the topic and whether the body
is signed with the shop's secret. Every input goes through the real URL and middleware, and then
processing runs as a worker would. Any of these is a crash (libFuzzer stops, exits non-zero and
writes the input out):
- a 5xx or an exception out of the request or the task;
- a row stored for a body without a valid signature, or a stored body not byte-identical.

    python tests/security/atheris_receiver.py -runs=2000 -max_total_time=60 CORPUS_DIR
"""

import os
import sys
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bookbag.settings")

# Not app/uninstalled nor shop/redact: after either, the shop refuses everything but compliance
# topics, and the rest of the run would test nothing.
# Instrument what the receiver runs: branch coverage guides the mutations.
with atheris.instrument_imports(include=["integrations", "bookbag.core.json"]):
    import django

    django.setup()
    import integrations.services
    import integrations.shopify.handlers.registry
    import integrations.shopify.receiver  # noqa: F401

from django.test import Client  # noqa: E402

from integrations.models import InboundWebhook  # noqa: E402
from integrations.shopify.verification import sign  # noqa: E402
from tests.queue import run_queued_tasks  # noqa: E402

TOPICS = [
    "orders/create", "orders/updated", "orders/paid", "orders/cancelled", "orders/fulfilled",
    "fulfillments/create", "fulfillments/update", "fulfillment_events/create", "refunds/create",
    "customers/create", "customers/update", "orders/risk_assessment_changed",
    "customers/redact", "customers/data_request", "products/update",
]  # fmt: skip
DOMAIN = os.environ["FUZZ_SHOP_DOMAIN"]
SECRET = os.environ["FUZZ_SHOP_SECRET"]
client = Client()
counter = iter(range(10**9))


def one_input(data: bytes) -> None:
    if not data:
        return
    flags, body = data[0], data[1:]
    signed = flags & 0x80
    topic = TOPICS[flags % len(TOPICS)]
    webhook_id = f"atheris-{next(counter)}"
    before = InboundWebhook.objects.count()

    response = client.post(
        "/webhooks/shopify/",
        data=body,
        content_type="application/json",
        HTTP_X_SHOPIFY_TOPIC=topic,
        HTTP_X_SHOPIFY_SHOP_DOMAIN=DOMAIN,
        HTTP_X_SHOPIFY_WEBHOOK_ID=webhook_id,
        HTTP_X_SHOPIFY_HMAC_SHA256=sign(SECRET if signed else "not-the-secret", body),
    )
    run_queued_tasks()  # handler errors are recorded on the row; anything raised is a crash

    if response.status_code >= 500:
        raise RuntimeError(f"{response.status_code} for {topic}: {response.content[:300]!r}")
    row = InboundWebhook.objects.filter(webhook_id=webhook_id).first()
    if not signed and (row is not None or InboundWebhook.objects.count() != before):
        raise RuntimeError(f"stored without a valid signature ({response.status_code})")
    if row is not None and topic != "customers/redact" and bytes(row.body) != body:
        raise RuntimeError("the stored body is not the body received")


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
