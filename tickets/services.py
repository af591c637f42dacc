"""Every change to a ticket goes through these functions: the inbox, the API, the admin and the
automations all call them, so the timeline, the signals and everything subscribed to them
behave the same whoever made the change."""

from collections.abc import Iterable
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from integrations.models import Customer, Order, Shop
from tickets import signals
from tickets.models import (
    AuthorKind,
    Channel,
    CsatSurvey,
    Message,
    Priority,
    Tag,
    Ticket,
    TicketEvent,
    TicketStatus,
)

User = AbstractBaseUser


def record_event(
    *,
    ticket: Ticket,
    kind: str,
    actor: User | None = None,
    automation: str = "",
    data: dict | None = None,
    dedupe_key: str | None = None,
) -> TicketEvent | None:
    """A timeline entry; None when `dedupe_key` was used before (the change already happened)."""
    try:
        with transaction.atomic():
            return TicketEvent.objects.create(
                ticket=ticket,
                kind=kind,
                actor=actor,
                automation=automation,
                data=data or {},
                dedupe_key=dedupe_key,
            )
    except IntegrityError:
        if dedupe_key is None:
            raise
        return None


def _touch(ticket: Ticket, *fields: str) -> None:
    ticket.last_activity_at = timezone.now()
    ticket.save(update_fields=[*fields, "last_activity_at", "updated_at"])


def touch_activity(ticket: Ticket) -> None:
    """Something happened on the ticket's timeline: it moves up the inbox."""
    _touch(ticket)


def _locked(ticket: Ticket) -> Ticket:
    """Re-read the ticket under a row lock so two agents' changes never interleave."""
    return Ticket.objects.select_for_update(of=("self",)).get(pk=ticket.pk)


@transaction.atomic
def open_ticket(
    *,
    shop: Shop,
    customer: Customer,
    subject: str,
    body: str = "",
    channel: str = Channel.EMAIL,
    order: Order | None = None,
    priority: str = Priority.NORMAL,
    status: str = TicketStatus.OPEN,
    actor: User | None = None,
    automation: str = "",
    author_kind: str = AuthorKind.CUSTOMER,
) -> Ticket:
    ticket = Ticket.objects.create(
        shop=shop,
        customer=customer,
        order=order,
        subject=subject[:255],
        channel=channel,
        priority=priority,
        status=status,
    )
    record_event(ticket=ticket, kind="created", actor=actor, automation=automation)
    signals.ticket_created.send(sender=Ticket, ticket=ticket, actor=actor, automation=automation)
    if body:
        # The customer's own words have no author account, even when an agent or an API client
        # opened the ticket for them (the actor is on the `created` timeline entry).
        author = None if author_kind == AuthorKind.CUSTOMER else actor
        _add_message(
            ticket=ticket, body=body, author_kind=author_kind, author=author,
            channel=channel, automation=automation,
        )  # fmt: skip
    return ticket


def _add_message(
    *,
    ticket: Ticket,
    body: str,
    author_kind: str,
    author: User | None = None,
    internal: bool = False,
    channel: str = Channel.EMAIL,
    automation: str = "",
    email_message_id: str = "",
) -> Message:
    message = Message.objects.create(
        ticket=ticket,
        author_kind=author_kind,
        author=author,
        body=body,
        internal=internal,
        channel=channel,
        email_message_id=email_message_id,
    )
    _touch(ticket)
    signals.message_created.send(
        sender=Ticket, ticket=ticket, message=message, actor=author, automation=automation
    )
    return message


@transaction.atomic
def reply(*, ticket: Ticket, body: str, author: User) -> Message:
    """A public agent reply (the notifications app emails it to the customer)."""
    return _add_message(
        ticket=_locked(ticket), body=body, author_kind=AuthorKind.AGENT, author=author
    )


@transaction.atomic
def add_note(*, ticket: Ticket, body: str, author: User) -> Message:
    """An internal note: visible to agents only, never emailed."""
    return _add_message(
        ticket=_locked(ticket),
        body=body,
        author_kind=AuthorKind.AGENT,
        author=author,
        internal=True,
    )


