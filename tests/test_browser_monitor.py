"""The monitor in a real browser: a supplier enters a total with its parts in place (htmx),
a bad text answers beside its field; the edition, indicator and entry pages pass an axe-core
scan in both languages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlmodel import Session

from app.config import Settings
from app.monitor.models import Figure
from tests.browser import WCAG_21_AA, LiveServer, sign_in_page
from tests.factories import PASSWORD, create_user
from tests.test_board import SLUG
from tests.test_monitor import _open_edition

pytestmark = pytest.mark.browser


@pytest.fixture
def server(seeded_settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(seeded_settings) as server:
        with Session(server.app.state.engine, expire_on_commit=False) as session:
            edition_id, figures, _, _ = _open_edition(session)
            server.edition = edition_id  # type: ignore[attr-defined]
            server.figures = {k: f.id for k, f in figures.items()}  # type: ignore[attr-defined]
            server.indicator = figures["total"].indicator_id  # type: ignore[attr-defined]
            server.supplier = create_user(session, "editor", ("NRM",))  # type: ignore[attr-defined]
        yield server


def test_the_supplier_enters_a_breakdown_in_place(browser, server) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="nl-NL")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in_page(page, server.url, server.supplier, PASSWORD)
    total, vergund, overig = (server.figures[k] for k in ("total", "vergund", "overig"))
    page.goto(f"{server.url}/monitor/editions/{server.edition}")
    page.locator(f"#figure-{total} .edit-link").click()
    page.wait_for_function("() => window.htmx !== undefined")
    page.evaluate("document.body.dataset.marker = 'same-page'")
    page.fill(f"#value-{total}", "> 200")
    page.fill(f"#value-{vergund}", "zes")
    page.fill(f"#value-{overig}", "≈ 95–105")
    page.check("input[name=complete][value=complete]")
    page.get_by_role("button", name="Opslaan").click()
    message = page.locator(f"#value-error-{vergund}")
    message.wait_for()
    assert "zes" in message.inner_text()
    assert page.evaluate("document.body.dataset.marker") == "same-page"
    page.fill(f"#value-{vergund}", "150")
    page.get_by_role("button", name="Opslaan").click()
    page.locator("#figure-done").wait_for()
    assert page.evaluate("document.body.dataset.marker") == "same-page"
    page.goto(f"{server.url}/monitor/editions/{server.edition}")
    row = page.locator(f"#figure-{total}").inner_text()
    assert "> 200" in row and "uitsplitsing volledig" in row
    assert "≈ 95–105" in page.locator(f"#figure-{overig}").inner_text()
    assert errors == []
    with Session(server.app.state.engine) as session:
        assert session.get(Figure, total) is not None
    context.close()


def test_the_monitor_pages_pass_axe_in_both_languages(browser, server) -> None:  # type: ignore[no-untyped-def]
    axe = Axe()
    for language in ("nl", "en"):
        context = browser.new_context(locale=f"{language}-NL")
        page = context.new_page()
        sign_in_page(page, server.url, server.supplier, PASSWORD)
        page.goto(f"{server.url}/language/{language}?next=/")
        for path in (
            f"/programmes/{SLUG}/monitor",
            f"/monitor/editions/{server.edition}",
            "/monitor/editions/3",
            f"/monitor/indicators/{server.indicator}",
            f"/monitor/figures/{server.figures['total']}/edit",
        ):
            page.goto(server.url + path)
            assert page.locator("html").get_attribute("lang") == language
            results = axe.run(page, options=WCAG_21_AA)
            assert results.violations_count == 0, (language, path, results.generate_report())
        context.close()
