"""Shopify data as Bookbag keeps it: shops, customers, orders, fulfillments, refunds, and the
inbound webhook log (an outbox: each row is processed by integrations.tasks)."""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q

from bookbag.core.fields import EncryptedTextField
from bookbag.core.models import OutboxModel, TimestampedModel, outbox_indexes


class Shop(TimestampedModel):
    domain = models.CharField(max_length=255, unique=True, help_text="example.myshopify.com")
    name = models.CharField(max_length=255, blank=True)
    # Shopify signs app webhooks with the app's client secret (SHOPIFY_API_SECRET); a shop can
    # carry its own (webhooks made in the store admin are signed with the store's key).
    webhook_secret = EncryptedTextField(blank=True)
    previous_webhook_secret = EncryptedTextField(blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    installed = models.BooleanField(default=True)
    uninstalled_at = models.DateTimeField(null=True, blank=True)
    redacted_at = models.DateTimeField(
        null=True, blank=True, help_text="Set by shop/redact: the data is gone, the row stays."
    )
    # Per-automation switches.
    send_tracking_emails = models.BooleanField(default=True)
    post_order_timeline = models.BooleanField(default=True)
    auto_resolve_refunds = models.BooleanField(default=True)
    escalate_flagged_orders = models.BooleanField(default=True)
    send_cancellation_emails = models.BooleanField(default=True)
    notify_test_orders = models.BooleanField(
        default=False, help_text="Send customer emails for Shopify test orders too."
    )
    sender_name = models.CharField(max_length=255, blank=True)
    from_email = models.EmailField(blank=True)
    reply_to_email = models.EmailField(blank=True)
    timezone = models.CharField(max_length=64, default="UTC")

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.name or self.domain


class Customer(TimestampedModel):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="customers")
    # NULL (never '') for an email-only customer; gains the id when Shopify first mentions them.
    shopify_id = models.BigIntegerField(null=True, blank=True)
    email = models.EmailField(blank=True)
    first_name = models.CharField(max_length=255, blank=True)
    last_name = models.CharField(max_length=255, blank=True)
    phone = models.CharField(max_length=64, blank=True)
    locale = models.CharField(max_length=16, blank=True)
    shopify_updated_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True, help_text="Deleted in Shopify.")
    redacted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "shopify_id"],
                condition=Q(shopify_id__isnull=False),
                name="customer_unique_shopify_id",
            )
        ]
        indexes = [models.Index(fields=["shop", "email"], name="customer_shop_email_idx")]

    def __str__(self) -> str:
        return self.full_name or self.email or f"Customer {self.pk}"

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)


class RiskLevel(models.TextChoices):
    NONE = "", "Not assessed"
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


MONEY = {"max_digits": 16, "decimal_places": 3}  # three places: KWD, BHD, OMR, ...


