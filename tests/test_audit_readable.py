"""The audit log as people read it: every action by its name, subjects by their names, in the
reader's language, and where each change came from (the web, the API, an import, the command
line; "unknown" for events from before the source was kept)."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session, col

from app.accounts.service import create_api_token, get_user_by_email
from app.audit import service as audit
from app.audit.models import AuditAction, AuditEvent, AuditSource
from app.audit.presentation import ACTION_LABELS, SOURCE_LABELS, action_label, source_label
from app.config import PROJECT_ROOT
from app.i18n import set_language
from app.main import create_app
from app.periods.service import MOVES
from app.programmes.models import Activity
from app.review.models import ReviewKind
from tests.cli import run_cli
from tests.factories import create_programme, create_user, csrf_from, open_round, sign_in

APP = PROJECT_ROOT / "app"
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}")


def test_every_audit_action_has_a_label_in_both_languages() -> None:
    assert set(ACTION_LABELS) == set(AuditAction)
    # Two actions never read the same.
    assert len(set(ACTION_LABELS.values())) == len(ACTION_LABELS)
    for action in AuditAction:
        set_language("en")
        english = action_label(action)
        set_language("nl")
        dutch = action_label(action)
        assert english == ACTION_LABELS[action] and dutch != english, action
    set_language("en")
    assert {source_label(source) for source in AuditSource} == {
        "Web",
        "API",
        "Import",
        "Command line",
    }
    assert set(SOURCE_LABELS) == set(AuditSource) and source_label(None) == "unknown"
    set_language("nl")
    assert source_label(AuditSource.cli) == "Opdrachtregel" and source_label(None) == "onbekend"


def _python_files() -> list[Path]:
    files = sorted(APP.rglob("*.py"))
    assert len(files) > 50
    return files


def test_every_action_the_code_records_is_in_the_vocabulary() -> None:
    # record() takes an AuditAction (mypy holds every call to it to that) ...
    assert inspect.signature(audit.record).parameters["action"].annotation == "AuditAction"
    # ... and no call hands it a string made on the spot.
    calls = 0
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr != "record":
                continue
            for keyword in node.keywords:
                if keyword.arg == "action":
                    calls += 1
                    assert not isinstance(keyword.value, ast.Constant | ast.JoinedStr), (
                        f"{path}:{node.lineno}"
                    )
    assert calls >= 20
    # Actions made from a name at run time: every name they are made from is an action ...
    for move in MOVES:
        AuditAction(f"period.{move}")
    for kind in ReviewKind:
        AuditAction(f"review.{kind.value}")
    # ... and these are the only places that make one (a new one needs its line above).
    made = sorted(
        str(path.relative_to(PROJECT_ROOT))
        for path in _python_files()
        if "AuditAction(f" in path.read_text()
    )
    assert made == ["app/periods/service.py", "app/review/service.py"]
    # Every action in the vocabulary is recorded somewhere (none is left over).
    code = "\n".join(path.read_text() for path in _python_files())
    dynamic = {f"period.{move}" for move in MOVES} | {f"review.{kind.value}" for kind in ReviewKind}
    unused = [
        action
        for action in AuditAction
        if f"AuditAction.{action.name}" not in code.replace("app/audit/models.py", "")
        and action.value not in dynamic
    ]
    assert unused == []


@pytest.fixture
def admin_client(settings, session: Session):  # type: ignore[no-untyped-def]
    app = create_app(settings)
    client = TestClient(app)
    sign_in(client, create_user(session, "admin", email="admin@example.nl"))
    yield client
    app.state.engine.dispose()


def _events_from_everywhere(admin_client: TestClient, session: Session, database_url: str) -> int:
    """Events from the API, the web, the command line and services called without any (as
    events recorded before sources were); returns the activity changed through the API."""
    create_programme(session)
    period_id = open_round(
        session, "test-programme", name="Voortgangsrapportage 2031", reference_date="2031-10-01"
    )
    activity_id = session.scalars(
        select(col(Activity.id)).where(col(Activity.title) == "Activiteit 1.1")
    ).one()
    editor = get_user_by_email(session, create_user(session, "editor", ("ORG-A",)))
    _, secret = create_api_token(session, editor, name="koppeling")
    session.commit()
    changed = admin_client.patch(
        f"/api/v1/activities/{activity_id}/status",
        json={"status": "delayed", "explanation": "Via de API.", "based_on_version": 1},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert changed.status_code == 200, changed.text
    token = csrf_from(admin_client.get("/admin/organisations").text)
    created = admin_client.post(
        "/admin/organisations",
        data={"csrftoken": token, "code": "NIEUW", "name": "Nieuwe organisatie"},
        follow_redirects=False,
    )
    assert created.status_code == 303
    made = run_cli(
        "user",
        "create",
        "--email",
        "cli@example.nl",
        "--name",
        "Van De Opdrachtregel",
        "--password",
        "a long enough password for the cli",
        env={"DATABASE_URL": database_url},
    )
    assert made.exit_code == 0, made.stderr
    assert period_id
    return activity_id


def _row(page: BeautifulSoup, action: str) -> dict[str, str]:
    cell = page.select_one(f'#events td[data-action="{action}"]')
    assert cell is not None, action
    return {
        td["data-label"]: " ".join(td.get_text(" ").split())  # type: ignore[index]
        for td in cell.find_parent("tr").select("td")  # type: ignore[union-attr]
    }


def test_the_audit_log_reads_in_dutch_and_english_with_names_and_sources(
    admin_client: TestClient, session: Session, database_url: str
) -> None:
    _events_from_everywhere(admin_client, session, database_url)
    dutch = BeautifulSoup(admin_client.get("/admin/audit").text, "html.parser")
    update = _row(dutch, "status.update")
    assert update["Handeling"] == "Status bijgewerkt" and update["Bron"] == "API"
    assert "Activiteit 1.1" in update["Wat"] and "versie 2" in update["Wat"]
    assert (
        "In uitvoering maar met vertraging" in update["Wat"]
        and "Voortgangsrapportage 2031" in update["Wat"]
    )
    opened = _row(dutch, "period.open")
    assert opened["Handeling"] == "Uitvraag geopend" and opened["Bron"] == "onbekend"
    assert "Rapportageperiode Voortgangsrapportage 2031" in opened["Wat"]
    assert "Concept → Open voor updates" in opened["Wat"]
    created = _row(dutch, "period.create")
    assert "Peildatum 1 oktober 2031" in created["Wat"]
    organisation = _row(dutch, "organisation.create")
    assert organisation["Bron"] == "Web" and "Nieuwe organisatie" in organisation["Wat"]
    account = _row(dutch, "user.create")
    assert account["Bron"] == "Opdrachtregel" and "Van De Opdrachtregel" in account["Wat"]
    assert _row(dutch, "user.sign_in")["Bron"] == "Web"
    # The moment in Dutch, Dutch time; the machine-readable one stays in the attribute.
    when = dutch.select_one("#events tbody time")
    assert re.fullmatch(
        r"\d{1,2} (januari|februari|maart|april|mei|juni|juli|augustus|september|oktober"
        r"|november|december) \d{4} \d{2}:\d{2}",
        when.text,  # type: ignore[union-attr]
    )
    assert when["datetime"].endswith("+00:00")  # type: ignore[index, union-attr]
    assert not ISO_DATE.search(dutch.select_one("#events").get_text(" "))  # type: ignore[union-attr]
    # The filter names the actions and sources too.
    assert "Status bijgewerkt" in dutch.select_one("#audit-action").text  # type: ignore[union-attr]
    assert "Opdrachtregel" in dutch.select_one("#audit-source").text  # type: ignore[union-attr]

    english = BeautifulSoup(admin_client.get("/admin/audit?lang=en").text, "html.parser")
    update = _row(english, "status.update")
    assert update["Action"] == "Status updated" and update["Source"] == "API"
    assert "In progress, delayed" in update["What"] and "version 2" in update["What"]
    opened = _row(english, "period.open")
    assert opened["Source"] == "unknown" and "Draft → Open for updates" in opened["What"]
    assert "Reference date 1 October 2031" in _row(english, "period.create")["What"]
    assert _row(english, "user.create")["Source"] == "Command line"
    assert not ISO_DATE.search(english.select_one("#events").get_text(" "))  # type: ignore[union-attr]


def test_the_audit_log_filters_by_source(
    admin_client: TestClient, session: Session, database_url: str
) -> None:
    _events_from_everywhere(admin_client, session, database_url)

    def actions(source: str) -> set[str]:
        page = BeautifulSoup(
            admin_client.get("/admin/audit", params={"source": source}).text, "html.parser"
        )
        return {cell["data-action"] for cell in page.select("#events td[data-action]")}  # type: ignore[misc]

    assert actions("api") == {"status.update"}
    assert actions("cli") == {"user.create"}
    assert {"organisation.create", "user.sign_in"} <= actions("web")
    assert "status.update" not in actions("web")
    assert {"period.create", "period.open"} <= actions("unknown")
    assert "user.sign_in" not in actions("unknown")
    bad = admin_client.get("/admin/audit", params={"source": "fax"})
    assert bad.status_code == 422 and "fax" in bad.text
    rows = admin_client.get("/admin/audit.csv", params={"source": "api"}).text.splitlines()
    assert "source" in rows[0] and len(rows) == 2 and ",api," in rows[1]


def test_an_import_records_its_changes_as_from_an_import(session: Session) -> None:
    # The source in force is the caller's, unless an import says otherwise.
    with audit.recording_from(AuditSource.web):
        audit.record(session, actor=None, action=AuditAction.user_sign_in, object_type="user")
        with audit.recording_from(AuditSource.import_):
            audit.record(session, actor=None, action=AuditAction.status_import, object_type="x")
        audit.record(session, actor=None, action=AuditAction.user_sign_out, object_type="user")
    audit.record(session, actor=None, action=AuditAction.token_create, object_type="api_token")
    sources = {
        event.action: event.source
        for event in session.scalars(select(AuditEvent).order_by(col(AuditEvent.id)))
    }
    assert sources == {
        "user.sign_in": AuditSource.web,
        "status.import": AuditSource.import_,
        "user.sign_out": AuditSource.web,
        "token.create": None,
    }
