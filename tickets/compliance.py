"""The tickets app's part of Shopify's compliance topics: export, erase, delete its own rows."""

from django.utils import timezone

from integrations.models import Customer, Shop
from tickets.models import CsatSurvey, Message, Ticket, TicketEvent

REDACTED = "[redacted]"


def export_customer(customers: list[Customer]) -> dict:
    tickets = (
        Ticket.objects.filter(customer__in=customers)
        .select_related("order")
        .prefetch_related("messages")
        .order_by("id")
    )
    return {
        "tickets": [
            {
                "id": t.pk,
                "subject": t.subject,
                "status": t.status,
                "created_at": t.created_at,
                "order": t.order.name if t.order else None,
                "messages": [
                    {"from": m.author_kind, "body": m.body, "created_at": m.created_at}
                    for m in t.messages.all()
                    if not m.internal
                ],
                "csat": _csat(t),
            }
            for t in tickets
        ]
    }


def _csat(ticket: Ticket) -> dict | None:
    survey = CsatSurvey.objects.filter(ticket=ticket, answered_at__isnull=False).first()
    return {"score": survey.score, "comment": survey.comment} if survey else None


def redact_customer(customers: list[Customer]) -> None:
    """Message bodies, subjects, CSAT comments and timeline data go; the ticket shells stay so
    the support statistics still add up."""
    tickets = Ticket.objects.filter(customer__in=customers)
    Message.objects.filter(ticket__in=tickets).update(body=REDACTED, email_message_id="")
    TicketEvent.objects.filter(ticket__in=tickets).update(data={})
    CsatSurvey.objects.filter(ticket__in=tickets).update(comment="")
    tickets.update(subject=REDACTED, updated_at=timezone.now())


def delete_shop(shop: Shop) -> None:
    Ticket.objects.filter(shop=shop).delete()
