"""The recommendations' list filters on the state of play (year, response, latest follow-up,
overdue, addressee as written) with counts per follow-up status, and a recommendation's page
as a timeline with the flags where it and its linked activities disagree: reported implemented
while a linked activity is delayed or not started; every linked activity completed while the
follow-up is still open."""

from __future__ import annotations

from datetime import date, timedelta

from bs4 import BeautifulSoup
from sqlalchemy import delete, select
from sqlmodel import Session, col

from app import readmodel
from app.activities.models import Status
from app.ids import id_of
from app.programmes.models import Activity, Programme
from app.readmodel.activities import activity_rows
from app.recommendations import reading, service
from app.recommendations.models import (
    Entry,
    EntryKind,
    FollowUpStatus,
    LinkSource,
    Recommendation,
    RecommendationActivity,
    Verdict,
)
from app.review import service as review
from tests.factories import coordinator, create_user, current_user, open_round
from tests.test_board import SLUG
from tests.test_recommendations_pages import World, world

__all__ = ["world"]

LIST = f"/programmes/{SLUG}/recommendations"


def _rows(html: str) -> list[str]:
    table = BeautifulSoup(html, "html.parser").select("#recommendations tbody tr")
    return [" ".join(row.get_text(" ").split()) for row in table]


def _text(html: str, selector: str) -> str:
    found = BeautifulSoup(html, "html.parser").select_one(selector)
    assert found is not None, selector
    return " ".join(found.get_text(" ").split())


def _status(session: Session, code: str) -> FollowUpStatus:
    found = session.scalar(select(FollowUpStatus).where(col(FollowUpStatus.code) == code))
    assert found is not None
    return found


def _approve(session: Session, entry: Entry) -> Entry:
    """Approved by a coordinator other than its author: a follow-up counts from then on."""
    reviewer = current_user(session, create_user(session, "coordinator"))
    review.decide_follow_up(session, entry_id=id_of(entry), decision="approve", reviewer=reviewer)
    return entry


def _activities_by_status(session: Session) -> dict[Status | None, list[int]]:
    programme = session.scalar(select(Programme))
    assert programme is not None
    period = readmodel.choose_period(readmodel.list_periods(session, id_of(programme)), None)
    ids = list(session.scalars(select(Activity.id)))
    found: dict[Status | None, list[int]] = {}
    for row in activity_rows(session, ids, period):
        found.setdefault(row.status, []).append(row.id)
    return found


def _link_only(session: Session, recommendation: Recommendation, activity_ids: list[int]) -> None:
    session.execute(
        delete(RecommendationActivity).where(
            col(RecommendationActivity.recommendation_id) == id_of(recommendation)
        )
    )
    for activity_id in activity_ids:
        session.add(
            RecommendationActivity(
                recommendation_id=id_of(recommendation),
                activity_id=activity_id,
                source=LinkSource.entered,
            )
        )
    session.flush()


def test_flags_where_the_follow_up_and_the_activities_disagree(world: World) -> None:
    behind = world.recommendation("slachtoffermonitor-2014-2018", "1")
    done = world.recommendation("slachtoffermonitor-2014-2018", "3")
    with Session(world.app.state.engine, expire_on_commit=False) as session:
        actor = coordinator(session)
        period_id = open_round(session, actor=actor)
        statuses = _activities_by_status(session)
        delayed = (statuses.get(Status.delayed) or statuses[Status.not_started])[0]
        completed = statuses[Status.completed][:2]
        _link_only(session, behind, [delayed, completed[0]])
        _link_only(session, done, completed)
        proposal = service.record_entry(
            session,
            recommendation_id=id_of(behind),
            kind=EntryKind.follow_up,
            entry_date=date(2022, 11, 1),
            text="Uitgevoerd.",
            period_id=period_id,
            followup_status_id=id_of(_status(session, "implemented")),
            author=actor,
        )
        session.commit()
        # A proposal is no follow-up yet: no flag reads it.
        assert reading.recommendation_view(session, id_of(behind)).flags == []
        _approve(session, proposal)
        session.commit()
        assert reading.recommendation_view(session, id_of(behind)).flags == [
            reading.FLAG_IMPLEMENTED_BUT_BEHIND
        ]
        assert reading.recommendation_view(session, id_of(done)).flags == [
            reading.FLAG_DONE_BUT_OPEN
        ]
    with world.client("viewer") as client:
        page = client.get(f"/recommendations/{behind.id}").text
        assert "vertraagd of niet gestart" in _text(page, "#flag-implemented-but-behind")
        assert "flag-done-but-open" not in page
        # The timeline: the recommendation first, then the follow-up with its period.
        timeline = _text(page, "#dialogue")
        assert timeline.index("Aanbeveling 1") < timeline.index("Opvolging")
        assert "Voortgangsrapportage 2022: ✔ Uitgevoerd" in timeline
        page = client.get(f"/recommendations/{done.id}?lang=en").text
        assert "still open" in _text(page, "#flag-done-but-open")
    with Session(world.app.state.engine) as session:
        # Reported implemented: no longer open, no flag.
        implemented = service.record_entry(
            session,
            recommendation_id=id_of(done),
            kind=EntryKind.follow_up,
            entry_date=date(2022, 11, 2),
            text="Uitgevoerd.",
            period_id=period_id,
            followup_status_id=id_of(_status(session, "implemented")),
            author=actor,
        )
        # An in-progress follow-up with activities behind is no disagreement either.
        in_progress = service.record_entry(
            session,
            recommendation_id=id_of(behind),
            kind=EntryKind.follow_up,
            entry_date=date(2022, 11, 3),
            text="Toch nog niet.",
            period_id=period_id,
            followup_status_id=id_of(_status(session, "in_progress")),
            author=actor,
        )
        session.commit()
        # Proposals: the flags still read the approved follow-ups.
        assert reading.recommendation_view(session, id_of(done)).flags == [
            reading.FLAG_DONE_BUT_OPEN
        ]
        assert reading.recommendation_view(session, id_of(behind)).flags == [
            reading.FLAG_IMPLEMENTED_BUT_BEHIND
        ]
        _approve(session, implemented)
        _approve(session, in_progress)
        session.commit()
        assert reading.recommendation_view(session, id_of(done)).flags == []
        assert reading.recommendation_view(session, id_of(behind)).flags == []


