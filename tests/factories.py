"""factory-boy factories for every Bookbag model, plus users in their roles.

Rows that belong to a shop keep one shop throughout: the related rows a factory makes for itself
(an order's customer, a fulfillment's order) are made in the factory's own shop. When you pass a
related row but no shop (`OrderFactory(customer=alice)`), the shop is taken from that row.

Shopify ids are above 2**53 (odd, so no float can hold them exactly): code that lets an id pass
through a float or JavaScript number shows it at once.
"""

import base64
import json
import secrets
import uuid
from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from factory.django import DjangoModelFactory, Password

from integrations.models import (
    Customer,
    DataExport,
    Fulfillment,
    InboundWebhook,
    Order,
    Refund,
    Shop,
)
from notifications.models import Notification, NotificationTemplate
from tickets.models import CsatSurvey, Message, SavedReply, Tag, Ticket, TicketEvent
from webhooks.models import Attempt, Delivery, Endpoint, Event

AGENTS = "agents"
ADMINS = "admins"
TEST_PASSWORD = "password"

BEYOND_FLOAT = 2**53 + 1  # the first integer a float64 cannot represent


def shopify_id(base: int):
    """A sequence of distinct odd Shopify ids above 2**53 (each kind of row has its own base)."""
    return factory.Sequence(lambda n: BEYOND_FLOAT + base + 2 * n)


def new_whsec() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class ShopScopedFactory(DjangoModelFactory):
    """Takes `shop` from a related row passed in (`_shop_from`), so the rows agree on their shop."""

    _shop_from: tuple[str, ...] = ()

    class Meta:
        abstract = True

    @classmethod
    def _generate(cls, strategy, params):
        if "shop" not in params:
            for name in cls._shop_from:
                related = params.get(name)
                if related is not None and hasattr(related, "shop_id"):
                    params = {**params, "shop": related.shop}
                    break
        return super()._generate(strategy, params)


# --- Users and roles --------------------------------------------------------------------------


class UserFactory(DjangoModelFactory):
    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@bookbag.test")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = Password(TEST_PASSWORD)
    is_staff = False
    is_superuser = False

    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True


def _join_group(user, create: bool, name: str) -> None:
    if create:
        group, _ = Group.objects.get_or_create(name=name)
        user.groups.add(group)


class AgentFactory(UserFactory):
    """A support agent: the inbox and the ticket API, no Django admin."""

    username = factory.Sequence(lambda n: f"agent{n}")

    @factory.post_generation
    def role(obj, create, extracted, **kwargs):
        _join_group(obj, create, AGENTS)


class AdminFactory(UserFactory):
    """An admin: Django admin through the `admins` group's permissions (not a superuser)."""

    username = factory.Sequence(lambda n: f"admin{n}")
    is_staff = True

    @factory.post_generation
    def role(obj, create, extracted, **kwargs):
        _join_group(obj, create, ADMINS)


# --- integrations -----------------------------------------------------------------------------


class ShopFactory(DjangoModelFactory):
    domain = factory.Sequence(lambda n: f"shop-{n}.myshopify.com")
    name = factory.Sequence(lambda n: f"Shop {n}")
    webhook_secret = factory.Sequence(lambda n: f"shpss_test_webhook_secret_{n}")
    sender_name = factory.LazyAttribute(lambda s: f"{s.name} Support")
    from_email = factory.Sequence(lambda n: f"support@shop-{n}.test")
    timezone = "UTC"

    class Meta:
        model = Shop


class CustomerFactory(DjangoModelFactory):
    shop = factory.SubFactory(ShopFactory)
    shopify_id = shopify_id(1_000_000_000)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    locale = "en"
    shopify_updated_at = factory.LazyFunction(timezone.now)

    class Meta:
        model = Customer

    class Params:
        # Known only by email (contact form, chat): no Shopify id yet.
        email_only = factory.Trait(shopify_id=None, shopify_updated_at=None)


def _line_items(order) -> list[dict]:
    return [
        {
            "id": order.shopify_id + 10,
            "title": "Canvas Book Tote",
            "sku": "TOTE-NAT",
            "quantity": 1,
            "price": "34.00",
        },
        {
            "id": order.shopify_id + 12,
            "title": "Hardcover Notebook A5",
            "sku": "NOTE-A5",
            "quantity": 2,
            "price": "12.95",
        },
    ]


