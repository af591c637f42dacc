"""Sending customer email. Rendering and the automations that create notifications come later."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import make_msgid

from notifications.models import Notification


def deliver_email(notification: Notification) -> str:
    """Hand one stored, already rendered email to the email backend; return its Message-ID."""
    message_id = notification.message_id or make_msgid(domain="bookbag.localhost")
    email = EmailMultiAlternatives(
        subject=notification.subject,
        body=notification.text,
        from_email=notification.from_email or settings.DEFAULT_FROM_EMAIL,
        to=[notification.to_email],
        reply_to=[notification.reply_to] if notification.reply_to else None,
        headers={"Message-ID": message_id},
    )
    if notification.html:
        email.attach_alternative(notification.html, "text/html")
    email.send(fail_silently=False)
    return message_id
