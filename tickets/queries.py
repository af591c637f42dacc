"""The inbox's reads: views with their counts, search, filters, sorting, keyset pages, the ticket
page's rows, and the versions the live-update poll compares.

Everything here is portable SQL (SQLite and PostgreSQL): `icontains` for search, `Subquery` for
the last message and the shipment state. Nothing here writes; writes go through
tickets.services.
"""

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Case,
    Count,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Substr

from integrations.models import Customer, Fulfillment, Order, Refund
from tickets.models import (
    PRIORITY_RANK,
    CsatSurvey,
    Message,
    Tag,
    Ticket,
    TicketEvent,
    TicketStatus,
)

UNRESOLVED = (TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.ESCALATED)
PAGE_SIZE = 25
MAX_SEARCH_TERMS = 6
ORDER_HEAVY_FIELDS = ("raw", "shipping_address")  # never needed by a page, can be large


# --- Views ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class View:
    key: str
    label: str
    personal: bool = False  # depends on who asks ("Mine")

    def condition(self, user) -> Q:
        if self.key == "mine":
            return Q(assignee_id=user.pk, status__in=UNRESOLVED)
        if self.key == "unassigned":
            return Q(assignee__isnull=True, status__in=UNRESOLVED)
        if self.key == "all":
            return Q()
        return Q(status=self.key)


VIEWS = {
    v.key: v
    for v in (
        View("mine", "Mine", personal=True),
        View("unassigned", "Unassigned"),
        View("open", "Open"),
        View("pending", "Pending"),
        View("escalated", "Escalated"),
        View("resolved", "Resolved"),
        View("all", "All"),
    )
}
DEFAULT_VIEW = "open"


def view_counts(user, version: str) -> dict[str, int]:
    """The number of tickets in every view. One aggregate over the table, cached in the shared
    cache under the list's version: recomputed once per change, whoever asks first."""
    key = f"inbox:counts:{version}"
    counts = cache.get(key)
    if counts is None:
        shared = [v for v in VIEWS.values() if not v.personal]
        counts = Ticket.objects.aggregate(
            **{v.key: Count("pk", filter=v.condition(None)) for v in shared}
        )
        cache.set(key, counts, 300)
    mine_key = f"inbox:counts:{version}:user{user.pk}"
    mine = cache.get(mine_key)
    if mine is None:
        mine = Ticket.objects.filter(VIEWS["mine"].condition(user)).count()
        cache.set(mine_key, mine, 300)
    return {**counts, "mine": mine}


# --- Filters and search -----------------------------------------------------------------------


def search(qs: QuerySet, text: str) -> QuerySet:
    """Every word must match one of: subject, a message's text, the customer's name or email, the
    linked order's name (or one of the customer's orders by exact name), or the ticket number.

    Each word becomes one set of ticket ids, a UNION ALL of one small query per source, so that
    each `icontains` runs on its own table with that table's trigram index on PostgreSQL
    (migrations "search_trigram_indexes"). OR-ing the `LIKE`s across joined tables instead made
    PostgreSQL join and test every ticket: 0.6 s for an order number at 100,000 tickets, now a few
    milliseconds (benchmarks/README.md)."""
    for term in text.split()[:MAX_SEARCH_TERMS]:
        tickets = Ticket.objects.order_by()
        customers = Customer.objects.filter(
            Q(email__icontains=term) | Q(first_name__icontains=term) | Q(last_name__icontains=term)
        ).values("pk")
        sources = [
            tickets.filter(subject__icontains=term).values("pk"),
            tickets.filter(customer_id__in=customers).values("pk"),
            tickets.filter(
                order_id__in=Order.objects.filter(name__icontains=term).values("pk")
            ).values("pk"),
            Message.objects.order_by().filter(body__icontains=term).values("ticket_id"),
        ]
        number = term.lstrip("#")
        if number.isdigit() and len(number) <= 15:
            order_name = term if term.startswith("#") else f"#{term}"
            buyers = Order.objects.filter(name__iexact=order_name).values("customer_id")
            sources += [
                tickets.filter(pk=int(number)).values("pk"),
                tickets.filter(customer_id__in=buyers).values("pk"),
            ]
        qs = qs.filter(pk__in=sources[0].union(*sources[1:], all=True))
    return qs


