"""Strict JSON for stored payloads: no NaN/Infinity, no NUL, no absurd nesting (shared/TRAPS.md)."""

import json
import math
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

MAX_DEPTH = 64


class InvalidJSON(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise InvalidJSON(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    # `1e400` parses to inf without passing through parse_constant; jsonb refuses it all the same.
    value = float(text)
    if not math.isfinite(value):
        raise InvalidJSON(f"{text[:20]} is out of range")
    return value


def _depth(value: Any, limit: int) -> int:
    # Iterative, so a hostile payload cannot exhaust the stack here either.
    stack, deepest = [(value, 1)], 0
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return deepest


def loads_strict(body: bytes | str, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON that may be stored in jsonb; raise InvalidJSON for anything PostgreSQL refuses."""
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        if "\x00" in text or "\\u0000" in text:
            raise InvalidJSON("NUL characters are not allowed")
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except (UnicodeDecodeError, RecursionError) as exc:
        raise InvalidJSON(str(exc) or "too deeply nested") from exc
    except ValueError as exc:  # JSONDecodeError, and ints over Python's 4,300-digit limit
        raise InvalidJSON(str(exc)) from exc
    if _depth(value, max_depth) > max_depth:
        raise InvalidJSON("too deeply nested")
    return value


def dumps_bytes(value: Any) -> bytes:
    """Serialize once, compactly, to the exact bytes that are stored, signed and sent."""
    return json.dumps(
        value, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False
    ).encode()
