"""The recommendations' public page in a real browser: axe-core (WCAG 2.1 A/AA) in both
languages, no sideways scrolling and no table cut off at 375 px, and screenshots at 1280 and
375 px for a person to look at (kept in SCREENSHOT_DIR when it is set)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from app.config import Settings
from tests.browser import WCAG_21_AA, LiveServer
from tests.test_board import SLUG
from tests.test_browser_monitor_public import _CLIPPED
from tests.test_recommendations_exports import build_world

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(databases) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    settings = Settings(
        database_url=databases.new("seeded"), secret_key="test-secret", _env_file=None
    )  # type: ignore[call-arg]
    with LiveServer(settings) as server:
        world = build_world(server.app)
        server.path = f"/public/{SLUG}/{world.published}/recommendations"  # type: ignore[attr-defined]
        yield server


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_recommendations_page_passes_axe_wcag21_aa(browser, server, language: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="nl-NL")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{server.url}{server.path}?lang={language}")
    assert page.locator("html").get_attribute("lang") == language
    results = Axe().run(page, options=WCAG_21_AA)
    assert results.violations_count == 0, results.generate_report()
    context.close()
    assert not errors, errors


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("width", [1280, 375])
def test_the_recommendations_page_fits_and_is_photographed(
    browser, server, width: int, language: str
) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="nl-NL", viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{server.url}{server.path}?lang={language}")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.evaluate(_CLIPPED) == [], (language, width)
    # A link of the per-addressee list leads to its recommendation.
    link = page.locator("#addressees a").first
    target = link.get_attribute("href")
    link.click()
    assert page.locator(str(target)).is_visible()
    keep = os.environ.get("SCREENSHOT_DIR")
    if keep:
        suffix = "" if language == "nl" else f"-{language}"
        page.screenshot(
            path=str(Path(keep) / f"public-recommendations-{width}{suffix}.png"), full_page=True
        )
    context.close()
