"""`manage.py seed_demo`: a demo store to click through — customers, orders, shipments, tickets.

Idempotent: every row is looked up by a natural key (shop domain, username, Shopify id, tag name,
saved-reply title, ticket subject per customer) and created only when missing, so a second run
changes nothing and creates no duplicates. A ticket is created together with its conversation and
timeline, in one small transaction; nothing is written in one big transaction (on SQLite every
`atomic()` takes the write lock: see shared/TRAPS.md). The data is fixed (no randomness); its times
are relative to the first run. No outbox rows are created (inbound webhooks, emails, deliveries),
so seeding never sends anything.

Demo credentials (change them with the environment variables, or after the first run):
- shop `bookbag-demo.myshopify.com`, webhook secret `demo_webhook_secret`
  (BOOKBAG_DEMO_WEBHOOK_SECRET);
- `admin` / `admin-demo-pass` (BOOKBAG_DEMO_ADMIN_PASSWORD): staff, superuser, group `admins`;
- `agent` / `agent-demo-pass` (BOOKBAG_DEMO_AGENT_PASSWORD): group `agents`, not staff.
A password changed after the first run is kept unless `--reset-passwords` is given.
"""

import os
from datetime import datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from bookbag.setup import ADMINS, AGENTS
from integrations.models import Customer, Fulfillment, Order, Refund, RiskLevel, Shop
from tickets.models import (
    AuthorKind,
    Channel,
    Message,
    Priority,
    SavedReply,
    Tag,
    Ticket,
    TicketEvent,
    TicketStatus,
)

DEMO_DOMAIN = "bookbag-demo.myshopify.com"
DEMO_WEBHOOK_SECRET = "demo_webhook_secret"
DEMO_ADMIN = ("admin", "admin-demo-pass", "BOOKBAG_DEMO_ADMIN_PASSWORD")
DEMO_AGENT = ("agent", "agent-demo-pass", "BOOKBAG_DEMO_AGENT_PASSWORD")
ADMIN_URL = "http://127.0.0.1:8000/admin/"
INBOX_URL = "http://127.0.0.1:8000/inbox/"
CURRENCY = "USD"

CUSTOMER_ID_BASE = 7_390_412_000_000
ORDER_ID_BASE = 5_812_733_000_000
LINE_ITEM_ID_BASE = 13_904_880_000_000
FULFILLMENT_ID_BASE = 4_921_577_000_000
REFUND_ID_BASE = 9_817_260_000_000


class DemoCustomer(NamedTuple):
    key: str
    first_name: str
    last_name: str
    phone: str
    address1: str
    city: str
    province_code: str
    zip: str
    country_code: str
    shopify: bool = True  # False: known by email only (wrote through the contact form)

    @property
    def email(self) -> str:
        return f"{self.first_name}.{self.last_name}@example.com".lower().replace("'", "")


CUSTOMERS = [
    DemoCustomer("maya", "Maya", "Patel", "+1 503 555 0142", "2210 NE Alberta St", "Portland",
                 "OR", "97211", "US"),
    DemoCustomer("jonas", "Jonas", "Becker", "+49 40 555 0199", "Schanzenstraße 41", "Hamburg",
                 "", "20357", "DE"),
    DemoCustomer("aisha", "Aisha", "Okafor", "+1 713 555 0187", "4410 Montrose Blvd", "Houston",
                 "TX", "77006", "US"),
    DemoCustomer("liam", "Liam", "O'Connor", "+1 617 555 0123", "88 Tremont St", "Boston", "MA",
                 "02108", "US"),
    DemoCustomer("sofia", "Sofia", "Rossi", "+1 312 555 0164", "1550 N Milwaukee Ave", "Chicago",
                 "IL", "60622", "US"),
    DemoCustomer("hiroshi", "Hiroshi", "Tanaka", "+81 6 5555 0133", "2-1-5 Namba, Chuo-ku",
                 "Osaka", "", "542-0076", "JP"),
    DemoCustomer("emma", "Emma", "Johansson", "+1 612 555 0109", "3012 Hennepin Ave",
                 "Minneapolis", "MN", "55408", "US"),
    DemoCustomer("carlos", "Carlos", "Mendoza", "+1 602 555 0171", "725 W Roosevelt St", "Phoenix",
                 "AZ", "85007", "US"),
    DemoCustomer("priya", "Priya", "Raman", "+1 408 555 0158", "190 Ryland St", "San Jose", "CA",
                 "95110", "US"),
    DemoCustomer("noah", "Noah", "Williams", "+44 20 5555 0146", "14 Exmouth Market", "London",
                 "", "EC1R 4QE", "GB"),
    DemoCustomer("fatima", "Fatima", "Haddad", "+1 313 555 0192", "13201 W Warren Ave",
                 "Dearborn", "MI", "48126", "US"),
    DemoCustomer("grace", "Grace", "Kim", "", "", "", "", "", "", shopify=False),
]  # fmt: skip

