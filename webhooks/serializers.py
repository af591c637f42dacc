"""API representations of outbound webhooks: endpoints (the signing secret shown once, masked
afterwards), deliveries with their attempts, and the event catalogue with example payloads."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from bookbag import api_fields as fields
from bookbag.core.admin_helpers import masked_field
from bookbag.core.json import InvalidJSON, loads_strict
from webhooks.event_types import CATALOGUE
from webhooks.models import Attempt, Delivery, Endpoint, Event
from webhooks.ssrf import UnsafeDestination, check_url

MAX_IN_FLIGHT = 20


class EndpointSerializer(serializers.ModelSerializer):
    secret_hint = serializers.SerializerMethodField(
        help_text="The end of the signing secret, to tell secrets apart. The whole secret is "
        "returned only by create and rotate-secret."
    )

    class Meta:
        model = Endpoint
        fields = (
            "id", "url", "description", "event_types", "active", "max_in_flight", "secret_hint",
            "previous_secret_expires_at", "disabled_reason", "disabled_at", "failing_since",
            "last_success_at", "created_at", "updated_at",
        )  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_secret_hint(self, endpoint: Endpoint) -> str:
        return masked_field(endpoint, "secret")


class EndpointWithSecretSerializer(EndpointSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="whsec_…: shown this once. Verify signatures with it."
    )

    class Meta(EndpointSerializer.Meta):
        fields = (*EndpointSerializer.Meta.fields, "secret")
        read_only_fields = fields


class EndpointWriteSerializer(serializers.Serializer):
    url = fields.URLField(
        max_length=2048,
        help_text="https, resolving only to public addresses (checked now and at each send).",
    )
    description = fields.CharField(max_length=255, required=False, allow_blank=True)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(CATALOGUE)),
        required=False,
        max_length=len(CATALOGUE),
        help_text="Empty: every event.",
    )
    max_in_flight = fields.IntegerField(min_value=1, max_value=MAX_IN_FLIGHT, required=False)
    active = fields.BooleanField(
        required=False,
        help_text="false disables (deliveries are kept and held); true enables and sends them.",
    )

    def validate_url(self, url: str) -> str:
        try:
            check_url(url)
        except UnsafeDestination as exc:
            raise serializers.ValidationError(str(exc)) from exc
        return url

    def validate_event_types(self, names: list[str]) -> list[str]:
        return sorted(set(names))


class EndpointCreateSerializer(EndpointWriteSerializer):
    active = None  # a new endpoint is active


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = Attempt
        fields = (
            "id", "created_at", "response_status", "error", "duration_ms", "request_headers",
        )  # fmt: skip
        read_only_fields = fields


class AttemptDetailSerializer(AttemptSerializer):
    class Meta(AttemptSerializer.Meta):
        fields = (*AttemptSerializer.Meta.fields, "response_body")
        read_only_fields = fields


class EventSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Event
        fields = ("id", "message_id", "type", "created_at")
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer):
    event = EventSummarySerializer(read_only=True)
    attempt_log = AttemptSerializer(many=True, read_only=True)

    class Meta:
        model = Delivery
        fields = (
            "id", "endpoint", "event", "status", "attempts", "next_attempt_at",
            "last_status_code", "last_attempt_at", "succeeded_at", "last_error", "created_at",
            "updated_at", "attempt_log",
        )  # fmt: skip
        read_only_fields = fields


class DeliveryDetailSerializer(DeliverySerializer):
    attempt_log = AttemptDetailSerializer(many=True, read_only=True)
    payload = serializers.SerializerMethodField(help_text="The exact body sent (and signed).")

    class Meta(DeliverySerializer.Meta):
        fields = (*DeliverySerializer.Meta.fields, "payload")
        read_only_fields = fields

    @extend_schema_field({"type": "object", "additionalProperties": True, "nullable": True})
    def get_payload(self, delivery: Delivery):
        try:
            return loads_strict(bytes(delivery.event.payload))
        except InvalidJSON:
            return None


# --- The catalogue --------------------------------------------------------------------------------

_CUSTOMER = {
    "id": 7, "shopify_id": "9007199254740993", "email": "ada@example.com",
    "first_name": "Ada", "last_name": "Lovelace",
}  # fmt: skip
_ORDER = {
    "id": 3, "shopify_id": "820982911946154508", "name": "#1001", "email": "ada@example.com",
    "financial_status": "paid", "fulfillment_status": "fulfilled", "total_price": "59.900",
    "currency": "USD", "cancelled_at": None, "cancel_reason": "", "customer": _CUSTOMER,
}  # fmt: skip
_TICKET = {
    "id": 42, "shop": "bookbag-demo.myshopify.com", "subject": "Where is my order?",
    "status": "open", "priority": "normal", "channel": "email", "assignee": "agent",
    "tags": ["shipping"], "customer": _CUSTOMER, "order": _ORDER,
    "created_at": "2025-11-24T09:12:00+00:00", "resolved_at": None, "resolved_by": None,
    "resolved_by_automation": None,
}  # fmt: skip
_RESOLVED_TICKET = {
    **_TICKET, "status": "resolved", "resolved_at": "2025-11-25T15:03:28+00:00",
    "resolved_by": "agent",
}  # fmt: skip
_MESSAGE = {
    "id": 101, "ticket_id": 42, "author_kind": "agent", "author": "agent",
    "body": "It is with UPS and due tomorrow.", "internal": False, "channel": "email",
    "created_at": "2025-11-24T10:00:00+00:00",
}  # fmt: skip
_FULFILLMENT = {
    "id": 5, "shopify_id": "255858046", "name": "#1001.1", "status": "success",
    "shipment_status": "in_transit", "tracking_company": "UPS",
    "tracking_numbers": ["1Z999AA10123456784"],
    "tracking_urls": ["https://www.ups.com/track?tracknum=1Z999AA10123456784"],
}  # fmt: skip
_REFUND = {
    "id": 9, "shopify_id": "929361463", "amount": "59.900", "currency": "USD",
    "note": "Damaged in transit", "processed_at": "2025-11-25T15:03:20+00:00",
}  # fmt: skip
_USER = {"kind": "user", "name": "agent"}
_SHOP = "bookbag-demo.myshopify.com"
EXAMPLE_DATA = {
    "ticket.created": {"ticket": _TICKET, "actor": None},
    "ticket.assigned": {"ticket": _TICKET, "previous": None, "actor": _USER},
    "ticket.status_changed": {"ticket": _RESOLVED_TICKET, "previous": "open", "actor": _USER},
    "ticket.resolved": {"ticket": _RESOLVED_TICKET, "actor": _USER},
    "ticket.reopened": {"ticket": _TICKET, "actor": _USER},
    "ticket.escalated": {
        "ticket": {**_TICKET, "status": "escalated", "priority": "urgent"},
        "reason": "fraud",
        "actor": {"kind": "automation", "name": "flagged_order_escalation"},
    },
    "message.created": {"ticket": _TICKET, "message": _MESSAGE},
    "csat.submitted": {
        "ticket": _RESOLVED_TICKET,
        "csat": {
            "ticket_id": 42,
            "score": 5,
            "comment": "Quick and kind, thank you!",
            "answered_at": "2025-11-26T08:00:00+00:00",
        },
    },
    "order.fulfilled": {"shop": _SHOP, "order": _ORDER, "fulfillment": _FULFILLMENT},
    "order.cancelled": {
        "shop": _SHOP,
        "order": {
            **_ORDER,
            "financial_status": "voided",
            "cancel_reason": "customer",
            "cancelled_at": "2025-11-24T12:00:00+00:00",
        },
        "reason": "customer",
    },
    "refund.created": {
        "shop": _SHOP,
        "order": {**_ORDER, "financial_status": "refunded"},
        "refund": _REFUND,
    },
    "webhook.test": {
        "message": "Test event from Bookbag",
        "endpoint": "https://crm.example.com/hooks/bookbag",
    },
}


def example_payload(name: str) -> dict:
    return {
        "type": name,
        "timestamp": "2025-11-25T15:03:28.114000+00:00",
        "data": EXAMPLE_DATA[name],
    }


class EventTypeSerializer(serializers.Serializer):
    name = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    data_keys = serializers.ListField(child=serializers.CharField(), read_only=True)
    example = serializers.SerializerMethodField(
        help_text="A payload of this type as it is POSTed (and signed)."
    )

    @extend_schema_field({"type": "object", "additionalProperties": True})
    def get_example(self, event_type) -> dict:
        return example_payload(event_type.name)


class EventTypeListSerializer(serializers.Serializer):
    """The catalogue is short and fixed: one page, with the list envelope of every other list."""

    next = serializers.CharField(read_only=True, allow_null=True)
    previous = serializers.CharField(read_only=True, allow_null=True)
    results = EventTypeSerializer(many=True, read_only=True)
