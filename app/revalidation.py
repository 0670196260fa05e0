"""Revalidation and compression of pages and API lists (docs/caching.md).

A page is the same as long as the data revision (app/cache.py), the user who asks, the
language, the browser's CSRF token, the address and the htmx headers are the same. So its
entity tag is a digest of those, worked out before the route runs: a request whose
`If-None-Match` holds it is answered 304 without rendering anything, and the page itself is
sent with the tag and `Cache-Control: private, no-cache` (the browser keeps it, and asks again
every time).

The tags are weak (`W/"…"`): the same page is sent gzip-compressed or not, byte for byte
different but the same page (RFC 9110 8.8.1), and If-None-Match compares weakly anyway
(RFC 9110 13.1.2). Only the routes named in REVALIDATED get tags: pages whose every part
follows the data revision. Responses that set a cookie, that are not 200, or that set their
own Cache-Control get none.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterable
from typing import Any, cast

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import Response
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel import Session
from starlette.datastructures import MutableHeaders
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.cache import DATA_REVISION_ID, SESSION_REVISION_ID
from app.db import DatabaseBusy
from app.permissions import current_user, iter_routes, may_visit, resolve_user

CACHE_CONTROL = "private, no-cache"
# What a tagged page varies by besides its address: the htmx headers (a fragment or the whole
# page), the cookies (who is signed in, the language, the CSRF token) and the bearer token
# (resolve_user accepts one on every route, so the user in the tag may come from it). Every
# tagged answer, 200 or 304, compressed or not, also says Accept-Encoding: the same Vary
# for the page and its revalidation (RFC 9110 15.4.5).
PAGE_VARY = ("HX-Request", "HX-History-Restore-Request", "Cookie", "Authorization")
API_VARY = ("Authorization", "Cookie")

# Route name → why its answer follows the data revision and nothing else. Every other route
# is left as it is: the account pages and the sign-in (no-store, sessions), administration
# (invitations and the audit log are not data revision), a period's page (its reminders and
# their sending jobs), jobs and files (their own ETag), exports, the imports and the
# generated stylesheet (its own Cache-Control).
REVALIDATED: dict[str, str] = {
    "home": "the programmes",
    "programme_board": "the board, and an editor's to-do list",
    "action_line": "an action line's activities",
    "result": "a result's activities",
    "activity_list": "the list of activities and its filters",
    "status_summary": "the counts (an htmx fragment)",
    "activity": "an activity, its history and review notes",
    "activity_history": "an activity's history (an htmx fragment)",
    "activity_row": "one row of a list (an htmx fragment)",
    "edit_status_form": "the form, with the version it changes",
    "periods": "a programme's reporting periods",
    "period_progress": "completeness per organisation",
    "my_todo": "an editor's to-do list",
    "publish_confirm": "the publication check",
    "review": "the proposals to review",
    "period_compare": "two periods compared",
    "api_programmes": "the API's programmes",
    "api_activities": "the API's activities",
    "api_period_compare": "the API's comparison",
    "public_index": "the public site (published reports only)",
    "public_accessibility": "the public site's accessibility statement",
    "public_search": "a search of the published reports",
    "public_programme": "a programme's published reports",
    "public_summary": "a published report's summary",
    "public_action_line": "a published action line",
    "public_table": "a published table",
    "public_data": "a published report's open data page",
}

_TAG_STATE = "voortgang.entity_tag"
# The paths whose route the middleware remembers (then it starts again).
MAX_REMEMBERED_PATHS = 4096

# Already compressed downloads (and what Starlette leaves alone by default): compressing them
# again costs time and saves nothing.
COMPRESSED_TYPES = (
    *DEFAULT_EXCLUDED_CONTENT_TYPES,
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.text",
)
# Smaller bodies gain too little to be worth the work (Starlette's default).
COMPRESS_MINIMUM_BYTES = 500
# The real list page (187 KB) becomes 34 KB in 1.8 ms of CPU at level 4; at zlib's default
# 6 it is 32 KB in 3.7 ms, at 1 39 KB in 1.0 ms (docs/caching.md): the CPU is the scarcer.
COMPRESS_LEVEL = 4


class NotModified(Exception):
    """The browser's copy is current: answered 304, before the route renders anything."""

    def __init__(self, tag: str, vary: str) -> None:
        self.tag = tag
        self.vary = vary


def _user_view(request: Request) -> tuple[Any, ...]:
    """What of the user a page shows or decides by: who they are (the header shows their
    name), their role and organisations (the links and change links)."""
    user = current_user(request)
    if user is None:
        return ()
    return (user.id, user.email, user.name, str(user.role), tuple(sorted(user.organisation_ids)))


