"""Reminders planned in days before a period's deadline, sent by a check run from cron through
the job machinery, once per period and day even with several processes checking at once; and
links in messages that follow the address the app is served on."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlmodel import Session

from app import readmodel
from app.audit.models import AuditEvent
from app.config import Environment, MailBackend, Settings
from app.db import make_engine
from app.errors import Forbidden, InvalidInput, NotFound
from app.jobs import service as jobs
from app.jobs.models import Job, JobState
from app.main import create_app
from app.periods import service as periods
from app.periods.models import ReportingPeriod
from app.periods.service import PeriodClosed
from app.reminders import service as reminders
from app.reminders.models import ReminderKind, ReminderRun, ReminderSchedule
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
from tests.test_reminders import SLUG, mail_settings

# open_round's period: reference date 2022-11-01, deadline 2022-11-15.
DEADLINE = date(2022, 11, 15)


def _messages(folder: Path) -> list[Any]:
    found = []
    for path in sorted(folder.glob("*.eml")):
        with path.open("rb") as handle:
            found.append(BytesParser(policy=default_policy).parse(handle))
    return found


def _recipients(folder: Path) -> list[str]:
    return sorted(message["To"].addresses[0].addr_spec for message in _messages(folder))


@pytest.fixture
def planned(seeded_session: Session, seeded_database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The 2022 round open with a police editor and an OM editor, reminders planned 7 and 1
    days before the deadline, and settings that write messages to a folder."""
    period_id = open_round(seeded_session)
    boss = coordinator(seeded_session)
    editors = [
        create_user(seeded_session, "editor", ("Politie",)),
        create_user(seeded_session, "editor", ("OM",)),
    ]
    for days in (7, 1):
        reminders.plan_reminder(seeded_session, period_id=period_id, days_before=days, actor=boss)
    seeded_session.commit()
    folder = tmp_path / "mail"
    settings = mail_settings(
        seeded_database_url, mail_backend=MailBackend.folder, mail_folder=folder
    )
    engine = make_engine(seeded_database_url)
    yield {
        "period_id": period_id,
        "coordinator": boss,
        "editors": sorted(editors),
        "folder": folder,
        "settings": settings,
        "engine": engine,
        "session": seeded_session,
    }
    engine.dispose()


def _runs(session: Session, period_id: int) -> list[ReminderRun]:
    session.expire_all()
    return list(
        session.scalars(
            select(ReminderRun).where(ReminderRun.period_id == period_id).order_by(ReminderRun.id)
        )
    )


# -- links follow the real address -----------------------------------------------------------


def test_public_url_is_derived_from_host_and_port_when_unset() -> None:
    def settings(**values: Any) -> Settings:
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    assert settings().public_url == "http://127.0.0.1:8000"
    assert settings(port=18100).public_url == "http://127.0.0.1:18100"
    assert settings(host="voortgang.local", port=8080).public_url == "http://voortgang.local:8080"
    # A wildcard address is reached on this machine.
    assert settings(host="0.0.0.0", port=18100).public_url == "http://127.0.0.1:18100"
    assert settings(host="::", port=18100).public_url == "http://[::1]:18100"
    # Set, it is used as it is (without a trailing slash: links add their own).
    given = settings(public_url="https://voortgang.example.nl/", port=18100)
    assert given.public_url == "https://voortgang.example.nl"


def test_public_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "18100")
    monkeypatch.delenv("PUBLIC_URL", raising=False)
    assert Settings(_env_file=None).public_url == "http://127.0.0.1:18100"  # type: ignore[call-arg]
    monkeypatch.setenv("PUBLIC_URL", "https://voortgang.example.nl")
    assert Settings(_env_file=None).public_url == "https://voortgang.example.nl"  # type: ignore[call-arg]


def test_production_needs_a_public_url(database_url: str) -> None:
    values: dict[str, Any] = {
        "database_url": database_url,
        "environment": Environment.production,
        "secret_key": "x" * 48,
        "smtp_host": "mail.example.nl",
        "_env_file": None,
    }
    with pytest.raises(RuntimeError, match="PUBLIC_URL"):
        Settings(**values).check_production_ready()
    Settings(**values, public_url="https://voortgang.example.nl").check_production_ready()