def apply_filters(qs: QuerySet, *, user, shop=None, status="", priority="", assignee="", tag=""):
    if shop is not None:
        qs = qs.filter(shop=shop)
    if status:
        qs = qs.filter(status=status)
    if priority:
        qs = qs.filter(priority=priority)
    if assignee == "me":
        qs = qs.filter(assignee_id=user.pk)
    elif assignee == "none":
        qs = qs.filter(assignee__isnull=True)
    elif assignee:
        qs = qs.filter(assignee_id=int(assignee))
    if tag:
        qs = qs.filter(tags__name=tag)
    return qs


# --- Sorting and keyset pages -----------------------------------------------------------------


@dataclass(frozen=True)
class Sort:
    label: str
    keys: tuple[tuple[str, bool], ...]  # (field, descending); the last key is unique (id)
    annotations: dict = field(default_factory=dict)

    def order_by(self, reverse: bool = False) -> list[str]:
        return [("-" if desc != reverse else "") + name for name, desc in self.keys]


SORTS = {
    "activity": Sort("Last activity", (("last_activity_at", True), ("id", True))),
    "oldest": Sort("Waiting longest", (("last_activity_at", False), ("id", False))),
    "created": Sort("Newest", (("created_at", True), ("id", True))),
    "priority": Sort(
        "Priority",
        (("priority_rank", True), ("last_activity_at", True), ("id", True)),
        {"priority_rank": PRIORITY_RANK},
    ),
}
DEFAULT_SORT = "activity"


def _encode_cursor(values: list) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def decode_cursor(sort: Sort, cursor: str) -> list | None:
    """The key values a cursor carries, or None for a cursor that is not one of ours."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(sort.keys):
            return None
        values = []
        for (name, _), value in zip(sort.keys, raw, strict=True):
            if name.endswith("_at"):
                values.append(datetime.fromisoformat(value))
            elif isinstance(value, int) and not isinstance(value, bool):
                values.append(value)
            else:
                return None
        return values
    except (ValueError, TypeError):
        return None


def _beyond(sort: Sort, values: list, *, backwards: bool) -> Q:
    """Rows strictly after `values` in the sort order (before them when `backwards`).

    The leading range (`first <= v0`) lets the database walk the index from the cursor instead of
    filtering every row from the top of it."""
    keys = sort.keys
    first, first_desc = keys[0]
    going_down = first_desc != backwards
    condition = Q()
    for i, (name, desc) in enumerate(keys):
        down = desc != backwards
        step = Q(**{f"{name}__{'lt' if down else 'gt'}": values[i]})
        for j in range(i):
            step &= Q(**{keys[j][0]: values[j]})
        condition |= step
    return Q(**{f"{first}__{'lte' if going_down else 'gte'}": values[0]}) & condition


@dataclass
class Page:
    rows: list
    next_cursor: str | None
    prev_cursor: str | None


def keyset_page(
    qs: QuerySet, sort: Sort, *, after: str = "", before: str = "", size: int = PAGE_SIZE
) -> Page:
    """One page in a stable order, as cheap on page 4,000 as on page 1 (no OFFSET, no COUNT)."""
    if sort.annotations:
        qs = qs.annotate(**sort.annotations)
    key_of = lambda row: [getattr(row, name) for name, _ in sort.keys]  # noqa: E731
    values = decode_cursor(sort, before) if before else None
    if values is not None:
        rows = list(qs.filter(_beyond(sort, values, backwards=True)).order_by(
            *sort.order_by(reverse=True)
        )[: size + 1])  # fmt: skip
        more_before = len(rows) > size
        rows = rows[:size][::-1]
        return Page(
            rows,
            _encode_cursor(key_of(rows[-1])) if rows else None,
            _encode_cursor(key_of(rows[0])) if rows and more_before else None,
        )
    values = decode_cursor(sort, after) if after else None
    if values is not None:
        qs = qs.filter(_beyond(sort, values, backwards=False))
    rows = list(qs.order_by(*sort.order_by())[: size + 1])
    more_after = len(rows) > size
    rows = rows[:size]
    return Page(
        rows,
        _encode_cursor(key_of(rows[-1])) if rows and more_after else None,
        _encode_cursor(key_of(rows[0])) if rows and values is not None else None,
    )


def list_queryset() -> QuerySet:
    """Tickets with what a list row shows, in a constant number of queries per page: the last
    public message (an excerpt), the linked order's latest shipment state, the tags."""
    last_message = Message.objects.filter(ticket_id=OuterRef("pk"), internal=False).order_by(
        "-created_at", "-id"
    )
    latest_fulfillment = Fulfillment.objects.filter(order_id=OuterRef("order_id")).order_by("-id")
    return (
        Ticket.objects.select_related("customer", "order", "assignee")
        .defer(*(f"order__{name}" for name in (*ORDER_HEAVY_FIELDS, "line_items")))
        .annotate(
            excerpt=Substr(Subquery(last_message.values("body")[:1]), 1, 200),
            excerpt_author=Subquery(last_message.values("author_kind")[:1]),
            shipment_status=Subquery(latest_fulfillment.values("shipment_status")[:1]),
        )
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.only("id", "name", "color")))
    )


