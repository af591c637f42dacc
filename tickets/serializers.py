"""API representations of tickets, messages and customers, and the inputs that change them.

Input serializers validate and resolve references only; every change is made by
tickets.services (called from tickets/api.py), exactly as the inbox makes it.
"""

from django.db import transaction
from rest_framework import serializers

from bookbag import api_fields as fields
from bookbag.filters import MAX_BIGINT
from integrations.models import Customer, Order, Shop
from integrations.serializers import (
    CustomerSerializer,
    CustomerSummarySerializer,
    OrderSummarySerializer,
)
from tickets import services
from tickets.access import agents
from tickets.models import Channel, Message, Priority, Ticket

MAX_BODY = 100_000
MAX_TAGS = 20
# A person or a client opens tickets on these channels; `automation` is Bookbag's own.
OPEN_CHANNELS = [(value, label) for value, label in Channel.choices if value != Channel.AUTOMATION]


def assignable_users():
    """The people a ticket may be assigned to: the inbox's agents (active members of `agents` or
    `admins`). A superuser outside both groups cannot open the inbox, so is not among them."""
    return agents().order_by("id")


# --- Output ---------------------------------------------------------------------------------------


class UserSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)
    name = serializers.CharField(source="get_full_name", read_only=True)


class AgentSerializer(UserSummarySerializer):
    email = serializers.CharField(read_only=True)


class ShopSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Shop
        fields = ("id", "domain", "name")
        read_only_fields = fields


class MessageSerializer(serializers.ModelSerializer):
    author = UserSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = Message
        fields = (
            "id", "ticket", "author_kind", "author", "body", "internal", "channel", "created_at",
        )  # fmt: skip
        read_only_fields = fields


class TicketSerializer(serializers.ModelSerializer):
    shop = ShopSummarySerializer(read_only=True)
    customer = CustomerSummarySerializer(read_only=True)
    order = OrderSummarySerializer(read_only=True, allow_null=True)
    assignee = UserSummarySerializer(read_only=True, allow_null=True)
    resolved_by = UserSummarySerializer(read_only=True, allow_null=True)
    tags = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)

    class Meta:
        model = Ticket
        fields = (
            "id", "shop", "subject", "status", "priority", "channel", "tags", "assignee",
            "customer", "order", "created_at", "updated_at", "last_activity_at", "resolved_at",
            "resolved_by", "resolved_by_automation",
        )  # fmt: skip
        read_only_fields = fields


class TicketDetailSerializer(TicketSerializer):
    messages = MessageSerializer(many=True, read_only=True)

    class Meta(TicketSerializer.Meta):
        fields = (*TicketSerializer.Meta.fields, "messages")
        read_only_fields = fields


class TicketSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Ticket
        fields = ("id", "subject", "status", "priority", "created_at", "last_activity_at")
        read_only_fields = fields


class CustomerWithHistorySerializer(CustomerSerializer):
    orders = OrderSummarySerializer(
        source="recent_orders", many=True, read_only=True, help_text="The 25 most recent."
    )
    tickets = TicketSummarySerializer(
        source="recent_tickets", many=True, read_only=True, help_text="The 25 most recent."
    )

    class Meta(CustomerSerializer.Meta):
        fields = (*CustomerSerializer.Meta.fields, "orders", "tickets")
        read_only_fields = fields


# --- Input ----------------------------------------------------------------------------------------


def _bigint(**kwargs) -> serializers.IntegerField:
    return fields.IntegerField(min_value=1, max_value=MAX_BIGINT, **kwargs)


def _tags(**kwargs) -> serializers.ListField:
    return serializers.ListField(
        child=fields.CharField(max_length=64), max_length=MAX_TAGS, **kwargs
    )


