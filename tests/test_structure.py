"""Admins change the programme structure without losing history."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from app.activities.models import StatusUpdate
from app.audit.models import AuditEvent
from app.main import create_app
from app.programmes.models import ActionLine, Activity, Organisation, Result, Theme
from tests.factories import create_programme, create_user, csrf_from, sign_in

BASE = "/admin/programmes/test-programme/structure"


@pytest.fixture
def admin(settings, session: Session):  # type: ignore[no-untyped-def]
    create_programme(session, action_lines=2, results_per_line=1, activities_per_result=3)
    app = create_app(settings)
    client = TestClient(app)
    sign_in(client, create_user(session, "admin"))
    client.token = csrf_from(client.get(BASE).text)  # type: ignore[attr-defined]
    yield client
    app.state.engine.dispose()


def _change(client, kind: str, item_id: int, action: str, title: str = ""):  # type: ignore[no-untyped-def]
    return client.post(
        f"{BASE}/{kind}/{item_id}",
        data={"csrftoken": client.token, "action": action, "title": title},
        follow_redirects=False,
    )


def _activities(session: Session, result_number: int = 1) -> list[tuple[str | None, str]]:
    session.expire_all()
    return [
        (a.label, a.title)
        for a in session.scalars(
            select(Activity)
            .join(Result, Result.id == Activity.result_id)
            .where(Result.number == result_number)
            .order_by(Activity.position)
        )
    ]


def test_rename_keeps_history_and_is_audited(admin, session: Session) -> None:  # type: ignore[no-untyped-def]
    activity = session.scalars(select(Activity).order_by(Activity.id)).first()
    response = _change(admin, "activity", activity.id, "rename", "  Nieuwe   naam  ")
    assert response.status_code == 303
    assert _activities(session)[0] == ("1", "Nieuwe naam")
    assert session.scalars(
        select(StatusUpdate).where(StatusUpdate.activity_id == activity.id)
    ).all()
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "structure.rename")).one()
    assert event.details == {"from": "Activiteit 1.1", "to": "Nieuwe naam"}
    empty = _change(admin, "activity", activity.id, "rename", "   ")
    assert empty.status_code == 422 and "titel is verplicht" in empty.text


def test_reorder_activities_and_action_lines(admin, session: Session) -> None:  # type: ignore[no-untyped-def]
    first, second, third = session.scalars(select(Activity).order_by(Activity.id)).all()[:3]
    _change(admin, "activity", second.id, "up")
    assert [t for _, t in _activities(session)] == [
        "Activiteit 1.2",
        "Activiteit 1.1",
        "Activiteit 1.3",
    ]
    _change(admin, "activity", second.id, "up")  # already first: nothing changes
    _change(admin, "activity", first.id, "down")
    assert [t for _, t in _activities(session)] == [
        "Activiteit 1.2",
        "Activiteit 1.3",
        "Activiteit 1.1",
    ]
    line_two = session.scalars(select(ActionLine).where(ActionLine.number == 2)).one()
    _change(admin, "action_line", line_two.id, "up")
    board = admin.get("/programmes/test-programme").text
    assert board.index("Actielijn 2") < board.index("Actielijn 1")


def test_retired_activity_keeps_its_history_and_leaves_new_periods(admin, session: Session) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from app.periods.models import ReportingPeriod

    activity = session.scalars(select(Activity).order_by(Activity.id)).first()
    assert _change(admin, "activity", activity.id, "retire").status_code == 303
    old_period = session.scalars(select(ReportingPeriod)).one()
    new_period = ReportingPeriod(
        programme_id=old_period.programme_id,
        name="Voortgangsrapportage 2031",
        reference_date=date(2031, 1, 1),
    )
    session.add(new_period)
    session.commit()
    in_old = admin.get(
        "/programmes/test-programme/activities", params={"period": old_period.id}
    ).text
    in_new = admin.get(
        "/programmes/test-programme/activities", params={"period": new_period.id}
    ).text
    assert "Activiteit 1.1" in in_old
    assert "Activiteit 1.1" not in in_new
    assert "Activiteit 1.2" in in_new
    history = admin.get(f"/activities/{activity.id}").text
    assert "Toelichting bij activiteit 1.1." in history
    _change(admin, "activity", activity.id, "restore")
    assert (
        "Activiteit 1.1"
        in admin.get("/programmes/test-programme/activities", params={"period": new_period.id}).text
    )


def test_retiring_an_action_line_hides_it_where_it_has_no_statuses(admin, session: Session) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from app.periods.models import PeriodState, ReportingPeriod

    line = session.scalars(select(ActionLine).where(ActionLine.number == 2)).one()
    _change(admin, "action_line", line.id, "retire")
    old_period = session.scalars(select(ReportingPeriod)).one()
    session.add(
        ReportingPeriod(
            programme_id=old_period.programme_id,
            name="Nieuw",
            reference_date=date(2031, 1, 1),
            state=PeriodState.open,
        )
    )
    session.commit()
    new_board = BeautifulSoup(admin.get("/programmes/test-programme").text, "html.parser")
    assert new_board.select_one("#action-line-2") is None
    old_board = BeautifulSoup(
        admin.get("/programmes/test-programme", params={"period": old_period.id}).text,
        "html.parser",
    )
    assert old_board.select_one("#action-line-2") is not None


def test_add_items_at_every_level(admin, session: Session) -> None:  # type: ignore[no-untyped-def]
    def add(**data):  # type: ignore[no-untyped-def]
        return admin.post(BASE, data={"csrftoken": admin.token, **data}, follow_redirects=False)

    assert add(kind="action_line", number="3", title="Nieuwe actielijn").status_code == 303
    line = session.scalars(select(ActionLine).where(ActionLine.number == 3)).one()
    assert add(kind="theme", parent_id=str(line.id), title="Nieuw thema").status_code == 303
    theme = session.scalars(select(Theme).where(Theme.action_line_id == line.id)).one()
    duplicate = add(kind="result", parent_id=str(theme.id), number="1", title="Dubbel")
    assert duplicate.status_code == 422 and "Resultaat 1 bestaat al" in duplicate.text
    assert (
        add(kind="result", parent_id=str(theme.id), number="9", title="Nieuw resultaat").status_code
        == 303
    )
    result = session.scalars(select(Result).where(Result.number == 9)).one()
    assert (
        add(
            kind="activity",
            parent_id=str(result.id),
            number="1",
            title="Nieuwe activiteit",
            lead="ORG-A",
        ).status_code
        == 303
    )
    bad_lead = add(kind="activity", parent_id=str(result.id), number="2", title="X", lead="NOPE")
    assert bad_lead.status_code == 422 and "Onbekende organisatie" in bad_lead.text
    assert _activities(session, 9) == [("1", "Nieuwe activiteit")]
    listed = admin.get("/programmes/test-programme/activities", params={"action_line": "3"}).text
    assert "Nieuwe activiteit" in listed and "Geen status" in listed
    actions = set(session.scalars(select(AuditEvent.action)))
    assert "structure.add" in actions


def test_admin_manages_organisations(admin, session: Session) -> None:  # type: ignore[no-untyped-def]
    token = csrf_from(admin.get("/admin/organisations").text)
    assert (
        admin.post(
            "/admin/organisations",
            data={"csrftoken": token, "code": "NEW", "name": "Nieuw"},
            follow_redirects=False,
        ).status_code
        == 303
    )
    again = admin.post(
        "/admin/organisations", data={"csrftoken": token, "code": "NEW", "name": "Nog eens"}
    )
    assert again.status_code == 422
    organisation = session.scalars(select(Organisation).where(Organisation.code == "NEW")).one()
    admin.post(
        f"/admin/organisations/{organisation.id}", data={"csrftoken": token, "name": "Hernoemd"}
    )
    session.expire_all()
    assert session.get(Organisation, organisation.id).name == "Hernoemd"


def test_a_retired_activity_changes_only_where_it_is_still_part_of_the_period(  # type: ignore[no-untyped-def]
    admin, session: Session
) -> None:
    from datetime import date

    from app.periods.models import PeriodState, ReportingPeriod

    retired, kept = session.scalars(select(Activity).order_by(Activity.id)).all()[:2]
    old_period = session.scalars(select(ReportingPeriod)).one()
    old_period.state = PeriodState.open
    new_period = ReportingPeriod(
        programme_id=old_period.programme_id,
        name="Voortgangsrapportage 2031",
        reference_date=date(2031, 1, 1),
        state=PeriodState.open,
    )
    session.add(new_period)
    session.commit()
    assert _change(admin, "activity", retired.id, "retire").status_code == 303

    def change_link(activity_id: int, period_id: int) -> bool:
        page = admin.get(f"/activities/{activity_id}", params={"period": period_id}).text
        link = BeautifulSoup(page, "html.parser").select_one(f"#activity-{activity_id}-current a")
        return link is not None and link["href"].endswith(f"/edit?context=page&period={period_id}")

    def save(activity_id: int, period_id: int, version: str):  # type: ignore[no-untyped-def]
        return admin.post(
            f"/activities/{activity_id}/status",
            data={
                "csrftoken": admin.token,
                "period_id": str(period_id),
                "status": "on_schedule",
                "explanation": "Nieuwe toelichting.",
                "based_on_version": version,
            },
            follow_redirects=False,
        )

    # No status in the new period: it is no longer part of it, as the import says too.
    assert not change_link(retired.id, new_period.id)
    refused = save(retired.id, new_period.id, "")
    assert refused.status_code == 409
    assert f"Activiteit {retired.id} hoort niet meer bij Voortgangsrapportage 2031" in refused.text
    # Where it has a status it stays part of the period, and changes as before.
    assert change_link(retired.id, old_period.id)
    version = session.scalars(
        select(StatusUpdate.version).where(
            StatusUpdate.activity_id == retired.id, StatusUpdate.period_id == old_period.id
        )
    ).one()
    assert save(retired.id, old_period.id, str(version)).status_code == 303
    # An activity in use changes in either period.
    assert change_link(kept.id, new_period.id)
    assert save(kept.id, new_period.id, "").status_code == 303
