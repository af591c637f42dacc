"""API representations of Shopify data. Shopify ids are strings (JavaScript loses precision above
2^53), inside stored line items too; money is a decimal string; times are ISO 8601."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from integrations.models import Customer, Fulfillment, InboundWebhook, Order, Refund, Shop

SHOPIFY_ID_SCHEMA = {
    "type": "string",
    "pattern": "^[0-9]+$",
    "description": "A Shopify id, as a string.",
    "example": "9007199254740993",
}
JSON_LIST_SCHEMA = {"type": "array", "items": {"type": "object", "additionalProperties": True}}


@extend_schema_field(SHOPIFY_ID_SCHEMA)
class ShopifyIdField(serializers.Field):
    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value) -> str:
        return str(value)


def stringify_ids(value):
    """Shopify ids inside stored JSON (`id`, `product_id`, ...) become strings."""
    if isinstance(value, dict):
        return {
            k: str(v)
            if isinstance(v, int) and not isinstance(v, bool) and (k == "id" or k.endswith("_id"))
            else stringify_ids(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [stringify_ids(v) for v in value]
    return value


@extend_schema_field(JSON_LIST_SCHEMA)
class ShopifyJSONListField(serializers.Field):
    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        return stringify_ids(value or [])


class ShopSerializer(serializers.ModelSerializer):
    class Meta:
        model = Shop
        fields = ("id", "domain", "name", "installed", "uninstalled_at", "timezone", "created_at")
        read_only_fields = fields


# Stored emails may be blank (a guest checkout, a redacted customer): plain strings on output,
# not `format: email`, which an empty string would contradict.
def _email() -> serializers.CharField:
    return serializers.CharField(read_only=True)


class CustomerSummarySerializer(serializers.ModelSerializer):
    shopify_id = ShopifyIdField(allow_null=True)
    email = _email()

    class Meta:
        model = Customer
        fields = ("id", "shopify_id", "email", "first_name", "last_name")
        read_only_fields = fields


class CustomerSerializer(serializers.ModelSerializer):
    shopify_id = ShopifyIdField(allow_null=True)
    email = _email()

    class Meta:
        model = Customer
        fields = (
            "id", "shop", "shopify_id", "email", "first_name", "last_name", "phone", "locale",
            "shopify_updated_at", "deleted_at", "redacted_at", "created_at", "updated_at",
        )  # fmt: skip
        read_only_fields = fields


class OrderSummarySerializer(serializers.ModelSerializer):
    shopify_id = ShopifyIdField()

    class Meta:
        model = Order
        fields = ("id", "shopify_id", "name", "financial_status", "fulfillment_status")
        read_only_fields = fields


class FulfillmentSerializer(serializers.ModelSerializer):
    shopify_id = ShopifyIdField()
    tracking_numbers = serializers.ListField(child=serializers.CharField(), read_only=True)
    tracking_urls = serializers.ListField(child=serializers.CharField(), read_only=True)
    line_items = ShopifyJSONListField()

    class Meta:
        model = Fulfillment
        fields = (
            "id", "shopify_id", "name", "status", "shipment_status", "tracking_company",
            "tracking_numbers", "tracking_urls", "line_items", "shopify_created_at",
            "shopify_updated_at", "last_event_at",
        )  # fmt: skip
        read_only_fields = fields


class RefundSerializer(serializers.ModelSerializer):
    shopify_id = ShopifyIdField()
    line_items = ShopifyJSONListField()

    class Meta:
        model = Refund
        fields = (
            "id", "shopify_id", "amount", "currency", "note", "processed_at",
            "shopify_created_at", "line_items",
        )  # fmt: skip
        read_only_fields = fields


class OrderSerializer(serializers.ModelSerializer):
    shopify_id = ShopifyIdField()
    customer = CustomerSummarySerializer(read_only=True, allow_null=True)
    email = _email()
    tags = serializers.ListField(source="tag_list", child=serializers.CharField(), read_only=True)
    line_items = ShopifyJSONListField()
    shipping_address = serializers.JSONField(read_only=True)
    fulfillments = FulfillmentSerializer(many=True, read_only=True)
    refunds = RefundSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = (
            "id", "shop", "shopify_id", "name", "customer", "email", "customer_locale",
            "financial_status", "fulfillment_status", "cancelled_at", "cancel_reason", "tags",
            "test", "risk_level", "total_price", "subtotal_price", "total_refunded", "currency",
            "shopify_created_at", "processed_at", "shopify_updated_at", "deleted_at",
            "line_items", "shipping_address", "fulfillments", "refunds", "created_at",
            "updated_at",
        )  # fmt: skip
        read_only_fields = fields


class InboundWebhookSerializer(serializers.ModelSerializer):
    shop = serializers.SlugRelatedField(slug_field="domain", read_only=True)

    class Meta:
        model = InboundWebhook
        fields = (
            "id", "shop", "topic", "webhook_id", "event_id", "api_version", "triggered_at",
            "status", "attempts", "next_attempt_at", "last_error", "processed_at", "created_at",
            "updated_at",
        )  # fmt: skip
        read_only_fields = fields


class InboundWebhookDetailSerializer(InboundWebhookSerializer):
    body = serializers.SerializerMethodField(
        help_text="The raw request body as Shopify sent it (invalid UTF-8 replaced)."
    )
    headers = serializers.JSONField(read_only=True)

    class Meta(InboundWebhookSerializer.Meta):
        fields = (*InboundWebhookSerializer.Meta.fields, "headers", "body")
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_body(self, obj: InboundWebhook) -> str:
        return bytes(obj.body or b"").decode("utf-8", errors="replace")