PRODUCTS = {
    "tote": ("Canvas Book Tote — Natural", "TOTE-NAT", "34.00"),
    "notebook": ("Hardcover Notebook A5 — Dotted", "NB-A5-DOT", "18.50"),
    "light": ("Clip-on Reading Light", "LIGHT-CLIP", "24.00"),
    "bookmarks": ("Brass Bookmark Set (3)", "BM-BRASS-3", "15.00"),
    "sleeve": ("Padded Book Sleeve — Forest", "SLV-FOREST", "22.00"),
    "daypack": ("Bookbag Daypack 18L — Charcoal", "PACK-18-CHA", "89.00"),
    "stand": ("Oak Book Stand", "STAND-OAK", "39.00"),
}

CARRIERS = {
    "UPS": ("1Z8A7V4903{n:08d}", "https://www.ups.com/track?tracknum={t}"),
    "USPS": ("94001118992231{n:08d}", "https://tools.usps.com/go/TrackConfirmAction?tLabels={t}"),
    "DHL Express": ("49{n:08d}", "https://www.dhl.com/en/express/tracking.html?AWB={t}&brand=DHL"),
}


class DemoOrder(NamedTuple):
    number: int
    customer: str
    items: tuple[tuple[str, int], ...]
    days_ago: float
    financial_status: str = "paid"
    fulfillment_status: str = ""  # Shopify's null: nothing shipped
    carrier: str = ""  # a fulfillment with tracking when set
    shipment_status: str = ""
    shipped_items: int | None = None  # partial shipments: how many of the items left
    cancel_reason: str = ""
    refund_note: str = ""  # a full refund when set
    risk_level: str = ""
    tags: str = ""


ORDERS = [
    DemoOrder(1001, "maya", (("tote", 1), ("notebook", 1)), 21, "paid", "fulfilled", "UPS",
              "delivered"),
    DemoOrder(1002, "jonas", (("daypack", 1),), 18, "paid", "fulfilled", "DHL Express",
              "delivered"),
    DemoOrder(1003, "aisha", (("light", 2),), 16, "paid", "fulfilled", "USPS", "delivered"),
    DemoOrder(1004, "liam", (("sleeve", 1), ("bookmarks", 1)), 14, "refunded", "fulfilled",
              "USPS", "delivered", refund_note="Arrived water-damaged: full refund, no return."),
    DemoOrder(1005, "sofia", (("stand", 1),), 6, "paid", "fulfilled", "UPS", "in_transit"),
    DemoOrder(1006, "hiroshi", (("daypack", 1), ("notebook", 1)), 5, "paid", "fulfilled",
              "DHL Express", "out_for_delivery", tags="international"),
    DemoOrder(1007, "emma", (("tote", 2),), 5, "paid", "fulfilled", "USPS", "attempted_delivery",
              tags="gift"),
    DemoOrder(1008, "carlos", (("bookmarks", 1),), 2),
    DemoOrder(1009, "priya", (("light", 1), ("sleeve", 1)), 7, "paid", "fulfilled", "UPS",
              "failure"),
    DemoOrder(1010, "noah", (("daypack", 1),), 4, "voided", cancel_reason="customer"),
    DemoOrder(1011, "fatima", (("stand", 2), ("daypack", 1)), 1, risk_level=RiskLevel.HIGH),
    DemoOrder(1012, "maya", (("notebook", 3),), 1, tags="gift"),
    DemoOrder(1013, "jonas", (("sleeve", 1),), 3, "paid", "fulfilled", "DHL Express",
              "in_transit", tags="international"),
    DemoOrder(1014, "aisha", (("tote", 1),), 2),
    DemoOrder(1015, "hiroshi", (("stand", 1),), 2, "paid", "fulfilled", "UPS", "confirmed"),
    DemoOrder(1016, "emma", (("light", 1),), 0.2),
    DemoOrder(1017, "carlos", (("daypack", 1), ("tote", 1)), 3, "paid", "partial", "UPS",
              "in_transit", shipped_items=1),
    DemoOrder(1018, "priya", (("notebook", 1),), 0.1, "pending"),
    DemoOrder(1019, "noah", (("bookmarks", 2),), 10, "paid", "fulfilled", "DHL Express",
              "delivered", tags="international"),
    DemoOrder(1020, "sofia", (("sleeve", 1),), 1),
]  # fmt: skip

