"""Outbound webhooks in the API (admins only): endpoints, the delivery log, and the catalogue of
event types. Changes go through webhooks.services, as the Django admin's do."""

import django_filters
from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from bookbag.api_errors import Conflict
from bookbag.api_location import created_location
from bookbag.api_schema import IDEMPOTENCY_KEY
from bookbag.core.idempotency import idempotent
from bookbag.core.models import OutboxStatus
from bookbag.filters import FilterBackend, id_filter, since_filter
from bookbag.permissions import IsAdmin
from bookbag.throttling import RateLimitHeadersMixin
from webhooks import services
from webhooks.event_types import CATALOGUE
from webhooks.models import Delivery, Endpoint
from webhooks.serializers import (
    DeliveryDetailSerializer,
    DeliverySerializer,
    EndpointCreateSerializer,
    EndpointSerializer,
    EndpointWithSecretSerializer,
    EndpointWriteSerializer,
    EventTypeSerializer,
)

EDITABLE_FIELDS = ("url", "description", "event_types", "max_in_flight")


class AdminAPIView(RateLimitHeadersMixin):
    permission_classes = [IsAdmin]


@extend_schema_view(
    list=extend_schema(summary="Webhook endpoints (secrets masked)"),
    retrieve=extend_schema(summary="A webhook endpoint (secret masked)"),
    create=extend_schema(
        summary="Register an endpoint: the response carries its signing secret, once",
        request=EndpointCreateSerializer,
        responses={201: EndpointWithSecretSerializer},
        parameters=[IDEMPOTENCY_KEY],
    ),
    partial_update=extend_schema(
        summary="Change an endpoint; `active` disables (holding deliveries) or enables",
        request=EndpointWriteSerializer,
        responses={200: EndpointSerializer},
    ),
    destroy=extend_schema(summary="Delete an endpoint and its delivery log"),
)
class EndpointViewSet(
    AdminAPIView,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Endpoint.objects.all()
    serializer_class = EndpointSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def with_secret(self, endpoint: Endpoint, status_code: int) -> Response:
        endpoint.refresh_from_db()
        return Response(EndpointWithSecretSerializer(endpoint).data, status=status_code)

    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = EndpointCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with transaction.atomic():
            endpoint, _secret = services.create_endpoint(
                url=data["url"],
                description=data.get("description", ""),
                event_types=data.get("event_types", []),
            )
            if "max_in_flight" in data:
                endpoint.max_in_flight = data["max_in_flight"]
                endpoint.save(update_fields=["max_in_flight", "updated_at"])
        response = self.with_secret(endpoint, status.HTTP_201_CREATED)
        response["Location"] = created_location(request, endpoint.pk)
        return response

    def partial_update(self, request, *args, **kwargs):
        endpoint = self.get_object()
        serializer = EndpointWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        changed = [name for name in EDITABLE_FIELDS if name in data]
        with transaction.atomic():
            if changed:
                for name in changed:
                    setattr(endpoint, name, data[name])
                endpoint.save(update_fields=[*changed, "updated_at"])
            if data.get("active") is True and not endpoint.active:
                services.enable_endpoint(endpoint, send_held=True)
            elif data.get("active") is False and endpoint.active:
                services.disable_endpoint(
                    endpoint, reason=f"Disabled by {request.user.get_username()} (API)."
                )
        endpoint.refresh_from_db()
        return Response(EndpointSerializer(endpoint).data)

    @extend_schema(
        summary="Rotate the signing secret (the previous one keeps signing for 24 hours)",
        request=None,
        responses={200: EndpointWithSecretSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    @idempotent
    def rotate_secret(self, request, pk=None):
        endpoint = self.get_object()
        services.rotate_secret(endpoint)
        return self.with_secret(endpoint, status.HTTP_200_OK)

    @extend_schema(
        summary="Send a `webhook.test` event to this endpoint",
        request=None,
        responses={202: DeliveryDetailSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def test(self, request, pk=None):
        endpoint = self.get_object()
        event = services.send_test_event(endpoint)
        delivery = DeliveryViewSet.queryset_for_detail().get(event=event, endpoint=endpoint)
        return Response(DeliveryDetailSerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class DeliveryFilter(django_filters.FilterSet):
    endpoint = id_filter("The endpoint's id.", field_name="endpoint_id")
    status = django_filters.MultipleChoiceFilter(choices=OutboxStatus.choices)
    event_type = django_filters.ChoiceFilter(
        field_name="event__type", choices=[(name, name) for name in sorted(CATALOGUE)]
    )
    message_id = django_filters.CharFilter(
        field_name="event__message_id", help_text="The webhook-id (msg_…)."
    )
    created_since = since_filter("created_at", "Deliveries created at or after this time.")

    class Meta:
        model = Delivery
        fields = []


@extend_schema_view(
    list=extend_schema(summary="The delivery log, with each delivery's attempts"),
    retrieve=extend_schema(summary="A delivery: its payload and every attempt's response"),
)
class DeliveryViewSet(AdminAPIView, viewsets.ReadOnlyModelViewSet):
    filterset_class = DeliveryFilter
    filter_backends = [FilterBackend]

    @staticmethod
    def queryset_for_detail():
        return Delivery.objects.select_related("event").prefetch_related("attempt_log")

    def get_queryset(self):
        if self.action == "list":
            return (
                Delivery.objects.select_related("event")
                .defer("event__payload")
                .prefetch_related("attempt_log")
            )
        return self.queryset_for_detail()

    def get_serializer_class(self):
        return DeliverySerializer if self.action == "list" else DeliveryDetailSerializer

    @extend_schema(
        summary="Send again now, with the same webhook-id",
        request=None,
        responses={202: DeliveryDetailSerializer},
    )
    @action(detail=True, methods=["post"])
    def resend(self, request, pk=None):
        delivery = self.get_object()
        if not services.resend([delivery.pk]):
            raise Conflict("This delivery is being attempted right now; try again in a moment.")
        delivery = self.queryset_for_detail().get(pk=delivery.pk)
        return Response(DeliveryDetailSerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class CataloguePage(BasePagination):
    """The catalogue is short and fixed: one page, in the envelope every other list has."""

    def paginate_queryset(self, queryset, request, view=None):
        return list(queryset)

    def get_paginated_response(self, data):
        return Response({"next": None, "previous": None, "results": data})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }


@extend_schema_view(
    list=extend_schema(summary="The event types Bookbag sends, with example payloads"),
    retrieve=extend_schema(
        summary="One event type with an example payload",
        parameters=[
            OpenApiParameter("name", str, OpenApiParameter.PATH, description="e.g. ticket.resolved")
        ],
    ),
)
class EventTypeViewSet(AdminAPIView, viewsets.GenericViewSet):
    serializer_class = EventTypeSerializer
    pagination_class = CataloguePage
    lookup_field = "name"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return list(CATALOGUE.values())

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, name=None, *args, **kwargs):
        event_type = CATALOGUE.get(name)
        if event_type is None:
            raise NotFound("No such event type.")
        return Response(self.get_serializer(event_type).data)