def entity_tag(request: Request) -> str:
    """The page's tag: a digest of everything the page is made from. The data revision was
    read, and the user found, by the route rule (app/permissions.py) that runs first."""
    scope = request.scope
    # The first of each header, as Request.headers.get finds it (one pass, not one each).
    headers: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        if name in _TAG_HEADERS:
            headers.setdefault(name, value)
    parts = (
        scope.get("root_path", ""),
        scope["path"],
        scope.get("query_string", b""),
        headers.get(b"host", b"").decode("latin-1"),
        scope.get("scheme", ""),
        request.state.revision,
        _user_view(request),
        scope.get("state", {}).get("language", ""),
        request.cookies.get("csrftoken", ""),
        headers.get(b"hx-request", b"").decode("latin-1"),
        headers.get(b"hx-history-restore-request", b"").decode("latin-1"),
    )
    digest = hashlib.blake2b(
        repr(parts).encode(), digest_size=16, key=request.app.state.tag_key
    ).hexdigest()
    return f'W/"{digest}"'


# The request headers a tag is made of.
_TAG_HEADERS = frozenset((b"host", b"hx-request", b"hx-history-restore-request"))


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def matches(if_none_match: str, tag: str) -> bool:
    """Weak comparison (RFC 9110 13.1.2): the opaque parts are equal, W/ or not."""
    wanted = _opaque(tag)
    return any(_opaque(candidate) == wanted for candidate in if_none_match.split(","))


async def revalidate(request: Request) -> None:
    """App-wide dependency, after the route rule: a revalidated route's tag, and 304 when the
    browser already has it. (Async: nothing here touches the database.)"""
    route = request.scope.get("route")
    name = getattr(route, "name", "")
    if name not in REVALIDATED or request.method not in ("GET", "HEAD"):
        return
    if not hasattr(request.state, "revision"):  # the route rule did not run (cannot happen)
        return
    tag = entity_tag(request)
    if_none_match = request.headers.get("if-none-match")
    if if_none_match and matches(if_none_match, tag):
        raise NotModified(tag, _vary(request))
    request.scope["state"][_TAG_STATE] = (tag, _vary(request))


def _vary(request: Request) -> str:
    return ", ".join(API_VARY if request.scope["path"].startswith("/api/") else PAGE_VARY)


def not_modified_response(tag: str, vary: str) -> Response:
    # A 304 carries the headers the 200 would have (RFC 9110 15.4.5).
    return Response(
        status_code=304,
        headers={"ETag": tag, "Cache-Control": CACHE_CONTROL, "Vary": f"{vary}, Accept-Encoding"},
    )


def download_tag(sha256: str, media_type: str) -> str:
    """The ETag of a stored download: strong (the bytes' digest) for a type never compressed,
    weak for one the compression may gzip (text/csv, application/json, …), as those bytes then
    differ from the digest's (RFC 9110 8.8.3)."""
    kind = media_type.partition(";")[0].strip().lower()
    # As GZipMiddleware decides: the type itself or its "major/*" is excluded.
    compressed = not {kind, kind.partition("/")[0] + "/*"}.isdisjoint(COMPRESSED_TYPES)
    return f'"{sha256}"' if compressed else f'W/"{sha256}"'


async def not_modified(request: Request, error: Exception) -> Response:
    assert isinstance(error, NotModified)
    return not_modified_response(error.tag, error.vary)