class Order(TimestampedModel):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="orders")
    shopify_id = models.BigIntegerField()
    name = models.CharField(max_length=64, blank=True, help_text="#1001")
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )  # null: guest checkout
    email = models.EmailField(blank=True)
    customer_locale = models.CharField(max_length=16, blank=True)
    financial_status = models.CharField(max_length=32, blank=True)
    fulfillment_status = models.CharField(max_length=32, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=32, blank=True)
    tags = models.TextField(blank=True, help_text="Shopify's comma-separated tags")
    test = models.BooleanField(default=False)
    risk_level = models.CharField(max_length=8, choices=RiskLevel.choices, blank=True)
    total_price = models.DecimalField(**MONEY, default=0)
    subtotal_price = models.DecimalField(**MONEY, default=0)
    total_refunded = models.DecimalField(**MONEY, default=0)
    currency = models.CharField(max_length=3, blank=True)
    shopify_created_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    shopify_updated_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True, help_text="Deletes are soft.")
    line_items = models.JSONField(default=list, blank=True, encoder=DjangoJSONEncoder)
    shipping_address = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    raw = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ["-shopify_created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "shopify_id"], name="order_unique_shopify_id")
        ]
        indexes = [
            models.Index(fields=["customer", "-shopify_created_at"], name="order_customer_idx"),
            models.Index(fields=["shop", "name"], name="order_shop_name_idx"),
            # The inbox's live-update poll asks "what changed last" (tickets.queries).
            models.Index(fields=["updated_at"], name="order_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.name or f"Order {self.shopify_id}"

    @property
    def tag_list(self) -> list[str]:
        return [t.strip() for t in self.tags.split(",") if t.strip()]


class Fulfillment(TimestampedModel):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="fulfillments")
    shopify_id = models.BigIntegerField()
    # Shopify does not promise the order arrives first: keep its id and link when it does.
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.CASCADE, related_name="fulfillments"
    )
    order_shopify_id = models.BigIntegerField()
    name = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=32, blank=True)
    shipment_status = models.CharField(max_length=32, blank=True)
    tracking_company = models.CharField(max_length=255, blank=True)
    tracking_numbers = models.JSONField(default=list, blank=True)
    tracking_urls = models.JSONField(default=list, blank=True)
    line_items = models.JSONField(default=list, blank=True, encoder=DjangoJSONEncoder)
    shopify_created_at = models.DateTimeField(null=True, blank=True)
    shopify_updated_at = models.DateTimeField(null=True, blank=True)
    # The time of the news that set shipment_status (a carrier scan, or Shopify's update).
    last_event_at = models.DateTimeField(null=True, blank=True)
    # Every shipment status seen, [{"status", "at"}], whatever order the news came in: what
    # the order's tickets are told once the order is known (it may arrive after its shipment).
    shipment_history = models.JSONField(default=list, blank=True)
    # When order_fulfilled was sent: once per fulfillment, and only once its order is known.
    announced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "shopify_id"], name="fulfillment_unique_shopify_id"
            )
        ]
        indexes = [
            models.Index(fields=["shop", "order_shopify_id"], name="fulfillment_order_sid_idx"),
            models.Index(fields=["updated_at"], name="fulfillment_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.name or f"Fulfillment {self.shopify_id}"

    @property
    def has_tracking(self) -> bool:
        return bool(self.tracking_numbers)


class Refund(TimestampedModel):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="refunds")
    shopify_id = models.BigIntegerField()
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.CASCADE, related_name="refunds"
    )
    order_shopify_id = models.BigIntegerField()
    amount = models.DecimalField(**MONEY, default=0)
    currency = models.CharField(max_length=3, blank=True)
    note = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    shopify_created_at = models.DateTimeField(null=True, blank=True)
    line_items = models.JSONField(default=list, blank=True, encoder=DjangoJSONEncoder)
    # When refund_created was sent: once, and only once its order is known.
    announced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "shopify_id"], name="refund_unique_shopify_id")
        ]
        indexes = [models.Index(fields=["shop", "order_shopify_id"], name="refund_order_sid_idx")]

    def __str__(self) -> str:
        return f"Refund {self.shopify_id}"


class InboundWebhook(OutboxModel):
    """One verified delivery from Shopify, stored before it is acknowledged."""

    task = "integrations.tasks.process_inbound_webhook"
    max_attempts = 8
    retry_delays = (10, 60, 300, 1800, 3600, 7200, 14400)
    lease_seconds = 120
    fair_key = "shop_id"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="inbound_webhooks")
    topic = models.CharField(max_length=64)
    webhook_id = models.CharField(max_length=255, unique=True)
    event_id = models.CharField(max_length=255, null=True, blank=True)
    api_version = models.CharField(max_length=16, blank=True)
    triggered_at = models.DateTimeField(null=True, blank=True)
    body = models.BinaryField(help_text="The raw request body, byte for byte (it was signed).")
    headers = models.JSONField(default=dict, blank=True)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )  # so customers/redact can find the payloads that carry this customer
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "topic", "event_id"],
                condition=Q(event_id__isnull=False),
                name="inbound_unique_event_id",
            )
        ]
        indexes = [
            *outbox_indexes("inbound"),
            models.Index(fields=["shop", "topic", "-created_at"], name="inbound_shop_topic_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.webhook_id}"


class DataExport(TimestampedModel):
    """The answer to customers/data_request: everything Bookbag holds on one customer."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="data_exports")
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    shopify_customer_id = models.BigIntegerField(null=True, blank=True)
    email = models.EmailField(blank=True)
    inbound_webhook = models.ForeignKey(
        InboundWebhook, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"Export for {self.email or self.shopify_customer_id}"
