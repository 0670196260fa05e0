"""Revalidation (ETag, If-None-Match, 304) and compression of pages and API lists, and the
CSRF token masked per response against BREACH (docs/caching.md).

A tag follows everything a page is made from: the data revision, the user, the language, the
CSRF cookie, the address and the htmx headers; a matching If-None-Match is answered 304
before the route renders anything."""

from __future__ import annotations

import gzip
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from bs4 import BeautifulSoup
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, col

from app.accounts.models import Role, UserSession
from app.accounts.service import create_api_token, deactivate, get_user_by_email, set_role
from app.config import Settings
from app.csrf_masking import mask_token, unmask_token
from app.db import make_engine
from app.jobs.models import StoredFile
from app.jobs.service import store_file
from app.main import create_app
from app.permissions import ROUTE_RULES, SESSION_COOKIE, enforce_route_rule, iter_routes
from app.revalidation import (
    CACHE_CONTROL,
    REVALIDATED,
    RevalidationMiddleware,
    download_tag,
    revalidate,
)
from app.web import templates
from tests.factories import (
    PASSWORD,
    create_programme,
    create_user,
    csrf_from,
    sign_in,
    update_round,
)
from tests.processes import AppProcess
from tests.test_board import SLUG

SMALL = "test-programme"


@pytest.fixture
def small_app(settings: Settings, session: Session) -> Iterator[FastAPI]:
    """A small programme whose period 1 is open for updates (ORG-A and ORG-B)."""
    create_programme(session, action_lines=1, results_per_line=1, activities_per_result=4)
    # No page cache: a page that is rendered is rendered, not taken from the cache.
    app = create_app(settings.model_copy(update={"cache_size": 0}))
    yield app
    app.state.engine.dispose()


def _client(app: FastAPI, session: Session, role: str, organisations=()) -> TestClient:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    sign_in(client, create_user(session, role, organisations))
    return client


def _activity_id(client: TestClient) -> int:
    page = client.get(f"/programmes/{SMALL}/activities")
    found = re.search(r'href="/activities/(\d+)"', page.text)
    assert found, "no activity in the list"
    return int(found.group(1))


