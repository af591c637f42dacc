"""Customer emails, read-only: what was sent (or is waiting, failed, or unknown) and to whom."""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from bookbag.core.models import OutboxStatus
from bookbag.filters import FilterBackend, id_filter, since_filter
from bookbag.permissions import IsAgent
from bookbag.throttling import RateLimitHeadersMixin
from notifications.models import Notification
from notifications.serializers import NotificationSerializer


class NotificationFilter(django_filters.FilterSet):
    shop = id_filter("The shop's id.", field_name="shop_id")
    customer = id_filter("The customer's id.", field_name="customer_id")
    ticket = id_filter("The ticket's id.", field_name="ticket_id")
    template_key = django_filters.CharFilter(help_text="e.g. shipping_confirmation.")
    status = django_filters.MultipleChoiceFilter(choices=OutboxStatus.choices)
    updated_since = since_filter("updated_at", "Emails changed at or after this time.")

    class Meta:
        model = Notification
        fields = []


@extend_schema_view(
    list=extend_schema(summary="Customer emails, newest first"),
    retrieve=extend_schema(summary="One customer email"),
)
class NotificationViewSet(RateLimitHeadersMixin, viewsets.ReadOnlyModelViewSet):
    permission_classes = [IsAgent]
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    filter_backends = [FilterBackend]

    def get_queryset(self):
        return Notification.objects.defer("html")
