"""The notifications app's part of the compliance topics."""

from django.db.models import Q
from django.utils import timezone

from bookbag.core.models import OutboxStatus
from integrations.models import Customer, Shop
from notifications.models import Notification, NotificationTemplate

REDACTED = "[redacted]"


def _of(shop: Shop, customers: list[Customer], email: str):
    match = Q(customer__in=customers)
    if email:
        match |= Q(to_email__iexact=email)
    return Notification.objects.filter(match, shop=shop)


def export_customer(shop: Shop, customers: list[Customer], email: str) -> dict:
    return {
        "notifications": [
            {
                "to": n.to_email,
                "subject": n.subject,
                "text": n.text,
                "status": n.status,
                "sent_at": n.sent_at,
                "created_at": n.created_at,
            }
            for n in _of(shop, customers, email).order_by("id")
        ]
    }


def redact_customer(shop: Shop, customers: list[Customer], email: str) -> None:
    rows = _of(shop, customers, email)
    # Anything not yet sent is cancelled: it carries the data that must go.
    rows.filter(status__in=[OutboxStatus.PENDING, OutboxStatus.UNKNOWN]).update(
        status=OutboxStatus.DEAD, next_attempt_at=None, last_error="cancelled: customer redacted"
    )
    rows.update(
        to_email="redacted@invalid", subject=REDACTED, text=REDACTED, html="",
        updated_at=timezone.now(),
    )  # fmt: skip


def delete_shop(shop: Shop) -> None:
    Notification.objects.filter(shop=shop).delete()
    NotificationTemplate.objects.filter(shop=shop).delete()
