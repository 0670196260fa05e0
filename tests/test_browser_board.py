"""The board in a real browser: htmx filtering, keyboard use, and an axe-core scan."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlmodel import Session

from app.config import Settings
from tests.browser import WCAG_21_AA, LiveServer, sign_in_page
from tests.factories import PASSWORD, create_user
from tests.test_board import SLUG

pytestmark = pytest.mark.browser


@pytest.fixture
def server(seeded_settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(seeded_settings) as server:
        with Session(server.app.state.engine) as session:
            server.viewer = create_user(session, "viewer")  # type: ignore[attr-defined]
        yield server


@pytest.fixture
def page(browser, server):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="nl-NL")
    page = context.new_page()
    sign_in_page(page, server.url, server.viewer, PASSWORD)
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


def test_filter_updates_the_list_in_place_and_the_url(page, server) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server.url}/programmes/{SLUG}/activities")
    page.wait_for_function("() => window.htmx !== undefined")
    total = page.locator("tbody tr").count()
    assert total == 128
    # Mark the document: a full page load would lose this.
    page.evaluate("document.body.dataset.marker = 'same-page'")
    page.get_by_role("checkbox", name="In uitvoering maar met vertraging").check()
    page.wait_for_function("() => document.querySelectorAll('tbody tr').length < 128")
    statuses = page.locator("tbody tr .status").all_inner_texts()
    assert statuses and all("In uitvoering maar met vertraging" in s for s in statuses)
    assert page.evaluate("document.body.dataset.marker") == "same-page"
    assert parse_qs(urlparse(page.url).query)["status"] == ["delayed"]

    page.get_by_label("Zoeken in titels en toelichtingen").fill("covid")
    page.wait_for_url("**q=covid**")
    count_text = page.locator("#result-count").inner_text()
    assert "gevonden" in count_text
    assert page.evaluate("document.body.dataset.marker") == "same-page"

    # The URL is shareable: loading it fresh shows the same list.
    rows_now = page.locator("tbody tr").count()
    page.goto(page.url)
    assert page.locator("tbody tr").count() == rows_now
    assert page.get_by_role("checkbox", name="In uitvoering maar met vertraging").is_checked()


def test_filters_work_without_javascript(browser, server) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in_page(page, server.url, server.viewer, PASSWORD)
    page.goto(f"{server.url}/programmes/{SLUG}/activities")
    page.get_by_label("Actielijn", exact=True).select_option("4")
    page.get_by_role("button", name="Filters toepassen").click()
    page.wait_for_url("**action_line=4**")
    assert page.locator("tbody tr").count() == 7
    context.close()


def test_keyboard_user_reaches_the_content_and_the_filters(page, server) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server.url}/programmes/{SLUG}/activities")
    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    assert skip.inner_text() == "Naar de inhoud"
    page.keyboard.press("Enter")
    assert urlparse(page.url).fragment == "main"
    # Tab onwards from the main landmark into the search field, type, and submit with Enter.
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "filter-q":
            break
    assert page.evaluate("document.activeElement.id") == "filter-q"
    page.keyboard.type("webcrawler")
    page.keyboard.press("Enter")
    page.wait_for_url("**q=webcrawler**")
    page.wait_for_function("() => document.querySelectorAll('tbody tr').length === 1")


def test_language_switch_in_the_browser(page, server) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server.url}/programmes/{SLUG}")
    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    # (The first "Completed" on the page is in a chart's description, which is not drawn.)
    assert page.locator(".status-counts").first.get_by_text("Completed").is_visible()


def test_language_switch_follows_the_filters_htmx_put_in_the_address(page, server) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server.url}/programmes/{SLUG}/activities")
    page.wait_for_function("() => window.htmx !== undefined")
    page.get_by_role("checkbox", name="In uitvoering maar met vertraging").check()
    page.wait_for_url("**status=delayed**")
    page.get_by_role("link", name="English").click()
    page.wait_for_url("**status=delayed**")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("checkbox", name="In progress, delayed").is_checked()
    statuses = page.locator("tbody tr .status").all_inner_texts()
    assert statuses and all("In progress, delayed" in s for s in statuses)
    # And back to Dutch, the filters still set.
    page.get_by_role("link", name="Nederlands").click()
    page.wait_for_function("() => document.documentElement.lang === 'nl'")
    assert parse_qs(urlparse(page.url).query)["status"] == ["delayed"]
    assert page.get_by_role("checkbox", name="In uitvoering maar met vertraging").is_checked()


def test_result_page_shows_the_count_of_its_own_activities(page, server) -> None:  # type: ignore[no-untyped-def]
    """Result 4 of the real programme has 13 activities; its action line has 58."""
    page.goto(f"{server.url}/programmes/{SLUG}/results/4")
    page.wait_for_function("() => window.htmx !== undefined")
    summary = page.locator("#status-summary")
    assert "Resultaat 4" in summary.get_by_role("heading").inner_text()
    total = summary.locator(".status-counts__total")
    assert total.is_visible() and total.inner_text() == "Totaal: 13"
    assert page.locator("tbody tr").count() == 13
    # After an edit in place the counts refresh (htmx); they stay this result's.
    page.evaluate("document.body.dataset.marker = 'same-page'")
    page.evaluate("document.querySelector('#status-summary').dataset.old = 'yes'")
    with page.expect_response(lambda response: "/summary?" in response.url) as refreshed:
        page.evaluate("htmx.trigger(document.body, 'statusChanged')")
    assert "result=4" in refreshed.value.url
    # The section is swapped for the new one (outerHTML): wait until the old one is gone.
    page.wait_for_function(
        "() => { const s = document.querySelector('#status-summary');"
        " return s !== null && s.dataset.old === undefined; }"
    )
    assert page.locator("#status-summary .status-counts__total").inner_text() == "Totaal: 13"
    assert page.evaluate("document.body.dataset.marker") == "same-page"


PAGES = [
    f"/programmes/{SLUG}",
    f"/programmes/{SLUG}/activities",
    f"/programmes/{SLUG}/activities?status=delayed&q=covid",
    f"/programmes/{SLUG}/action-lines/3",
    f"/programmes/{SLUG}/results/25",
    f"/programmes/{SLUG}/results/4",
    "/activities/1",
    "/activities/999999",
]


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("path", PAGES)
def test_pages_pass_axe_wcag21_aa(page, server, path: str, language: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server.url}{path}{'&' if '?' in path else '?'}lang={language}")
    results = Axe().run(page, options=WCAG_21_AA)
    assert results.violations_count == 0, results.generate_report()