def test_reminders_from_the_command_line_link_to_the_port_the_app_is_served_on(
    seeded_session: Session, seeded_database_url: str, tmp_path: Path
) -> None:
    period_id = open_round(seeded_session)
    create_user(seeded_session, "editor", ("Politie",))
    folder = tmp_path / "mail"
    result = run_cli(
        "remind",
        env={
            "DATABASE_URL": seeded_database_url,
            "MAIL_BACKEND": "folder",
            "MAIL_FOLDER": str(folder),
            "PORT": "18100",
            "PUBLIC_URL": "",
        },
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    [message] = _messages(folder)
    body = message.get_content()
    assert f"http://127.0.0.1:18100/periods/{period_id}/todo" in body
    assert "/activities/" in body and ":8000" not in body


def test_serve_passes_its_host_and_port_to_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    """`voortgang serve --port` is where the app (created by uvicorn in each worker, from the
    environment) is reached: its links follow."""
    called: dict[str, Any] = {}
    monkeypatch.setattr("app.cli.uvicorn.run", lambda *args, **kwargs: called.update(kwargs))
    monkeypatch.delenv("PUBLIC_URL", raising=False)
    monkeypatch.setenv("PORT", "8000")  # restored afterwards, whatever serve sets
    result = run_cli("serve", "--port", "18100")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert called["port"] == 18100
    assert Settings(_env_file=None).public_url == "http://127.0.0.1:18100"  # type: ignore[call-arg]


# -- planning --------------------------------------------------------------------------------


def test_a_coordinator_plans_reminders_in_days_before_the_deadline(planned) -> None:  # type: ignore[no-untyped-def]
    session, period_id, boss = planned["session"], planned["period_id"], planned["coordinator"]
    assert reminders.planned_days(session, period_id) == [7, 1]
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.action.like("reminders.%"))
    ).all()
    assert actions == ["reminders.plan", "reminders.plan"]
    view = reminders.overview(session, period_id=period_id, today=date(2022, 11, 1))
    assert [(p.days_before, p.due_on, p.state) for p in view.planned] == [
        (7, date(2022, 11, 8), reminders.PLANNED),
        (1, date(2022, 11, 14), reminders.PLANNED),
    ]
    reminders.unplan_reminder(session, period_id=period_id, days_before=1, actor=boss)
    assert reminders.planned_days(session, period_id) == [7]
    with pytest.raises(NotFound):
        reminders.unplan_reminder(session, period_id=period_id, days_before=1, actor=boss)


def test_bad_plans_are_refused_with_the_reason_and_change_nothing(planned) -> None:  # type: ignore[no-untyped-def]
    session, period_id, boss = planned["session"], planned["period_id"], planned["coordinator"]
    editor = current_user(session, planned["editors"][0])
    cases: list[tuple[Any, dict[str, Any], str]] = [
        (InvalidInput, {"days_before": 7, "actor": boss}, "al gepland"),
        (InvalidInput, {"days_before": -1, "actor": boss}, "Dagen voor de uiterste datum"),
        (InvalidInput, {"days_before": 400, "actor": boss}, "366"),
        (Forbidden, {"days_before": 3, "actor": editor}, "coördinatoren"),
    ]
    for error, arguments, message in cases:
        with pytest.raises(error, match=message):
            reminders.plan_reminder(session, period_id=period_id, **arguments)
        session.rollback()
    assert reminders.planned_days(session, period_id) == [7, 1]
    # Without a deadline there is nothing to count back from.
    periods.set_deadline(session, period_id=period_id, deadline=None, actor=boss)
    with pytest.raises(InvalidInput, match="uiterste datum"):
        reminders.plan_reminder(session, period_id=period_id, days_before=3, actor=boss)
    session.rollback()
    # A published period plans nothing.
    periods.move_period(session, period_id=period_id, move="review", actor=boss)
    publish(session, period_id=period_id, actor=boss)
    session.commit()
    with pytest.raises(PeriodClosed):
        reminders.plan_reminder(session, period_id=period_id, days_before=3, actor=boss)
    session.rollback()
    with pytest.raises(PeriodClosed):
        reminders.unplan_reminder(session, period_id=period_id, days_before=7, actor=boss)
    session.rollback()
    assert reminders.planned_days(session, period_id) == [7, 1]