def test_the_list_filters_on_response_follow_up_overdue_year_and_addressee_as_written(
    world: World,
) -> None:
    first = world.recommendation("slachtoffermonitor-2014-2018", "1")
    second = world.recommendation("slachtoffermonitor-2014-2018", "2")
    with Session(world.app.state.engine) as session:
        actor = coordinator(session)
        period_id = open_round(session, actor=actor)
        service.record_entry(
            session,
            recommendation_id=id_of(first),
            kind=EntryKind.response,
            verdict=Verdict.accepted,
            entry_date=date(2019, 12, 1),
            text="Overgenomen.",
            author=actor,
        )
        _approve(
            session,
            service.record_entry(
                session,
                recommendation_id=id_of(first),
                kind=EntryKind.follow_up,
                entry_date=date(2022, 11, 1),
                text="Bezig.",
                period_id=period_id,
                followup_status_id=id_of(_status(session, "in_progress")),
                author=actor,
            ),
        )
        # A newer proposal (not approved) of the second: it counts as nothing recorded yet.
        service.record_entry(
            session,
            recommendation_id=id_of(second),
            kind=EntryKind.follow_up,
            entry_date=date(2022, 11, 2),
            text="Uitgevoerd?",
            period_id=period_id,
            followup_status_id=id_of(_status(session, "implemented")),
            author=actor,
        )
        yesterday = date.today() - timedelta(days=1)
        service.reschedule(
            session, recommendation_id=id_of(first), deadline=yesterday, reason="", author=actor
        )
        service.reschedule(
            session,
            recommendation_id=id_of(second),
            deadline=date.today() + timedelta(days=30),
            reason="",
            author=actor,
        )
        session.commit()
    with world.client("viewer") as client:
        page = client.get(LIST).text
        counts = _text(page, "#followup-counts")
        assert "In uitvoering: 1" in counts and "nog niets vastgelegd: 7" in counts
        assert "Over de termijn: 1" in _text(page, "#recommendation-counts")
        for query, expected in (
            ("?followup=in_progress", [first.title]),
            ("?verdict=accepted", [first.title]),
            ("?overdue=yes", [first.title]),
            ("?addressee_name=korpsleiding", ["VERSTERK DE ROL VAN DE NATIONALE POLITIE"]),
            ("?addressee_name=KORPSLEIDING&overdue=yes", []),
        ):
            rows = _rows(client.get(LIST + query).text)
            assert len(rows) == len(expected), query
            for row, words in zip(rows, expected, strict=True):
                assert words[:20] in row, query
        assert len(_rows(client.get(LIST + "?verdict=none").text)) == 7
        assert len(_rows(client.get(LIST + "?followup=none").text)) == 7
        assert _rows(client.get(LIST + "?followup=implemented").text) == []
        timeline = _text(client.get(f"/recommendations/{second.id}").text, "#dialogue")
        assert "Uitgevoerd · voorstel, nog niet goedgekeurd" in timeline
        row = _rows(client.get(LIST + "?overdue=yes").text)[0]
        assert "Beleidsreactie: overgenomen" in row and "over de termijn" in row
        years = [
            option["value"]
            for option in BeautifulSoup(page, "html.parser").select("#filter-year option")
            if option["value"]
        ]
        for year in years:
            assert len(_rows(client.get(f"{LIST}?year={year}").text)) >= 1