class OrderFactory(ShopScopedFactory):
    _shop_from = ("customer",)

    shop = factory.SubFactory(ShopFactory)
    shopify_id = shopify_id(2_000_000_000)
    name = factory.Sequence(lambda n: f"#{1000 + n}")
    customer = factory.SubFactory(CustomerFactory, shop=factory.SelfAttribute("..shop"))
    email = factory.LazyAttribute(lambda o: o.customer.email if o.customer else "guest@example.com")
    customer_locale = "en"
    financial_status = "paid"
    fulfillment_status = ""  # Shopify's null: nothing shipped yet
    line_items = factory.LazyAttribute(_line_items)
    subtotal_price = Decimal("59.90")
    total_price = Decimal("64.90")
    total_refunded = Decimal("0.00")
    currency = "USD"
    shopify_created_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=3))
    processed_at = factory.SelfAttribute("shopify_created_at")
    shopify_updated_at = factory.LazyFunction(timezone.now)
    shipping_address = factory.LazyAttribute(
        lambda o: {
            "first_name": o.customer.first_name if o.customer else "Guest",
            "address1": "12 Harbour Street",
            "city": "Portland",
            "province_code": "ME",
            "zip": "04101",
            "country_code": "US",
        }
    )

    class Meta:
        model = Order

    class Params:
        guest = factory.Trait(customer=None)
        fulfilled = factory.Trait(fulfillment_status="fulfilled")
        flagged = factory.Trait(risk_level="high")
        cancelled = factory.Trait(
            financial_status="voided",
            cancelled_at=factory.LazyFunction(timezone.now),
            cancel_reason="customer",
        )


def _order_shopify_id(base: int):
    """The linked order's id, or (an order not arrived yet) an id of its own."""
    return factory.LazyAttributeSequence(
        lambda o, n: o.order.shopify_id if o.order is not None else BEYOND_FLOAT + base + 2 * n
    )


class FulfillmentFactory(ShopScopedFactory):
    _shop_from = ("order",)

    shop = factory.SubFactory(ShopFactory)
    shopify_id = shopify_id(3_000_000_000)
    order = factory.SubFactory(OrderFactory, shop=factory.SelfAttribute("..shop"), fulfilled=True)
    order_shopify_id = _order_shopify_id(3_500_000_000)
    name = factory.LazyAttribute(lambda f: f"{f.order.name}.1" if f.order else "")
    status = "success"
    shipment_status = "in_transit"
    tracking_company = "UPS"
    tracking_numbers = factory.Sequence(lambda n: [f"1Z999AA1{n:010d}"])
    tracking_urls = factory.LazyAttribute(
        lambda f: [f"https://www.ups.com/track?tracknum={t}" for t in f.tracking_numbers]
    )
    line_items = factory.LazyAttribute(lambda f: list(f.order.line_items) if f.order else [])
    shopify_created_at = factory.LazyFunction(timezone.now)
    shopify_updated_at = factory.LazyFunction(timezone.now)

    class Meta:
        model = Fulfillment


class RefundFactory(ShopScopedFactory):
    _shop_from = ("order",)

    shop = factory.SubFactory(ShopFactory)
    shopify_id = shopify_id(4_000_000_000)
    order = factory.SubFactory(
        OrderFactory, shop=factory.SelfAttribute("..shop"), financial_status="refunded"
    )
    order_shopify_id = _order_shopify_id(4_500_000_000)
    amount = factory.LazyAttribute(lambda r: r.order.total_price if r.order else Decimal("10.00"))
    currency = "USD"
    note = "Damaged in transit"
    processed_at = factory.LazyFunction(timezone.now)
    shopify_created_at = factory.LazyFunction(timezone.now)

    class Meta:
        model = Refund


class InboundWebhookFactory(DjangoModelFactory):
    shop = factory.SubFactory(ShopFactory)
    topic = "orders/create"
    webhook_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    event_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    api_version = "2025-01"
    triggered_at = factory.LazyFunction(timezone.now)
    body = factory.Sequence(
        lambda n: json.dumps({"id": BEYOND_FLOAT + 5_000_000_000 + 2 * n, "name": "#1001"}).encode()
    )
    headers = factory.LazyAttribute(
        lambda w: {
            "X-Shopify-Topic": w.topic,
            "X-Shopify-Shop-Domain": w.shop.domain,
            "X-Shopify-Webhook-Id": w.webhook_id,
            "X-Shopify-Event-Id": w.event_id,
            "X-Shopify-API-Version": w.api_version,
        }
    )

    class Meta:
        model = InboundWebhook


class DataExportFactory(ShopScopedFactory):
    _shop_from = ("customer",)

    shop = factory.SubFactory(ShopFactory)
    customer = factory.SubFactory(CustomerFactory, shop=factory.SelfAttribute("..shop"))
    shopify_customer_id = factory.LazyAttribute(
        lambda d: d.customer.shopify_id if d.customer else None
    )
    email = factory.LazyAttribute(lambda d: d.customer.email if d.customer else "")
    data = factory.LazyAttribute(lambda d: {"customer": {"email": d.email}, "tickets": []})

    class Meta:
        model = DataExport


# --- tickets ----------------------------------------------------------------------------------


class TagFactory(DjangoModelFactory):
    name = factory.Sequence(lambda n: f"tag-{n}")
    color = "#2563eb"

    class Meta:
        model = Tag


