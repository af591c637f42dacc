"""Saved replies: admin-written text with a few variables, filled in for one ticket.

The context is a plain dict (no model instance, so no method or relation a template could reach),
the engine has no template loaders (no {% include %} or {% extends %} of project files), and a
broken template falls back to its source. The result is plain text for the reply box: it is
set as the textarea's value, never parsed as HTML, and every page that shows a reply escapes it
(autoescape), so it is not HTML-escaped here (that would put `&#x27;` into the customer's email).
"""

from django.template import Context, Engine, TemplateDoesNotExist, TemplateSyntaxError

from integrations.models import Fulfillment, Order
from tickets.models import SavedReply, Ticket
from tickets.timeline import safe_url

_ENGINE = Engine(loaders=[], debug=False, autoescape=False)


def reply_context(ticket: Ticket, agent) -> dict:
    customer = ticket.customer
    order = ticket.order
    if order is None and customer is not None:
        # No linked order: the customer's latest, as helpdesks do.
        order = (
            Order.objects.filter(customer=customer, deleted_at__isnull=True)
            .only("id", "name")
            .order_by("-shopify_created_at", "-id")
            .first()
        )
    tracking_url = ""
    if order is not None:
        fulfillment = (
            Fulfillment.objects.filter(order=order)
            .exclude(tracking_urls=[])
            .only("tracking_urls")
            .order_by("-id")
            .first()
        )
        if fulfillment and fulfillment.tracking_urls:
            tracking_url = safe_url(fulfillment.tracking_urls[0])
    return {
        "customer": {
            "first_name": customer.first_name,
            "last_name": customer.last_name,
            "name": customer.full_name,
            "email": customer.email,
        },
        "order": {"name": order.name if order else ""},
        "tracking_url": tracking_url,
        "ticket": {"id": ticket.pk, "subject": ticket.subject},
        "agent": {
            "first_name": agent.first_name or agent.get_username(),
            "name": agent.get_full_name() or agent.get_username(),
        },
    }


def render_saved_reply(reply: SavedReply, ticket: Ticket, agent) -> str:
    try:
        template = _ENGINE.from_string(reply.body)
        return template.render(Context(reply_context(ticket, agent), autoescape=False)).strip()
    except (TemplateSyntaxError, TemplateDoesNotExist):
        return reply.body
