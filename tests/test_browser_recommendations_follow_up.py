"""A recommendation's follow-up in a real browser: an editor of a lead organisation follows
the recommendation page's link to the form and proposes it; another coordinator sees it
waiting on the period's review page. axe-core (WCAG 2.1 A/AA) on the form and the review
page in both languages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlmodel import Session

from app.config import Settings
from app.ids import id_of
from tests.browser import WCAG_21_AA, LiveServer, sign_in_page
from tests.factories import PASSWORD, coordinator, create_user, open_round
from tests.test_recommendations_follow_up import _linked

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(databases) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    settings = Settings(
        database_url=databases.new("seeded"), secret_key="test-secret", _env_file=None
    )  # type: ignore[call-arg]
    with LiveServer(settings) as server:
        with Session(server.app.state.engine, expire_on_commit=False) as session:
            recommendation, lead, _ = _linked(session)
            server.period_id = open_round(session, actor=coordinator(session))  # type: ignore[attr-defined]
            server.recommendation = id_of(recommendation)  # type: ignore[attr-defined]
            server.editor = create_user(session, "editor", (lead,))  # type: ignore[attr-defined]
            server.reviewer = create_user(session, "coordinator")  # type: ignore[attr-defined]
            session.commit()
        yield server


def _axe(page, where: str) -> None:  # type: ignore[no-untyped-def]
    results = Axe().run(page, options=WCAG_21_AA)
    assert results.violations_count == 0, (where, results.generate_report())


def test_an_editor_proposes_a_follow_up_a_coordinator_sees_it_waiting(browser, server) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="nl-NL")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in_page(page, server.url, server.editor, PASSWORD)
    page.goto(f"{server.url}/recommendations/{server.recommendation}?lang=nl")
    link = page.locator(f"#follow-up-link-{server.period_id}")
    assert "Voortgang opvolging melden" in link.inner_text()
    link.click()
    page.wait_for_selector("#follow-up-explanation")
    for language in ("en", "nl"):
        page.goto(
            f"{server.url}/recommendations/{server.recommendation}/follow-up"
            f"?period={server.period_id}&lang={language}"
        )
        assert page.locator("html").get_attribute("lang") == language
        _axe(page, f"form {language}")
    page.select_option("#follow-up-status", index=1)
    page.fill("#follow-up-explanation", "Er is een regiegroep ingesteld.")
    page.locator("#follow-up-form button[type=submit]").click()
    page.wait_for_selector("#follow-up-done")
    _axe(page, "form saved")
    context.close()

    context = browser.new_context(locale="nl-NL")
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in_page(page, server.url, server.reviewer, PASSWORD)
    for language in ("nl", "en"):
        page.goto(f"{server.url}/periods/{server.period_id}/review?lang={language}")
        assert page.locator("html").get_attribute("lang") == language
        waiting = page.locator("#follow-ups-waiting > article")
        assert waiting.count() == 1
        assert "Er is een regiegroep ingesteld." in waiting.inner_text()
        assert page.locator("#waiting-heading").inner_text().startswith("1 ")
        _axe(page, f"review {language}")
    context.close()
    assert errors == []
