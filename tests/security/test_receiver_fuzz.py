"""Hostile input at the Shopify receiver: whatever arrives, no 5xx, and nothing is stored
without a valid signature. Random bodies and headers, headers in any encoding a WSGI server can
hand over, invalid UTF-8, empty and huge bodies, JSON bombs, and byte-level mutations of real
Shopify payloads (what a coverage-guided fuzzer would try; tests/security/atheris_receiver.py
runs one). Memory bounds (Content-Length, chunked bodies) are in test_receiver_body_limits.py.
"""

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.models import InboundWebhook, Shop
from integrations.shopify.verification import sign
from tests.integrations.shopify import fixture_bytes

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
    body: bytes,
    *,
    topic="orders/create",
    domain="fuzz.myshopify.com",
    webhook_id="x",
    hmac=None,
    **extra,
):
    """POST as Shopify would; `hmac` None means a valid signature of `body`."""
    headers = {
        "HTTP_X_SHOPIFY_TOPIC": topic,
        "HTTP_X_SHOPIFY_SHOP_DOMAIN": domain,
        "HTTP_X_SHOPIFY_WEBHOOK_ID": webhook_id,
        "HTTP_X_SHOPIFY_HMAC_SHA256": sign(SECRET, body) if hmac is None else hmac,
        **extra,
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


# --- Header encodings ---------------------------------------------------------------------------

# A WSGI server hands header values over as latin-1 decoded text: any byte but CR, LF and NUL can
# arrive, and UTF-8 arrives as mojibake. (Gunicorn refuses NUL and bare CR/LF itself.)
wire_header = st.one_of(
    st.binary(max_size=300).map(lambda raw: raw.decode("latin-1")),
    st.text(max_size=100).map(lambda text: text.encode("utf-8", "surrogatepass").decode("latin-1")),
    st.sampled_from(["", " ", "orders/create", "ORDERS/CREATE", "x" * 300, "2026-11-20T15:15:47Z"]),
).map(lambda value: value.replace("\r", "").replace("\n", "").replace("\x00", ""))
SHOPIFY_HEADERS = (
    "HTTP_X_SHOPIFY_API_VERSION", "HTTP_X_SHOPIFY_EVENT_ID", "HTTP_X_SHOPIFY_TRIGGERED_AT",
    "HTTP_X_SHOPIFY_NAME", "HTTP_SHOPIFY_TOPIC", "HTTP_SHOPIFY_WEBHOOK_ID",
)  # fmt: skip


@FUZZ
@given(
    topic=wire_header,
    webhook_id=wire_header,
    others=st.fixed_dictionaries({name: wire_header for name in SHOPIFY_HEADERS}),
)
def test_a_signed_body_with_headers_in_any_encoding_is_stored_or_refused_never_crashes(
    shop, topic, webhook_id, others
):
    body = fixture_bytes("orders/create")
    before = InboundWebhook.objects.count()
    # Ids made unique per example (a repeat would be a duplicate: 200, stored once already).
    unique = f"~{before}"
    webhook_id += unique
    for name in ("HTTP_X_SHOPIFY_EVENT_ID", "HTTP_SHOPIFY_WEBHOOK_ID"):
        others[name] += unique

    status = post(body, topic=topic, webhook_id=webhook_id, **others)

    assert status in (200, 400, 401), status
    stored = InboundWebhook.objects.count() - before
    assert stored == (1 if status == 200 else 0)


@FUZZ
@given(domain=wire_header, hmac=wire_header)
def test_a_shop_domain_or_signature_in_any_encoding_is_refused_and_nothing_stored(
    shop, domain, hmac
):
    status = post(fixture_bytes("orders/create"), domain=domain, hmac=hmac, webhook_id="enc")

    assert status in (400, 401), status
    assert not InboundWebhook.objects.exists()


# --- Invalid UTF-8, empty and huge bodies -------------------------------------------------------

INVALID_UTF8 = [
    b"\xff", b"\xfe\xff", b"\x80", b"\xc3\x28", b"\xc0\xaf", b"\xe0\x80\xaf",
    b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xf8\x88\x80\x80\x80", b"\xc3",
]  # fmt: skip


@FUZZ
@given(
    where=st.integers(min_value=0, max_value=10_000),
    bad=st.lists(st.sampled_from(INVALID_UTF8), min_size=1, max_size=3),
)
def test_signed_json_with_invalid_utf8_inside_a_string_is_refused_and_not_stored(shop, where, bad):
    body = fixture_bytes("orders/create")
    quotes = [i for i, byte in enumerate(body) if byte == ord('"')]
    at = quotes[where % len(quotes)] + 1  # just inside a string
    mutated = body[:at] + b"".join(bad) + body[at:]

    status = post(mutated, webhook_id=f"utf8-{where}")

    assert status == 400
    assert not InboundWebhook.objects.exists()


def test_an_empty_body_is_refused_signed_or_not(shop):
    assert post(b"", webhook_id="empty") == 400  # signed: an empty body is not a JSON object
    assert post(b"", webhook_id="empty", hmac="") == 401
    assert post(b"", webhook_id="empty", hmac="Zm9yZ2Vk") == 401
    assert not InboundWebhook.objects.exists()


def test_a_body_in_utf16_or_with_a_bom_is_refused(shop):
    body = fixture_bytes("orders/create")
    for encoded in (body.decode().encode("utf-16"), b"\xef\xbb\xbf" + body):
        assert post(encoded, webhook_id="bom") == 400
    assert not InboundWebhook.objects.exists()


def test_a_big_but_allowed_body_is_stored_whole(shop, settings):
    payload = json.loads(fixture_bytes("orders/create"))
    payload["note"] = "x" * (settings.SHOPIFY_WEBHOOK_MAX_BYTES - len(json.dumps(payload)) - 50)
    body = json.dumps(payload).encode()
    assert len(body) <= settings.SHOPIFY_WEBHOOK_MAX_BYTES

    assert post(body, webhook_id="big") == 200
    assert bytes(InboundWebhook.objects.get(webhook_id="big").body) == body


def test_a_signed_body_one_byte_over_the_limit_is_refused_with_413(shop, settings):
    body = b'{"note": "' + b"x" * settings.SHOPIFY_WEBHOOK_MAX_BYTES + b'"}'

    assert post(body, webhook_id="over") == 413
    assert not InboundWebhook.objects.exists()


# --- JSON bombs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"total_price": 1e400}',  # parses to inf: jsonb and the worker would refuse it later
        b'{"total_price": -1e999999}',
        b'{"id": 1' + b"0" * 5000 + b"}",  # over Python's 4,300-digit int limit
        b'{"a": ' * 65 + b"1" + b"}" * 65,  # just over the nesting limit
        b'{"id": NaN}',
        b'{"id": Infinity}',
        b'{"note": "\\u0000"}',
        b'{"a": 1, "a": ' + b"[" * 200_000,  # unterminated, deep
    ],
    ids=["inf", "-inf", "5000-digit int", "nesting 65", "NaN", "Infinity", "NUL escape", "open"],
)
def test_json_bombs_and_values_no_database_can_store_are_refused(shop, body):
    assert post(body, webhook_id="bomb") == 400
    assert not InboundWebhook.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        b'{"a": ' * 60 + b"1" + b"}" * 60,  # deep, but within the limit
        b'{"ids": [' + b",".join(b"%d" % i for i in range(100_000)) + b"]}",
        b"{" + b",".join(b'"k%d": %d' % (i, i) for i in range(50_000)) + b"}",  # wide
        b'{"tiny": 1e-400, "big": 1.7976931348623157e308}',
    ],
    ids=["nesting 60", "100k numbers", "50k keys", "float extremes"],
)
def test_large_but_well_formed_json_objects_are_accepted(shop, body, run_queued_tasks):
    assert post(body, webhook_id="large") == 200
    run_queued_tasks()  # processing records a failure on the row, never raises
    assert InboundWebhook.objects.get(webhook_id="large").status in ("done", "dead", "pending")