class TicketFactory(ShopScopedFactory):
    _shop_from = ("customer", "order")

    shop = factory.SubFactory(ShopFactory)
    customer = factory.SubFactory(CustomerFactory, shop=factory.SelfAttribute("..shop"))
    order = None
    subject = factory.Sequence(lambda n: f"Where is my order? ({n})")
    status = "open"
    priority = "normal"
    channel = "email"

    class Meta:
        model = Ticket
        skip_postgeneration_save = True

    class Params:
        resolved = factory.Trait(status="resolved", resolved_at=factory.LazyFunction(timezone.now))
        escalated = factory.Trait(status="escalated", priority="high")

    @factory.post_generation
    def tags(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.tags.add(*extracted)


class MessageFactory(DjangoModelFactory):
    ticket = factory.SubFactory(TicketFactory)
    author_kind = "customer"
    body = "Hi, my parcel hasn't arrived yet. Could you check where it is?"
    channel = "email"
    email_message_id = factory.Sequence(lambda n: f"<message-{n}@mail.example.com>")

    class Meta:
        model = Message

    class Params:
        reply = factory.Trait(
            author_kind="agent",
            author=factory.SubFactory(AgentFactory),
            body="Thanks for waiting: it is with UPS and due tomorrow.",
            email_message_id="",
        )
        note = factory.Trait(
            author_kind="agent",
            author=factory.SubFactory(AgentFactory),
            body="Internal: carrier claim opened.",
            internal=True,
            email_message_id="",
        )


class TicketEventFactory(DjangoModelFactory):
    ticket = factory.SubFactory(TicketFactory)
    kind = "status_changed"
    data = factory.LazyAttribute(lambda e: {"from": "open", "to": e.ticket.status})
    dedupe_key = None

    class Meta:
        model = TicketEvent


class SavedReplyFactory(DjangoModelFactory):
    title = factory.Sequence(lambda n: f"Saved reply {n}")
    body = "Hi {{ customer.first_name }}, your order {{ order.name }} is on its way."

    class Meta:
        model = SavedReply


class CsatSurveyFactory(DjangoModelFactory):
    ticket = factory.SubFactory(TicketFactory, resolved=True)
    sent_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda s: s.sent_at + timedelta(days=7))

    class Meta:
        model = CsatSurvey

    class Params:
        answered = factory.Trait(
            score=5,
            comment="Quick and kind, thank you!",
            answered_at=factory.LazyFunction(timezone.now),
        )


# --- notifications ----------------------------------------------------------------------------


class NotificationTemplateFactory(DjangoModelFactory):
    shop = factory.SubFactory(ShopFactory)
    key = factory.Sequence(lambda n: f"custom_template_{n}")
    locale = ""
    subject = "Your order {{ order.name }} is on its way"
    text = "Hi {{ customer.first_name }},\n\nTrack it here: {{ tracking_url }}\n"
    html = ""

    class Meta:
        model = NotificationTemplate


class NotificationFactory(ShopScopedFactory):
    _shop_from = ("customer", "ticket")

    shop = factory.SubFactory(ShopFactory)
    customer = factory.SubFactory(CustomerFactory, shop=factory.SelfAttribute("..shop"))
    ticket = None
    template_key = "shipping_confirmation"
    to_email = factory.LazyAttribute(lambda n: n.customer.email if n.customer else "a@example.com")
    subject = "Your order is on its way"
    text = "Hi, your order is on its way."
    idempotency_key = factory.Sequence(lambda n: f"test:shipping_confirmation:{n}")

    class Meta:
        model = Notification


# --- webhooks ---------------------------------------------------------------------------------


class EndpointFactory(DjangoModelFactory):
    url = factory.Sequence(lambda n: f"https://hooks-{n}.example.com/bookbag")
    description = factory.Sequence(lambda n: f"Endpoint {n}")
    secret = factory.LazyFunction(new_whsec)
    event_types = factory.LazyFunction(list)  # empty: every event
    active = True

    class Meta:
        model = Endpoint


class EventFactory(DjangoModelFactory):
    message_id = factory.LazyFunction(lambda: "msg_" + secrets.token_hex(16))
    type = "ticket.resolved"
    payload = factory.LazyAttribute(
        lambda e: json.dumps(
            {
                "type": e.type,
                "timestamp": "2025-01-01T00:00:00Z",
                "data": {"ticket_id": "1", "customer_shopify_id": str(BEYOND_FLOAT)},
            },
            separators=(",", ":"),
        ).encode()
    )

    class Meta:
        model = Event


class DeliveryFactory(DjangoModelFactory):
    endpoint = factory.SubFactory(EndpointFactory)
    event = factory.SubFactory(EventFactory)

    class Meta:
        model = Delivery


class AttemptFactory(DjangoModelFactory):
    delivery = factory.SubFactory(DeliveryFactory)
    request_headers = factory.LazyAttribute(
        lambda a: {"webhook-id": a.delivery.event.message_id, "content-type": "application/json"}
    )
    response_status = 200
    response_body = "ok"
    duration_ms = 42

    class Meta:
        model = Attempt


# One factory for each of Bookbag's models: the admin page tests and the access matrix make a row
# of every model with them.
BY_MODEL = {
    f._meta.model: f
    for f in (
        ShopFactory, CustomerFactory, OrderFactory, FulfillmentFactory, RefundFactory,
        InboundWebhookFactory, DataExportFactory, TagFactory, TicketFactory, MessageFactory,
        TicketEventFactory, SavedReplyFactory, CsatSurveyFactory, NotificationTemplateFactory,
        NotificationFactory, EndpointFactory, EventFactory, DeliveryFactory, AttemptFactory,
    )
}  # fmt: skip