# -- what is due -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2022, 11, 7), None),  # before the first
        (date(2022, 11, 8), (date(2022, 11, 8), 7)),
        (date(2022, 11, 10), (date(2022, 11, 8), 7)),  # a missed check catches up
        (date(2022, 11, 14), (date(2022, 11, 14), 1)),  # the latest that is due, only
        (date(2022, 11, 15), (date(2022, 11, 14), 1)),
        (date(2022, 11, 16), None),  # the deadline has passed
    ],
)
def test_which_planned_reminder_is_due(today: date, expected: Any) -> None:
    assert reminders._current_due(DEADLINE, [7, 1], today) == expected


def test_only_periods_in_a_round_have_due_reminders(planned) -> None:  # type: ignore[no-untyped-def]
    session, period_id, boss = planned["session"], planned["period_id"], planned["coordinator"]
    due = reminders.due_reminders(session, today=date(2022, 11, 8))
    assert due == [reminders.Due(period_id, "Voortgangsrapportage 2022", date(2022, 11, 8), 7)]
    assert reminders.due_reminders(session, today=date(2022, 11, 7)) == []
    assert reminders.due_reminders(session, today=date(2022, 11, 16)) == []
    # In review the round's reminders still go out (to what was sent back).
    periods.move_period(session, period_id=period_id, move="review", actor=boss)
    assert len(reminders.due_reminders(session, today=date(2022, 11, 8))) == 1
    publish(session, period_id=period_id, actor=boss)
    assert reminders.due_reminders(session, today=date(2022, 11, 8)) == []
    session.rollback()


# -- sending through the job machinery -------------------------------------------------------


def test_a_due_reminder_goes_out_once_as_a_job(planned) -> None:  # type: ignore[no-untyped-def]
    session, period_id = planned["session"], planned["period_id"]
    engine, settings, folder = planned["engine"], planned["settings"], planned["folder"]

    assert reminders.send_due(engine, settings=settings, today=date(2022, 11, 7)) == []
    assert _recipients(folder) == []

    [outcome] = reminders.send_due(engine, settings=settings, today=date(2022, 11, 8))
    assert outcome.state == JobState.done and outcome.sent == 2 and outcome.failed == 0
    assert outcome.due_on == date(2022, 11, 8) and outcome.days_before == 7
    assert _recipients(folder) == planned["editors"]
    # Links start with the configured address.
    body = _messages(folder)[0].get_content()
    assert f"https://voortgang.example.nl/periods/{period_id}/todo" in body

    [run] = _runs(session, period_id)
    assert run.kind == ReminderKind.scheduled and run.due_on == date(2022, 11, 8)
    assert run.sent == 2 and run.finished_at is not None
    job = session.get(Job, run.job_id)
    assert job is not None and job.kind == reminders.SEND_JOB and job.state == JobState.done
    assert sorted(job.result["sent"]) == planned["editors"]

    # The same day again, and the days after: nothing more until the next planned day.
    for day in (8, 9, 13):
        assert reminders.send_due(engine, settings=settings, today=date(2022, 11, day)) == []
    assert len(_messages(folder)) == 2
    [last] = reminders.send_due(engine, settings=settings, today=date(2022, 11, 14))
    assert last.days_before == 1 and last.sent == 2
    assert len(_messages(folder)) == 4
    assert [run.due_on for run in _runs(session, period_id)] == [
        date(2022, 11, 8),
        date(2022, 11, 14),
    ]
    event = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "reminders.send")
        .order_by(AuditEvent.id.desc())
    ).first()
    assert event is not None and event.actor == "command line"
    assert event.details["kind"] == "scheduled" and event.details["due_on"] == "2022-11-14"


