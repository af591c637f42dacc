"""One timeline per ticket: messages (customer, agent reply, internal note, system) and timeline
events (TicketEvent rows written by services and automations), each described in words."""

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from tickets.access import display_name
from tickets.models import AuthorKind, Message, TicketEvent, TicketStatus

STATUS_LABELS = dict(TicketStatus.choices)
SHIPMENT_LABELS = {
    "label_printed": "Label printed",
    "label_purchased": "Label purchased",
    "confirmed": "Confirmed by the carrier",
    "ready_for_pickup": "Ready for pickup",
    "picked_up": "Picked up",
    "in_transit": "In transit",
    "out_for_delivery": "Out for delivery",
    "attempted_delivery": "Delivery attempted",
    "delayed": "Delayed",
    "delivered": "Delivered",
    "failure": "Delivery failed",
    "not_delivered": "Not delivered",
}
FLAG_REASONS = {
    "risk_high": "Shopify rates the order's risk as high",
    "fraud": "cancelled as fraud",
}


def humanize(name: str) -> str:
    """`refund_auto_resolve` → `Refund auto resolve`."""
    text = str(name or "").replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:]


def shipment_label(status: str) -> str:
    return SHIPMENT_LABELS.get(status or "", humanize(status))


def safe_url(url) -> str:
    """Links from Shopify data are shown only when they are http(s): never `javascript:`."""
    if not isinstance(url, str):
        return ""
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return ""
    return url.strip() if scheme in ("http", "https") else ""


@dataclass
class Entry:
    """A timeline row for the template: a message or an event."""

    at: datetime
    kind: str  # customer | reply | note | system | event
    text: str
    actor: str = ""
    icon: str = "dot"
    detail: str = ""
    links: list[tuple[str, str]] = field(default_factory=list)
    message: Message | None = None
    event: TicketEvent | None = None

    @property
    def is_message(self) -> bool:
        return self.message is not None


def _message_entry(message: Message) -> Entry:
    if message.author_kind == AuthorKind.SYSTEM:
        kind, actor = "system", "Bookbag automation"
    elif message.author_kind == AuthorKind.CUSTOMER:
        kind, actor = "customer", ""
    else:
        kind = "note" if message.internal else "reply"
        actor = display_name(message.author) or "Agent"
    return Entry(at=message.created_at, kind=kind, text=message.body, actor=actor, message=message)


def _tracking_links(data: dict) -> list[tuple[str, str]]:
    numbers = data.get("tracking_numbers") or []
    urls = data.get("tracking_urls") or []
    links = []
    for i, number in enumerate(numbers if isinstance(numbers, list) else []):
        url = safe_url(urls[i]) if isinstance(urls, list) and i < len(urls) else ""
        links.append((str(number), url))
    return links


def describe_event(event: TicketEvent) -> Entry:
    data = event.data if isinstance(event.data, dict) else {}
    who = display_name(event.actor) if event.actor_id else ""
    by = f"by {who}" if who else (f"by {humanize(event.automation)}" if event.automation else "")
    order = data.get("order") or ""
    entry = Entry(at=event.created_at, kind="event", text="", actor=by, event=event)
    kind = event.kind

    if kind == "created":
        entry.icon, entry.text = "plus", "Ticket opened"
    elif kind == "status_changed":
        entry.icon = {TicketStatus.RESOLVED: "check", TicketStatus.ESCALATED: "flag"}.get(
            data.get("to"), "refresh"
        )
        old = STATUS_LABELS.get(data.get("from"), humanize(data.get("from")))
        new = STATUS_LABELS.get(data.get("to"), humanize(data.get("to")))
        entry.text = f"Status changed from {old} to {new}"
        if data.get("reason"):
            entry.detail = f"Reason: {humanize(data['reason'])}"
    elif kind in ("escalated",):
        entry.icon, entry.text = "flag", "Escalated"
        entry.detail = f"{order} {data.get('reason', '')}".strip()
    elif kind == "priority_changed":
        entry.icon = "arrow-up"
        entry.text = (
            f"Priority changed from {humanize(data.get('from'))} to {humanize(data.get('to'))}"
        )
    elif kind == "assigned":
        entry.icon = "user"
        entry.text = f"Assigned to {data['to']}" if data.get("to") else "Unassigned"
    elif kind == "tags_changed":
        entry.icon, entry.text = "tag", "Tags changed"
        parts = []
        if data.get("added"):
            parts.append("added " + ", ".join(data["added"]))
        if data.get("removed"):
            parts.append("removed " + ", ".join(data["removed"]))
        entry.detail = "; ".join(parts)
    elif kind == "order_linked":
        entry.icon, entry.text = "link", f"Linked to order {order}"
    elif kind == "order_unlinked":
        entry.icon, entry.text = "link", "Order unlinked"
    elif kind == "order_fulfilled":
        entry.icon = "box"
        carrier = data.get("tracking_company") or "the carrier"
        entry.text = f"Order {order} shipped with {carrier}"
        entry.links = _tracking_links(data)
        if data.get("fulfillment"):
            entry.detail = f"Shipment {data['fulfillment']}; tracking email sent to the customer"
    elif kind in ("shipment_status", "shipment_status_changed"):
        entry.icon = "truck"
        status = data.get("status") or data.get("shipment_status") or ""
        what = f"Shipment {data['fulfillment']}" if data.get("fulfillment") else f"Order {order}"
        entry.text = f"{what}: {shipment_label(status)}"
        entry.links = _tracking_links(data)
    elif kind == "order_cancelled":
        entry.icon = "x"
        reason = data.get("reason")
        entry.text = f"Order {order} cancelled" + (f" ({humanize(reason)})" if reason else "")
    elif kind in ("refund_created", "order_refunded"):
        entry.icon = "refund"
        amount = f"{data.get('amount', '')} {data.get('currency', '')}".strip()
        entry.text = f"Refund of {amount} issued" + (f" for {order}" if order else "")
        entry.detail = data.get("note") or ""
    elif kind == "refund_auto_resolve":
        entry.icon = "refund"
        entry.text = "Refund detected: the ticket is resolved automatically"
    elif kind == "order_flagged":
        entry.icon = "flag"
        reason = data.get("reason") or ""
        label = FLAG_REASONS.get(reason) or f"tagged {reason.removeprefix('tag:')}"
        entry.text = f"Order {order} flagged: {label}"
    elif kind == "csat_submitted":
        entry.icon = "star"
        entry.text = f"Customer rated the support {data.get('score')}/5"
    else:
        entry.text = humanize(kind)
        entry.detail = ", ".join(f"{humanize(k)}: {v}" for k, v in data.items() if v)
    return entry


def build(messages: list[Message], events: list[TicketEvent]) -> list[Entry]:
    """Messages and events in time order (messages first when they share a moment)."""
    entries = [_message_entry(m) for m in messages] + [describe_event(e) for e in events]
    entries.sort(key=lambda e: (e.at, 0 if e.is_message else 1))
    return entries
