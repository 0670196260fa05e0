"""Reporting periods: the life cycle, carry-over, immutability of a published period, reopening,
the structure between periods, and the completeness of an update round."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
import yaml
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from app.activities import service as activities
from app.activities.models import Status, StatusApproved, StatusUpdate, UpdateSource
from app.audit.models import AuditEvent
from app.cli import DEFAULT_SEED
from app.config import Settings
from app.errors import InvalidInput
from app.main import create_app
from app.periods import service as periods
from app.periods.models import PeriodState, PeriodTransition, ReportingPeriod
from app.periods.service import PeriodClosed
from app.programmes import service as structure
from app.programmes.models import Activity, ActivityOrganisation, Organisation, Programme
from tests.factories import (
    coordinator,
    create_user,
    csrf_from,
    current_user,
    open_round,
    publish,
    sign_in,
)
from tests.test_board import SLUG


def _programme(session: Session) -> Programme:
    return session.scalars(select(Programme).where(Programme.slug == SLUG)).one()


def _period(session: Session, name: str) -> ReportingPeriod:
    session.expire_all()
    return session.scalars(select(ReportingPeriod).where(ReportingPeriod.name == name)).one()


def _police_activities(session: Session) -> list[int]:
    return list(
        session.scalars(
            select(Activity.id)
            .join(ActivityOrganisation, ActivityOrganisation.activity_id == Activity.id)
            .join(Organisation, Organisation.id == ActivityOrganisation.organisation_id)
            .where(Organisation.code == "Politie")
            .order_by(Activity.id)
        )
    )


@pytest.fixture
def clients(seeded_settings: Settings) -> Iterator[dict[str, TestClient]]:
    """A coordinator, an editor for the police and a viewer, each signed in, on one app."""
    app = create_app(seeded_settings)
    with Session(app.state.engine) as session:
        emails = {
            "coordinator": create_user(session, "coordinator"),
            "editor": create_user(session, "editor", ("Politie",)),
            "viewer": create_user(session, "viewer"),
        }
    found = {}
    for role, email in emails.items():
        client = TestClient(app)
        sign_in(client, email)
        client.email = email  # type: ignore[attr-defined]
        found[role] = client
    yield found
    app.state.engine.dispose()


def _token(client: TestClient, path: str = "/") -> str:
    return csrf_from(client.get(path).text)


# -- the seed's 2021 report -----------------------------------------------------------------


def test_seed_loads_the_2021_report_as_published_with_derived_statuses(seeded_session) -> None:  # type: ignore[no-untyped-def]
    period = _period(seeded_session, "Voortgangsrapportage 2021")
    assert period.state == PeriodState.published and period.published_at is not None
    sources = set(
        seeded_session.scalars(
            select(StatusUpdate.source).where(StatusUpdate.period_id == period.id)
        )
    )
    assert sources == {UpdateSource.derived}
    counted = seeded_session.scalar(
        select(func.count())
        .select_from(StatusApproved)
        .where(StatusApproved.period_id == period.id)
    )
    assert counted == 128
    steps = seeded_session.scalars(select(PeriodTransition)).all()
    assert [(s.from_state, s.to_state) for s in steps] == [(None, PeriodState.published)]


def test_published_2021_board_still_marks_derived_statuses(clients) -> None:  # type: ignore[no-untyped-def]
    page = BeautifulSoup(
        clients["viewer"].get(f"/programmes/{SLUG}/activities").text, "html.parser"
    )
    assert len(page.select(".derived-note")) == 128
    assert "Gepubliceerd" in clients["viewer"].get(f"/programmes/{SLUG}").text


# -- immutability ---------------------------------------------------------------------------


def test_published_period_refuses_every_change(seeded_session, clients) -> None:  # type: ignore[no-untyped-def]
    period = _period(seeded_session, "Voortgangsrapportage 2021")
    activity_id = _police_activities(seeded_session)[0]
    actor = coordinator(seeded_session)
    with pytest.raises(PeriodClosed, match="gepubliceerd|published"):
        activities.record_status(
            seeded_session,
            activity_id=activity_id,
            period_id=period.id,
            status=Status.completed,
            explanation="Afgerond.",
            author=actor,
            based_on_version=1,
        )
    seeded_session.rollback()

    web = clients["coordinator"]
    form = web.get(f"/activities/{activity_id}/edit?period={period.id}")
    assert form.status_code == 409
    saved = web.post(
        f"/activities/{activity_id}/status",
        data={
            "csrftoken": _token(web),
            "period_id": str(period.id),
            "status": "completed",
            "explanation": "Afgerond.",
            "based_on_version": "1",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 409
    assert "is gepubliceerd en kan niet meer veranderen" in saved.text

    # Not even a direct insert gets past the database.
    with pytest.raises(DBAPIError), seeded_session.begin_nested():
        seeded_session.add(
            StatusUpdate(
                activity_id=activity_id,
                period_id=period.id,
                version=2,
                status=Status.completed,
                explanation="Afgerond.",
                source=UpdateSource.entered,
            )
        )
        seeded_session.flush()
    seeded_session.rollback()
    assert (
        seeded_session.scalar(
            select(func.count())
            .select_from(StatusUpdate)
            .where(StatusUpdate.activity_id == activity_id)
        )
        == 1
    )


def test_api_refuses_changes_to_a_published_period(seeded_app, seeded_session) -> None:  # type: ignore[no-untyped-def]
    from app.accounts.service import create_api_token, get_user_by_email

    email = create_user(seeded_session, "coordinator")
    token, secret = create_api_token(
        seeded_session, get_user_by_email(seeded_session, email), name="t"
    )
    seeded_session.commit()
    activity_id = _police_activities(seeded_session)[0]
    with TestClient(seeded_app) as api:
        response = api.patch(
            f"/api/v1/activities/{activity_id}/status",
            json={"status": "completed", "explanation": "Klaar.", "based_on_version": 1},
            headers={"Authorization": f"Bearer {secret}"},
        )
    assert response.status_code == 409
    assert "published" in response.json()["detail"] or "gepubliceerd" in response.json()["detail"]


# -- the life cycle -------------------------------------------------------------------------


def test_a_period_moves_through_its_life_and_every_move_is_recorded(
    clients, seeded_session
) -> None:  # type: ignore[no-untyped-def]
    web = clients["coordinator"]
    token = _token(web, f"/programmes/{SLUG}/periods")
    created = web.post(
        f"/programmes/{SLUG}/periods",
        data={
            "csrftoken": token,
            "name": "Voortgangsrapportage 2022",
            "reference_date": "2022-11-01",
            "deadline": "2022-11-15",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    period = _period(seeded_session, "Voortgangsrapportage 2022")
    assert period.state == PeriodState.draft and period.deadline == date(2022, 11, 15)
    # A draft is not yet the default period: the board still shows 2021.
    board = web.get(f"/programmes/{SLUG}").text
    assert "selected>Voortgangsrapportage 2021" in board

    def move(step: str, reason: str = "") -> int:
        response = web.post(
            f"/periods/{period.id}/move",
            data={"csrftoken": token, "move": step, "reason": reason},
            follow_redirects=False,
        )
        return response.status_code

    assert move("publish") == 409  # not from a draft
    assert _period(seeded_session, "Voortgangsrapportage 2022").state == PeriodState.draft
    assert move("open") == 303
    assert move("open") == 409  # twice: refused, nothing happens twice
    assert move("review") == 303
    assert move("reopen-round") == 303
    assert move("review") == 303
    # 128 activities were never updated: publishing is the coordinator's explicit choice.
    assert move("publish") == 422
    assert _period(seeded_session, "Voortgangsrapportage 2022").state == PeriodState.in_review
    published = web.post(
        f"/periods/{period.id}/publish",
        data={"csrftoken": token, "accept_not_updated": "128"},
        follow_redirects=False,
    )
    assert published.status_code == 303
    period = _period(seeded_session, "Voortgangsrapportage 2022")
    assert period.state == PeriodState.published and period.published_at is not None
    steps = seeded_session.scalars(
        select(PeriodTransition)
        .where(PeriodTransition.period_id == period.id)
        .order_by(PeriodTransition.id)
    ).all()
    assert [step.to_state.value for step in steps] == [
        "draft",
        "open",
        "in_review",
        "open",
        "in_review",
        "published",
    ]
    actions = seeded_session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.object_type == "period", AuditEvent.object_id == str(period.id))
        .order_by(AuditEvent.id)
    ).all()
    assert actions == [
        "period.create",
        "period.open",
        "period.review",
        "period.reopen-round",
        "period.review",
        "period.publish",
    ]


def test_editors_and_viewers_cannot_move_a_period(clients, seeded_session) -> None:  # type: ignore[no-untyped-def]
    period = _period(seeded_session, "Voortgangsrapportage 2021")
    for role in ("editor", "viewer"):
        client = clients[role]
        response = client.post(
            f"/periods/{period.id}/move",
            data={"csrftoken": _token(client), "move": "correct", "reason": "x"},
            follow_redirects=False,
        )
        assert response.status_code == 403
    assert _period(seeded_session, "Voortgangsrapportage 2021").state == PeriodState.published


def test_bad_period_input_gets_a_clear_message_and_changes_nothing(clients, seeded_session) -> None:  # type: ignore[no-untyped-def]
    web = clients["coordinator"]
    token = _token(web, f"/programmes/{SLUG}/periods")
    cases = [
        ({"name": "", "reference_date": "2022-11-01"}, "naam"),
        ({"name": "X", "reference_date": "1 november"}, "is geen datum"),
        ({"name": "Voortgangsrapportage 2021", "reference_date": "2022-11-01"}, "bestaat al"),
        ({"name": "Y", "reference_date": "2022-11-01", "deadline": "morgen"}, "is geen datum"),
    ]
    for data, message in cases:
        response = web.post(
            f"/programmes/{SLUG}/periods", data={"csrftoken": token, **data}, follow_redirects=False
        )
        assert response.status_code == 422, data
        assert (
            message in BeautifulSoup(response.text, "html.parser").select_one("#period-error").text
        )
    assert seeded_session.scalar(select(func.count()).select_from(ReportingPeriod)) == 1


def test_a_deadline_before_the_reference_date_is_refused_by_the_service(seeded_session) -> None:  # type: ignore[no-untyped-def]
    actor = coordinator(seeded_session)
    programme_id = _programme(seeded_session).id
    with pytest.raises(InvalidInput) as refused:
        periods.create_period(
            seeded_session,
            programme_id=programme_id,
            name="Voortgangsrapportage 2022",
            reference_date=date(2022, 10, 1),
            deadline=date(2022, 9, 30),
            actor=actor,
        )
    # The message names the field and both dates, in the user's language.
    assert "uiterste datum" in refused.value.message.lower()
    assert "30 september 2022" in refused.value.message
    assert "1 oktober 2022" in refused.value.message
    seeded_session.rollback()
    assert seeded_session.scalar(select(func.count()).select_from(ReportingPeriod)) == 1
    # On the reference date itself, or after it, is fine.
    created = periods.create_period(
        seeded_session,
        programme_id=programme_id,
        name="Voortgangsrapportage 2022",
        reference_date=date(2022, 10, 1),
        deadline=date(2022, 10, 1),
        actor=actor,
    )
    seeded_session.commit()
    with pytest.raises(InvalidInput, match="1 oktober 2022"):
        periods.set_deadline(
            seeded_session, period_id=created.id, deadline=date(2022, 8, 1), actor=actor
        )
    seeded_session.rollback()
    assert _period(seeded_session, "Voortgangsrapportage 2022").deadline == date(2022, 10, 1)
    periods.set_deadline(
        seeded_session, period_id=created.id, deadline=date(2022, 11, 15), actor=actor
    )
    assert _period(seeded_session, "Voortgangsrapportage 2022").deadline == date(2022, 11, 15)


def test_a_deadline_before_the_reference_date_is_refused_in_the_forms(
    clients, seeded_session
) -> None:  # type: ignore[no-untyped-def]
    web = clients["coordinator"]
    token = _token(web, f"/programmes/{SLUG}/periods")
    data = {
        "csrftoken": token,
        "name": "Voortgangsrapportage 2022",
        "reference_date": "2022-10-01",
        "deadline": "2022-09-15",
    }
    response = web.post(f"/programmes/{SLUG}/periods", data=data, follow_redirects=False)
    assert response.status_code == 422
    page = BeautifulSoup(response.text, "html.parser")
    error = page.select_one("#period-error").text
    assert "uiterste datum" in error.lower() and "peildatum" in error
    assert "15 september 2022" in error and "1 oktober 2022" in error
    # What was typed is still in the form, to correct.
    assert page.select_one("#period-deadline")["value"] == "2022-09-15"
    assert page.select_one("#period-reference")["value"] == "2022-10-01"
    assert seeded_session.scalar(select(func.count()).select_from(ReportingPeriod)) == 1

    created = web.post(
        f"/programmes/{SLUG}/periods",
        data={**data, "deadline": "2022-11-15"},
        follow_redirects=False,
    )
    assert created.status_code == 303
    period = _period(seeded_session, "Voortgangsrapportage 2022")
    refused = web.post(
        f"/periods/{period.id}/deadline",
        data={"csrftoken": token, "deadline": "2022-09-01"},
        follow_redirects=False,
    )
    assert refused.status_code == 422
    error = BeautifulSoup(refused.text, "html.parser").select_one("#period-error").text
    assert "1 september 2022" in error and "peildatum" in error
    assert _period(seeded_session, "Voortgangsrapportage 2022").deadline == date(2022, 11, 15)
    events = seeded_session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.object_type == "period", AuditEvent.object_id == str(period.id)
        )
    ).all()
    assert "period.deadline" not in events
    # In English too.
    web.get("/language/en")
    english = web.post(
        f"/periods/{period.id}/deadline",
        data={"csrftoken": token, "deadline": "2022-09-01"},
        follow_redirects=False,
    )
    error = BeautifulSoup(english.text, "html.parser").select_one("#period-error").text
    assert "deadline for updates" in error and "1 September 2022" in error


def test_one_update_round_at_a_time(seeded_session) -> None:  # type: ignore[no-untyped-def]
    open_round(seeded_session)
    actor = coordinator(seeded_session)
    second = periods.create_period(
        seeded_session,
        programme_id=_programme(seeded_session).id,
        name="Voortgangsrapportage 2023",
        reference_date=date(2023, 11, 1),
        deadline=None,
        actor=actor,
    )
    with pytest.raises(PeriodClosed, match="2022"):
        periods.move_period(seeded_session, period_id=second.id, move="open", actor=actor)


def test_opening_carries_every_status_over_marked_not_yet_updated(seeded_session, clients) -> None:  # type: ignore[no-untyped-def]
    previous = _period(seeded_session, "Voortgangsrapportage 2021")
    period_id = open_round(seeded_session)
    old = {
        u.activity_id: (u.status, u.explanation)
        for u in seeded_session.scalars(
            select(StatusUpdate).where(StatusUpdate.period_id == previous.id)
        )
    }
    new = seeded_session.scalars(
        select(StatusUpdate).where(StatusUpdate.period_id == period_id)
    ).all()
    assert len(new) == len(old) == 128
    for update in new:
        assert update.version == 1 and update.source == UpdateSource.carried_over
        assert (update.status, update.explanation) == old[update.activity_id]
    page = BeautifulSoup(
        clients["viewer"].get(f"/programmes/{SLUG}/activities?period={period_id}").text,
        "html.parser",
    )
    marks = [mark.text for mark in page.select(".round-note")]
    assert len(marks) == 128 and set(marks) == {"nog niet bijgewerkt voor deze periode"}
    # The newest started period is the default now.
    assert "selected>Voortgangsrapportage 2022" in clients["viewer"].get(f"/programmes/{SLUG}").text


def test_confirming_unchanged_ends_not_yet_updated(seeded_session, clients) -> None:  # type: ignore[no-untyped-def]
    period_id = open_round(seeded_session)
    activity_id = _police_activities(seeded_session)[0]
    editor = clients["editor"]
    page = editor.get(f"/activities/{activity_id}?period={period_id}")
    soup = BeautifulSoup(page.text, "html.parser")
    confirm = soup.find("button", string="Ongewijzigd bevestigen voor deze periode")
    assert confirm is not None
    form = confirm.find_parent("form")
    data = {field["name"]: field.get("value", "") for field in form.select("input")}
    response = editor.post(form["action"], data=data, follow_redirects=False)
    assert response.status_code == 303
    versions = seeded_session.scalars(
        select(StatusUpdate)
        .where(StatusUpdate.activity_id == activity_id, StatusUpdate.period_id == period_id)
        .order_by(StatusUpdate.version)
    ).all()
    assert [v.source for v in versions] == [UpdateSource.carried_over, UpdateSource.entered]
    assert (versions[0].status, versions[0].explanation) == (
        versions[1].status,
        versions[1].explanation,
    )
    after = BeautifulSoup(
        editor.get(f"/activities/{activity_id}?period={period_id}").text, "html.parser"
    )
    assert after.find("button", string="Ongewijzigd bevestigen voor deze periode") is None
    assert "voorstel, wacht op beoordeling" in after.text


def test_correcting_a_published_period_needs_a_reason_which_is_shown_and_audited(
    seeded_session, clients
) -> None:  # type: ignore[no-untyped-def]
    period = _period(seeded_session, "Voortgangsrapportage 2021")
    web = clients["coordinator"]
    token = _token(web)
    refused = web.post(
        f"/periods/{period.id}/move",
        data={"csrftoken": token, "move": "correct", "reason": "   "},
        follow_redirects=False,
    )
    assert refused.status_code == 422
    assert "reden" in BeautifulSoup(refused.text, "html.parser").select_one("#period-error").text
    assert _period(seeded_session, "Voortgangsrapportage 2021").state == PeriodState.published

    reason = "Toelichting bij activiteit 3 bevatte een <fout> die in de brief is gecorrigeerd."
    started = web.post(
        f"/periods/{period.id}/move",
        data={"csrftoken": token, "move": "correct", "reason": reason},
    )
    assert started.status_code == 200
    page = BeautifulSoup(started.text, "html.parser")
    assert reason in page.select_one(".corrections").text  # shown, and escaped
    assert "<fout>" not in started.text
    assert _period(seeded_session, "Voortgangsrapportage 2021").state == PeriodState.correcting
    event = seeded_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "period.correct")
    ).one()
    assert event.details["reason"] == reason

    # Now a coordinator can correct it, and publish it again.
    activity_id = _police_activities(seeded_session)[0]
    actor = coordinator(seeded_session)
    activities.record_status(
        seeded_session,
        activity_id=activity_id,
        period_id=period.id,
        status=Status.completed,
        explanation="Gecorrigeerd.",
        author=actor,
        based_on_version=1,
    )
    publish(seeded_session, period_id=period.id, actor=actor)
    seeded_session.commit()
    assert _period(seeded_session, "Voortgangsrapportage 2021").state == PeriodState.published


# -- the structure between periods -----------------------------------------------------------


def test_old_periods_keep_their_structure(seeded_session, clients) -> None:  # type: ignore[no-untyped-def]
    """Retired before the new round: not carried over, gone from the new period, still in the
    old one. Added after publication: not in the old period, in the new one without history."""
    actor = coordinator(seeded_session)
    retired_id, kept_id = _police_activities(seeded_session)[:2]
    structure.set_retired(
        seeded_session, actor=actor, kind="activity", item_id=retired_id, retired=True
    )
    kept = seeded_session.get(Activity, kept_id)
    added = structure.add(
        seeded_session,
        actor=actor,
        programme=_programme(seeded_session),
        kind="activity",
        parent_id=kept.result_id,
        title="Nieuwe activiteit na 2021",
    )
    seeded_session.commit()
    old = _period(seeded_session, "Voortgangsrapportage 2021")
    new_id = open_round(seeded_session)

    def listed(period_id: int) -> set[int]:
        html = clients["viewer"].get(f"/programmes/{SLUG}/activities?period={period_id}").text
        rows = BeautifulSoup(html, "html.parser").select("tr[id^=activity-]")
        return {int(row["id"].split("-")[1]) for row in rows}

    old_rows, new_rows = listed(old.id), listed(new_id)
    assert retired_id in old_rows and retired_id not in new_rows
    assert added.id not in old_rows and added.id in new_rows
    assert len(old_rows) == 128 and len(new_rows) == 128  # one retired, one added
    assert (
        seeded_session.scalar(
            select(func.count())
            .select_from(StatusUpdate)
            .where(StatusUpdate.activity_id == retired_id, StatusUpdate.period_id == new_id)
        )
        == 0
    )
    history = BeautifulSoup(
        clients["viewer"].get(f"/activities/{added.id}").text, "html.parser"
    ).select(".history-period")
    assert history == []  # no history before it started


# -- the update round -----------------------------------------------------------------------


def _seed_links() -> dict[str, int]:
    """Per organisation code, how many activities of the seed file it leads or is in."""
    data = yaml.safe_load(DEFAULT_SEED.read_text())
    counts: dict[str, int] = {}
    for line in data["action_lines"]:
        for theme in line["themes"]:
            for result in theme["results"]:
                for activity in result["activities"]:
                    codes = set(activity.get("involved") or [])
                    if activity.get("lead"):
                        codes.add(activity["lead"])
                    for code in codes:
                        counts[code] = counts.get(code, 0) + 1
    return counts


def test_completeness_per_organisation(seeded_session, clients) -> None:  # type: ignore[no-untyped-def]
    period_id = open_round(seeded_session)
    expected = _seed_links()
    police = _police_activities(seeded_session)
    assert len(police) == expected["Politie"]
    editor = current_user(seeded_session, clients["editor"].email)
    # One changed, one confirmed unchanged.
    activities.record_status(
        seeded_session,
        activity_id=police[0],
        period_id=period_id,
        status=Status.delayed,
        explanation="Vertraagd door capaciteitsgebrek.",
        author=editor,
        based_on_version=1,
    )
    current = activities.latest_update(seeded_session, activity_id=police[1], period_id=period_id)
    activities.record_status(
        seeded_session,
        activity_id=police[1],
        period_id=period_id,
        status=Status(current.status),
        explanation=current.explanation,
        author=editor,
        based_on_version=1,
    )
    seeded_session.commit()

    html = clients["viewer"].get(f"/periods/{period_id}/progress").text
    table = BeautifulSoup(html, "html.parser").select_one("#completeness")
    figures = {
        row["data-organisation"]: {
            cell["data-column"]: cell.text.strip() for cell in row.select("td[data-column]")
        }
        for row in table.select("tr[data-organisation]")
    }
    assert set(figures) == set(expected)
    for code, total in expected.items():
        assert figures[code]["total"] == str(total), code
    assert figures["Politie"]["changed"] == "1"
    assert figures["Politie"]["confirmed"] == "1"
    assert figures["Politie"]["not_updated"] == str(expected["Politie"] - 2)
    assert figures["Politie"]["percent"] == f"{round(100 * 2 / expected['Politie'])}%"
    other = next(
        code
        for code in expected
        if code != "Politie" and code not in _shared(seeded_session, police[:2])
    )
    assert figures[other]["not_updated"] == str(expected[other])

    # One organisation's own list, and the editor's to-do list.
    one = BeautifulSoup(
        clients["viewer"].get(f"/periods/{period_id}/progress?organisation=Politie").text,
        "html.parser",
    )
    assert len(one.select("#round-items tr[data-progress]")) == expected["Politie"]
    todo = BeautifulSoup(clients["editor"].get(f"/periods/{period_id}/todo").text, "html.parser")
    progress = [row["data-progress"] for row in todo.select("#round-items tr[data-progress]")]
    assert progress.count("not_updated") == expected["Politie"] - 2
    assert sorted(progress[-2:]) == ["changed", "confirmed"]  # open work first
    assert str(expected["Politie"] - 2) in todo.select_one("#todo-summary").text
    board = BeautifulSoup(clients["editor"].get(f"/programmes/{SLUG}").text, "html.parser")
    assert str(expected["Politie"] - 2) in board.select_one("#todo").text
    assert clients["viewer"].get(f"/periods/{period_id}/todo").status_code == 403


def _shared(session: Session, activity_ids: list[int]) -> set[str]:
    return set(
        session.scalars(
            select(Organisation.code)
            .join(ActivityOrganisation, ActivityOrganisation.organisation_id == Organisation.id)
            .where(ActivityOrganisation.activity_id.in_(activity_ids))
        )
    )


def test_a_draft_period_accepts_no_status(seeded_session) -> None:  # type: ignore[no-untyped-def]
    actor = coordinator(seeded_session)
    draft = periods.create_period(
        seeded_session,
        programme_id=_programme(seeded_session).id,
        name="Voortgangsrapportage 2022",
        reference_date=date(2022, 11, 1),
        deadline=None,
        actor=actor,
    )
    with pytest.raises(PeriodClosed, match="opengesteld|opened"):
        activities.record_status(
            seeded_session,
            activity_id=_police_activities(seeded_session)[0],
            period_id=draft.id,
            status=Status.completed,
            explanation="Klaar.",
            author=actor,
            based_on_version=None,
        )


def test_a_published_period_keeps_the_titles_and_order_it_was_published_with(
    seeded_session, clients
) -> None:  # type: ignore[no-untyped-def]
    """Renaming and reordering after publication change the new period only."""
    actor = coordinator(seeded_session)
    old = _period(seeded_session, "Voortgangsrapportage 2021")
    first, second = _police_activities(seeded_session)[:2]
    old_title = seeded_session.get(Activity, first).title
    from app.programmes.models import ActionLine

    line = seeded_session.scalars(select(ActionLine).where(ActionLine.number == 1)).one()
    old_line_title = line.title
    structure.rename(
        seeded_session, actor=actor, kind="activity", item_id=first, title="Nieuwe titel na 2021"
    )
    structure.rename(
        seeded_session,
        actor=actor,
        kind="action_line",
        item_id=line.id,
        title="Hernoemde actielijn",
    )
    seeded_session.commit()
    new_id = open_round(seeded_session)

    def page(period_id: int) -> str:
        return clients["viewer"].get(f"/programmes/{SLUG}/activities?period={period_id}").text

    assert old_title in page(old.id) and "Nieuwe titel na 2021" not in page(old.id)
    assert "Nieuwe titel na 2021" in page(new_id) and old_title not in page(new_id)
    board_old = clients["viewer"].get(f"/programmes/{SLUG}?period={old.id}").text
    board_new = clients["viewer"].get(f"/programmes/{SLUG}?period={new_id}").text
    assert old_line_title in board_old and "Hernoemde actielijn" not in board_old
    assert "Hernoemde actielijn" in board_new
    assert second  # the other activity is untouched in both


def test_a_change_is_committed_before_its_response_is_sent(
    seeded_settings: Settings, seeded_session: Session
) -> None:
    """When the browser gets the redirect after a change, the change is in the database: the
    page it is sent to shows it, in any process, and a failing commit cannot follow a
    response that said "done". Seen from a second connection at the moment the response
    starts."""
    app = create_app(seeded_settings)
    with Session(app.state.engine) as session:
        email = create_user(session, "coordinator")
        period = periods.create_period(
            session,
            programme_id=_programme(session).id,
            name="Voortgangsrapportage 2022",
            reference_date=date(2022, 11, 1),
            deadline=None,
            actor=coordinator(session, email),
        )
        session.commit()
        period_id = period.id
    states_when_answered: list[PeriodState] = []

    async def watching(scope, receive, send):  # type: ignore[no-untyped-def]
        async def watched_send(message):  # type: ignore[no-untyped-def]
            if message["type"] == "http.response.start" and scope["path"].endswith("/move"):
                seeded_session.expire_all()
                states_when_answered.append(seeded_session.get(ReportingPeriod, period_id).state)
                seeded_session.rollback()  # end the read, so it holds no snapshot
            await send(message)

        await app(scope, receive, watched_send)

    with TestClient(watching) as client:
        sign_in(client, email)
        token = _token(client, f"/periods/{period_id}")
        response = client.post(
            f"/periods/{period_id}/move",
            data={"csrftoken": token, "move": "open"},
            follow_redirects=False,
        )
    app.state.engine.dispose()
    assert response.status_code == 303
    assert states_when_answered == [PeriodState.open]
