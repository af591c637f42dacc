"""Memory stays bounded at the Shopify receiver whatever a client claims or sends: a body over
SHOPIFY_WEBHOOK_MAX_BYTES is refused with 413 before a byte of it is read, a body without
Content-Length (chunked) is not read at all, and no more than Content-Length is ever read.

The request goes through Django's whole handler and middleware; only the socket is replaced, by
a stream that counts what is read from it (an endless one, for a client that never stops)."""

import pytest
from django.test import Client

from integrations.models import InboundWebhook, Shop
from integrations.shopify.verification import sign

pytestmark = pytest.mark.django_db

SECRET = "limits-secret"


class CountingStream:
    """The request's socket: `size` bytes of a valid-looking JSON string (endless if None)."""

    def __init__(self, size: int | None = None):
        self.size = size
        self.read_bytes = 0

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            if self.size is None:
                raise AssertionError("the whole of an endless body was asked for")
            n = self.size - self.read_bytes
        if self.size is not None:
            n = min(n, self.size - self.read_bytes)
        self.read_bytes += n
        return b" " * n

    readline = read


@pytest.fixture
def shop(db):
    return Shop.objects.create(domain="limits.myshopify.com", webhook_secret=SECRET)


def post(stream: CountingStream, content_length: str | None, signature: str = "Zm9yZ2Vk", **extra):
    environ = {
        "wsgi.input": stream,
        "CONTENT_TYPE": "application/json",
        "HTTP_X_SHOPIFY_SHOP_DOMAIN": "limits.myshopify.com",
        "HTTP_X_SHOPIFY_TOPIC": "orders/create",
        "HTTP_X_SHOPIFY_WEBHOOK_ID": "limits-1",
        "HTTP_X_SHOPIFY_HMAC_SHA256": signature,
        **extra,
    }
    if content_length is not None:
        environ["CONTENT_LENGTH"] = content_length
    return Client().generic("POST", "/webhooks/shopify/", **environ)


def test_a_body_over_the_limit_is_refused_before_any_of_it_is_read(shop, settings):
    stream = CountingStream()  # a client that would send forever

    response = post(stream, str(settings.SHOPIFY_WEBHOOK_MAX_BYTES + 1))

    assert response.status_code == 413
    assert stream.read_bytes == 0
    assert not InboundWebhook.objects.exists()


def test_a_claimed_size_of_a_terabyte_is_refused_the_same_way(shop):
    stream = CountingStream()

    assert post(stream, str(2**40)).status_code == 413
    assert stream.read_bytes == 0


def test_a_chunked_body_without_content_length_is_not_read(shop):
    """Django reads no more than Content-Length, so no Content-Length reads nothing: an endless
    chunked upload costs nothing, and the empty body it leaves has no valid signature."""
    stream = CountingStream()

    response = post(
        stream, None, signature=sign(SECRET, b'{"id": 1}'), HTTP_TRANSFER_ENCODING="chunked"
    )

    assert response.status_code == 401
    assert stream.read_bytes == 0
    assert not InboundWebhook.objects.exists()


def test_never_more_than_content_length_is_read(shop):
    stream = CountingStream(size=10_000_000)  # the client sends far more than it announced

    response = post(stream, "100")

    assert response.status_code == 401  # the signature does not match those 100 bytes
    assert stream.read_bytes == 100


@pytest.mark.parametrize("length", ["-1", "ten", "1e9", "0x10"])
def test_a_malformed_content_length_is_refused_without_reading(shop, length):
    stream = CountingStream()

    response = post(stream, length)

    assert response.status_code in (400, 413)
    assert stream.read_bytes == 0


def test_a_body_exactly_at_the_limit_is_read_and_checked(shop, settings):
    settings.SHOPIFY_WEBHOOK_MAX_BYTES = 50_000
    stream = CountingStream(size=50_000)

    response = post(stream, "50000")

    assert response.status_code == 401  # read in full, then refused: it is not signed
    assert stream.read_bytes == 50_000
