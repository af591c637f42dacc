"""Outbound webhooks in the operations console: endpoints (secrets never shown), events with
their frozen payload, and the delivery log with its attempts and a resend action."""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
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
from webhooks import services, signing
from webhooks.event_types import CATALOGUE
from webhooks.models import Attempt, Delivery, Endpoint, Event
from webhooks.ssrf import UnsafeDestination, check_url

ENDPOINT_SECRET_FIELDS = ("secret", "previous_secret")


class EndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=2048, assume_scheme="https", label="URL")
    event_types = forms.MultipleChoiceField(
        choices=[(name, name) for name in CATALOGUE],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every event.",
    )

    class Meta:
        model = Endpoint
        fields = ("url", "description", "event_types", "max_in_flight", "active")

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            check_url(url)
        except UnsafeDestination as exc:
            raise forms.ValidationError(str(exc)) from exc
        return url


class ResendSinceForm(forms.Form):
    since = forms.DateTimeField(
        help_text="Resend every failed delivery created since this time (YYYY-MM-DD HH:MM)."
    )


@admin.register(Endpoint)
class EndpointAdmin(ConsoleAdminMixin, admin.ModelAdmin):
    """The signing secret is shown in full once, when it is created or rotated, and masked
    everywhere else."""

    form = EndpointForm
    list_display = (
        "url",
        "description",
        "active",
        "success_rate",
        "last_success_at",
        "failing_since",
        "disabled_reason",
    )
    list_filter = ("active", "failing_since", "disabled_at")
    search_fields = ("url", "description")
    readonly_fields = (
        "secret_masked",
        "previous_secret_masked",
        "previous_secret_expires_at",
        "disabled_reason",
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
    actions = ["send_test", "rotate", "enable", "disable", "resend_failed_since"]

    def get_queryset(self, request):
        # Decrypted only for the masked hint on the change page, never for the changelist.
        week_ago = timezone.now() - timedelta(days=7)
        recent = Q(deliveries__created_at__gte=week_ago)
        return (
            super()
            .get_queryset(request)
            .defer(*ENDPOINT_SECRET_FIELDS)
            .annotate(
                recent_done=Count("deliveries", filter=recent & Q(deliveries__status="done")),
                recent_failed=Count(
                    "deliveries", filter=recent & Q(deliveries__status="dead")
                    | recent & Q(deliveries__status="pending", deliveries__attempts__gt=0),
                ),
            )
        )  # fmt: skip

    def save_model(self, request, obj, form, change):
        if change:
            was_active = Endpoint.objects.filter(pk=obj.pk).values_list("active", flat=True).first()
            disabling = was_active and not obj.active
            if disabling:
                # Saved still active: disable_endpoint switches it off only if it is on, and
                # records why and holds its pending deliveries when it does.
                obj.active = True
            super().save_model(request, obj, form, change)
            if disabling:
                services.disable_endpoint(obj, reason=f"Disabled by {request.user.get_username()}.")
                obj.active = False
            elif obj.active and not was_active:
                sent = services.enable_endpoint(obj, send_held=True)
                self.message_user(request, f"Enabled; {sent} held deliveries queued to be sent.")
            return
        secret = signing.new_secret()
        obj.secret = secret
        super().save_model(request, obj, form, change)
        self.message_user(
            request,
            f"Signing secret for {obj.url}: {secret} — copy it now, it will not be shown again.",
            messages.WARNING,
        )

    @admin.display(description="Success (7 days)")
    def success_rate(self, obj):
        total = obj.recent_done + obj.recent_failed
        if not total:
            return "-"
        return f"{100 * obj.recent_done / total:.0f}% of {total}"

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

    @admin.action(description="Send a test event")
    def send_test(self, request, queryset):
        for endpoint in queryset:
            services.send_test_event(endpoint)
        self.message_user(request, f"Test event queued for {queryset.count()} endpoint(s).")

    @admin.action(description="Rotate the signing secret (the old one signs for 24 more hours)")
    def rotate(self, request, queryset):
        for endpoint in queryset:
            secret = services.rotate_secret(endpoint)
            self.message_user(
                request,
                f"New secret for {endpoint.url}: {secret} — copy it now, it will not be shown "
                "again. The previous secret keeps signing too for 24 hours.",
                messages.WARNING,
            )

    @admin.action(description="Enable, and send what was held while disabled")
    def enable(self, request, queryset):
        sent = sum(services.enable_endpoint(e, send_held=True) for e in queryset)
        self.message_user(request, f"Enabled; {sent} held deliveries queued to be sent.")

    @admin.action(description="Disable (deliveries are kept and held)")
    def disable(self, request, queryset):
        for endpoint in queryset:
            services.disable_endpoint(
                endpoint, reason=f"Disabled by {request.user.get_username()}."
            )
        self.message_user(request, "Disabled; new deliveries are held until enabled.")

    @admin.action(description="Resend everything failed since a time…")
    def resend_failed_since(self, request, queryset):
        form = ResendSinceForm(request.POST if "since" in request.POST else None)
        if form.is_valid():
            since = form.cleaned_data["since"]
            queued = sum(services.resend_failed_since(e, since) for e in queryset)
            self.message_user(request, f"{queued} failed deliveries queued to be sent again.")
            return None
        return TemplateResponse(
            request,
            "admin/webhooks/resend_failed_since.html",
            {
                **self.admin_site.each_context(request),
                "title": "Resend failed deliveries",
                "endpoints": queryset,
                "form": form,
                "action": "resend_failed_since",
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )


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
