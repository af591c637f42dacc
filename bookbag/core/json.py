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


_DROP = bytes(c for c in range(256) if c not in b'[]{}"')
_PARENS = bytes.maketrans(b"[]{}", b"()()")


def _depth(raw: bytes, limit: int) -> int:
    """How deep valid JSON nests (up to limit + 1), all in C on bytes: walking the parsed tree
    in Python cost more than parsing it (benchmarks/README.md, inbound). Escaped backslashes and
    quotes go first, then everything but brackets and quotes; what lies between quotes is inside
    strings and goes too; then each pass removes the innermost pairs of brackets."""
    if b"\\" in raw:
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = b"".join(raw.translate(None, _DROP).split(b'"')[::2]).translate(_PARENS)
    depth = 0
    while brackets and depth <= limit:
        brackets = brackets.replace(b"()", b"")
        depth += 1
    return depth


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
    raw = body if isinstance(body, bytes) else text.encode()
    if raw.count(b"[") + raw.count(b"{") > max_depth and _depth(raw, max_depth) > max_depth:
        raise InvalidJSON("too deeply nested")
    return value


def dumps_bytes(value: Any) -> bytes:
    """Serialize once, compactly, to the exact bytes that are stored, signed and sent."""
    return json.dumps(
        value, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False
    ).encode()
