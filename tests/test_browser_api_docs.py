"""The interactive API documentation in a real browser: Swagger UI from static/vendor shows
every operation of the schema, within the Content-Security-Policy (no violation, nothing from
elsewhere), tries one out with the session, and passes an axe-core scan, at desktop and phone width."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlmodel import Session

from app.config import Settings
from tests.browser import WCAG_21_AA, LiveServer, sign_in_page
from tests.factories import PASSWORD, create_user

pytestmark = pytest.mark.browser


@pytest.fixture
def server(seeded_settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(seeded_settings) as server:
        with Session(server.app.state.engine) as session:
            server.viewer = create_user(session, "viewer")  # type: ignore[attr-defined]
        yield server


@pytest.mark.parametrize("width", [1280, 375])
def test_the_api_documentation_shows_every_operation_within_the_csp(browser, server, width) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="nl-NL", viewport={"width": width, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    # A CSP violation is reported as a console error; so is a failed load.
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    elsewhere: list[str] = []
    page.on(
        "request",
        lambda request: (
            None if request.url.startswith(server.url) else elsewhere.append(request.url)
        ),
    )
    sign_in_page(page, server.url, server.viewer, PASSWORD)
    page.goto(f"{server.url}/account")
    page.get_by_role("link", name="API-documentatie").click()
    page.wait_for_url("**/api-docs")
    page.locator(".opblock-summary-path").first.wait_for()
    schema = page.request.get(f"{server.url}/api/openapi.json").json()
    # Operations: a method and a path (a path can have more than one).
    expected = {
        (method.upper(), path) for path, methods in schema["paths"].items() for method in methods
    }
    assert len(expected) == 4
    page.wait_for_function(
        f"() => document.querySelectorAll('.opblock').length === {len(expected)}"
    )
    shown = {
        (
            block.locator(".opblock-summary-method").inner_text().strip(),
            block.locator(".opblock-summary-path").inner_text().replace("\u200b", "").strip(),
        )
        for block in page.locator(".opblock").all()
    }
    assert shown == expected

    # Try one out with the session: the answer is shown on the page.
    page.locator(".opblock-summary", has_text="/api/v1/programmes").first.click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    # The live answer, not the documented ones (which also list a 200).
    answer = page.locator(".live-responses-table", has_text="samen-tegen-mensenhandel")
    answer.wait_for()
    assert answer.locator("tr.response .response-col_status").first.inner_text().strip() == "200"

    results = Axe().run(page, options=WCAG_21_AA)
    assert results.violations_count == 0, results.generate_report()
    context.close()
    assert not problems, problems
    assert not elsewhere, elsewhere


def test_the_api_documentation_is_for_signed_in_users(browser, server) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="nl-NL")
    page = context.new_page()
    page.goto(f"{server.url}/api-docs")
    assert "/sign-in?next=%2Fapi-docs" in page.url
    context.close()


def test_a_change_tried_out_from_the_documentation_carries_the_csrf_token(browser, server) -> None:  # type: ignore[no-untyped-def]
    """static/api-docs.js adds the page's CSRF token to every request but a GET: a status
    change tried out as a signed-in coordinator is answered (200, or 409 for a version that
    is not the latest), not refused as a cross-site request (403)."""
    with Session(server.app.state.engine) as session:
        coordinator = create_user(session, "coordinator")
    context = browser.new_context(locale="nl-NL", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in_page(page, server.url, coordinator, PASSWORD)
    page.goto(f"{server.url}/api-docs")
    change = page.locator(".opblock-patch", has_text="/api/v1/activities/{activity_id}/status")
    change.locator(".opblock-summary").click()
    change.get_by_role("button", name="Try it out").click()
    change.locator('tr[data-param-name="activity_id"] input').fill("1")
    change.locator("textarea.body-param__text").fill(
        json.dumps(
            {"status": "completed", "explanation": "Uitgeprobeerd.", "based_on_version": None}
        )
    )
    with page.expect_response(
        lambda response: "/api/v1/activities/1/status" in response.url
    ) as sent:
        change.get_by_role("button", name="Execute").click()
    assert sent.value.request.method == "PATCH"
    assert sent.value.request.headers.get("x-csrftoken")
    assert sent.value.status in (200, 409), sent.value.text()
    answer = change.locator(".live-responses-table tr.response .response-col_status").first
    answer.wait_for()
    assert answer.inner_text().strip() in ("200", "409")
    context.close()