def test_two_processes_checking_at_once_send_a_reminder_once(planned) -> None:  # type: ignore[no-untyped-def]
    """Two checks at the same moment, each with its own engine (as two processes have): one
    claims the reminder, the other finds it claimed."""
    url, settings, folder = planned["settings"].database_url, planned["settings"], planned["folder"]
    engines = [make_engine(url), make_engine(url)]
    start = threading.Barrier(2)
    outcomes: list[list[reminders.DueOutcome]] = []
    errors: list[BaseException] = []

    def check(engine: Any) -> None:
        try:
            start.wait()
            outcomes.append(reminders.send_due(engine, settings=settings, today=date(2022, 11, 8)))
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)

    threads = [threading.Thread(target=check, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for engine in engines:
        engine.dispose()
    assert not errors, errors
    assert len(outcomes) == 2
    assert sorted(len(found) for found in outcomes) == [0, 1]
    assert _recipients(folder) == planned["editors"]  # each editor once
    assert len(_runs(planned["session"], planned["period_id"])) == 1


def test_a_claim_made_elsewhere_is_not_made_twice(planned) -> None:  # type: ignore[no-untyped-def]
    """A check that read what is due before another process claimed it: its claim is refused
    by the unique row, and it queues nothing."""
    session, engine = planned["session"], planned["engine"]
    [due] = reminders.due_reminders(session, today=date(2022, 11, 8))
    with Session(engine) as first:
        assert reminders.claim(first, due=due) is not None
        first.commit()
    with Session(engine) as second:
        assert reminders.claim(second, due=due) is None
        second.commit()
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Job)) == 1
    assert len(_runs(session, planned["period_id"])) == 1


def test_a_job_left_queued_by_a_stopped_check_is_sent_by_the_next(planned) -> None:  # type: ignore[no-untyped-def]
    session, engine, settings = planned["session"], planned["engine"], planned["settings"]
    [due] = reminders.due_reminders(session, today=date(2022, 11, 8))
    with Session(engine, expire_on_commit=False) as claimed:
        job = reminders.claim(claimed, due=due)
        assert job is not None
        claimed.commit()
    assert _recipients(planned["folder"]) == []  # claimed, then the check stopped
    [outcome] = reminders.send_due(engine, settings=settings, today=date(2022, 11, 9))
    assert outcome.job_id == job.id and outcome.sent == 2
    assert _recipients(planned["folder"]) == planned["editors"]


def test_a_failed_sending_is_recorded_on_its_job_and_shown(planned) -> None:  # type: ignore[no-untyped-def]
    session, engine, period_id = planned["session"], planned["engine"], planned["period_id"]
    blocker = planned["folder"].parent / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    settings = planned["settings"].model_copy(update={"mail_folder": blocker / "mail"})
    [outcome] = reminders.send_due(engine, settings=settings, today=date(2022, 11, 8))
    assert outcome.failed == 2 and outcome.sent == 0
    view = reminders.overview(session, period_id=period_id, today=date(2022, 11, 8))
    assert view.planned[0].state == reminders.SENT  # it went out, with failures: not again
    assert view.recent[0].run.failed == 2
    # A job that fails as a whole (the period closed in the meantime) shows as failed.
    [due] = reminders.due_reminders(session, today=date(2022, 11, 14))
    with Session(engine, expire_on_commit=False) as claimed:
        job = reminders.claim(claimed, due=due)
        claimed.execute(
            update(ReportingPeriod).where(ReportingPeriod.id == period_id).values(state="draft")
        )
        claimed.commit()
    assert job is not None
    jobs.run(engine, job.id, settings=settings)
    session.expire_all()
    assert session.get(Job, job.id).state == JobState.failed  # type: ignore[union-attr]
    view = reminders.overview(session, period_id=period_id, today=date(2022, 11, 14))
    assert [p.state for p in view.planned] == [reminders.SENT, reminders.FAILED]


# -- the period's page -----------------------------------------------------------------------


@pytest.fixture
def web(planned):  # type: ignore[no-untyped-def]
    app = create_app(planned["settings"])
    session = planned["session"]
    clients = {}
    for role in ("coordinator", "editor", "viewer"):
        email = (
            planned["coordinator"].email
            if role == "coordinator"
            else planned["editors"][0]
            if role == "editor"
            else create_user(session, "viewer")
        )
        client = TestClient(app)
        sign_in(client, email)
        clients[role] = client
    yield clients
    app.state.engine.dispose()


