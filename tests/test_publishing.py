"""Publishing is the coordinator's explicit choice: a confirmation page says how many activities
were not updated, confirmed or changed, overall and per organisation, and which proposals were
not approved; publishing without choosing is refused by the service (and so by every form)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from app import readmodel
from app.activities import service as activities
from app.activities.models import Status, StatusApproved, UpdateSource
from app.audit.models import AuditEvent
from app.config import Settings
from app.errors import InvalidInput
from app.main import create_app
from app.periods import service as periods
from app.periods.models import PeriodState, PeriodTransition, PublishedActivity, ReportingPeriod
from app.public import service as public
from app.review import service as review
from tests.factories import (
    UpdateRound,
    coordinator,
    create_user,
    csrf_from,
    organisation_activities,
    sign_in,
    update_round,
)


@dataclass
class Review:
    """The 2022 round closed for review: of the police's activities one changed and approved,
    one confirmed unchanged (a proposal not yet approved) and one changed and not approved;
    everything else not updated."""

    round: UpdateRound
    changed_approved: int
    confirmed: int
    changed_pending: int
    reviewer: object

    @property
    def period_id(self) -> int:
        return self.round.period_id


def _in_review(session: Session) -> Review:
    update = update_round(session)
    first, second, third = update.activities[:3]
    editor = update.editor
    changed = activities.record_status(
        session,
        activity_id=first,
        period_id=update.period_id,
        status=Status.delayed,
        explanation="Vertraagd door capaciteitsgebrek.",
        author=editor,
        based_on_version=1,
    )
    current = activities.latest_update(session, activity_id=second, period_id=update.period_id)
    assert current is not None
    activities.record_status(
        session,
        activity_id=second,
        period_id=update.period_id,
        status=Status(current.status),
        explanation=current.explanation,
        author=editor,
        based_on_version=1,
    )
    activities.record_status(
        session,
        activity_id=third,
        period_id=update.period_id,
        status=Status.completed,
        explanation="Afgerond in 2022.",
        author=editor,
        based_on_version=1,
    )
    reviewer = coordinator(session)
    review.approve(session, status_update_id=changed.id, reviewer=reviewer)
    periods.move_period(
        session, period_id=update.period_id, move="review", actor=update.coordinator
    )
    session.commit()
    return Review(update, first, second, third, reviewer)


def _state(session: Session, period_id: int) -> PeriodState:
    session.expire_all()
    period = session.get(ReportingPeriod, period_id)
    assert period is not None
    return period.state


def _unchanged(session: Session, period_id: int) -> None:
    """Still in review: no publication recorded anywhere."""
    assert _state(session, period_id) == PeriodState.in_review
    published = session.scalar(
        select(func.count())
        .select_from(PeriodTransition)
        .where(
            PeriodTransition.period_id == period_id,
            PeriodTransition.to_state == PeriodState.published,
        )
    )
    assert published == 0
    snapshot = session.scalar(
        select(func.count())
        .select_from(PublishedActivity)
        .where(PublishedActivity.period_id == period_id)
    )
    assert snapshot == 0
    assert (
        session.scalars(select(AuditEvent).where(AuditEvent.action == "period.publish")).all() == []
    )


# -- the service --------------------------------------------------------------------------


def test_the_check_counts_every_activity_once_and_per_organisation(seeded_session) -> None:  # type: ignore[no-untyped-def]
    world = _in_review(seeded_session)
    check = periods.publication_check(
        seeded_session, period=periods.get_period(seeded_session, world.period_id)
    )
    assert check.total == 128
    assert (check.not_updated, check.count("confirmed"), check.count("changed")) == (125, 1, 2)
    # The confirmation and the second change wait for review: they would not count.
    assert {item.row.id for item in check.unapproved_items} == {
        world.confirmed,
        world.changed_pending,
    }
    assert len(check.not_updated_items) == 125
    police = next(org for org in check.organisations if org.code == "Politie")
    assert police.total == len(organisation_activities(seeded_session, "Politie"))
    assert (police.count("not_updated"), police.count("confirmed"), police.count("changed")) == (
        police.total - 3,
        1,
        2,
    )
    assert police.unapproved == 2
    untouched = [org for org in check.organisations if org.count("not_updated") == org.total]
    assert untouched, "some organisation has not updated anything"


def test_publishing_is_refused_without_the_explicit_choice(seeded_session) -> None:  # type: ignore[no-untyped-def]
    world = _in_review(seeded_session)
    actor = world.round.coordinator
    with pytest.raises(InvalidInput) as refused:
        periods.move_period(seeded_session, period_id=world.period_id, move="publish", actor=actor)
    assert "125 activiteiten zijn niet bijgewerkt" in refused.value.message
    assert "2 voorstellen zijn niet goedgekeurd" in refused.value.message
    seeded_session.rollback()
    _unchanged(seeded_session, world.period_id)

    # Accepting the stale texts is not enough while proposals would silently not count.
    with pytest.raises(InvalidInput, match="2 voorstellen zijn niet goedgekeurd") as partly:
        periods.move_period(
            seeded_session,
            period_id=world.period_id,
            move="publish",
            actor=actor,
            accept_not_updated=125,
        )
    assert "niet bijgewerkt" not in partly.value.message
    seeded_session.rollback()
    _unchanged(seeded_session, world.period_id)


def test_a_choice_made_on_fewer_than_there_are_now_is_refused(seeded_session) -> None:  # type: ignore[no-untyped-def]
    world = _in_review(seeded_session)
    with pytest.raises(InvalidInput, match="van 100 naar 125"):
        periods.move_period(
            seeded_session,
            period_id=world.period_id,
            move="publish",
            actor=world.round.coordinator,
            accept_not_updated=100,
            accept_unapproved=2,
        )
    seeded_session.rollback()
    _unchanged(seeded_session, world.period_id)


def test_publishing_with_the_choice_records_the_counts(seeded_session) -> None:  # type: ignore[no-untyped-def]
    world = _in_review(seeded_session)
    periods.move_period(
        seeded_session,
        period_id=world.period_id,
        move="publish",
        actor=world.round.coordinator,
        accept_not_updated=125,
        accept_unapproved=2,
    )
    seeded_session.commit()
    assert _state(seeded_session, world.period_id) == PeriodState.published
    event = seeded_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "period.publish")
    ).one()
    details = event.details
    assert (details["activities"], details["not_updated"]) == (128, 125)
    assert (details["confirmed"], details["changed"], details["not_approved"]) == (1, 2, 2)
    police = details["by_organisation"]["Politie"]
    assert (police["confirmed"], police["changed"]) == (1, 2)
    assert police["not_updated"] == len(organisation_activities(seeded_session, "Politie")) - 3
    # What counts is what was approved: the pending change is not in the report.
    counted = seeded_session.scalars(
        select(StatusApproved).where(
            StatusApproved.period_id == world.period_id,
            StatusApproved.activity_id == world.changed_pending,
        )
    ).one()
    assert (
        counted.status_update_id
        != activities.latest_update(
            seeded_session, activity_id=world.changed_pending, period_id=world.period_id
        ).id
    )


def test_the_published_report_discloses_what_counted_unconfirmed(seeded_session) -> None:  # type: ignore[no-untyped-def]
    """The confirmation page counted 125 activities not updated; the confirmation and the
    change that were not approved do not count either, so the published report says 127 of
    its 128 statuses were carried over, and the approved change is the one stated."""
    world = _in_review(seeded_session)
    periods.move_period(
        seeded_session,
        period_id=world.period_id,
        move="publish",
        actor=world.round.coordinator,
        accept_not_updated=125,
        accept_unapproved=2,
    )
    seeded_session.commit()
    report = public.report(seeded_session, "samen-tegen-mensenhandel", world.period_id)
    assert report.unconfirmed == [readmodel.UnconfirmedCount(UpdateSource.carried_over, 127, 128)]
    kinds = {row.id: readmodel.unconfirmed(row.source) for row in report.rows}
    assert kinds[world.changed_approved] is None
    assert kinds[world.confirmed] == kinds[world.changed_pending] == UpdateSource.carried_over
    # The rule itself: only a period's starting point is unconfirmed.
    assert {s: readmodel.unconfirmed(s) for s in UpdateSource if readmodel.unconfirmed(s)} == {
        UpdateSource.derived: UpdateSource.derived,
        UpdateSource.carried_over: UpdateSource.carried_over,
    }
    assert readmodel.unconfirmed(None) is None
    assert readmodel.unconfirmed_counts([]) == []
    # The 2021 report before it: every status derived from its explanation.
    earlier = public.report(seeded_session, "samen-tegen-mensenhandel", report.periods[1].id)
    assert earlier.unconfirmed == [readmodel.UnconfirmedCount(UpdateSource.derived, 128, 128)]


def test_a_fully_updated_and_reviewed_round_needs_no_extra_choice(seeded_session) -> None:  # type: ignore[no-untyped-def]
    update = update_round(seeded_session)
    author = update.coordinator
    proposals = []
    for activity in periods.round_items(
        seeded_session,
        programme_id=periods.get_period(seeded_session, update.period_id).programme_id,
        period=periods.period_row(periods.get_period(seeded_session, update.period_id)),
    ):
        assert activity.row.status is not None
        proposals.append(
            activities.record_status(
                seeded_session,
                activity_id=activity.row.id,
                period_id=update.period_id,
                status=activity.row.status,
                explanation=activity.row.explanation,
                author=author,
                based_on_version=activity.row.version,
            ).id
        )
    assert len(proposals) == 128
    review.approve_many(
        seeded_session, status_update_ids=proposals, reviewer=coordinator(seeded_session)
    )
    periods.move_period(seeded_session, period_id=update.period_id, move="review", actor=author)
    check = periods.publication_check(
        seeded_session, period=periods.get_period(seeded_session, update.period_id)
    )
    assert (check.not_updated, check.unapproved, check.count("confirmed")) == (0, 0, 128)
    periods.move_period(seeded_session, period_id=update.period_id, move="publish", actor=author)
    seeded_session.commit()
    assert _state(seeded_session, update.period_id) == PeriodState.published


# -- the pages ----------------------------------------------------------------------------


@pytest.fixture
def web(seeded_settings: Settings) -> Iterator[tuple[TestClient, TestClient, Review, Session]]:
    """A coordinator's and an editor's signed-in clients on the round in review."""
    app = create_app(seeded_settings)
    with Session(app.state.engine, expire_on_commit=False) as session:
        world = _in_review(session)
        clients = []
        for email in (world.round.coordinator_email, world.round.editor_email):
            client = TestClient(app)
            sign_in(client, email)
            clients.append(client)
        yield clients[0], clients[1], world, session
    app.state.engine.dispose()


def _page(response) -> BeautifulSoup:  # type: ignore[no-untyped-def]
    return BeautifulSoup(response.text, "html.parser")


def test_the_period_page_leads_to_the_confirmation_instead_of_publishing(web) -> None:  # type: ignore[no-untyped-def]
    coordinator_client, _, world, _ = web
    page = _page(coordinator_client.get(f"/periods/{world.period_id}"))
    forward = page.select_one("#step-forward")
    link = forward.select_one("a#publish-link")
    assert link["href"] == f"/periods/{world.period_id}/publish"
    assert "utrecht-button-link--primary-action" in link["class"]
    assert link.text.strip() == "Controleren en publiceren…"
    assert forward.select("form") == [], "publishing is not a button on the period page"
    # Reopening the round is a step back: a secondary button under its own heading, apart.
    back = page.select_one("#step-back")
    assert "Of een stap terug" in back.select_one("h3").text
    button = back.select_one("#step-reopen-round button")
    assert button.text.strip() == "Uitvraag heropenen"
    assert "utrecht-button--secondary-action" in button["class"]
    assert "utrecht-button--primary-action" not in button["class"]
    assert page.find("button", string="Publiceren") is None


def test_the_confirmation_page_shows_the_counts_per_organisation(web) -> None:  # type: ignore[no-untyped-def]
    coordinator_client, _, world, session = web
    response = coordinator_client.get(f"/periods/{world.period_id}/publish")
    assert response.status_code == 200
    page = _page(response)
    figures = page.select("#publication-summary [data-count]")
    summary = {figure["data-count"]: figure.text for figure in figures}
    assert summary == {
        "activities": "128",
        "not_updated": "125",
        "confirmed": "1",
        "changed": "2",
        "not_approved": "2",
    }
    # What needs attention says so in words, not only by its border.
    flagged = [figure.find_parent("li").text for figure in figures]
    assert ["Let op" in text for text in flagged] == [False, True, False, False, True]
    assert (
        "125 van de 128 activiteiten zijn niet bijgewerkt"
        in page.select_one("#not-updated-warning").text
    )
    rows = {
        row["data-organisation"]: {
            cell["data-column"]: cell.text.strip() for cell in row.select("td[data-column]")
        }
        for row in page.select("#publication-by-organisation tr[data-organisation]")
    }
    assert len(rows) > 10
    police_total = len(organisation_activities(session, "Politie"))
    assert rows["Politie"] == {
        "total": str(police_total),
        "not_updated": str(police_total - 3),
        "confirmed": "1",
        "changed": "2",
        "not_approved": "2",
    }
    link = page.select_one('tr[data-organisation="Politie"] a')
    assert link["href"] == f"/periods/{world.period_id}/progress?organisation=Politie"
    # The not-updated activities are a click away (a disclosure), each linked.
    details = page.select_one("#not-updated-details")
    assert "Toon de 125 activiteiten die niet zijn bijgewerkt" in details.select_one("summary").text
    listed = [int(item["data-activity"]) for item in details.select("li[data-activity]")]
    assert len(listed) == 125 and world.confirmed not in listed
    unapproved = [
        int(item["data-activity"]) for item in page.select("#unapproved-items li[data-activity]")
    ]
    assert sorted(unapproved) == sorted([world.confirmed, world.changed_pending])
    # The choice: one box per kind of stale text, and a button that says it is for good.
    form = page.select_one("#publish-form")
    boxes = {box["name"]: box["value"] for box in form.select("input[type=checkbox]")}
    assert boxes == {"accept_not_updated": "125", "accept_unapproved": "2"}
    label = form.select_one("label[for=accept-not-updated]").text
    assert label.startswith("Ik publiceer met 125 activiteiten die niet zijn bijgewerkt")
    button = form.select_one("#publish-button")
    assert button.text.strip() == "Definitief publiceren"
    assert "utrecht-button--warning" in button["class"]
    assert form.select_one("#publish-cancel")["href"] == f"/periods/{world.period_id}"


def test_posting_without_the_choice_is_refused_with_the_reason(web) -> None:  # type: ignore[no-untyped-def]
    coordinator_client, _, world, session = web
    token = csrf_from(coordinator_client.get(f"/periods/{world.period_id}/publish").text)
    for data in (
        {},
        {"accept_not_updated": "125"},
        {"accept_unapproved": "2"},
        {"accept_not_updated": "veel", "accept_unapproved": "2"},
    ):
        response = coordinator_client.post(
            f"/periods/{world.period_id}/publish",
            data={"csrftoken": token, **data},
            follow_redirects=False,
        )
        assert response.status_code == 422, data
        error = _page(response).select_one("#publish-error").text
        assert "niet" in error, data
        # The page comes back with the counts and the choice still to make.
        assert _page(response).select_one("#publish-form") is not None
        _unchanged(session, world.period_id)
    assert "'veel' is geen aantal" in error
    # The old form's way in is refused the same way.
    moved = coordinator_client.post(
        f"/periods/{world.period_id}/move",
        data={"csrftoken": token, "move": "publish"},
        follow_redirects=False,
    )
    assert moved.status_code == 422
    assert "125 activiteiten zijn niet bijgewerkt" in _page(moved).select_one("#period-error").text
    _unchanged(session, world.period_id)
    # Without the CSRF token nothing happens either.
    forged = coordinator_client.post(
        f"/periods/{world.period_id}/publish",
        data={"accept_not_updated": "125", "accept_unapproved": "2"},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    _unchanged(session, world.period_id)


def test_posting_with_the_choice_publishes(web) -> None:  # type: ignore[no-untyped-def]
    coordinator_client, _, world, session = web
    token = csrf_from(coordinator_client.get(f"/periods/{world.period_id}/publish").text)
    response = coordinator_client.post(
        f"/periods/{world.period_id}/publish",
        data={"csrftoken": token, "accept_not_updated": "125", "accept_unapproved": "2"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/periods/{world.period_id}?done=publish"
    assert _state(session, world.period_id) == PeriodState.published
    # Now there is nothing to publish: the page says so and offers no button.
    again = coordinator_client.get(f"/periods/{world.period_id}/publish")
    assert again.status_code == 409
    assert "kan alleen vanuit de beoordeling" in _page(again).select_one("#publish-closed").text
    assert _page(again).select_one("#publish-form") is None


def test_only_coordinators_reach_the_confirmation_and_publish(web, seeded_session) -> None:  # type: ignore[no-untyped-def]
    coordinator_client, editor_client, world, session = web
    assert editor_client.get(f"/periods/{world.period_id}/publish").status_code == 403
    token = csrf_from(editor_client.get(f"/periods/{world.period_id}").text)
    refused = editor_client.post(
        f"/periods/{world.period_id}/publish",
        data={"csrftoken": token, "accept_not_updated": "125", "accept_unapproved": "2"},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    _unchanged(session, world.period_id)
    editor_page = _page(editor_client.get(f"/periods/{world.period_id}"))
    assert editor_page.select_one("#publish-link") is None
    viewer = create_user(seeded_session, "viewer")
    seeded_session.commit()
    viewer_client = TestClient(coordinator_client.app)
    sign_in(viewer_client, viewer)
    assert viewer_client.get(f"/periods/{world.period_id}/publish").status_code == 403
