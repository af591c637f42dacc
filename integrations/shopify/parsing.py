"""Reading Shopify's REST payloads: 64-bit ids, money as Decimal, ISO times; tolerant of the
gaps Shopify's own samples have (null where a string is expected)."""

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.dateparse import parse_datetime

INT64_MAX = 2**63 - 1


class PayloadError(ValueError):
    """The payload lacks what this topic needs: retrying will not help."""


def shopify_id(value: Any, *, required: bool = True) -> int | None:
    """Ids arrive as JSON integers (possibly above 2^53) or digit strings; gid:// too."""
    if value is None or value == "":
        if required:
            raise PayloadError("missing id")
        return None
    if isinstance(value, bool):
        raise PayloadError(f"bad id {value!r}")
    if isinstance(value, str):
        value = value.rsplit("/", 1)[-1]
        if not value.isdigit():
            raise PayloadError(f"bad id {value!r}")
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise PayloadError(f"bad id {value!r}") from exc
    if not 0 < number <= INT64_MAX:
        raise PayloadError(f"id out of range {value!r}")
    return number


def money(value: Any) -> Decimal:
    """Shopify sends money as strings; build the Decimal from the string, never from a float."""
    if value is None or value == "":
        return Decimal("0")
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise PayloadError(f"bad amount {value!r}") from exc
    if not amount.is_finite() or abs(amount) >= Decimal("1e13"):
        raise PayloadError(f"bad amount {value!r}")
    return amount.quantize(Decimal("0.001"))


def timestamp(value: Any) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None


def text(value: Any, limit: int = 255) -> str:
    if value is None:
        return ""
    return str(value)[:limit]


def obj(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def items(value: Any) -> list:
    return value if isinstance(value, list) else []
