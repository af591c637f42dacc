"""The catalogue of outbound event types: the one place their names live."""

from dataclasses import dataclass


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    data_keys: tuple[str, ...]  # what `data` carries (webhooks/receivers.py builds it)


CATALOGUE = {
    e.name: e
    for e in (
        EventType("ticket.created", "A ticket was opened.", ("ticket", "actor")),
        EventType(
            "ticket.assigned", "A ticket's assignee changed.", ("ticket", "previous", "actor")
        ),
        EventType(
            "ticket.status_changed", "A ticket's status changed.", ("ticket", "previous", "actor")
        ),
        EventType(
            "ticket.resolved",
            "A ticket was resolved (by a person or an automation).",
            ("ticket", "actor"),
        ),
        EventType("ticket.reopened", "A resolved ticket was reopened.", ("ticket", "actor")),
        EventType("ticket.escalated", "A ticket was escalated.", ("ticket", "reason", "actor")),
        EventType(
            "message.created",
            "A message was added to a ticket (internal notes too).",
            ("ticket", "message"),
        ),
        EventType("csat.submitted", "A customer rated the support they got.", ("ticket", "csat")),
        EventType(
            "order.fulfilled",
            "A shipment with tracking exists for an order.",
            ("shop", "order", "fulfillment"),
        ),
        EventType("order.cancelled", "An order was cancelled.", ("shop", "order", "reason")),
        EventType("refund.created", "A refund was issued.", ("shop", "order", "refund")),
        EventType(
            "webhook.test", "Sent from the admin to check an endpoint.", ("message", "endpoint")
        ),
    )
}


def is_known(name: str) -> bool:
    return name in CATALOGUE