class TicketCreateSerializer(serializers.Serializer):
    """Open a ticket for a customer, as the customer's first message."""

    shop = _bigint(
        required=False, help_text="The shop's id. Or `shop_domain`; or neither when the "
        "customer or order says, or when exactly one shop is connected.",
    )  # fmt: skip
    shop_domain = fields.CharField(max_length=255, required=False)
    customer = _bigint(required=False, help_text="A customer's id. Or `customer_email`.")
    customer_email = fields.EmailField(
        max_length=254, required=False,
        help_text="Finds the shop's customer with this email, or creates one.",
    )  # fmt: skip
    customer_first_name = fields.CharField(max_length=255, required=False, allow_blank=True)
    customer_last_name = fields.CharField(max_length=255, required=False, allow_blank=True)
    order = _bigint(required=False, help_text="An order's Bookbag id.")
    order_name = fields.CharField(
        max_length=64, required=False, help_text="The Shopify order name, e.g. #1001."
    )
    order_shopify_id = fields.RegexField(
        r"^[0-9]{1,19}$", required=False, help_text="The Shopify order id, as a string."
    )
    subject = fields.CharField(max_length=255)
    body = fields.CharField(max_length=MAX_BODY, help_text="The customer's first message.")
    channel = serializers.ChoiceField(choices=OPEN_CHANNELS, default=Channel.API)
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)
    tags = _tags(required=False)

    def validate_order_shopify_id(self, value: str) -> int:
        if int(value) > MAX_BIGINT:
            raise serializers.ValidationError("Not a Shopify id.")
        return int(value)

    def validate(self, attrs: dict) -> dict:
        if len([k for k in ("order", "order_name", "order_shopify_id") if k in attrs]) > 1:
            raise serializers.ValidationError(
                {"order": ["Give one of order, order_name and order_shopify_id."]}
            )
        if "customer" in attrs and "customer_email" in attrs:
            raise serializers.ValidationError(
                {"customer": ["Give either customer or customer_email, not both."]}
            )
        shop = self._shop(attrs)
        customer = self._customer(attrs, shop)
        shop = shop or (customer.shop if customer else None)
        order = self._order_by_id(attrs, shop)
        shop = shop or (order.shop if order else None) or self._only_shop()
        order = order or self._order_by_shopify_ref(attrs, shop)
        no_customer = customer is None and "customer_email" not in attrs
        if no_customer and (order is None or not (order.customer_id or order.email)):
            raise serializers.ValidationError(
                {"customer": ["Give customer or customer_email (or an order with one)."]}
            )
        if order is not None and order.customer_id is not None:
            email = attrs.get("customer_email", "").strip().lower()
            if (customer is not None and order.customer_id != customer.pk) or (
                email and order.customer.email.lower() != email
            ):
                raise serializers.ValidationError({"order": ["This order is another customer's."]})
        attrs["resolved"] = {"shop": shop, "customer": customer, "order": order}
        return attrs

    def _shop(self, attrs: dict) -> Shop | None:
        shop = None
        if "shop" in attrs:
            shop = Shop.objects.filter(pk=attrs["shop"]).first()
            if shop is None:
                raise serializers.ValidationError({"shop": ["No shop with this id."]})
        if "shop_domain" in attrs:
            by_domain = Shop.objects.filter(domain__iexact=attrs["shop_domain"].strip()).first()
            if by_domain is None:
                raise serializers.ValidationError({"shop_domain": ["No shop with this domain."]})
            if shop is not None and shop.pk != by_domain.pk:
                raise serializers.ValidationError(
                    {"shop_domain": ["shop and shop_domain name different shops."]}
                )
            shop = by_domain
        return shop

    def _only_shop(self) -> Shop:
        shops = list(Shop.objects.filter(installed=True, redacted_at__isnull=True)[:2])
        if len(shops) != 1:
            raise serializers.ValidationError(
                {"shop": ["Required: name the shop (id or shop_domain)."]}
            )
        return shops[0]

    def _customer(self, attrs: dict, shop: Shop | None) -> Customer | None:
        if "customer" in attrs:
            customer = Customer.objects.select_related("shop").filter(pk=attrs["customer"]).first()
            if customer is None:
                raise serializers.ValidationError({"customer": ["No customer with this id."]})
            if shop is not None and customer.shop_id != shop.pk:
                raise serializers.ValidationError(
                    {"customer": ["This customer is another shop's."]}
                )
            return customer
        return None

    def _order_by_id(self, attrs: dict, shop: Shop | None) -> Order | None:
        if "order" not in attrs:
            return None
        order = Order.objects.select_related("shop", "customer").filter(pk=attrs["order"]).first()
        if order is None or (shop is not None and order.shop_id != shop.pk):
            raise serializers.ValidationError({"order": ["No such order in this shop."]})
        return order

    def _order_by_shopify_ref(self, attrs: dict, shop: Shop) -> Order | None:
        if "order_shopify_id" in attrs:
            order = (
                Order.objects.select_related("customer")
                .filter(shop=shop, shopify_id=attrs["order_shopify_id"])
                .first()
            )
            if order is None:
                raise serializers.ValidationError(
                    {"order_shopify_id": ["No order with this Shopify id in this shop."]}
                )
            return order
        if "order_name" in attrs:
            name = attrs["order_name"].strip()
            names = {name, name if name.startswith("#") else f"#{name}"}
            order = (
                Order.objects.select_related("customer")
                .filter(shop=shop, name__in=names)
                .order_by("-id")
                .first()
            )
            if order is None:
                raise serializers.ValidationError(
                    {"order_name": ["No order with this name in this shop."]}
                )
            return order
        return None

    def create(self, validated_data: dict) -> Ticket:
        resolved = validated_data["resolved"]
        shop, customer, order = resolved["shop"], resolved["customer"], resolved["order"]
        actor = self.context["request"].user
        with transaction.atomic():
            if customer is None:
                customer = self._find_or_create_customer(validated_data, shop, order)
            ticket = services.open_ticket(
                shop=shop,
                customer=customer,
                order=order,
                subject=validated_data["subject"],
                body=validated_data["body"],
                channel=validated_data["channel"],
                priority=validated_data["priority"],
                actor=actor,
            )
            if validated_data.get("tags"):
                services.set_tags(ticket=ticket, names=validated_data["tags"], actor=actor)
        return ticket

    @staticmethod
    def _find_or_create_customer(data: dict, shop: Shop, order: Order | None) -> Customer:
        """The shop's customer with this email (the oldest, as the guest-order automation
        picks), else a new email-only customer: Shopify gives it an id when it mentions it."""
        if order is not None and order.customer_id:
            return order.customer  # validate() checked that the email, if any, is theirs
        email = (data.get("customer_email") or (order.email if order else "")).strip().lower()
        existing = (
            Customer.objects.filter(shop=shop, email__iexact=email).order_by("id").first()
            if email
            else None
        )
        if existing is not None:
            return existing
        return Customer.objects.create(
            shop=shop,
            email=email,
            first_name=data.get("customer_first_name", ""),
            last_name=data.get("customer_last_name", ""),
        )


