"""Rendering customer emails from a shop's own template or the safe defaults.

Lookup, first found wins: the shop's template for the exact locale, for the language alone
(`es` for `es-MX`), for any language; then the default files for the language, then English,
in templates/notifications/[<lang>/]<key>/{subject,body}.txt and body.html. Templates get a
plain-dict context; HTML is autoescaped, text is not (it is not HTML).
"""

from dataclasses import dataclass

from django.template import TemplateDoesNotExist, engines
from django.template.loader import get_template

from integrations.models import Shop
from notifications.models import NotificationTemplate


@dataclass
class RenderedEmail:
    subject: str
    text: str
    html: str


def _languages(locale: str) -> list[str]:
    locale = (locale or "").strip().replace("_", "-").lower()
    lang = locale.split("-")[0]
    return [x for x in dict.fromkeys([locale, lang]) if x]


def _default_source(key: str, part: str, languages: list[str]) -> str | None:
    for prefix in [*(f"{lang}/" for lang in languages), ""]:
        try:
            return get_template(f"notifications/{prefix}{key}/{part}").template.source
        except TemplateDoesNotExist:
            continue
    return None


def _render(source: str, context: dict, *, html: bool) -> str:
    if not html:
        source = "{% autoescape off %}" + source + "{% endautoescape %}"
    return engines["django"].from_string(source).render(context)


def render_email(shop: Shop, key: str, locale: str, context: dict) -> RenderedEmail:
    languages = _languages(locale)
    custom = {t.locale: t for t in NotificationTemplate.objects.filter(shop=shop, key=key)}
    for candidate in [*languages, ""]:
        template = custom.get(candidate)
        if template:
            subject, text, html = template.subject, template.text, template.html
            break
    else:
        subject = _default_source(key, "subject.txt", languages)
        text = _default_source(key, "body.txt", languages)
        html = _default_source(key, "body.html", languages) or ""
        if subject is None or text is None:
            raise TemplateDoesNotExist(f"notifications/{key}")
    return RenderedEmail(
        subject=" ".join(_render(subject, context, html=False).split())[:255],
        text=_render(text, context, html=False).strip() + "\n",
        html=_render(html, context, html=True) if html else "",
    )
