"""Accounts: sign-in and out, sessions in the database, throttling, production safety, CSRF."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlmodel import Session, col

from app.accounts.models import LoginAttempt, User, UserSession
from app.accounts.service import (
    FAILURES_PER_ACCOUNT,
    FAILURES_PER_ADDRESS,
    SignInThrottled,
    authenticate,
)
from app.audit.models import AuditEvent
from app.clock import utc_now
from app.config import DEFAULT_SECRET, Environment, Settings
from app.main import create_app
from app.permissions import SESSION_COOKIE
from tests.factories import PASSWORD, create_user, csrf_from, sign_in


@pytest.fixture
def app(settings: Settings):  # type: ignore[no-untyped-def]
    app = create_app(settings)
    yield app
    app.state.engine.dispose()


def _post_sign_in(client: TestClient, email: str, password: str):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get("/sign-in").text)
    return client.post(
        "/sign-in",
        data={"email": email, "password": password, "csrftoken": token, "next": "/account"},
        follow_redirects=False,
    )


def test_sign_in_and_out(app, session: Session) -> None:  # type: ignore[no-untyped-def]
    email = create_user(session, "viewer")
    with TestClient(app) as client:
        response = _post_sign_in(client, email, PASSWORD)
        assert response.status_code == 303 and response.headers["location"] == "/account"
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert client.get("/account").status_code == 200
        token = csrf_from(client.get("/account").text)
        client.post("/sign-out", data={"csrftoken": token}, follow_redirects=False)
        assert client.get("/account", follow_redirects=False).status_code == 303
    assert session.scalar(select(func.count()).select_from(UserSession)) == 0
    actions = set(session.scalars(select(AuditEvent.action)))
    assert {"user.sign_in", "user.sign_out"} <= actions


def test_session_id_changes_at_sign_in(app, session: Session) -> None:  # type: ignore[no-untyped-def]
    email = create_user(session, "viewer")
    with TestClient(app) as client:
        sign_in(client, email)
        first = client.cookies.get(SESSION_COOKIE)
        sign_in(client, email)
        second = client.cookies.get(SESSION_COOKIE)
        assert first and second and first != second
        # The session from before the second sign-in no longer works.
        client.cookies.set(SESSION_COOKIE, first)
        assert client.get("/account", follow_redirects=False).status_code == 303


def test_wrong_password_and_unknown_account_get_the_same_message(app, session: Session) -> None:  # type: ignore[no-untyped-def]
    email = create_user(session, "viewer")
    with TestClient(app) as client:
        wrong = _post_sign_in(client, email, "not the password at all")
        unknown = _post_sign_in(client, "nobody@example.nl", "not the password at all")
    assert wrong.status_code == unknown.status_code == 400
    assert "niet juist" in wrong.text
    message = lambda r: r.text.split('utrecht-alert__message">')[1].split("<")[0]  # noqa: E731
    assert message(wrong) == message(unknown)


def test_failed_sign_ins_are_throttled_per_account_in_the_database(
    settings: Settings, session: Session
) -> None:
    email = create_user(session, "viewer")
    first_app = create_app(settings)
    with TestClient(first_app) as client:
        for _ in range(FAILURES_PER_ACCOUNT):
            assert _post_sign_in(client, email, "wrong password 123").status_code == 400
    first_app.state.engine.dispose()
    # Another process (a new app on the same database) knows: even the right password waits.
    second_app = create_app(settings)
    with TestClient(second_app) as client:
        throttled = _post_sign_in(client, email, PASSWORD)
        assert throttled.status_code == 429
        assert "Te veel mislukte inlogpogingen" in throttled.text
        # An unknown account is throttled the same way: nothing tells them apart.
        for _ in range(FAILURES_PER_ACCOUNT):
            _post_sign_in(client, "ghost@example.nl", "wrong password 123")
        assert _post_sign_in(client, "ghost@example.nl", "x").status_code == 429
    second_app.state.engine.dispose()
    # After the window the account can sign in again.
    session.execute(update(LoginAttempt).values(attempted_at=utc_now() - timedelta(hours=1)))
    session.commit()
    third_app = create_app(settings)
    with TestClient(third_app) as client:
        assert _post_sign_in(client, email, PASSWORD).status_code == 303
    third_app.state.engine.dispose()


def test_failed_sign_ins_are_throttled_per_address(app, session: Session) -> None:  # type: ignore[no-untyped-def]
    email = create_user(session, "viewer")
    with TestClient(app) as client:
        for number in range(FAILURES_PER_ADDRESS):
            _post_sign_in(client, f"guess{number}@example.nl", "wrong password 123")
        assert _post_sign_in(client, email, PASSWORD).status_code == 429


def test_sessions_survive_a_restart_and_work_across_processes(
    settings: Settings, session: Session
) -> None:
    email = create_user(session, "viewer")
    one, two = create_app(settings), create_app(settings)
    with TestClient(one) as first:
        sign_in(first, email)
        cookie = first.cookies.get(SESSION_COOKIE)
    one.state.engine.dispose()  # "restart"
    with TestClient(two) as second:
        second.cookies.set(SESSION_COOKIE, cookie)
        assert second.get("/account").status_code == 200
    two.state.engine.dispose()


def test_sessions_expire(app, session: Session) -> None:  # type: ignore[no-untyped-def]
    email = create_user(session, "viewer")
    with TestClient(app) as client:
        sign_in(client, email)
        session.execute(update(UserSession).values(expires_at=utc_now() - timedelta(seconds=1)))
        session.commit()
        response = client.get("/account", follow_redirects=False)
        assert response.status_code == 303 and "/sign-in" in response.headers["location"]


def test_deactivated_account_loses_access(app, session: Session) -> None:  # type: ignore[no-untyped-def]
    email = create_user(session, "viewer")
    with TestClient(app) as client:
        sign_in(client, email)
        from app.accounts.service import deactivate

        deactivate(session, session.scalars(select(User).where(User.email == email)).one())
        session.commit()
        assert client.get("/account", follow_redirects=False).status_code == 303
        assert _post_sign_in(client, email, PASSWORD).status_code == 400


def test_production_refuses_a_default_or_missing_secret(database_url: str) -> None:
    for secret in (DEFAULT_SECRET, "", "short"):
        settings = Settings(
            database_url=database_url,
            environment=Environment.production,
            secret_key=secret,
            _env_file=None,
        )  # type: ignore[call-arg]
        with pytest.raises(RuntimeError, match="SECRET_KEY"):
            create_app(settings)
    good = Settings(
        database_url=database_url,
        environment=Environment.production,
        secret_key="x" * 48,
        smtp_host="mail.example.nl",  # production also needs a mail server for reminders
        public_url="https://voortgang.example.nl",  # and where users reach it, for links
        _env_file=None,
    )  # type: ignore[call-arg]
    create_app(good).state.engine.dispose()


def test_production_cookies_are_secure(database_url: str, session: Session) -> None:
    email = create_user(session, "viewer")
    app = create_app(
        Settings(
            database_url=database_url,
            environment=Environment.production,
            secret_key="y" * 48,
            smtp_host="mail.example.nl",
            public_url="https://voortgang.example.nl",
            _env_file=None,
        )
    )  # type: ignore[call-arg]
    with TestClient(app, base_url="https://testserver") as client:
        response = sign_in(client, email)
        assert "Secure" in response.headers["set-cookie"]
    app.state.engine.dispose()


def test_forms_without_the_csrf_token_are_refused(app, session: Session) -> None:  # type: ignore[no-untyped-def]
    email = create_user(session, "viewer")
    with TestClient(app) as client:
        client.get("/sign-in")
        no_token = client.post(
            "/sign-in", data={"email": email, "password": PASSWORD}, follow_redirects=False
        )
        assert no_token.status_code == 403
        wrong = client.post(
            "/sign-in",
            data={"email": email, "password": PASSWORD, "csrftoken": "forged"},
            follow_redirects=False,
        )
        assert wrong.status_code == 403
        assert "verlopen" in wrong.text
        sign_in(client, email)
        # htmx sends the token as a header.
        token = csrf_from(client.get("/account").text)
        ok = client.post("/account/tokens", data={"name": "x"}, headers={"x-csrftoken": token})
        assert ok.status_code == 200
        forged = client.post("/account/tokens", data={"name": "y"}, headers={"x-csrftoken": "nope"})
        assert forged.status_code == 403


def test_a_refused_sign_in_takes_its_attempt_out_at_once(engine, session: Session) -> None:  # type: ignore[no-untyped-def]
    """A refused attempt is not counted, and no longer once it is refused, before its request
    ends: in parallel, its rows would otherwise push the other attempts over the limit."""
    email = create_user(session, "viewer")
    key = f"account:{email}"
    session.add_all(
        LoginAttempt(key=key, attempted_at=utc_now()) for _ in range(FAILURES_PER_ACCOUNT)
    )
    session.commit()
    with Session(engine) as request:
        with pytest.raises(SignInThrottled):
            authenticate(request, email=email, password=PASSWORD, address="192.0.2.7")
        # The request has not ended: what another connection sees.
        with Session(engine) as other:
            counted = select(func.count()).select_from(LoginAttempt)
            assert other.scalar(counted.where(col(LoginAttempt.key) == key)) == FAILURES_PER_ACCOUNT
            assert other.scalar(counted.where(col(LoginAttempt.key) == "address:192.0.2.7")) == 0
        request.rollback()
