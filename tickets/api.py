"""The ticket API: tickets and their actions, messages, customers, and the people tickets can be
assigned to. Every change calls tickets.services, as the inbox does, so the timeline, signals,
notifications and outbound webhooks behave the same whoever made it."""

import hashlib

import django_filters
from django.core.validators import RegexValidator
from django.db.models import Prefetch
from django.utils.http import parse_etags
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from bookbag.api_location import created_location
from bookbag.api_schema import IDEMPOTENCY_KEY, IF_NONE_MATCH
from bookbag.core.idempotency import idempotent
from bookbag.filters import BooleanFilter, FilterBackend, SearchFilter, id_filter, since_filter
from bookbag.permissions import IsAgent
from bookbag.throttling import RateLimitHeadersMixin
from integrations.models import Customer, Order
from tickets import services
from tickets.models import AuthorKind, Channel, Message, Priority, Ticket, TicketStatus
from tickets.queries import search
from tickets.serializers import (
    AgentSerializer,
    AssignSerializer,
    CustomerMessageSerializer,
    CustomerWithHistorySerializer,
    EscalateSerializer,
    MessageBodySerializer,
    MessageSerializer,
    TicketCreateSerializer,
    TicketDetailSerializer,
    TicketSerializer,
    TicketUpdateSerializer,
    assignable_users,
)

RECENT = 25  # orders and tickets shown with a customer

# --- Conditional GET (cheap polling) --------------------------------------------------------------


def etag_of(*parts) -> str:
    return f'W/"{hashlib.sha256(repr(parts).encode()).hexdigest()[:40]}"'


def not_modified(request, etag: str) -> bool:
    header = request.headers.get("If-None-Match", "")
    if not header:
        return False
    if header.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(tag.removeprefix("W/") == bare for tag in parse_etags(header))


def _version(ticket: Ticket) -> tuple:
    """What a ticket's representation depends on: any change to the ticket (messages, tags and
    assignment touch it), its customer or its order gives a new ETag."""
    return (
        ticket.pk,
        ticket.updated_at,
        ticket.customer.updated_at,
        ticket.order.updated_at if ticket.order_id else None,
    )


# --- Filters --------------------------------------------------------------------------------------

ASSIGNEE_PATTERN = r"^(me|none|[1-9][0-9]{0,17})$"
ASSIGNEE_SCHEMA = {
    "type": "string",
    "pattern": ASSIGNEE_PATTERN,
    "description": 'A user id, "me" or "none" (unassigned).',
}


class TicketFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=TicketStatus.choices, help_text="Repeat to match several."
    )
    priority = django_filters.MultipleChoiceFilter(
        choices=Priority.choices, help_text="Repeat to match several."
    )
    channel = django_filters.MultipleChoiceFilter(choices=Channel.choices)
    assignee = extend_schema_field(ASSIGNEE_SCHEMA)(
        django_filters.CharFilter(
            method="filter_assignee",
            validators=[RegexValidator(ASSIGNEE_PATTERN, 'A user id, "me" or "none".')],
        )
    )
    shop = id_filter("The shop's id.", field_name="shop_id")
    shop_domain = django_filters.CharFilter(field_name="shop__domain", lookup_expr="iexact")
    customer = id_filter("The customer's id.", field_name="customer_id")
    customer_email = django_filters.CharFilter(field_name="customer__email", lookup_expr="iexact")
    order = id_filter("The order's Bookbag id.", field_name="order_id")
    order_name = django_filters.CharFilter(field_name="order__name", help_text="e.g. #1001")
    tag = django_filters.CharFilter(method="filter_tag", help_text="A tag name.")
    updated_since = since_filter("updated_at", "Tickets changed at or after this time.")
    created_since = since_filter("created_at", "Tickets opened at or after this time.")

    class Meta:
        model = Ticket
        fields = []

    def filter_assignee(self, queryset, name, value):
        if value == "me":
            return queryset.filter(assignee=self.request.user)
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        return queryset.filter(assignee_id=int(value))  # the validator let digits only through

    def filter_tag(self, queryset, name, value):
        return queryset.filter(tags__name=value.strip().lower())