@transaction.atomic
def add_customer_message(
    *, ticket: Ticket, body: str, channel: str = Channel.EMAIL, email_message_id: str = ""
) -> Message:
    """The customer wrote again: a resolved ticket reopens."""
    ticket = _locked(ticket)
    message = _add_message(
        ticket=ticket, body=body, author_kind=AuthorKind.CUSTOMER, channel=channel,
        email_message_id=email_message_id,
    )  # fmt: skip
    if ticket.status == TicketStatus.RESOLVED:
        _set_status(ticket, TicketStatus.OPEN, actor=None, automation="customer_reply")
    return message


@transaction.atomic
def post_system_message(*, ticket: Ticket, body: str, automation: str) -> Message:
    """What an automation did, in the conversation (internal: customers get their own email)."""
    return _add_message(
        ticket=_locked(ticket), body=body, author_kind=AuthorKind.SYSTEM, internal=True,
        channel=Channel.AUTOMATION, automation=automation,
    )  # fmt: skip


CSAT_ANSWER_WINDOW = timedelta(days=7)


def ensure_csat_survey(ticket: Ticket) -> CsatSurvey:
    """The ticket's satisfaction survey (one per ticket), created when it is first resolved.

    The link works for CSAT_ANSWER_WINDOW: a second answer within it updates the first.
    """
    survey, _ = CsatSurvey.objects.get_or_create(
        ticket=ticket, defaults={"expires_at": timezone.now() + CSAT_ANSWER_WINDOW}
    )
    return survey


def _set_status(
    ticket: Ticket, status: str, *, actor: User | None, automation: str, reason: str = ""
) -> bool:
    previous = ticket.status
    if previous == status:
        return False
    ticket.status = status
    fields = ["status"]
    if status == TicketStatus.RESOLVED:
        ticket.resolved_at = timezone.now()
        ticket.resolved_by = actor
        ticket.resolved_by_automation = automation
    else:
        ticket.resolved_at = None
        ticket.resolved_by = None
        ticket.resolved_by_automation = ""
    fields += ["resolved_at", "resolved_by", "resolved_by_automation"]
    _touch(ticket, *fields)
    data = {"from": previous, "to": status}
    if reason:
        data["reason"] = reason
    record_event(
        ticket=ticket, kind="status_changed", actor=actor, automation=automation, data=data
    )
    common = {"sender": Ticket, "ticket": ticket, "actor": actor, "automation": automation}
    signals.ticket_status_changed.send(previous=previous, status=status, **common)
    if status == TicketStatus.RESOLVED:
        ensure_csat_survey(ticket)
        signals.ticket_resolved.send(**common)
    elif previous == TicketStatus.RESOLVED:
        signals.ticket_reopened.send(**common)
    if status == TicketStatus.ESCALATED:
        signals.ticket_escalated.send(reason=reason, **common)
    return True


@transaction.atomic
def change_status(
    *, ticket: Ticket, status: str, actor: User | None = None, automation: str = ""
) -> Ticket:
    if status not in TicketStatus.values:
        raise ValueError(f"unknown status {status!r}")
    ticket = _locked(ticket)
    _set_status(ticket, status, actor=actor, automation=automation)
    return ticket


def resolve(*, ticket: Ticket, actor: User | None = None, automation: str = "") -> Ticket:
    return change_status(
        ticket=ticket, status=TicketStatus.RESOLVED, actor=actor, automation=automation
    )


def reopen(*, ticket: Ticket, actor: User | None = None, automation: str = "") -> Ticket:
    return change_status(
        ticket=ticket, status=TicketStatus.OPEN, actor=actor, automation=automation
    )


@transaction.atomic
def escalate(
    *,
    ticket: Ticket,
    actor: User | None = None,
    automation: str = "",
    reason: str = "",
    priority: str = Priority.URGENT,
) -> Ticket:
    ticket = _locked(ticket)
    if ticket.priority != priority:
        _set_priority(ticket, priority, actor=actor, automation=automation)
    _set_status(ticket, TicketStatus.ESCALATED, actor=actor, automation=automation, reason=reason)
    return ticket


