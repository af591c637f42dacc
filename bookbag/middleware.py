"""Turn a database outage into 503 + Retry-After (Shopify retries those), never a 500."""

import logging

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 10
OUTAGE = (OperationalError, InterfaceError)


def database_unavailable(exc: Exception) -> JsonResponse:
    logger.error("database unavailable: %s", exc)
    response = JsonResponse({"detail": "Service temporarily unavailable"}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    """Outermost. Django turns a view's exception into a 500 response before it reaches an outer
    middleware's call, so view exceptions are caught in process_exception; the call itself
    catches the ones raised by the middleware below (sessions, auth)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            return self.get_response(request)
        except OUTAGE as exc:
            return database_unavailable(exc)

    def process_exception(self, request, exc):
        if isinstance(exc, OUTAGE):
            return database_unavailable(exc)
        return None
