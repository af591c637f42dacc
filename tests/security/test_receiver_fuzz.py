"""Hostile input at the Shopify receiver: whatever arrives, no 5xx, and nothing is stored
without a valid signature."""

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.models import InboundWebhook, Shop
from integrations.shopify.verification import sign

pytestmark = pytest.mark.django_db

SECRET = "fuzz-secret"
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
header_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x00"),
    max_size=80,
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    scalars,
    lambda kids: st.lists(kids, max_size=4)
    | st.dictionaries(st.text(max_size=8), kids, max_size=4),
    max_leaves=20,
)
TOPICS = [
    "orders/create",
    "orders/updated",
    "fulfillments/create",
    "refunds/create",
    "customers/update",
    "fulfillment_events/create",
    "orders/risk_assessment_changed",
    "customers/redact",
]


@pytest.fixture
def shop(db):
    return Shop.objects.create(domain="fuzz.myshopify.com", webhook_secret=SECRET)


def post(
    body: bytes, *, topic="orders/create", domain="fuzz.myshopify.com", webhook_id="x", hmac=None
):
    """POST as Shopify would; `hmac` None means a valid signature of `body`."""
    headers = {
        "HTTP_X_SHOPIFY_TOPIC": topic,
        "HTTP_X_SHOPIFY_SHOP_DOMAIN": domain,
        "HTTP_X_SHOPIFY_WEBHOOK_ID": webhook_id,
        "HTTP_X_SHOPIFY_HMAC_SHA256": sign(SECRET, body) if hmac is None else hmac,
    }
    response = Client().post(
        "/webhooks/shopify/", data=body, content_type="application/json", **headers
    )
    return response.status_code


@FUZZ
@given(body=st.binary(max_size=2000), topic=header_text, webhook_id=header_text, hmac=header_text)
def test_unsigned_or_forged_requests_never_crash_and_store_nothing(
    shop, body, topic, webhook_id, hmac
):
    before = InboundWebhook.objects.count()

    status = post(body, topic=topic, webhook_id=webhook_id, hmac=hmac)

    assert status in (400, 401), status
    assert InboundWebhook.objects.count() == before


@FUZZ
@given(body=st.binary(max_size=2000), domain=header_text)
def test_any_shop_domain_header_is_handled(shop, body, domain):
    status = post(body, domain=domain)

    assert status < 500


@FUZZ
@given(body=st.binary(max_size=3000))
def test_signed_garbage_is_refused_with_400_and_not_stored(shop, body):
    try:
        parsed = json.loads(body)
        is_object = isinstance(parsed, dict) and b"\\u0000" not in body and b"NaN" not in body
    except (ValueError, RecursionError):
        is_object = False
    before = InboundWebhook.objects.count()

    status = post(body, webhook_id=f"g-{before}")

    if not is_object:
        assert status == 400 and InboundWebhook.objects.count() == before
    else:
        assert status in (200, 400)


@FUZZ
@given(
    payload=st.dictionaries(st.text(max_size=12), json_values, max_size=8),
    topic=st.sampled_from(TOPICS),
)
def test_signed_json_objects_of_any_shape_are_accepted_and_processing_never_crashes_the_worker(
    shop, payload, topic, run_queued_tasks
):
    body = json.dumps(payload).encode()
    count = InboundWebhook.objects.count()

    status = post(body, topic=topic, webhook_id=f"j-{count}")
    run_queued_tasks()  # a handler error is recorded on the row, never raised out of the task

    assert status in (200, 400)
    if status == 200:
        row = InboundWebhook.objects.get(webhook_id=f"j-{count}")
        assert row.status in ("done", "dead", "pending", "ignored")
        assert bytes(row.body) == body or topic == "customers/redact"  # redaction rewrites it


def test_json_bombs_are_refused_quickly(shop):
    bombs = (
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        b'{"n": 1' + b"0" * 100_000 + b"}",
    )
    for body in bombs:
        assert post(body, webhook_id="bomb") == 400
    assert not InboundWebhook.objects.exists()
