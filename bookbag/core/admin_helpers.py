"""Generic pieces for the Django admin as an operations console (STYLE.md item 13).

Nothing here knows an app: the app admins plug their models in. Log tables (inbound webhooks,
notifications, deliveries, attempts, events) grow without bound, so their changelists must not
COUNT(*) the table, nor load the raw body of every row on the page.
"""

import json
from collections.abc import Callable, Iterable

from django.contrib import admin, messages
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import get_permission_codename
from django.core.paginator import Paginator
from django.db import connections, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.safestring import SafeString

from bookbag.core.fields import EncryptedTextField
from bookbag.core.models import OutboxModel, OutboxStatus
from bookbag.core.outbox import retry_now

# --- Counting and loading less ----------------------------------------------------------------


class CheapPaginator(Paginator):
    """A paginator that never counts a big table in full.

    Unfiltered on PostgreSQL, a large table is counted from the planner's estimate
    (pg_class.reltuples). Otherwise the count stops at `count_limit` rows (a COUNT over a LIMIT
    subquery): past that, narrow the list with a filter or the date drill-down.
    """

    count_limit = 10_000

    @cached_property
    def count(self) -> int:
        qs = self.object_list
        if not isinstance(qs, QuerySet):
            return super().count
        if not qs.query.where and not qs.query.distinct:
            estimate = self._estimate(qs)
            if estimate is not None and estimate > self.count_limit:
                return estimate
        return qs.order_by()[: self.count_limit].count()

    @staticmethod
    def _estimate(qs: QuerySet) -> int | None:
        connection = connections[qs.db]
        if connection.vendor != "postgresql":
            return None
        table = connection.ops.quote_name(qs.model._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)", [table]
            )
            row = cursor.fetchone()
        # -1 (PostgreSQL 14+) or NULL: never analyzed, no estimate.
        return row[0] if row and row[0] is not None and row[0] >= 0 else None


# --- Keeping secrets (and big columns) out of lists ---------------------------------------------


def encrypted_fields(model) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]


def _encrypted_in_select_related(model, select_related, prefix: str = "") -> list[str]:
    if not isinstance(select_related, dict):
        return []
    names = []
    for name, nested in select_related.items():
        related = model._meta.get_field(name).related_model
        names += [f"{prefix}{name}__{f}" for f in encrypted_fields(related)]
        names += _encrypted_in_select_related(related, nested, f"{prefix}{name}__")
    return names


class DeferringChangeList(ChangeList):
    """The changelist leaves out the model admin's `changelist_defer` columns (raw bodies) and
    every encrypted field, the model's own and those of the rows joined by select_related: a
    list never needs a secret, nor fails when one cannot be decrypted."""

    def get_queryset(self, request, exclude_parameters=None):
        qs = super().get_queryset(request, exclude_parameters)
        deferred = [
            *getattr(self.model_admin, "changelist_defer", ()),
            *encrypted_fields(qs.model),
            *_encrypted_in_select_related(qs.model, qs.query.select_related),
        ]
        return qs.defer(*deferred) if deferred else qs


class SecretlessRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """The related-object filter, without loading the related rows' encrypted fields."""

    def field_choices(self, field, request, model_admin):
        related = field.related_model
        ordering = self.field_admin_ordering(field, request, model_admin)
        qs = related._default_manager.defer(*encrypted_fields(related))
        if ordering:
            qs = qs.order_by(*ordering)
        return [(obj.pk, str(obj)) for obj in qs]


class ConsoleAdminMixin:
    """Bookbag's admin defaults: lists, filters and foreign-key choices never load secrets."""

    changelist_defer: tuple[str, ...] = ()

    def get_changelist(self, request, **kwargs):
        return DeferringChangeList

    def get_list_filter(self, request):
        filters = []
        for item in super().get_list_filter(request):
            if isinstance(item, str):
                field = get_fields_from_path(self.model, item)[-1]
                if field.is_relation and encrypted_fields(field.related_model):
                    item = (item, SecretlessRelatedFieldListFilter)
            filters.append(item)
        return filters

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        hidden = encrypted_fields(db_field.related_model)
        if hidden and "queryset" not in kwargs:
            kwargs["queryset"] = db_field.related_model._default_manager.defer(*hidden)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class LogAdminMixin(ConsoleAdminMixin):
    """For tables that grow without bound: no full count, a cheap paginator, big columns
    deferred on the changelist (they are still loaded on the change page)."""

    show_full_result_count = False
    paginator = CheapPaginator


class ReadOnlyAdminMixin:
    """Rows written only by the application (logs, outbox rows): viewable, never hand-made or
    hand-edited. Deleting stays possible for housekeeping."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline:
    """An inline that shows related rows without letting anyone add, edit or delete them."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# --- Displaying values ----------------------------------------------------------------------

PRE_STYLE = "white-space: pre-wrap; word-break: break-all; max-height: 40em; overflow: auto;"
MAX_PRETTY_BYTES = 1_000_000  # beyond this, show the start of the body as it is


