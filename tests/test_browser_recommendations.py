"""The recommendations' internal pages in a real browser: axe-core (WCAG 2.1 A/AA) in both
languages, filtering the list without JavaScript's help, no sideways scrolling at 375 px, and
screenshots at 1280 and 375 px for a person to look at (kept in SCREENSHOT_DIR when set)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlalchemy import select
from sqlmodel import Session, col

from app.config import Settings
from app.recommendations.models import Recommendation
from tests.browser import WCAG_21_AA, LiveServer, sign_in_page
from tests.factories import PASSWORD, create_user
from tests.test_board import SLUG
from tests.test_browser_monitor_public import _CLIPPED
from tests.test_recommendations_pages import LIST, load_everything

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(databases) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    settings = Settings(
        database_url=databases.new("seeded"), secret_key="test-secret", _env_file=None
    )  # type: ignore[call-arg]
    with LiveServer(settings) as server:
        with Session(server.app.state.engine) as session:
            load_everything(session)
            server.viewer = create_user(session, "viewer")  # type: ignore[attr-defined]
            server.coordinator = create_user(session, "coordinator")  # type: ignore[attr-defined]
            server.recommendations = list(  # type: ignore[attr-defined]
                session.scalars(select(col(Recommendation.id)).order_by(col(Recommendation.id)))
            )
        yield server


def _paths(server: LiveServer) -> list[str]:
    first, second = server.recommendations[:2]  # type: ignore[attr-defined]
    return [LIST, f"/recommendations/{first}", f"/recommendations/{second}"]


def _form_paths(server: LiveServer) -> list[str]:
    """The coordinator's pages: the forms, and a recommendation's page with its forms."""
    first = server.recommendations[0]  # type: ignore[attr-defined]
    return [
        f"/recommendations/{first}",
        f"/recommendations/{first}/edit",
        f"{LIST}/new",
        f"{LIST}/reports/new",
    ]


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_coordinators_forms_pass_axe_also_with_a_refusal(
    browser, server, language: str
) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="nl-NL")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in_page(page, server.url, server.coordinator, PASSWORD)
    for path in _form_paths(server):
        page.goto(f"{server.url}{path}?lang={language}")
        assert page.locator("html").get_attribute("lang") == language
        results = Axe().run(page, options=WCAG_21_AA)
        assert results.violations_count == 0, (path, results.generate_report())
    # A refusal beside its field, in a real browser without JavaScript's help.
    first = server.recommendations[0]  # type: ignore[attr-defined]
    page.goto(f"{server.url}/recommendations/{first}?lang={language}")
    page.fill("#response-date", "2020-06-01")
    page.locator("#response-form button[type=submit]").click()
    assert page.locator("#response-verdict-error").is_visible()
    assert page.locator("#response-verdict").get_attribute("aria-invalid") == "true"
    results = Axe().run(page, options=WCAG_21_AA)
    assert results.violations_count == 0, results.generate_report()
    assert errors == []
    context.close()


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_recommendation_pages_pass_axe_wcag21_aa(browser, server, language: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="nl-NL")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in_page(page, server.url, server.viewer, PASSWORD)
    for path in _paths(server):
        page.goto(f"{server.url}{path}?lang={language}")
        assert page.locator("html").get_attribute("lang") == language
        results = Axe().run(page, options=WCAG_21_AA)
        assert results.violations_count == 0, (path, results.generate_report())
    assert errors == []
    context.close()


def test_the_list_filters_by_addressee_and_leads_to_a_recommendation(browser, server) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="nl-NL")
    page = context.new_page()
    sign_in_page(page, server.url, server.viewer, PASSWORD)
    page.goto(f"{server.url}/programmes/{SLUG}")
    page.get_by_role("navigation", name="Hoofdnavigatie").get_by_role(
        "link", name="Aanbevelingen"
    ).click()
    page.select_option("#filter-addressee", label="Politie")
    page.get_by_role("button", name="Filters toepassen").click()
    assert page.locator("#result-count").inner_text() == "1 van 8 aanbevelingen"
    page.get_by_role("link", name="VERSTERK DE ROL VAN DE NATIONALE POLITIE").click()
    assert "de korpsleiding van de Nationale Politie" in page.locator("#addressees").inner_text()
    assert page.locator("#linked-activities li").count() == 3
    context.close()


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("width", [1280, 375])
def test_the_recommendation_pages_fit_and_are_photographed(
    browser, server, width: int, language: str
) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="nl-NL", viewport={"width": width, "height": 900})
    page = context.new_page()
    sign_in_page(page, server.url, server.coordinator, PASSWORD)
    keep = os.environ.get("SCREENSHOT_DIR")
    for path in _paths(server) + _form_paths(server)[1:]:
        page.goto(f"{server.url}{path}?lang={language}")
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
        assert page.evaluate(_CLIPPED) == [], (path, language, width)
        if keep:
            name = path.strip("/").replace("/", "-")
            suffix = "" if language == "nl" else f"-{language}"
            page.screenshot(path=str(Path(keep) / f"{name}-{width}{suffix}.png"), full_page=True)
    context.close()
