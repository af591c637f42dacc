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


@pytest.fixture
def new_page(browser):
    """A page in a browser context of its own (its own cookies: its own person)."""
    contexts = []

    def new_page(width: int = 1440, height: int = 900):
        context = browser.new_context(viewport={"width": width, "height": height})
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield new_page
    for context in contexts:
        context.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def sign_in(page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