def pretty_bytes_body(value: bytes | memoryview | str | None) -> SafeString:
    """Raw bytes (a BinaryField) as readable text in <pre>: decoded with errors="replace", and
    pretty-printed when it is JSON. Never the repr b'...'; everything is escaped."""
    if value is None or len(value) == 0:
        return format_html("<em>{}</em>", "empty")
    raw = value.encode() if isinstance(value, str) else bytes(value)
    size = len(raw)
    if size > MAX_PRETTY_BYTES:
        text = raw[:MAX_PRETTY_BYTES].decode("utf-8", errors="replace")
        note = f"{size:,} bytes; the first {MAX_PRETTY_BYTES:,} shown as received"
    else:
        text = raw.decode("utf-8", errors="replace")
        note = f"{size:,} bytes"
        try:
            # Display only: the stored bytes stay byte-exact; key order is kept.
            text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
            note += ", JSON re-indented for reading"
        except ValueError:
            note += ", shown as received"
    return format_html('<pre style="{}">{}</pre><div class="help">{}</div>', PRE_STYLE, text, note)


def pretty_json(value) -> SafeString:
    """A JSONField value, indented, in <pre>."""
    if value in (None, "", {}, []):
        return format_html("<em>{}</em>", "empty")
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)
    return format_html('<pre style="{}">{}</pre>', PRE_STYLE, text)


def excerpt(text: str | None, length: int = 80) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= length else text[: length - 1] + "…"


def mask_secret(value: str | None, visible: int = 4) -> str:
    """`whsec_…abcd`: enough to tell two secrets apart, never enough to use one."""
    if not value:
        return "not set"
    head, sep, _ = value.partition("_")
    prefix = head + sep if sep and len(head) <= 8 else ""
    if len(value) - len(prefix) < 4 * visible:
        return f"{prefix}… (set, too short to show a hint)"
    return f"{prefix}…{value[-visible:]}"


def masked_field(obj, field: str) -> str:
    """mask_secret() for an encrypted field, which may fail to decrypt after a key change."""
    if obj is None or obj.pk is None:
        return "not set"
    try:
        return mask_secret(getattr(obj, field))
    except ValueError:
        return "set, but cannot be decrypted with the current FIELD_ENCRYPTION_KEYS"


# --- Filters --------------------------------------------------------------------------------


def recent_values_filter(
    field: str, title: str, sample: int = 2000
) -> type[admin.SimpleListFilter]:
    """A filter on a free-form column (topic, event type, status code) whose choices come from
    the newest `sample` rows: a SELECT DISTINCT over a whole log table would scan all of it."""

    class RecentValuesFilter(admin.SimpleListFilter):
        parameter_name = field

        def lookups(self, request, model_admin):
            recent = model_admin.get_queryset(request).order_by("-pk")[:sample]
            values = {str(v) for v in recent.values_list(field, flat=True) if v not in (None, "")}
            selected = self.value()
            if selected:
                values.add(selected)
            return [(v, v) for v in sorted(values)]

        def queryset(self, request, queryset):
            value = self.value()
            return queryset.filter(**{field: value}) if value else queryset

    RecentValuesFilter.title = title
    RecentValuesFilter.__name__ = f"Recent{field.title().replace('_', '')}Filter"
    return RecentValuesFilter


# --- Outbox actions -------------------------------------------------------------------------


class OutboxAdminMixin:
    """Outbox rows: state read-only, and "retry" actions allowed to whoever may change the model
    (the admin shows them view-only, so the change permission is checked here by hand)."""

    outbox_state_fields = ("status", "attempts", "next_attempt_at", "locked_until", "last_error")

    def has_retry_permission(self, request) -> bool:
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.{get_permission_codename('change', opts)}")


def retry_action(
    description: str, *, only: Iterable[str] | None = None, verb: str = "queued again"
) -> Callable:
    """An admin action that puts the selected rows back to pending, due now, and enqueues them
    (bookbag.core.outbox.retry_now). `only` limits it to rows in those states."""
    allowed = tuple(only) if only is not None else None

    @admin.action(description=description, permissions=["retry"])
    def action(modeladmin, request, queryset):
        model = queryset.model
        selected = list(queryset.values_list("pk", flat=True))
        eligible = selected
        if allowed is not None:
            eligible = list(
                model.objects.filter(pk__in=selected, status__in=allowed).values_list(
                    "pk", flat=True
                )
            )
        queued = retry_now(model, eligible) if eligible else 0
        skipped = len(selected) - queued
        name = model._meta.verbose_name if queued == 1 else model._meta.verbose_name_plural
        text = f"{queued} {name} {verb}."
        if skipped:
            why = (
                f"not {' or '.join(allowed)}"
                if allowed is not None
                else "being processed right now"
            )
            text += f" {skipped} skipped: {why}."
        modeladmin.message_user(request, text, messages.SUCCESS if queued else messages.WARNING)

    return action


def mark_ignored(model: type[OutboxModel], pks: Iterable[int]) -> int:
    """Stop an outbox row for good: ignored, nothing scheduled. Rows already done, or claimed by
    a live worker, are left alone. Returns how many rows changed.

    A generic outbox transition; it belongs next to retry_now in bookbag/core/outbox.py.
    """
    now = timezone.now()
    leased = Q(status=OutboxStatus.IN_PROGRESS, locked_until__gt=now)
    with transaction.atomic():
        return (
            model.objects.filter(pk__in=list(pks))
            .exclude(status=OutboxStatus.DONE)
            .exclude(leased)
            .update(
                status=OutboxStatus.IGNORED,
                next_attempt_at=None,
                locked_until=None,
                updated_at=now,
            )
        )
