"""Turn a database outage into 503 + Retry-After (Shopify retries those), never a 500."""

import logging

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 10


def database_unavailable_middleware(get_response):
    def middleware(request):
        try:
            return get_response(request)
        except (OperationalError, InterfaceError) as exc:
            return database_unavailable(exc)

    return middleware


def database_unavailable(exc: Exception) -> JsonResponse:
    logger.error("database unavailable: %s", exc)
    response = JsonResponse({"detail": "Service temporarily unavailable"}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
