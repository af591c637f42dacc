"""Security headers on every kind of page: a strict Content-Security-Policy (bookbag/
security_headers.py), frame denial, a referrer policy, no MIME sniffing, and HSTS when the
request came over TLS and the settings ask for it. That the pages really work under their policy
is shown in Chromium (tests/inbox/browser/test_content_security_policy.py)."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.test import Client

from tests.factories import AdminFactory, AgentFactory, CsatSurveyFactory, TicketFactory

pytestmark = pytest.mark.django_db


def policy(response) -> dict[str, set[str]]:
    header = response["Content-Security-Policy"]
    directives = [part.split() for part in header.split(";") if part.strip()]
    return {name: set(values) for name, *values in directives}


@pytest.fixture
def pages(settings):
    """One of each kind of page, as the person who sees it."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    ticket = TicketFactory()
    survey = CsatSurveyFactory()
    agent, admin = Client(), Client()
    agent.force_login(AgentFactory())
    admin.force_login(AdminFactory())
    anonymous = Client()
    return {
        "inbox": lambda: agent.get("/inbox/"),
        "ticket page": lambda: agent.get(f"/inbox/tickets/{ticket.pk}/"),
        "sign-in": lambda: anonymous.get("/accounts/login/"),
        "password reset": lambda: anonymous.get("/accounts/password-reset/"),
        "CSAT survey": lambda: anonymous.get(f"/csat/{survey.token}/"),
        "CSAT not found": lambda: anonymous.get("/csat/nope/"),
        "API": lambda: agent.get("/api/tickets/", HTTP_ACCEPT="application/json"),
        "Shopify receiver": lambda: anonymous.post("/webhooks/shopify/", {}),
        "admin": lambda: admin.get("/admin/"),
        "admin change page": lambda: admin.get(f"/admin/tickets/ticket/{ticket.pk}/change/"),
        "API docs": lambda: anonymous.get("/api/docs/"),
        "API docs script": lambda: anonymous.get("/api/docs/?script="),
        "Redoc": lambda: anonymous.get("/api/redoc/"),
    }


STRICT_PAGES = (
    "inbox", "ticket page", "sign-in", "password reset", "CSAT survey", "CSAT not found", "API",
    "Shopify receiver",
)  # fmt: skip


def test_the_inbox_sign_in_csat_and_api_get_the_strict_policy(pages):
    for name in STRICT_PAGES:
        csp = policy(pages[name]())
        for directive in ("default-src", "script-src", "style-src", "img-src", "connect-src"):
            assert csp[directive] == {"'self'"}, (name, directive)
        assert csp["object-src"] == csp["base-uri"] == csp["frame-ancestors"] == {"'none'"}, name
        assert csp["form-action"] == {"'self'"}, name


def test_the_admin_and_the_docs_allow_inline_styles_but_never_inline_or_foreign_scripts(pages):
    for name in ("admin", "admin change page", "API docs", "Redoc"):
        csp = policy(pages[name]())
        assert csp["script-src"] == {"'self'"}, name
        assert csp["style-src"] == {"'self'", "'unsafe-inline'"}, name
        assert csp["frame-ancestors"] == {"'none'"}, name
        assert not any("unsafe-eval" in values or "*" in values for values in csp.values()), name


def test_every_page_denies_framing_sniffing_and_cross_site_referrers(pages):
    for name, get in pages.items():
        response = get()
        assert response["X-Frame-Options"] == "DENY", name
        assert response["X-Content-Type-Options"] == "nosniff", name
        assert response["Referrer-Policy"] == "same-origin", name


def test_no_hsts_over_plain_http(settings):
    settings.SECURE_HSTS_SECONDS = 31_536_000

    assert "Strict-Transport-Security" not in Client().get("/accounts/login/")


def test_hsts_over_tls_when_the_settings_ask_for_it(settings):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True

    response = Client().get("/accounts/login/", secure=True)

    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_hsts_behind_a_tls_proxy_that_says_so(settings):
    settings.SECURE_HSTS_SECONDS = 63_072_000
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

    behind = Client().get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
    spoofed_plain = Client().get("/accounts/login/", HTTP_X_FORWARDED_PROTO="http")

    assert behind["Strict-Transport-Security"] == "max-age=63072000"
    assert "Strict-Transport-Security" not in spoofed_plain


def test_hsts_and_the_tls_settings_come_from_the_environment(tmp_path):
    env = {
        **os.environ,
        "BOOKBAG_VAR_DIR": str(tmp_path),
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
        "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
        "SESSION_COOKIE_SECURE": "1",
        "CSRF_COOKIE_SECURE": "1",
    }
    script = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
        "list(s.SECURE_PROXY_SSL_HEADER), s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env={**env, "DJANGO_SETTINGS_MODULE": "bookbag.settings"},
        cwd=django_settings.BASE_DIR, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip

    assert json.loads(result.stdout.strip().splitlines()[-1]) == [
        31_536_000, True, ["HTTP_X_FORWARDED_PROTO", "https"], True, True,
    ]  # fmt: skip
