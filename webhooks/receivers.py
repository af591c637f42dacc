"""The webhooks app subscribes to ticket and commerce signals and publishes events. Receivers
write rows only (Event + Delivery, in the sender's transaction); the sending is a task."""

from django.dispatch import receiver

from integrations import signals as commerce
from tickets import signals as ticket_signals
from webhooks import compliance, payloads
from webhooks.services import publish_event


def _actor(actor, automation: str) -> dict | None:
    if actor is not None:
        return {"kind": "user", "name": actor.get_username()}
    if automation:
        return {"kind": "automation", "name": automation}
    return None


def _publish_ticket(event_type: str, ticket, **data) -> None:
    publish_event(
        event_type,
        {"ticket": payloads.ticket(ticket), **data},
        shop=ticket.shop,
        customer=ticket.customer,
    )


@receiver(ticket_signals.ticket_created, dispatch_uid="webhooks.ticket_created")
def on_ticket_created(sender, ticket, actor=None, automation="", **kwargs):
    _publish_ticket("ticket.created", ticket, actor=_actor(actor, automation))


@receiver(ticket_signals.ticket_assigned, dispatch_uid="webhooks.ticket_assigned")
def on_ticket_assigned(sender, ticket, previous=None, actor=None, **kwargs):
    previous_name = previous.get_username() if previous else None
    _publish_ticket("ticket.assigned", ticket, previous=previous_name, actor=_actor(actor, ""))


@receiver(ticket_signals.ticket_status_changed, dispatch_uid="webhooks.ticket_status_changed")
def on_ticket_status_changed(sender, ticket, previous, actor=None, automation="", **kwargs):
    _publish_ticket(
        "ticket.status_changed", ticket, previous=previous, actor=_actor(actor, automation)
    )


@receiver(ticket_signals.ticket_resolved, dispatch_uid="webhooks.ticket_resolved")
def on_ticket_resolved(sender, ticket, actor=None, automation="", **kwargs):
    _publish_ticket("ticket.resolved", ticket, actor=_actor(actor, automation))


@receiver(ticket_signals.ticket_reopened, dispatch_uid="webhooks.ticket_reopened")
def on_ticket_reopened(sender, ticket, actor=None, automation="", **kwargs):
    _publish_ticket("ticket.reopened", ticket, actor=_actor(actor, automation))


@receiver(ticket_signals.ticket_escalated, dispatch_uid="webhooks.ticket_escalated")
def on_ticket_escalated(sender, ticket, reason="", actor=None, automation="", **kwargs):
    _publish_ticket("ticket.escalated", ticket, reason=reason, actor=_actor(actor, automation))


@receiver(ticket_signals.message_created, dispatch_uid="webhooks.message_created")
def on_message_created(sender, ticket, message, **kwargs):
    _publish_ticket("message.created", ticket, message=payloads.message(message))


@receiver(ticket_signals.csat_submitted, dispatch_uid="webhooks.csat_submitted")
def on_csat_submitted(sender, ticket, survey, **kwargs):
    _publish_ticket("csat.submitted", ticket, csat=payloads.csat(survey))


@receiver(commerce.order_fulfilled, dispatch_uid="webhooks.order_fulfilled")
def on_order_fulfilled(sender, shop, order, fulfillment, **kwargs):
    publish_event(
        "order.fulfilled",
        {"shop": shop.domain, "order": payloads.order(order),
         "fulfillment": payloads.fulfillment(fulfillment)},
        shop=shop, customer=order.customer,
    )  # fmt: skip


@receiver(commerce.order_cancelled, dispatch_uid="webhooks.order_cancelled")
def on_order_cancelled(sender, shop, order, reason, **kwargs):
    publish_event(
        "order.cancelled",
        {"shop": shop.domain, "order": payloads.order(order), "reason": reason},
        shop=shop, customer=order.customer,
    )  # fmt: skip


@receiver(commerce.refund_created, dispatch_uid="webhooks.refund_created")
def on_refund_created(sender, shop, order, refund, **kwargs):
    publish_event(
        "refund.created",
        {"shop": shop.domain, "order": payloads.order(order), "refund": payloads.refund(refund)},
        shop=shop, customer=order.customer,
    )  # fmt: skip


@receiver(commerce.customer_data_requested, dispatch_uid="webhooks.customer_data_requested")
def on_customer_data_requested(sender, shop, customers, email, **kwargs):
    return compliance.export_customer(shop, customers, email)


@receiver(commerce.customer_redact_requested, dispatch_uid="webhooks.customer_redact_requested")
def on_customer_redact_requested(sender, shop, customers, email, **kwargs):
    compliance.redact_customer(shop, customers, email)


@receiver(commerce.shop_redact_requested, dispatch_uid="webhooks.shop_redact_requested")
def on_shop_redact_requested(sender, shop, **kwargs):
    compliance.delete_shop(shop)
