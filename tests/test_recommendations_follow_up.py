"""The follow-up of recommendations in a period's round, through the machinery of the
statuses and figures: the edit policy (editors of an organisation that leads a linked
activity or is addressed, coordinators), a version check against lost updates, the four-eyes
review on the review page (approve, send back, bulk), publication refused while a follow-up
waits, and the database refusing notes on a published period's follow-up."""

from __future__ import annotations

from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError, IntegrityError
from sqlmodel import Session, col

from app.audit.models import AuditEvent
from app.errors import Forbidden, InvalidInput
from app.ids import id_of
from app.main import create_app
from app.periods import service as periods
from app.periods.models import PeriodState
from app.policy import Reason
from app.programmes.models import ActivityOrganisation, Organisation, OrganisationRole
from app.recommendations import policy, service
from app.recommendations.models import (
    Addressee,
    FollowUpStatus,
    Recommendation,
    RecommendationActivity,
)
from app.review import follow_ups as follow_up_review
from app.review import service as review
from app.review.models import ReviewKind, ReviewNote
from tests.factories import (
    coordinator,
    create_user,
    csrf_from,
    current_user,
    open_round,
    sign_in,
)
from tests.test_recommendations_seed import _load as load_recommendations


def _linked(session: Session) -> tuple[Recommendation, str, str]:
    """A seeded recommendation with a linked activity: the code of an organisation leading
    that activity, and of one that neither leads a linked activity nor is addressed (the
    recommendations' seed loaded first)."""
    load_recommendations(session)
    recommendation = session.scalar(
        select(Recommendation)
        .join(
            RecommendationActivity,
            col(RecommendationActivity.recommendation_id) == col(Recommendation.id),
        )
        .order_by(col(Recommendation.id))
        .limit(1)
    )
    assert recommendation is not None
    theirs = policy.organisations_of(session, id_of(recommendation))
    lead = session.scalar(
        select(col(Organisation.code))
        .join(
            ActivityOrganisation,
            col(ActivityOrganisation.organisation_id) == col(Organisation.id),
        )
        .join(
            RecommendationActivity,
            col(RecommendationActivity.activity_id) == col(ActivityOrganisation.activity_id),
        )
        .where(
            col(RecommendationActivity.recommendation_id) == recommendation.id,
            col(ActivityOrganisation.role) == OrganisationRole.lead.value,
        )
        .limit(1)
    )
    other = session.scalar(
        select(col(Organisation.code)).where(col(Organisation.id).not_in(theirs)).limit(1)
    )
    assert lead is not None and other is not None
    return recommendation, lead, other


def _status(session: Session, code: str = "in_progress") -> FollowUpStatus:
    found = session.scalar(select(FollowUpStatus).where(col(FollowUpStatus.code) == code))
    assert found is not None
    return found


def _propose(session: Session, recommendation: Recommendation, period_id: int, **values: Any):  # type: ignore[no-untyped-def]
    values.setdefault("followup_status_id", _status(session).id)
    values.setdefault("explanation", "Er is een regiegroep ingesteld.")
    values.setdefault("based_on_version", 0)
    return service.propose_follow_up(
        session, recommendation_id=id_of(recommendation), period_id=period_id, **values
    )


def _publish(session: Session, period_id: int, actor: Any) -> None:
    """Publish as the confirmation page does, accepting what was not updated or approved of
    the statuses (unlike tests.factories.publish, which approves waiting follow-ups first)."""
    check = periods.publication_check(session, period=periods.get_period(session, period_id))
    periods.move_period(
        session, period_id=period_id, move="publish", actor=actor,
        accept_not_updated=check.not_updated, accept_unapproved=check.unapproved,
    )  # fmt: skip