def _page(client: TestClient, period_id: int) -> BeautifulSoup:
    response = client.get(f"/periods/{period_id}")
    assert response.status_code == 200
    return BeautifulSoup(response.text, "html.parser")


def test_the_period_page_shows_the_plan_and_when_reminders_last_went_out(planned, web) -> None:  # type: ignore[no-untyped-def]
    period_id = planned["period_id"]
    page = _page(web["coordinator"], period_id)
    section = page.select_one("#reminders")
    assert section is not None
    rows = section.select("#planned-reminders li")
    assert [row["data-days-before"] for row in rows] == ["7", "1"]
    when = [row.select_one(".planned-reminder__when").get_text(strip=True) for row in rows]
    assert when == ["7 dagen voor de uiterste datum", "1 dag voor de uiterste datum"]
    assert "8 november 2022" in rows[0].get_text()  # the planned day (the real today is later)
    assert "nog geen herinneringen" in section.select_one("#last-reminders").text.lower()

    reminders.send_due(planned["engine"], settings=planned["settings"], today=date(2022, 11, 8))
    page = _page(web["coordinator"], period_id)
    section = page.select_one("#reminders")
    assert section.select_one("#planned-reminders li")["data-state"] == reminders.SENT
    last = section.select_one("#last-reminders").text
    assert "Laatst verstuurd" in last and "2 berichten" in last
    [sent] = section.select("#sent-reminders tbody tr")
    assert sent["data-kind"] == "scheduled"
    assert "gepland, 7 dagen voor de uiterste datum" in sent.get_text(" ", strip=True)
    assert "2 berichten verstuurd" in sent.get_text(" ", strip=True)
    job_link = sent.find("a")
    assert job_link is not None and job_link["href"].startswith("/jobs/")
    job_page = web["coordinator"].get(job_link["href"])
    assert job_page.status_code == 200
    sent_to = BeautifulSoup(job_page.text, "html.parser").select("#reminders-sent-to li")
    assert sorted(item.text for item in sent_to) == planned["editors"]

    # An editor sees the plan and what went out, but nothing to change it with.
    page = _page(web["editor"], period_id)
    assert page.select("#planned-reminders li")
    assert page.select_one("#days-before") is None
    assert page.find("form", action=f"/periods/{period_id}/reminders/unplan") is None
    assert page.select_one("#sent-reminders a") is None


