"""An agent's day in a real browser: sign in, find the ticket, work it, watch it update live;
the customer rates the support; a non-agent is refused."""

import io
import json
import re

import pytest
import requests
from django.core import mail
from django.core.management import call_command
from playwright.sync_api import expect

from integrations.models import Shop
from integrations.shopify.verification import sign
from tests.factories import TEST_PASSWORD, AgentFactory, CsatSurveyFactory, UserFactory
from tests.inbox.browser.conftest import sign_in
from tests.integrations.shopify import fixture
from tests.queue import run_queued_tasks
from tickets.models import CsatSurvey, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIVE = 5_000  # ms: what "live" promises (the page polls every 2.5 s)
SUBJECT = "Tracking hasn't moved in four days"


def post_fulfillment_webhook(base_url: str, shop: Shop, order, tracking: str) -> None:
    """A new shipment for the order, signed as Shopify signs, through the real URL."""
    payload = fixture("fulfillments/create")
    payload.update(
        id=payload["id"] + 77, order_id=order.shopify_id, name=f"{order.name}.2",
        tracking_number=tracking, tracking_numbers=[tracking],
        tracking_url=f"https://www.ups.com/track?tracknum={tracking}",
        tracking_urls=[f"https://www.ups.com/track?tracknum={tracking}"],
    )  # fmt: skip
    body = json.dumps(payload).encode()
    response = requests.post(
        f"{base_url}/webhooks/shopify/",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Shopify-Topic": "fulfillments/create",
            "X-Shopify-Shop-Domain": shop.domain,
            "X-Shopify-Hmac-Sha256": sign(shop.webhook_secret, body),
            "X-Shopify-Webhook-Id": "browser-test-fulfillment-1",
            "X-Shopify-API-Version": "2025-10",
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text
    run_queued_tasks()  # what a worker would do; the page finds out by itself


def test_an_agent_works_a_ticket_while_a_colleague_and_the_customer_watch(
    live_server, new_page, artifacts
):
    call_command("seed_demo", stdout=io.StringIO())
    AgentFactory(username="alex", first_name="Alex", last_name="Kim")
    ticket = Ticket.objects.select_related("order", "customer", "shop").get(subject=SUBJECT)
    base = live_server.url

    # Sam signs in and sees the demo tickets with the count of every view.
    page = new_page()
    sign_in(page, base, "agent", "agent-demo-pass")
    expect(page).to_have_url(f"{base}/inbox/")
    counts = {"mine": "7", "unassigned": "3", "open": "4", "pending": "4", "escalated": "2",
              "resolved": "5", "all": "15"}  # fmt: skip
    for view, count in counts.items():
        expect(page.locator(f'[data-count="{view}"]')).to_have_text(count)
    expect(page.locator(".ticket-row")).to_have_count(4)
    page.goto(f"{base}/inbox/?view=all")
    expect(page.locator(".ticket-row")).to_have_count(15)
    page.screenshot(path=artifacts / "inbox-list.png", full_page=True)

    # "/" to search, by order name; "j" then Enter opens the ticket.
    page.keyboard.press("/")
    expect(page.get_by_label("Search tickets")).to_be_focused()
    page.keyboard.type("#1005")
    page.keyboard.press("Enter")
    expect(page.locator(".ticket-row")).to_have_count(1)
    expect(page.locator(".ticket-row .subject")).to_have_text(SUBJECT)
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{base}/inbox/tickets/{ticket.pk}/")

    # The order sidebar: the linked order first, its shipment with the tracking link.
    sidebar = page.locator("#ticket-sidebar")
    linked = sidebar.locator("article.order").first
    expect(linked).to_contain_text("#1005")
    expect(linked).to_contain_text("Linked")
    expect(linked).to_contain_text("In transit")
    expect(linked.get_by_role("link", name=re.compile("1Z8A7V490300001005"))).to_have_attribute(
        "href", "https://www.ups.com/track?tracknum=1Z8A7V490300001005"
    )

    # Alex opens the same ticket, and the list in another tab: each sees the other.
    colleague = new_page()
    sign_in(colleague, base, "alex", TEST_PASSWORD)
    colleague_list = colleague.context.new_page()
    colleague_list.goto(f"{base}/inbox/?view=all")
    colleague.goto(f"{base}/inbox/tickets/{ticket.pk}/")
    expect(page.locator("#presence")).to_contain_text("Alex Kim is viewing", timeout=LIVE)
    expect(colleague.locator("#presence")).to_contain_text("Sam Rivera is viewing", timeout=LIVE)
    for watcher in (colleague, colleague_list):
        watcher.evaluate("window.__sameDocument = true")  # gone if the page reloads

    # "r": a reply, emailed to the customer; Alex's page shows it without reloading.
    page.keyboard.press("r")
    expect(page.locator("#composer-body")).to_be_focused()
    page.keyboard.type("Hi Sofia, UPS confirms the parcel is moving again.")
    expect(colleague.locator("#presence")).to_contain_text("Sam Rivera is replying", timeout=LIVE)
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator(".entry-reply").last).to_contain_text("UPS confirms the parcel is moving")
    run_queued_tasks()
    assert [m.to for m in mail.outbox if "UPS confirms" in m.body] == [[ticket.customer.email]]
    expect(colleague.locator("#timeline")).to_contain_text("UPS confirms", timeout=LIVE)
    expect(colleague_list.locator(f'[data-ticket-id="{ticket.pk}"] .excerpt')).to_contain_text(
        "UPS confirms", timeout=LIVE
    )

    # "n": an internal note, never emailed.
    emails = len(mail.outbox)
    page.keyboard.press("n")
    page.keyboard.type("Checked the hub scan in the UPS portal myself.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator(".entry-note").last).to_contain_text("Checked the hub scan")
    run_queued_tasks()
    assert len(mail.outbox) == emails

    # Shopify reports a second shipment while the ticket is open: it shows on the timeline.
    post_fulfillment_webhook(base, ticket.shop, ticket.order, "1ZBROWSERTEST0001")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Order #1005 shipped with UPS", timeout=LIVE)
    expect(timeline.get_by_role("link", name="1ZBROWSERTEST0001")).to_be_visible()
    expect(sidebar.locator("article.order").first).to_contain_text("1ZBROWSERTEST0001")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=artifacts / "inbox-ticket.png", full_page=True)

    # "e" resolves; Alex's ticket page and list see it within 5 s, without reloading.
    page.keyboard.press("e")
    expect(page.locator("#ticket-header .status-badge")).to_have_text("Resolved")
    expect(colleague.locator("#ticket-header .status-badge")).to_have_text("Resolved", timeout=LIVE)
    expect(colleague_list.locator(f'[data-ticket-id="{ticket.pk}"] .status-badge')).to_have_text(
        "Resolved", timeout=LIVE
    )
    assert colleague.evaluate("window.__sameDocument") is True
    assert colleague_list.evaluate("window.__sameDocument") is True

    # The CSAT request is emailed; the customer opens the link and rates.
    run_queued_tasks()
    survey = CsatSurvey.objects.filter(ticket=ticket).first() or CsatSurveyFactory(ticket=ticket)
    assert any(f"/csat/{survey.token}/" in m.body for m in mail.outbox)
    customer = new_page(width=420, height=820)
    customer.goto(f"{base}/csat/{survey.token}/")
    expect(customer.get_by_role("heading", name="How did we do?")).to_be_visible()
    customer.get_by_role("radio", name=re.compile("^4")).check()
    customer.get_by_label("Anything you'd like to tell us?").fill("Quick and friendly.")
    customer.get_by_role("button", name="Send my rating").click()
    expect(customer.get_by_role("heading", name="Thank you!")).to_be_visible()
    customer.screenshot(path=artifacts / "csat.png", full_page=True)
    survey.refresh_from_db()
    assert (survey.score, survey.comment) == (4, "Quick and friendly.")
    expect(page.locator("#ticket-header")).to_contain_text("CSAT 4/5", timeout=LIVE)


def test_a_signed_in_user_who_is_not_an_agent_is_refused(live_server, new_page):
    UserFactory(username="visitor")
    page = new_page()

    sign_in(page, live_server.url, "visitor", TEST_PASSWORD)

    expect(page.get_by_role("heading", name="This inbox is for support agents")).to_be_visible()
    response = page.goto(f"{live_server.url}/inbox/")
    assert response.status == 403


def test_the_pages_work_at_tablet_width(live_server, new_page, artifacts):
    call_command("seed_demo", stdout=io.StringIO())
    ticket = Ticket.objects.get(subject=SUBJECT)
    page = new_page(width=820, height=1180)
    sign_in(page, live_server.url, "agent", "agent-demo-pass")

    expect(page.locator(".ticket-row")).to_have_count(4)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=artifacts / "inbox-list-tablet.png", full_page=True)
    page.goto(f"{live_server.url}/inbox/tickets/{ticket.pk}/")
    expect(page.locator("#ticket-sidebar")).to_contain_text("#1005")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=artifacts / "inbox-ticket-tablet.png", full_page=True)
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
