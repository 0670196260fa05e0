"""Revalidation in a real browser: Chromium keeps pages (ETag, Cache-Control: private,
no-cache) and asks again on every visit; the server answers 304 while nothing changed, the
new page once something did, and never an htmx fragment for a whole page or the other way
round (docs/caching.md)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlmodel import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings
from tests.browser import LiveServer, sign_in_page
from tests.factories import PASSWORD, create_user, csrf_from, update_round
from tests.test_board import SLUG

pytestmark = pytest.mark.browser


class Answers:
    """What the server answered to each request (outermost, so it sees the 304s too)."""

    def __init__(self, app: ASGIApp, seen: list[dict[str, Any]]) -> None:
        self.app = app
        self.seen = seen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])

        async def record(message: Message) -> None:
            if message["type"] == "http.response.start":
                query = scope["query_string"].decode()
                self.seen.append(
                    {
                        "path": scope["path"] + (f"?{query}" if query else ""),
                        "status": message["status"],
                        "conditional": b"if-none-match" in headers,
                        "htmx": headers.get(b"hx-request") == b"true",
                    }
                )
            await send(message)

        await self.app(scope, receive, record)


@pytest.fixture
def server(seeded_settings: Settings) -> Iterator[LiveServer]:
    live = LiveServer(seeded_settings)
    live.answers = []  # type: ignore[attr-defined]
    live.app.add_middleware(Answers, seen=live.answers)  # type: ignore[attr-defined]
    with live as server:
        with Session(server.app.state.engine) as session:
            update = update_round(session, organisation="IND")
            server.viewer = create_user(session, "viewer")  # type: ignore[attr-defined]
            server.editor = update.editor_email  # type: ignore[attr-defined]
            server.period = update.period_id  # type: ignore[attr-defined]
            server.activity = update.activities[0]  # type: ignore[attr-defined]
        yield server


def _answers(server: LiveServer, path: str) -> list[dict[str, Any]]:
    return [answer for answer in server.answers if answer["path"] == path]  # type: ignore[attr-defined]


def _save_as_editor(server: LiveServer, explanation: str) -> None:
    """The editor changes the activity, in a browser session of their own (over HTTP)."""
    with httpx.Client(base_url=server.url, timeout=30, follow_redirects=True) as editor:
        form = editor.get("/sign-in")
        editor.post(
            "/sign-in",
            data={"email": server.editor, "password": PASSWORD, "csrftoken": csrf_from(form.text)},  # type: ignore[attr-defined]
        )
        page = editor.get(f"/activities/{server.activity}")  # type: ignore[attr-defined]
        version = re.search(r'name="based_on_version" value="(\d+)"', page.text)
        assert version, "the editor gets no form"
        saved = editor.post(
            f"/activities/{server.activity}/status",  # type: ignore[attr-defined]
            data={
                "csrftoken": csrf_from(page.text),
                "period_id": str(server.period),  # type: ignore[attr-defined]
                "status": "delayed",
                "explanation": explanation,
                "based_on_version": version.group(1),
                "context": "page",
            },
        )
        assert saved.status_code == 200, saved.text[:300]


def test_a_reloaded_page_is_revalidated_and_shows_a_change(browser, server) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="nl-NL")
    page = context.new_page()
    try:
        sign_in_page(page, server.url, server.viewer, PASSWORD)
        path = f"/activities/{server.activity}"
        page.goto(server.url + path)
        heading = page.locator("h1").inner_text()
        assert heading
        page.reload()
        # Nothing changed: the browser asked with the tag and got 304, and shows the page.
        last = _answers(server, path)[-1]
        assert last["conditional"] and last["status"] == 304, _answers(server, path)
        assert page.locator("h1").inner_text() == heading

        explanation = "Na een wijziging door de redacteur: vertraagd."
        assert explanation not in page.content()
        _save_as_editor(server, explanation)
        page.reload()
        last = _answers(server, path)[-1]
        assert last["conditional"] and last["status"] == 200
        assert explanation in page.locator("main").inner_text()
    finally:
        context.close()


def test_htmx_fragments_and_whole_pages_stay_apart(browser, server) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="nl-NL")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        sign_in_page(page, server.url, server.viewer, PASSWORD)
        path = f"/programmes/{SLUG}/activities"
        page.goto(server.url + path)
        page.wait_for_function("() => window.htmx !== undefined")
        every = page.locator("tbody tr").count()
        page.get_by_role("checkbox", name="In uitvoering maar met vertraging").check()
        page.wait_for_url("**status=delayed**")
        page.wait_for_function(f"() => document.querySelectorAll('tbody tr').length < {every}")
        filtered = page.locator("tbody tr").count()
        fragment_path = page.url.removeprefix(server.url)
        assert [a["htmx"] for a in _answers(server, fragment_path)] == [True]

        # The address htmx put in the bar, loaded as a page: the whole page, not the
        # fragment the browser kept for the same address.
        for _ in range(2):
            page.reload()
            assert page.locator("header .account-menu").count() == 1
            assert page.locator("form.filters").count() >= 1
            assert page.locator("tbody tr").count() == filtered
        answers = _answers(server, fragment_path)
        assert [a["htmx"] for a in answers] == [True, False, False]
        # Chromium asks for the page with the tag of the fragment it kept: the page's tag is
        # another, so the answer is the page; the reload after it gets a 304 of that page.
        assert answers[1]["conditional"] and answers[1]["status"] == 200
        assert answers[2]["conditional"] and answers[2]["status"] == 304

        # Back to the whole list: a whole page again, with every row.
        page.go_back()
        page.wait_for_function(f"() => document.querySelectorAll('tbody tr').length == {every}")
        assert page.locator("header .account-menu").count() == 1
        assert not errors, errors
    finally:
        context.close()