def test_an_editor_of_a_lead_organisation_proposes_another_coordinator_approves_it_publishes(
    seeded_session: Session,
) -> None:
    session = seeded_session
    recommendation, lead, other = _linked(session)
    actor = coordinator(session)
    period_id = open_round(session, actor=actor)
    editor = current_user(session, create_user(session, "editor", (lead,)))
    stranger = current_user(session, create_user(session, "editor", (other,)))
    with pytest.raises(Forbidden, match="leidt"):
        _propose(session, recommendation, period_id, author=stranger)
    entry = _propose(session, recommendation, period_id, author=editor)
    session.commit()
    assert (entry.version, entry.author_id) == (1, editor.id)
    assert follow_up_review.unapproved_of_period(session, period_id) == [entry]
    periods.move_period(session, period_id=period_id, move="review", actor=actor)
    session.commit()
    with pytest.raises(InvalidInput, match="1 opvolging van een aanbeveling"):
        _publish(session, period_id, actor)
    session.rollback()
    # During review the editor changes nothing that was not sent back.
    period = periods.get_period(session, period_id)
    assert policy.may_propose(session, editor, id_of(recommendation), period).reason == (
        Reason.in_review
    )
    review.decide_follow_up(session, entry_id=id_of(entry), decision="approve", reviewer=actor)
    _publish(session, period_id, actor)
    session.commit()
    assert periods.get_period(session, period_id).state == PeriodState.published
    actions = [
        event.action
        for event in session.scalars(
            select(AuditEvent)
            .where(col(AuditEvent.object_type) == "recommendation")
            .order_by(col(AuditEvent.id))
        )
    ]
    assert actions == ["recommendation.follow_up", "review.approve"]
    # Published: frozen, in the service and in the database.
    with pytest.raises(periods.PeriodClosed):
        _propose(session, recommendation, period_id, author=actor, based_on_version=1)
    session.rollback()
    insert = text(
        "INSERT INTO review_note (recommendation_entry_id, kind, comment, author, created_at) "
        "VALUES (:entry, 'send_back', 'later', 'sql prompt', CURRENT_TIMESTAMP)"
    )
    with pytest.raises(DatabaseError, match="the reporting period is published"):
        session.execute(insert, {"entry": entry.id})
    session.rollback()
    periods.move_period(session, period_id=period_id, move="correct", actor=actor, reason="Typo")
    session.execute(insert, {"entry": entry.id})  # a correction takes notes
    session.commit()


def test_an_addressed_organisations_editor_proposes_and_four_eyes_hold(
    seeded_session: Session,
) -> None:
    session = seeded_session
    actor = coordinator(session)
    period_id = open_round(session, actor=actor)
    load_recommendations(session)
    addressee = session.scalar(
        select(Addressee).where(col(Addressee.organisation_id).is_not(None)).limit(1)
    )
    assert addressee is not None
    code = session.get(Organisation, addressee.organisation_id).code  # type: ignore[union-attr]
    recommendation = session.get(Recommendation, addressee.recommendation_id)
    assert recommendation is not None
    editor = current_user(session, create_user(session, "editor", (code,)))
    entry = _propose(session, recommendation, period_id, author=editor)
    # The coordinator's own version is never theirs to approve.
    mine = _propose(session, recommendation, period_id, author=actor, based_on_version=1)
    with pytest.raises(Forbidden, match="Vier ogen"):
        review.decide_follow_up(session, entry_id=id_of(mine), decision="approve", reviewer=actor)
    # The older version is decided on no longer: a newer one was saved.
    with pytest.raises(review.ReviewConflict):
        review.decide_follow_up(
            session, entry_id=id_of(entry), decision="approve", reviewer=coordinator(session)
        )
    with pytest.raises(Forbidden):
        review.decide_follow_up(session, entry_id=id_of(mine), decision="approve", reviewer=editor)


def test_a_stale_version_is_refused_and_a_sent_back_follow_up_is_its_editors_again(
    seeded_session: Session,
) -> None:
    session = seeded_session
    recommendation, lead, _ = _linked(session)
    actor = coordinator(session)
    period_id = open_round(session, actor=actor)
    editor = current_user(session, create_user(session, "editor", (lead,)))
    first = _propose(session, recommendation, period_id, author=editor)
    with pytest.raises(service.FollowUpConflict) as conflict:
        _propose(session, recommendation, period_id, author=actor, based_on_version=0)
    assert conflict.value.status_code == 409 and conflict.value.current.id == first.id
    with pytest.raises(InvalidInput):
        _propose(session, recommendation, period_id, author=editor, based_on_version=1,
                 explanation="  ")  # fmt: skip
    periods.move_period(session, period_id=period_id, move="review", actor=actor)
    with pytest.raises(InvalidInput, match="opmerking"):
        review.decide_follow_up(
            session, entry_id=id_of(first), decision="send_back", reviewer=actor
        )
    review.decide_follow_up(
        session, entry_id=id_of(first), decision="send_back", reviewer=actor, comment="Bron?"
    )
    period = periods.get_period(session, period_id)
    assert policy.may_propose(session, editor, id_of(recommendation), period).allowed
    second = _propose(session, recommendation, period_id, author=editor, based_on_version=1)
    assert second.version == 2
    assert follow_up_review.unapproved_of_period(session, period_id) == [second]


