"""Outbound webhooks in the operations console: endpoints (secrets never shown), events with
their frozen payload, and the delivery log with its attempts and a resend action."""

from django.contrib import admin
from django.db import models
from django.urls import reverse
from django.utils.html import format_html

from bookbag.core.admin_helpers import (
    ConsoleAdminMixin,
    LogAdminMixin,
    OutboxAdminMixin,
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    excerpt,
    masked_field,
    pretty_bytes_body,
    pretty_json,
    recent_values_filter,
    retry_action,
)
from webhooks.models import Attempt, Delivery, Endpoint, Event

ENDPOINT_SECRET_FIELDS = ("secret", "previous_secret")


@admin.register(Endpoint)
class EndpointAdmin(ConsoleAdminMixin, admin.ModelAdmin):
    # The signing secrets are excluded from the form and only ever shown masked. (Generating a
    # secret for a new endpoint is a separate change; until then it is created without one.)
    exclude = ENDPOINT_SECRET_FIELDS
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = (
        "url",
        "description",
        "active",
        "failing_since",
        "last_success_at",
        "disabled_reason",
        "max_in_flight",
    )
    list_filter = ("active", "failing_since", "disabled_at")
    search_fields = ("url", "description")
    readonly_fields = (
        "secret_masked",
        "previous_secret_masked",
        "previous_secret_expires_at",
        "failing_since",
        "last_success_at",
        "disabled_at",
        "created_at",
        "updated_at",
        "deliveries_link",
    )
    fieldsets = (
        (None, {"fields": ("url", "description", "event_types", "max_in_flight")}),
        ("State", {"fields": ("active", "disabled_reason", "disabled_at", "failing_since")}),
        (
            "Signing",
            {"fields": ("secret_masked", "previous_secret_masked", "previous_secret_expires_at")},
        ),
        (
            "Activity",
            {"fields": ("last_success_at", "deliveries_link", "created_at", "updated_at")},
        ),
    )

    def get_queryset(self, request):
        # Decrypted only for the masked hint on the change page, never for the changelist.
        return super().get_queryset(request).defer(*ENDPOINT_SECRET_FIELDS)

    @admin.display(description="Secret")
    def secret_masked(self, obj):
        return masked_field(obj, "secret")

    @admin.display(description="Previous secret")
    def previous_secret_masked(self, obj):
        return masked_field(obj, "previous_secret")

    @admin.display(description="Deliveries")
    def deliveries_link(self, obj):
        if obj.pk is None:
            return "-"
        url = reverse("admin:webhooks_delivery_changelist")
        return format_html('<a href="{}?endpoint__id__exact={}">Deliveries</a>', url, obj.pk)


@admin.register(Event)
class EventAdmin(ReadOnlyAdminMixin, LogAdminMixin, admin.ModelAdmin):
    list_display = ("id", "created_at", "type", "message_id")
    list_filter = (recent_values_filter("type", "type"), "created_at")
    search_fields = ("message_id__exact",)
    search_help_text = "The exact message id (msg_…), as the receiver saw it in webhook-id."
    date_hierarchy = "created_at"
    changelist_defer = ("payload",)
    fields = ("message_id", "type", "created_at", "deliveries_link", "payload_pretty")
    readonly_fields = ("deliveries_link", "payload_pretty")

    @admin.display(description="Payload (the signed bytes)")
    def payload_pretty(self, obj):
        return pretty_bytes_body(obj.payload)

    @admin.display(description="Deliveries")
    def deliveries_link(self, obj):
        url = reverse("admin:webhooks_delivery_changelist")
        return format_html('<a href="{}?event__id__exact={}">Deliveries</a>', url, obj.pk)


class AttemptInline(ReadOnlyInline, admin.TabularInline):
    model = Attempt
    fields = ("created_at", "response_status", "duration_ms", "error_excerpt", "body_excerpt")
    readonly_fields = fields

    @admin.display(description="Error")
    def error_excerpt(self, obj):
        return excerpt(obj.error, 200)

    @admin.display(description="Response body")
    def body_excerpt(self, obj):
        return excerpt(obj.response_body, 200)


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdminMixin, OutboxAdminMixin, LogAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "created_at",
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "last_attempt_at",
        "next_attempt_at",
        "error",
    )
    list_filter = (
        "status",
        "endpoint",
        recent_values_filter("last_status_code", "last status code"),
        "created_at",
    )
    search_fields = ("event__message_id__exact",)
    search_help_text = "The exact message id (msg_…) of the event."
    list_select_related = ("event", "endpoint")
    # The event's payload stays in the database (only its type and id are listed), and the
    # endpoint's secrets are never decrypted for a list.
    changelist_defer = ("event__payload", "endpoint__secret", "endpoint__previous_secret")
    raw_id_fields = ("event", "endpoint")
    date_hierarchy = "created_at"
    fieldsets = (
        (
            None,
            {"fields": ("event", "endpoint", "created_at", "succeeded_at", "last_attempt_at")},
        ),
        ("Processing", {"fields": (*OutboxAdminMixin.outbox_state_fields, "last_status_code")}),
        ("Payload", {"fields": ("payload_pretty",)}),
    )
    readonly_fields = ("payload_pretty",)
    inlines = (AttemptInline,)
    actions = ["resend"]

    resend = retry_action("Resend selected deliveries", verb="queued to be sent again")

    @admin.display(description="Event", ordering="event__type")
    def event_type(self, obj):
        return f"{obj.event.type} {obj.event.message_id}"

    @admin.display(description="Last error")
    def error(self, obj):
        return excerpt(obj.last_error)

    @admin.display(description="Payload (the signed bytes)")
    def payload_pretty(self, obj):
        return pretty_bytes_body(obj.event.payload)


@admin.register(Attempt)
class AttemptAdmin(ReadOnlyAdminMixin, LogAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "created_at",
        "delivery",
        "endpoint",
        "response_status",
        "duration_ms",
        "succeeded",
        "error_excerpt",
    )
    list_filter = (
        recent_values_filter("response_status", "response status"),
        "delivery__endpoint",
        "created_at",
    )
    search_fields = ("delivery__event__message_id__exact",)
    search_help_text = "The exact message id (msg_…) of the delivered event."
    list_select_related = ("delivery__endpoint",)
    raw_id_fields = ("delivery",)
    date_hierarchy = "created_at"
    changelist_defer = (
        "response_body",
        "request_headers",
        "delivery__last_error",
        "delivery__endpoint__secret",
        "delivery__endpoint__previous_secret",
    )
    fields = (
        "delivery",
        "created_at",
        "response_status",
        "duration_ms",
        "error",
        "request_headers_pretty",
        "response_body_pre",
    )
    readonly_fields = ("request_headers_pretty", "response_body_pre")

    @admin.display(description="Endpoint")
    def endpoint(self, obj):
        return obj.delivery.endpoint

    @admin.display(description="OK", boolean=True)
    def succeeded(self, obj):
        return obj.succeeded

    @admin.display(description="Error")
    def error_excerpt(self, obj):
        return excerpt(obj.error)

    @admin.display(description="Request headers")
    def request_headers_pretty(self, obj):
        return pretty_json(obj.request_headers)

    @admin.display(description="Response body")
    def response_body_pre(self, obj):
        return pretty_bytes_body(obj.response_body)
