"""Browser tests: Playwright's sync API driving Debian's Chromium against pytest-django's
live_server (shared/TESTING.md). Never `playwright install`: the browser is the Debian package.
The root conftest skips `browser` tests when Chromium is missing, unless CI=true."""

import os
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread: the ORM would refuse to run next to it
# (SynchronousOnlyOperation). Only in this folder.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium"),
            args=["--disable-dev-shm-usage", "--no-sandbox"],
            headless=True,
        )
        yield browser
        browser.close()


# Reported by the page itself (an init script runs outside the page's policy), in addition to
# the console lines Chromium writes for each refusal.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"}`);
});
"""


def note_violation(message, violations: list[str]) -> None:
    if "Content Security Policy" in message.text or "CSP violation" in message.text:
        where = message.page.url if message.page else "?"
        violations.append(f"{where}: {message.text}")


@pytest.fixture
def new_page(browser):
    """A page in a browser context of its own (its own cookies: its own person). Every test
    fails if a page broke its Content-Security-Policy (bookbag/security_headers.py), unless
    the test lists the refusal in `new_page.expected_refusals` (a part of the URL refused)."""
    contexts = []
    violations: list[str] = []

    def new_page(width: int = 1440, height: int = 900):
        context = browser.new_context(viewport={"width": width, "height": height})
        context.set_default_timeout(10_000)
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        context.on("console", lambda message: note_violation(message, violations))
        contexts.append(context)
        return context.new_page()

    new_page.csp_violations = violations
    new_page.expected_refusals = []
    yield new_page
    for context in contexts:
        context.close()
    unexpected = [
        v for v in violations if not any(part in v for part in new_page.expected_refusals)
    ]
    assert not unexpected, "Content-Security-Policy violations:\n" + "\n".join(unexpected)


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def sign_in(page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
