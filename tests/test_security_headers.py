"""The security headers on every kind of response, and the cookies' flags, at run time.

Every response carries the Content-Security-Policy, X-Content-Type-Options, Referrer-Policy
and X-Frame-Options: pages, JSON, error pages (404, a refused form, a 500 from an error
nobody handled), downloads and static files. Production (behind HTTPS) adds
Strict-Transport-Security and marks every cookie Secure: checked against a real
`voortgang serve` with ENVIRONMENT=production and the settings it needs."""

from __future__ import annotations

from collections.abc import Iterator
from http.cookies import SimpleCookie

import httpx
import pytest
from bs4 import BeautifulSoup
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from app.config import Settings
from app.main import CONTENT_SECURITY_POLICY, STRICT_TRANSPORT_SECURITY, create_app
from app.permissions import SESSION_COOKIE
from tests.factories import PASSWORD, create_user, csrf_from, sign_in
from tests.processes import AppProcess
from tests.test_board import SLUG

SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}
PRODUCTION = {
    "ENVIRONMENT": "production",
    "SECRET_KEY": "a-production-secret-of-more-than-32-characters",
    "PUBLIC_URL": "https://voortgang.example.nl",
    "MAIL_BACKEND": "console",
}

# Each kind of response: (what it is, method, path, signed in?, the status it has).
RESPONSES = [
    ("HTML page", "GET", f"/programmes/{SLUG}", True, 200),
    ("API documentation", "GET", "/api-docs", True, 200),
    ("public HTML page", "GET", "/public/", False, 200),
    ("JSON", "GET", "/api/v1/programmes", True, 200),
    ("JSON 404", "GET", "/api/v1/programmes/unknown/activities", True, 404),
    ("JSON 401", "GET", "/api/v1/programmes", False, 401),
    ("HTML 404", "GET", "/no-such-page", True, 404),
    ("HTML 403", "GET", "/admin/users", True, 403),
    ("sign-in redirect", "GET", f"/programmes/{SLUG}", False, 303),
    ("refused form (CSRF)", "POST", "/sign-in", False, 403),
    ("CSV download", "GET", f"/public/{SLUG}/1/data.csv", False, 200),
    ("JSON download", "GET", f"/public/{SLUG}/1/data.json", False, 200),
    ("OpenAPI schema", "GET", "/api/openapi.json", True, 200),
    ("static file", "GET", "/static/app.css", False, 200),
    ("vendored static file", "GET", "/static/vendor/htmx/htmx.min.js", False, 200),
    ("static 404", "GET", "/static/no-such-file.css", False, 404),
    ("generated stylesheet", "GET", "/assets/status.css", False, 200),
]


def _production_settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        environment="production",  # type: ignore[arg-type]
        secret_key=PRODUCTION["SECRET_KEY"],
        public_url=PRODUCTION["PUBLIC_URL"],
        mail_backend="console",  # type: ignore[arg-type]
        _env_file=None,  # type: ignore[call-arg]
    )


def _clients(
    app: FastAPI, base_url: str = "http://testserver"
) -> Iterator[tuple[TestClient, TestClient]]:
    with Session(app.state.engine) as session:
        email = create_user(session, "viewer")
    with (
        TestClient(app, base_url=base_url) as anonymous,
        TestClient(app, base_url=base_url) as signed_in,
    ):
        sign_in(signed_in, email)
        yield anonymous, signed_in


@pytest.fixture
def clients(seeded_app: FastAPI) -> Iterator[tuple[TestClient, TestClient]]:
    yield from _clients(seeded_app)


def _answer(clients: tuple[TestClient, TestClient], method: str, path: str, signed_in: bool):  # type: ignore[no-untyped-def]
    client = clients[1] if signed_in else clients[0]
    return client.request(method, path, follow_redirects=False)


@pytest.mark.parametrize(("kind", "method", "path", "signed_in", "status"), RESPONSES)
def test_every_kind_of_response_has_the_security_headers(
    clients: tuple[TestClient, TestClient],
    kind: str,
    method: str,
    path: str,
    signed_in: bool,
    status: int,
) -> None:
    response = _answer(clients, method, path, signed_in)
    assert response.status_code == status, (kind, response.text[:300])
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (kind, name)
    # Development is served over plain HTTP: no HSTS there.
    assert "strict-transport-security" not in response.headers


def _break_the_database(engine) -> None:  # type: ignore[no-untyped-def]
    """Every request reads the revisions first: without them, every page fails."""
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM data_revision"))


@pytest.mark.parametrize(
    ("path", "content_type"),
    [(f"/programmes/{SLUG}", "text/plain"), ("/api/v1/programmes", "application/json")],
)
def test_an_error_nobody_handled_gets_the_headers_too(
    seeded_app: FastAPI, path: str, content_type: str
) -> None:
    with TestClient(seeded_app, raise_server_exceptions=False) as client:
        _break_the_database(seeded_app.state.engine)
        response = client.get(path)
    assert response.status_code == 500
    assert response.headers["content-type"].startswith(content_type)
    assert "Er ging iets mis" in response.text or "went wrong" in response.text
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, name


