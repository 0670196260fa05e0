"""Passwords: changing one's own on the account page, resetting a forgotten one with a link by
e-mail (signed with a random token of which only the hash is stored, expiring, single use,
throttled, the same answer for unknown addresses), and the invitation an admin's new account
sends instead of a password read aloud."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlmodel import Session

from app.accounts import password_mail
from app.accounts import service as accounts
from app.accounts.models import AccountToken, LoginAttempt, Role, TokenPurpose, User, UserSession
from app.audit.models import AuditEvent
from app.clock import utc_now
from app.config import MailBackend, Settings
from app.main import create_app
from app.permissions import SESSION_COOKIE
from tests.cli import run_cli
from tests.factories import (
    PASSWORD,
    create_user,
    csrf_from,
    password_link,
    sent_mail,
    sign_in,
    with_mail_folder,
)
from tests.test_query_count import counting
from tests.test_reminders import free_port

NEW_PASSWORD = "a brand new password of mine"


@pytest.fixture
def mail_folder(tmp_path: Path) -> Path:
    return tmp_path / "mail"


@pytest.fixture
def app(settings: Settings, mail_folder: Path) -> Iterator[FastAPI]:
    """The app, with outgoing mail written to `mail_folder`."""
    app = create_app(with_mail_folder(settings, mail_folder))
    yield app
    app.state.engine.dispose()


def _user(session: Session, email: str) -> User:
    session.expire_all()
    return accounts.get_user_by_email(session, email)


def _mail_to(folder: Path, email: str) -> list[EmailMessage]:
    return [m for m in sent_mail(folder) if m["To"].addresses[0].addr_spec == email]


def _ask_for_a_link(client: TestClient, email: str, **headers: str) -> Any:
    form = client.get("/password/forgot")
    return client.post(
        "/password/forgot",
        data={"email": email, "csrftoken": csrf_from(form.text)},
        headers=headers,
    )


def _choose(client: TestClient, token: str, password: str, again: str | None = None):  # type: ignore[no-untyped-def]
    # The page of a link that no longer works has no form: the token comes from another page.
    form = client.get("/password/forgot")
    return client.post(
        "/password/set",
        data={
            "csrftoken": csrf_from(form.text),
            "token": token,
            "password": password,
            "password_again": password if again is None else again,
        },
        follow_redirects=False,
    )


def _change(client: TestClient, current: str, new: str, again: str | None = None):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get("/account").text)
    return client.post(
        "/account/password",
        data={
            "csrftoken": token,
            "current_password": current,
            "new_password": new,
            "new_password_again": new if again is None else again,
        },
        follow_redirects=False,
    )


def _signs_in(session: Session, email: str, password: str) -> bool:
    try:
        accounts.authenticate(session, email=email, password=password, address="test")
    except accounts.SignInFailed:
        return False
    finally:
        session.rollback()
    return True


def _actions(session: Session) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def _alert(response: Any, selector: str) -> str:
    found = BeautifulSoup(response.text, "html.parser").select_one(selector)
    assert found is not None, f"{selector} is not on the page"
    return " ".join(found.get_text().split())


# -- the service ---------------------------------------------------------------------------


def test_a_link_works_once_and_setting_a_password_spends_the_others(session: Session) -> None:
    email = create_user(session, "viewer")
    user = _user(session, email)
    first = accounts.issue_account_token(
        session, user, purpose=TokenPurpose.reset, lifetime=timedelta(hours=1)
    )
    second = accounts.issue_account_token(
        session, user, purpose=TokenPurpose.reset, lifetime=timedelta(hours=1)
    )
    accounts.start_session(session, user, lifetime=timedelta(hours=1))
    session.commit()
    # Only hashes are stored.
    stored = set(session.scalars(select(AccountToken.token_hash)))
    assert stored == {accounts.hash_token(first), accounts.hash_token(second)}

    accounts.use_account_token(
        session, secret=first, password=NEW_PASSWORD, password_again=NEW_PASSWORD
    )
    session.commit()
    assert _signs_in(session, email, NEW_PASSWORD) and not _signs_in(session, email, PASSWORD)
    assert session.scalar(select(func.count()).select_from(UserSession)) == 0
    for spent in (first, second):
        with pytest.raises(accounts.InvalidLink, match="al gebruikt"):
            accounts.use_account_token(
                session,
                secret=spent,
                password="yet another password",
                password_again="yet another password",
            )
    assert _signs_in(session, email, NEW_PASSWORD)


def test_an_expired_or_unknown_link_is_refused(session: Session) -> None:
    email = create_user(session, "viewer")
    secret = accounts.issue_account_token(
        session, _user(session, email), purpose=TokenPurpose.reset, lifetime=timedelta(hours=1)
    )
    session.execute(update(AccountToken).values(expires_at=utc_now() - timedelta(seconds=1)))
    session.commit()
    with pytest.raises(accounts.InvalidLink, match="verlopen"):
        accounts.use_account_token(
            session, secret=secret, password=NEW_PASSWORD, password_again=NEW_PASSWORD
        )
    for wrong in ("", "not-a-token", secret[:-1]):
        with pytest.raises(accounts.InvalidLink, match="werkt niet"):
            accounts.account_token_holder(session, wrong)
    assert _signs_in(session, email, PASSWORD)


def test_a_deactivated_accounts_link_no_longer_works(session: Session) -> None:
    email = create_user(session, "viewer")
    user = _user(session, email)
    secret = accounts.issue_account_token(
        session, user, purpose=TokenPurpose.reset, lifetime=timedelta(hours=1)
    )
    accounts.deactivate(session, user)
    session.commit()
    with pytest.raises(accounts.InvalidLink):
        accounts.account_token_holder(session, secret)
    # Active again (the command line's dev-account does that): the old link stays spent.
    user.active = True
    session.commit()
    with pytest.raises(accounts.InvalidLink, match="al gebruikt"):
        accounts.account_token_holder(session, secret)


def test_changing_a_password_needs_the_current_one_and_keeps_only_this_session(
    session: Session,
) -> None:
    email = create_user(session, "viewer")
    user = _user(session, email)
    here = accounts.start_session(session, user, lifetime=timedelta(hours=1))
    accounts.start_session(session, user, lifetime=timedelta(hours=1))  # another browser
    session.commit()
    with pytest.raises(accounts.WrongPassword):
        accounts.change_password(
            session,
            user_id=user.id,
            current_password="not my password at all",
            new_password=NEW_PASSWORD,
            new_password_again=NEW_PASSWORD,
            keep_session=here,
        )
    session.commit()
    assert session.scalar(select(func.count()).select_from(LoginAttempt)) == 1
    with pytest.raises(accounts.InvalidInput, match="niet gelijk"):
        accounts.change_password(
            session,
            user_id=user.id,
            current_password=PASSWORD,
            new_password=NEW_PASSWORD,
            new_password_again=NEW_PASSWORD + "x",
            keep_session=here,
        )
    session.rollback()
    assert _signs_in(session, email, PASSWORD)
    accounts.change_password(
        session,
        user_id=user.id,
        current_password=PASSWORD,
        new_password=NEW_PASSWORD,
        new_password_again=NEW_PASSWORD,
        keep_session=here,
    )
    session.commit()
    remaining = list(session.scalars(select(UserSession.token_hash)))
    assert remaining == [accounts.hash_token(here)]
    assert _signs_in(session, email, NEW_PASSWORD) and not _signs_in(session, email, PASSWORD)


def test_wrong_current_passwords_are_throttled_like_sign_ins(session: Session) -> None:
    email = create_user(session, "viewer")
    user = _user(session, email)
    for _ in range(accounts.FAILURES_PER_ACCOUNT):
        with pytest.raises(accounts.WrongPassword):
            accounts.change_password(
                session,
                user_id=user.id,
                current_password="a wrong guess 123",
                new_password=NEW_PASSWORD,
                new_password_again=NEW_PASSWORD,
                keep_session=None,
            )
        session.commit()
    with pytest.raises(accounts.SignInThrottled):
        accounts.change_password(
            session,
            user_id=user.id,
            current_password=PASSWORD,
            new_password=NEW_PASSWORD,
            new_password_again=NEW_PASSWORD,
            keep_session=None,
        )


def test_an_invited_account_has_no_password_until_it_chooses_one(session: Session) -> None:
    user = accounts.create_user(
        session, email="nieuw@example.nl", name="Nieuw", role=Role.viewer, password=None
    )
    session.commit()
    assert not user.has_password
    for guess in ("", PASSWORD):
        assert not _signs_in(session, "nieuw@example.nl", guess)
    secret = accounts.issue_account_token(
        session, user, purpose=TokenPurpose.invitation, lifetime=timedelta(days=7)
    )
    accounts.use_account_token(
        session, secret=secret, password=NEW_PASSWORD, password_again=NEW_PASSWORD
    )
    session.commit()
    assert _signs_in(session, "nieuw@example.nl", NEW_PASSWORD)


def test_reset_requests_are_counted_alike_for_known_and_unknown_addresses(
    session: Session,
) -> None:
    known = create_user(session, "viewer")
    for email in (known, "niemand@example.nl"):
        for _ in range(accounts.RESETS_PER_ACCOUNT):
            accounts.note_reset_request(session, email=email, address=f"client of {email}")
        with pytest.raises(accounts.ResetThrottled):
            accounts.note_reset_request(session, email=email, address=f"client of {email}")
    # Per client address, whatever addresses it asks for.
    for number in range(accounts.RESETS_PER_ADDRESS):
        accounts.note_reset_request(session, email=f"guess{number}@example.nl", address="one")
    with pytest.raises(accounts.ResetThrottled):
        accounts.note_reset_request(session, email="another@example.nl", address="one")


# -- forgot your password? -----------------------------------------------------------------


def test_a_forgotten_password_is_reset_with_the_mailed_link(
    app: FastAPI, session: Session, mail_folder: Path
) -> None:
    email = create_user(session, "viewer", email="rita@example.nl")
    with TestClient(app) as elsewhere:
        sign_in(elsewhere, email)  # a browser left signed in somewhere
        with TestClient(app) as client:
            page = client.get("/sign-in")
            link = BeautifulSoup(page.text, "html.parser").select_one("#forgot-password")
            assert link is not None and link["href"] == "/password/forgot"
            asked = _ask_for_a_link(client, "Rita@Example.nl ")
            assert asked.status_code == 200
            assert "60 minuten" in _alert(asked, "#reset-sent")

            [message] = _mail_to(mail_folder, email)
            assert message["Subject"] == "Een nieuw wachtwoord voor Voortgang"
            assert message.get_content().startswith("Beste Viewer rita,")
            path, token = password_link(message)
            assert message.get_content().count("http://127.0.0.1:8000/password/set?token=") == 1

            form = client.get(path)
            assert form.status_code == 200
            assert form.headers["cache-control"] == "no-store"
            assert form.headers["referrer-policy"] == "no-referrer"
            assert _alert(form, "#account-email") == email
            mismatch = _choose(client, token, NEW_PASSWORD, NEW_PASSWORD + "!")
            assert mismatch.status_code == 422 and "niet gelijk" in _alert(
                mismatch, "#password-error"
            )
            short = _choose(client, token, "kort")
            assert short.status_code == 422 and "minstens 12 tekens" in _alert(
                short, "#password-error"
            )

            chosen = _choose(client, token, NEW_PASSWORD)
            assert (
                chosen.status_code == 303 and chosen.headers["location"] == "/sign-in?done=password"
            )
            done = client.get("/sign-in?done=password")
            assert "Uw wachtwoord is ingesteld" in _alert(done, "#sign-in-done")
            sign_in(client, email, NEW_PASSWORD)

            again = _choose(client, token, "a third password, later")
            assert again.status_code == 400 and "al gebruikt" in _alert(again, "#link-error")
        # The browser left signed in is signed out.
        assert elsewhere.get("/account", follow_redirects=False).status_code == 303
    assert not _signs_in(session, email, PASSWORD)
    assert not _signs_in(session, email, "a third password, later")
    actions = _actions(session)
    assert "user.password_reset_requested" in actions and "user.password_reset" in actions


def test_an_unknown_address_gets_the_same_answer_and_no_mail(
    app: FastAPI, session: Session, mail_folder: Path
) -> None:
    known = create_user(session, "viewer", email="bekend@example.nl")
    unknown = "onbekend@example.nl"
    with TestClient(app) as client:
        answers = {email: _ask_for_a_link(client, email) for email in (known, unknown)}
    texts = {email: _alert(answer, "main").replace(email, "…") for email, answer in answers.items()}
    assert {answer.status_code for answer in answers.values()} == {200}
    assert texts[known] == texts[unknown]
    assert [m["To"].addresses[0].addr_spec for m in sent_mail(mail_folder)] == [known]
    # Both requests were counted for the throttle.
    keys = set(session.scalars(select(LoginAttempt.key)))
    assert {f"reset:account:{known}", f"reset:account:{unknown}"} <= keys


def test_the_answer_is_given_before_the_account_is_looked_up(
    app: FastAPI, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same timing shape: the request runs the same statements whether the address has an
    account or not, none of them on the accounts; the lookup and the mail come after the
    answer (a background task)."""
    known = create_user(session, "viewer", email="bekend@example.nl")
    later: list[str] = []
    monkeypatch.setattr(
        password_mail,
        "send_reset_link_after_response",
        lambda engine, settings, *, email, address, language: later.append(email),
    )
    statements: dict[str, list[str]] = {}
    with TestClient(app) as client:
        for email in (known, "onbekend@example.nl"):
            form = client.get("/password/forgot")
            with counting(app.state.engine) as seen:
                client.post(
                    "/password/forgot", data={"email": email, "csrftoken": csrf_from(form.text)}
                )
            statements[email] = seen
    assert later == [known, "onbekend@example.nl"]
    assert statements[known] and statements[known] == statements["onbekend@example.nl"]
    assert not any("app_user" in statement for statement in statements[known])