TAGS = {
    "shipping": "#2563eb",
    "returns": "#d97706",
    "damaged": "#dc2626",
    "billing": "#7c3aed",
    "pre-sales": "#059669",
    "risk-review": "#b91c1c",
    "vip": "#ca8a04",
}

SAVED_REPLIES = {
    "Tracking link": (
        "Hi {{ customer.first_name }},\n\nYour order {{ order.name }} is on its way. You can "
        "follow it here: {{ tracking_url }}\n\nHappy reading!"
    ),
    "Return instructions": (
        "Hi {{ customer.first_name }},\n\nNo problem at all. Reply with the items you'd like to "
        "return and we'll email a prepaid label within one business day. Returns are free within "
        "30 days of delivery."
    ),
    "Delayed shipment apology": (
        "Hi {{ customer.first_name }},\n\nI'm sorry {{ order.name }} is taking longer than "
        "expected. I've asked the carrier for an update and will write again as soon as I hear "
        "back."
    ),
    "Damaged item": (
        "Hi {{ customer.first_name }},\n\nI'm so sorry your order arrived damaged. Could you send "
        "a photo of the item and the box? We'll send a replacement or a full refund, whichever "
        "you prefer."
    ),
}

# Conversation entries: (who, hours after the ticket was opened, text). who is "customer",
# "agent", "note" (an agent's internal note) or an event kind prefixed with "event:".
Entry = tuple[str, float, str]


class DemoTicket(NamedTuple):
    subject: str
    customer: str
    order: int | None
    status: str
    opened_hours_ago: float
    conversation: tuple[Entry, ...]
    priority: str = Priority.NORMAL
    channel: str = Channel.EMAIL
    assigned: bool = True
    tags: tuple[str, ...] = ()
    resolved_by_automation: str = ""
    events: tuple[tuple[str, float, str, dict], ...] = ()  # (kind, hours after, automation, data)


