"""`manage.py seed_bulk_tickets --tickets 100000 --messages 500000`: a big inbox, fast.

For benchmarks (benchmarks/inbox.py) and for trying the inbox at scale: one store
(`bench-store.myshopify.com`), agents, customers, orders with fulfillments and refunds, tickets
with their conversations and timeline entries, spread over a year. Rows are written with
bulk_create in batches, and timestamps are set as given (a ticket opened last March says so).
No service runs and no signal is sent: nothing is emailed or delivered. Deterministic (`--seed`).

Run it on an empty or scratch database: it adds to what is there, it does not replace it.
"""

import contextlib
import random
import time
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone

from integrations.models import Customer, Fulfillment, Order, Refund, Shop
from tickets.access import AGENTS
from tickets.models import (
    AuthorKind,
    Channel,
    Message,
    Priority,
    Tag,
    Ticket,
    TicketEvent,
    TicketStatus,
)

DOMAIN = "bench-store.myshopify.com"
ID_BASE = 8_000_000_000_000
FIRST = [
    "Maya", "Jonas", "Aisha", "Liam", "Sofia", "Hiroshi", "Emma", "Carlos", "Priya", "Noah",
    "Fatima", "Grace", "Lena", "Omar", "Chloe", "Mateo", "Yuki", "Ava", "Ben", "Zara",
]  # fmt: skip
LAST = [
    "Patel", "Becker", "Okafor", "O'Connor", "Rossi", "Tanaka", "Johansson", "Mendoza", "Raman",
    "Williams", "Haddad", "Kim", "Schmidt", "Ali", "Dubois", "Garcia", "Sato", "Brown", "Cohen",
    "Khan",
]  # fmt: skip
SUBJECTS = [
    "Where is my order {order}?", "Tracking hasn't moved for {order}", "Wrong item in {order}",
    "Can I change the address on {order}?", "Refund for {order}", "Damaged parcel ({order})",
    "Cancel {order} please", "Invoice for {order}", "Do you ship to Canada?",
    "Discount code not working", "Exchange for a different colour", "Missing item from {order}",
]  # fmt: skip
CUSTOMER_LINES = [
    "Hi, my order {order} still hasn't arrived. Could you check where it is?",
    "The tracking page hasn't updated in four days. Is the parcel lost?",
    "One of the notebooks arrived with a bent cover. Can I get a replacement?",
    "I'd like to return the tote bag, it is smaller than I expected.",
    "Thanks, that worked! Have a great day.",
    "Could you send me an invoice with my company's VAT number on it?",
    "The courier says delivery was attempted but nobody knocked.",
    "Is there any way to get it before Saturday? It's a birthday present.",
]
AGENT_LINES = [
    "Hi {name}, thanks for reaching out! I've checked with the carrier and the parcel is moving "
    "again; it should arrive within two business days.",
    "Hi {name}, I'm sorry about that. I've issued a replacement that ships today.",
    "Hi {name}, of course. Could you reply with the details exactly as they should appear?",
    "Hi {name}, done: the order is cancelled and the payment released.",
]
NOTE_LINES = ["Carrier claim opened.", "Checked the warehouse: stock is fine.", "VIP, be quick."]
CARRIERS = [("UPS", "https://www.ups.com/track?tracknum={t}"),
            ("USPS", "https://tools.usps.com/go/TrackConfirmAction?tLabels={t}"),
            ("DHL Express", "https://www.dhl.com/en/express/tracking.html?AWB={t}")]  # fmt: skip
SHIPMENT = ["delivered"] * 6 + ["in_transit"] * 2 + ["out_for_delivery", "failure", "confirmed"]
TAGS = {
    "shipping": "#2563eb", "returns": "#d97706", "damaged": "#dc2626", "billing": "#7c3aed",
    "pre-sales": "#059669", "vip": "#ca8a04", "risk-review": "#b91c1c", "wholesale": "#0f766e",
}  # fmt: skip


@contextlib.contextmanager
def timestamps_as_given(*models):
    """auto_now/auto_now_add would stamp every row with the time of the INSERT."""
    saved = []
    for model in models:
        for f in model._meta.concrete_fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                saved.append((f, f.auto_now, f.auto_now_add))
                f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