def test_production_tells_browsers_to_use_https_on_every_response(
    seeded_database_url: str,
) -> None:
    app = create_app(_production_settings(seeded_database_url))
    try:
        seen = []
        # Behind HTTPS, as production is (the Secure cookies go back over it).
        for clients in _clients(app, "https://testserver"):
            for kind, method, path, signed_in, _ in RESPONSES:
                response = _answer(clients, method, path, signed_in)
                seen.append(kind)
                assert (
                    response.headers.get("strict-transport-security") == STRICT_TRANSPORT_SECURITY
                ), kind
                for name, value in SECURITY_HEADERS.items():
                    assert response.headers.get(name) == value, (kind, name)
        assert len(seen) == len(RESPONSES)
        with TestClient(
            app, base_url="https://testserver", raise_server_exceptions=False
        ) as client:
            _break_the_database(app.state.engine)
            failed = client.get("/public/")
        assert failed.status_code == 500
        assert failed.headers["strict-transport-security"] == STRICT_TRANSPORT_SECURITY
    finally:
        app.state.engine.dispose()


def _set_cookies(response: httpx.Response) -> dict[str, dict[str, str | bool]]:
    """Each cookie the response sets, with its attributes (names in lower case)."""
    cookies: dict[str, dict[str, str | bool]] = {}
    for header in response.headers.get_list("set-cookie"):
        parsed = SimpleCookie()
        parsed.load(header)
        for name, morsel in parsed.items():
            attributes: dict[str, str | bool] = {
                key: value for key, value in morsel.items() if value
            }
            # SimpleCookie keeps flags as True only when present.
            attributes["raw"] = header
            cookies[name] = attributes
    return cookies


def _sign_in_over_http(base_url: str, email: str) -> dict[str, dict[str, str | bool]]:
    """Sign in as a browser would, and return every cookie that was set on the way: the CSRF
    token, the session and the language."""
    seen: dict[str, dict[str, str | bool]] = {}
    # A Secure cookie is not sent back over plain HTTP: carry them by hand.
    with httpx.Client(base_url=base_url, follow_redirects=False, timeout=30) as client:
        form = client.get("/sign-in")
        seen |= _set_cookies(form)
        token = str(SimpleCookie(form.headers["set-cookie"])["csrftoken"].value)
        signed_in = client.post(
            "/sign-in",
            data={"email": email, "password": PASSWORD, "csrftoken": csrf_from(form.text)},
            headers={"cookie": f"csrftoken={token}"},
        )
        assert signed_in.status_code == 303, signed_in.text[:500]
        seen |= _set_cookies(signed_in)
        seen |= _set_cookies(client.get("/language/en"))
    return seen


def test_cookie_flags_in_production_at_run_time(
    seeded_database_url: str, seeded_session: Session
) -> None:
    email = create_user(seeded_session, "viewer")
    seeded_session.commit()
    with AppProcess(seeded_database_url, **PRODUCTION) as app:
        home = httpx.get(app.url + "/public/", timeout=30)
        cookies = _sign_in_over_http(app.url, email)
    assert home.headers["strict-transport-security"] == STRICT_TRANSPORT_SECURITY
    assert set(cookies) == {"csrftoken", SESSION_COOKIE, "lang"}
    for attributes in cookies.values():
        assert attributes.get("secure") is True, attributes["raw"]
        assert str(attributes.get("samesite", "")).lower() == "lax", attributes["raw"]
    # The session and the language are the server's alone. asgi-csrf sets its token's cookie
    # without HttpOnly (it has no option for it); the token is signed, and a script on the
    # page could read it from the forms anyway.
    assert cookies[SESSION_COOKIE].get("httponly") is True, cookies[SESSION_COOKIE]["raw"]
    assert cookies["lang"].get("httponly") is True, cookies["lang"]["raw"]


def test_cookie_flags_in_development(seeded_database_url: str, seeded_session: Session) -> None:
    """Development runs over plain HTTP: no Secure flag (the browser would drop the cookies),
    and the rest as in production."""
    email = create_user(seeded_session, "viewer")
    seeded_session.commit()
    with AppProcess(seeded_database_url) as app:
        home = httpx.get(app.url + "/public/", timeout=30)
        cookies = _sign_in_over_http(app.url, email)
    assert "strict-transport-security" not in home.headers
    assert set(cookies) == {"csrftoken", SESSION_COOKIE, "lang"}
    for attributes in cookies.values():
        assert "secure" not in attributes, attributes["raw"]
        assert str(attributes.get("samesite", "")).lower() == "lax", attributes["raw"]
    assert cookies[SESSION_COOKIE].get("httponly") is True
    assert cookies["lang"].get("httponly") is True


def test_an_export_download_has_the_security_headers(
    clients: tuple[TestClient, TestClient],
) -> None:
    """An export is made by a job and downloaded from storage (app/jobs): the redirect to
    the job, its page and the file all carry the headers."""
    client = clients[1]
    page = client.get("/periods/1")
    created = client.post(
        "/periods/1/exports",
        data={"csrftoken": csrf_from(page.text), "format": "csv"},
        follow_redirects=False,
    )
    assert created.status_code == 303
    # TestClient ran the job after the response, as the server would.
    job = client.get(created.headers["location"])
    assert 'id="job-done"' in job.text
    link = BeautifulSoup(job.text, "html.parser").find(id="job-file")
    assert link is not None
    download = client.get(str(link["href"]))
    assert download.status_code == 200
    assert download.headers["content-disposition"].startswith("attachment")
    for response in (created, job, download):
        for name, value in SECURITY_HEADERS.items():
            assert response.headers.get(name) == value, (response.url, name)