class TemplateCounter:
    """Counts every template the app looks up to render (pages and fragments alike)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.names: list[str] = []
        original = templates.env.get_template

        def counting(name: Any, *args: Any, **kwargs: Any) -> Any:
            self.names.append(str(name))
            return original(name, *args, **kwargs)

        monkeypatch.setattr(templates.env, "get_template", counting)


def test_pages_send_a_weak_tag_and_private_no_cache(small_app: FastAPI, session: Session) -> None:
    with _client(small_app, session, "coordinator") as client:
        activity = _activity_id(client)
        for path in (
            f"/programmes/{SMALL}",
            f"/programmes/{SMALL}/activities",
            f"/programmes/{SMALL}/activities?status=delayed&q=x",
            f"/activities/{activity}",
            f"/programmes/{SMALL}/periods",
            "/periods/1/review",
            "/periods/1/progress",
            "/api/v1/programmes",
            f"/api/v1/programmes/{SMALL}/activities",
        ):
            response = client.get(path)
            assert response.status_code == 200, path
            assert re.fullmatch(r'W/"[0-9a-f]{32}"', response.headers["etag"]), path
            assert response.headers["cache-control"] == CACHE_CONTROL, path
            vary = {part.strip() for part in response.headers["vary"].split(",")}
            assert "Cookie" in vary, path
            assert ("Authorization" if path.startswith("/api/") else "HX-Request") in vary, path


@pytest.mark.parametrize("where", ["middleware", "dependency"])
def test_a_matching_tag_is_answered_304_without_rendering(
    small_app: FastAPI,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
) -> None:
    if where == "dependency":
        # Without the middleware's answer, the app's dependency answers the same, still
        # before the route.
        async def never(*args: Any) -> bool:
            return False

        monkeypatch.setattr(RevalidationMiddleware, "_still_current", never)
    with _client(small_app, session, "editor", ("ORG-A",)) as client:
        activity = _activity_id(client)
        counter = TemplateCounter(monkeypatch)
        for path in (
            f"/programmes/{SMALL}",
            f"/programmes/{SMALL}/activities?status=delayed",
            f"/activities/{activity}",
            f"/api/v1/programmes/{SMALL}/activities",
        ):
            first = client.get(path)
            tag = first.headers["etag"]
            counter.names.clear()
            again = client.get(path, headers={"If-None-Match": tag})
            assert again.status_code == 304, path
            assert again.content == b"" and "content-length" not in again.headers
            assert counter.names == [], (path, counter.names)
            assert again.headers["etag"] == tag
            assert again.headers["cache-control"] == CACHE_CONTROL
            assert "Accept-Encoding" in again.headers["vary"]
            # The security headers are there too.
            assert again.headers["x-frame-options"] == "DENY"
            # Among others, and without W/ (weak comparison).
            listed = client.get(
                path, headers={"If-None-Match": f'"other", {tag.removeprefix("W/")}'}
            )
            assert listed.status_code == 304
            # A page no longer current is rendered as usual.
            stale = client.get(path, headers={"If-None-Match": 'W/"0"'})
            assert stale.status_code == 200 and stale.content
            assert counter.names or path.startswith("/api/"), path


def test_the_tag_changes_with_a_save(small_app: FastAPI, session: Session) -> None:
    viewer = _client(small_app, session, "viewer")
    editor = _client(small_app, session, "editor", ("ORG-A",))
    with viewer, editor:
        activity = _activity_id(editor)
        path = f"/programmes/{SMALL}/activities"
        before = viewer.get(path)
        tag = before.headers["etag"]
        assert viewer.get(path, headers={"If-None-Match": tag}).status_code == 304
        page = editor.get(f"/activities/{activity}")
        saved = editor.post(
            f"/activities/{activity}/status",
            data={
                "csrftoken": csrf_from(page.text),
                "period_id": "1",
                "status": "delayed",
                "explanation": "Een nieuwe toelichting na de wijziging.",
                "based_on_version": "1",
                "context": "page",
            },
            follow_redirects=False,
        )
        assert saved.status_code == 303
        # POST answers are not tagged.
        assert "etag" not in saved.headers
        after = viewer.get(path, headers={"If-None-Match": tag})
        assert after.status_code == 200
        assert "Een nieuwe toelichting na de wijziging." in after.text
        assert after.headers["etag"] != tag
        # And the activity's own page too.
        assert editor.get(f"/activities/{activity}").headers["etag"] != page.headers["etag"]


def test_the_tag_is_the_users(small_app: FastAPI, session: Session) -> None:
    path = f"/programmes/{SMALL}/activities"
    first = _client(small_app, session, "viewer")
    second = _client(small_app, session, "viewer")
    coordinator = _client(small_app, session, "coordinator")
    with first, second, coordinator:
        # The same CSRF cookie for all three: only the user differs.
        token = first.cookies["csrftoken"]
        second.cookies.set("csrftoken", token)
        coordinator.cookies.set("csrftoken", token)
        tags = {client.get(path).headers["etag"] for client in (first, second, coordinator)}
        assert len(tags) == 3
        mine = first.get(path).headers["etag"]
        theirs = second.get(path, headers={"If-None-Match": mine})
        assert theirs.status_code == 200
        assert theirs.headers["etag"] != mine


def test_the_tag_follows_the_language_and_the_csrf_cookie(
    small_app: FastAPI, session: Session
) -> None:
    path = f"/programmes/{SMALL}"
    with _client(small_app, session, "viewer") as client:
        dutch = client.get(path)
        english = client.get(path + "?lang=en", headers={"If-None-Match": dutch.headers["etag"]})
        assert english.status_code == 200 and english.headers["content-language"] == "en"
        assert english.headers["etag"] != dutch.headers["etag"]
        client.cookies.set("lang", "en")
        by_cookie = client.get(path, headers={"If-None-Match": dutch.headers["etag"]})
        assert by_cookie.status_code == 200 and by_cookie.headers["content-language"] == "en"
        client.cookies.delete("lang")
        # Another CSRF cookie: the page's forms carry another token.
        other = TestClient(small_app)
        other.get("/sign-in")
        client.cookies.set("csrftoken", other.cookies["csrftoken"])
        renewed = client.get(path, headers={"If-None-Match": dutch.headers["etag"]})
        assert renewed.status_code == 200
        assert renewed.headers["etag"] != dutch.headers["etag"]
        token = unmask_token(csrf_from(renewed.text))
        assert token == other.cookies["csrftoken"]


def test_a_page_with_a_new_csrf_cookie_gets_no_tag(small_app: FastAPI, session: Session) -> None:
    """Without the CSRF cookie the page gets a new token, set as the cookie with it: that page
    is for this response only."""
    with _client(small_app, session, "viewer") as client:
        path = f"/programmes/{SMALL}"
        tag = client.get(path).headers["etag"]
        client.cookies.delete("csrftoken")
        fresh = client.get(path)
        assert fresh.status_code == 200
        assert "csrftoken=" in fresh.headers["set-cookie"]
        assert "etag" not in fresh.headers
        client.cookies.delete("csrftoken")
        assert client.get(path, headers={"If-None-Match": tag}).status_code == 200


def test_htmx_fragments_have_tags_of_their_own(small_app: FastAPI, session: Session) -> None:
    with _client(small_app, session, "viewer") as client:
        activity = _activity_id(client)
        for path in (f"/activities/{activity}/history", f"/programmes/{SMALL}/activities"):
            page = client.get(path)
            fragment = client.get(path, headers={"HX-Request": "true"})
            assert "<html" in page.text and "<html" not in fragment.text, path
            assert fragment.headers["etag"] != page.headers["etag"], path
            for response in (page, fragment):
                assert "HX-Request" in response.headers["vary"], path
            # The page's tag does not answer the fragment, nor the other way round.
            crossed = client.get(
                path, headers={"HX-Request": "true", "If-None-Match": page.headers["etag"]}
            )
            assert crossed.status_code == 200 and "<html" not in crossed.text
            back = client.get(path, headers={"If-None-Match": fragment.headers["etag"]})
            assert back.status_code == 200 and "<html" in back.text
            restore = client.get(
                path,
                headers={
                    "HX-Request": "true",
                    "HX-History-Restore-Request": "true",
                    "If-None-Match": fragment.headers["etag"],
                },
            )
            assert restore.status_code == 200 and "<html" in restore.text


def test_a_signed_out_browser_gets_no_304(small_app: FastAPI, session: Session) -> None:
    with _client(small_app, session, "viewer") as client:
        path = f"/programmes/{SMALL}"
        tag = client.get(path).headers["etag"]
        page = client.get(path)
        client.post("/sign-out", data={"csrftoken": csrf_from(page.text)})
        after = client.get(path, headers={"If-None-Match": tag}, follow_redirects=False)
        assert after.status_code == 303 and after.headers["location"].startswith("/sign-in")


def test_the_api_revalidates_with_a_bearer_token(small_app: FastAPI, session: Session) -> None:
    user = get_user_by_email(session, create_user(session, "viewer"))
    _, secret = create_api_token(session, user, name="revalidatie")
    session.commit()
    path = f"/api/v1/programmes/{SMALL}/activities"
    with TestClient(small_app) as api:
        auth = {"Authorization": f"Bearer {secret}"}
        first = api.get(path, headers=auth)
        assert first.status_code == 200 and first.json()
        tag = first.headers["etag"]
        assert "Authorization" in first.headers["vary"]
        assert api.get(path, headers={**auth, "If-None-Match": tag}).status_code == 304
        assert api.get(path, headers={"If-None-Match": tag}).status_code == 401


def test_pages_that_must_not_be_kept_keep_their_headers(
    small_app: FastAPI, session: Session
) -> None:
    with _client(small_app, session, "admin") as client:
        # The periods' list is revalidated; a period's own page (its reminders) is not.
        assert client.get(f"/programmes/{SMALL}/periods").headers["etag"]
        for path in ("/account", "/periods/1", "/admin/users", "/admin/audit", "/periods/1/import"):
            response = client.get(path)
            assert response.status_code == 200, path
            assert "etag" not in response.headers, path
            assert "cache-control" not in response.headers, path
        stylesheet = client.get("/assets/status.css")
        assert stylesheet.headers["cache-control"] == "public, max-age=3600"
        assert "etag" not in stylesheet.headers
    with TestClient(small_app) as anonymous:
        for path in ("/sign-in", "/password/forgot"):
            response = anonymous.get(path)
            assert "etag" not in response.headers, path
        assert anonymous.get("/password/forgot").headers["cache-control"] == "no-store"


def test_every_revalidated_route_is_a_page_or_list_that_can_be_read(small_app: FastAPI) -> None:
    routes = {
        route.name: route
        for route in iter_routes(small_app.routes)
        if "GET" in (getattr(route, "methods", None) or ())
    }
    assert REVALIDATED, "nothing is revalidated"
    for name in REVALIDATED:
        assert name in routes, name
        assert name in ROUTE_RULES, name
    # The dependency that answers 304 and tags the page runs for every route, after the route
    # rule (which reads the revisions and finds the user).
    app_wide = [depends.dependency for depends in small_app.router.dependencies]
    assert revalidate in app_wide
    assert app_wide.index(enforce_route_rule) < app_wide.index(revalidate)
    never = {"account", "sign_in_form", "period", "job", "stored_file", "admin_audit_csv"}
    assert not never & set(REVALIDATED)


def test_public_pages_revalidate_for_anonymous_visitors(seeded_app: FastAPI) -> None:
    with TestClient(seeded_app) as anonymous:
        for path in ("/public/", f"/public/{SLUG}/", "/public/search?q=mensenhandel"):
            first = anonymous.get(path)
            assert first.status_code == 200, path
            assert "set-cookie" not in first.headers, path
            tag = first.headers["etag"]
            again = anonymous.get(path, headers={"If-None-Match": tag})
            assert again.status_code == 304, path
        other = anonymous.get("/public/search?q=slachtoffers", headers={"If-None-Match": tag})
        assert other.status_code == 200


# --- compression ---------------------------------------------------------------------------


def _strip_tokens(html: str) -> str:
    return re.sub(r"m\.[A-Za-z0-9_-]+", "TOKEN", html)


def test_pages_and_json_are_compressed_when_the_client_accepts_it(
    seeded_app: FastAPI,
) -> None:
    with Session(seeded_app.state.engine) as session:
        email = create_user(session, "viewer")
    with TestClient(seeded_app) as client:
        sign_in(client, email)
        for path, kind in (
            (f"/programmes/{SLUG}/activities", "text/html"),
            (f"/api/v1/programmes/{SLUG}/activities", "application/json"),
        ):
            packed = client.get(path, headers={"Accept-Encoding": "gzip"})
            plain = client.get(path, headers={"Accept-Encoding": "identity"})
            assert packed.headers["content-type"].startswith(kind)
            assert packed.headers["content-encoding"] == "gzip", path
            assert "content-encoding" not in plain.headers, path
            for response in (packed, plain):
                assert "Accept-Encoding" in response.headers["vary"], path
            # The same page, smaller on the wire, under the same (weak) tag.
            assert int(packed.headers["content-length"]) < len(plain.content) / 3, path
            assert _strip_tokens(packed.text) == _strip_tokens(plain.text), path
            assert packed.headers["etag"] == plain.headers["etag"], path
            assert (
                client.get(
                    path,
                    headers={
                        "Accept-Encoding": "identity",
                        "If-None-Match": packed.headers["etag"],
                    },
                ).status_code
                == 304
            )


def test_downloads_are_not_compressed_again(seeded_settings: Settings) -> None:
    app = create_app(seeded_settings)
    try:
        with Session(app.state.engine) as session:
            update = update_round(session)
            email = update.coordinator_email
            period_id = update.period_id
        with TestClient(app) as client:
            sign_in(client, email)
            for fmt, magic in (("xlsx", b"PK"), ("docx", b"PK"), ("ods", b"PK"), ("pdf", b"%PDF")):
                page = client.get(f"/periods/{period_id}")
                started = client.post(
                    f"/periods/{period_id}/exports",
                    data={"csrftoken": csrf_from(page.text), "format": fmt},
                    follow_redirects=False,
                )
                assert started.status_code == 303, started.text[:300]
                job = client.get(started.headers["location"], headers={"Accept-Encoding": "gzip"})
                # The job's page is compressed, its file is not.
                assert job.headers["content-encoding"] == "gzip"
                link = BeautifulSoup(job.text, "html.parser").find(id="job-file")
                assert link is not None, fmt
                download = client.get(link["href"], headers={"Accept-Encoding": "gzip"})
                assert download.status_code == 200
                assert "content-encoding" not in download.headers, fmt
                assert download.content.startswith(magic), fmt
                assert len(download.content) > 500, fmt  # large enough to have been compressed
    finally:
        app.state.engine.dispose()


# --- the CSRF token, masked per response ---------------------------------------------------


def test_the_csrf_token_is_masked_afresh_in_every_response(
    small_app: FastAPI, session: Session
) -> None:
    with _client(small_app, session, "editor", ("ORG-A",)) as client:
        cookie = client.cookies["csrftoken"]
        activity = _activity_id(client)
        path = f"/activities/{activity}"
        first, second = client.get(path).text, client.get(path).text
        printed = set(re.findall(r'name="csrftoken" value="([^"]+)"', first))
        assert printed and cookie not in first
        again = set(re.findall(r'name="csrftoken" value="([^"]+)"', second))
        assert printed.isdisjoint(again)
        for value in printed | again:
            assert unmask_token(value) == cookie
        # The hx-headers token too.
        header = re.search(r'"x-csrftoken": "([^"]+)"', first)
        assert header and header.group(1) != cookie and unmask_token(header.group(1)) == cookie


def test_masked_and_plain_tokens_are_accepted_and_others_refused(
    small_app: FastAPI, session: Session
) -> None:
    with _client(small_app, session, "editor", ("ORG-A",)) as client:
        activity = _activity_id(client)
        cookie = client.cookies["csrftoken"]

        def save(token: str, *, header: bool, version: str) -> httpx.Response:
            data = {
                "period_id": "1",
                "status": "delayed",
                "explanation": f"Versie {version}.",
                "based_on_version": version,
                "context": "page",
            }
            headers = {"x-csrftoken": token} if header else {}
            if not header:
                data["csrftoken"] = token
            return client.post(
                f"/activities/{activity}/status",
                data=data,
                headers=headers,
                follow_redirects=False,
            )

        assert save(mask_token(cookie), header=False, version="1").status_code == 303
        assert save(mask_token(cookie), header=True, version="2").status_code == 303
        assert save(cookie, header=True, version="3").status_code == 303
        assert save(cookie, header=False, version="4").status_code == 303
        other = mask_token(
            "IjAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMCI.abcdefabcdefabcdefabcdef"
        )
        assert save(other, header=False, version="5").status_code == 403
        assert save(other, header=True, version="5").status_code == 403
        assert save("m.!!!", header=False, version="5").status_code == 403


def test_an_upload_with_a_masked_token_is_accepted(seeded_settings: Settings) -> None:
    app = create_app(seeded_settings)
    try:
        with Session(app.state.engine) as session:
            update = update_round(session, organisation="IND")
        with TestClient(app) as client:
            sign_in(client, update.editor_email)
            form = client.get(f"/periods/{update.period_id}/import")
            token = csrf_from(form.text)
            assert token.startswith("m.")
            content = io.BytesIO(b"not a spreadsheet")
            refused = client.post(
                f"/periods/{update.period_id}/import",
                data={"csrftoken": mask_token("IjAwMCI.abc")},
                files={"file": ("x.xlsx", content, "application/octet-stream")},
            )
            assert refused.status_code == 403
            accepted = client.post(
                f"/periods/{update.period_id}/import",
                data={"csrftoken": token},
                files={"file": ("x.xlsx", io.BytesIO(b"not a spreadsheet"), "text/plain")},
            )
            # Past the CSRF check: the file itself is what is refused.
            assert accepted.status_code in (200, 422), accepted.text[:300]
    finally:
        app.state.engine.dispose()


# --- over the wire -------------------------------------------------------------------------


def test_a_real_server_answers_304_and_compresses(seeded_database_url: str) -> None:
    """As the benchmark asks: signed in with the session cookie, Accept-Encoding: gzip, and
    the tag the page came with."""
    engine = make_engine(seeded_database_url)
    with Session(engine) as session:
        email = create_user(session, "viewer")
    engine.dispose()
    with AppProcess(seeded_database_url) as server:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            form = client.get("/sign-in")
            client.post(
                "/sign-in",
                data={"email": email, "password": PASSWORD, "csrftoken": csrf_from(form.text)},
            )
            jar = dict(client.cookies.items())
        assert set(jar) == {"csrftoken", SESSION_COOKIE}
        cookies = "; ".join(f"{name}={value}" for name, value in jar.items())
        path = f"{server.url}/programmes/{SLUG}/activities"
        headers = {"Cookie": cookies, "Accept-Encoding": "gzip"}
        with httpx.Client(timeout=30) as raw:
            with raw.stream("GET", path, headers=headers) as page:
                wire = b"".join(page.iter_raw())
                assert page.status_code == 200
                assert page.headers["content-encoding"] == "gzip"
                assert int(page.headers["content-length"]) == len(wire)
                html = gzip.decompress(wire)
                assert len(wire) * 3 < len(html) and b"</html>" in html
                tag = page.headers["etag"]
            again = raw.get(path, headers={**headers, "If-None-Match": tag})
            assert again.status_code == 304 and again.content == b""
            # Each header counts: without the CSRF cookie, or in another language, the page
            # is another.
            only_session = {"Cookie": f"{SESSION_COOKIE}={jar[SESSION_COOKIE]}"}
            without_csrf = raw.get(path, headers={**only_session, "If-None-Match": tag})
            assert without_csrf.status_code == 200 and "etag" not in without_csrf.headers
            english = raw.get(path + "?lang=en", headers={**headers, "If-None-Match": tag})
            assert english.status_code == 200
            plain = raw.get(path, headers={"Cookie": cookies, "If-None-Match": tag})
            assert plain.status_code == 304


# --- review of issue 15: the middleware's own 304, Vary, downloads' tags -------------------


@pytest.fixture
def cached_app(settings: Settings, session: Session) -> Iterator[FastAPI]:
    """The small programme with the revision cache on (as served): on SQLite the middleware
    finds a signed-in user there and answers the 304 itself."""
    create_programme(session, action_lines=1, results_per_line=1, activities_per_result=4)
    app = create_app(settings)
    assert app.state.cache is not None
    yield app
    app.state.engine.dispose()


class StillCurrentSpy:
    """What the middleware's own 304 path (RevalidationMiddleware._still_current) answered."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.answers: list[bool] = []
        original = RevalidationMiddleware._still_current

        async def spying(middleware: RevalidationMiddleware, *args: Any) -> bool:
            answer = await original(middleware, *args)
            self.answers.append(answer)
            return answer

        monkeypatch.setattr(RevalidationMiddleware, "_still_current", spying)


