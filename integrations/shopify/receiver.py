"""POST /webhooks/shopify/: verify, store, acknowledge. Processing happens in a task.

Checks run in the order of shared/DESIGN.md ("The Shopify receiver"). Nothing here touches the
session or request.user, and no refusal writes a row.
"""

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from bookbag.core.json import InvalidJSON, loads_strict
from bookbag.core.logcontext import log_context
from integrations.services import record_inbound_webhook
from integrations.shopify.handlers.registry import ALLOWED_AFTER_UNINSTALL
from integrations.shopify.headers import ShopifyHeaders
from integrations.shopify.shop_keys import shop_key
from integrations.shopify.verification import verify

logger = logging.getLogger(__name__)


def refuse(status: int, reason: str, headers: ShopifyHeaders | None = None) -> JsonResponse:
    logger.warning(
        "shopify webhook refused %s: %s (shop=%s topic=%s webhook_id=%s)",
        status,
        reason,
        headers.shop_domain if headers else "",
        headers.topic if headers else "",
        headers.webhook_id if headers else "",
    )
    return JsonResponse({"detail": reason}, status=status)


def content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return -1


@csrf_exempt
def shopify_webhook(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        response = refuse(405, "method not allowed")
        response["Allow"] = "POST"
        return response
    length = content_length(request)
    if length > settings.SHOPIFY_WEBHOOK_MAX_BYTES:
        return refuse(413, f"body over {settings.SHOPIFY_WEBHOOK_MAX_BYTES} bytes")
    if length < 0:
        return refuse(400, "bad Content-Length")
    headers = ShopifyHeaders.from_request(request)
    if not headers.shop_domain:
        return refuse(400, "missing shop domain header", headers)
    shop = shop_key(headers.shop_domain)
    body = request.body
    if shop is None or not headers.hmac or not verify(shop.secrets(), body, headers.hmac):
        return refuse(401, "unknown shop or invalid signature", headers)
    if not headers.topic or not headers.webhook_id:
        return refuse(400, "missing topic or webhook id header", headers)
    if len(headers.webhook_id) > 255 or len(headers.event_id) > 255 or len(headers.topic) > 64:
        return refuse(400, "header value too long", headers)
    if not shop.installed and headers.topic not in ALLOWED_AFTER_UNINSTALL:
        return refuse(401, "shop is uninstalled", headers)
    try:
        payload = loads_strict(body)
    except InvalidJSON as exc:
        return refuse(400, f"body is not valid JSON: {exc}", headers)
    if not isinstance(payload, dict):
        return refuse(400, "body is not a JSON object", headers)
    with log_context(webhook_id=headers.webhook_id, topic=headers.topic):
        if not record_inbound_webhook(shop_id=shop.id, headers=headers, body=body):
            logger.info("shopify webhook duplicate")
            return HttpResponse("duplicate", status=200, content_type="text/plain")
    return HttpResponse("ok", status=200, content_type="text/plain")
