"""OpenAPI additions drf-spectacular cannot infer: the error responses every operation may give
(schemathesis 4 fails any status the schema does not list, shared/TRAPS.md), the
`Idempotency-Key` header of creating POSTs, and conditional GETs (`If-None-Match` → 304)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from bookbag.core.idempotency import HEADER as IDEMPOTENCY_HEADER

IDEMPOTENCY_KEY = OpenApiParameter(
    name=IDEMPOTENCY_HEADER,
    type={"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Makes a retry safe: the same key with the same request replays the first response "
        "(with `Idempotent-Replayed: true`); while the first is still running the answer is "
        "409 `idempotency_key_in_use`; the same key with a different request is 422 "
        "`idempotency_key_reused`. Keys are kept for 24 hours, per user."
    ),
)
IF_NONE_MATCH = OpenApiParameter(
    name="If-None-Match",
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description="The `ETag` of a previous response: 304 (no body) when nothing changed.",
)

_ERROR_REF = {"$ref": "#/components/schemas/Error"}
ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error has this shape.",
    "properties": {
        "detail": {"type": "string", "description": "A sentence for a person."},
        "code": {
            "type": "string",
            "description": "A stable word for a program: invalid, not_authenticated, "
            "authentication_failed, permission_denied, not_found, method_not_allowed, "
            "unsupported_media_type, not_acceptable, throttled, conflict, "
            "idempotency_key_in_use, idempotency_key_reused, parse_error.",
        },
        "errors": {
            "type": "object",
            "description": "Validation errors only: field name → messages "
            "(`non_field_errors` for the request as a whole; a dotted name such as `tags.1` "
            "for an item of a list).",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["detail", "code"],
}
_RETRY_AFTER = {
    "Retry-After": {
        "schema": {"type": "integer", "minimum": 1},
        "description": "Seconds to wait before trying again.",
        "required": True,
    }
}
ERRORS = {
    "400": ("Invalid input: see `errors` (also a malformed cursor or page size).", None),
    "401": ("No valid credentials (send `Authorization: Token <key>`).", None),
    "403": ("Authenticated, but this role may not do this.", None),
    "404": ("No such resource.", None),
    "409": ("Conflicts with the resource's current state, or an Idempotency-Key in use.", None),
    "429": ("Too many requests: see `Retry-After` and the `RateLimit-*` headers.", _RETRY_AFTER),
}
METHODS = {"get", "put", "patch", "post", "delete", "head", "options", "trace"}


def _error_response(description: str, headers: dict | None) -> dict:
    response = {"description": description, "content": {"application/json": {"schema": _ERROR_REF}}}
    if headers:
        response["headers"] = headers
    return response


def _has_header(operation: dict, name: str) -> bool:
    return any(
        p.get("in") == "header" and p.get("name", "").lower() == name.lower()
        for p in operation.get("parameters", [])
    )


def document_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"])."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status, (description, headers) in ERRORS.items():
                responses.setdefault(status, _error_response(description, headers))
            if "requestBody" in operation:
                responses.setdefault(
                    "415", _error_response("The body must be JSON (application/json).", None)
                )
                responses.setdefault(
                    "413",
                    _error_response("The body is over the upload limit (2.5 MB by default).", None),
                )
            if _has_header(operation, IDEMPOTENCY_HEADER):
                responses.setdefault(
                    "422",
                    _error_response("The Idempotency-Key was used for a different request.", None),
                )
            if _has_header(operation, "If-None-Match"):
                responses.setdefault("304", {"description": "Not modified since that ETag."})
                for status, response in responses.items():
                    if status.startswith("2"):
                        response.setdefault("headers", {})["ETag"] = {
                            "schema": {"type": "string"},
                            "description": "Send it back as If-None-Match to poll cheaply.",
                        }
    return result
