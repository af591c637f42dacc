"""One serializer per resource for outbound payloads. Shopify ids are strings (JavaScript loses
precision above 2^53); money is a string; times are ISO 8601."""

from integrations.models import Customer, Fulfillment, Order, Refund
from tickets.models import CsatSurvey, Message, Ticket


def _sid(value: int | None) -> str | None:
    return str(value) if value is not None else None


def _time(value) -> str | None:
    return value.isoformat() if value else None


def customer(c: Customer | None) -> dict | None:
    if c is None:
        return None
    return {
        "id": c.pk,
        "shopify_id": _sid(c.shopify_id),
        "email": c.email,
        "first_name": c.first_name,
        "last_name": c.last_name,
    }


def order(o: Order | None) -> dict | None:
    if o is None:
        return None
    return {
        "id": o.pk,
        "shopify_id": _sid(o.shopify_id),
        "name": o.name,
        "email": o.email,
        "financial_status": o.financial_status,
        "fulfillment_status": o.fulfillment_status,
        "total_price": str(o.total_price),
        "currency": o.currency,
        "cancelled_at": _time(o.cancelled_at),
        "cancel_reason": o.cancel_reason,
        "customer": customer(o.customer),
    }


def fulfillment(f: Fulfillment) -> dict:
    return {
        "id": f.pk,
        "shopify_id": _sid(f.shopify_id),
        "name": f.name,
        "status": f.status,
        "shipment_status": f.shipment_status,
        "tracking_company": f.tracking_company,
        "tracking_numbers": f.tracking_numbers,
        "tracking_urls": f.tracking_urls,
    }


def refund(r: Refund) -> dict:
    return {
        "id": r.pk,
        "shopify_id": _sid(r.shopify_id),
        "amount": str(r.amount),
        "currency": r.currency,
        "note": r.note,
        "processed_at": _time(r.processed_at),
    }


def ticket(t: Ticket) -> dict:
    return {
        "id": t.pk,
        "shop": t.shop.domain,
        "subject": t.subject,
        "status": t.status,
        "priority": t.priority,
        "channel": t.channel,
        "assignee": t.assignee.get_username() if t.assignee else None,
        "tags": sorted(t.tags.values_list("name", flat=True)),
        "customer": customer(t.customer),
        "order": order(t.order),
        "created_at": _time(t.created_at),
        "resolved_at": _time(t.resolved_at),
        "resolved_by": t.resolved_by.get_username() if t.resolved_by else None,
        "resolved_by_automation": t.resolved_by_automation or None,
    }


def message(m: Message) -> dict:
    return {
        "id": m.pk,
        "ticket_id": m.ticket_id,
        "author_kind": m.author_kind,
        "author": m.author.get_username() if m.author else None,
        "body": m.body,
        "internal": m.internal,
        "channel": m.channel,
        "created_at": _time(m.created_at),
    }


def csat(s: CsatSurvey) -> dict:
    return {
        "ticket_id": s.ticket_id,
        "score": s.score,
        "comment": s.comment,
        "answered_at": _time(s.answered_at),
    }