TICKETS = [
    # --- open ---------------------------------------------------------------------------------
    DemoTicket(
        "Will my notebooks ship before Saturday?", "maya", 1012, TicketStatus.OPEN, 3,
        (
            ("customer", 0, "Hi! I ordered three of the dotted A5 notebooks yesterday (#1012). "
             "They're a birthday present for Saturday. Any chance they ship today?\n\nThanks, "
             "Maya"),
        ),
        assigned=False, tags=("shipping",),
    ),
    DemoTicket(
        "Tracking hasn't moved in four days", "sofia", 1005, TicketStatus.OPEN, 30,
        (
            ("customer", 0, "Hello, my book stand (order #1005) has said \"in transit\" since "
             "Monday and the UPS page hasn't updated since. Is it lost?"),
            ("agent", 2, "Hi Sofia, thanks for reaching out! UPS shows the parcel left their "
             "Chicago hub this morning, so it is moving again. It should reach you in 1-2 "
             "business days. I'll keep an eye on it."),
            ("customer", 26, "It still shows the same status today. Can you check again?"),
        ),
        tags=("shipping",),
        events=(("shipment_status_changed", 20, "post_order_timeline",
                 {"order": "#1005", "tracking_company": "UPS", "shipment_status": "in_transit"}),),
    ),
    DemoTicket(
        "Only half of my order arrived", "carlos", 1017, TicketStatus.OPEN, 5,
        (
            ("customer", 0, "I got a tracking email for the daypack but nothing about the tote "
             "bag I ordered with it (#1017). Did you forget it?"),
        ),
        priority=Priority.HIGH, assigned=False, tags=("shipping",),
    ),
    DemoTicket(
        "Do you ship to Canada?", "grace", None, TicketStatus.OPEN, 1.5,
        (
            ("customer", 0, "Hi there, I'd love to order the Bookbag Daypack but I live in "
             "Vancouver. Do you ship to Canada, and would I pay duties on delivery?"),
        ),
        channel=Channel.WEB, assigned=False, tags=("pre-sales",),
    ),
    # --- pending (waiting on the customer) -----------------------------------------------------
    DemoTicket(
        "Missed delivery: how do I reschedule?", "emma", 1007, TicketStatus.PENDING, 20,
        (
            ("customer", 0, "USPS left a note saying they tried to deliver my totes (#1007) "
             "but nobody was home. They're a gift, so I really need them this week!"),
            ("agent", 1.5, "Hi Emma, USPS will try again on the next business day. You can also "
             "schedule a redelivery or pick the parcel up at your local post office with the "
             "notice they left. Would you like me to ask USPS to hold it at the post office?"),
        ),
        tags=("shipping",),
    ),
    DemoTicket(
        "Will I be charged import duties?", "hiroshi", 1006, TicketStatus.PENDING, 40,
        (
            ("customer", 0, "My daypack is with DHL in Osaka now (#1006). Will I have to pay "
             "import tax when it arrives?"),
            ("agent", 3, "Hi Hiroshi, orders to Japan are shipped DDU, so DHL may collect "
             "consumption tax on delivery (usually about 10% of the order value). If you send me "
             "a photo of any invoice DHL gives you, we'll refund half of it as a thank-you for "
             "your patience."),
        ),
        channel=Channel.CHAT, tags=("shipping", "billing"),
    ),
    DemoTicket(
        "Exchange reading light for a warmer colour", "aisha", 1003, TicketStatus.PENDING, 50,
        (
            ("customer", 0, "The reading lights (#1003) are great, but the light is very cold "
             "and blue. Do you have a warm-white version I could swap one for?"),
            ("agent", 4, "Hi Aisha, yes! The warm-white version is in stock. I've emailed you a "
             "prepaid return label: once UPS scans the return we'll ship the swap right away. "
             "Which one should we send, the 2700K or the 3000K?"),
            ("note", 4.2, "Return label RMA-20418 created in the carrier portal."),
        ),
        tags=("returns",),
    ),
    DemoTicket(
        "Invoice with my VAT number", "jonas", 1002, TicketStatus.PENDING, 70,
        (
            ("customer", 0, "Hallo, could you send me an invoice for order #1002 with my "
             "company's VAT number on it? I use the daypack for work."),
            ("agent", 5, "Hi Jonas, of course. Could you reply with the company name, address and "
             "VAT ID exactly as they should appear on the invoice?"),
        ),
        tags=("billing",),
    ),
    # --- escalated ---------------------------------------------------------------------------
    DemoTicket(
        "Why is my order on hold?", "fatima", 1011, TicketStatus.ESCALATED, 12,
        (
            ("customer", 0, "I placed order #1011 yesterday and it still says unfulfilled. I "
             "need the book stands for a shop display next week. What's going on?"),
            ("note", 0.5, "Shopify flagged #1011 as high risk: billing ZIP doesn't match the card "
             "and the shipping address is a freight forwarder. Please don't ship until the "
             "payment is verified. Escalated to Dana (ops)."),
            ("agent", 1, "Hi Fatima, thanks for your patience! Your order is going through a "
             "routine payment check. Could you confirm the billing address on your card? We'll "
             "ship as soon as it's verified."),
        ),
        priority=Priority.HIGH, tags=("risk-review",),
        events=(("escalated", 0.01, "escalate_flagged_orders",
                 {"order": "#1011", "reason": "risk_level high"}),),
    ),
    DemoTicket(
        "UPS says delivery exception — where is my parcel?", "priya", 1009,
        TicketStatus.ESCALATED, 60,
        (
            ("customer", 0, "UPS shows \"delivery exception: address issue\" for #1009, but the "
             "address is correct! I've been waiting a week."),
            ("agent", 2, "Hi Priya, I'm sorry about this. I've contacted UPS to confirm the "
             "address and asked them to attempt delivery again."),
            ("customer", 30, "UPS now says it's being returned to sender. This is really "
             "frustrating — can you just send a new one?"),
            ("note", 31, "UPS claim #UPS-88231 opened. Escalating: needs a reship approval from "
             "the ops lead (order value $51.95)."),
        ),
        priority=Priority.URGENT, tags=("shipping", "vip"),
    ),
    # --- resolved ----------------------------------------------------------------------------
    DemoTicket(
        "Book sleeve arrived water-damaged", "liam", 1004, TicketStatus.RESOLVED, 150,
        (
            ("customer", 0, "The padded sleeve from order #1004 arrived soaked through and the "
             "bookmarks are tarnished. Photos attached."),
            ("agent", 3, "Hi Liam, I'm so sorry! Thanks for the photos. I've issued a full "
             "refund — no need to send anything back. You'll see it on your card in 5-10 "
             "business days."),
            ("note", 3.1, "Carrier damage, USPS claim filed. Refund issued in Shopify."),
        ),
        tags=("returns", "damaged"), resolved_by_automation="auto_resolve_refunds",
        events=(("order_refunded", 3.2, "auto_resolve_refunds",
                 {"order": "#1004", "amount": "42.95", "currency": "USD"}),),
    ),
    DemoTicket(
        "Where is my tote?", "maya", 1001, TicketStatus.RESOLVED, 478,
        (
            ("customer", 0, "Hi, just checking on order #1001 — has it shipped yet?"),
            ("agent", 1, "Hi Maya, it shipped this morning with UPS and should arrive on "
             "Thursday. Here's the tracking link: https://www.ups.com/track?tracknum="
             "1Z8A7V490300001001"),
            ("customer", 70, "It arrived, thank you so much! Love the tote."),
        ),
        tags=("shipping",),
    ),
    DemoTicket(
        "Please cancel my order", "noah", 1010, TicketStatus.RESOLVED, 95,
        (
            ("customer", 0, "Hi, I ordered the daypack by mistake (#1010) — I meant to get the "
             "tote. Can you cancel it before it ships?"),
            ("agent", 1, "Hi Noah, done: #1010 is cancelled and the payment authorisation has "
             "been released, so you won't be charged. Enjoy the tote when you order it!"),
        ),
        channel=Channel.CHAT,
    ),
    DemoTicket(
        "Discount code FIRSTREAD isn't working", "jonas", None, TicketStatus.RESOLVED, 330,
        (
            ("customer", 0, "The code FIRSTREAD from your newsletter says it's invalid at "
             "checkout."),
            ("agent", 0.5, "Hi Jonas, sorry about that: the code expired last week. Here's a "
             "fresh one for 10% off, valid for 30 days: READMORE-J7Q2."),
            ("customer", 2, "Worked, thanks!"),
        ),
        channel=Channel.CHAT, tags=("pre-sales",),
    ),
    DemoTicket(
        "Marked as delivered but not here", "noah", 1019, TicketStatus.RESOLVED, 170,
        (
            ("customer", 0, "DHL says my bookmarks (#1019) were delivered this morning, but "
             "there's nothing at my door."),
            ("agent", 1.5, "Hi Noah, DHL's proof of delivery says the parcel was left with a "
             "neighbour at number 16. Could you check with them? If it isn't there, we'll send "
             "a replacement."),
            ("customer", 6, "Found it at number 16, thank you!"),
        ),
        tags=("shipping",),
    ),
]  # fmt: skip


