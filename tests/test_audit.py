"""The audit log: admins read, filter and export it; nobody can change it."""

from __future__ import annotations

import csv
import io

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session

from app.accounts.service import get_user_by_email
from app.audit import service as audit
from app.audit.models import AuditAction
from app.main import create_app
from tests.factories import (
    PASSWORD,
    create_user,
    csrf_from,
    password_link,
    sent_mail,
    sign_in,
    with_mail_folder,
)


@pytest.fixture
def admin_client(settings, session: Session, tmp_path):  # type: ignore[no-untyped-def]
    app = create_app(with_mail_folder(settings, tmp_path / "mail"))
    client = TestClient(app)
    sign_in(client, create_user(session, "admin", email="admin@example.nl"))
    yield client
    app.state.engine.dispose()


def _add_events(session: Session) -> None:
    viewer = create_user(session, "viewer", email="vera@example.nl")
    user = get_user_by_email(session, viewer)
    audit.record(
        session,
        actor=None,
        actor_label="Vera <vera@example.nl>",
        action=AuditAction.status_update,
        object_type="activity",
        object_id=7,
        summary='=HYPERLINK("http://evil")',
    )
    audit.record(
        session,
        actor=None,
        actor_label="Piet <piet@example.nl>",
        action=AuditAction.user_set_role,
        object_type="user",
        object_id=user.id,
        summary="viewer → editor",
    )
    session.commit()


def test_admin_filters_the_audit_log(admin_client: TestClient, session: Session) -> None:
    _add_events(session)
    page = BeautifulSoup(
        admin_client.get("/admin/audit", params={"action": "status.update"}).text, "html.parser"
    )
    rows = page.select("#events tbody tr")
    assert len(rows) == 1 and "Vera" in rows[0].text
    by_actor = BeautifulSoup(
        admin_client.get("/admin/audit", params={"actor": "piet"}).text, "html.parser"
    )
    assert [r.select("td")[2].text for r in by_actor.select("#events tbody tr")] == [
        "Rol of organisaties gewijzigd"
    ]
    future = BeautifulSoup(
        admin_client.get("/admin/audit", params={"since": "2999-01-01"}).text, "html.parser"
    )
    assert "Geen gebeurtenissen" in future.select_one("#events").text
    bad = admin_client.get("/admin/audit", params={"since": "gisteren"})
    assert bad.status_code == 422 and "JJJJ-MM-DD" in bad.text


def test_audit_csv_export_is_complete_and_safe(admin_client: TestClient, session: Session) -> None:
    _add_events(session)
    response = admin_client.get("/admin/audit.csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    actions = [row["action"] for row in rows]
    assert "status.update" in actions and "user.set_role" in actions and "user.sign_in" in actions
    hyperlink = next(row for row in rows if row["action"] == "status.update")
    assert hyperlink["summary"].startswith("'=")  # no formula runs when opened


def test_admin_changes_are_audited(admin_client: TestClient, session: Session) -> None:
    page = admin_client.get("/admin/users")
    token = csrf_from(page.text)
    created = admin_client.post(
        "/admin/users",
        data={
            "csrftoken": token,
            "email": "nieuw@example.nl",
            "name": "Nieuw",
            "role": "editor",
            "organisations": [],
        },
    )
    assert created.status_code == 422 and "minstens één organisatie" in created.text
    assert (
        admin_client.get("/admin/audit", params={"action": "user.create"}).text.count(
            "nieuw@example.nl"
        )
        == 0
    )


def test_nobody_can_change_or_delete_audit_events(session: Session) -> None:
    audit.record(session, actor=None, action=AuditAction.user_sign_in, object_type="x")
    session.commit()
    for statement in ("UPDATE audit_event SET actor = 'someone else'", "DELETE FROM audit_event"):
        with pytest.raises(DatabaseError, match="append-only"):
            session.execute(text(statement))
        session.rollback()


def test_admin_creates_changes_and_deactivates_accounts(
    admin_client: TestClient, session: Session
) -> None:
    token = csrf_from(admin_client.get("/admin/users").text)
    created = admin_client.post(
        "/admin/users",
        data={
            "csrftoken": token,
            "email": "Redacteur@Example.nl",
            "name": "Rita Redacteur",
            "role": "editor",
            "organisations": ["ORG-A"],
        },
    )
    assert created.status_code == 422  # no such organisation yet
    from tests.factories import create_programme

    create_programme(session, action_lines=1, results_per_line=1, activities_per_result=1)
    created = admin_client.post(
        "/admin/users",
        data={
            "csrftoken": token,
            "email": "Redacteur@Example.nl",
            "name": "Rita Redacteur",
            "role": "editor",
            "organisations": ["ORG-A"],
        },
    )
    assert created.status_code == 200
    page = BeautifulSoup(created.text, "html.parser")
    assert "uitnodiging" in page.select_one("#invitation-outcome").text
    assert page.select_one("#new-password") is None  # no password is shown to the admin
    user = get_user_by_email(session, "redacteur@example.nl")
    # The new user chooses a password with the invitation's link, then signs in with it.
    [invitation] = sent_mail(admin_client.app.state.settings.mail_folder)
    assert invitation["To"].addresses[0].addr_spec == "redacteur@example.nl"
    link, secret = password_link(invitation)
    other = TestClient(admin_client.app)
    form = other.get(link)
    assert form.status_code == 200 and "redacteur@example.nl" in form.text
    chosen = other.post(
        "/password/set",
        data={
            "csrftoken": csrf_from(form.text),
            "token": secret,
            "password": PASSWORD,
            "password_again": PASSWORD,
        },
        follow_redirects=False,
    )
    assert chosen.status_code == 303
    sign_in(other, "redacteur@example.nl", PASSWORD)
    changed = admin_client.post(
        f"/admin/users/{user.id}",
        data={
            "csrftoken": token,
            "role": "coordinator",
            "organisations": ["ORG-B"],
        },
        follow_redirects=False,
    )
    assert changed.status_code == 303
    session.expire_all()
    assert get_user_by_email(session, "redacteur@example.nl").role == "coordinator"
    admin_client.post(f"/admin/users/{user.id}/deactivate", data={"csrftoken": token})
    assert other.get("/account", follow_redirects=False).status_code == 303
    actions = [e.action for e in audit.list_events(session, audit.AuditFilters(), limit=None)]
    assert {
        "user.create",
        "user.invite",
        "user.invitation_accepted",
        "user.set_role",
        "user.deactivate",
    } <= set(actions)
