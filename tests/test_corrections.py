"""Correcting a published report: a small round of its own on the published period (published →
correcting → published), beside another period's open round. The public report and its files
stay as they were published until the coordinator republishes; the later period's data is
never touched."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from app import readmodel
from app.activities import service as activities
from app.activities.models import Status, StatusUpdate, UpdateSource
from app.activities.policy import ACTIVITY_POLICY, ActivitySubject
from app.audit.models import AuditEvent
from app.config import Settings
from app.errors import Forbidden, InvalidInput
from app.exports import service as exports
from app.main import create_app
from app.periods import service as periods
from app.periods.models import PeriodState, PeriodTransition
from app.periods.service import PeriodClosed
from app.policy import Reason
from app.programmes import service as structure
from app.programmes.models import Activity, Programme
from app.public import search
from app.public import service as public
from app.review import service as review
from tests.factories import (
    UpdateRound,
    create_user,
    csrf_from,
    current_user,
    open_round,
    publish,
    sign_in,
    update_round,
)

SLUG = "samen-tegen-mensenhandel"
PUBLISHED_TEXT = "Vertraagd door een tekort aan rechercheurs."
CORRECTED_TEXT = "Vertraagd door een tekort aan rechercheurs; in 2022 wel gestart."
REASON = "De toelichting bij activiteit 1 was onvolledig."


@dataclass
class World:
    """2022 published (one police activity changed and approved in its round), 2023 open."""

    round: UpdateRound
    later_id: int
    activity_id: int

    @property
    def period_id(self) -> int:
        return self.round.period_id


def _published_2022(session: Session, *, open_2023: bool = True) -> World:
    update = update_round(session)
    activity_id = update.activities[0]
    proposal = activities.record_status(
        session,
        activity_id=activity_id,
        period_id=update.period_id,
        status=Status.delayed,
        explanation=PUBLISHED_TEXT,
        author=update.editor,
        based_on_version=1,
    )
    review.approve(session, status_update_id=int(proposal.id), reviewer=update.coordinator)  # type: ignore[arg-type]
    session.commit()
    if open_2023:
        later_id = open_round(
            session,
            name="Voortgangsrapportage 2023",
            reference_date="2023-11-01",
            actor=update.coordinator,
        )
    else:
        periods.move_period(
            session, period_id=update.period_id, move="review", actor=update.coordinator
        )
        publish(session, period_id=update.period_id, actor=update.coordinator)
        session.commit()
        later_id = 0
    return World(update, later_id, activity_id)


def _start(session: Session, world: World) -> None:
    periods.move_period(
        session,
        period_id=world.period_id,
        move="correct",
        actor=world.round.coordinator,
        reason=REASON,
    )
    session.commit()


def _propose(session: Session, world: World, text: str = CORRECTED_TEXT) -> StatusUpdate:
    current = activities.latest_update(
        session, activity_id=world.activity_id, period_id=world.period_id
    )
    assert current is not None
    return activities.record_status(
        session,
        activity_id=world.activity_id,
        period_id=world.period_id,
        status=Status.on_schedule,
        explanation=text,
        author=world.round.editor,
        based_on_version=current.version,
    )


def _texts(session: Session, period_id: int, *, public_view: bool) -> dict[int, str | None]:
    """Per activity, the explanation the period shows: to the staff, or on the public site."""
    record = periods.get_period(session, period_id)
    row = periods.period_row(record)
    if public_view:
        row = row.as_published()
    table = readmodel.whole_table(session, record.programme_id, row)
    assert table.records
    return {record.id: record.explanation for record in table.records}


def _csv(session: Session, period_id: int) -> str:
    _, _, content = exports.export(session, period_id=period_id, fmt="csv")
    return content.decode("utf-8-sig")


def _state(session: Session, period_id: int) -> PeriodState:
    session.expire_all()
    return periods.get_period(session, period_id).state


# -- the life cycle ---------------------------------------------------------------------------


def test_a_correction_starts_on_a_published_period_beside_an_open_round(
    seeded_session: Session,
) -> None:
    world = _published_2022(seeded_session)
    assert _state(seeded_session, world.later_id) == PeriodState.open
    _start(seeded_session, world)

    assert _state(seeded_session, world.period_id) == PeriodState.correcting
    assert _state(seeded_session, world.later_id) == PeriodState.open
    step = seeded_session.scalars(
        select(PeriodTransition)
        .where(PeriodTransition.period_id == world.period_id)
        .order_by(PeriodTransition.id.desc())  # type: ignore[union-attr]
    ).first()
    assert step is not None
    assert (step.from_state, step.to_state, step.reason) == (
        PeriodState.published,
        PeriodState.correcting,
        REASON,
    )
    event = seeded_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "period.correct")
    ).one()
    assert event.details["reason"] == REASON
    # Once is enough: a second coordinator's start finds it being corrected already.
    with pytest.raises(PeriodClosed, match="correctie|corrected"):
        periods.move_period(
            seeded_session,
            period_id=world.period_id,
            move="correct",
            actor=world.round.coordinator,
            reason=REASON,
        )


def test_a_correction_needs_a_reason(seeded_session: Session) -> None:
    world = _published_2022(seeded_session)
    with pytest.raises(InvalidInput, match="reden|reason"):
        periods.move_period(
            seeded_session,
            period_id=world.period_id,
            move="correct",
            actor=world.round.coordinator,
            reason="  ",
        )
    assert _state(seeded_session, world.period_id) == PeriodState.published


def test_two_ordinary_rounds_are_still_refused_during_a_correction(
    seeded_session: Session,
) -> None:
    world = _published_2022(seeded_session)
    _start(seeded_session, world)
    draft = periods.create_period(
        seeded_session,
        programme_id=periods.get_period(seeded_session, world.later_id).programme_id,
        name="Voortgangsrapportage 2024",
        reference_date=date(2024, 11, 1),
        deadline=None,
        actor=world.round.coordinator,
    )
    with pytest.raises(PeriodClosed, match="Voortgangsrapportage 2023"):
        periods.move_period(
            seeded_session, period_id=int(draft.id), move="open", actor=world.round.coordinator
        )  # type: ignore[arg-type]


def test_the_report_stays_as_published_until_the_correction_is_republished(
    seeded_session: Session,
) -> None:
    world = _published_2022(seeded_session)
    later_before = _texts(seeded_session, world.later_id, public_view=False)
    published_at = periods.get_period(seeded_session, world.period_id).published_at
    stored_before = _csv(seeded_session, world.period_id)
    assert PUBLISHED_TEXT in stored_before
    _start(seeded_session, world)

    proposal = _propose(seeded_session, world)
    seeded_session.commit()
    # The staff see the proposal; the public site and the files still the published report.
    assert _texts(seeded_session, world.period_id, public_view=False)[world.activity_id] == (
        CORRECTED_TEXT
    )
    assert _texts(seeded_session, world.period_id, public_view=True)[world.activity_id] == (
        PUBLISHED_TEXT
    )
    review.approve(
        seeded_session, status_update_id=int(proposal.id), reviewer=world.round.coordinator
    )  # type: ignore[arg-type]
    seeded_session.commit()
    assert _texts(seeded_session, world.period_id, public_view=True)[world.activity_id] == (
        PUBLISHED_TEXT
    )
    assert _csv(seeded_session, world.period_id) == stored_before
    report = public.report(seeded_session, SLUG, world.period_id)
    assert report.period.published and report.corrected_at is None
    shown = {row.id: row for row in report.rows}
    assert shown[world.activity_id].explanation == PUBLISHED_TEXT
    assert not shown[world.activity_id].awaiting_review

    check = periods.publication_check(
        seeded_session, period=periods.get_period(seeded_session, world.period_id)
    )
    assert check.correction and check.corrected == 1 and check.unapproved == 0
    assert [item.row.id for item in check.corrected_items] == [world.activity_id]
    publish(seeded_session, period_id=world.period_id, actor=world.round.coordinator)
    seeded_session.commit()

    assert _state(seeded_session, world.period_id) == PeriodState.published
    assert _texts(seeded_session, world.period_id, public_view=True)[world.activity_id] == (
        CORRECTED_TEXT
    )
    republished = periods.get_period(seeded_session, world.period_id)
    assert republished.published_at is not None and published_at is not None
    assert republished.published_at > published_at
    corrected_csv = _csv(seeded_session, world.period_id)
    assert CORRECTED_TEXT in corrected_csv and corrected_csv != stored_before
    report = public.report(seeded_session, SLUG, world.period_id)
    assert report.corrected_at is not None
    assert {row.id: row.explanation for row in report.rows}[world.activity_id] == CORRECTED_TEXT
    (correction,) = periods.corrections(periods.transitions(seeded_session, world.period_id))
    assert correction.started.reason == REASON and correction.republished is not None
    assert seeded_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "period.republish")
    ).one().details == {
        "activities": check.total,
        "corrected": 1,
        "not_approved": 0,
        "from": "correcting",
        "to": "published",
        "reason": "",
    }
    # 2023, open all along, is as it was: its starting points came from 2022 when it opened.
    assert _texts(seeded_session, world.later_id, public_view=False) == later_before
    assert later_before[world.activity_id] == PUBLISHED_TEXT


def _searchable(session: Session, period_id: int) -> dict[int, str | None]:
    """Per activity, the explanation the public search indexes for the period."""
    (report,) = [item for item in search.build_index(session) if item.period.id == period_id]
    return {indexed.row.id: indexed.row.explanation for indexed in report.rows}


def test_the_public_search_finds_the_published_text_until_republished(
    seeded_session: Session,
) -> None:
    world = _published_2022(seeded_session)
    _start(seeded_session, world)
    proposal = _propose(seeded_session, world)
    review.approve(
        seeded_session, status_update_id=int(proposal.id), reviewer=world.round.coordinator
    )  # type: ignore[arg-type]
    seeded_session.commit()
    assert _searchable(seeded_session, world.period_id)[world.activity_id] == PUBLISHED_TEXT
    publish(seeded_session, period_id=world.period_id, actor=world.round.coordinator)
    seeded_session.commit()
    assert _searchable(seeded_session, world.period_id)[world.activity_id] == CORRECTED_TEXT


def test_republishing_asks_for_the_choice_on_proposals_not_approved(
    seeded_session: Session,
) -> None:
    world = _published_2022(seeded_session)
    _start(seeded_session, world)
    _propose(seeded_session, world)
    seeded_session.commit()
    check = periods.publication_check(
        seeded_session, period=periods.get_period(seeded_session, world.period_id)
    )
    assert check.unapproved == 1 and check.corrected == 0
    with pytest.raises(InvalidInput, match="niet goedgekeurd|not approved"):
        periods.move_period(
            seeded_session,
            period_id=world.period_id,
            move="republish",
            actor=world.round.coordinator,
        )
    seeded_session.rollback()
    assert _state(seeded_session, world.period_id) == PeriodState.correcting
    # Not updated is no reason to refuse a correction: most activities need none.
    assert check.not_updated > 0
    periods.move_period(
        seeded_session,
        period_id=world.period_id,
        move="republish",
        actor=world.round.coordinator,
        accept_unapproved=1,
    )
    seeded_session.commit()
    # The proposal did not count: the report is as it was.
    assert _texts(seeded_session, world.period_id, public_view=True)[world.activity_id] == (
        PUBLISHED_TEXT
    )


def _subject(session: Session, activity_id: int) -> ActivitySubject:
    return ActivitySubject.of(
        activity_id, activities.activity_organisation_ids(session, activity_id)
    )


def test_editors_propose_corrections_to_their_own_organisations_activities_only(
    seeded_session: Session,
) -> None:
    world = _published_2022(seeded_session)
    other = next(
        activity_id
        for activity_id in seeded_session.scalars(select(Activity.id).order_by(Activity.id))
        if activity_id not in world.round.activities
    )
    viewer = current_user(seeded_session, create_user(seeded_session, "viewer"))
    record = periods.get_period(seeded_session, world.period_id)
    mine = _subject(seeded_session, world.activity_id)
    theirs = _subject(seeded_session, other)
    # Published: nobody changes it.
    assert ACTIVITY_POLICY.change(world.round.editor, mine, record).reason == Reason.published
    _start(seeded_session, world)
    record = periods.get_period(seeded_session, world.period_id)
    assert ACTIVITY_POLICY.change(world.round.editor, mine, record).allowed
    assert ACTIVITY_POLICY.change(world.round.coordinator, theirs, record).allowed
    assert (
        ACTIVITY_POLICY.change(world.round.editor, theirs, record).reason
        == Reason.other_organisation
    )
    assert ACTIVITY_POLICY.change(viewer, mine, record).reason == Reason.no_editor
    with pytest.raises(Forbidden):
        activities.record_status(
            seeded_session,
            activity_id=other,
            period_id=world.period_id,
            status=Status.completed,
            explanation="Niet van mij.",
            author=world.round.editor,
            based_on_version=1,
        )
    # Four eyes: the editor's own proposal is not theirs to approve, nor a coordinator's own.
    proposal = _propose(seeded_session, world)
    own = activities.record_status(
        seeded_session,
        activity_id=other,
        period_id=world.period_id,
        status=Status.completed,
        explanation="Door de coördinator gecorrigeerd.",
        author=world.round.coordinator,
        based_on_version=1,
    )
    with pytest.raises(Forbidden):
        review.approve(
            seeded_session, status_update_id=int(own.id), reviewer=world.round.coordinator
        )  # type: ignore[arg-type]
    review.approve(
        seeded_session, status_update_id=int(proposal.id), reviewer=world.round.coordinator
    )  # type: ignore[arg-type]


def test_a_period_opened_during_a_correction_starts_from_the_published_report(
    seeded_session: Session,
) -> None:
    world = _published_2022(seeded_session, open_2023=False)
    _start(seeded_session, world)
    proposal = _propose(seeded_session, world)
    review.approve(
        seeded_session, status_update_id=int(proposal.id), reviewer=world.round.coordinator
    )  # type: ignore[arg-type]
    seeded_session.commit()
    later = periods.create_period(
        seeded_session,
        programme_id=periods.get_period(seeded_session, world.period_id).programme_id,
        name="Voortgangsrapportage 2023",
        reference_date=date(2023, 11, 1),
        deadline=None,
        actor=world.round.coordinator,
    )
    periods.move_period(
        seeded_session, period_id=int(later.id), move="open", actor=world.round.coordinator
    )  # type: ignore[arg-type]
    seeded_session.commit()
    assert _texts(seeded_session, int(later.id), public_view=False)[world.activity_id] == (  # type: ignore[arg-type]
        PUBLISHED_TEXT
    )


def test_a_correction_corrects_only_the_activities_the_report_covered(
    seeded_session: Session,
) -> None:
    world = _published_2022(seeded_session)
    kept = seeded_session.get(Activity, world.activity_id)
    assert kept is not None
    added = structure.add(
        seeded_session,
        actor=world.round.coordinator,
        programme=seeded_session.get(
            Programme, periods.get_period(seeded_session, world.period_id).programme_id
        ),
        kind="activity",
        parent_id=kept.result_id,
        title="Nieuwe activiteit na de publicatie van 2022",
    )
    seeded_session.commit()
    _start(seeded_session, world)
    assert int(added.id) not in _texts(seeded_session, world.period_id, public_view=False)  # type: ignore[arg-type]
    with pytest.raises(PeriodClosed, match="Voortgangsrapportage 2022"):
        activities.record_status(
            seeded_session,
            activity_id=int(added.id),  # type: ignore[arg-type]
            period_id=world.period_id,
            status=Status.on_schedule,
            explanation="Hoort niet bij het rapport van 2022.",
            author=world.round.coordinator,
            based_on_version=None,
        )


# -- the database -----------------------------------------------------------------------------


def _direct_insert(session: Session, world: World, version: int) -> None:
    session.add(
        StatusUpdate(
            activity_id=world.activity_id,
            period_id=world.period_id,
            version=version,
            status=Status.completed,
            explanation="Rechtstreeks in de database.",
            source=UpdateSource.entered,
        )
    )
    session.flush()


def test_the_database_takes_changes_during_a_correction_and_none_once_republished(
    seeded_session: Session,
) -> None:
    world = _published_2022(seeded_session)
    current = activities.latest_update(
        seeded_session, activity_id=world.activity_id, period_id=world.period_id
    )
    assert current is not None
    with pytest.raises(DBAPIError), seeded_session.begin_nested():
        _direct_insert(seeded_session, world, current.version + 1)
    _start(seeded_session, world)
    _direct_insert(seeded_session, world, current.version + 1)
    seeded_session.commit()
    publish(seeded_session, period_id=world.period_id, actor=world.round.coordinator)
    seeded_session.commit()
    with pytest.raises(DBAPIError), seeded_session.begin_nested():
        _direct_insert(seeded_session, world, current.version + 2)
    seeded_session.rollback()
    latest = activities.latest_update(
        seeded_session, activity_id=world.activity_id, period_id=world.period_id
    )
    assert latest is not None and latest.version == current.version + 1


# -- the pages --------------------------------------------------------------------------------


@pytest.fixture
def web(seeded_settings: Settings) -> Iterator[tuple[TestClient, dict[str, TestClient], World]]:
    app = create_app(seeded_settings)
    with Session(app.state.engine) as session:
        world = _published_2022(session)
        emails = {
            "coordinator": world.round.coordinator_email,
            "editor": world.round.editor_email,
            "viewer": create_user(session, "viewer"),
        }
    clients = {}
    for role, email in emails.items():
        client = TestClient(app)
        sign_in(client, email)
        clients[role] = client
    yield TestClient(app), clients, world
    app.state.engine.dispose()


def _token(client: TestClient, path: str = "/") -> str:
    return csrf_from(client.get(path).text)


def test_only_a_coordinator_starts_a_correction_and_the_form_carries_csrf(web) -> None:  # type: ignore[no-untyped-def]
    anonymous, clients, world = web
    move = f"/periods/{world.period_id}/move"
    for role in ("editor", "viewer"):
        client = clients[role]
        refused = client.post(
            move,
            data={"csrftoken": _token(client), "move": "correct", "reason": REASON},
            follow_redirects=False,
        )
        assert refused.status_code == 403, role
    signed_out = anonymous.post(
        move, data={"move": "correct", "reason": REASON}, follow_redirects=False
    )
    assert signed_out.status_code in (303, 401, 403)
    with Session(anonymous.app.state.engine) as session:  # type: ignore[attr-defined]
        assert _state(session, world.period_id) == PeriodState.published
    coordinator = clients["coordinator"]
    page = BeautifulSoup(coordinator.get(f"/periods/{world.period_id}").text, "html.parser")
    form = page.select_one("#step-correct")
    assert form is not None and form.select_one('input[name="csrftoken"]') is not None
    assert form.select_one("textarea[required]") is not None
    without_token = coordinator.post(
        move, data={"move": "correct", "reason": REASON}, follow_redirects=False
    )
    assert without_token.status_code == 403
    started = coordinator.post(
        move,
        data={"csrftoken": _token(coordinator), "move": "correct", "reason": REASON},
        follow_redirects=False,
    )
    assert started.status_code == 303 and started.headers["location"].endswith("done=correct")
    page = BeautifulSoup(coordinator.get(started.headers["location"]).text, "html.parser")
    notice = page.select_one("#correction-notice")
    assert notice is not None
    assert "Voortgangsrapportage 2023 verandert niet door deze correctie" in notice.text
    assert REASON in page.select_one(".corrections").text
    assert "In correctie" in page.select_one(".period-state").text
    assert page.select_one("#publish-link").text.strip() == "Controleren en opnieuw publiceren…"


def test_republishing_goes_through_its_confirmation_page(web) -> None:  # type: ignore[no-untyped-def]
    anonymous, clients, world = web
    coordinator = clients["coordinator"]
    coordinator.post(
        f"/periods/{world.period_id}/move",
        data={"csrftoken": _token(coordinator), "move": "correct", "reason": REASON},
    )
    editor = clients["editor"]
    saved = editor.post(
        f"/activities/{world.activity_id}/status",
        data={
            "csrftoken": _token(editor),
            "period_id": str(world.period_id),
            "status": "on_schedule",
            "explanation": CORRECTED_TEXT,
            "based_on_version": "2",
        },
        follow_redirects=False,
    )
    assert saved.status_code in (200, 303), saved.text[:500]
    # An editor neither sees nor makes the republication.
    assert editor.get(f"/periods/{world.period_id}/publish").status_code == 403
    confirm = coordinator.get(f"/periods/{world.period_id}/publish")
    assert confirm.status_code == 200
    page = BeautifulSoup(confirm.text, "html.parser")
    assert "opnieuw publiceren" in page.h1.text
    assert page.select_one('[data-count="not_approved"]').text == "1"
    assert page.select_one('input[name="move"]')["value"] == "republish"
    refused = coordinator.post(
        f"/periods/{world.period_id}/publish",
        data={"csrftoken": csrf_from(confirm.text), "move": "republish"},
    )
    assert refused.status_code == 422
    assert (
        "niet goedgekeurd"
        in BeautifulSoup(refused.text, "html.parser").select_one("#publish-error").text
    )
    # The public summary is the published one meanwhile.
    summary = anonymous.get(f"/public/{SLUG}/{world.period_id}")
    assert summary.status_code == 200 and "gecorrigeerd op" not in summary.text
    done = coordinator.post(
        f"/periods/{world.period_id}/publish",
        data={"csrftoken": csrf_from(confirm.text), "move": "republish", "accept_unapproved": "1"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].endswith("done=republish")
    summary = BeautifulSoup(anonymous.get(f"/public/{SLUG}/{world.period_id}").text, "html.parser")
    assert "Dit rapport is gecorrigeerd op" in summary.select_one("#corrected-note").text


def test_republishing_keeps_the_structure_the_report_was_published_with(
    seeded_session: Session,
) -> None:
    world = _published_2022(seeded_session)
    published_title = seeded_session.get(Activity, world.activity_id).title  # type: ignore[union-attr]
    _start(seeded_session, world)
    # During the correction the structure moves on for 2023: the activity is renamed.
    structure.rename(
        seeded_session,
        actor=world.round.coordinator,
        kind="activity",
        item_id=world.activity_id,
        title="Hernoemd in 2023",
    )
    proposal = _propose(seeded_session, world)
    review.approve(
        seeded_session, status_update_id=int(proposal.id), reviewer=world.round.coordinator
    )  # type: ignore[arg-type]
    seeded_session.commit()
    publish(seeded_session, period_id=world.period_id, actor=world.round.coordinator)
    seeded_session.commit()

    shown = {row.id: row for row in public.report(seeded_session, SLUG, world.period_id).rows}
    assert shown[world.activity_id].title == published_title != "Hernoemd in 2023"
    assert shown[world.activity_id].explanation == CORRECTED_TEXT
    assert "Hernoemd in 2023" not in _csv(seeded_session, world.period_id)