class Command(BaseCommand):
    help = "Create (or complete) the demo shop, users, customers, orders and tickets. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="Set the demo users' passwords back to the demo (or environment) values.",
        )

    def handle(self, *args, reset_passwords: bool = False, **options):
        self.now = timezone.now()
        self.created: dict[str, int] = {}
        shop = self._shop()
        admin, admin_password = self._user(
            *DEMO_ADMIN, group=ADMINS, staff=True, superuser=True, reset=reset_passwords,
            first_name="Ada", last_name="Admin",
        )  # fmt: skip
        agent, agent_password = self._user(
            *DEMO_AGENT, group=AGENTS, staff=False, superuser=False, reset=reset_passwords,
            first_name="Sam", last_name="Rivera",
        )  # fmt: skip
        customers = self._customers(shop)
        orders = self._orders(shop, customers)
        tags = self._tags_and_saved_replies(admin)
        for spec in TICKETS:
            self._ticket(
                spec, shop=shop, customers=customers, orders=orders, agent=agent, tags=tags
            )

        created = ", ".join(f"{n} {what}" for what, n in self.created.items() if n) or "nothing"
        self.stdout.write(self.style.SUCCESS(f"Demo data ready (created: {created})."))
        self.stdout.write(f"  Shop:           {shop.domain}")
        self.stdout.write(f"  Webhook secret: {shop.webhook_secret}")
        self.stdout.write(f"  Admin login:    {admin.username} / {admin_password}  ({ADMIN_URL})")
        self.stdout.write(f"  Agent login:    {agent.username} / {agent_password}  ({INBOX_URL})")
        self.stdout.write("  (`make run` starts the server)")

    def _count(self, what: str, created: bool | int) -> None:
        self.created[what] = self.created.get(what, 0) + int(created)

    # --- shop and users -----------------------------------------------------------------------

    def _shop(self) -> Shop:
        secret_from_env = os.environ.get("BOOKBAG_DEMO_WEBHOOK_SECRET", "")
        with transaction.atomic():
            shop, created = Shop.objects.get_or_create(
                domain=DEMO_DOMAIN,
                defaults={
                    "name": "Bookbag Demo Store",
                    "webhook_secret": secret_from_env or DEMO_WEBHOOK_SECRET,
                    "sender_name": "Bookbag Demo Support",
                    "from_email": "support@bookbag-demo.test",
                    "reply_to_email": "support@bookbag-demo.test",
                    "timezone": "America/New_York",
                },
            )
            # An existing shop keeps its secret, unless the environment asks for another one.
            wanted = secret_from_env or shop.webhook_secret or DEMO_WEBHOOK_SECRET
            if shop.webhook_secret != wanted:
                shop.webhook_secret = wanted
                shop.save(update_fields=["webhook_secret", "updated_at"])
        self._count("shop", created)
        return shop

    def _user(
        self,
        username: str,
        default_password: str,
        env_var: str,
        *,
        group: str,
        staff: bool,
        superuser: bool,
        reset: bool,
        first_name: str,
        last_name: str,
    ):
        """The demo user in its role; returns it and the password to print."""
        password = os.environ.get(env_var) or default_password
        user_model = get_user_model()
        with transaction.atomic():
            role_group, _ = Group.objects.get_or_create(name=group)
            user, created = user_model.objects.get_or_create(
                username=username,
                defaults={
                    "email": f"{username}@bookbag-demo.test",
                    "first_name": first_name,
                    "last_name": last_name,
                    "is_staff": staff,
                    "is_superuser": superuser,
                },
            )
            changed = []
            if created or reset:
                user.set_password(password)
                changed.append("password")
            if user.is_staff != staff or user.is_superuser != superuser:
                user.is_staff, user.is_superuser = staff, superuser
                changed += ["is_staff", "is_superuser"]
            if changed:
                user.save(update_fields=changed)
            if not user.groups.filter(pk=role_group.pk).exists():
                user.groups.add(role_group)
        self._count("users", created)
        # hashers.check_password, not user.check_password: printing must not rewrite the hash.
        if check_password(password, user.password):
            shown = password
        else:
            shown = "(changed since seeding; --reset-passwords sets it back)"
        return user, shown

    # --- customers and orders -----------------------------------------------------------------

    def _customers(self, shop: Shop) -> dict[str, Customer]:
        customers = {}
        with transaction.atomic():
            for i, spec in enumerate(CUSTOMERS, start=1):
                shopify_id = CUSTOMER_ID_BASE + i * 7919 if spec.shopify else None
                lookup = {"shop": shop, "shopify_id": shopify_id}
                if shopify_id is None:
                    lookup["email"] = spec.email
                customer, created = Customer.objects.get_or_create(
                    **lookup,
                    defaults={
                        "email": spec.email,
                        "first_name": spec.first_name,
                        "last_name": spec.last_name,
                        "phone": spec.phone,
                        "locale": "en",
                        "shopify_updated_at": self.now - timedelta(days=30)
                        if spec.shopify
                        else None,
                    },
                )
                customers[spec.key] = customer
                self._count("customers", created)
        return customers

    def _orders(self, shop: Shop, customers: dict[str, Customer]) -> dict[int, Order]:
        specs = {spec.key: spec for spec in CUSTOMERS}
        orders = {}
        batch = 5
        for start in range(0, len(ORDERS), batch):
            with transaction.atomic():
                for spec in ORDERS[start : start + batch]:
                    orders[spec.number] = self._order(
                        spec, shop, customers[spec.customer], specs[spec.customer]
                    )
        return orders

    def _order(self, spec: DemoOrder, shop: Shop, customer: Customer, who: DemoCustomer) -> Order:
        created_at = self.now - timedelta(days=spec.days_ago)
        line_items = []
        for index, (product, quantity) in enumerate(spec.items):
            title, sku, price = PRODUCTS[product]
            line_items.append(
                {
                    "id": LINE_ITEM_ID_BASE + spec.number * 10 + index,
                    "title": title,
                    "sku": sku,
                    "quantity": quantity,
                    "price": price,
                }
            )
        subtotal = sum(Decimal(li["price"]) * li["quantity"] for li in line_items)
        shipping = Decimal("0.00") if subtotal >= 75 else Decimal("5.95")
        total = subtotal + shipping
        refunded = bool(spec.refund_note)
        address = {
            "first_name": who.first_name,
            "last_name": who.last_name,
            "address1": who.address1,
            "city": who.city,
            "province_code": who.province_code,
            "zip": who.zip,
            "country_code": who.country_code,
            "phone": who.phone,
        }
        order, created = Order.objects.get_or_create(
            shop=shop,
            shopify_id=ORDER_ID_BASE + spec.number,
            defaults={
                "name": f"#{spec.number}",
                "customer": customer,
                "email": customer.email,
                "customer_locale": "en",
                "financial_status": spec.financial_status,
                "fulfillment_status": spec.fulfillment_status,
                "cancelled_at": created_at + timedelta(hours=2) if spec.cancel_reason else None,
                "cancel_reason": spec.cancel_reason,
                "tags": spec.tags,
                "risk_level": spec.risk_level,
                "subtotal_price": subtotal,
                "total_price": total,
                "total_refunded": total if refunded else Decimal("0.00"),
                "currency": CURRENCY,
                "shopify_created_at": created_at,
                "processed_at": created_at,
                "shopify_updated_at": created_at + timedelta(days=min(spec.days_ago, 2)),
                "line_items": line_items,
                "shipping_address": address,
            },
        )
        self._count("orders", created)
        if spec.carrier:
            self._fulfillment(spec, order, line_items, created_at)
        if refunded:
            refunded_at = self.now - timedelta(days=6)  # when the damage ticket was answered
            _, created = Refund.objects.get_or_create(
                shop=shop,
                shopify_id=REFUND_ID_BASE + spec.number,
                defaults={
                    "order": order,
                    "order_shopify_id": order.shopify_id,
                    "amount": total,
                    "currency": CURRENCY,
                    "note": spec.refund_note,
                    "processed_at": refunded_at,
                    "shopify_created_at": refunded_at,
                    "line_items": [
                        {"line_item_id": li["id"], "quantity": li["quantity"], "restock": False}
                        for li in line_items
                    ],
                },
            )
            self._count("refunds", created)
        return order

    def _fulfillment(
        self, spec: DemoOrder, order: Order, line_items: list[dict], ordered_at: datetime
    ) -> None:
        number_format, url_format = CARRIERS[spec.carrier]
        tracking_number = number_format.format(n=spec.number)
        shipped_at = ordered_at + timedelta(days=min(1, spec.days_ago / 2))
        last_event_at = ordered_at + timedelta(days=min(spec.days_ago * 0.8, 3))
        _, created = Fulfillment.objects.get_or_create(
            shop=order.shop,
            shopify_id=FULFILLMENT_ID_BASE + spec.number,
            defaults={
                "order": order,
                "order_shopify_id": order.shopify_id,
                "name": f"#{spec.number}.1",
                "status": "success",
                "shipment_status": spec.shipment_status,
                "tracking_company": spec.carrier,
                "tracking_numbers": [tracking_number],
                "tracking_urls": [url_format.format(t=tracking_number)],
                "line_items": line_items[: spec.shipped_items],
                "shopify_created_at": shipped_at,
                "shopify_updated_at": last_event_at,
                "last_event_at": last_event_at,
            },
        )
        self._count("fulfillments", created)

    # --- tags, saved replies, tickets ----------------------------------------------------------

    def _tags_and_saved_replies(self, admin) -> dict[str, Tag]:
        tags = {}
        with transaction.atomic():
            for name, color in TAGS.items():
                tags[name], created = Tag.objects.get_or_create(
                    name=name, defaults={"color": color}
                )
                self._count("tags", created)
            for title, body in SAVED_REPLIES.items():
                _, created = SavedReply.objects.get_or_create(
                    title=title, defaults={"body": body, "created_by": admin}
                )
                self._count("saved replies", created)
        return tags

    def _ticket(self, spec: DemoTicket, *, shop, customers, orders, agent, tags) -> None:
        customer = customers[spec.customer]
        opened_at = self.now - timedelta(hours=spec.opened_hours_ago)
        last_at = opened_at + timedelta(hours=max(h for _, h, _ in spec.conversation))
        resolved = spec.status == TicketStatus.RESOLVED
        resolved_at = last_at + timedelta(minutes=20) if resolved else None
        with transaction.atomic():
            ticket, created = Ticket.objects.get_or_create(
                shop=shop,
                customer=customer,
                subject=spec.subject,
                defaults={
                    "order": orders.get(spec.order) if spec.order else None,
                    "status": spec.status,
                    "priority": spec.priority,
                    "channel": spec.channel,
                    "assignee": agent if spec.assigned else None,
                    "resolved_at": resolved_at,
                    "resolved_by": agent if resolved and not spec.resolved_by_automation else None,
                    "resolved_by_automation": spec.resolved_by_automation,
                },
            )
            self._count("tickets", created)
            if not created:
                return  # its conversation and timeline were written with it
            self._count("messages", len(spec.conversation))
            # auto_now_add fields take the current time on INSERT: backdate them afterwards.
            for who, hours, body in spec.conversation:
                message = Message.objects.create(
                    ticket=ticket,
                    author_kind=AuthorKind.CUSTOMER if who == "customer" else AuthorKind.AGENT,
                    author=None if who == "customer" else agent,
                    body=body,
                    internal=who == "note",
                    channel=spec.channel,
                )
                at = opened_at + timedelta(hours=hours)
                Message.objects.filter(pk=message.pk).update(created_at=at, updated_at=at)
            timeline = [
                (kind, opened_at + timedelta(hours=hours), None, automation, data)
                for kind, hours, automation, data in spec.events
            ]
            if spec.status != TicketStatus.OPEN:
                at = resolved_at or opened_at + timedelta(hours=spec.conversation[-1][1] + 0.1)
                automation = spec.resolved_by_automation if resolved else ""
                if spec.status == TicketStatus.ESCALATED and spec.events:
                    automation = spec.events[0][2]
                    at = opened_at + timedelta(hours=spec.events[0][1])
                actor = None if automation else agent
                data = {"from": TicketStatus.OPEN.value, "to": str(spec.status)}
                timeline.append(("status_changed", at, actor, automation, data))
            for kind, at, actor, automation, data in timeline:
                event = TicketEvent.objects.create(
                    ticket=ticket, kind=kind, actor=actor, automation=automation, data=data
                )
                TicketEvent.objects.filter(pk=event.pk).update(created_at=at, updated_at=at)
            ticket.tags.add(*(tags[name] for name in spec.tags))
            Ticket.objects.filter(pk=ticket.pk).update(
                created_at=opened_at,
                updated_at=resolved_at or last_at,
                last_activity_at=resolved_at or last_at,
            )
