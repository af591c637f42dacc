"""Shopify's webhook signature: base64(HMAC-SHA256(secret, raw body)), compared as bytes."""

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable


def sign(secret: str, body: bytes) -> str:
    """The header value Shopify would send for `body` (also used by send_shopify_webhook)."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify(secrets: Iterable[str], body: bytes, header: str) -> bool:
    """True when `header` is a valid signature of `body` under any of `secrets`.

    The header is decoded to bytes first: comparing non-ASCII str raises TypeError (a 500), and a
    malformed header is simply not a valid signature.
    """
    try:
        received = base64.b64decode(header.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError):
        return False
    valid = False
    for secret in secrets:
        if not secret:
            continue
        expected = hmac.new(secret.encode(), body, hashlib.sha256).digest()
        # No early exit: every secret is tried, so timing does not tell which one matched.
        valid |= hmac.compare_digest(expected, received)
    return valid
