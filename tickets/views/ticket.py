"""The ticket page: one timeline, the customer and their orders beside it, and the actions."""

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from tickets import presence, queries, timeline
from tickets.access import agent_required, agents
from tickets.forms import MessageForm
from tickets.models import Priority, SavedReply, Tag, Ticket, TicketStatus
from tickets.saved_replies import render_saved_reply


def page_context(request: HttpRequest, pk: int) -> dict:
    """What every live part of the page shows (the header, the timeline, the sidebar)."""
    try:
        ticket = queries.ticket_for_page(pk)
    except Ticket.DoesNotExist:
        raise Http404("No such ticket") from None
    messages, events = queries.timeline_rows(ticket)
    csat = getattr(ticket, "csat", None)
    return {
        "ticket": ticket,
        "entries": timeline.build(messages, events),
        "orders": queries.sidebar_orders(ticket),
        "history": queries.customer_history(ticket),
        "csat": csat if csat and csat.score else None,
        "csat_survey": csat,
        "ticket_tags": list(ticket.tags.all()),
        "version": queries.ticket_version(ticket.pk),
        "others": presence.touch(ticket.pk, request.user),
        "statuses": TicketStatus.choices,
        "priorities": Priority.choices,
        "agents": list(agents()),
        "all_tags": list(Tag.objects.only("id", "name")),
    }


@require_GET
@agent_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    context = page_context(request, pk)
    if request.GET.get("fragment"):
        return render(request, "inbox/partials/ticket_live.html", context)
    context.update(
        saved_replies=list(SavedReply.objects.only("id", "title").order_by("title")[:200]),
        message_form=MessageForm(initial={"kind": "reply"}),
    )
    return render(request, "inbox/ticket.html", context)


@require_GET
@agent_required(api=True)
def saved_reply(request: HttpRequest, pk: int, reply_pk: int) -> JsonResponse:
    """A saved reply filled in for this ticket, as plain text for the reply box."""
    ticket = get_object_or_404(Ticket.objects.select_related("customer", "order"), pk=pk)
    reply = get_object_or_404(SavedReply, pk=reply_pk)
    return JsonResponse(
        {"title": reply.title, "body": render_saved_reply(reply, ticket, request.user)}
    )
