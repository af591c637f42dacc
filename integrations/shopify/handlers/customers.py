"""customers/create, customers/update, customers/delete, and the customer inside order payloads."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from integrations import signals
from integrations.models import Customer, Shop
from integrations.shopify.handlers.registry import ShopifyEvent, handles
from integrations.shopify.parsing import obj, shopify_id, text, timestamp

TRACKED = ("email", "first_name", "last_name", "phone", "locale")


def upsert_customer(shop: Shop, data: dict, webhook=None) -> Customer | None:
    """Create or update the customer a payload describes; None when it names nobody.

    An email-only customer (created from a contact form, say) gains the Shopify id when Shopify
    first mentions that email. A payload older than what is stored changes nothing.
    """
    sid = shopify_id(data.get("id"), required=False)
    email = text(data.get("email"), 254).strip().lower()
    if sid is None and not email:
        return None
    updated_at = timestamp(data.get("updated_at"))
    customer = None
    if sid is not None:
        customer = (
            Customer.objects.select_for_update(of=("self",))
            .filter(shop=shop, shopify_id=sid)
            .first()
        )
    if customer is None and email:
        customer = (
            Customer.objects.select_for_update(of=("self",))
            .filter(shop=shop, email__iexact=email, shopify_id__isnull=True)
            .order_by("id")
            .first()
        )
    values = {
        "email": email,
        "first_name": text(data.get("first_name")),
        "last_name": text(data.get("last_name")),
        "phone": text(data.get("phone"), 64),
        "locale": text(data.get("locale"), 16),
    }
    if customer is None:
        try:
            with transaction.atomic():
                return Customer.objects.create(
                    shop=shop, shopify_id=sid, shopify_updated_at=updated_at, **values
                )
        except IntegrityError:  # created meanwhile by another event of the same customer
            customer = Customer.objects.select_for_update(of=("self",)).get(
                shop=shop, shopify_id=sid
            )
    if customer.redacted_at:
        return customer  # erased on request: Shopify's later copies do not bring the data back
    if customer.shopify_updated_at and updated_at and updated_at < customer.shopify_updated_at:
        return customer  # stale
    changed = [f for f, v in values.items() if v and getattr(customer, f) != v]
    for field in changed:
        setattr(customer, field, values[field])
    if sid is not None and customer.shopify_id is None:
        customer.shopify_id = sid
        changed.append("shopify_id")
    if updated_at and updated_at != customer.shopify_updated_at:
        customer.shopify_updated_at = updated_at
        changed.append("shopify_updated_at")
    if changed:
        customer.save(update_fields=[*changed, "updated_at"])
        visible = [f for f in changed if f != "shopify_updated_at"]
        if visible:
            signals.customer_updated.send(
                sender=Shop, shop=shop, customer=customer, changed=visible, webhook=webhook
            )
    return customer


@handles("customers/create", "customers/update")
def customer_changed(event: ShopifyEvent) -> None:
    customer = upsert_customer(event.shop, event.payload, event.webhook)
    event.webhook.customer = customer


@handles("customers/delete")
def customer_deleted(event: ShopifyEvent) -> None:
    sid = shopify_id(obj(event.payload).get("id"))
    customer = Customer.objects.filter(shop=event.shop, shopify_id=sid).first()
    if customer and not customer.deleted_at:
        # Soft: the customer's tickets and history stay; redaction is customers/redact's job.
        customer.deleted_at = timezone.now()
        customer.save(update_fields=["deleted_at", "updated_at"])
    event.webhook.customer = customer
