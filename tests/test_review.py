"""Four-eyes review: proposals, approval by someone else, bulk approval, sending back and
answering, flags for the reviewer, and only approved updates counting in a published period."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from app import readmodel
from app.activities import service as activities
from app.activities.models import Status, StatusApproved, StatusUpdate
from app.audit.models import AuditEvent
from app.config import Settings
from app.errors import Forbidden, InvalidInput
from app.main import create_app
from app.periods import service as periods
from app.programmes.models import Activity
from app.review import service as review
from app.review.models import ReviewKind, ReviewNote
from tests.factories import (
    coordinator,
    create_programme,
    create_user,
    csrf_from,
    current_user,
    programme_data,
    publish,
    sign_in,
    update_round,
)
from tests.test_board import SLUG


@pytest.fixture
def world(seeded_settings: Settings) -> Iterator[dict]:  # type: ignore[type-arg]
    """The seeded programme with the 2022 round open, two coordinators and a police editor
    (signed-in web clients and service-level users)."""
    app = create_app(seeded_settings)
    with Session(app.state.engine, expire_on_commit=False) as session:
        update = update_round(session)
        period_id = update.period_id
        emails = {
            "coordinator": update.coordinator_email,
            "other_coordinator": create_user(session, "coordinator"),
            "editor": update.editor_email,
        }
        police = update.activities
        clients = {}
        for role, email in emails.items():
            client = TestClient(app)
            sign_in(client, email)
            clients[role] = client
        yield {
            "app": app,
            "session": session,
            "period_id": period_id,
            "emails": emails,
            "clients": clients,
            "police": police,
            "user": lambda role: current_user(session, emails[role]),
        }
    app.state.engine.dispose()


def _propose(
    world, activity_id: int, status: Status, explanation: str, role="editor"
) -> StatusUpdate:  # type: ignore[no-untyped-def]
    session = world["session"]
    current = activities.latest_update(
        session, activity_id=activity_id, period_id=world["period_id"]
    )
    update = activities.record_status(
        session,
        activity_id=activity_id,
        period_id=world["period_id"],
        status=status,
        explanation=explanation,
        author=world["user"](role),
        based_on_version=current.version if current else None,
    )
    session.commit()
    return update


def _counted(session: Session, activity_id: int, period_id: int) -> int | None:
    session.expire_all()
    return session.scalar(
        select(StatusApproved.version).where(
            StatusApproved.activity_id == activity_id, StatusApproved.period_id == period_id
        )
    )


def test_an_editors_save_is_a_proposal_until_someone_else_approves_it(world) -> None:  # type: ignore[no-untyped-def]
    session, activity = world["session"], world["police"][0]
    update = _propose(world, activity, Status.delayed, "Vertraagd door capaciteitsgebrek.")
    assert _counted(session, activity, world["period_id"]) == 1  # still the carried-over one

    page = BeautifulSoup(
        world["clients"]["coordinator"].get(f"/periods/{world['period_id']}/review").text,
        "html.parser",
    )
    proposal = page.select_one(f"#proposal-{update.id}")
    assert proposal is not None
    added = " ".join(ins.text for ins in proposal.select("ins"))
    assert all(word in added for word in ("Vertraagd", "door", "capaciteitsgebrek."))
    # The editor cannot approve at all; the coordinator can.
    editor = world["clients"]["editor"]
    refused = editor.post(
        f"/review/{update.id}",
        data={"csrftoken": csrf_from(editor.get("/").text), "decision": "approve"},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    coordinator_client = world["clients"]["coordinator"]
    approved = coordinator_client.post(
        f"/review/{update.id}",
        data={"csrftoken": csrf_from(coordinator_client.get("/").text), "decision": "approve"},
        follow_redirects=False,
    )
    assert approved.status_code == 303
    assert _counted(session, activity, world["period_id"]) == 2
    after = BeautifulSoup(coordinator_client.get(approved.headers["location"]).text, "html.parser")
    assert after.select_one(f"#proposal-{update.id}") is None
    assert "Het voorstel is goedgekeurd." in after.select_one("#review-done").text
    assert session.scalars(select(AuditEvent).where(AuditEvent.action == "review.approve")).one()


def test_four_eyes_nobody_approves_their_own_proposal(world) -> None:  # type: ignore[no-untyped-def]
    session, activity = world["session"], world["police"][0]
    update = _propose(world, activity, Status.completed, "Afgerond.", role="coordinator")
    with pytest.raises(Forbidden, match="Vier ogen|Four eyes"):
        review.approve(session, status_update_id=update.id, reviewer=world["user"]("coordinator"))
    session.rollback()
    review.approve(session, status_update_id=update.id, reviewer=world["user"]("other_coordinator"))
    session.commit()
    assert _counted(session, activity, world["period_id"]) == update.version


def _approve_buttons(proposal) -> list:  # type: ignore[no-untyped-def]
    return [
        form
        for form in proposal.select("form")
        if form.select_one("input[name=decision][value=approve]")
    ]


def test_the_approve_button_is_not_offered_on_ones_own_proposal(world) -> None:  # type: ignore[no-untyped-def]
    first, second = world["police"][:2]
    mine = _propose(world, first, Status.completed, "Afgerond.", role="coordinator")
    theirs = _propose(world, second, Status.delayed, "Later dan gepland.")
    url = f"/periods/{world['period_id']}/review"

    page = BeautifulSoup(world["clients"]["coordinator"].get(url).text, "html.parser")
    own = page.select_one(f"#proposal-{mine.id}")
    other = page.select_one(f"#proposal-{theirs.id}")
    assert own is not None and other is not None
    # Their own: no approve button, no box to select it for bulk approval, and why not.
    assert _approve_buttons(own) == []
    assert own.select_one("input[name=version]") is None
    assert "Vier ogen" in own.select_one(f"#own-proposal-{mine.id}").text
    # Sending it back stays possible (a second look at one's own text is no approval).
    assert own.select_one("input[name=decision][value=send_back]") is not None
    # Someone else's proposal: both offered.
    assert len(_approve_buttons(other)) == 1
    assert other.select_one("input[name=version]") is not None
    assert page.select_one("#bulk-approve") is not None

    # The other coordinator is offered the approve button on it.
    page = BeautifulSoup(world["clients"]["other_coordinator"].get(url).text, "html.parser")
    own_for_other = page.select_one(f"#proposal-{mine.id}")
    assert len(_approve_buttons(own_for_other)) == 1
    assert own_for_other.select_one(f"#own-proposal-{mine.id}") is None

    # The service answers the same: the page's mark and the refusal are one rule.
    session = world["session"]
    period = readmodel.find_period(
        readmodel.list_periods(session, readmodel.get_programme(session, SLUG).id),
        world["period_id"],
    )
    marks = {
        p.update.id: p.may_approve
        for p in review.proposals(
            session,
            period=period,
            programme_id=readmodel.get_programme(session, SLUG).id,
            reviewer=world["user"]("coordinator"),
        )
    }
    assert marks == {mine.id: False, theirs.id: True}
    with pytest.raises(Forbidden):
        review.approve(session, status_update_id=mine.id, reviewer=world["user"]("coordinator"))
    session.rollback()


def test_no_bulk_approval_when_every_waiting_proposal_is_ones_own(world) -> None:  # type: ignore[no-untyped-def]
    mine = _propose(world, world["police"][0], Status.completed, "Afgerond.", role="coordinator")
    page = BeautifulSoup(
        world["clients"]["coordinator"].get(f"/periods/{world['period_id']}/review").text,
        "html.parser",
    )
    assert page.select_one(f"#proposal-{mine.id}") is not None
    assert page.select_one("#bulk-approve") is None
    assert "1 voorstel wacht op beoordeling" in page.select_one("#waiting-heading").text


def test_bulk_approval_is_all_or_nothing(world) -> None:  # type: ignore[no-untyped-def]
    session = world["session"]
    first, second, third = world["police"][:3]
    mine = _propose(world, first, Status.completed, "Afgerond.", role="coordinator")
    theirs = [
        _propose(world, second, Status.delayed, "Later dan gepland."),
        _propose(world, third, Status.ongoing, "Loopt door."),
    ]
    client = world["clients"]["coordinator"]
    url = f"/periods/{world['period_id']}/review"
    token = csrf_from(client.get(url).text)
    refused = client.post(
        f"{url}/approve",
        data={"csrftoken": token, "version": [str(mine.id)] + [str(u.id) for u in theirs]},
    )
    assert refused.status_code == 422
    message = BeautifulSoup(refused.text, "html.parser").select_one("#review-error").text
    assert "Er is niets goedgekeurd" in message and "Vier ogen" in message
    assert session.scalar(select(ReviewNote.id)) is None
    approved = client.post(
        f"{url}/approve",
        data={"csrftoken": token, "version": [str(u.id) for u in theirs]},
        follow_redirects=False,
    )
    assert approved.status_code == 303
    assert [_counted(session, a, world["period_id"]) for a in (second, third)] == [2, 2]
    assert _counted(session, first, world["period_id"]) == 1
    nothing = client.post(f"{url}/approve", data={"csrftoken": token})
    assert nothing.status_code == 422


def test_send_back_with_comment_the_editor_sees_and_answers(world) -> None:  # type: ignore[no-untyped-def]
    session, activity, period_id = world["session"], world["police"][0], world["period_id"]
    update = _propose(world, activity, Status.delayed, "Vertraagd.")
    client = world["clients"]["coordinator"]
    token = csrf_from(client.get(f"/periods/{period_id}/review").text)
    no_comment = client.post(
        f"/review/{update.id}", data={"csrftoken": token, "decision": "send_back", "comment": " "}
    )
    assert no_comment.status_code == 422
    assert (
        "opmerking is nodig"
        in BeautifulSoup(no_comment.text, "html.parser").select_one("#review-error").text
    )
    sent = client.post(
        f"/review/{update.id}",
        data={"csrftoken": token, "decision": "send_back", "comment": "Waardoor vertraagd?"},
        follow_redirects=False,
    )
    assert sent.status_code == 303

    editor = world["clients"]["editor"]
    page = BeautifulSoup(
        editor.get(f"/activities/{activity}?period={period_id}").text, "html.parser"
    )
    assert "Waardoor vertraagd?" in page.select_one("#returned").text
    todo = BeautifulSoup(editor.get(f"/periods/{period_id}/todo").text, "html.parser")
    assert "Waardoor vertraagd?" in todo.select_one(f"#item-{activity}").text
    answered = editor.post(
        f"/review/{update.id}/reply",
        data={"csrftoken": csrf_from(editor.get("/").text), "comment": "Door ziekte in het team."},
        follow_redirects=False,
    )
    assert answered.status_code == 303
    review_page = BeautifulSoup(client.get(f"/periods/{period_id}/review").text, "html.parser")
    proposal = review_page.select_one(f"#proposal-{update.id}")
    assert "beantwoord door de redacteur" in proposal.text
    assert "Door ziekte in het team." in proposal.text
    kinds = [n.kind for n in session.scalars(select(ReviewNote).order_by(ReviewNote.id))]
    assert kinds == [ReviewKind.send_back, ReviewKind.reply]
    # Answering twice is refused: the answer is back with the reviewer.
    with pytest.raises(InvalidInput):
        review.reply(
            session, status_update_id=update.id, author=world["user"]("editor"), comment="Nogmaals."
        )


def test_in_review_an_editor_changes_only_what_was_sent_back(world) -> None:  # type: ignore[no-untyped-def]
    session, period_id = world["session"], world["period_id"]
    returned, untouched = world["police"][:2]
    update = _propose(world, returned, Status.delayed, "Vertraagd.")
    review.send_back(
        session,
        status_update_id=update.id,
        reviewer=world["user"]("coordinator"),
        comment="Meer uitleg graag.",
    )
    periods.move_period(
        session, period_id=period_id, move="review", actor=world["user"]("coordinator")
    )
    session.commit()
    with pytest.raises(periods.PeriodClosed, match="teruggestuurd|sent back"):
        _propose(world, untouched, Status.completed, "Afgerond.")
    session.rollback()
    again = _propose(
        world, returned, Status.delayed, "Vertraagd door ziekte; nieuwe planning in maart."
    )
    assert again.version == 3
    editor = world["clients"]["editor"]
    assert editor.get(f"/activities/{untouched}/edit?period={period_id}").status_code == 409


def test_a_decision_on_an_outdated_version_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    session, activity = world["session"], world["police"][0]
    old = _propose(world, activity, Status.delayed, "Vertraagd.")
    _propose(world, activity, Status.delayed, "Vertraagd door ziekte.")
    with pytest.raises(review.ReviewConflict):
        review.approve(session, status_update_id=old.id, reviewer=world["user"]("coordinator"))


def test_only_approved_updates_count_in_the_published_period(world) -> None:  # type: ignore[no-untyped-def]
    session, period_id = world["session"], world["period_id"]
    approved_activity, pending_activity = world["police"][:2]
    carried = activities.latest_update(session, activity_id=pending_activity, period_id=period_id)
    approved = _propose(world, approved_activity, Status.completed, "Afgerond in 2022.")
    _propose(world, pending_activity, Status.delayed, "Niet goedgekeurde tekst.")
    actor = world["user"]("coordinator")
    review.approve(session, status_update_id=approved.id, reviewer=actor)
    periods.move_period(session, period_id=period_id, move="review", actor=actor)
    publish(session, period_id=period_id, actor=actor)
    session.commit()

    programme = readmodel.get_programme(session, SLUG)
    period = readmodel.choose_period(readmodel.list_periods(session, programme.id), period_id)
    rows = {row.id: row for row in readmodel.list_activities(session, programme.id, period).rows}
    assert (rows[approved_activity].status, rows[approved_activity].explanation) == (
        Status.completed,
        "Afgerond in 2022.",
    )
    assert (rows[pending_activity].status, rows[pending_activity].explanation) == (
        Status(carried.status),
        carried.explanation,
    )
    page = world["clients"]["coordinator"].get(f"/programmes/{SLUG}/activities?period={period_id}")
    assert "Niet goedgekeurde tekst." not in page.text and "Afgerond in 2022." in page.text


def test_flags_help_the_reviewer(seeded_session) -> None:  # type: ignore[no-untyped-def]
    """Three periods of one small programme: 2030 (seeded), 2031 and 2032."""
    create_programme(
        seeded_session,
        programme_data(action_lines=1, results_per_line=1, activities_per_result=4),
    )
    from app.programmes.models import Programme

    programme = seeded_session.scalars(
        select(Programme).where(Programme.slug == "test-programme")
    ).one()
    author = coordinator(seeded_session)
    reviewer = coordinator(seeded_session)
    activity_ids = list(
        seeded_session.scalars(
            select(StatusUpdate.activity_id)
            .join(Activity, Activity.id == StatusUpdate.activity_id)
            .where(
                StatusUpdate.period_id == readmodel.list_periods(seeded_session, programme.id)[0].id
            )
            .order_by(Activity.position)
        )
    )
    # Statuses cycle: completed, ongoing, on_schedule, delayed.
    first = readmodel.list_periods(seeded_session, programme.id)[0]
    periods.move_period(seeded_session, period_id=first.id, move="review", actor=author)
    publish(seeded_session, period_id=first.id, actor=author)

    def next_round(name: str, year: int) -> int:
        created = periods.create_period(
            seeded_session,
            programme_id=programme.id,
            name=name,
            reference_date=date(year, 1, 1),
            deadline=None,
            actor=author,
        )
        periods.move_period(seeded_session, period_id=created.id, move="open", actor=author)
        return created.id

    def save(period_id: int, activity_id: int, status: Status, explanation: str) -> StatusUpdate:
        current = activities.latest_update(
            seeded_session, activity_id=activity_id, period_id=period_id
        )
        return activities.record_status(
            seeded_session,
            activity_id=activity_id,
            period_id=period_id,
            status=status,
            explanation=explanation,
            author=author,
            based_on_version=current.version,
        )

    second = next_round("2031", 2031)
    periods.move_period(seeded_session, period_id=second, move="review", actor=author)
    publish(seeded_session, period_id=second, actor=author)
    third = next_round("2032", 2032)
    same_text = activities.latest_update(
        seeded_session, activity_id=activity_ids[1], period_id=third
    )
    save(third, activity_ids[0], Status.completed, "Nieuwe tekst, zelfde status.")  # no flag
    save(third, activity_ids[1], Status.completed, same_text.explanation)  # status only + stale
    save(third, activity_ids[2], Status.delayed, "Vertraagd.")  # backwards from on schedule
    save(third, activity_ids[3], Status.ongoing, "Weer op gang.")  # forwards from delayed
    seeded_session.commit()
    period = readmodel.choose_period(readmodel.list_periods(seeded_session, programme.id), third)
    flags = {
        p.row.id: set(p.flags)
        for p in review.proposals(
            seeded_session, period=period, programme_id=programme.id, reviewer=reviewer
        )
    }
    assert flags == {
        activity_ids[0]: set(),
        activity_ids[1]: {"status_only", "stale_explanation"},
        activity_ids[2]: {"backwards"},
        activity_ids[3]: set(),
    }
    assert reviewer.id != author.id


@pytest.mark.parametrize(
    ("before", "after", "backwards"),
    [
        (Status.on_schedule, Status.delayed, True),
        (Status.completed, Status.ongoing, True),
        (Status.ongoing, Status.not_started, True),
        (Status.delayed, Status.on_schedule, False),
        (Status.not_started, Status.in_consultation, False),
        (Status.completed, Status.not_applicable, False),
        (None, Status.delayed, False),
    ],
)
def test_moved_backwards(before, after, backwards) -> None:  # type: ignore[no-untyped-def]
    assert review.moved_backwards(before, after) is backwards


def test_review_page_shows_the_previous_text_and_the_differences(world) -> None:  # type: ignore[no-untyped-def]
    session, activity, period_id = world["session"], world["police"][0], world["period_id"]
    before = activities.latest_update(session, activity_id=activity, period_id=period_id)
    update = _propose(
        world, activity, Status(before.status), before.explanation + " Aanvulling 2022."
    )
    page = BeautifulSoup(
        world["clients"]["coordinator"].get(f"/periods/{period_id}/review").text, "html.parser"
    )
    proposal = page.select_one(f"#proposal-{update.id}")
    columns = proposal.select(".compare-columns > div")
    assert before.explanation in columns[0].text
    assert [ins.text.strip() for ins in columns[1].select("ins")] == ["Aanvulling 2022."]
    assert columns[1].select("del") == []
