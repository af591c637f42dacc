"""Structured logs: every line carries the request id, and the Shopify webhook id or outbound
message id of the work it belongs to (contextvars, so threads and tasks keep theirs apart)."""

import contextlib
import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

_context: ContextVar[dict] = ContextVar("bookbag_log_context", default={})  # noqa: B039 - never mutated


@contextlib.contextmanager
def log_context(**values):
    """Add fields to every log line written inside the block."""
    token = _context.set({**_context.get(), **{k: v for k, v in values.items() if v}})
    try:
        yield
    finally:
        _context.reset(token)


def current() -> dict:
    return dict(_context.get())


class ContextFilter(logging.Filter):
    """Copies the context onto each record (for formatters that name the fields)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.context = current()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "context", current()),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class PlainFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        context = getattr(record, "context", None) or current()
        if context:
            text += " " + " ".join(f"{k}={v}" for k, v in context.items())
        return text
