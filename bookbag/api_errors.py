"""One error body everywhere in the API:

    {"detail": "Invalid input.", "code": "invalid",
     "errors": {"subject": ["This field is required."]}}

`detail` is a sentence for a person, `code` a stable word for a program (DRF's error codes:
`not_authenticated`, `permission_denied`, `not_found`, `throttled`, ... and Bookbag's own
`conflict`, `idempotency_key_in_use`, `idempotency_key_reused`), and `errors` (validation failures
only) maps each field to its messages; errors not tied to one field are under `non_field_errors`,
and those of a list item or a nested object under a dotted name (`tags.1`).
"""

import math

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

VALIDATION_DETAIL = "Invalid input."


class Conflict(exceptions.APIException):
    """The request is well formed but clashes with the resource's current state."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


class Unprocessable(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The request cannot be processed."
    default_code = "unprocessable"


def _code(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else exc.default_code


def _field_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF nests the errors of list items and nested objects (`{"tags": {"1": [...]}}`); they
    are flattened to dotted names (`{"tags.1": [...]}`) so every value is a list of messages."""
    here = prefix or "non_field_errors"
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            for name, messages in _field_errors(
                value, f"{prefix}.{key}" if prefix else str(key)
            ).items():
                flat.setdefault(name, []).extend(messages)
        return flat
    if isinstance(detail, list):
        flat = {}
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):  # one item of a list (DRF gives {} for valid ones)
                nested = _field_errors(value, f"{prefix}.{index}" if prefix else str(index))
            else:
                nested = {here: [str(value)]}
            for name, messages in nested.items():
                flat.setdefault(name, []).extend(messages)
        return flat
    return {here: [str(detail)]}


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        # Django's own answer is an HTML 400 and an ERROR log line with a traceback; a client
        # sending a body over DATA_UPLOAD_MAX_MEMORY_SIZE gets the API's error body and a 413.
        exc = PayloadTooLarge(
            f"The request body is over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes."
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: Django's 500 (or the outage middleware's 503) takes over
    if isinstance(exc, exceptions.ValidationError):
        response.data = {
            "detail": VALIDATION_DETAIL,
            "code": "invalid",
            "errors": _field_errors(exc.detail),
        }
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        if isinstance(detail, dict | list):  # an APIException raised with structured detail
            response.data = {
                "detail": str(exc.default_detail),
                "code": exc.default_code,
                "errors": _field_errors(detail),
            }
        else:
            response.data = {"detail": str(detail), "code": _code(exc)}
        wait = getattr(exc, "wait", None)
        if wait is not None:
            response["Retry-After"] = str(max(1, math.ceil(wait)))
    return response