def _set_priority(ticket: Ticket, priority: str, *, actor: User | None, automation: str) -> None:
    previous, ticket.priority = ticket.priority, priority
    _touch(ticket, "priority")
    record_event(
        ticket=ticket, kind="priority_changed", actor=actor, automation=automation,
        data={"from": previous, "to": priority},
    )  # fmt: skip


@transaction.atomic
def change_priority(
    *, ticket: Ticket, priority: str, actor: User | None = None, automation: str = ""
) -> Ticket:
    if priority not in Priority.values:
        raise ValueError(f"unknown priority {priority!r}")
    ticket = _locked(ticket)
    if ticket.priority != priority:
        _set_priority(ticket, priority, actor=actor, automation=automation)
    return ticket


@transaction.atomic
def assign(*, ticket: Ticket, assignee: User | None, actor: User | None = None) -> Ticket:
    ticket = _locked(ticket)
    previous = ticket.assignee
    if previous == assignee:
        return ticket
    ticket.assignee = assignee
    _touch(ticket, "assignee")
    record_event(
        ticket=ticket, kind="assigned", actor=actor,
        data={"to": assignee.get_username() if assignee else None},
    )  # fmt: skip
    signals.ticket_assigned.send(
        sender=Ticket, ticket=ticket, assignee=assignee, previous=previous, actor=actor
    )
    return ticket


@transaction.atomic
def set_tags(*, ticket: Ticket, names: Iterable[str], actor: User | None = None) -> Ticket:
    ticket = _locked(ticket)
    wanted = {n.strip().lower()[:64] for n in names if n and n.strip()}
    tags = [Tag.objects.get_or_create(name=name)[0] for name in sorted(wanted)]
    before = set(ticket.tags.values_list("name", flat=True))
    if before != wanted:
        ticket.tags.set(tags)
        _touch(ticket)
        record_event(
            ticket=ticket, kind="tags_changed", actor=actor,
            data={"added": sorted(wanted - before), "removed": sorted(before - wanted)},
        )  # fmt: skip
    return ticket


@transaction.atomic
def link_order(*, ticket: Ticket, order: Order | None, actor: User | None = None) -> Ticket:
    """Link the ticket to one of its customer's orders (None unlinks)."""
    ticket = _locked(ticket)
    if order is not None and order.shop_id != ticket.shop_id:
        raise ValueError("the order belongs to another shop")
    if ticket.order_id == (order.pk if order else None):
        return ticket
    ticket.order = order
    _touch(ticket, "order")
    record_event(
        ticket=ticket, kind="order_linked" if order else "order_unlinked", actor=actor,
        data={"order": order.name if order else None},
    )  # fmt: skip
    return ticket


@transaction.atomic
def record_csat(*, survey: CsatSurvey, score: int, comment: str = "") -> CsatSurvey:
    if not 1 <= int(score) <= 5:
        raise ValueError("score must be 1 to 5")
    survey = CsatSurvey.objects.select_for_update(of=("self",)).get(pk=survey.pk)
    survey.score, survey.comment, survey.answered_at = int(score), comment[:5000], timezone.now()
    survey.save(update_fields=["score", "comment", "answered_at", "updated_at"])
    record_event(ticket=survey.ticket, kind="csat_submitted", data={"score": survey.score})
    signals.csat_submitted.send(sender=Ticket, ticket=survey.ticket, survey=survey)
    return survey


def record_email_message_id(*, message: Message, message_id: str) -> None:
    """The Message-ID the message was emailed under: replies quoting it thread onto the ticket."""
    Message.objects.filter(pk=message.pk).update(email_message_id=message_id[:255])
    message.email_message_id = message_id


def last_email_message_id(ticket: Ticket) -> str:
    """The newest Message-ID in the ticket's email conversation, to answer it in-thread."""
    return (
        Message.objects.filter(ticket=ticket, internal=False)
        .exclude(email_message_id="")
        .order_by("-created_at", "-id")
        .values_list("email_message_id", flat=True)
        .first()
        or ""
    )
