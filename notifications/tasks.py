"""Thin tasks: take an id, claim the row, call the service, own the failure policy."""

from django.utils import timezone

from bookbag.core import outbox
from notifications.models import Notification
from notifications.services import deliver_email


def send_notification(notification_id: int) -> None:
    row = outbox.claim(Notification, notification_id)
    if row is None:
        return  # another worker has it, it is done, or it is not due
    # The claim has committed: from here on a crash leaves the row in_progress, and the sweeper
    # turns it into `unknown` rather than sending it again (at most once).
    try:
        message_id = deliver_email(row)
    except Exception as exc:  # the backend refused: retry later, never doubled
        outbox.fail(row, f"{type(exc).__name__}: {exc}")
        return
    outbox.complete(row, sent_at=timezone.now(), message_id=message_id)