def test_a_review_note_has_exactly_one_of_three_subjects(seeded_session: Session) -> None:
    # Ids that match no row: no published-period guard speaks first, only the CHECK.
    for columns, values in [
        ("", ""),
        ("figure_version_id, recommendation_entry_id, ", "999999, 999999, "),
    ]:
        with pytest.raises(IntegrityError, match="one_subject"):
            seeded_session.execute(
                text(f"INSERT INTO review_note ({columns}kind, comment, author, created_at) "
                     f"VALUES ({values}'approve', '', 'x', CURRENT_TIMESTAMP)")
            )  # fmt: skip
        seeded_session.rollback()


def test_the_form_and_the_review_page_through_the_web(
    seeded_settings,  # type: ignore[no-untyped-def]
) -> None:
    app = create_app(seeded_settings)
    try:
        with Session(app.state.engine, expire_on_commit=False) as session:
            recommendation, lead, other = _linked(session)
            actor = coordinator(session)
            period_id = open_round(session, actor=actor)
            status_id = _status(session).id
            editor = create_user(session, "editor", (lead,))
            stranger = create_user(session, "editor", (other,))
            reviewer = create_user(session, "coordinator")
            session.commit()
        form = f"/recommendations/{recommendation.id}/follow-up"
        data = {"period_id": str(period_id), "status": str(status_id),
                "explanation": "Een regiegroep.", "based_on_version": "0"}  # fmt: skip
        with TestClient(app) as client:
            sign_in(client, stranger)
            assert client.get(form).status_code == 403
            token = csrf_from(client.get("/").text)
            assert client.post(form, data={**data, "csrftoken": token}).status_code == 403
        with TestClient(app) as client:
            sign_in(client, editor)
            page = client.get(f"{form}?period={period_id}")
            assert page.status_code == 200 and "follow-up-refused" not in page.text
            token = csrf_from(page.text)
            assert client.post(form, data=data).status_code == 403  # no CSRF token
            saved = client.post(form, data={**data, "csrftoken": token}, follow_redirects=False)
            assert saved.status_code == 303
            after = client.get(saved.headers["location"])
            assert "follow-up-done" in after.text and "Een regiegroep." in after.text
            stale = client.post(form, data={**data, "csrftoken": token, "explanation": "Later."})
            assert stale.status_code == 409
            soup = BeautifulSoup(stale.text, "html.parser")
            assert soup.select_one("#follow-up-conflict") is not None
            assert soup.select_one('input[name="based_on_version"]')["value"] == "1"  # type: ignore[index]
            htmx = client.post(
                form, headers={"HX-Request": "true"},
                data={**data, "csrftoken": token, "based_on_version": "1",
                      "explanation": "Twee regiegroepen."},
            )  # fmt: skip
            assert htmx.status_code == 200 and "<html" not in htmx.text
            assert "follow-up-done" in htmx.text
        url = f"/periods/{period_id}/review"
        with TestClient(app) as client:
            sign_in(client, reviewer)
            page = client.get(url)
            soup = BeautifulSoup(page.text, "html.parser")
            items = soup.select("#follow-ups-waiting > article")
            assert len(items) == 1
            entry_id = items[0]["id"].removeprefix("follow-up-")  # type: ignore[union-attr]
            assert soup.select_one(f'input[name="follow_up"][value="{entry_id}"]') is not None
            token = csrf_from(page.text)
            back = client.post(
                f"/review/follow-ups/{entry_id}",
                data={"csrftoken": token, "decision": "send_back", "comment": "Bron?"},
                follow_redirects=False,
            )
            assert back.status_code == 303
            after = BeautifulSoup(client.get(back.headers["location"]).text, "html.parser")
            assert len(after.select("#follow-ups-sent-back > article")) == 1
        with TestClient(app) as client:
            sign_in(client, editor)
            page = client.get(f"{form}?period={period_id}")
            assert "Bron?" in page.text
            token = csrf_from(page.text)
            again = client.post(
                form, data={**data, "csrftoken": token, "based_on_version": "2"},
                follow_redirects=False,
            )  # fmt: skip
            assert again.status_code == 303
        with TestClient(app) as client:
            sign_in(client, reviewer)
            page = client.get(url)
            soup = BeautifulSoup(page.text, "html.parser")
            box = soup.select_one('input[name="follow_up"][form="bulk-approve"]')
            assert box is not None
            bulk = client.post(
                f"{url}/approve",
                data={"csrftoken": csrf_from(page.text), "follow_up": [box["value"]]},
                follow_redirects=False,
            )
            assert bulk.status_code == 303
            after = BeautifulSoup(client.get(bulk.headers["location"]).text, "html.parser")
            assert after.select("#follow-ups-waiting > article") == []
        with Session(app.state.engine) as session:
            kinds = [
                note.kind
                for note in session.scalars(
                    select(ReviewNote)
                    .where(col(ReviewNote.recommendation_entry_id).is_not(None))
                    .order_by(col(ReviewNote.id))
                )
            ]
        assert kinds == [ReviewKind.send_back, ReviewKind.approve]
    finally:
        app.state.engine.dispose()


