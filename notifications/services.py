"""Customer email: create the notification row (rendered, idempotent) and send it."""

import logging
from datetime import timedelta
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import make_msgid
from django.db import IntegrityError, transaction
from django.utils import timezone

from bookbag.core import outbox
from bookbag.core.queue import enqueue
from integrations.models import Customer, Order, Shop
from notifications.models import Notification
from notifications.rendering import render_email
from tickets.models import Ticket

logger = logging.getLogger(__name__)


def sender_for(shop: Shop) -> tuple[str, str]:
    """From and Reply-To: the shop's sender name and addresses, else the deployment's."""
    default_name, default_address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    name = shop.sender_name or shop.name or default_name
    from_email = formataddr((name, shop.from_email or default_address))
    return from_email, shop.reply_to_email


def may_email(shop: Shop, to_email: str, order: Order | None) -> str:
    """Why not to email, or '' when it is fine."""
    if not to_email:
        return "no email address"
    if not shop.installed or shop.redacted_at:
        return "shop uninstalled"
    if order is not None and order.test and not shop.notify_test_orders:
        return "test order"
    return ""


def notify_customer(
    *,
    shop: Shop,
    key: str,
    idempotency_key: str,
    context: dict,
    customer: Customer | None = None,
    order: Order | None = None,
    ticket: Ticket | None = None,
    to_email: str = "",
    locale: str = "",
    message_id: str = "",
    in_reply_to: str = "",
) -> Notification | None:
    """Render and store one email, and enqueue its sending with the caller's transaction.

    Returns None when nothing is to be sent: no address, uninstalled shop, test order, or the
    idempotency key was used before (a duplicate webhook).
    """
    to_email = to_email or (customer.email if customer else "") or (order.email if order else "")
    reason = may_email(shop, to_email, order)
    if reason:
        logger.info("no %s email for %s: %s", key, idempotency_key, reason)
        return None
    if Notification.objects.filter(idempotency_key=idempotency_key).exists():
        return None
    locale = (
        locale or (order.customer_locale if order else "") or (customer.locale if customer else "")
    )
    rendered = render_email(shop, key, locale, context)
    from_email, reply_to = sender_for(shop)
    now = timezone.now()
    lease = outbox.writer_lease(now)
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                shop=shop,
                customer=customer,
                ticket=ticket,
                template_key=key,
                to_email=to_email,
                from_email=from_email,
                reply_to=reply_to,
                subject=rendered.subject,
                text=rendered.text,
                html=rendered.html,
                idempotency_key=idempotency_key[:255],
                message_id=message_id,
                in_reply_to=in_reply_to,
                next_attempt_at=now,
                locked_until=lease,
            )
            if lease:  # none while the queue is full: the sweeper hands it out in its turn
                enqueue(Notification.task, notification.pk)
    except IntegrityError:  # the same key, written concurrently
        return None
    return notification


def new_message_id() -> str:
    return make_msgid(domain="bookbag.localhost")


def deliver_email(notification: Notification) -> str:
    """Hand one stored, already rendered email to the email backend; return its Message-ID."""
    message_id = notification.message_id or new_message_id()
    headers = {"Message-ID": message_id}
    if notification.in_reply_to:
        headers["In-Reply-To"] = headers["References"] = notification.in_reply_to
    email = EmailMultiAlternatives(
        subject=notification.subject,
        body=notification.text,
        from_email=notification.from_email or settings.DEFAULT_FROM_EMAIL,
        to=[notification.to_email],
        reply_to=[notification.reply_to] if notification.reply_to else None,
        headers=headers,
    )
    if notification.html:
        email.attach_alternative(notification.html, "text/html")
    email.send(fail_silently=False)
    return message_id


def prune_notifications(retention_days: int | None = None) -> int:
    """Sent emails older than the retention period; dead and unknown ones stay for a person."""
    from bookbag.core import outbox
    from bookbag.core.models import OutboxStatus

    days = retention_days or settings.NOTIFICATION_RETENTION_DAYS
    before = timezone.now() - timedelta(days=days)
    return outbox.prune(Notification, statuses=[OutboxStatus.DONE], before=before)
