"""The monitor's public edition page in a real browser: axe-core (WCAG 2.1 A/AA) in both
languages, no sideways scrolling at 375 px, and screenshots at 1280 and 375 px for a person
to look at (kept in SCREENSHOT_DIR when it is set)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlalchemy import select
from sqlmodel import Session, col

from app.config import Settings
from app.monitor.models import Edition
from app.monitor.seeding import load_monitor_files, monitor_seed_files
from app.seeding.service import SeedReport
from tests.browser import WCAG_21_AA, LiveServer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(databases) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    settings = Settings(
        database_url=databases.new("seeded"), secret_key="test-secret", _env_file=None
    )  # type: ignore[call-arg]
    with LiveServer(settings) as server:
        with Session(server.app.state.engine) as session:
            load_monitor_files(session, monitor_seed_files(), SeedReport())
            session.commit()
            server.editions = {  # type: ignore[attr-defined]
                e.title: e.id for e in session.scalars(select(Edition).order_by(col(Edition.id)))
            }
        yield server


def _paths(server: LiveServer) -> list[str]:
    ids = list(server.editions.values())  # type: ignore[attr-defined]
    return (
        ["/public/monitor/"]
        + [f"/public/monitor/{i}" for i in ids]
        + [f"/public/monitor/{ids[0]}/data"]
    )


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_monitor_pages_pass_axe_wcag21_aa(browser, server, language: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="nl-NL")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    for path in _paths(server):
        page.goto(f"{server.url}{path}?lang={language}")
        assert page.locator("html").get_attribute("lang") == language
        results = Axe().run(page, options=WCAG_21_AA)
        assert results.violations_count == 0, (path, results.generate_report())
    context.close()
    assert not errors, errors


# Whatever of a table does not fit its container or the window: a cell, a caption, the
# container itself. Scrolled sideways, a table's caption, values and columns were cut off at the
# screen's edge at 375 px with nothing to show that more was there (a chart's table of numbers
# and the open data's columns), so every table on these pages fits: narrow, the columns table
# stacks its rows.
_CLIPPED = """() => {
  const out = [];
  const view = document.documentElement.clientWidth;
  const name = (el) => el.tagName + (el.id ? "#" + el.id : "") + ": " + el.textContent.trim().slice(0, 40);
  for (const box of document.querySelectorAll("main .utrecht-table-container")) {
    const b = box.getBoundingClientRect();
    if (b.left < -0.5 || b.right > view + 0.5) out.push("container beyond the window: " + name(box));
    if (box.scrollWidth > box.clientWidth + 0.5) out.push("does not fit its container: " + name(box));
    for (const el of box.querySelectorAll("caption, th, td")) {
      // A stacked table's header row: visually hidden (clipped to 1 px), for screen readers.
      const head = el.closest("thead");
      if (head && getComputedStyle(head).position === "absolute") continue;
      if (el.scrollWidth > el.clientWidth + 0.5) out.push("overflows its cell: " + name(el));
      const r = el.getBoundingClientRect();
      if (r.right > b.right + 0.5 || r.left < b.left - 0.5) out.push("beyond its container: " + name(el));
    }
  }
  return out;
}"""


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("width", [1280, 375])
def test_the_edition_page_fits_and_is_photographed(
    browser, server, width: int, language: str
) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="nl-NL", viewport={"width": width, "height": 900})
    page = context.new_page()
    keep = os.environ.get("SCREENSHOT_DIR")
    for path in _paths(server):
        page.goto(f"{server.url}{path}?lang={language}")
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
        assert page.evaluate(_CLIPPED) == [], (path, language, width)
        # The chart for this width shows, the other not.
        charts = page.locator("svg.chart--narrow" if width < 600 else "svg.chart--wide")
        for index in range(charts.count()):
            assert charts.nth(index).is_visible(), (path, index)
        if keep:
            name = path.strip("/").replace("/", "-") or "index"
            suffix = "" if language == "nl" else f"-{language}"
            page.screenshot(path=str(Path(keep) / f"{name}-{width}{suffix}.png"), full_page=True)
    context.close()