def test_the_review_pages_heading_counts_the_follow_ups_waiting(
    seeded_settings,  # type: ignore[no-untyped-def]
) -> None:
    """Only a follow-up waits: the heading says one proposal awaits review, not none."""
    app = create_app(seeded_settings)
    try:
        with Session(app.state.engine, expire_on_commit=False) as session:
            recommendation, lead, _ = _linked(session)
            actor = coordinator(session)
            period_id = open_round(session, actor=actor)
            editor = current_user(session, create_user(session, "editor", (lead,)))
            _propose(session, recommendation, period_id, author=editor)
            reviewer = create_user(session, "coordinator")
            session.commit()
        with TestClient(app) as client:
            sign_in(client, reviewer)
            soup = BeautifulSoup(client.get(f"/periods/{period_id}/review").text, "html.parser")
        assert len(soup.select("#follow-ups-waiting > article")) == 1
        waiting = soup.select_one("#waiting-heading")
        assert waiting is not None
        assert waiting.get_text(strip=True).startswith("1 ")
    finally:
        app.state.engine.dispose()


def test_the_recommendations_page_links_to_the_form_where_the_policy_allows(
    seeded_settings,  # type: ignore[no-untyped-def]
) -> None:
    """Its editors see "Voortgang opvolging melden" for the open period, and in review only
    once it was sent back to them; an editor of another organisation and a viewer see none."""
    app = create_app(seeded_settings)
    try:
        with Session(app.state.engine, expire_on_commit=False) as session:
            recommendation, lead, other = _linked(session)
            actor = coordinator(session)
            period_id = open_round(session, actor=actor)
            editor = create_user(session, "editor", (lead,))
            stranger = create_user(session, "editor", (other,))
            viewer = create_user(session, "viewer")
            session.commit()
        page = f"/recommendations/{recommendation.id}"
        form = f"/recommendations/{recommendation.id}/follow-up?period={period_id}"

        def links(user) -> list[str]:  # type: ignore[no-untyped-def]
            with TestClient(app) as client:
                sign_in(client, user)
                soup = BeautifulSoup(client.get(page).text, "html.parser")
            return [str(a["href"]) for a in soup.select("#follow-up-links a")]

        assert links(editor) == [form]
        with TestClient(app) as client:
            sign_in(client, editor)
            assert "Voortgang opvolging melden" in client.get(page).text
        assert links(stranger) == [] and links(viewer) == []
        with Session(app.state.engine, expire_on_commit=False) as session:
            author = current_user(session, editor)
            entry = _propose(session, recommendation, period_id, author=author)
            periods.move_period(session, period_id=period_id, move="review", actor=actor)
            session.commit()
        assert links(editor) == []
        with Session(app.state.engine, expire_on_commit=False) as session:
            review.decide_follow_up(
                session, entry_id=id_of(entry), decision="send_back", comment="Bron?",
                reviewer=coordinator(session),
            )  # fmt: skip
            session.commit()
        assert links(editor) == [form]
    finally:
        app.state.engine.dispose()
