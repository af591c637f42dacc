"""Commerce signals: sent by integrations.services inside the transaction that applied a Shopify
event, once per real change (never per duplicate delivery). Receivers write durable rows only;
no network I/O. Every signal's sender is the Shop; `webhook` is the InboundWebhook that caused it.
"""

from django.dispatch import Signal

# order: Order
order_created = Signal()
# order: Order; changed: list of field names that changed
order_updated = Signal()
# order: Order; fulfillment: Fulfillment (it carries tracking now)
order_fulfilled = Signal()
# order: Order; fulfillment: Fulfillment; status: str (seen for the first time for this
# fulfillment, sent once the order is known; it may be older news than
# fulfillment.shipment_status, the current one); previous: str
shipment_status_changed = Signal()
# order: Order; reason: str (Shopify's cancel_reason)
order_cancelled = Signal()
# order: Order; refund: Refund
refund_created = Signal()
# order: Order; reason: "risk_high" | "fraud" | "tag:<name>"
order_flagged = Signal()
# customer: Customer; changed: list of field names
customer_updated = Signal()

# Compliance (shared/DESIGN.md): each app handles its own rows, in the same transaction.
# customers: list[Customer]; email: str; shopify_customer_id: int | None.
# Receivers return a dict: their section of the export.
customer_data_requested = Signal()
# customers: list[Customer]; email: str; shopify_customer_id: int | None
customer_redact_requested = Signal()
# (sender=shop only) delete everything of this shop
shop_redact_requested = Signal()
