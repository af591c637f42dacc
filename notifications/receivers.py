"""The notifications app subscribes to commerce signals (and, later, ticket signals)."""

from django.dispatch import receiver

from integrations import signals as commerce
from notifications import automations, compliance
from tickets import signals as ticket_signals


@receiver(commerce.order_fulfilled, dispatch_uid="notifications.order_fulfilled")
def on_order_fulfilled(sender, order, fulfillment, **kwargs):
    automations.send_shipping_confirmation(order, fulfillment)


@receiver(commerce.shipment_status_changed, dispatch_uid="notifications.shipment_status_changed")
def on_shipment_status_changed(sender, order, fulfillment, status, **kwargs):
    automations.send_shipment_update(order, fulfillment, status)


@receiver(commerce.order_cancelled, dispatch_uid="notifications.order_cancelled")
def on_order_cancelled(sender, order, reason, **kwargs):
    automations.send_cancellation(order, reason)


@receiver(commerce.refund_created, dispatch_uid="notifications.refund_created")
def on_refund_created(sender, order, refund, **kwargs):
    automations.send_refund_issued(order, refund)


@receiver(ticket_signals.message_created, dispatch_uid="notifications.message_created")
def on_message_created(sender, ticket, message, **kwargs):
    automations.send_agent_reply(ticket, message)


@receiver(ticket_signals.ticket_resolved, dispatch_uid="notifications.ticket_resolved")
def on_ticket_resolved(sender, ticket, **kwargs):
    automations.send_csat_request(ticket)


@receiver(commerce.customer_data_requested, dispatch_uid="notifications.customer_data_requested")
def on_customer_data_requested(sender, shop, customers, email, **kwargs):
    return compliance.export_customer(shop, customers, email)


@receiver(
    commerce.customer_redact_requested, dispatch_uid="notifications.customer_redact_requested"
)
def on_customer_redact_requested(sender, shop, customers, email, **kwargs):
    compliance.redact_customer(shop, customers, email)


@receiver(commerce.shop_redact_requested, dispatch_uid="notifications.shop_redact_requested")
def on_shop_redact_requested(sender, shop, **kwargs):
    compliance.delete_shop(shop)
