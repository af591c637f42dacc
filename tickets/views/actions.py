"""Everything an agent changes from the inbox, each through tickets.services (one transaction
each, with its timeline entry and signals: emails and outbound webhooks follow from those).

POST only, CSRF-protected (the middleware), then redirect back: reloading never repeats an action.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from tickets import presence, services
from tickets.access import agent_required, agents
from tickets.forms import (
    AssignForm,
    BulkForm,
    EscalateForm,
    LinkOrderForm,
    MessageForm,
    PriorityForm,
    StatusForm,
    TagsForm,
)
from tickets.models import Ticket


def _back(request: HttpRequest, ticket: Ticket, anchor: str = "") -> HttpResponseRedirect:
    return redirect(reverse("inbox-ticket", args=[ticket.pk]) + anchor)


def _form_errors(request: HttpRequest, form) -> None:
    for field, errors in form.errors.items():
        label = ""
        if field in form.fields:
            label = form.fields[field].label or field.replace("_", " ")
        for error in errors:
            messages.error(request, f"{label.capitalize()}: {error}" if label else error)


def ticket_action(func: Callable) -> Callable:
    """POST by an agent on an existing ticket; the view gets the ticket."""

    @require_POST
    @agent_required
    @wraps(func)
    def wrapper(request: HttpRequest, pk: int) -> HttpResponse:
        ticket = get_object_or_404(Ticket, pk=pk)
        return func(request, ticket)

    return wrapper


@ticket_action
def message(request: HttpRequest, ticket: Ticket) -> HttpResponse:
    form = MessageForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _back(request, ticket, "#composer")
    body, kind = form.cleaned_data["body"], form.cleaned_data["kind"]
    if kind == "note":
        services.add_note(ticket=ticket, body=body, author=request.user)
        messages.success(request, "Internal note added.")
    else:
        services.reply(ticket=ticket, body=body, author=request.user)
        messages.success(request, "Reply sent to the customer.")
    presence.touch(ticket.pk, request.user, "viewing")
    return _back(request, ticket, "#latest")


@ticket_action
def assign(request: HttpRequest, ticket: Ticket) -> HttpResponse:
    form = AssignForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _back(request, ticket)
    assignee = request.user if form.cleaned_data["to_me"] else form.cleaned_data["assignee"]
    services.assign(ticket=ticket, assignee=assignee, actor=request.user)
    who = "you" if assignee == request.user else (assignee.get_username() if assignee else None)
    messages.success(request, f"Assigned to {who}." if who else "Unassigned.")
    return _back(request, ticket)


@ticket_action
def status(request: HttpRequest, ticket: Ticket) -> HttpResponse:
    form = StatusForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _back(request, ticket)
    services.change_status(ticket=ticket, status=form.cleaned_data["status"], actor=request.user)
    messages.success(request, f"Status set to {form.cleaned_data['status']}.")
    return _back(request, ticket)


@ticket_action
def priority(request: HttpRequest, ticket: Ticket) -> HttpResponse:
    form = PriorityForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _back(request, ticket)
    value = form.cleaned_data["priority"]
    services.change_priority(ticket=ticket, priority=value, actor=request.user)
    messages.success(request, f"Priority set to {value}.")
    return _back(request, ticket)


@ticket_action
def tags(request: HttpRequest, ticket: Ticket) -> HttpResponse:
    form = TagsForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _back(request, ticket)
    services.set_tags(ticket=ticket, names=form.cleaned_data["tags"], actor=request.user)
    messages.success(request, "Tags saved.")
    return _back(request, ticket)


@ticket_action
def resolve(request: HttpRequest, ticket: Ticket) -> HttpResponse:
    services.resolve(ticket=ticket, actor=request.user)
    messages.success(request, "Ticket resolved.")
    return _back(request, ticket)


@ticket_action
def reopen(request: HttpRequest, ticket: Ticket) -> HttpResponse:
    services.reopen(ticket=ticket, actor=request.user)
    messages.success(request, "Ticket reopened.")
    return _back(request, ticket)


@ticket_action
def escalate(request: HttpRequest, ticket: Ticket) -> HttpResponse:
    form = EscalateForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    services.escalate(ticket=ticket, actor=request.user, reason=reason)
    messages.success(request, "Ticket escalated (priority urgent).")
    return _back(request, ticket)


@ticket_action
def link_order(request: HttpRequest, ticket: Ticket) -> HttpResponse:
    form = LinkOrderForm(request.POST, ticket=ticket)
    if not form.is_valid():
        _form_errors(request, form)
        return _back(request, ticket)
    order = form.cleaned_data["order"]
    services.link_order(ticket=ticket, order=order, actor=request.user)
    messages.success(request, f"Linked to order {order.name}." if order else "Order unlinked.")
    return _back(request, ticket)


@ticket_action
def leave(request: HttpRequest, ticket: Ticket) -> HttpResponse:
    """The page was closed (navigator.sendBeacon): drop the collision-warning entry at once."""
    presence.leave(ticket.pk, request.user)
    return HttpResponse(status=204)


@require_POST
@agent_required
def bulk(request: HttpRequest) -> HttpResponse:
    """One service call per ticket (each its own transaction), at most MAX_BULK tickets."""
    form = BulkForm(request.POST)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = ""
    back = back or reverse("inbox")
    if not form.is_valid():
        _form_errors(request, form)
        return redirect(back)
    data = form.cleaned_data
    tickets = list(Ticket.objects.filter(pk__in=data["tickets"]).order_by("pk"))
    action = data["action"]
    if action == "assign":
        value = data["assignee"]
        if value == "me":
            assignee = request.user
        elif value == "none":
            assignee = None
        else:
            assignee = agents().filter(pk=int(value)).first()
            if assignee is None:
                messages.error(request, "That person is not an agent.")
                return redirect(back)
        for ticket in tickets:
            services.assign(ticket=ticket, assignee=assignee, actor=request.user)
    elif action == "status":
        for ticket in tickets:
            services.change_status(ticket=ticket, status=data["status"], actor=request.user)
    elif action == "priority":
        for ticket in tickets:
            services.change_priority(ticket=ticket, priority=data["priority"], actor=request.user)
    elif action == "tag":
        for ticket in tickets:
            current = list(ticket.tags.values_list("name", flat=True))
            services.set_tags(ticket=ticket, names=[*current, data["tag"]], actor=request.user)
    count = len(tickets)
    messages.success(request, f"Updated {count} ticket{'s' if count != 1 else ''}.")
    return redirect(back)
