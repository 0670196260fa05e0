"""The coordinator's indicator form in a real browser: adding an indicator linked to a result
(the result's page then lists it), a duplicate code answered beside its field; the form, empty,
with the refusal and to edit, passes an axe-core scan in Dutch and English, wide and narrow."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlmodel import Session

from app.config import Settings
from tests.browser import WCAG_21_AA, LiveServer, sign_in_page
from tests.factories import PASSWORD, create_user
from tests.test_board import SLUG

pytestmark = pytest.mark.browser

# Where to keep the screenshots to look at (not compared): VOORTGANG_SCREENSHOTS, if set.
SCREENSHOTS = os.environ.get("VOORTGANG_SCREENSHOTS", "")


@pytest.fixture
def server(seeded_settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(seeded_settings) as server:
        with Session(server.app.state.engine) as session:
            server.coordinator = create_user(session, "coordinator")  # type: ignore[attr-defined]
        yield server


def _scan(axe: Axe, page, where: str) -> None:  # type: ignore[no-untyped-def]
    results = axe.run(page, options=WCAG_21_AA)
    assert results.violations_count == 0, (where, results.generate_report())


def test_the_indicator_form_works_and_passes_axe_in_both_languages(browser, server) -> None:  # type: ignore[no-untyped-def]
    axe = Axe()
    for language, save, code in (("nl", "Opslaan", "slachtoffers"), ("en", "Save", "victims")):
        for width in (1280, 375):
            context = browser.new_context(
                locale=f"{language}-NL", viewport={"width": width, "height": 900}
            )
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error, found=errors: found.append(str(error)))
            sign_in_page(page, server.url, server.coordinator, PASSWORD)
            page.goto(f"{server.url}/language/{language}?next=/")
            page.goto(f"{server.url}/programmes/{SLUG}/monitor")
            page.locator("#add-indicator").click()
            assert page.locator("html").get_attribute("lang") == language
            _scan(axe, page, (language, width, "new"))
            page.fill("#indicator-code", f"{code}-{width}")
            page.fill("#indicator-name-nl", "Gemelde slachtoffers")
            page.fill("#indicator-name-en", "Reported victims")
            page.select_option("#indicator-unit", "persons")
            page.locator("input[name=result_ids]").first.check()
            page.get_by_role("button", name=save).click()
            page.wait_for_url("**/monitor/indicators/*?done=added")
            linked = page.locator(".facts a[href*='/results/']").first.get_attribute("href")
            assert linked is not None
            indicator = page.url.split("?")[0]
            page.goto(server.url + linked)
            assert (
                page.locator(f".result-indicators a[href='{indicator[len(server.url) :]}']").count()
                == 1
            )
            # The same code again: refused beside the field, what was typed kept.
            page.goto(f"{server.url}/programmes/{SLUG}/monitor/indicators/new")
            page.fill("#indicator-code", f"{code}-{width}")
            page.fill("#indicator-name-nl", "Dubbel")
            page.select_option("#indicator-unit", "persons")
            page.get_by_role("button", name=save).click()
            message = page.locator("#indicator-code-error")
            message.wait_for()
            assert f"{code}-{width}" in message.inner_text()
            assert page.locator("#indicator-code").get_attribute("aria-invalid") == "true"
            _scan(axe, page, (language, width, "refused"))
            if SCREENSHOTS:
                page.screenshot(
                    path=f"{SCREENSHOTS}/indicator-refused-{language}-{width}.png", full_page=True
                )
            page.goto(f"{indicator}/edit")
            _scan(axe, page, (language, width, "edit"))
            if SCREENSHOTS:
                page.screenshot(
                    path=f"{SCREENSHOTS}/indicator-edit-{language}-{width}.png", full_page=True
                )
            assert errors == []
            context.close()