def test_reset_requests_are_throttled(app: FastAPI, session: Session, mail_folder: Path) -> None:
    email = create_user(session, "viewer")
    with TestClient(app) as client:
        for _ in range(accounts.RESETS_PER_ACCOUNT):
            assert _ask_for_a_link(client, email).status_code == 200
        throttled = _ask_for_a_link(client, email)
        assert throttled.status_code == 429
        assert "te vaak om een nieuw wachtwoord gevraagd" in _alert(throttled, "#forgot-error")
        # An unknown address is throttled the same way.
        for _ in range(accounts.RESETS_PER_ACCOUNT):
            _ask_for_a_link(client, "ghost@example.nl")
        assert _ask_for_a_link(client, "ghost@example.nl").status_code == 429
    assert len(_mail_to(mail_folder, email)) == accounts.RESETS_PER_ACCOUNT


def test_an_empty_address_is_asked_for(app: FastAPI, mail_folder: Path) -> None:
    with TestClient(app) as client:
        empty = _ask_for_a_link(client, "  ")
    assert empty.status_code == 422 and "Vul het e-mailadres in" in _alert(empty, "#forgot-error")
    assert sent_mail(mail_folder) == []


def test_an_expired_link_is_refused_on_the_page(
    app: FastAPI, session: Session, mail_folder: Path
) -> None:
    email = create_user(session, "viewer")
    with TestClient(app) as client:
        _ask_for_a_link(client, email)
        [message] = _mail_to(mail_folder, email)
        path, token = password_link(message)
        session.execute(update(AccountToken).values(expires_at=utc_now() - timedelta(minutes=1)))
        session.commit()
        page = client.get(path)
        assert page.status_code == 400 and "verlopen" in _alert(page, "#link-error")
        assert BeautifulSoup(page.text, "html.parser").select_one("#password") is None
        csrf = csrf_from(client.get("/password/forgot").text)
        refused = client.post(
            "/password/set",
            data={
                "csrftoken": csrf,
                "token": token,
                "password": NEW_PASSWORD,
                "password_again": NEW_PASSWORD,
            },
        )
        assert refused.status_code == 400 and "verlopen" in _alert(refused, "#link-error")
    assert _signs_in(session, email, PASSWORD)


