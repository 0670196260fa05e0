"""The board's page cache: the read-model's answers and whole rendered pages, kept in the app's
revision cache (see app/cache.py), so a page is only built anew after the data changed."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Hashable
from typing import TypeVar

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from app import readmodel
from app.cache import RevisionCache
from app.i18n import get_language
from app.permissions import current_user
from app.web import csrf_token

T = TypeVar("T")


class CachedReads:
    """The read-model through the revision cache, for one request: one small query for the
    data revision (made by the permission check that runs first), then the same answers as
    the read-model."""

    def __init__(self, session: Session, cache: RevisionCache, revision: int) -> None:
        self.session = session
        self.cache = cache
        self.revision = revision

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        return self.cache.get_or_build(self.revision, key, build)

    def programme(self, slug: str) -> readmodel.ProgrammeRow:
        return self.get(("programme", slug), lambda: readmodel.get_programme(self.session, slug))

    def periods(self, programme_id: int) -> list[readmodel.PeriodRow]:
        return self.get(
            ("periods", programme_id), lambda: readmodel.list_periods(self.session, programme_id)
        )

    def board(
        self, programme: readmodel.ProgrammeRow, period: readmodel.PeriodRow | None
    ) -> readmodel.Board:
        key = ("board", programme.id, period)
        return self.get(key, lambda: readmodel.board(self.session, programme, period))


# Stands in for the CSRF token in a cached page: the token belongs to the browser, the rest of
# the page to the data revision, the user and the address.
_TOKEN_PLACEHOLDER = "csrf-" + secrets.token_hex(16)


def cached_page(request: Request, reads: CachedReads, build: Callable[[], Response]) -> Response:
    """A whole page from the revision cache, for this user, language and address, with this
    browser's CSRF token put in."""
    token = csrf_token(request)  # also makes sure the browser gets the token cookie
    user = current_user(request)
    key = ("page", user.id if user else None, get_language(), request.url.path, request.url.query)

    def render_page() -> str:
        getter = request.scope.get("csrftoken")
        request.scope["csrftoken"] = lambda: _TOKEN_PLACEHOLDER
        try:
            return bytes(build().body).decode()
        finally:
            request.scope["csrftoken"] = getter

    html = reads.get(key, render_page).replace(_TOKEN_PLACEHOLDER, token)
    return HTMLResponse(html, headers={"Vary": "HX-Request"})
