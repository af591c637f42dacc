"""Every kind of page still works under its Content-Security-Policy, in Chromium: the inbox's
script runs (shortcuts, tag colours, live polling), the CSAT page and sign-in render, and the
Django admin, Swagger UI and Redoc render with their own allowances. The `new_page` fixture fails
the test on any violation the browser reports."""

import pytest
from playwright.sync_api import expect

from tests.factories import (
    TEST_PASSWORD,
    AdminFactory,
    AgentFactory,
    CsatSurveyFactory,
    TagFactory,
    TicketFactory,
)
from tests.inbox.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

POLL_WAIT_MS = 3_000  # one poll of the inbox (every 2.5 s) and its answer


def test_the_inbox_works_under_its_policy(live_server, new_page):
    AgentFactory(username="sam")
    tag = TagFactory(name="fragile", color="#dc2626")
    ticket = TicketFactory(subject="Mug arrived broken", tags=[tag])
    page = new_page()

    sign_in(page, live_server.url, "sam", TEST_PASSWORD)
    page.goto(f"{live_server.url}/inbox/?view=all")
    chip = page.locator(".tag", has_text="fragile")
    expect(chip).to_be_visible()
    # The colour comes from the script (a style attribute would be refused).
    assert chip.evaluate("el => el.style.getPropertyValue('--tag')") == "#dc2626"
    page.keyboard.press("?")
    expect(page.locator("#shortcuts")).to_be_visible()
    page.keyboard.press("Escape")

    page.goto(f"{live_server.url}/inbox/tickets/{ticket.pk}/")
    expect(page.locator("#ticket-header")).to_contain_text("Mug arrived broken")
    page.keyboard.press("n")
    expect(page.locator("#composer-body")).to_be_focused()
    page.wait_for_timeout(POLL_WAIT_MS)
    assert new_page.csp_violations == []


def test_the_csat_page_and_the_sign_in_page_work_under_the_policy(live_server, new_page):
    survey = CsatSurveyFactory(ticket__subject="Where is my tote?")
    page = new_page(width=420, height=820)

    page.goto(f"{live_server.url}/csat/{survey.token}/")
    page.locator(".rating-option", has_text="4").click()
    page.get_by_role("button", name="Send my rating").click()
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()

    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert new_page.csp_violations == []


def test_the_admin_and_the_api_docs_render_under_their_policies(live_server, new_page):
    AdminFactory(username="ops")
    ticket = TicketFactory()
    page = new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill("ops")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#bookbag-queues")).to_be_visible()

    page.goto(f"{live_server.url}/admin/tickets/ticket/{ticket.pk}/change/")
    expect(page.locator("#ticket_form")).to_be_visible()
    page.goto(f"{live_server.url}/admin/tickets/ticket/")
    page.locator("#action-toggle").check()  # the admin's own script
    expect(page.locator(".action-counter")).to_contain_text("1 of 1 selected")

    page.goto(f"{live_server.url}/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Bookbag API")
    # Redoc always shows its vendor's logo from cdn.redoc.ly: refused (no third-party requests
    # from the docs), and Redoc hides the broken image by itself.
    new_page.expected_refusals.append("https://cdn.redoc.ly/redoc/logo-mini.svg")
    page.goto(f"{live_server.url}/api/redoc/")
    expect(page.get_by_role("heading", name="Bookbag API (1.0.0)")).to_be_visible(timeout=15_000)
    unexpected = [v for v in new_page.csp_violations if "cdn.redoc.ly" not in v]
    assert unexpected == []
