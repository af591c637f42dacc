"""XSS: customers (and Shopify payloads) write the subject, the messages, their own names, the
order's name and tags. Whatever they write is shown as text: the pages carry no script, event
handler or style of anyone's making, so the Content-Security-Policy (no inline script, no inline
style) is a second wall, not the only one. Emails escape it too."""

from html.parser import HTMLParser

import pytest
from django.core import mail
from django.test import Client

from tests.factories import (
    AgentFactory,
    CsatSurveyFactory,
    CustomerFactory,
    MessageFactory,
    OrderFactory,
    TagFactory,
    TicketFactory,
)
from tickets import services

pytestmark = pytest.mark.django_db

HOSTILE = (
    '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    '<svg onload=alert(3)><a href="javascript:alert(4)">x</a><style>*{}</style>'
)


class Audit(HTMLParser):
    """What the page would run or style: scripts (and where from), handlers, inline styles."""

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.add(tag)
        if tag == "script":
            executable = attrs.get("type", "text/javascript") in ("text/javascript", "module")
            if executable and not (attrs.get("src") or "").startswith("/static/"):
                self.problems.append(f"<script {attrs}>")
        if tag == "style":
            self.problems.append("<style>")
        stylesheet = tag == "link" and attrs.get("rel") == "stylesheet"
        if stylesheet and not (attrs.get("href") or "").startswith("/static/"):
            self.problems.append(f"<link {attrs}>")
        for name, value in attrs.items():
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>")
            if name == "style":
                self.problems.append(f"<{tag} style=…>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"<{tag} {name}=javascript:…>")


def audit(response) -> list[str]:
    parser = Audit()
    parser.feed(response.content.decode())
    return parser.problems


def audit_html(html: str) -> Audit:
    parser = Audit()
    parser.feed(html)
    return parser


@pytest.fixture
def hostile_ticket(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    customer = CustomerFactory(first_name=HOSTILE, last_name=HOSTILE, email="eve@example.com")
    order = OrderFactory(customer=customer, name=HOSTILE[:60])
    ticket = TicketFactory(
        customer=customer, order=order, subject=HOSTILE[:200],
        tags=[TagFactory(name=HOSTILE[:60], color="red;x:y")],
    )  # fmt: skip
    MessageFactory(ticket=ticket, body=HOSTILE)
    return ticket


@pytest.fixture
def agent_client():
    client = Client()
    client.force_login(AgentFactory())
    return client


def test_the_inbox_list_shows_hostile_text_as_text(agent_client, hostile_ticket):
    response = agent_client.get("/inbox/?view=all")

    assert response.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.content.decode()
    assert audit(response) == []
    assert 'data-tag-color="#6b7280"' in response.content.decode()  # a bad colour is refused


def test_the_ticket_page_shows_hostile_text_as_text(agent_client, hostile_ticket):
    response = agent_client.get(f"/inbox/tickets/{hostile_ticket.pk}/")

    assert response.status_code == 200
    assert response.content.decode().count("&lt;script&gt;alert(1)") >= 2  # subject and message
    assert audit(response) == []
    fragment = agent_client.get(f"/inbox/tickets/{hostile_ticket.pk}/?fragment=1")
    assert audit(fragment) == []  # what the live updates swap in


def test_the_csat_page_shows_a_hostile_subject_as_text(hostile_ticket):
    survey = CsatSurveyFactory(ticket=hostile_ticket)

    response = Client().get(f"/csat/{survey.token}/")

    assert "&lt;script&gt;" in response.content.decode()
    assert audit(response) == []


def test_an_agents_reply_quoting_hostile_text_is_escaped_in_the_email(
    hostile_ticket, run_queued_tasks
):
    services.reply(ticket=hostile_ticket, body=HOSTILE, author=AgentFactory())
    run_queued_tasks()

    (email,) = mail.outbox
    html = next(body for body, kind in email.alternatives if kind == "text/html")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    found = audit_html(html)
    assert not found.tags & {"script", "img", "svg", "style"}, found.tags
    # Emails may style their own markup; what matters is that nothing hostile became markup.
    assert [p for p in found.problems if "style" not in p] == []
