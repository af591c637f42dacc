"""Tickets in the operations console. Agents work tickets in the inbox; here an admin looks a ticket
up, fixes its status, priority, assignee or tags, and reads its conversation and timeline."""

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html

from bookbag.core.admin_helpers import (
    ConsoleAdminMixin,
    LogAdminMixin,
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    excerpt,
    pretty_json,
    recent_values_filter,
)
from tickets import services
from tickets.models import CsatSurvey, Message, SavedReply, Tag, Ticket, TicketEvent, TicketStatus


@admin.register(Tag)
class TagAdmin(ConsoleAdminMixin, admin.ModelAdmin):
    list_display = ("name", "swatch", "created_at")
    search_fields = ("name",)

    @admin.display(description="Colour")
    def swatch(self, obj):
        return format_html(
            '<span style="display:inline-block;width:1em;height:1em;background:{};"></span> {}',
            obj.color,
            obj.color,
        )


class MessageInline(ReadOnlyInline, admin.StackedInline):
    model = Message
    fields = ("created_at", "author_kind", "author", "internal", "channel", "body")
    readonly_fields = fields


class TicketEventInline(ReadOnlyInline, admin.TabularInline):
    model = TicketEvent
    fields = ("created_at", "kind", "actor", "automation", "data_pretty")
    readonly_fields = fields

    @admin.display(description="Data")
    def data_pretty(self, obj):
        return pretty_json(obj.data)


@admin.register(Ticket)
class TicketAdmin(LogAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "subject",
        "customer",
        "shop",
        "status",
        "priority",
        "assignee",
        "channel",
        "last_activity_at",
    )
    list_display_links = ("id", "subject")
    list_filter = ("status", "priority", "shop", "assignee", "channel", "tags", "last_activity_at")
    search_fields = ("subject", "customer__email", "id__exact")
    search_help_text = "Subject, customer email, or the ticket number."
    list_select_related = ("customer", "shop", "assignee")
    raw_id_fields = ("customer", "order", "assignee")
    filter_horizontal = ("tags",)
    date_hierarchy = "last_activity_at"
    readonly_fields = (
        "last_activity_at",
        "resolved_at",
        "resolved_by",
        "resolved_by_automation",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("subject", "shop", "customer", "order", "channel")}),
        ("Triage", {"fields": ("status", "priority", "assignee", "tags")}),
        (
            "Activity",
            {
                "fields": (
                    "last_activity_at",
                    "resolved_at",
                    "resolved_by",
                    "resolved_by_automation",
                    "created_at",
                    "updated_at",
                )
            },
        ),
    )
    inlines = (MessageInline, TicketEventInline)

    def save_model(self, request, obj, form, change):
        """Status, priority and assignee go through tickets.services, like every other change,
        so the timeline and the signals (outbound webhooks, CSAT) follow an admin's edit too."""
        if not change:
            if obj.status == TicketStatus.RESOLVED:
                obj.resolved_at, obj.resolved_by = timezone.now(), request.user
            super().save_model(request, obj, form, change)
            services.record_event(ticket=obj, kind="created", actor=request.user)
            return
        original = Ticket.objects.get(pk=obj.pk)
        wanted = (obj.status, obj.priority, obj.assignee)
        for field in ("status", "priority", "assignee", "resolved_at", "resolved_by"):
            setattr(obj, field, getattr(original, field))
        obj.resolved_by_automation = original.resolved_by_automation
        super().save_model(request, obj, form, change)
        services.change_status(ticket=obj, status=wanted[0], actor=request.user)
        services.change_priority(ticket=obj, priority=wanted[1], actor=request.user)
        services.assign(ticket=obj, assignee=wanted[2], actor=request.user)
        obj.refresh_from_db()


@admin.register(Message)
class MessageAdmin(ReadOnlyAdminMixin, LogAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "ticket",
        "author_kind",
        "author",
        "internal",
        "channel",
        "preview",
        "created_at",
    )
    list_filter = ("author_kind", "internal", "channel", "created_at")
    search_fields = ("email_message_id__exact",)
    search_help_text = "The exact email Message-ID. A ticket's conversation is on the ticket."
    list_select_related = ("ticket", "author")
    raw_id_fields = ("ticket", "author")
    date_hierarchy = "created_at"

    @admin.display(description="Body")
    def preview(self, obj):
        return excerpt(obj.body)


@admin.register(TicketEvent)
class TicketEventAdmin(ReadOnlyAdminMixin, LogAdminMixin, admin.ModelAdmin):
    list_display = ("id", "ticket", "kind", "actor", "automation", "created_at")
    list_filter = (recent_values_filter("kind", "kind"), "created_at")
    search_fields = ("dedupe_key__exact",)
    search_help_text = "The exact dedupe key. A ticket's timeline is on the ticket."
    list_select_related = ("ticket", "actor")
    raw_id_fields = ("ticket", "actor")
    date_hierarchy = "created_at"
    changelist_defer = ("data",)
    exclude = ("data",)
    readonly_fields = ("data_pretty",)

    @admin.display(description="Data")
    def data_pretty(self, obj):
        return pretty_json(obj.data)


@admin.register(SavedReply)
class SavedReplyAdmin(ConsoleAdminMixin, admin.ModelAdmin):
    list_display = ("title", "created_by", "updated_at")
    search_fields = ("title", "body")
    list_select_related = ("created_by",)
    raw_id_fields = ("created_by",)
    readonly_fields = ("created_at", "updated_at")

    def save_model(self, request, obj, form, change):
        if not change and obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(CsatSurvey)
class CsatSurveyAdmin(ReadOnlyAdminMixin, ConsoleAdminMixin, admin.ModelAdmin):
    """Surveys are sent when a ticket is resolved and answered by the customer: view only. The
    token (the survey link's key) is not shown."""

    list_display = ("__str__", "ticket", "score", "sent_at", "answered_at", "expires_at")
    list_filter = ("score", "answered_at", "sent_at")
    search_fields = ("ticket__subject", "ticket__customer__email")
    list_select_related = ("ticket",)
    raw_id_fields = ("ticket",)
    exclude = ("token",)
