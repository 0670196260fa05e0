"""Confirming unchanged in a real browser: on the to-do list an editor selects all (a link),
unticks one and confirms the rest with one button, with and without JavaScript, at desktop and
phone width; on the activity page the history follows a save in place without a reload."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlmodel import Session

from app.config import Settings
from tests.browser import WCAG_21_AA, LiveServer, sign_in_page
from tests.factories import PASSWORD, update_round

pytestmark = pytest.mark.browser


@pytest.fixture
def server(seeded_settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(seeded_settings) as server:
        with Session(server.app.state.engine) as session:
            update = update_round(session, organisation="IND")
            server.editor = update.editor_email  # type: ignore[attr-defined]
            server.period = update.period_id  # type: ignore[attr-defined]
            server.activities = update.activities  # type: ignore[attr-defined]
        yield server


def _page(browser, server, *, width: int = 1280, javascript: bool = True):  # type: ignore[no-untyped-def]
    context = browser.new_context(
        locale="nl-NL", viewport={"width": width, "height": 900}, java_script_enabled=javascript
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in_page(page, server.url, server.editor, PASSWORD)
    return context, page, errors


def _no_violations(page) -> None:  # type: ignore[no-untyped-def]
    results = Axe().run(page, options=WCAG_21_AA)
    assert results.violations_count == 0, (page.url, results.generate_report())


@pytest.mark.parametrize("width", [1280, 375])
def test_an_editor_selects_all_unticks_one_and_confirms_the_rest(browser, server, width) -> None:  # type: ignore[no-untyped-def]
    context, page, errors = _page(browser, server, width=width)
    total = len(server.activities)
    page.goto(f"{server.url}/periods/{server.period}/todo")
    page.wait_for_function("() => window.htmx !== undefined")
    boxes = page.locator("#round-items input[name=confirm]")
    expect(boxes).to_have_count(total)
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scroll
    _no_violations(page)

    # "Select all" with the keyboard: htmx ticks every box in place.
    select_all = page.get_by_role("link", name=f"Alles selecteren ({total})")
    select_all.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#round-items input[name=confirm]:checked")).to_have_count(total)
    assert page.url.endswith("/todo")  # in place, no page load
    kept = server.activities[0]
    page.locator(f"#confirm-{kept}").uncheck()
    page.get_by_role("button", name="Geselecteerde activiteiten ongewijzigd bevestigen").click()

    done = page.locator("#todo-done")
    expect(done).to_contain_text(f"{total - 1} activiteiten zijn ongewijzigd bevestigd")
    expect(done).to_be_focused()
    # Only the unticked one still needs confirming; the others say so in the list.
    expect(page.locator("#round-items input[name=confirm]")).to_have_count(1)
    expect(page.locator(f"#confirm-{kept}")).to_be_visible()
    for activity_id in server.activities[1:]:
        expect(page.locator(f"#item-{activity_id}")).to_have_attribute("data-progress", "confirmed")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    _no_violations(page)
    assert not errors
    context.close()


def test_confirming_a_selection_works_without_javascript(browser, server) -> None:  # type: ignore[no-untyped-def]
    context, page, _ = _page(browser, server, javascript=False)
    total = len(server.activities)
    page.goto(f"{server.url}/periods/{server.period}/todo")
    page.get_by_role("link", name=f"Alles selecteren ({total})").click()
    page.wait_for_url("**select=all**")
    expect(page.locator("#round-items input[name=confirm]:checked")).to_have_count(total)
    page.get_by_role("link", name="Niets selecteren").click()
    expect(page.locator("#round-items input[name=confirm]:checked")).to_have_count(0)
    for activity_id in server.activities[:2]:
        page.locator(f"#confirm-{activity_id}").check()
    page.get_by_role("button", name="Geselecteerde activiteiten ongewijzigd bevestigen").click()
    page.wait_for_url("**confirmed=2")
    expect(page.locator("#todo-done")).to_contain_text("2 activiteiten zijn ongewijzigd bevestigd")
    expect(page.locator("#round-items input[name=confirm]")).to_have_count(total - 2)
    context.close()


def test_the_history_follows_a_save_in_place(browser, server) -> None:  # type: ignore[no-untyped-def]
    context, page, errors = _page(browser, server)
    activity = server.activities[0]
    page.goto(f"{server.url}/activities/{activity}?period={server.period}")
    page.wait_for_function("() => window.htmx !== undefined")
    history = page.locator(f"#activity-{activity}-history .history__item")
    before = history.count()

    # Confirm unchanged: the history shows the confirmation at once, as a confirmation.
    page.get_by_role("button", name="Ongewijzigd bevestigen voor deze periode").click()
    expect(history).to_have_count(before + 1)
    expect(history.first).to_contain_text("Ongewijzigd bevestigd")
    expect(history.first).not_to_contain_text("ingevoerd")

    # Then a change in place: its version is on top, without a reload.
    page.get_by_role("link", name="Stand van zaken wijzigen").click()
    page.locator("textarea[name=explanation]").fill("Bijgewerkt in de browser.")
    page.get_by_role("button", name=re.compile("Opslaan")).click()
    expect(history).to_have_count(before + 2)
    expect(history.first).to_contain_text("Versie 3")
    expect(history.first).to_contain_text("bron: ingevoerd")
    expect(history.first.locator("ins").first).to_have_text("Bijgewerkt")  # the new text, marked
    expect(history.first).to_contain_text("browser.")
    assert page.url.endswith(f"?period={server.period}")  # still the page first loaded
    _no_violations(page)
    assert not errors
    context.close()