# --- The ticket page --------------------------------------------------------------------------


def ticket_for_page(pk: int) -> Ticket:
    """The ticket with its customer, order, assignee, resolver and CSAT survey (one query)."""
    return (
        Ticket.objects.select_related(
            "customer", "order", "assignee", "resolved_by", "csat", "shop"
        )
        .defer(
            "shop__webhook_secret",
            "shop__previous_webhook_secret",
            *(f"order__{name}" for name in ORDER_HEAVY_FIELDS),
        )
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.only("id", "name", "color")))
        .get(pk=pk)
    )


SIDEBAR_ORDERS = 10
SIDEBAR_TICKETS = 10


def sidebar_orders(ticket: Ticket) -> list[Order]:
    """The customer's latest orders with fulfillments and refunds, the linked order first."""
    about = Q(pk=ticket.order_id) if ticket.order_id else Q(pk__in=[])
    if ticket.customer_id:
        about |= Q(customer_id=ticket.customer_id, deleted_at__isnull=True)
    orders = list(
        Order.objects.filter(about)
        .defer(*ORDER_HEAVY_FIELDS)
        .annotate(
            linked=Case(
                When(pk=ticket.order_id or 0, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        .order_by("-linked", "-shopify_created_at", "-id")
        .prefetch_related(
            Prefetch("fulfillments", queryset=Fulfillment.objects.defer("line_items")),
            Prefetch("refunds", queryset=Refund.objects.defer("line_items")),
        )[:SIDEBAR_ORDERS]
    )
    flag_tags = {t.lower() for t in settings.SHOPIFY_FLAG_TAGS}
    for order in orders:
        order.is_linked = order.pk == ticket.order_id
        order.flag_reason = _flag_reason(order, flag_tags)
    return orders


def _flag_reason(order: Order, flag_tags: set[str]) -> str:
    if order.risk_level == "high":
        return "High risk"
    if order.cancel_reason == "fraud":
        return "Cancelled as fraud"
    tagged = [t for t in order.tag_list if t.lower() in flag_tags]
    return f"Tagged {tagged[0]}" if tagged else ""


def customer_history(ticket: Ticket) -> list[Ticket]:
    return list(
        Ticket.objects.filter(customer_id=ticket.customer_id)
        .exclude(pk=ticket.pk)
        .only("id", "subject", "status", "created_at", "customer_id")
        .order_by("-created_at", "-id")[:SIDEBAR_TICKETS]
    )


def timeline_rows(ticket: Ticket) -> tuple[list[Message], list[TicketEvent]]:
    messages = list(ticket.messages.select_related("author").order_by("created_at", "id"))
    events = list(ticket.events.select_related("actor").order_by("created_at", "id"))
    return messages, events


# --- Versions for the live-update poll --------------------------------------------------------


def _latest(qs: QuerySet) -> Subquery:
    return Subquery(qs.order_by("-updated_at").values("updated_at")[:1])


def _scalars(*querysets: QuerySet) -> tuple:
    """One round trip for several one-value queries: SELECT (q1), (q2), ... (portable SQL)."""
    parts, params = [], []
    for qs in querysets:
        sql, qs_params = qs.query.sql_with_params()
        parts.append(f"({sql})")
        params.extend(qs_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        return cursor.fetchone()


def _digest(*parts) -> str:
    return hashlib.sha1(repr(parts).encode(), usedforsecurity=False).hexdigest()[:16]


def list_version(*, shared: bool = True) -> str:
    """Changes when any ticket changes (a message, a status, an assignment: tickets.services touch
    the ticket), or any order or fulfillment changes (the order badges). Index-backed.

    `shared`: read through the cache for INBOX_VERSION_CACHE_SECONDS, so that many agents
    polling cost about one query per interval between them (the poll); a page renders with the
    current version (one index lookup per table)."""
    ttl = getattr(settings, "INBOX_VERSION_CACHE_SECONDS", 1) if shared else 0
    if ttl:
        cached = cache.get("inbox:list-version")
        if cached:
            return cached
    latest = _scalars(
        Ticket.objects.order_by("-updated_at").values("updated_at")[:1],
        Order.objects.order_by("-updated_at").values("updated_at")[:1],
        Fulfillment.objects.order_by("-updated_at").values("updated_at")[:1],
    )
    version = _digest(latest)
    if ttl:
        cache.set("inbox:list-version", version, ttl)
    return version


def ticket_version(pk: int) -> str | None:
    """Changes when anything the ticket page shows changes: the ticket, its messages and events,
    its CSAT answer, the customer's orders with their fulfillments and refunds, and the customer's
    other tickets. One query; None when the ticket does not exist."""
    customer_or_linked = Q(customer_id=OuterRef("customer_id")) | Q(pk=OuterRef("order_id"))
    # The fulfillments and refunds of those orders, by order id (an OR across a join would make
    # the database read every fulfillment).
    those_orders = Order.objects.filter(
        Q(customer_id=OuterRef(OuterRef("customer_id"))) | Q(pk=OuterRef(OuterRef("order_id")))
    ).values("pk")
    of_those_orders = Q(order_id__in=those_orders)
    row = (
        Ticket.objects.filter(pk=pk)
        .annotate(
            v_messages=_latest(Message.objects.filter(ticket_id=OuterRef("pk"))),
            v_events=_latest(TicketEvent.objects.filter(ticket_id=OuterRef("pk"))),
            v_csat=_latest(CsatSurvey.objects.filter(ticket_id=OuterRef("pk"))),
            v_history=_latest(Ticket.objects.filter(customer_id=OuterRef("customer_id"))),
            v_orders=_latest(Order.objects.filter(customer_or_linked)),
            v_fulfillments=_latest(Fulfillment.objects.filter(of_those_orders)),
            v_refunds=_latest(Refund.objects.filter(of_those_orders)),
        )
        .values_list(
            "updated_at",
            "v_messages",
            "v_events",
            "v_csat",
            "v_history",
            "v_orders",
            "v_fulfillments",
            "v_refunds",
        )
        .first()
    )
    return _digest(row) if row else None
