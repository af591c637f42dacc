"""The REST API's URLs (mounted at /api/ by bookbag.urls): the router over each app's viewsets,
the OpenAPI schema and its documentation pages (served from drf-spectacular-sidecar, no CDN).

Paths take the trailing slash or not: with APPEND_SLASH a POST without it would be a 301 (or a
500 under DEBUG), as on the Shopify receiver.
"""

from django.urls import path, re_path
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    permission_classes,
    throttle_classes,
)
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.routers import DefaultRouter

from bookbag.throttling import RateLimitHeadersMixin
from integrations.api import InboundWebhookViewSet, OrderViewSet, ShopViewSet
from notifications.api import NotificationViewSet
from tickets.api import AgentViewSet, CustomerViewSet, TicketMessageViewSet, TicketViewSet
from webhooks.api import DeliveryViewSet, EndpointViewSet, EventTypeViewSet

app_name = "api"


class Router(DefaultRouter):
    include_format_suffixes = False  # no `.json` twins of every route

    def __init__(self):
        super().__init__()
        # DRF's constructor only takes a bool ("/" or ""); the optional slash is set afterwards.
        self.trailing_slash = "/?"


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
@permission_classes([AllowAny])
@authentication_classes([])
@throttle_classes([])
def not_found(request, path=""):
    """Any other URL under /api/ (`/api/tickets/0.5/` too): the API's JSON 404, not Django's
    HTML page."""
    raise NotFound("No such API endpoint.")


def with_rate_limit_headers(view_class):
    """The schema and docs views are drf-spectacular's; they are throttled like every API view
    (anonymous callers per address), so they say how much is left like every API view."""
    return type(view_class.__name__, (RateLimitHeadersMixin, view_class), {})


router = Router()
# Agents (and admins)
router.register("tickets", TicketViewSet, basename="ticket")
router.register(r"tickets/(?P<ticket_pk>[^/.]+)/messages", TicketMessageViewSet,
                basename="ticket-message")  # fmt: skip
router.register("customers", CustomerViewSet, basename="customer")
router.register("orders", OrderViewSet, basename="order")
router.register("shops", ShopViewSet, basename="shop")
router.register("agents", AgentViewSet, basename="agent")
router.register("notifications", NotificationViewSet, basename="notification")
# Admins
router.register("webhook-endpoints", EndpointViewSet, basename="webhook-endpoint")
router.register("deliveries", DeliveryViewSet, basename="delivery")
router.register("event-types", EventTypeViewSet, basename="event-type")
router.register("inbound-webhooks", InboundWebhookViewSet, basename="inbound-webhook")

urlpatterns = [
    path("schema/", with_rate_limit_headers(SpectacularAPIView).as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script, so the
    # page works under the Content-Security-Policy (bookbag/security_headers.py).
    path(
        "docs/",
        with_rate_limit_headers(SpectacularSwaggerSplitView).as_view(url_name="api:schema"),
        name="docs",
    ),
    path(
        "redoc/",
        with_rate_limit_headers(SpectacularRedocView).as_view(url_name="api:schema"),
        name="redoc",
    ),
    *router.urls,
    re_path(r"^(?P<path>.*)$", not_found, name="not-found"),
]