def test_the_link_expires_after_the_configured_time(
    app: FastAPI, session: Session, mail_folder: Path
) -> None:
    email = create_user(session, "viewer")
    with TestClient(app) as client:
        _ask_for_a_link(client, email)
    token = session.scalars(select(AccountToken)).one()
    assert token.purpose == TokenPurpose.reset
    assert token.expires_at - token.created_at == timedelta(minutes=60)


def test_password_forms_without_the_csrf_token_are_refused(
    app: FastAPI, session: Session, mail_folder: Path
) -> None:
    email = create_user(session, "viewer")
    secret = accounts.issue_account_token(
        session, _user(session, email), purpose=TokenPurpose.reset, lifetime=timedelta(hours=1)
    )
    session.commit()
    with TestClient(app) as client:
        # No cookie at all: these forms are protected all the same (like signing in).
        forgot = client.post("/password/forgot", data={"email": email})
        chosen = client.post(
            "/password/set",
            data={"token": secret, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
        )
        assert forgot.status_code == chosen.status_code == 403
        sign_in(client, email)
        changed = client.post(
            "/account/password",
            data={
                "current_password": PASSWORD,
                "new_password": NEW_PASSWORD,
                "new_password_again": NEW_PASSWORD,
                "csrftoken": "forged",
            },
        )
        assert changed.status_code == 403
    assert sent_mail(mail_folder) == []
    assert _signs_in(session, email, PASSWORD)


# -- the account page ----------------------------------------------------------------------


def test_users_change_their_own_password_on_their_account_page(
    app: FastAPI, session: Session
) -> None:
    email = create_user(session, "viewer")
    with TestClient(app) as here, TestClient(app) as elsewhere:
        sign_in(here, email)
        sign_in(elsewhere, email)
        page = here.get("/account")
        note = _alert(page, "#password-note")
        assert "overal elders uitgelogd" in note and "API-tokens blijven werken" in note

        wrong = _change(here, "not my password", NEW_PASSWORD)
        assert wrong.status_code == 422
        assert "huidige wachtwoord is niet juist" in _alert(wrong, "#password-error")
        current = BeautifulSoup(wrong.text, "html.parser").select_one("#current-password")
        assert current is not None and current.get("aria-invalid") == "true"
        mismatch = _change(here, PASSWORD, NEW_PASSWORD, "something else entirely")
        assert mismatch.status_code == 422 and "niet gelijk" in _alert(mismatch, "#password-error")
        assert _signs_in(session, email, PASSWORD)

        changed = _change(here, PASSWORD, NEW_PASSWORD)
        assert (
            changed.status_code == 303 and changed.headers["location"] == "/account?done=password"
        )
        done = here.get("/account?done=password")
        assert "Uw wachtwoord is gewijzigd" in _alert(done, "#account-done")
        # This browser stays signed in; the other one is signed out.
        assert here.get("/account", follow_redirects=False).status_code == 200
        assert elsewhere.get("/account", follow_redirects=False).status_code == 303
    assert _signs_in(session, email, NEW_PASSWORD) and not _signs_in(session, email, PASSWORD)
    assert "user.change_password" in _actions(session)


# -- invitations ---------------------------------------------------------------------------


@pytest.fixture
def admin(app: FastAPI, session: Session) -> Iterator[TestClient]:
    with TestClient(app) as client:
        sign_in(client, create_user(session, "admin", email="admin@example.nl"))
        yield client


def _create_account(admin: TestClient, email: str) -> Any:
    token = csrf_from(admin.get("/admin/users").text)
    return admin.post(
        "/admin/users",
        data={"csrftoken": token, "email": email, "name": "Nina Nieuw", "role": "viewer"},
    )


def test_an_admin_creating_an_account_sends_an_invitation_instead_of_a_password(
    app: FastAPI, admin: TestClient, session: Session, mail_folder: Path
) -> None:
    form = BeautifulSoup(admin.get("/admin/users").text, "html.parser")
    assert form.select("form[action='/admin/users'] input[type=password]") == []
    created = _create_account(admin, "nina@example.nl")
    assert created.status_code == 200
    outcome = _alert(created, "#invitation-outcome")
    assert "nina@example.nl aangemaakt" in outcome and "7 dagen" in outcome
    assert "new-password" not in created.text and "wachtwoord, alleen nu" not in created.text
    row = _alert(created, f"#user-{_user(session, 'nina@example.nl').id}")
    assert "uitgenodigd: nog geen wachtwoord gekozen" in row

    [invitation] = _mail_to(mail_folder, "nina@example.nl")
    assert invitation["Subject"] == "Uw account voor Voortgang"
    body = invitation.get_content()
    assert "Admin admin heeft een account voor u aangemaakt" in body and "7 dagen" in body
    path, token = password_link(invitation)
    stored = session.scalars(select(AccountToken)).one()
    assert stored.purpose == TokenPurpose.invitation
    assert stored.expires_at - stored.created_at == timedelta(days=7)

    with TestClient(app) as newcomer:
        welcome = newcomer.get(path)
        assert "Welkom bij Voortgang" in _alert(welcome, "h1")
        assert _choose(newcomer, token, NEW_PASSWORD).status_code == 303
        sign_in(newcomer, "nina@example.nl", NEW_PASSWORD)
    listed = admin.get("/admin/users")
    assert "uitgenodigd" not in _alert(listed, f"#user-{stored.user_id}")
    actions = _actions(session)
    assert actions.index("user.create") < actions.index("user.invite")
    assert "user.invitation_accepted" in actions


def test_an_admin_sends_an_invitation_again(
    app: FastAPI, admin: TestClient, session: Session, mail_folder: Path
) -> None:
    _create_account(admin, "nina@example.nl")
    user_id = _user(session, "nina@example.nl").id
    token = csrf_from(admin.get("/admin/users").text)
    again = admin.post(f"/admin/users/{user_id}/invitation", data={"csrftoken": token})
    assert again.status_code == 200
    assert "aangemaakt" not in _alert(again, "#invitation-outcome")
    first, second = _mail_to(mail_folder, "nina@example.nl")
    assert password_link(first) != password_link(second)
    # Either link works; choosing a password with one spends the other.
    with TestClient(app) as newcomer:
        _, secret = password_link(second)
        assert _choose(newcomer, secret, NEW_PASSWORD).status_code == 303
        _, old_secret = password_link(first)
        assert _choose(newcomer, old_secret, "another password here").status_code == 400
    # Once a password is chosen there is nothing to invite to.
    refused = admin.post(f"/admin/users/{user_id}/invitation", data={"csrftoken": token})
    assert refused.status_code == 422 and "al een wachtwoord gekozen" in refused.text
    assert len(_mail_to(mail_folder, "nina@example.nl")) == 2


def test_an_invitation_that_cannot_be_sent_is_reported_and_the_account_stays(
    settings: Settings, session: Session
) -> None:
    unreachable = settings.model_copy(
        update={
            "mail_backend": MailBackend.smtp,
            "smtp_host": "127.0.0.1",
            "smtp_port": free_port(),
            "smtp_starttls": False,
            "smtp_timeout": 2,
        }
    )
    app = create_app(unreachable)
    with TestClient(app) as client:
        sign_in(client, create_user(session, "admin"))
        created = _create_account(client, "nina@example.nl")
    app.state.engine.dispose()
    assert created.status_code == 200
    warning = _alert(created, "#invitation-outcome")
    assert "kon niet worden verstuurd" in warning and "cannot connect to 127.0.0.1" in warning
    assert "Uitnodiging opnieuw versturen" in created.text
    user = _user(session, "nina@example.nl")
    assert not user.has_password
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.invite")).one()
    assert event.details["sent"] is False and "cannot connect" in event.details["reason"]


def test_the_dev_account_and_cli_users_still_sign_in(settings: Settings, session: Session) -> None:
    """`voortgang dev-account` (like `voortgang user create --password`) sets a password
    directly: no invitation is needed to sign in."""
    result = run_cli("dev-account", env={"DATABASE_URL": settings.database_url})
    assert result.exit_code == 0, result.output
    password = result.stdout.split("password:")[1].split()[0]
    assert _signs_in(session, "beheerder@voortgang.local", password)
    app = create_app(settings)
    with TestClient(app) as client:
        sign_in(client, "beheerder@voortgang.local", password)
        assert client.cookies.get(SESSION_COOKIE)
    app.state.engine.dispose()
