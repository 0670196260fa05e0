"""The public site in a real browser, without an account: axe-core (WCAG 2.1 A/AA) on every
public page in both languages, keyboard use, the language switch, printing, and no script
errors."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlmodel import Session

from app.activities.models import Status
from app.config import Settings
from tests.browser import WCAG_21_AA, LiveServer
from tests.factories import open_round
from tests.test_board import SLUG
from tests.test_public import activity_ids, approved_change, period_id, publish

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(
    databases,  # type: ignore[no-untyped-def]
) -> Iterator[LiveServer]:
    """The seed programme with two published reports: 2021 from the seed, and 2022 with a few
    approved changes (so the summary has a comparison and its transition chart)."""
    settings = Settings(
        database_url=databases.new("seeded"), secret_key="test-secret", _env_file=None
    )  # type: ignore[call-arg]
    with LiveServer(settings) as server:
        with Session(server.app.state.engine) as session:
            ids = activity_ids(session, SLUG)
            round_id = open_round(session)
            approved_change(session, ids["4.4"], round_id, Status.completed, "De webcrawler is af.")
            approved_change(session, ids["1.1"], round_id, Status.delayed, "Vertraagd door ziekte.")
            publish(session, round_id)
            server.periods = {  # type: ignore[attr-defined]
                "2021": period_id(session, "Voortgangsrapportage 2021"),
                "2022": round_id,
            }
        yield server


@pytest.fixture
def page(browser, server):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="nl-NL")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    def on_console(message) -> None:  # type: ignore[no-untyped-def]
        # A 404 page reports its own status as a failed load; anything else is an error.
        if message.type == "error" and message.location.get("url") != page.url:
            errors.append(message.text)

    page.on("console", on_console)
    yield page
    context.close()
    assert not errors, errors


def _pages(server: LiveServer) -> list[str]:
    latest, first = server.periods["2022"], server.periods["2021"]  # type: ignore[attr-defined]
    return [
        "/public/",
        "/public/accessibility",
        f"/public/{SLUG}/{latest}",
        f"/public/{SLUG}/{first}",
        f"/public/{SLUG}/{latest}/action-lines/1",
        f"/public/{SLUG}/{latest}/table",
        f"/public/{SLUG}/{latest}/data",
        f"/public/{SLUG}/{latest}/summary.pdf",  # its job has not run: "being prepared"
        "/public/search?q=webcrawler",
        "/public/search?q=" + "x" * 201,  # refused: the message
        f"/public/{SLUG}/999999",
    ]


@pytest.mark.parametrize("language", ["nl", "en"])
def test_every_public_page_passes_axe_wcag21_aa(page, server, language: str) -> None:  # type: ignore[no-untyped-def]
    for path in _pages(server):
        separator = "&" if "?" in path else "?"
        page.goto(f"{server.url}{path}{separator}lang={language}")
        assert page.locator("html").get_attribute("lang") == language, path
        results = Axe().run(page, options=WCAG_21_AA)
        assert results.violations_count == 0, (path, results.generate_report())


def test_keyboard_reaches_the_skip_link_and_the_main_links_in_order(page, server) -> None:  # type: ignore[no-untyped-def]
    latest = server.periods["2022"]
    page.goto(f"{server.url}/public/{SLUG}/{latest}")
    focused = []
    for _ in range(11):
        page.keyboard.press("Tab")
        focused.append(
            page.evaluate("document.activeElement.textContent.trim().replace(/\\s+/g, ' ')")
        )
    assert focused == [
        "Naar de inhoud",
        "Voortgang Publieke rapportages",
        "",  # the search box
        "Zoeken",
        "English",
        "Publieke rapportages",
        "Samen tegen mensenhandel",
        "Volledige tabel",
        "Open data",
        "Aanbevelingen",
        "Samenvatting als PDF",
    ]
    # The skip link jumps over the header, straight to the report's own links.
    page.goto(f"{server.url}/public/{SLUG}/{latest}")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**#main")  # the jump is navigation: wait for it, not just look
    assert urlparse(page.url).fragment == "main"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Volledige tabel"
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/public/{SLUG}/{latest}/table")
    assert page.locator("h1").inner_text().endswith("volledige tabel")


def test_an_explanation_opens_from_the_keyboard(page, server) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server.url}/public/{SLUG}/{server.periods['2022']}/action-lines/1")
    details = page.locator(".public-activity details").first
    assert not details.evaluate("element => element.open")
    details.locator("summary").focus()
    page.keyboard.press("Enter")
    assert details.evaluate("element => element.open")
    assert details.locator(".explanation").is_visible()


# The summary used to list every activity of every action line: 20,000 px at 1280 px wide.
# Per action line it now shows counts and results: about 8,100 px at 1280 and 10,800 at 375
# for this report with its comparison (charts and tables of the changes); the limits leave
# room for longer titles.
SUMMARY_HEIGHT_LIMITS = {1280: 9000, 375: 12500}


@pytest.mark.parametrize("width", [1280, 375])
def test_the_summary_is_short_and_every_activity_is_one_click_away(
    page, server, width: int
) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size({"width": width, "height": 900})
    summary = f"{server.url}/public/{SLUG}/{server.periods['2022']}"
    page.goto(summary)
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < SUMMARY_HEIGHT_LIMITS[width], height
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.locator(".public-activity").count() == 0
    lines = page.locator(".action-line-summary__link a")
    assert lines.count() == 5
    reached: list[str] = []
    for index in range(lines.count()):
        page.goto(summary)
        page.locator(".action-line-summary__link a").nth(index).click()
        page.wait_for_url(f"**/action-lines/{index + 1}")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        reached += page.locator("li.public-activity").evaluate_all(
            "items => items.map(item => item.id)"
        )
    assert len(reached) == len(set(reached)) == 128
    # A result's link lands on that result on its action line's page.
    page.goto(summary)
    page.locator("#summary-result-4 a").click()
    page.wait_for_url("**/action-lines/1#result-4")
    assert page.locator("#result-4").is_visible()


@pytest.mark.parametrize("width", [1280, 375])
def test_searching_from_the_header_finds_and_marks_the_hits(page, server, width: int) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{server.url}/public/{SLUG}/{server.periods['2021']}")
    page.fill("#header-search-query", "Webcrawler")
    page.press("#header-search-query", "Enter")
    page.wait_for_url("**/public/search?q=Webcrawler")
    assert page.locator("h2").all_inner_texts() == [
        "Voortgangsrapportage 2022",
        "Voortgangsrapportage 2021",
    ]
    assert page.locator(".search-hit mark").first.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.locator(".search-hit__title a").first.click()
    page.wait_for_url("**/action-lines/1#activity-*")
    assert page.locator("h1").inner_text().startswith("Actielijn 1")


def test_language_switch_without_an_account(page, server) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server.url}/public/{SLUG}/{server.periods['2022']}")
    with page.expect_navigation():
        page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#narrative-heading").inner_text() == "In brief"
    # The programme's Dutch texts stay marked as Dutch.
    assert page.locator("h1 span").get_attribute("lang") == "nl"
    assert "/sign-in" not in page.url


def test_charts_are_drawn_and_described(page, server) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server.url}/public/{SLUG}/{server.periods['2022']}")
    for chart_id in ("chart-action-lines", "chart-transitions"):
        chart = page.locator(f"svg#{chart_id}")
        box = chart.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 100
        assert page.get_by_role("img", name=chart.locator("title").text_content()).count() == 1
    # The transition chart and table show the two approved changes of 2022.
    assert (
        "Eerder ‘In uitvoering maar met vertraging’"
        in page.locator("#chart-transitions desc").text_content()
    )
    assert page.locator("#changed-table tbody tr").count() == 2


def test_language_switch_returns_to_the_same_address(page, server) -> None:  # type: ignore[no-untyped-def]
    table = f"/public/{SLUG}/{server.periods['2022']}/table"
    page.goto(f"{server.url}{table}")  # the page is cached now, without a query string
    page.goto(f"{server.url}{table}?from=newsletter")
    page.get_by_role("link", name="English").click()
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    assert page.url == f"{server.url}{table}?from=newsletter"
    assert page.locator("h1").inner_text().endswith("full table")
    page.get_by_role("link", name="Nederlands").click()
    page.wait_for_function("() => document.documentElement.lang === 'nl'")
    assert page.url == f"{server.url}{table}?from=newsletter"


def test_printing_hides_the_navigation_and_shows_link_addresses(page, server) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server.url}/public/{SLUG}/{server.periods['2022']}/table")
    page.emulate_media(media="print")
    assert not page.locator(".report-nav").is_visible()
    assert not page.locator(".language-switch").is_visible()
    reference = page.locator(
        "a.reference-link[href^='https://zoek.officielebekendmakingen.nl']"
    ).first
    after = reference.evaluate("a => getComputedStyle(a, '::after').content")
    assert "https://zoek.officielebekendmakingen.nl/kst-" in after
    assert page.locator("thead").first.evaluate("t => getComputedStyle(t).display") == (
        "table-header-group"
    )


@pytest.mark.parametrize("width", [1280, 375])
def test_a_carried_over_status_says_so_beside_it_on_desktop_and_phone(
    page, server, width: int, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """2022 was published with 126 of its 128 statuses carried over from 2021: the notice
    says so at the top, and each of them reads "overgenomen, niet bevestigd" right under its
    status, in view at both widths (not colour: words); the two changed ones have no mark."""
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{server.url}/public/{SLUG}/{server.periods['2022']}/table")
    notice = page.locator("#unconfirmed-notice")
    assert notice.is_visible()
    assert notice.inner_text().startswith("Overgenomen, niet bevestigd: bij 126 van de 128")
    marks = page.locator("td .unconfirmed-note")
    assert marks.count() == 126
    first = page.locator("#action-line-1 tbody tr").nth(1)  # 1.2: carried over
    mark = first.locator(".unconfirmed-note")
    mark.scroll_into_view_if_needed()
    assert mark.is_visible() and mark.inner_text() == "overgenomen, niet bevestigd"
    # Under the status, in the same cell, inside the page.
    badge = first.locator("td .status").first.bounding_box()
    box = mark.bounding_box()
    assert badge is not None and box is not None
    assert box["y"] >= badge["y"] + badge["height"] - 1
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    changed = page.locator("#action-line-1 tbody tr").first  # 1.1: changed for 2022
    assert changed.locator(".unconfirmed-note").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=str(tmp_path / f"carried-over-{width}.png"))
