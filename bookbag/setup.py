"""Reference rows every deployment needs: the role groups and the sweeper's backstop schedule."""

from django.contrib.auth.models import Group, Permission
from django_q.models import Schedule

AGENTS = "agents"
ADMINS = "admins"
SWEEP_SCHEDULE = "bookbag.sweep"
PRUNE_SCHEDULE = "bookbag.prune"


def create_reference_rows(sender=None, using="default", **kwargs) -> None:
    Group.objects.using(using).update_or_create(name=AGENTS)
    admins, _ = Group.objects.using(using).update_or_create(name=ADMINS)
    # Admins run the operations console: every permission of Bookbag's own apps.
    app_labels = ["integrations", "tickets", "notifications", "webhooks", "authtoken"]
    perms = Permission.objects.using(using).filter(content_type__app_label__in=app_labels)
    admins.permissions.set(perms)
    # `manage.py sweep --loop` is the real sweeper; this schedule is a backstop if it is not run.
    Schedule.objects.using(using).update_or_create(
        name=SWEEP_SCHEDULE,
        defaults={
            "func": "bookbag.core.outbox.sweep",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )
    # Finished rows go after their retention period (settings: *_RETENTION_DAYS).
    Schedule.objects.using(using).filter(name="webhooks.prune").delete()
    Schedule.objects.using(using).update_or_create(
        name=PRUNE_SCHEDULE,
        defaults={
            "func": "bookbag.housekeeping.prune_all",
            "schedule_type": Schedule.HOURLY,
            "repeats": -1,
        },
    )
