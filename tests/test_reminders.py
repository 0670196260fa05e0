"""Reminders in the update round: a real SMTP server (aiosmtpd), real .eml files, the real
command line and the coordinator's button."""

from __future__ import annotations

import email
import re
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session
from starlette.requests import Request
from typer.testing import Result

from app import readmodel
from app.accounts.service import deactivate, get_user_by_email
from app.activities import service as activities
from app.activities.models import Status
from app.audit.models import AuditEvent
from app.config import Environment, MailBackend, Settings
from app.main import create_app
from app.periods import service as periods
from app.reminders.service import send_reminders
from app.review import service as review
from app.web import templates
from tests.cli import run_cli
from tests.factories import (
    coordinator,
    create_user,
    csrf_from,
    current_user,
    open_round,
    publish,
    sign_in,
)

SLUG = "samen-tegen-mensenhandel"
PUBLIC_URL = "https://voortgang.example.nl"
LINK = re.compile(re.escape(PUBLIC_URL) + r"/activities/(\d+)")


# -- a real SMTP server ----------------------------------------------------------------------


class Collector:
    """aiosmtpd handler: keeps every message; refuses recipients whose address starts with
    'refused' the way a real server refuses an unknown mailbox."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if address.startswith("refused"):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(envelope.original_content, policy=default_policy)  # type: ignore[misc]
            for envelope in self.envelopes
        ]


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _authenticate(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
    # handled=False: aiosmtpd then answers a wrong password with 535, as a real server does.
    return AuthResult(
        success=auth_data.login == b"voortgang" and auth_data.password == b"mail password",
        handled=False,
    )


def _start(**options: Any) -> Iterator[SimpleNamespace]:
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    try:
        yield SimpleNamespace(port=controller.port, collector=collector)
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[SimpleNamespace]:
    yield from _start()


@pytest.fixture
def smtp_server_with_sign_in() -> Iterator[SimpleNamespace]:
    yield from _start(authenticator=_authenticate, auth_require_tls=False)


def mail_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "secret_key": "test-secret",
        "mail_backend": MailBackend.smtp,
        "smtp_host": "127.0.0.1",
        "smtp_port": free_port(),
        "smtp_starttls": False,
        "smtp_timeout": 5,
        "mail_from": "voortgang@example.nl",
        "public_url": PUBLIC_URL + "/",
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


# -- the round -------------------------------------------------------------------------------


def _round(session: Session) -> tuple[int, readmodel.PeriodRow]:
    programme_id = readmodel.get_programme(session, SLUG).id
    period_id = open_round(session)
    return programme_id, _period(session, programme_id, period_id)


def _period(session: Session, programme_id: int, period_id: int) -> readmodel.PeriodRow:
    session.commit()  # a fresh snapshot (the command line changes the database too)
    period = readmodel.choose_period(readmodel.list_periods(session, programme_id), period_id)
    assert period is not None
    return period


def _organisation_id(session: Session, programme_id: int, period, code: str) -> int:  # type: ignore[no-untyped-def]
    items = periods.round_items(session, programme_id=programme_id, period=period)
    return next(o.id for item in items for o in item.row.organisations if o.code == code)


def _open_ids(session: Session, programme_id: int, period, *codes: str) -> set[int]:  # type: ignore[no-untyped-def]
    """The open activities of these organisations, worked out independently of the service."""
    items = periods.round_items(session, programme_id=programme_id, period=period)
    return {
        item.row.id
        for item in items
        if item.open and any(o.code in codes for o in item.row.organisations)
    }


def _confirm(session: Session, period_id: int, activity_id: int, editor: str) -> None:
    """The editor saves the carried-over status unchanged: the activity is no longer open."""
    current = activities.latest_update(session, activity_id=activity_id, period_id=period_id)
    assert current is not None
    activities.record_status(
        session,
        activity_id=activity_id,
        period_id=period_id,
        status=Status(current.status),
        explanation=current.explanation,
        author=current_user(session, editor),
        based_on_version=current.version,
    )
    session.commit()


def _links(message: EmailMessage) -> list[int]:
    return [int(found) for found in LINK.findall(message.get_content())]


def _reminder_events(session: Session) -> list[AuditEvent]:
    session.commit()
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.action == "reminders.send").order_by(AuditEvent.id)
        )
    )


# -- the service over SMTP -------------------------------------------------------------------


def test_editor_gets_one_dutch_message_listing_exactly_their_open_activities(
    seeded_session: Session, seeded_database_url: str, smtp_server: SimpleNamespace
) -> None:
    programme_id, period = _round(seeded_session)
    editor = create_user(seeded_session, "editor", ("Politie",))
    politie_open = _open_ids(seeded_session, programme_id, period, "Politie")
    confirmed = min(politie_open)
    _confirm(seeded_session, period.id, confirmed, editor)
    expected = _open_ids(seeded_session, programme_id, period, "Politie")
    assert expected == politie_open - {confirmed}

    settings = mail_settings(seeded_database_url, smtp_port=smtp_server.port)
    report = send_reminders(
        seeded_session,
        settings=settings,
        programme_id=programme_id,
        period=period,
        actor=coordinator(seeded_session),
    )
    seeded_session.commit()

    [message] = smtp_server.collector.messages()
    assert [envelope.rcpt_tos for envelope in smtp_server.collector.envelopes] == [[editor]]
    assert message["To"].addresses[0].addr_spec == editor
    assert message["From"] == "voortgang@example.nl"
    assert (
        message["Subject"] == "Herinnering: activiteiten bijwerken voor Voortgangsrapportage 2022"
    )
    body = message.get_content()
    links = _links(message)
    assert len(links) == len(set(links)) and set(links) == expected
    assert confirmed not in links
    assert body.startswith("Beste Editor ")
    assert f"wachten nog {len(expected)} activiteiten van uw organisatie op uw update" in body
    assert "uiterlijk 15 november 2022 bijwerken" in body
    assert body.count("Nog niet bijgewerkt in deze periode") == len(expected)
    assert f"{PUBLIC_URL}/periods/{period.id}/todo" in body
    assert "Resultaat " in body and "redacteur bent voor Politie" in body

    [reminder] = report.reminders
    assert (reminder.email, reminder.organisations, reminder.activities) == (
        editor,
        ["Politie"],
        len(expected),
    )
    assert reminder.sent and report.complete
    assert "Politie" not in {organisation.code for organisation in report.without_editors}
    [event] = _reminder_events(seeded_session)
    assert event.object_type == "period" and event.object_id == str(period.id)
    assert event.details["sent"] == [editor] and event.details["failed"] == []
    assert event.actor.startswith("Coordinator ")


def test_an_activity_shared_by_two_of_an_editors_organisations_is_listed_once(
    seeded_session: Session, seeded_database_url: str, smtp_server: SimpleNamespace
) -> None:
    programme_id, period = _round(seeded_session)
    items = periods.round_items(seeded_session, programme_id=programme_id, period=period)
    shared = next(
        item.row
        for item in items
        if "Politie" in {o.code for o in item.row.organisations} and len(item.row.organisations) > 1
    )
    partner = next(o.code for o in shared.organisations if o.code != "Politie")
    editor = create_user(seeded_session, "editor", ("Politie", partner))
    settings = mail_settings(seeded_database_url, smtp_port=smtp_server.port)
    report = send_reminders(
        seeded_session, settings=settings, programme_id=programme_id, period=period, actor=None
    )
    [message] = smtp_server.collector.messages()
    links = _links(message)
    expected = _open_ids(seeded_session, programme_id, period, "Politie", partner)
    assert shared.id in links
    assert len(links) == len(set(links)) and set(links) == expected
    assert report.reminders[0].email == editor
    assert report.reminders[0].activities == len(expected)


def test_sent_back_activity_carries_the_reviewers_comment_and_in_review_only_that_one(
    seeded_session: Session, seeded_database_url: str, smtp_server: SimpleNamespace
) -> None:
    programme_id, period = _round(seeded_session)
    editor = create_user(seeded_session, "editor", ("Politie",))
    activity_id = min(_open_ids(seeded_session, programme_id, period, "Politie"))
    current = activities.latest_update(seeded_session, activity_id=activity_id, period_id=period.id)
    assert current is not None
    changed = activities.record_status(
        seeded_session,
        activity_id=activity_id,
        period_id=period.id,
        status=Status.delayed if current.status != Status.delayed else Status.ongoing,
        explanation="Nieuwe toelichting.",
        author=current_user(seeded_session, editor),
        based_on_version=current.version,
    )
    seeded_session.commit()
    assert activity_id not in _open_ids(seeded_session, programme_id, period, "Politie")
    coordinator_user = coordinator(seeded_session)
    review.send_back(
        seeded_session,
        status_update_id=changed.id,
        reviewer=coordinator_user,
        comment="Noem de nieuwe datum.",
    )
    periods.move_period(seeded_session, period_id=period.id, move="review", actor=coordinator_user)
    in_review = _period(seeded_session, programme_id, period.id)
    settings = mail_settings(seeded_database_url, smtp_port=smtp_server.port)
    report = send_reminders(
        seeded_session,
        settings=settings,
        programme_id=programme_id,
        period=in_review,
        actor=coordinator_user,
    )
    [message] = smtp_server.collector.messages()
    # In review editors can change only what was sent back to them, so only that is listed.
    assert _links(message) == [activity_id]
    assert (
        "Door de beoordelaar naar u teruggestuurd: Noem de nieuwe datum." in message.get_content()
    )
    assert report.reminders[0].activities == 1


def test_a_refused_recipient_is_reported_and_the_others_still_get_theirs(
    seeded_session: Session, seeded_database_url: str, smtp_server: SimpleNamespace
) -> None:
    programme_id, period = _round(seeded_session)
    refused = create_user(seeded_session, "editor", ("Politie",), email="refused@example.nl")
    # Sorted after the refused address, so its send comes after the failure.
    received = create_user(seeded_session, "editor", ("Politie",), email="zz-editor@example.nl")
    settings = mail_settings(seeded_database_url, smtp_port=smtp_server.port)
    report = send_reminders(
        seeded_session, settings=settings, programme_id=programme_id, period=period, actor=None
    )
    assert [envelope.rcpt_tos for envelope in smtp_server.collector.envelopes] == [[received]]
    failed, sent = report.reminders
    assert (failed.email, failed.sent, sent.email, sent.sent) == (refused, False, received, True)
    assert "refused the recipient" in failed.error and "550" in failed.error
    assert "No such mailbox here" in failed.error
    assert not report.complete
    [event] = _reminder_events(seeded_session)
    assert event.actor == "command line"
    assert event.details["sent"] == [received]
    assert event.details["failed"] == [{"email": refused, "reason": failed.error}]


def test_smtp_sign_in_with_the_configured_account(
    seeded_session: Session, seeded_database_url: str, smtp_server_with_sign_in: SimpleNamespace
) -> None:
    programme_id, period = _round(seeded_session)
    editor = create_user(seeded_session, "editor", ("Politie",))
    server = smtp_server_with_sign_in
    good = mail_settings(
        seeded_database_url,
        smtp_port=server.port,
        smtp_username="voortgang",
        smtp_password="mail password",
    )
    report = send_reminders(
        seeded_session, settings=good, programme_id=programme_id, period=period, actor=None
    )
    assert report.reminders[0].sent
    assert [envelope.rcpt_tos for envelope in server.collector.envelopes] == [[editor]]
    wrong = mail_settings(
        seeded_database_url, smtp_port=server.port, smtp_username="voortgang", smtp_password="nope"
    )
    report = send_reminders(
        seeded_session, settings=wrong, programme_id=programme_id, period=period, actor=None
    )
    assert "refused the sign-in of voortgang" in report.reminders[0].error
    assert "535" in report.reminders[0].error
    assert len(server.collector.envelopes) == 1


def test_deactivated_editor_gets_nothing(
    seeded_session: Session, seeded_database_url: str, smtp_server: SimpleNamespace
) -> None:
    programme_id, period = _round(seeded_session)
    active = create_user(seeded_session, "editor", ("Politie",))
    gone = create_user(seeded_session, "editor", ("Politie",))
    deactivate(seeded_session, get_user_by_email(seeded_session, gone))
    seeded_session.commit()
    settings = mail_settings(seeded_database_url, smtp_port=smtp_server.port)
    report = send_reminders(
        seeded_session, settings=settings, programme_id=programme_id, period=period, actor=None
    )
    assert [envelope.rcpt_tos for envelope in smtp_server.collector.envelopes] == [[active]]
    assert [reminder.email for reminder in report.reminders] == [active]

    deactivate(seeded_session, get_user_by_email(seeded_session, active))
    seeded_session.commit()
    report = send_reminders(
        seeded_session, settings=settings, programme_id=programme_id, period=period, actor=None
    )
    assert report.reminders == [] and len(smtp_server.collector.envelopes) == 1
    assert "Politie" in {organisation.code for organisation in report.without_editors}
    assert not report.complete  # open activities and nobody reminded


def test_organisations_without_an_editor_are_reported_with_their_open_activities(
    seeded_session: Session, seeded_database_url: str, smtp_server: SimpleNamespace
) -> None:
    programme_id, period = _round(seeded_session)
    create_user(seeded_session, "editor", ("Politie",))
    # Editors only: a viewer or coordinator of an organisation is nobody to remind.
    create_user(seeded_session, "viewer", ("OM",))
    settings = mail_settings(seeded_database_url, smtp_port=smtp_server.port)
    report = send_reminders(
        seeded_session, settings=settings, programme_id=programme_id, period=period, actor=None
    )
    items = periods.round_items(seeded_session, programme_id=programme_id, period=period)
    with_open = {o.code for item in items if item.open for o in item.row.organisations}
    unreached = {organisation.code: organisation for organisation in report.without_editors}
    assert set(unreached) == with_open - {"Politie"}
    assert "OM" in unreached
    assert unreached["OM"].activities == len(_open_ids(seeded_session, programme_id, period, "OM"))
    [event] = _reminder_events(seeded_session)
    assert sorted(event.details["without_editors"]) == sorted(unreached)


def test_reminders_are_refused_for_a_published_or_draft_period(
    seeded_session: Session, seeded_database_url: str, smtp_server: SimpleNamespace
) -> None:
    programme_id, period = _round(seeded_session)
    create_user(seeded_session, "editor", ("Politie",))
    actor = coordinator(seeded_session)
    periods.move_period(seeded_session, period_id=period.id, move="review", actor=actor)
    publish(seeded_session, period_id=period.id, actor=actor)
    published = _period(seeded_session, programme_id, period.id)
    settings = mail_settings(seeded_database_url, smtp_port=smtp_server.port)
    with pytest.raises(periods.PeriodClosed, match="Voortgangsrapportage 2022"):
        send_reminders(
            seeded_session,
            settings=settings,
            programme_id=programme_id,
            period=published,
            actor=actor,
        )
    from datetime import date

    draft = periods.create_period(
        seeded_session,
        programme_id=programme_id,
        name="Voortgangsrapportage 2023",
        reference_date=date(2023, 11, 1),
        deadline=None,
        actor=actor,
    )
    with pytest.raises(periods.PeriodClosed):
        send_reminders(
            seeded_session,
            settings=settings,
            programme_id=programme_id,
            period=_period(seeded_session, programme_id, draft.id),
            actor=actor,
        )
    assert smtp_server.collector.envelopes == []
    assert _reminder_events(seeded_session) == []


# -- other backends --------------------------------------------------------------------------


def test_folder_backend_writes_readable_eml_files(
    seeded_session: Session, seeded_database_url: str, tmp_path: Path
) -> None:
    programme_id, period = _round(seeded_session)
    first = create_user(seeded_session, "editor", ("Politie",))
    second = create_user(seeded_session, "editor", ("OM",))
    folder = tmp_path / "mail" / "out"
    settings = mail_settings(
        seeded_database_url, mail_backend=MailBackend.folder, mail_folder=folder
    )
    report = send_reminders(
        seeded_session, settings=settings, programme_id=programme_id, period=period, actor=None
    )
    assert all(reminder.sent for reminder in report.reminders)
    files = sorted(folder.glob("*.eml"))
    assert len(files) == 2
    parsed = {}
    for path in files:
        with path.open("rb") as handle:
            message = BytesParser(policy=default_policy).parse(handle)
        parsed[message["To"].addresses[0].addr_spec] = message
    assert set(parsed) == {first, second}
    for address, codes in ((first, ("Politie",)), (second, ("OM",))):
        message = parsed[address]
        assert message["Subject"].startswith("Herinnering: ")
        assert message["Message-ID"] and message["Date"]
        assert message.get_content_type() == "text/plain"
        assert set(_links(message)) == _open_ids(seeded_session, programme_id, period, *codes)


def test_folder_backend_reports_a_folder_it_cannot_write(
    seeded_session: Session, seeded_database_url: str, tmp_path: Path
) -> None:
    programme_id, period = _round(seeded_session)
    create_user(seeded_session, "editor", ("Politie",))
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    settings = mail_settings(
        seeded_database_url, mail_backend=MailBackend.folder, mail_folder=blocker / "mail"
    )
    report = send_reminders(
        seeded_session, settings=settings, programme_id=programme_id, period=period, actor=None
    )
    assert "cannot write to the mail folder" in report.reminders[0].error


def test_console_backend_prints_the_message(
    seeded_session: Session, seeded_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    programme_id, period = _round(seeded_session)
    editor = create_user(seeded_session, "editor", ("Politie",))
    settings = mail_settings(seeded_database_url, mail_backend=None)
    assert settings.effective_mail_backend == MailBackend.console
    report = send_reminders(
        seeded_session, settings=settings, programme_id=programme_id, period=period, actor=None
    )
    printed = capsys.readouterr().out
    assert report.reminders[0].sent
    assert editor in printed and "Herinnering: activiteiten bijwerken" in printed
    assert "Nog niet bijgewerkt in deze periode" in printed  # decoded, not quoted-printable


def test_production_needs_an_smtp_host(database_url: str) -> None:
    def production(**values: Any) -> Settings:
        return Settings(  # type: ignore[call-arg]
            database_url=database_url,
            environment=Environment.production,
            secret_key="x" * 48,
            _env_file=None,
            **({"public_url": PUBLIC_URL} | values),
        )

    assert production().effective_mail_backend == MailBackend.smtp
    with pytest.raises(RuntimeError, match="SMTP_HOST"):
        production().check_production_ready()
    production(smtp_host="mail.example.nl").check_production_ready()
    production(mail_backend=MailBackend.folder).check_production_ready()


# -- the command line ------------------------------------------------------------------------


def _remind(database_url: str, port: int, *args: str) -> Result:
    env = {
        "DATABASE_URL": database_url,
        "MAIL_BACKEND": "smtp",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "SMTP_STARTTLS": "false",
        "SMTP_TIMEOUT": "5",
        "PUBLIC_URL": PUBLIC_URL,
    }
    return run_cli("remind", *args, env=env)


def test_cli_reports_each_recipient_and_exits_1_when_a_send_fails(
    seeded_session: Session, seeded_database_url: str, smtp_server: SimpleNamespace
) -> None:
    programme_id, period = _round(seeded_session)

    nobody = _remind(seeded_database_url, smtp_server.port)
    assert nobody.exit_code == 1, nobody.stderr
    assert "nobody    Politie (" in nobody.stdout
    assert "no active editor to remind" in nobody.stderr

    editor = create_user(seeded_session, "editor", ("Politie",))
    count = len(_open_ids(seeded_session, programme_id, period, "Politie"))
    sent = _remind(seeded_database_url, smtp_server.port)
    assert sent.exit_code == 0, sent.stdout + sent.stderr
    assert f"sent      {editor} (Politie, {count} open)" in sent.stdout
    assert [envelope.rcpt_tos for envelope in smtp_server.collector.envelopes] == [[editor]]

    closed = free_port()
    failed = _remind(seeded_database_url, closed, "--period", "Voortgangsrapportage 2022")
    assert failed.exit_code == 1
    assert f"FAILED    {editor} (Politie, {count} open): cannot connect to 127.0.0.1:{closed}" in (
        failed.stdout
    )
    assert "refused" in failed.stdout.lower()
    assert "1 reminders could not be sent" in failed.stderr

    events = _reminder_events(seeded_session)
    assert [event.actor for event in events] == ["command line"] * 3
    assert events[-1].details["failed"][0]["email"] == editor


def test_cli_chooses_programme_and_period_or_says_why_not(
    seeded_session: Session, seeded_database_url: str
) -> None:
    no_round = _remind(seeded_database_url, free_port())
    assert no_round.exit_code == 1
    assert "open for updates or in review" in no_round.stderr
    programme_id, period = _round(seeded_session)
    unknown = _remind(seeded_database_url, free_port(), "--period", "Voortgangsrapportage 1999")
    assert unknown.exit_code == 1 and "Voortgangsrapportage 2022" in unknown.stderr
    other = _remind(seeded_database_url, free_port(), "--programme", "nope")
    assert other.exit_code == 1 and "nope" in other.stderr
    help_text = run_cli("remind", "--help")
    assert help_text.exit_code == 0
    for setting in ("MAIL_BACKEND", "MAIL_FOLDER", "SMTP_HOST", "SMTP_USERNAME", "PUBLIC_URL"):
        assert setting in help_text.stdout


# -- the coordinator's button ----------------------------------------------------------------


def _button(app: Any, period_id: int) -> BeautifulSoup:
    request = Request(
        {
            "type": "http",
            "app": app,
            "path": "/",
            "headers": [],
            "query_string": b"",
            "server": ("testserver", 80),
            "scheme": "http",
            "root_path": "",
        }
    )
    html = templates.env.get_template("reminders/_button.html").render(
        request=request, period=SimpleNamespace(id=period_id)
    )
    return BeautifulSoup(html, "html.parser")


def _post_button(client: TestClient, app: Any, period_id: int):  # type: ignore[no-untyped-def]
    form = _button(app, period_id).find("form")
    assert form is not None and form["method"] == "post"
    token = csrf_from(client.get("/").text)
    return client.post(str(form["action"]), data={"csrftoken": token}, follow_redirects=False)


def test_coordinator_sends_reminders_with_the_button(
    seeded_session: Session, seeded_database_url: str, smtp_server: SimpleNamespace
) -> None:
    programme_id, period = _round(seeded_session)
    editor = create_user(seeded_session, "editor", ("Politie",))
    boss = create_user(seeded_session, "coordinator")
    count = len(_open_ids(seeded_session, programme_id, period, "Politie"))
    app = create_app(mail_settings(seeded_database_url, smtp_port=smtp_server.port))
    try:
        with TestClient(app) as client:
            sign_in(client, boss)
            # The button as the period page shows it, submitted as a browser would.
            period_page = client.get(f"/periods/{period.id}")
            assert period_page.status_code == 200
            form = BeautifulSoup(period_page.text, "html.parser").find(
                "form", action=f"/periods/{period.id}/reminders"
            )
            assert form is not None and form["method"] == "post"
            assert form.find("button").get_text(strip=True) == "Herinneringen versturen"
            token = form.find("input", {"name": "csrftoken"})["value"]
            response = client.post(
                str(form["action"]), data={"csrftoken": token}, follow_redirects=False
            )
            assert response.status_code == 200, response.text[:500]
            page = BeautifulSoup(response.text, "html.parser")
            rows = [
                [cell.get_text(" ", strip=True) for cell in row.find_all("td")]
                for row in page.select("table tbody tr")
            ]
            assert rows == [
                [f"Editor {editor.split('@')[0]} <{editor}>", "Politie", str(count), "Verstuurd"]
            ]
            assert "OM" in page.select_one("#without-editors").get_text()
            assert page.find("a", href=f"/periods/{period.id}") is not None
    finally:
        app.state.engine.dispose()
    assert [envelope.rcpt_tos for envelope in smtp_server.collector.envelopes] == [[editor]]
    [event] = _reminder_events(seeded_session)
    assert event.actor.endswith(f"<{boss}>") and event.address


def test_button_shows_failures_with_502(seeded_session: Session, seeded_database_url: str) -> None:
    _, period = _round(seeded_session)
    create_user(seeded_session, "editor", ("Politie",))
    boss = create_user(seeded_session, "coordinator")
    closed = free_port()
    app = create_app(mail_settings(seeded_database_url, smtp_port=closed))
    try:
        with TestClient(app) as client:
            sign_in(client, boss)
            response = _post_button(client, app, period.id)
    finally:
        app.state.engine.dispose()
    assert response.status_code == 502
    page = BeautifulSoup(response.text, "html.parser")
    outcome = page.select("table tbody tr td")[-1].get_text(" ", strip=True)
    assert outcome.startswith("Niet verstuurd:") and f"127.0.0.1:{closed}" in outcome
    assert page.find(attrs={"role": "alert"}) is not None
    assert len(_reminder_events(seeded_session)) == 1  # recorded although a send failed


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_only_coordinators_may_press_the_button(
    seeded_session: Session, seeded_database_url: str, smtp_server: SimpleNamespace, role: str
) -> None:
    _, period = _round(seeded_session)
    email_address = create_user(seeded_session, role, ("Politie",) if role == "editor" else ())
    app = create_app(mail_settings(seeded_database_url, smtp_port=smtp_server.port))
    try:
        with TestClient(app) as client:
            sign_in(client, email_address)
            page = client.get(f"/periods/{period.id}").text
            assert f'action="/periods/{period.id}/reminders"' not in page
            assert _post_button(client, app, period.id).status_code == 403
    finally:
        app.state.engine.dispose()
    assert smtp_server.collector.envelopes == []


def test_button_on_a_published_period_is_refused(
    seeded_session: Session, seeded_database_url: str
) -> None:
    _, period = _round(seeded_session)
    actor = coordinator(seeded_session)
    periods.move_period(seeded_session, period_id=period.id, move="review", actor=actor)
    publish(seeded_session, period_id=period.id, actor=actor)
    seeded_session.commit()
    boss = create_user(seeded_session, "coordinator")
    app = create_app(mail_settings(seeded_database_url))
    try:
        with TestClient(app) as client:
            sign_in(client, boss)
            response = _post_button(client, app, period.id)
            missing = _post_button(client, app, 999_999)
    finally:
        app.state.engine.dispose()
    assert response.status_code == 409
    assert "Voortgangsrapportage 2022" in response.text
    assert missing.status_code == 404