class Command(BaseCommand):
    help = "Bulk-create a large inbox (tickets, messages, customers, orders) for benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("--tickets", type=int, default=100_000)
        parser.add_argument("--messages", type=int, default=500_000)
        parser.add_argument("--agents", type=int, default=12)
        parser.add_argument("--batch-size", type=int, default=5_000)
        parser.add_argument("--seed", type=int, default=42)

    def handle(self, *args, tickets: int, messages: int, agents: int, batch_size: int, seed: int,
               **options):  # fmt: skip
        self.rng = random.Random(seed)
        self.batch = batch_size
        self.now = timezone.now()
        started = time.monotonic()
        with timestamps_as_given(Customer, Order, Fulfillment, Refund, Ticket, Message,
                                 TicketEvent):  # fmt: skip
            shop = self._shop()
            users = self._agents(agents)
            tags = self._tags()
            customers = self._customers(shop, max(1, tickets // 4))
            orders_by_customer = self._orders(shop, customers)
            created = self._tickets(shop, customers, orders_by_customer, users, tags, tickets)
            count = self._messages(created, messages, users)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        self.stdout.write(self.style.SUCCESS(
            f"Created {len(created):,} tickets and {count:,} messages for {len(customers):,} "
            f"customers in {time.monotonic() - started:.0f} s (shop {shop.domain})."
        ))  # fmt: skip

    # --- helpers ----------------------------------------------------------------------------

    def _ago(self, max_days: float) -> timedelta:
        return timedelta(seconds=self.rng.uniform(0, max_days * 86_400))

    def _bulk(self, model, rows: list) -> list:
        out = []
        for start in range(0, len(rows), self.batch):
            with transaction.atomic():
                out += model.objects.bulk_create(rows[start : start + self.batch])
        return out

    def _shop(self) -> Shop:
        shop, _ = Shop.objects.get_or_create(
            domain=DOMAIN,
            defaults={"name": "Bench Store", "webhook_secret": "bench-webhook-secret",
                      "created_at": self.now, "updated_at": self.now},
        )  # fmt: skip
        return shop

    def _agents(self, count: int) -> list:
        group, _ = Group.objects.get_or_create(name=AGENTS)
        model = get_user_model()
        users = []
        for i in range(1, count + 1):
            user, created = model.objects.get_or_create(
                username=f"bench-agent-{i}",
                defaults={"first_name": self.rng.choice(FIRST), "last_name": self.rng.choice(LAST),
                          "email": f"bench-agent-{i}@bench-store.test"},
            )  # fmt: skip
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
            user.groups.add(group)
            users.append(user)
        return users

    def _tags(self) -> list[Tag]:
        return [
            Tag.objects.get_or_create(name=name, defaults={"color": color})[0]
            for name, color in TAGS.items()
        ]

    def _customers(self, shop: Shop, count: int) -> list[Customer]:
        offset = Customer.objects.filter(shop=shop).count()
        rows = []
        for i in range(offset, offset + count):
            first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
            at = self.now - self._ago(400)
            rows.append(Customer(
                shop=shop, shopify_id=ID_BASE + i, first_name=first, last_name=last,
                email=f"{first}.{last}.{i}@example.com".lower().replace("'", ""),
                locale="en", shopify_updated_at=at, created_at=at, updated_at=at,
            ))  # fmt: skip
        return self._bulk(Customer, rows)

    def _orders(self, shop: Shop, customers: list[Customer]) -> dict[int, list[Order]]:
        offset = Order.objects.filter(shop=shop).count()
        rows = []
        for customer in customers:
            for _ in range(1 if self.rng.random() < 0.7 else 2):
                n = offset + len(rows)
                at = self.now - self._ago(365)
                total = Decimal(self.rng.randrange(1500, 25000)) / 100
                shipped = self.rng.random() < 0.75
                rows.append(Order(
                    shop=shop, shopify_id=ID_BASE + n, name=f"#{20000 + n}", customer=customer,
                    email=customer.email, financial_status="paid",
                    fulfillment_status="fulfilled" if shipped else "",
                    risk_level="high" if self.rng.random() < 0.01 else "",
                    total_price=total, subtotal_price=total, currency="USD",
                    shopify_created_at=at, processed_at=at, shopify_updated_at=at,
                    line_items=[{"id": ID_BASE + n, "title": "Canvas Book Tote", "sku": "TOTE",
                                 "quantity": 1, "price": str(total)}],
                    created_at=at, updated_at=at,
                ))  # fmt: skip
        orders = self._bulk(Order, rows)
        fulfillments, refunds = [], []
        for order in orders:
            if order.fulfillment_status:
                carrier, url = self.rng.choice(CARRIERS)
                number = f"1Z{order.shopify_id}"
                at = order.shopify_created_at + timedelta(days=1)
                fulfillments.append(Fulfillment(
                    shop=shop, shopify_id=order.shopify_id, order=order,
                    order_shopify_id=order.shopify_id, name=f"{order.name}.1", status="success",
                    shipment_status=self.rng.choice(SHIPMENT), tracking_company=carrier,
                    tracking_numbers=[number], tracking_urls=[url.format(t=number)],
                    shopify_created_at=at, shopify_updated_at=at, announced_at=at,
                    created_at=at, updated_at=at,
                ))  # fmt: skip
            if self.rng.random() < 0.04:
                at = order.shopify_created_at + timedelta(days=5)
                refunds.append(Refund(
                    shop=shop, shopify_id=order.shopify_id, order=order,
                    order_shopify_id=order.shopify_id, amount=order.total_price, currency="USD",
                    note="Damaged in transit", processed_at=at, shopify_created_at=at,
                    announced_at=at, created_at=at, updated_at=at,
                ))  # fmt: skip
        self._bulk(Fulfillment, fulfillments)
        self._bulk(Refund, refunds)
        by_customer: dict[int, list[Order]] = {}
        for order in orders:
            by_customer.setdefault(order.customer_id, []).append(order)
        return by_customer

    def _tickets(self, shop, customers, orders_by_customer, users, tags, count) -> list[Ticket]:
        statuses = [TicketStatus.RESOLVED] * 75 + [TicketStatus.OPEN] * 12 + [
            TicketStatus.PENDING] * 8 + [TicketStatus.ESCALATED] * 5  # fmt: skip
        priorities = [Priority.LOW] * 10 + [Priority.NORMAL] * 70 + [Priority.HIGH] * 15 + [
            Priority.URGENT] * 5  # fmt: skip
        rows = []
        for _ in range(count):
            customer = self.rng.choice(customers)
            orders = orders_by_customer.get(customer.pk, [])
            order = self.rng.choice(orders) if orders and self.rng.random() < 0.75 else None
            status = self.rng.choice(statuses)
            last = self.now - self._ago(365 if status == TicketStatus.RESOLVED else 20)
            opened = last - self._ago(5)
            resolved = status == TicketStatus.RESOLVED
            subject = self.rng.choice(SUBJECTS).format(order=order.name if order else "my order")
            rows.append(Ticket(
                shop=shop, customer=customer, order=order, subject=subject, status=status,
                priority=self.rng.choice(priorities),
                assignee=self.rng.choice(users) if self.rng.random() < 0.7 else None,
                channel=self.rng.choice([Channel.EMAIL] * 4 + [Channel.CHAT, Channel.WEB]),
                last_activity_at=last, resolved_at=last if resolved else None,
                resolved_by=self.rng.choice(users) if resolved else None,
                created_at=opened, updated_at=last,
            ))  # fmt: skip
        tickets = self._bulk(Ticket, rows)
        events, links = [], []
        through = Ticket.tags.through
        for t in tickets:
            events.append(TicketEvent(ticket=t, kind="created", created_at=t.created_at,
                                      updated_at=t.created_at))  # fmt: skip
            if t.status != TicketStatus.OPEN:
                events.append(TicketEvent(
                    ticket=t, kind="status_changed", actor=t.resolved_by,
                    data={"from": "open", "to": t.status}, created_at=t.last_activity_at,
                    updated_at=t.last_activity_at,
                ))  # fmt: skip
            if self.rng.random() < 0.4:
                links.append(through(ticket_id=t.pk, tag_id=self.rng.choice(tags).pk))
        self._bulk(TicketEvent, events)
        self._bulk(through, links)
        return tickets

    def _messages(self, tickets: list[Ticket], total: int, users) -> int:
        per_ticket = max(1, total // max(1, len(tickets)))
        remaining = total
        rows: list[Message] = []
        written = 0
        for index, t in enumerate(tickets):
            left_tickets = len(tickets) - index
            n = min(remaining, max(1, self.rng.randint(1, 2 * per_ticket - 1)))
            if left_tickets == 1:
                n = remaining
            remaining -= n
            span = (t.last_activity_at - t.created_at).total_seconds()
            name = t.customer.first_name
            order_name = t.order.name if t.order_id else "my order"
            for i in range(n):
                at = t.created_at + timedelta(seconds=span * i / max(1, n - 1)) if n > 1 else (
                    t.last_activity_at)  # fmt: skip
                if i % 2 == 0:
                    body = self.rng.choice(CUSTOMER_LINES).format(order=order_name)
                    rows.append(Message(
                        ticket=t, author_kind=AuthorKind.CUSTOMER, body=body, channel=t.channel,
                        created_at=at, updated_at=at,
                    ))  # fmt: skip
                else:
                    note = self.rng.random() < 0.1
                    line = self.rng.choice(NOTE_LINES if note else AGENT_LINES)
                    rows.append(Message(
                        ticket=t, author_kind=AuthorKind.AGENT, author=self.rng.choice(users),
                        body=line.format(name=name), internal=note, channel=t.channel,
                        created_at=at, updated_at=at,
                    ))  # fmt: skip
            if len(rows) >= self.batch * 4:
                written += len(self._bulk(Message, rows))
                rows = []
            if remaining <= 0:
                break
        written += len(self._bulk(Message, rows))
        return written
