"""The monitor in a real browser: a supplier enters a total with its parts in place (htmx),
a bad text answers beside its field; the supplier downloads the figure sheet, fills it in,
uploads it, reads the dry run and applies it (a breakdown that does not add up refused); the
edition, indicator, entry and preview pages pass an axe-core scan."""

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


def _filled_sheet(path: str, values: dict[str, tuple[str, ...]]) -> None:
    """Fill the downloaded figure sheet in place as a supplier does, with openpyxl: per figure
    key its value (and the breakdown word on a total's row)."""
    from openpyxl import load_workbook

    from app.monitor import figuresheet

    column = {c.key: 1 + i for i, c in enumerate(figuresheet.COLUMNS)}
    workbook = load_workbook(path)
    sheet = workbook.active
    assert sheet is not None
    for row in range(figuresheet.HEADER_ROW + 1, sheet.max_row + 1):
        filled = values.get(str(sheet.cell(row=row, column=1).value))
        if filled:
            sheet.cell(row=row, column=column["value"], value=filled[0])
            if len(filled) > 1:
                sheet.cell(row=row, column=column["breakdown"], value=filled[1])
    workbook.save(path)


def _upload(page, server, path: str) -> None:  # type: ignore[no-untyped-def]
    """Upload a figure sheet from the edition's page and wait for its preview."""
    page.goto(f"{server.url}/monitor/editions/{server.edition}")
    page.get_by_role("link", name="Ingevuld cijferblad importeren").click()
    page.set_input_files("#sheet-file", path)
    with page.expect_navigation(url=lambda url: "/jobs/" in url):
        page.get_by_role("button", name="Aanleveren en voorbeeld bekijken").click()
    page.locator("#sheet-preview").wait_for(timeout=30_000)


def _printed(server) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from app.monitor import service

    with Session(server.app.state.engine) as session:
        view = service.edition_view(session, server.edition)
        return {key: view.figure(key).printed("nl") for key in server.figures_by_key}


def test_the_supplier_fills_in_the_figure_sheet_and_applies_it(  # type: ignore[no-untyped-def]
    browser, server, tmp_path
) -> None:
    """Download the edition's figure sheet, fill it with a lower bound, a range and a
    breakdown, upload it, read the dry run (which passes axe), apply it and find the figures
    on the edition's page; a sheet whose complete breakdown does not add up is refused on
    the total's row, naming the figure, and changes nothing."""
    from app.monitor import figuresheet

    server.figures_by_key = ("controles", "controles.vergund", "controles.overig")
    context = browser.new_context(locale="nl-NL", accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in_page(page, server.url, server.supplier, PASSWORD)
    page.goto(f"{server.url}/monitor/editions/{server.edition}")
    with page.expect_download() as download:
        page.get_by_role("link", name="Cijferblad downloaden (XLSX)").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    sheet = str(tmp_path / download.value.suggested_filename)
    download.value.save_as(sheet)
    before = _printed(server)

    # A complete breakdown that does not add up: refused, naming the figure, nothing applied.
    _filled_sheet(
        sheet,
        {"controles": ("477", "volledig"), "controles.vergund": ("320",), "controles.overig": ("150",)},
    )  # fmt: skip
    _upload(page, server, sheet)
    assert page.locator("#sheet-count-refused").inner_text() == "1"
    page.locator("#sheet-refused").wait_for()
    total_row = page.locator(f"#sheet-row-{figuresheet.HEADER_ROW + 1}")
    assert total_row.get_attribute("data-outcome") == "refused"
    reason = total_row.inner_text()
    assert "controles (477)" in reason and "320 + 150" in reason, reason
    assert page.locator("#sheet-apply").count() == 0
    assert _printed(server) == before

    # Filled in well: a lower bound with a range as one of its parts, declared complete.
    page.goto(f"{server.url}/monitor/editions/{server.edition}")
    with page.expect_download() as download:
        page.get_by_role("link", name="Cijferblad downloaden (XLSX)").click()
    download.value.save_as(sheet)
    _filled_sheet(
        sheet,
        {"controles": (">200", "volledig"), "controles.vergund": ("150",), "controles.overig": ("95-105",)},
    )  # fmt: skip
    _upload(page, server, sheet)
    assert page.locator("#sheet-count-change").inner_text() == "3"
    assert page.locator("#sheet-count-refused").inner_text() == "0"
    assert "> 200" in page.locator(f"#sheet-row-{figuresheet.HEADER_ROW + 1}").inner_text()
    assert "95–105" in page.locator(f"#sheet-row-{figuresheet.HEADER_ROW + 3}").inner_text()
    results = Axe().run(page, options=WCAG_21_AA)
    assert results.violations_count == 0, results.generate_report()
    assert _printed(server) == before  # a dry run
    with page.expect_navigation(url=lambda url: "/jobs/" in url):
        page.locator("#sheet-apply").click()
    page.locator("#sheet-applied").wait_for(timeout=30_000)
    assert "3 wijzigingen doorgevoerd" in page.locator("#sheet-applied-heading").inner_text()
    page.goto(f"{server.url}/monitor/editions/{server.edition}")
    total, vergund, overig = (server.figures[k] for k in ("total", "vergund", "overig"))
    row = page.locator(f"#figure-{total}").inner_text()
    assert "> 200" in row and "uitsplitsing volledig" in row, row
    assert "150" in page.locator(f"#figure-{vergund}").inner_text()
    assert "95–105" in page.locator(f"#figure-{overig}").inner_text()
    assert _printed(server) == {
        "controles": "> 200", "controles.vergund": "150", "controles.overig": "95–105"
    }  # fmt: skip
    assert errors == []
    context.close()
