"""Shopify data in the operations console: shops, their customers and orders, and the inbound
webhook log with its reprocess/ignore actions."""

from django import forms
from django.contrib import admin, messages

from bookbag.core.admin_helpers import (
    ConsoleAdminMixin,
    LogAdminMixin,
    OutboxAdminMixin,
    ReadOnlyAdminMixin,
    excerpt,
    mark_ignored,
    masked_field,
    pretty_bytes_body,
    pretty_json,
    recent_values_filter,
    retry_action,
)
from integrations.models import (
    Customer,
    DataExport,
    Fulfillment,
    InboundWebhook,
    Order,
    Refund,
    Shop,
)

SHOP_SECRET_FIELDS = ("webhook_secret", "previous_webhook_secret")


class ShopAdminForm(forms.ModelForm):
    """The signing secrets never reach the page: a new one may be typed in, the old one is kept
    when the box is left empty."""

    new_webhook_secret = forms.CharField(
        label="New webhook secret",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only. Leave empty to keep the current secret.",
    )

    class Meta:
        model = Shop
        # An allow-list: a secret field added to Shop later stays off the page until listed.
        fields = (
            "domain",
            "name",
            "timezone",
            "installed",
            "uninstalled_at",
            "redacted_at",
            "sender_name",
            "from_email",
            "reply_to_email",
            "send_tracking_emails",
            "post_order_timeline",
            "auto_resolve_refunds",
            "escalate_flagged_orders",
            "send_cancellation_emails",
            "notify_test_orders",
            "previous_secret_expires_at",
        )

    def save(self, commit=True):
        secret = self.cleaned_data.get("new_webhook_secret")
        if secret:
            self.instance.webhook_secret = secret
        return super().save(commit=commit)


@admin.register(Shop)
class ShopAdmin(ConsoleAdminMixin, admin.ModelAdmin):
    form = ShopAdminForm
    exclude = SHOP_SECRET_FIELDS
    list_display = ("domain", "name", "installed", "uninstalled_at", "redacted_at", "created_at")
    list_filter = ("installed", "redacted_at", "created_at")
    search_fields = ("domain", "name")
    readonly_fields = (
        "webhook_secret_masked",
        "previous_webhook_secret_masked",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("domain", "name", "timezone", "installed")}),
        ("Lifecycle", {"fields": ("uninstalled_at", "redacted_at", "created_at", "updated_at")}),
        ("Sender", {"fields": ("sender_name", "from_email", "reply_to_email")}),
        (
            "Automations",
            {
                "fields": (
                    "send_tracking_emails",
                    "post_order_timeline",
                    "auto_resolve_refunds",
                    "escalate_flagged_orders",
                    "send_cancellation_emails",
                    "notify_test_orders",
                )
            },
        ),
        (
            "Webhook signing",
            {
                "description": "Not set: SHOPIFY_API_SECRET verifies this shop's webhooks.",
                "fields": (
                    "webhook_secret_masked",
                    "new_webhook_secret",
                    "previous_webhook_secret_masked",
                    "previous_secret_expires_at",
                ),
            },
        ),
    )

    def get_queryset(self, request):
        # Decrypted only when the masked hint is shown, never for the changelist.
        return super().get_queryset(request).defer(*SHOP_SECRET_FIELDS)

    @admin.display(description="Webhook secret")
    def webhook_secret_masked(self, obj):
        return masked_field(obj, "webhook_secret")

    @admin.display(description="Previous webhook secret")
    def previous_webhook_secret_masked(self, obj):
        return masked_field(obj, "previous_webhook_secret")


@admin.register(Customer)
class CustomerAdmin(LogAdminMixin, admin.ModelAdmin):
    list_display = ("id", "email", "full_name", "shop", "shopify_id", "created_at", "redacted_at")
    list_filter = ("shop", "created_at", "redacted_at")
    search_fields = ("email", "first_name", "last_name", "phone", "shopify_id__exact")
    list_select_related = ("shop",)
    readonly_fields = ("created_at", "updated_at")


