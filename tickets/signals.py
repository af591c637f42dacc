"""Ticket signals, sent by tickets.services inside the transaction of the change, whether a
person (`actor`, a User) or an automation (`automation`, its name) caused it. The sender is the
Ticket class. Outbound webhooks and notifications subscribe; nothing here does I/O.
"""

from django.dispatch import Signal

# ticket, actor, automation
ticket_created = Signal()
# ticket, previous: str, status: str, actor, automation
ticket_status_changed = Signal()
# ticket, actor, automation
ticket_resolved = Signal()
# ticket, actor, automation
ticket_reopened = Signal()
# ticket, actor, automation, reason: str
ticket_escalated = Signal()
# ticket, assignee: User | None, previous: User | None, actor
ticket_assigned = Signal()
# ticket, message: Message, actor, automation
message_created = Signal()
# ticket, survey: CsatSurvey
csat_submitted = Signal()
