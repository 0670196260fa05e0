"""A forgotten password in a real browser: from the sign-in page to the mailed link, a new
password and signing in with it; then changing it on the account page. Every page on the way
passes an axe-core scan, at desktop and phone width."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlmodel import Session

from app.config import Settings
from tests.browser import WCAG_21_AA, LiveServer
from tests.factories import create_user, password_link, sent_mail, with_mail_folder

pytestmark = pytest.mark.browser

NEW_PASSWORD = "three words remembered well"


@pytest.fixture
def server(settings: Settings, tmp_path: Path) -> Iterator[LiveServer]:
    with LiveServer(with_mail_folder(settings, tmp_path / "mail")) as server:
        with Session(server.app.state.engine) as session:
            server.email = create_user(session, "viewer", email="vergeten@example.nl")  # type: ignore[attr-defined]
        yield server


def _no_violations(axe: Axe, page) -> None:  # type: ignore[no-untyped-def]
    results = axe.run(page, options=WCAG_21_AA)
    assert results.violations_count == 0, (page.url, results.generate_report())


@pytest.mark.parametrize("width", [1280, 375])
def test_a_forgotten_password_is_reset_through_the_mailed_link(browser, server, width) -> None:  # type: ignore[no-untyped-def]
    axe = Axe()
    context = browser.new_context(locale="nl-NL", viewport={"width": width, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(f"{server.url}/sign-in")
    page.get_by_role("link", name="Wachtwoord vergeten?").click()
    page.wait_for_url("**/password/forgot")
    _no_violations(axe, page)
    page.get_by_label("E-mailadres").fill(server.email)
    page.get_by_role("button", name="Stuur mij een link").click()
    sent = page.locator("#reset-sent")
    sent.wait_for()
    assert server.email in sent.inner_text()
    _no_violations(axe, page)

    [message] = sent_mail(server.app.state.settings.mail_folder)
    path, _ = password_link(message)
    page.goto(f"{server.url}{path}")
    assert page.locator("#account-email").inner_text() == server.email
    _no_violations(axe, page)
    # Two different passwords: refused, with the reason next to the form.
    page.get_by_label("Nieuw wachtwoord", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Nieuw wachtwoord nogmaals").fill(NEW_PASSWORD + " and more")
    page.get_by_role("button", name="Wachtwoord instellen").click()
    page.locator("#password-error").wait_for()
    assert "niet gelijk" in page.locator("#password-error").inner_text()
    _no_violations(axe, page)
    page.get_by_label("Nieuw wachtwoord", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Nieuw wachtwoord nogmaals").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Wachtwoord instellen").click()
    page.wait_for_url("**/sign-in?done=password")
    assert "Uw wachtwoord is ingesteld" in page.locator("#sign-in-done").inner_text()
    _no_violations(axe, page)

    page.get_by_label("E-mailadres").fill(server.email)
    page.get_by_label("Wachtwoord", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(lambda url: "/sign-in" not in url)

    # The link is spent.
    page.goto(f"{server.url}{path}")
    assert "al gebruikt" in page.locator("#link-error").inner_text()
    _no_violations(axe, page)

    # The account page: a wrong current password is refused, the right one changes it.
    page.goto(f"{server.url}/account")
    _no_violations(axe, page)
    page.get_by_label("Huidig wachtwoord").fill("not the password")
    page.get_by_label("Nieuw wachtwoord", exact=True).fill("yet another good password")
    page.get_by_label("Nieuw wachtwoord nogmaals").fill("yet another good password")
    page.get_by_role("button", name="Wachtwoord wijzigen").click()
    page.locator("#password-error").wait_for()
    assert "niet juist" in page.locator("#password-error").inner_text()
    _no_violations(axe, page)
    page.get_by_label("Huidig wachtwoord").fill(NEW_PASSWORD)
    page.get_by_label("Nieuw wachtwoord", exact=True).fill("yet another good password")
    page.get_by_label("Nieuw wachtwoord nogmaals").fill("yet another good password")
    page.get_by_role("button", name="Wachtwoord wijzigen").click()
    page.wait_for_url("**/account?done=password")
    assert "Uw wachtwoord is gewijzigd" in page.locator("#account-done").inner_text()
    # Nothing of the page's own content is wider than the screen (the header is not this test's).
    wide = page.evaluate(
        """() => [...document.querySelectorAll('main *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .map(e => e.tagName + '#' + e.id + '.' + e.className)"""
    )
    assert not wide, wide
    context.close()
    assert not errors, errors
