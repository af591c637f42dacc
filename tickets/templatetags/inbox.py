"""Small display helpers for the inbox templates."""

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html

from tickets.timeline import humanize, safe_url, shipment_label

register = template.Library()


@register.filter
def age(value: datetime | None) -> str:
    """A compact age: `now`, `5m`, `3h`, `2d`, `6w`, `1y`."""
    if not value:
        return ""
    seconds = max(0, int((timezone.now() - value).total_seconds()))
    for unit, size in (("y", 31_536_000), ("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return "now"


@register.filter
def shipment(value: str) -> str:
    return shipment_label(value)


@register.filter
def human(value: str) -> str:
    return humanize(value)


@register.filter
def http_url(value) -> str:
    return safe_url(value)


@register.filter
def zip_lists(a, b) -> list[tuple]:
    """Tracking numbers with their URLs (a URL may be missing)."""
    a = a if isinstance(a, list) else []
    b = b if isinstance(b, list) else []
    return [(x, safe_url(b[i]) if i < len(b) else "") for i, x in enumerate(a)]


@register.filter
def initials(name: str) -> str:
    parts = [p for p in str(name or "").replace("@", " ").split() if p]
    return "".join(p[0] for p in parts[:2]).upper() or "?"


@register.simple_tag(takes_context=True)
def query(context, **changes) -> str:
    """The current list URL's query string with some parameters changed (None removes)."""
    params = context["request"].GET.copy()
    for name in ("after", "before", "fragment"):
        params.pop(name, None)
    for name, value in changes.items():
        if value in (None, ""):
            params.pop(name, None)
        else:
            params[name] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.filter
def hex_color(value: str) -> str:
    """A tag colour for a style attribute: `#rrggbb` or the default grey, nothing else."""
    value = str(value or "")
    if (
        len(value) == 7
        and value[0] == "#"
        and all(c in "0123456789abcdefABCDEF" for c in value[1:])
    ):
        return value
    return "#6b7280"


ICONS = {
    "box", "truck", "link", "user", "lock", "eye", "pencil", "flag", "refund", "check", "x",
    "star", "plus", "tag", "zap", "arrow-up", "refresh", "keyboard", "dot",
}  # fmt: skip


@register.simple_tag
def icon(name: str, label: str = "") -> str:
    """An icon from templates/inbox/partials/icons.html (decorative unless given a label)."""
    name = name if name in ICONS else "dot"
    if label:
        return format_html(
            '<svg class="icon" role="img" aria-label="{}"><use href="#i-{}"></use></svg>',
            label,
            name,
        )
    return format_html(
        '<svg class="icon" aria-hidden="true" focusable="false"><use href="#i-{}"></use></svg>',
        name,
    )
