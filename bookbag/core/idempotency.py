"""`Idempotency-Key` for the API's creating POSTs (shared/TRAPS.md, "DRF and the API").

A client that sends the header may retry the same request safely:

- first time: a row (user, key) is inserted and committed at once, marked as running; the view
  then runs in one transaction that also records its response, so the work and the record
  commit together or not at all;
- the same key and the same request again: the recorded response is replayed (same status and
  body, plus `Idempotent-Replayed: true`);
- the same key while the first request still runs (a concurrent retry): 409
  `idempotency_key_in_use`, with `Retry-After`;
- the same key with a different method, path or body: 422 `idempotency_key_reused`.

Only a 2xx response is recorded: after a 4xx (or a crash) the key is released, so the client
can fix the request and send it again with the same key. Keys are kept for `KEY_TTL`; an older
row is treated as unused. The unique constraint decides races, on SQLite and PostgreSQL alike.
"""

import hashlib
import json
import re
from datetime import timedelta
from functools import wraps

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from bookbag.core.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_TTL = timedelta(hours=24)
# Longer than any request may run (gunicorn kills a worker after 30 s): a row still running after
# this was abandoned by a dead worker, and since its work never committed it may be taken over.
LEASE = timedelta(seconds=60)
_VALID_KEY = re.compile(r"[\x21-\x7e]{1,255}")  # visible ASCII: UUIDs, ULIDs, hashes...
_KEPT_HEADERS = ("Location",)


class KeyInUse(APIException):
    status_code = 409
    default_detail = (
        "A request with this Idempotency-Key is still being processed: retry in a moment."
    )
    default_code = "idempotency_key_in_use"
    wait = 1  # seconds, sent as Retry-After


class KeyReused(APIException):
    status_code = 422
    default_detail = "This Idempotency-Key was already used for a different request."
    default_code = "idempotency_key_reused"


class _Discard(Exception):
    def __init__(self, response):
        self.response = response


def fingerprint(request) -> str:
    """The request as the key must match it: method, path and body (parsed, keys sorted, so
    whitespace and key order do not matter)."""
    body = json.dumps(
        request.data, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder, default=str
    )
    text = f"{request.method} {request.path}\n{body}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _begin(user, key: str, digest: str) -> tuple[IdempotencyKey, Response | None]:
    """Claim the key, or return the recorded response to replay."""
    for _ in range(3):
        now = timezone.now()
        try:
            with transaction.atomic():
                row = IdempotencyKey.objects.create(
                    user=user, key=key, fingerprint=digest, locked_until=now + LEASE
                )
            return row, None
        except IntegrityError:
            pass
        row = IdempotencyKey.objects.filter(user=user, key=key).first()
        if row is None:
            continue  # expired and deleted meanwhile: try again
        if row.created_at < now - KEY_TTL:
            IdempotencyKey.objects.filter(pk=row.pk, created_at=row.created_at).delete()
            continue
        if row.fingerprint != digest:
            raise KeyReused
        if row.completed_at is not None:
            return row, replay(row)
        # Still running, or abandoned by a worker that died (nothing of its work committed).
        taken = IdempotencyKey.objects.filter(
            pk=row.pk, completed_at__isnull=True, locked_until__lt=now
        ).update(locked_until=now + LEASE, updated_at=now)
        if taken:
            return row, None
        raise KeyInUse
    raise KeyInUse


def replay(row: IdempotencyKey) -> Response:
    data = json.loads(row.response_body) if row.response_body else None
    headers = {**row.response_headers, REPLAYED_HEADER: "true"}
    return Response(data, status=row.response_status, headers=headers)


def _record(row: IdempotencyKey, response) -> None:
    body = JSONRenderer().render(response.data).decode() if response.data is not None else ""
    now = timezone.now()
    IdempotencyKey.objects.filter(pk=row.pk).update(
        completed_at=now,
        locked_until=None,
        response_status=response.status_code,
        response_body=body,
        response_headers={h: response[h] for h in _KEPT_HEADERS if response.has_header(h)},
        updated_at=now,
    )


def _release(row: IdempotencyKey) -> None:
    IdempotencyKey.objects.filter(pk=row.pk, completed_at__isnull=True).delete()


def validated_key(request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not _VALID_KEY.fullmatch(key):
        raise ValidationError(
            {HEADER: ["Must be 1 to 255 visible ASCII characters (a UUID, for example)."]}
        )
    return key


def idempotent(view_method):
    """Decorate a viewset method that creates something (see the module's docstring)."""

    @wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = validated_key(request)
        if key is None or not request.user.is_authenticated:
            return view_method(self, request, *args, **kwargs)
        row, recorded = _begin(request.user, key, fingerprint(request))
        if recorded is not None:
            return recorded
        try:
            with transaction.atomic():
                response = view_method(self, request, *args, **kwargs)
                if not 200 <= response.status_code < 300:
                    raise _Discard(response)
                _record(row, response)
            return response
        except _Discard as discarded:
            _release(row)
            return discarded.response
        except BaseException:
            _release(row)
            raise

    return wrapper


def prune(older_than: timedelta = KEY_TTL) -> int:
    """Delete keys past their lifetime (they are ignored already; this keeps the table small)."""
    return IdempotencyKey.objects.filter(created_at__lt=timezone.now() - older_than).delete()[0]
