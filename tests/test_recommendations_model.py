"""The recommendations' model: the dialogue and the deadline's history are append-only in the
database, a follow-up entry belongs to a period of the programme and is refused once that
period is published, a response carries a verdict, a seeded link is a proposal until a
coordinator confirms it, and every change raises the data revision."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session, col

from app.cache import DATA_REVISION_ID
from app.errors import Forbidden, InvalidInput
from app.ids import id_of
from app.periods.models import ReportingPeriod
from app.periods.service import PeriodClosed
from app.programmes.models import Activity, Organisation, Programme
from app.recommendations import service
from app.recommendations.models import (
    Addressee,
    EntryKind,
    FollowUpStatus,
    LinkSource,
    Recommendation,
    RecommendationActivity,
    SourceReport,
    Verdict,
)
from app.revision import DataRevision
from tests.factories import coordinator, create_user, current_user, open_round


def _recommendation(session: Session) -> tuple[Recommendation, FollowUpStatus]:
    programme = session.scalar(select(Programme))
    publisher = session.scalar(select(Organisation).where(col(Organisation.code) == "NRM"))
    assert programme is not None and publisher is not None
    report = SourceReport(
        programme_id=id_of(programme),
        key="monitor",
        title="Een monitor",
        publisher_id=id_of(publisher),
        covers_from=2014,
        covers_to=2018,
    )
    session.add(report)
    session.flush()
    recommendation = Recommendation(
        report_id=id_of(report), number="1", position=1, title="Zorg ervoor", text="Tekst."
    )
    session.add(recommendation)
    session.flush()
    session.add(Addressee(recommendation_id=id_of(recommendation), position=1, name="de minister"))
    status = FollowUpStatus(
        programme_id=id_of(programme),
        code="in_progress",
        symbol="▶",
        label_nl="In uitvoering",
        label_en="In progress",
        position=2,
    )
    session.add(status)
    session.commit()
    return recommendation, status


def _period(session: Session, name: str) -> ReportingPeriod:
    period = session.scalar(select(ReportingPeriod).where(col(ReportingPeriod.name) == name))
    assert period is not None
    return period


def _follow_up(session: Session, recommendation: Recommendation, **values: Any) -> Any:
    return service.record_entry(
        session,
        recommendation_id=id_of(recommendation),
        kind=EntryKind.follow_up,
        entry_date=date(2022, 10, 1),
        text="Er is een coördinator aangesteld.",
        **values,
    )


def test_entries_and_deadlines_are_append_only_in_the_database(seeded_session: Session) -> None:
    recommendation, _ = _recommendation(seeded_session)
    actor = coordinator(seeded_session)
    entry = service.record_entry(
        seeded_session,
        recommendation_id=id_of(recommendation),
        kind=EntryKind.response,
        verdict=Verdict.partly_accepted,
        entry_date=date(2019, 12, 3),
        document_reference="Kamerstukken II 2019/20, 28 638, nr. 180",
        text="Het kabinet neemt de aanbeveling gedeeltelijk over.",
        author=actor,
    )
    deadline = service.reschedule(
        seeded_session,
        recommendation_id=id_of(recommendation),
        deadline=date(2022, 1, 1),
        reason="",
        author=actor,
    )
    seeded_session.commit()
    for table, row_id in (
        ("recommendation_entry", entry.id),
        ("recommendation_deadline", deadline.id),
    ):
        for statement in (f"UPDATE {table} SET author = 'x' WHERE id = :id", f"DELETE FROM {table} WHERE id = :id"):  # fmt: skip
            with pytest.raises(DatabaseError, match="append-only"):
                seeded_session.execute(text(statement), {"id": row_id})
            seeded_session.rollback()


def test_a_rescheduled_deadline_keeps_its_history_and_says_why(seeded_session: Session) -> None:
    recommendation, _ = _recommendation(seeded_session)
    actor = coordinator(seeded_session)
    rec_id = id_of(recommendation)
    assert service.current_deadline(seeded_session, rec_id) is None
    service.reschedule(
        seeded_session, recommendation_id=rec_id, deadline=date(2022, 1, 1), reason="",
        author=actor,
    )  # fmt: skip
    with pytest.raises(InvalidInput):
        service.reschedule(
            seeded_session, recommendation_id=rec_id, deadline=date(2023, 1, 1), reason=" ",
            author=actor,
        )  # fmt: skip
    moved = service.reschedule(
        seeded_session, recommendation_id=rec_id, deadline=date(2023, 1, 1),
        reason="Het onderzoek loopt uit.", author=actor,
    )  # fmt: skip
    current = service.current_deadline(seeded_session, rec_id)
    assert current is not None and current.id == moved.id
    assert (current.version, current.deadline) == (2, date(2023, 1, 1))
    editor = current_user(seeded_session, create_user(seeded_session, "editor", ("JenV",)))
    with pytest.raises(Forbidden):
        service.reschedule(
            seeded_session, recommendation_id=rec_id, deadline=None, reason="Vervalt.",
            author=editor,
        )  # fmt: skip


def test_a_follow_up_entry_belongs_to_an_open_period_and_a_status_of_the_legend(
    seeded_session: Session,
) -> None:
    recommendation, status = _recommendation(seeded_session)
    actor = coordinator(seeded_session)
    published = _period(seeded_session, "Voortgangsrapportage 2021")
    with pytest.raises(InvalidInput):
        _follow_up(seeded_session, recommendation, author=actor, followup_status_id=status.id)
    with pytest.raises(PeriodClosed):
        _follow_up(
            seeded_session, recommendation, author=actor, period_id=published.id,
            followup_status_id=status.id,
        )  # fmt: skip
    open_round(seeded_session, actor=actor)
    round_period = _period(seeded_session, "Voortgangsrapportage 2022")
    with pytest.raises(InvalidInput):
        _follow_up(seeded_session, recommendation, author=actor, period_id=round_period.id)
    first = _follow_up(
        seeded_session, recommendation, author=actor, period_id=round_period.id,
        followup_status_id=status.id,
    )  # fmt: skip
    second = _follow_up(
        seeded_session, recommendation, author=actor, period_id=round_period.id,
        followup_status_id=status.id,
    )  # fmt: skip
    assert (first.version, second.version) == (1, 2)
    with pytest.raises(InvalidInput):
        service.record_entry(
            seeded_session, recommendation_id=id_of(recommendation), kind=EntryKind.response,
            entry_date=date(2020, 1, 1), text="Zonder oordeel.", author=actor,
        )  # fmt: skip


def test_the_database_refuses_an_entry_in_a_published_period_and_one_without_its_parts(
    seeded_session: Session,
) -> None:
    recommendation, status = _recommendation(seeded_session)
    published = _period(seeded_session, "Voortgangsrapportage 2021")
    insert = (
        "INSERT INTO recommendation_entry (recommendation_id, kind, version, verdict, "
        "entry_date, document_reference, text, period_id, followup_status_id, source, author, "
        "created_at) VALUES (:rec, :kind, 1, :verdict, '2022-01-01', '', 't', :period, "
        ":status, 'entered', 'x', CURRENT_TIMESTAMP)"
    )
    rows = [
        ({"kind": "follow_up", "verdict": None, "period": published.id, "status": status.id}, "published"),
        ({"kind": "response", "verdict": None, "period": None, "status": None}, "verdict_of_response"),
        ({"kind": "follow_up", "verdict": None, "period": None, "status": None}, "follow_up_period"),
        ({"kind": "assessment", "verdict": None, "period": None, "status": status.id}, "status_of_follow_up"),
    ]  # fmt: skip
    for values, message in rows:
        with pytest.raises(DatabaseError, match=message):
            seeded_session.execute(text(insert), {"rec": recommendation.id, **values})
        seeded_session.rollback()


def test_a_seeded_link_is_a_proposal_until_a_coordinator_confirms_it(
    seeded_session: Session,
) -> None:
    recommendation, _ = _recommendation(seeded_session)
    activity = seeded_session.scalar(select(Activity).limit(1))
    assert activity is not None
    link = RecommendationActivity(
        recommendation_id=id_of(recommendation),
        activity_id=id_of(activity),
        source=LinkSource.seeded,
    )
    seeded_session.add(link)
    seeded_session.commit()
    assert not link.confirmed
    editor = current_user(seeded_session, create_user(seeded_session, "editor", ("JenV",)))
    with pytest.raises(Forbidden):
        service.confirm_link(seeded_session, link=link, user=editor)
    actor = coordinator(seeded_session)
    service.confirm_link(seeded_session, link=link, user=actor)
    seeded_session.commit()
    assert link.confirmed and link.confirmed_by == actor.name
    assert link.source == LinkSource.seeded  # who proposed it stays
    with pytest.raises(DatabaseError, match="confirmed_together"):
        seeded_session.execute(
            text("UPDATE recommendation_activity SET confirmed_by = NULL WHERE activity_id = :a"),
            {"a": activity.id},
        )
    seeded_session.rollback()


def test_a_new_entry_raises_the_data_revision(seeded_session: Session) -> None:
    recommendation, _ = _recommendation(seeded_session)
    revision = seeded_session.get(DataRevision, DATA_REVISION_ID)
    assert revision is not None
    before = revision.revision
    service.record_entry(
        seeded_session, recommendation_id=id_of(recommendation), kind=EntryKind.assessment,
        entry_date=date(2020, 6, 1), text="De reactie schiet tekort.",
        author=coordinator(seeded_session),
    )  # fmt: skip
    seeded_session.commit()
    seeded_session.refresh(revision)
    assert revision.revision > before