class TicketUpdateSerializer(serializers.Serializer):
    """What PATCH may change; the status changes through the actions (resolve, reopen, ...)."""

    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    tags = _tags(required=False, help_text="Replaces the ticket's tags (names, lower-cased).")
    assignee = fields.PrimaryKeyRelatedField(
        queryset=assignable_users(), allow_null=True, required=False,
        help_text="An agent's or admin's user id; null unassigns.",
    )  # fmt: skip
    order = fields.PrimaryKeyRelatedField(
        queryset=Order.objects.all(), allow_null=True, required=False,
        help_text="Link an order of the ticket's shop (its Bookbag id); null unlinks.",
    )  # fmt: skip

    def validate_order(self, order: Order | None) -> Order | None:
        if order is not None and order.shop_id != self.instance.shop_id:
            raise serializers.ValidationError("This order is another shop's.")
        return order

    def update(self, ticket: Ticket, validated_data: dict) -> Ticket:
        actor = self.context["request"].user
        with transaction.atomic():
            if "priority" in validated_data:
                services.change_priority(
                    ticket=ticket, priority=validated_data["priority"], actor=actor
                )
            if "tags" in validated_data:
                services.set_tags(ticket=ticket, names=validated_data["tags"], actor=actor)
            if "assignee" in validated_data:
                services.assign(ticket=ticket, assignee=validated_data["assignee"], actor=actor)
            if "order" in validated_data:
                services.link_order(ticket=ticket, order=validated_data["order"], actor=actor)
        return ticket


class MessageBodySerializer(serializers.Serializer):
    body = fields.CharField(max_length=MAX_BODY)


class CustomerMessageSerializer(MessageBodySerializer):
    """The customer wrote again (a chat widget, a contact form): a resolved ticket reopens."""

    channel = serializers.ChoiceField(choices=OPEN_CHANNELS, default=Channel.API)


class AssignSerializer(serializers.Serializer):
    assignee = fields.PrimaryKeyRelatedField(
        queryset=assignable_users(), allow_null=True,
        help_text="An agent's or admin's user id; null unassigns.",
    )  # fmt: skip


class EscalateSerializer(serializers.Serializer):
    reason = fields.CharField(max_length=255, required=False, allow_blank=True, default="")
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.URGENT)
