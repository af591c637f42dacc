"""The floor a durable webhook receiver can reach on this stack: the baseline for Bookbag's.

HMAC check (the same `verify` as Bookbag's receiver), one INSERT and one django-q2 ORM-broker
enqueue in one transaction, then 200. No shop lookup, no header parsing beyond what the row
needs, no JSON validation, no duplicate handling (the benchmark sends unique ids).
"""

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django_q.tasks import async_task

from integrations.models import InboundWebhook
from integrations.shopify.verification import verify


@csrf_exempt
def minimal_receiver(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse(status=405)
    body = request.body
    signature = request.headers.get("X-Shopify-Hmac-Sha256", "")
    if not verify([settings.BENCH_WEBHOOK_SECRET], body, signature):
        return HttpResponse(status=401)
    with transaction.atomic():
        row = InboundWebhook.objects.create(
            shop_id=settings.BENCH_SHOP_ID,
            topic=request.headers.get("X-Shopify-Topic", ""),
            webhook_id=request.headers.get("X-Shopify-Webhook-Id", ""),
            body=body,
        )
        async_task(InboundWebhook.task, row.pk)
    return HttpResponse("ok", content_type="text/plain")
