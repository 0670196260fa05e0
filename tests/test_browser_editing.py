"""Editing in a real browser: sign in, change a status in place, counts follow, conflicts,
keyboard only; and an axe-core scan of every signed-in page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlalchemy import select
from sqlmodel import Session

from app.config import Settings
from app.programmes.models import Activity, Result
from tests.browser import WCAG_21_AA, LiveServer, sign_in_page
from tests.factories import PASSWORD, create_user, update_round
from tests.test_board import SLUG

pytestmark = pytest.mark.browser


@pytest.fixture
def server(seeded_settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(seeded_settings) as server:
        with Session(server.app.state.engine) as session:
            # 2021 is published: editing happens in the 2022 update round.
            update = update_round(session, organisation="IND")
            server.editor = update.editor_email  # type: ignore[attr-defined]
            server.coordinator = update.coordinator_email  # type: ignore[attr-defined]
            server.admin = create_user(session, "admin")  # type: ignore[attr-defined]
            server.period = update.period_id  # type: ignore[attr-defined]
            server.ind_activity = update.activities[0]  # type: ignore[attr-defined]
            server.ind_result = session.scalar(  # type: ignore[attr-defined]
                select(Result.number)
                .join(Activity, Activity.result_id == Result.id)
                .where(Activity.id == server.ind_activity)  # type: ignore[attr-defined]
            )
        yield server


def _page(browser, server, email):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="nl-NL")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in_page(page, server.url, email, PASSWORD)
    return context, page, errors


def _count(page, status: str) -> int:  # type: ignore[no-untyped-def]
    item = page.locator(f"#status-summary .status-counts li:has(.status--{status}) strong")
    return int(item.inner_text()) if item.count() else 0


def test_editor_changes_a_status_in_place_and_the_counts_follow(browser, server) -> None:  # type: ignore[no-untyped-def]
    context, page, errors = _page(browser, server, server.editor)
    activity = server.ind_activity
    page.goto(f"{server.url}/programmes/{SLUG}/results/{server.ind_result}")
    page.wait_for_function("() => window.htmx !== undefined")
    before = _count(page, "not_started")
    page.evaluate("document.body.dataset.marker = 'same-page'")
    page.locator(f"#activity-{activity} .edit-link").click()
    form = page.locator(f"#activity-{activity} form")
    form.wait_for()
    page.select_option(f"#status-{activity}", "not_started")
    page.fill(f"#explanation-{activity}", "Nog niet begonnen: wacht op besluit.")
    form.get_by_role("button", name="Opslaan").click()
    page.wait_for_selector(f"#activity-{activity} .status--not_started")
    page.wait_for_function(
        f"() => document.querySelector('#status-summary .status-counts li .status--not_started') !== null"
        f" && {before} < 99"
    )
    page.wait_for_function(
        "(before) => { const li = [...document.querySelectorAll('#status-summary .status-counts li')]"
        ".find(li => li.querySelector('.status--not_started'));"
        " return li && Number(li.querySelector('strong').textContent) === before + 1; }",
        arg=before,
    )
    assert page.evaluate("document.body.dataset.marker") == "same-page"
    assert "Nog niet begonnen" in page.locator(f"#activity-{activity}").inner_text()
    # Another organisation's activity has no edit button for this editor.
    page.goto(f"{server.url}/programmes/{SLUG}/activities")
    assert 0 < page.locator(".edit-link").count() < 128
    context.close()
    assert not errors


def test_conflict_between_two_browsers_shows_both_texts(browser, server) -> None:  # type: ignore[no-untyped-def]
    activity = server.ind_activity
    first_context, first, _ = _page(browser, server, server.editor)
    second_context, second, _ = _page(browser, server, server.coordinator)
    for page in (first, second):
        page.goto(f"{server.url}/activities/{activity}")
        page.get_by_role("link", name="Stand van zaken wijzigen").click()
        page.locator(f"#explanation-{activity}").wait_for()
    first.fill(f"#explanation-{activity}", "Versie van de redacteur.")
    first.get_by_role("button", name="Opslaan").click()
    first.wait_for_selector("text=Opgeslagen.")
    second.fill(f"#explanation-{activity}", "Versie van de coördinator.")
    second.get_by_role("button", name="Opslaan").click()
    second.wait_for_selector(".conflict")
    assert second.locator(".conflict__theirs").inner_text() == "Versie van de redacteur."
    assert second.locator(".conflict__yours").inner_text() == "Versie van de coördinator."
    # Nothing was overwritten: the page after a reload still shows the editor's text.
    second.goto(f"{server.url}/activities/{activity}")
    assert (
        "Versie van de redacteur." in second.locator(f"#activity-{activity}-current").inner_text()
    )
    first_context.close()
    second_context.close()


def test_keyboard_only_edit(browser, server) -> None:  # type: ignore[no-untyped-def]
    activity = server.ind_activity
    context, page, errors = _page(browser, server, server.coordinator)
    page.goto(f"{server.url}/activities/{activity}")
    page.wait_for_function("() => window.htmx !== undefined")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Stand van zaken wijzigen":
            break
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => document.activeElement.id === 'status-{activity}'")
    page.keyboard.press("End")  # last option of the legend: Niet van toepassing
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == f"explanation-{activity}"
    page.keyboard.press("Control+A")
    page.keyboard.type("Met het toetsenbord ingevuld.")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#activity-{activity}-current .status--not_applicable")
    assert (
        "Met het toetsenbord ingevuld."
        in page.locator(f"#activity-{activity}-current").inner_text()
    )
    context.close()
    assert not errors


def test_signed_in_pages_pass_axe(browser, server) -> None:  # type: ignore[no-untyped-def]
    activity = server.ind_activity
    context, page, _ = _page(browser, server, server.admin)
    axe = Axe()
    paths = [
        f"/programmes/{SLUG}",
        f"/programmes/{SLUG}/activities",
        f"/programmes/{SLUG}/action-lines/1",
        f"/programmes/{SLUG}/results/1",
        f"/activities/{activity}",
        f"/activities/{activity}/edit?context=page&period={server.period}",
        "/account",
        "/admin/users",
        "/admin/organisations",
        f"/admin/programmes/{SLUG}/structure",
        "/admin/audit",
    ]
    for language in ("nl", "en"):
        for path in paths:
            page.goto(f"{server.url}{path}{'&' if '?' in path else '?'}lang={language}")
            results = axe.run(page, options=WCAG_21_AA)
            assert results.violations_count == 0, (path, results.generate_report())
    # States that only appear after an action: the in-place form, a validation error, a conflict.
    page.goto(f"{server.url}/programmes/{SLUG}/activities")
    page.wait_for_function("() => window.htmx !== undefined")
    page.locator(f"#activity-{activity} .edit-link").click()
    page.locator(f"#explanation-{activity}").wait_for()
    page.fill(f"#explanation-{activity}", "")
    page.evaluate(f"document.getElementById('explanation-{activity}').removeAttribute('required')")
    page.locator(f"#activity-{activity} button[type=submit]").click()
    page.wait_for_selector(f"#explanation-error-{activity}")
    results = axe.run(page, options=WCAG_21_AA)
    assert results.violations_count == 0, results.generate_report()
    context.close()
    anonymous = browser.new_context()
    sign_in = anonymous.new_page()
    sign_in.goto(f"{server.url}/sign-in")
    assert axe.run(sign_in, options=WCAG_21_AA).violations_count == 0
    sign_in.fill("#email", "wrong@example.nl")
    sign_in.fill("#password", "wrong password")
    sign_in.click("button[type=submit]")
    sign_in.wait_for_selector("#sign-in-error")
    results = axe.run(sign_in, options=WCAG_21_AA)
    assert results.violations_count == 0, results.generate_report()
    anonymous.close()