def test_a_coordinator_plans_and_unplans_on_the_period_page(planned, web) -> None:  # type: ignore[no-untyped-def]
    session, period_id = planned["session"], planned["period_id"]
    client = web["coordinator"]
    page = _page(client, period_id)
    form = page.find("form", action=f"/periods/{period_id}/reminders/plan")
    assert form is not None and form.select_one("#days-before")["type"] == "number"
    token = csrf_from(client.get("/").text)
    done = client.post(
        str(form["action"]), data={"csrftoken": token, "days_before": "3"}, follow_redirects=False
    )
    assert done.status_code == 303 and "done=reminder-planned" in done.headers["location"]
    assert reminders.planned_days(session, period_id) == [7, 3, 1]

    for value, message in (("drie", "is geen heel aantal dagen"), ("3", "al gepland")):
        refused = client.post(str(form["action"]), data={"csrftoken": token, "days_before": value})
        assert refused.status_code == 422
        page = BeautifulSoup(refused.text, "html.parser")
        assert message in page.select_one("#period-error").text
        assert page.select_one("#days-before")["value"] == value  # kept to correct
    session.expire_all()
    assert reminders.planned_days(session, period_id) == [7, 3, 1]

    removed = client.post(
        f"/periods/{period_id}/reminders/unplan",
        data={"csrftoken": token, "days_before": "3"},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    assert reminders.planned_days(session, period_id) == [7, 1]


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_only_coordinators_plan_reminders(planned, web, role: str) -> None:  # type: ignore[no-untyped-def]
    client, period_id = web[role], planned["period_id"]
    token = csrf_from(client.get("/").text)
    for action in ("plan", "unplan"):
        response = client.post(
            f"/periods/{period_id}/reminders/{action}",
            data={"csrftoken": token, "days_before": "7"},
            follow_redirects=False,
        )
        assert response.status_code == 403
    planned["session"].expire_all()
    assert reminders.planned_days(planned["session"], period_id) == [7, 1]


def test_reminders_sent_by_hand_show_as_last_sent(planned, web) -> None:  # type: ignore[no-untyped-def]
    session, period_id = planned["session"], planned["period_id"]
    client = web["coordinator"]
    token = csrf_from(client.get("/").text)
    response = client.post(f"/periods/{period_id}/reminders", data={"csrftoken": token})
    assert response.status_code == 200
    [run] = _runs(session, period_id)
    assert run.kind == ReminderKind.manual and run.sent == 2 and run.due_on is None
    assert run.actor == planned["coordinator"].name
    page = _page(client, period_id)
    [row] = page.select("#sent-reminders tbody tr")
    assert row["data-kind"] == "manual"
    assert "met de hand" in row.get_text(" ", strip=True)
    assert "2 berichten" in page.select_one("#last-reminders").text
    # By hand is no planned reminder: the one for the 8th still goes out on its day.
    [outcome] = reminders.send_due(
        planned["engine"], settings=planned["settings"], today=date(2022, 11, 8)
    )
    assert outcome.days_before == 7


# -- the command line ------------------------------------------------------------------------


def _env(planned: Any) -> dict[str, str]:
    return {
        "DATABASE_URL": planned["settings"].database_url,
        "MAIL_BACKEND": "folder",
        "MAIL_FOLDER": str(planned["folder"]),
        "PUBLIC_URL": "https://voortgang.example.nl",
    }


def test_cli_sends_due_reminders_once_and_shows_the_plan(planned) -> None:  # type: ignore[no-untyped-def]
    env = _env(planned)
    early = run_cli("reminders", "send-due", "--date", "2022-11-07", env=env)
    assert early.exit_code == 0 and "no planned reminder is due" in early.stdout
    sent = run_cli("reminders", "send-due", "--date", "2022-11-08", env=env)
    assert sent.exit_code == 0, sent.stdout + sent.stderr
    assert "sent      Voortgangsrapportage 2022, due 2022-11-08 (7 days before): 2" in sent.stdout
    again = run_cli("reminders", "send-due", "--date", "2022-11-08", env=env)
    assert again.exit_code == 0 and "no planned reminder is due" in again.stdout
    assert _recipients(planned["folder"]) == planned["editors"]

    shown = run_cli("reminders", "show", env=env)
    assert shown.exit_code == 0, shown.stderr
    assert "deadline 2022-11-15" in shown.stdout
    assert "planned   7 days before: 2022-11-08, sent" in shown.stdout
    assert "planned for 2022-11-08: 2 sent, 0 failed" in shown.stdout

    bad = run_cli("reminders", "send-due", "--date", "8 november", env=env)
    assert bad.exit_code == 1 and "is not a date" in bad.stderr
    help_text = run_cli("reminders", "send-due", "--help")
    assert "cron" in help_text.stdout


def test_cli_exits_1_when_a_planned_reminder_could_not_be_sent(planned, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the folder should be")
    env = _env(planned) | {"MAIL_FOLDER": str(blocker / "mail")}
    failed = run_cli("reminders", "send-due", "--date", "2022-11-08", env=env)
    assert failed.exit_code == 1
    assert "FAILED    Voortgangsrapportage 2022, due 2022-11-08" in failed.stdout


def test_the_seeded_programme_has_no_plan_and_nothing_due(seeded_session: Session) -> None:
    """Nothing is planned unless a coordinator plans it."""
    programme = readmodel.get_programme(seeded_session, SLUG)
    [period] = readmodel.list_periods(seeded_session, programme.id)
    assert seeded_session.scalar(select(func.count()).select_from(ReminderSchedule)) == 0
    assert reminders.due_reminders(seeded_session, today=date.today() + timedelta(days=1)) == []
    assert reminders.overview(seeded_session, period_id=period.id, today=date.today()).planned == []