@admin.register(Order)
class OrderAdmin(LogAdminMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "shop",
        "customer",
        "email",
        "financial_status",
        "fulfillment_status",
        "total",
        "test",
        "shopify_created_at",
    )
    list_filter = (
        "shop",
        "financial_status",
        "fulfillment_status",
        "risk_level",
        "test",
        "shopify_created_at",
        "cancelled_at",
    )
    search_fields = ("name", "email", "customer__email", "shopify_id__exact")
    search_help_text = "Order name (#1001), email, or the exact Shopify order id."
    list_select_related = ("shop", "customer")
    raw_id_fields = ("customer",)
    date_hierarchy = "shopify_created_at"
    changelist_defer = ("raw", "line_items", "shipping_address")
    readonly_fields = ("raw_pretty", "created_at", "updated_at")
    exclude = ("raw",)

    @admin.display(description="Total", ordering="total_price")
    def total(self, obj):
        return f"{obj.total_price} {obj.currency}".strip()

    @admin.display(description="Raw payload (as last received)")
    def raw_pretty(self, obj):
        return pretty_json(obj.raw)


@admin.register(Fulfillment)
class FulfillmentAdmin(LogAdminMixin, admin.ModelAdmin):
    list_display = (
        "__str__",
        "shop",
        "order",
        "status",
        "shipment_status",
        "tracking_company",
        "last_event_at",
    )
    list_filter = ("shop", "status", "shipment_status", "last_event_at")
    search_fields = ("name", "order__name", "shopify_id__exact", "order_shopify_id__exact")
    list_select_related = ("shop", "order")
    raw_id_fields = ("order",)
    changelist_defer = ("line_items",)
    readonly_fields = ("created_at", "updated_at")


@admin.register(Refund)
class RefundAdmin(LogAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "shop", "order", "amount", "currency", "processed_at")
    list_filter = ("shop", "processed_at")
    search_fields = ("order__name", "shopify_id__exact", "order_shopify_id__exact")
    list_select_related = ("shop", "order")
    raw_id_fields = ("order",)
    changelist_defer = ("line_items", "note")
    readonly_fields = ("created_at", "updated_at")


@admin.register(InboundWebhook)
class InboundWebhookAdmin(ReadOnlyAdminMixin, OutboxAdminMixin, LogAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "created_at",
        "shop",
        "topic",
        "webhook_id",
        "status",
        "attempts",
        "next_attempt_at",
        "processed_at",
        "error",
    )
    list_filter = ("status", recent_values_filter("topic", "topic"), "shop", "created_at")
    search_fields = ("webhook_id__exact",)
    search_help_text = "The exact X-Shopify-Webhook-Id. Filter by shop and topic on the right."
    list_select_related = ("shop",)
    date_hierarchy = "created_at"
    changelist_defer = ("body", "headers")
    raw_id_fields = ("customer",)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "shop",
                    "topic",
                    "webhook_id",
                    "event_id",
                    "api_version",
                    "triggered_at",
                    "customer",
                    "created_at",
                    "processed_at",
                )
            },
        ),
        ("Processing", {"fields": OutboxAdminMixin.outbox_state_fields}),
        ("Request", {"fields": ("headers_pretty", "body_pretty")}),
    )
    readonly_fields = ("headers_pretty", "body_pretty")
    actions = ["reprocess", "ignore"]

    reprocess = retry_action("Reprocess selected webhooks", verb="queued for processing")

    @admin.action(description="Mark selected webhooks ignored", permissions=["retry"])
    def ignore(self, request, queryset):
        changed = mark_ignored(InboundWebhook, queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            f"{changed} marked ignored (rows already done or being processed are left alone).",
            messages.SUCCESS if changed else messages.WARNING,
        )

    @admin.display(description="Last error")
    def error(self, obj):
        return excerpt(obj.last_error)

    @admin.display(description="Body")
    def body_pretty(self, obj):
        return pretty_bytes_body(obj.body)

    @admin.display(description="Headers")
    def headers_pretty(self, obj):
        return pretty_json(obj.headers)


@admin.register(DataExport)
class DataExportAdmin(ReadOnlyAdminMixin, LogAdminMixin, admin.ModelAdmin):
    list_display = ("id", "shop", "email", "shopify_customer_id", "completed_at", "created_at")
    list_filter = ("shop", "completed_at", "created_at")
    search_fields = ("email", "shopify_customer_id__exact")
    list_select_related = ("shop",)
    raw_id_fields = ("customer", "inbound_webhook")
    changelist_defer = ("data",)
    exclude = ("data",)
    readonly_fields = ("data_pretty",)

    @admin.display(description="Data")
    def data_pretty(self, obj):
        return pretty_json(obj.data)
