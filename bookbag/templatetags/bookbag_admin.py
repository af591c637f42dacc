from django import template

from bookbag.core.outbox import stats

register = template.Library()


@register.simple_tag
def outbox_stats() -> dict:
    """The queues at a glance on the admin index (a handful of indexed counts)."""
    return stats()