def _demote(app: FastAPI, email: str) -> None:
    with Session(app.state.engine) as session:
        user = get_user_by_email(session, email)
        set_role(session, user, role=Role.viewer)
        session.commit()


def _deactivate(app: FastAPI, email: str) -> None:
    with Session(app.state.engine) as session:
        deactivate(session, get_user_by_email(session, email))
        session.commit()


def _remove_organisation(app: FastAPI, email: str) -> None:
    with Session(app.state.engine) as session:
        user = get_user_by_email(session, email)
        set_role(session, user, role=user.role, organisation_codes=["ORG-B"])
        session.commit()


def _expire_session(app: FastAPI, email: str) -> None:
    with Session(app.state.engine) as session:
        user = get_user_by_email(session, email)
        session.execute(
            update(UserSession)
            .where(col(UserSession.user_id) == user.id)
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
        session.commit()


CHANGES = {
    # change → (role, organisations, path, what the page is then)
    "role demoted": (_demote, "coordinator", (), "/periods/1/review", "refused"),
    "account deactivated": (_deactivate, "viewer", (), f"/programmes/{SMALL}", "sign in"),
    "organisations removed": (
        _remove_organisation,
        "editor",
        ("ORG-A", "ORG-B"),
        f"/programmes/{SMALL}/activities",
        "new page",
    ),
    "session expired": (_expire_session, "viewer", (), f"/programmes/{SMALL}", "sign in"),
    "session revoked": (None, "viewer", (), f"/programmes/{SMALL}", "sign in"),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_the_middlewares_own_304_ends_with_the_users_rights(
    cached_app: FastAPI, session: Session, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    act, role, organisations, path, then = CHANGES[change]
    email = create_user(session, role, organisations)
    spy = StillCurrentSpy(monkeypatch)
    with TestClient(cached_app) as client:
        sign_in(client, email)
        first = client.get(path)
        assert first.status_code == 200
        tag = first.headers["etag"]
        again = client.get(path, headers={"If-None-Match": tag})
        # The middleware answered it (not the app's dependency).
        assert again.status_code == 304 and spy.answers == [True]
        if act is None:
            # Signed out elsewhere: another browser with the same session.
            with TestClient(cached_app) as other:
                other.cookies.set(SESSION_COOKIE, client.cookies[SESSION_COOKIE])
                page = other.get(path)
                ended = other.post(
                    "/sign-out", data={"csrftoken": csrf_from(page.text)}, follow_redirects=False
                )
                assert ended.status_code == 303
        else:
            act(cached_app, email)
        spy.answers.clear()
        after = client.get(path, headers={"If-None-Match": tag}, follow_redirects=False)
        assert spy.answers == [False], change
        if then == "new page":
            assert after.status_code == 200 and after.headers["etag"] != tag
            assert "<html" in after.text
        elif then == "refused":
            assert after.status_code == 403
        else:
            assert after.status_code == 303
            assert after.headers["location"].startswith("/sign-in")
        # As without a tag.
        plain = client.get(path, follow_redirects=False)
        assert plain.status_code == after.status_code


def test_a_revalidated_200_has_the_vary_of_its_304(small_app: FastAPI, session: Session) -> None:
    with _client(small_app, session, "viewer") as client:
        for path, headers in (
            # Not compressed: the client does not accept gzip, or the body is too small.
            (f"/programmes/{SMALL}", {"Accept-Encoding": "identity"}),
            (f"/programmes/{SMALL}/summary", {"HX-Request": "true"}),
            (f"/programmes/{SMALL}", {"Accept-Encoding": "gzip"}),
            ("/api/v1/programmes", {"Accept-Encoding": "identity"}),
        ):
            page = client.get(path, headers=headers)
            assert page.status_code == 200, path
            again = client.get(path, headers={**headers, "If-None-Match": page.headers["etag"]})
            assert again.status_code == 304, path
            vary = [part.strip().lower() for part in page.headers["vary"].split(",")]
            vary_304 = [part.strip().lower() for part in again.headers["vary"].split(",")]
            # The same names (the order means nothing), each once.
            assert sorted(vary) == sorted(set(vary_304)) == sorted(vary_304), path
            assert "accept-encoding" in vary, path


def test_a_page_varies_by_the_bearer_token_it_may_be_read_with(
    small_app: FastAPI, session: Session
) -> None:
    user = get_user_by_email(session, create_user(session, "coordinator"))
    _, secret = create_api_token(session, user, name="pagina")
    session.commit()
    path = f"/programmes/{SMALL}"
    with TestClient(small_app) as client:
        client.get("/sign-in")  # the CSRF cookie, so the page is tagged
        auth = {"Authorization": f"Bearer {secret}"}
        page = client.get(path, headers=auth)
        assert page.status_code == 200 and page.headers["etag"]
        anonymous = client.get(path, follow_redirects=False)
        # The tag (and the page) depend on the token.
        assert anonymous.status_code != 200 or anonymous.headers.get("etag") != page.headers["etag"]
        again = client.get(path, headers={**auth, "If-None-Match": page.headers["etag"]})
        assert again.status_code == 304
        for response in (page, again):
            assert "Authorization" in [p.strip() for p in response.headers["vary"].split(",")]


def test_downloads_that_may_be_compressed_have_weak_tags(
    small_app: FastAPI, session: Session
) -> None:
    email = create_user(session, "coordinator")
    user = get_user_by_email(session, email)
    rows = "".join(f"{n};activiteit {n};op schema\n" for n in range(200)).encode()
    files = {
        kind: store_file(
            session, filename=name, media_type=kind, content=content, user_id=user.id
        ).id
        for kind, name, content in (
            ("text/csv; charset=utf-8", "lijst.csv", rows),
            ("application/json", "lijst.json", b"[" + b'{"a": 1},' * 200 + b"{}]"),
            ("application/pdf", "lijst.pdf", b"%PDF-1.7\n" + rows),
        )
    }
    session.commit()
    with TestClient(small_app) as client:
        sign_in(client, email)
        for kind, file_id in files.items():
            stored = session.get(StoredFile, file_id)
            assert stored is not None
            download = client.get(f"/files/{file_id}", headers={"Accept-Encoding": "gzip"})
            assert download.status_code == 200 and download.content == stored.content
            if kind == "application/pdf":
                # Never compressed: the digest is of the bytes sent, a strong tag.
                assert "content-encoding" not in download.headers
                assert download.headers["etag"] == f'"{stored.sha256}"'
            else:
                assert download.headers["content-encoding"] == "gzip", kind
                assert download.headers["etag"] == f'W/"{stored.sha256}"', kind
                plain = client.get(f"/files/{file_id}", headers={"Accept-Encoding": "identity"})
                assert plain.headers["etag"] == f'W/"{stored.sha256}"', kind
    assert download_tag("abc", "text/csv") == 'W/"abc"'
    assert download_tag("abc", "application/zip") == '"abc"'
    assert download_tag("abc", "image/png") == '"abc"'