class MessageFilter(django_filters.FilterSet):
    author_kind = django_filters.ChoiceFilter(choices=AuthorKind.choices)
    internal = BooleanFilter(help_text="true: notes only; false: no notes.")
    after = id_filter("Only messages with a larger id (poll for new ones).", field_name="id",
                      lookup_expr="gt")  # fmt: skip

    class Meta:
        model = Message
        fields = []


class CustomerFilter(django_filters.FilterSet):
    shop = id_filter("The shop's id.", field_name="shop_id")
    email = django_filters.CharFilter(lookup_expr="iexact", help_text="Exact, any case.")
    shopify_id = id_filter("The Shopify customer id.")

    class Meta:
        model = Customer
        fields = []


# --- Views ----------------------------------------------------------------------------------------


class AgentAPIView(RateLimitHeadersMixin):
    permission_classes = [IsAgent]


class TicketSearchFilter(SearchFilter):
    """The inbox's search (tickets.queries.search), so an API client finds what an agent finds:
    every word in the subject, a message, the customer's name or email or an order name, and a
    number also as the ticket's id. Its per-table id sets use the trigram indexes on PostgreSQL,
    where DRF's OR of `icontains` over joins tests every ticket."""

    search_description = (
        "Words that must each appear in the subject, a message, the customer's name or email, or "
        "an order name (`#1001`); a number also matches the ticket id."
    )

    def filter_queryset(self, request, queryset, view):
        terms = self.get_search_terms(request)
        return search(queryset, " ".join(terms)) if terms else queryset


