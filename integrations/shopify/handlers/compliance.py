"""The mandatory compliance topics. Each app exports or erases its own rows through signals
(shared/DESIGN.md, "Compliance topics work through signals too"); this module handles the
integrations side and collects the others' answers."""

from django.db.models import Q
from django.utils import timezone

from integrations import signals
from integrations.models import (
    Customer,
    DataExport,
    Fulfillment,
    InboundWebhook,
    Order,
    Refund,
    Shop,
)
from integrations.shopify.handlers.registry import ShopifyEvent, handles
from integrations.shopify.parsing import items, obj, shopify_id, text

REDACTED_BODY = b'{"redacted":true}'


def matching_customers(shop: Shop, payload: dict) -> tuple[list[Customer], str, int | None]:
    """Match by Shopify id and by email: an email-only customer is the same person."""
    person = obj(payload.get("customer"))
    sid = shopify_id(person.get("id"), required=False)
    email = text(person.get("email"), 254).strip().lower()
    match = Q(pk__in=[])
    if sid is not None:
        match |= Q(shopify_id=sid)
    if email:
        match |= Q(email__iexact=email)
    customers = list(Customer.objects.select_for_update(of=("self",)).filter(match, shop=shop))
    return customers, email, sid


def customer_orders(shop: Shop, customers: list[Customer], email: str, extra_ids=()) -> list[Order]:
    match = Q(customer__in=customers) | Q(shopify_id__in=list(extra_ids))
    if email:
        match |= Q(email__iexact=email)
    return list(Order.objects.filter(match, shop=shop).distinct())


def export_order(order: Order) -> dict:
    return {
        "id": str(order.shopify_id),
        "name": order.name,
        "email": order.email,
        "created_at": order.shopify_created_at,
        "financial_status": order.financial_status,
        "fulfillment_status": order.fulfillment_status,
        "total_price": order.total_price,
        "currency": order.currency,
        "line_items": order.line_items,
        "shipping_address": order.shipping_address,
        "fulfillments": [
            {
                "id": str(f.shopify_id),
                "tracking_company": f.tracking_company,
                "tracking_numbers": f.tracking_numbers,
                "shipment_status": f.shipment_status,
            }
            for f in order.fulfillments.all()
        ],
        "refunds": [
            {"id": str(r.shopify_id), "amount": r.amount, "currency": r.currency, "note": r.note}
            for r in order.refunds.all()
        ],
    }


@handles("customers/data_request")
def data_request(event: ShopifyEvent) -> None:
    customers, email, sid = matching_customers(event.shop, event.payload)
    orders = customer_orders(
        event.shop,
        customers,
        email,
        [shopify_id(i) for i in items(event.payload.get("orders_requested"))],
    )
    data = {
        "shop": event.shop.domain,
        "requested_at": timezone.now(),
        "customer": [
            {
                "id": str(c.shopify_id) if c.shopify_id else None,
                "email": c.email,
                "first_name": c.first_name,
                "last_name": c.last_name,
                "phone": c.phone,
                "locale": c.locale,
            }
            for c in customers
        ],
        "orders": [export_order(o) for o in orders],
    }
    for _receiver, section in signals.customer_data_requested.send(
        sender=Shop, shop=event.shop, customers=customers, email=email, shopify_customer_id=sid
    ):
        data.update(section or {})
    DataExport.objects.create(
        shop=event.shop,
        customer=customers[0] if customers else None,
        shopify_customer_id=sid,
        email=email,
        inbound_webhook=event.webhook,
        data=data,
        completed_at=timezone.now(),
    )


@handles("customers/redact")
def customer_redact(event: ShopifyEvent) -> None:
    """Erase the customer's personal data everywhere; the rows stay so history adds up."""
    shop = event.shop
    customers, email, sid = matching_customers(shop, event.payload)
    extra = [shopify_id(i) for i in items(event.payload.get("orders_to_redact"))]
    orders = customer_orders(shop, customers, email, extra)
    # Other apps first: they may need the names and emails to find their own rows.
    signals.customer_redact_requested.send(
        sender=Shop, shop=shop, customers=customers, email=email, shopify_customer_id=sid
    )
    now = timezone.now()
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(
        email="", customer_locale="", shipping_address={}, raw={}, updated_at=now
    )
    # Stored payloads that carry the customer are rewritten: redaction overrides "frozen".
    # Linked rows are certain; other order and customer payloads are checked for the person's
    # email or ids (a rare, bounded scan of one shop's log).
    needles = [n.encode() for n in (email, str(sid) if sid else "") if n]
    needles += [str(o.shopify_id).encode() for o in orders]
    topics = Q()
    for prefix in ("orders/", "customers/", "refunds/", "fulfillment"):
        topics |= Q(topic__startswith=prefix)
    candidates = InboundWebhook.objects.filter(shop=shop).filter(Q(customer__in=customers) | topics)
    for pk, customer_id, body in candidates.values_list("pk", "customer_id", "body").iterator():
        body = bytes(body)
        if customer_id in {c.pk for c in customers} or any(n in body for n in needles):
            InboundWebhook.objects.filter(pk=pk).update(body=REDACTED_BODY, headers={})
    Customer.objects.filter(pk__in=[c.pk for c in customers]).update(
        email="", first_name="", last_name="", phone="", redacted_at=now, updated_at=now
    )
    DataExport.objects.filter(shop=shop, customer__in=customers).delete()
    if email:
        DataExport.objects.filter(shop=shop, email__iexact=email).delete()
    event.webhook.body = REDACTED_BODY  # the request itself named the customer


@handles("shop/redact")
def shop_redact(event: ShopifyEvent) -> None:
    """Delete all of the shop's data; the Shop row stays as a tombstone (duplicates get 200)."""
    shop = event.shop
    signals.shop_redact_requested.send(sender=Shop, shop=shop)
    DataExport.objects.filter(shop=shop).delete()
    Refund.objects.filter(shop=shop).delete()
    Fulfillment.objects.filter(shop=shop).delete()
    Order.objects.filter(shop=shop).delete()
    InboundWebhook.objects.filter(shop=shop).exclude(pk=event.webhook.pk).delete()
    Customer.objects.filter(shop=shop).delete()
    shop.name = ""
    shop.installed = False
    shop.redacted_at = timezone.now()
    shop.uninstalled_at = shop.uninstalled_at or shop.redacted_at
    shop.sender_name = shop.from_email = shop.reply_to_email = ""
    shop.save()