class RevalidationMiddleware:
    """Answers a revalidation before the app: a GET or HEAD of a revalidated route with
    If-None-Match gets its 304 here when the tag still matches, after one trip to the database
    (the revisions, and the session's user from the revision cache: the route rule's own
    functions) and none through the routing, dependencies or templates. Anything else, and
    whatever this cannot decide (a user the route rule would refuse, a busy database), goes on
    to the app, where the dependency above decides the same way.

    On the way out it puts the tag the dependency worked out on the response: a 200 that sets
    no cookie and no Cache-Control of its own. It sits outside asgi-csrf, so that it sees the
    CSRF cookie being set (a page with a new token is for this response only)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._routes: list[BaseRoute] | None = None
        self._route_names: dict[str, str] = {}
        self._reader: RevisionReader | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        if scope["method"] in ("GET", "HEAD"):
            if_none_match = _header(scope, b"if-none-match")
            if if_none_match and await self._still_current(scope, if_none_match, send):
                return

        async def send_with_tag(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                found = state.get(_TAG_STATE)
                if found is not None:
                    headers = MutableHeaders(scope=message)
                    if "set-cookie" not in headers and "cache-control" not in headers:
                        tag, vary = found
                        headers["ETag"] = tag
                        headers["Cache-Control"] = CACHE_CONTROL
                        _add_vary(headers, [*vary.split(", "), "Accept-Encoding"])
            await send(message)

        await self.app(scope, receive, send_with_tag)

    async def _still_current(self, scope: Scope, if_none_match: str, send: Send) -> bool:
        """Sent a 304 (the browser's copy is current)?"""
        name = self._route_name(scope)
        if name not in REVALIDATED:
            return False
        # A request of its own (the app's gets the scope as it came).
        request = Request({**scope, "state": dict(scope["state"])})
        app = scope["app"]
        if self._reader is None:
            self._reader = RevisionReader(app.state.engine)
        try:
            if self._reader.in_event_loop:
                found = self._reader.find_user(request)
            else:
                async with app.state.database_turns.turn():
                    found = await anyio.to_thread.run_sync(self._reader.find_user, request)
        except (DatabaseBusy, PoolTimeout, OperationalError, sqlite3.Error):
            return False  # the app answers (a 503 when the database stays busy)
        if not found or not may_visit(current_user(request), name):
            return False  # the app answers (to sign in, or refused)
        tag = entity_tag(request)
        if not matches(if_none_match, tag):
            return False
        # What not_modified_response sends, without a Response made for it.
        await send(
            {
                "type": "http.response.start",
                "status": 304,
                "headers": [
                    (b"etag", tag.encode("latin-1")),
                    (b"cache-control", CACHE_CONTROL.encode("latin-1")),
                    (b"vary", f"{_vary(request)}, Accept-Encoding".encode("latin-1")),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})
        return True

    def _route_name(self, scope: Scope) -> str:
        """The name of the route the app's router would pick for this path (the first that
        matches; kept per path, a few thousand at most)."""
        path = scope["path"]
        name = self._route_names.get(path)
        if name is not None:
            return name
        if self._routes is None:
            self._routes = list(iter_routes(scope["app"].routes))
        name = ""
        for route in self._routes:
            match, _ = route.matches(scope)
            if match == Match.FULL:
                name = getattr(route, "name", "") or ""
                break
        if len(self._route_names) >= MAX_REMEMBERED_PATHS:
            self._route_names.clear()
        self._route_names[path] = name
        return name


# The query of app/cache.py's current_revisions, on the driver's connection: through an ORM
# session it costs several times as much, and here it is nearly all the work of a 304.
REVISIONS_QUERY = (
    f"SELECT id, revision FROM data_revision WHERE id IN ({DATA_REVISION_ID}, "
    f"{SESSION_REVISION_ID})"
)


class _NeedsTheDatabase(Exception):
    pass


class _NoSession:
    """Stands in for a session where none may be used: the user is not in the revision cache
    (or signs in with an API token), so the app finds them."""

    def __getattr__(self, name: str) -> Any:
        raise _NeedsTheDatabase(name)


class RevisionReader:
    """What the route rule finds first (app/permissions.py, with its own functions): the
    revisions, and the user.

    On a SQLite file this is a connection of its own, read in the event loop: a read of one
    row that never waits (WAL: readers do not wait for writers; busy timeout 0, so a busy
    database is an error at once, and then the app answers), cheaper than a trip through the
    thread pool. The user then comes from the revision cache only. Elsewhere (PostgreSQL, a
    network away) it runs in the thread pool in the request's turn, on a pooled connection,
    and may look a session up."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        database = engine.url.database
        self.in_event_loop = engine.dialect.name == "sqlite" and database not in (
            None,
            "",
            ":memory:",
        )
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.Lock()  # one app may serve from more than one event loop

    def _revisions(self) -> dict[int, int]:
        if self.in_event_loop:
            with self._lock:
                if self._connection is None:
                    self._connection = sqlite3.connect(
                        str(self.engine.url.database), timeout=0, check_same_thread=False
                    )
                return dict(self._connection.execute(REVISIONS_QUERY).fetchall())
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(REVISIONS_QUERY)
            found = dict(cursor.fetchall())
            cursor.close()
        finally:
            connection.close()
        return found

    def find_user(self, request: Request) -> bool:
        """Put the revisions and the user in the request's state; False: the app has to."""
        found = self._revisions()
        request.state.revision = int(found[DATA_REVISION_ID])
        request.state.session_revision = int(found[SESSION_REVISION_ID])
        if self.in_event_loop:
            try:
                request.state.user = resolve_user(request, cast(Session, _NoSession()))
            except _NeedsTheDatabase:
                return False
            return True
        with Session(self.engine) as session:
            request.state.user = resolve_user(request, session)
        return True


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return ""


def _add_vary(headers: MutableHeaders, names: Iterable[str]) -> None:
    present = [part.strip() for part in headers.get("vary", "").split(",") if part.strip()]
    known = {part.lower() for part in present}
    headers["Vary"] = ", ".join(present + [name for name in names if name.lower() not in known])


def install_revalidation(app: FastAPI, secret_key: str) -> None:
    """The 304 answer, the tags on responses and the compression. Call between adding the CSRF
    middleware and the outermost one: compression and tags go on outside asgi-csrf."""
    app.state.tag_key = hashlib.blake2b(
        b"entity-tag:" + secret_key.encode(), digest_size=32
    ).digest()
    app.add_exception_handler(NotModified, not_modified)
    app.add_middleware(
        GZipMiddleware,
        minimum_size=COMPRESS_MINIMUM_BYTES,
        compresslevel=COMPRESS_LEVEL,
        exclude_content_types=COMPRESSED_TYPES,
    )
    # Outside the compression: a 304 has nothing to compress.
    app.add_middleware(RevalidationMiddleware)