@extend_schema_view(
    list=extend_schema(
        summary="List tickets",
        description="Newest first. Send the `ETag` back as `If-None-Match` to poll cheaply.",
        parameters=[IF_NONE_MATCH],
    ),
    retrieve=extend_schema(summary="A ticket with its messages", parameters=[IF_NONE_MATCH]),
    create=extend_schema(
        summary="Open a ticket",
        request=TicketCreateSerializer,
        responses={201: TicketDetailSerializer},
        parameters=[IDEMPOTENCY_KEY],
    ),
    partial_update=extend_schema(
        summary="Change priority, tags, assignee or linked order",
        request=TicketUpdateSerializer,
        responses={200: TicketDetailSerializer},
    ),
)
class TicketViewSet(
    AgentAPIView,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = TicketSerializer
    filterset_class = TicketFilter
    filter_backends = [FilterBackend, TicketSearchFilter]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        queryset = Ticket.objects.select_related(
            "shop", "customer", "order", "assignee", "resolved_by"
        ).prefetch_related("tags")
        if self.action != "list":
            queryset = queryset.prefetch_related(
                Prefetch("messages", queryset=Message.objects.select_related("author"))
            )
        return queryset

    def get_serializer_class(self):
        return TicketSerializer if self.action == "list" else TicketDetailSerializer

    def detail_response(self, ticket: Ticket, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=ticket.pk)
        response = Response(TicketDetailSerializer(fresh).data, status=status_code)
        response["ETag"] = etag_of("ticket", _version(fresh))
        return response

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        paginator = self.paginator
        etag = etag_of(
            "tickets",
            request.get_full_path(),
            paginator.get_next_link(),
            paginator.get_previous_link(),
            [_version(t) for t in page],
        )
        if not_modified(request, etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        response = self.get_paginated_response(self.get_serializer(page, many=True).data)
        response["ETag"] = etag
        return response

    def retrieve(self, request, *args, **kwargs):
        # The ETag needs the ticket row only: a 304 never loads the conversation.
        ticket = get_object_or_404(
            Ticket.objects.select_related("customer", "order"), pk=kwargs["pk"]
        )
        etag = etag_of("ticket", _version(ticket))
        if not_modified(request, etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        return self.detail_response(ticket)

    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = TicketCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        ticket = serializer.save()
        response = self.detail_response(ticket, status.HTTP_201_CREATED)
        response["Location"] = created_location(request, ticket.pk)
        return response

    def partial_update(self, request, *args, **kwargs):
        ticket = self.get_object()
        serializer = TicketUpdateSerializer(
            ticket, data=request.data, partial=True, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return self.detail_response(ticket)

    # --- Actions: each is one service call --------------------------------------------------------

    @extend_schema(
        summary="Reply to the customer (emailed)",
        request=MessageBodySerializer,
        responses={201: MessageSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def reply(self, request, pk=None):
        ticket = self.get_object()
        serializer = MessageBodySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = services.reply(ticket=ticket, body=serializer.validated_data["body"],
                                 author=request.user)  # fmt: skip
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Add an internal note (never emailed)",
        request=MessageBodySerializer,
        responses={201: MessageSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def note(self, request, pk=None):
        ticket = self.get_object()
        serializer = MessageBodySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = services.add_note(ticket=ticket, body=serializer.validated_data["body"],
                                    author=request.user)  # fmt: skip
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Assign (or unassign with null)",
        request=AssignSerializer,
        responses={200: TicketDetailSerializer},
    )
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        ticket = self.get_object()
        serializer = AssignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.assign(
            ticket=ticket, assignee=serializer.validated_data["assignee"], actor=request.user
        )
        return self.detail_response(ticket)

    @extend_schema(
        summary="Resolve (the customer is asked for feedback; outbound webhooks fire)",
        request=None,
        responses={200: TicketDetailSerializer},
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        ticket = self.get_object()
        services.resolve(ticket=ticket, actor=request.user)
        return self.detail_response(ticket)

    @extend_schema(summary="Reopen", request=None, responses={200: TicketDetailSerializer})
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        ticket = self.get_object()
        services.reopen(ticket=ticket, actor=request.user)
        return self.detail_response(ticket)

    @extend_schema(
        summary="Escalate (priority urgent unless given)",
        request=EscalateSerializer,
        responses={200: TicketDetailSerializer},
    )
    @action(detail=True, methods=["post"])
    def escalate(self, request, pk=None):
        ticket = self.get_object()
        serializer = EscalateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.escalate(ticket=ticket, actor=request.user, **serializer.validated_data)
        return self.detail_response(ticket)


TICKET_PK = OpenApiParameter(
    "ticket_pk", int, OpenApiParameter.PATH, description="The ticket's id."
)


@extend_schema_view(
    list=extend_schema(
        summary="A ticket's messages (notes too), newest first", parameters=[TICKET_PK]
    ),
    create=extend_schema(
        summary="Add the customer's message (a resolved ticket reopens)",
        request=CustomerMessageSerializer,
        responses={201: MessageSerializer},
        parameters=[TICKET_PK, IDEMPOTENCY_KEY],
    ),
)
class TicketMessageViewSet(
    AgentAPIView, mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    serializer_class = MessageSerializer
    filterset_class = MessageFilter
    filter_backends = [FilterBackend]

    def get_ticket(self) -> Ticket:
        return get_object_or_404(Ticket.objects.all(), pk=self.kwargs["ticket_pk"])

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Message.objects.none()
        return Message.objects.filter(ticket=self.get_ticket()).select_related("author")

    @idempotent
    def create(self, request, *args, **kwargs):
        ticket = self.get_ticket()
        serializer = CustomerMessageSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = services.add_customer_message(ticket=ticket, **serializer.validated_data)
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="Customers, with their recent orders and tickets"),
    retrieve=extend_schema(summary="A customer with their recent orders and tickets"),
)
class CustomerViewSet(AgentAPIView, viewsets.ReadOnlyModelViewSet):
    serializer_class = CustomerWithHistorySerializer
    filterset_class = CustomerFilter
    filter_backends = [FilterBackend, SearchFilter]
    search_fields = ["email", "first_name", "last_name", "phone"]

    def get_queryset(self):
        return Customer.objects.prefetch_related(
            Prefetch(
                "orders", queryset=Order.objects.order_by("-id")[:RECENT], to_attr="recent_orders"
            ),
            Prefetch(
                "tickets",
                queryset=Ticket.objects.order_by("-id")[:RECENT],
                to_attr="recent_tickets",
            ),
        )


@extend_schema_view(
    list=extend_schema(summary="Agents and admins (who tickets can be assigned to)"),
    retrieve=extend_schema(summary="An agent or admin"),
)
class AgentViewSet(AgentAPIView, viewsets.ReadOnlyModelViewSet):
    serializer_class = AgentSerializer

    def get_queryset(self):
        return assignable_users()
