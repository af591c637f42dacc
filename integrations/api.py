"""The Shopify side of the API: shops and orders (read-only, for agents) and the inbound webhook
log (admins), whose `reprocess` runs an event again through integrations.services."""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from bookbag.api_errors import Conflict
from bookbag.core.models import OutboxStatus
from bookbag.filters import FilterBackend, id_filter, since_filter
from bookbag.permissions import IsAdmin, IsAgent
from bookbag.throttling import RateLimitHeadersMixin
from integrations import services
from integrations.models import InboundWebhook, Order, Shop
from integrations.serializers import (
    InboundWebhookDetailSerializer,
    InboundWebhookSerializer,
    OrderSerializer,
    ShopSerializer,
)


class OrderFilter(django_filters.FilterSet):
    shop = id_filter("The shop's id.", field_name="shop_id")
    customer = id_filter("The customer's id.", field_name="customer_id")
    name = django_filters.CharFilter(
        method="filter_name", help_text="The Shopify order name: #1001, or 1001 (`#` would start "
        "the URL's fragment unless encoded as %23).",
    )  # fmt: skip
    shopify_id = id_filter("The Shopify order id.")
    email = django_filters.CharFilter(lookup_expr="iexact")
    financial_status = django_filters.CharFilter(help_text="e.g. paid, refunded, voided.")
    fulfillment_status = django_filters.CharFilter(help_text="e.g. fulfilled, partial.")
    updated_since = since_filter("updated_at", "Orders changed at or after this time.")

    class Meta:
        model = Order
        fields = []

    def filter_name(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(name__in={value, value if value.startswith("#") else f"#{value}"})


class InboundWebhookFilter(django_filters.FilterSet):
    shop = id_filter("The shop's id.", field_name="shop_id")
    topic = django_filters.CharFilter(help_text="e.g. orders/create.")
    status = django_filters.MultipleChoiceFilter(choices=OutboxStatus.choices)
    webhook_id = django_filters.CharFilter()

    class Meta:
        model = InboundWebhook
        fields = []


@extend_schema_view(
    list=extend_schema(summary="Connected Shopify stores"),
    retrieve=extend_schema(summary="A Shopify store"),
)
class ShopViewSet(RateLimitHeadersMixin, viewsets.ReadOnlyModelViewSet):
    permission_classes = [IsAgent]
    serializer_class = ShopSerializer
    queryset = Shop.objects.all()


@extend_schema_view(
    list=extend_schema(summary="Orders, with fulfillments and refunds"),
    retrieve=extend_schema(summary="An order with its fulfillments and refunds"),
)
class OrderViewSet(RateLimitHeadersMixin, viewsets.ReadOnlyModelViewSet):
    permission_classes = [IsAgent]
    serializer_class = OrderSerializer
    filterset_class = OrderFilter
    filter_backends = [FilterBackend]

    def get_queryset(self):
        return (
            Order.objects.select_related("customer")
            .defer("raw")
            .prefetch_related("fulfillments", "refunds")
        )


@extend_schema_view(
    list=extend_schema(summary="The inbound Shopify webhook log"),
    retrieve=extend_schema(summary="One inbound webhook, with its headers and raw body"),
)
class InboundWebhookViewSet(RateLimitHeadersMixin, viewsets.ReadOnlyModelViewSet):
    permission_classes = [IsAdmin]
    filterset_class = InboundWebhookFilter
    filter_backends = [FilterBackend]

    def get_queryset(self):
        queryset = InboundWebhook.objects.select_related("shop")
        if self.action == "list":
            queryset = queryset.defer("body", "headers")
        return queryset

    def get_serializer_class(self):
        return InboundWebhookSerializer if self.action == "list" else InboundWebhookDetailSerializer

    @extend_schema(
        summary="Process the event again (handlers are idempotent)",
        request=None,
        responses={202: InboundWebhookDetailSerializer},
    )
    @action(detail=True, methods=["post"])
    def reprocess(self, request, pk=None):
        row = self.get_object()
        if not services.reprocess_inbound_webhooks([row.pk]):
            raise Conflict("This event is being processed right now; try again in a moment.")
        row.refresh_from_db()
        return Response(InboundWebhookDetailSerializer(row).data, status=status.HTTP_202_ACCEPTED)
