"""The tickets app listens to commerce signals: a few lines each, calling its own services.
And to its own tags: renaming, recolouring or deleting one changes every ticket that shows it."""

from django.db.models.signals import post_save, pre_delete
from django.dispatch import receiver
from django.utils import timezone

from integrations import signals as commerce
from tickets import automations, compliance
from tickets.models import Tag, Ticket


@receiver(post_save, sender=Tag, dispatch_uid="tickets.tag_saved")
@receiver(pre_delete, sender=Tag, dispatch_uid="tickets.tag_deleted")
def on_tag_changed(sender, instance, created=False, **kwargs):
    """Touch the tickets wearing the tag: the API's ETags and the inbox's live version follow
    `updated_at`, so without this a poll answers 304 with the old name. The inbox order follows
    `last_activity_at`, which stays put."""
    if not created:
        Ticket.objects.filter(tags=instance).update(updated_at=timezone.now())


@receiver(commerce.order_fulfilled, dispatch_uid="tickets.order_fulfilled")
def on_order_fulfilled(sender, order, fulfillment, **kwargs):
    automations.note_fulfillment(order, fulfillment)


@receiver(commerce.shipment_status_changed, dispatch_uid="tickets.shipment_status_changed")
def on_shipment_status_changed(sender, order, fulfillment, status, **kwargs):
    automations.note_shipment_status(order, fulfillment, status)


@receiver(commerce.order_cancelled, dispatch_uid="tickets.order_cancelled")
def on_order_cancelled(sender, order, reason, **kwargs):
    automations.note_cancellation(order, reason)


@receiver(commerce.refund_created, dispatch_uid="tickets.refund_created")
def on_refund_created(sender, order, refund, **kwargs):
    automations.resolve_for_refund(order, refund)


@receiver(commerce.order_flagged, dispatch_uid="tickets.order_flagged")
def on_order_flagged(sender, shop, order, reason, **kwargs):
    automations.escalate_flagged(shop, order, reason)


@receiver(commerce.customer_data_requested, dispatch_uid="tickets.customer_data_requested")
def on_customer_data_requested(sender, customers, **kwargs):
    return compliance.export_customer(customers)


@receiver(commerce.customer_redact_requested, dispatch_uid="tickets.customer_redact_requested")
def on_customer_redact_requested(sender, customers, **kwargs):
    compliance.redact_customer(customers)


@receiver(commerce.shop_redact_requested, dispatch_uid="tickets.shop_redact_requested")
def on_shop_redact_requested(sender, shop, **kwargs):
    compliance.delete_shop(shop)
