"""Liveness and readiness for load balancers and orchestrators."""

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from bookbag.core.outbox import backlog


@never_cache
@require_GET
def healthz(request):
    """The process answers. Touches nothing else, so it stays up while the database is away."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    """Ready when the database answers; the body reports each outbox's backlog."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        queues = backlog()
    except DatabaseError as exc:
        return JsonResponse(
            {"status": "unavailable", "database": "down", "error": str(exc)[:200]}, status=503
        )
    return JsonResponse(
        {"status": "ok", "database": "up", "time": timezone.now().isoformat(), "outboxes": queues}
    )