# --- Mutations of real payloads -----------------------------------------------------------------

REAL_PAYLOADS = ["orders/create", "fulfillments/create", "refunds/create", "customers/update"]
mutation = st.tuples(
    st.sampled_from(["flip", "insert", "delete", "truncate"]),
    st.integers(min_value=0, max_value=100_000),
    st.binary(min_size=1, max_size=4),
)


def mutate(body: bytes, mutations) -> bytes:
    for op, position, data in mutations:
        at = position % (len(body) + 1)
        if op == "flip" and body:
            at %= len(body)
            body = body[:at] + bytes([body[at] ^ data[0]]) + body[at + 1 :]
        elif op == "insert":
            body = body[:at] + data + body[at:]
        elif op == "delete":
            body = body[:at] + body[at + len(data) :]
        else:
            body = body[:at]
    return body


@FUZZ
@given(topic=st.sampled_from(REAL_PAYLOADS), mutations=st.lists(mutation, min_size=1, max_size=6))
def test_signed_mutations_of_real_payloads_are_stored_exactly_or_refused(
    shop, topic, mutations, run_queued_tasks
):
    body = mutate(fixture_bytes(topic), mutations)
    webhook_id = f"m-{InboundWebhook.objects.count()}"

    status = post(body, topic=topic, webhook_id=webhook_id)
    run_queued_tasks()

    assert status in (200, 400), status
    row = InboundWebhook.objects.filter(webhook_id=webhook_id).first()
    if status == 200:
        assert bytes(row.body) == body
        assert row.status in ("done", "dead", "pending", "ignored")
    else:
        assert row is None
