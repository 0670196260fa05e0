"""Correcting last year's published report in a real browser while this year's round is open:
the coordinator starts a correction of 2022 with a reason while 2023 is open, the police
editor proposes a correction, the public report stays as published, the coordinator approves
and republishes through the confirmation page, and then the public report is the corrected
one with a note saying so, while 2023 is untouched. On a desktop and on a phone, every page
passes an axe-core scan and none scrolls sideways."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlmodel import Session

from app.config import Settings
from app.periods.models import PeriodState, ReportingPeriod
from tests.browser import WCAG_21_AA, LiveServer, sign_in_page
from tests.factories import PASSWORD
from tests.test_corrections import CORRECTED_TEXT, PUBLISHED_TEXT, _published_2022

pytestmark = pytest.mark.browser

SLUG = "samen-tegen-mensenhandel"
# Set to a folder to keep screenshots of the pages on the way (for a person to look at).
SCREENSHOTS = os.environ.get("VOORTGANG_SCREENSHOTS", "")


@pytest.fixture
def server(seeded_settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(seeded_settings) as server:
        with Session(server.app.state.engine, expire_on_commit=False) as session:
            world = _published_2022(session)
            server.world = world  # type: ignore[attr-defined]
        yield server


def _no_violations(axe: Axe, page) -> None:  # type: ignore[no-untyped-def]
    results = axe.run(page, options=WCAG_21_AA)
    assert results.violations_count == 0, (page.url, results.generate_report())


def _fits(page) -> None:  # type: ignore[no-untyped-def]
    overflow = page.evaluate(
        "() => { const main = document.querySelector('main');"
        " return main.scrollWidth - main.clientWidth; }"
    )
    wide = page.evaluate(
        "() => { const edge = document.querySelector('main').getBoundingClientRect().right;"
        " return [...document.querySelectorAll('main *')]"
        ".filter(e => e.getBoundingClientRect().right > edge + 1)"
        ".slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + e.textContent.slice(0, 50)"
        " + ' in ' + e.parentElement.className + '#' + e.parentElement.id); }"
    )
    assert overflow <= 0, (page.url, overflow, wide)


def _shot(page, name: str, width: int) -> None:  # type: ignore[no-untyped-def]
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SCREENSHOTS}/{name}-{width}.png", full_page=True)


def _context(browser, width: int):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="nl-NL", viewport={"width": width, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return context, page, errors


@pytest.mark.parametrize("width", [1280, 375])
def test_a_correction_of_2022_beside_the_open_2023_round(browser, server, width) -> None:  # type: ignore[no-untyped-def]
    axe = Axe()
    world = server.world
    period_url = f"{server.url}/periods/{world.period_id}"
    public_table = f"{server.url}/public/{SLUG}/{world.period_id}/table"
    coordinator, page, coordinator_errors = _context(browser, width)
    sign_in_page(page, server.url, world.round.coordinator_email, PASSWORD)

    # The published 2022: the way into a correction is a secondary button, with a reason.
    page.goto(period_url)
    start = page.get_by_role("button", name="Correctie starten")
    assert "secondary-action" in (start.get_attribute("class") or "")
    _fits(page)
    _shot(page, "period-published", width)
    page.fill("#reason-correct", "De toelichting bij activiteit 1 was onvolledig.")
    start.click()
    page.wait_for_url("**done=correct")
    assert "In correctie" in page.locator(".period-state").first.inner_text()
    notice = page.locator("#correction-notice")
    assert "Voortgangsrapportage 2023 verandert niet door deze correctie" in notice.inner_text()
    assert "onvolledig" in page.locator(".corrections").inner_text()
    assert "nog niet opnieuw gepubliceerd" in page.locator(".corrections").inner_text()
    _fits(page)
    _no_violations(axe, page)
    _shot(page, "period-correcting", width)

    # The police editor proposes the correction on the activity's page for 2022.
    editor, editor_page, editor_errors = _context(browser, width)
    sign_in_page(editor_page, server.url, world.round.editor_email, PASSWORD)
    activity = world.activity_id
    editor_page.goto(f"{server.url}/activities/{activity}?period={world.period_id}")
    editor_page.wait_for_function("() => window.htmx !== undefined")
    editor_page.get_by_role("link", name="Stand van zaken wijzigen").click()
    editor_page.locator(f"#status-{activity}").wait_for()
    editor_page.select_option(f"#status-{activity}", "on_schedule")
    editor_page.fill(f"#explanation-{activity}", CORRECTED_TEXT)
    editor_page.get_by_role("button", name="Opslaan").click()
    editor_page.wait_for_selector(f"#activity-{activity}-current .status--on_schedule")
    assert (
        "voorstel, wacht op beoordeling"
        in editor_page.locator(f"#activity-{activity}-current").inner_text()
    )
    _no_violations(axe, editor_page)

    # The public site still shows the report as it was published.
    reader, reader_page, reader_errors = _context(browser, width)
    reader_page.goto(public_table)
    assert PUBLISHED_TEXT in reader_page.content() and CORRECTED_TEXT not in reader_page.content()

    # The coordinator approves it (four eyes: it is the editor's proposal).
    page.goto(f"{period_url}/review")
    page.locator(".proposal").get_by_role("button", name="Goedkeuren").click()
    page.wait_for_url("**done=approve")
    reader_page.goto(public_table)
    assert CORRECTED_TEXT not in reader_page.content()

    # Republishing goes through the confirmation page, which lists what was corrected.
    page.goto(period_url)
    page.get_by_role("link", name="Controleren en opnieuw publiceren…").click()
    page.wait_for_url("**/publish")
    assert "opnieuw publiceren" in page.locator("h1").inner_text()
    assert page.locator('[data-count="corrected"]').inner_text() == "1"
    assert page.locator(f'#corrected-items li[data-activity="{activity}"]').count() == 1
    _fits(page)
    _no_violations(axe, page)
    _shot(page, "republish-confirm", width)
    page.get_by_role("button", name="Definitief opnieuw publiceren").click()
    page.wait_for_url("**done=republish")
    assert "Gepubliceerd" in page.locator(".period-state").first.inner_text()
    assert "opnieuw gepubliceerd op" in page.locator(".corrections").inner_text()
    _fits(page)
    _no_violations(axe, page)
    _shot(page, "period-republished", width)

    # Now the public report is the corrected one, and says so.
    reader_page.goto(public_table)
    assert CORRECTED_TEXT in reader_page.content()
    reader_page.goto(f"{server.url}/public/{SLUG}/{world.period_id}")
    assert "Dit rapport is gecorrigeerd op" in reader_page.locator("#corrected-note").inner_text()
    _fits(reader_page)
    _no_violations(axe, reader_page)
    _shot(reader_page, "public-corrected", width)

    # 2023 is open as before, and its activity still starts from the 2022 text it opened with.
    with Session(server.app.state.engine) as session:
        later = session.get(ReportingPeriod, world.later_id)
        assert later is not None and later.state == PeriodState.open
    editor_page.goto(f"{server.url}/activities/{activity}?period={world.later_id}")
    assert PUBLISHED_TEXT in editor_page.locator(f"#activity-{activity}-current").inner_text()

    for context in (coordinator, editor, reader):
        context.close()
    assert not coordinator_errors and not editor_errors and not reader_errors
