"""What the recommendations' internal pages read: a programme's recommendations with filters
and counts, and one recommendation with its addressees, deadline, parts, relations, the
activities that answer it (with their status in the current reporting period), its results,
its key figures (their latest values) and its dialogue. Plain rows, a fixed number of queries
each."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlmodel import Session, col

from app import readmodel
from app.activities.models import Status
from app.clock import programme_today
from app.ids import id_of
from app.monitor.models import Area, Edition, Figure, Indicator
from app.monitor.service import FigureRow, current_versions
from app.periods.models import ReportingPeriod
from app.programmes.models import Activity, Organisation, Programme, Result
from app.readmodel.activities import activity_rows
from app.readmodel.rows import ActivityRow, PeriodRow
from app.recommendations.models import (
    Addressee,
    DeadlineChange,
    Entry,
    EntryKind,
    FollowUpStatus,
    Recommendation,
    RecommendationActivity,
    RecommendationIndicator,
    RecommendationRelation,
    RecommendationResult,
    RelationKind,
    SourceReport,
)
from app.recommendations.service import get_recommendation
from app.review import follow_ups as follow_up_review


@dataclass(frozen=True)
class AddresseeRow:
    name: str  # as written; may be empty when only the organisation is known
    organisation: Organisation | None


@dataclass(frozen=True)
class ListedRecommendation:
    recommendation: Recommendation
    report: SourceReport
    addressees: list[AddresseeRow]
    activity_count: int
    state: StateOfPlay = field(default_factory=lambda: StateOfPlay(None, None, None))


@dataclass(frozen=True)
class RecommendationFilters:
    report: str | None = None  # a report's key
    addressee: str | None = None  # an organisation's code
    priority: bool | None = None
    year: int | None = None  # the report's year of publication
    verdict: str | None = None  # the latest response's verdict, or NOTHING_YET
    followup: str | None = None  # the latest follow-up's status code, or NOTHING_YET
    overdue: bool = False
    addressee_name: str | None = None  # part of an addressee as written (any case)

    @property
    def active(self) -> bool:
        return bool(
            self.report
            or self.addressee
            or self.priority is not None
            or self.year
            or self.verdict
            or self.followup
            or self.overdue
            or self.addressee_name
        )


# The filters' value for "no response (follow-up) recorded yet".
NOTHING_YET = "none"
# Follow-up statuses (the legend's codes) that end a recommendation's follow-up: one that is
# not one of these (or has none) is open.
DONE_CODES = frozenset({"implemented"})
CLOSED_CODES = frozenset({"implemented", "not_implemented", "superseded"})


@dataclass(frozen=True)
class StateOfPlay:
    """Where a recommendation stands: its latest response's verdict, its latest follow-up's
    status, its current deadline (None: none or dropped)."""

    verdict: str | None
    followup: FollowUpStatus | None
    deadline: date | None

    def overdue(self, today: date) -> bool:
        """The deadline has passed and it is not reported implemented."""
        return (
            self.deadline is not None
            and self.deadline < today
            and (self.followup is None or self.followup.code not in DONE_CODES)
        )


def states_of(session: Session, ids: list[int]) -> dict[int, StateOfPlay]:
    """Three queries: the entries (responses and follow-ups, oldest first: the last is the
    latest), the follow-ups' review notes (app/review/follow_ups.py: only an approved or
    seeded follow-up counts) and the deadlines' history."""
    verdicts: dict[int, str | None] = {}
    followups: dict[int, FollowUpStatus | None] = {}
    deadlines: dict[int, date | None] = {}
    if ids:
        written: list[tuple[Entry, FollowUpStatus | None]] = []
        for entry, status in session.execute(
            select(Entry, FollowUpStatus)
            .outerjoin(FollowUpStatus, col(FollowUpStatus.id) == Entry.followup_status_id)
            .where(
                col(Entry.recommendation_id).in_(ids),
                col(Entry.kind).in_([EntryKind.response.value, EntryKind.follow_up.value]),
            )
            .order_by(col(Entry.entry_date), col(Entry.id))
        ).all():
            if entry.kind == EntryKind.response:
                verdicts[entry.recommendation_id] = entry.verdict.value if entry.verdict else None
            else:
                written.append((entry, status))
        # A follow-up is the latest one that counts: a proposal once it is approved.
        counted = follow_up_review.counting(session, [entry for entry, _ in written])
        for entry, status in written:
            if id_of(entry) in counted:
                followups[entry.recommendation_id] = status
        for change in session.scalars(
            select(DeadlineChange)
            .where(col(DeadlineChange.recommendation_id).in_(ids))
            .order_by(col(DeadlineChange.version))
        ):
            deadlines[change.recommendation_id] = change.deadline
    return {
        identifier: StateOfPlay(
            verdicts.get(identifier), followups.get(identifier), deadlines.get(identifier)
        )
        for identifier in ids
    }


@dataclass(frozen=True)
class RecommendationList:
    reports: list[SourceReport]
    # The organisations that are an addressee of any of the programme's recommendations.
    addressees: list[Organisation]
    rows: list[ListedRecommendation]
    # Of the programme's recommendations (whatever the filters): per report key, and priority.
    total: int
    per_report: dict[str, int]
    priority: int
    # The programme's follow-up legend, and per status code (NOTHING_YET: none recorded)
    # how many recommendations have it as their latest follow-up; how many are overdue.
    legend: list[FollowUpStatus] = field(default_factory=list)
    per_followup: dict[str, int] = field(default_factory=dict)
    overdue: int = 0
    years: list[int] = field(default_factory=list)  # the reports' years, for the filter


def _addressees_of(session: Session, ids: list[int]) -> dict[int, list[AddresseeRow]]:
    found: dict[int, list[AddresseeRow]] = {identifier: [] for identifier in ids}
    if not ids:
        return found
    rows = session.execute(
        select(Addressee, Organisation)
        .outerjoin(Organisation, col(Organisation.id) == Addressee.organisation_id)
        .where(col(Addressee.recommendation_id).in_(ids))
        .order_by(col(Addressee.recommendation_id), col(Addressee.position))
    ).all()
    for addressee, organisation in rows:
        found[addressee.recommendation_id].append(AddresseeRow(addressee.name, organisation))
    return found


def recommendation_list(
    session: Session, programme_id: int, filters: RecommendationFilters
) -> RecommendationList:
    """Eight queries: the reports, the recommendations, their addressees, their links, their
    entries, review notes and deadlines (`states_of`), the follow-up legend."""
    reports = list(
        session.scalars(
            select(SourceReport)
            .where(col(SourceReport.programme_id) == programme_id)
            .order_by(col(SourceReport.covers_to), col(SourceReport.id))
        )
    )
    by_report = {id_of(report): report for report in reports}
    every = list(
        session.scalars(
            select(Recommendation)
            .where(col(Recommendation.report_id).in_(list(by_report)))
            .order_by(col(Recommendation.report_id), col(Recommendation.position))
        )
    )
    # Reports in their order, then each one's recommendations in printed order.
    order = {report_id: index for index, report_id in enumerate(by_report)}
    every.sort(key=lambda r: (order[r.report_id], r.position))
    ids = [id_of(r) for r in every]
    addressees = _addressees_of(session, ids)
    counts: dict[int, int] = {
        recommendation_id: count
        for recommendation_id, count in session.execute(
            select(col(RecommendationActivity.recommendation_id), func.count())
            .where(col(RecommendationActivity.recommendation_id).in_(ids))
            .group_by(col(RecommendationActivity.recommendation_id))
        ).all()
    }
    organisations: dict[int, Organisation] = {}
    for rows in addressees.values():
        for row in rows:
            if row.organisation is not None:
                organisations[id_of(row.organisation)] = row.organisation
    per_report: dict[str, int] = {report.key: 0 for report in reports}
    for recommendation in every:
        per_report[by_report[recommendation.report_id].key] += 1
    states = states_of(session, ids)
    legend = list(
        session.scalars(
            select(FollowUpStatus)
            .where(col(FollowUpStatus.programme_id) == programme_id)
            .order_by(col(FollowUpStatus.position))
        )
    )
    today = programme_today()
    per_followup: dict[str, int] = {status.code: 0 for status in legend} | {NOTHING_YET: 0}
    for state in states.values():
        per_followup[state.followup.code if state.followup else NOTHING_YET] += 1
    wanted_name = (filters.addressee_name or "").casefold().strip()
    listed = []
    for recommendation in every:
        report = by_report[recommendation.report_id]
        rec_addressees = addressees[id_of(recommendation)]
        state = states[id_of(recommendation)]
        if filters.report and report.key != filters.report:
            continue
        if filters.year and report.year != filters.year:
            continue
        if filters.verdict and (state.verdict or NOTHING_YET) != filters.verdict:
            continue
        if (
            filters.followup
            and (state.followup.code if state.followup else NOTHING_YET) != filters.followup
        ):
            continue
        if filters.overdue and not state.overdue(today):
            continue
        if wanted_name and not any(wanted_name in row.name.casefold() for row in rec_addressees):
            continue
        if filters.addressee and not any(
            row.organisation is not None and row.organisation.code == filters.addressee
            for row in rec_addressees
        ):
            continue
        if filters.priority is not None and recommendation.priority != filters.priority:
            continue
        listed.append(
            ListedRecommendation(
                recommendation,
                report,
                rec_addressees,
                counts.get(id_of(recommendation), 0),
                state,
            )
        )
    return RecommendationList(
        reports=reports,
        addressees=sorted(organisations.values(), key=lambda o: o.name),
        rows=listed,
        total=len(every),
        per_report=per_report,
        priority=sum(1 for r in every if r.priority),
        legend=legend,
        per_followup=per_followup,
        overdue=sum(1 for state in states.values() if state.overdue(today)),
        years=sorted({report.year for report in reports if report.year}),
    )


@dataclass(frozen=True)
class LinkedActivity:
    link: RecommendationActivity
    activity: ActivityRow  # with its status in the view's period


@dataclass(frozen=True)
class LinkedResult:
    link: RecommendationResult
    result: Result


@dataclass(frozen=True)
class LinkedIndicator:
    link: RecommendationIndicator
    indicator: Indicator
    # Its latest figure (the one covering the latest years; a total, not a part), if any.
    latest: FigureRow | None
    edition: Edition | None


@dataclass(frozen=True)
class Related:
    kind: RelationKind
    # True: this recommendation repeats/continues the other; False: the other this one.
    outgoing: bool
    recommendation: Recommendation
    report: SourceReport


@dataclass(frozen=True)
class DialogueEntry:
    entry: Entry
    status: FollowUpStatus | None


@dataclass
class RecommendationView:
    programme: Programme
    recommendation: Recommendation
    report: SourceReport
    publisher: Organisation | None
    parent: Recommendation | None
    parts: list[Recommendation]
    addressees: list[AddresseeRow]
    deadlines: list[DeadlineChange]  # oldest first; the last is the current one
    related: list[Related]
    period: PeriodRow | None  # the reporting period the activities' statuses are of
    activities: list[LinkedActivity]
    results: list[LinkedResult]
    indicators: list[LinkedIndicator]
    entries: list[DialogueEntry] = field(default_factory=list)
    # The reporting periods the follow-up entries belong to: id → name.
    period_names: dict[int, str] = field(default_factory=dict)
    # The follow-up entries that count (approved, or seeded); the others are proposals.
    counted: frozenset[int] = frozenset()

    @property
    def deadline(self) -> DeadlineChange | None:
        return self.deadlines[-1] if self.deadlines else None

    @property
    def latest_followup(self) -> FollowUpStatus | None:
        """The latest follow-up that counts (approved, or seeded), not a proposal."""
        followups = [
            item
            for item in self.entries
            if item.entry.kind == EntryKind.follow_up and id_of(item.entry) in self.counted
        ]
        return followups[-1].status if followups else None

    @property
    def flags(self) -> list[str]:
        """Where the recommendation and its linked activities disagree (FLAG_*)."""
        found = []
        latest = self.latest_followup
        statuses = [linked.activity.status for linked in self.activities]
        if (
            latest is not None
            and latest.code in DONE_CODES
            and any(status in BEHIND for status in statuses)
        ):
            found.append(FLAG_IMPLEMENTED_BUT_BEHIND)
        if (
            statuses
            and all(status == Status.completed for status in statuses)
            and (latest is None or latest.code not in CLOSED_CODES)
        ):
            found.append(FLAG_DONE_BUT_OPEN)
        return found


# Flags: reported implemented while a linked activity is delayed or not started; every linked
# activity completed while the recommendation's follow-up is still open.
FLAG_IMPLEMENTED_BUT_BEHIND = "implemented_but_behind"
FLAG_DONE_BUT_OPEN = "done_but_open"
BEHIND = frozenset({Status.delayed, Status.not_started})


def _latest_figures(
    session: Session, indicator_ids: list[int]
) -> dict[int, tuple[FigureRow, Edition]]:
    if not indicator_ids:
        return {}
    rows = session.execute(
        select(Figure, Edition, Area, Indicator)
        .join(Edition, col(Edition.id) == Figure.edition_id)
        .join(Area, col(Area.id) == Figure.area_id)
        .join(Indicator, col(Indicator.id) == Figure.indicator_id)
        .where(col(Figure.indicator_id).in_(indicator_ids), col(Figure.parent_id).is_(None))
        .order_by(col(Figure.year_to), col(Figure.year_from), col(Edition.id))
    ).all()
    latest: dict[int, tuple[Figure, Edition, Area, Indicator]] = {}
    for figure, edition, area, indicator in rows:
        latest[figure.indicator_id] = (figure, edition, area, indicator)
    versions = current_versions(session, [id_of(figure) for figure, *_ in latest.values()])
    return {
        indicator_id: (
            FigureRow(figure, indicator, area, versions.get(id_of(figure))),
            edition,
        )
        for indicator_id, (figure, edition, area, indicator) in latest.items()
    }


def recommendation_view(session: Session, recommendation_id: int) -> RecommendationView:
    recommendation = get_recommendation(session, recommendation_id)
    report = session.get(SourceReport, recommendation.report_id)
    assert report is not None  # a foreign key
    rec_id = id_of(recommendation)
    publisher = session.get(Organisation, report.publisher_id)
    parent = (
        session.get(Recommendation, recommendation.parent_id) if recommendation.parent_id else None
    )
    parts = list(
        session.scalars(
            select(Recommendation)
            .where(col(Recommendation.parent_id) == rec_id)
            .order_by(col(Recommendation.position))
        )
    )
    deadlines = list(
        session.scalars(
            select(DeadlineChange)
            .where(col(DeadlineChange.recommendation_id) == rec_id)
            .order_by(col(DeadlineChange.version))
        )
    )
    related = []
    relations = session.scalars(
        select(RecommendationRelation).where(
            (col(RecommendationRelation.recommendation_id) == rec_id)
            | (col(RecommendationRelation.related_id) == rec_id)
        )
    ).all()
    for relation in relations:
        outgoing = relation.recommendation_id == rec_id
        other = session.get(
            Recommendation, relation.related_id if outgoing else relation.recommendation_id
        )
        assert other is not None
        other_report = session.get(SourceReport, other.report_id)
        assert other_report is not None
        related.append(Related(relation.kind, outgoing, other, other_report))

    periods = readmodel.list_periods(session, report.programme_id)
    period = readmodel.choose_period(periods, None)
    activity_links = list(
        session.scalars(
            select(RecommendationActivity).where(
                col(RecommendationActivity.recommendation_id) == rec_id
            )
        )
    )
    rows = {
        row.id: row
        for row in activity_rows(session, [link.activity_id for link in activity_links], period)
    }
    # In programme order (the read-model's), each with its link.
    links_by_activity = {link.activity_id: link for link in activity_links}
    activities = [
        LinkedActivity(links_by_activity[activity_id], row)
        for activity_id, row in rows.items()
        if activity_id in links_by_activity
    ]
    results = [
        LinkedResult(link, result)
        for link, result in session.execute(
            select(RecommendationResult, Result)
            .join(Result, col(Result.id) == RecommendationResult.result_id)
            .where(col(RecommendationResult.recommendation_id) == rec_id)
            .order_by(col(Result.number))
        ).all()
    ]
    indicator_links = list(
        session.execute(
            select(RecommendationIndicator, Indicator)
            .join(Indicator, col(Indicator.id) == RecommendationIndicator.indicator_id)
            .where(col(RecommendationIndicator.recommendation_id) == rec_id)
            .order_by(col(Indicator.code))
        ).all()
    )
    latest = _latest_figures(session, [id_of(indicator) for _, indicator in indicator_links])
    indicators = [
        LinkedIndicator(
            link,
            indicator,
            latest[id_of(indicator)][0] if id_of(indicator) in latest else None,
            latest[id_of(indicator)][1] if id_of(indicator) in latest else None,
        )
        for link, indicator in indicator_links
    ]
    entries = [
        DialogueEntry(entry, status)
        for entry, status in session.execute(
            select(Entry, FollowUpStatus)
            .outerjoin(FollowUpStatus, col(FollowUpStatus.id) == Entry.followup_status_id)
            .where(col(Entry.recommendation_id) == rec_id)
            .order_by(col(Entry.entry_date), col(Entry.id))
        ).all()
    ]
    period_ids = {item.entry.period_id for item in entries if item.entry.period_id is not None}
    period_names = (
        {
            id_of(period): period.name
            for period in session.scalars(
                select(ReportingPeriod).where(col(ReportingPeriod.id).in_(period_ids))
            )
        }
        if period_ids
        else {}
    )
    programme = session.get(Programme, report.programme_id)
    assert programme is not None  # a foreign key
    return RecommendationView(
        programme=programme,
        recommendation=recommendation,
        report=report,
        publisher=publisher,
        parent=parent,
        parts=parts,
        addressees=_addressees_of(session, [rec_id])[rec_id],
        deadlines=deadlines,
        related=related,
        period=period,
        activities=activities,
        results=results,
        indicators=indicators,
        entries=entries,
        period_names=period_names,
        counted=follow_up_review.counting(
            session, [item.entry for item in entries if item.entry.kind == EntryKind.follow_up]
        ),
    )


@dataclass(frozen=True)
class LinkChoice:
    value: str  # "activity:12": what the link form sends
    label: str
    indicator: Indicator | None = None  # named in the reader's language by the template


@dataclass(frozen=True)
class LinkChoices:
    """What a coordinator may link to a recommendation, not linked yet: the programme's
    activities (not retired) and results in programme order, and its indicators."""

    activities: list[LinkChoice]
    results: list[LinkChoice]
    indicators: list[LinkChoice]


def link_choices(session: Session, view: RecommendationView) -> LinkChoices:
    """Three queries."""
    programme_id = id_of(view.programme)
    linked_activities = {linked.activity.id for linked in view.activities}
    linked_results = {id_of(linked.result) for linked in view.results}
    linked_indicators = {id_of(linked.indicator) for linked in view.indicators}
    activities = [
        LinkChoice(
            f"activity:{id_of(activity)}",
            f"{result.number}{'.' + activity.label if activity.label else ''}: {activity.title}",
        )
        for activity, result in session.execute(
            select(Activity, Result)
            .join(Result, col(Result.id) == Activity.result_id)
            .where(col(Result.programme_id) == programme_id, col(Activity.retired_at).is_(None))
            .order_by(col(Result.number), col(Activity.position))
        ).all()
        if id_of(activity) not in linked_activities
    ]
    results = [
        LinkChoice(f"result:{id_of(result)}", f"{result.number}: {result.title}")
        for result in session.scalars(
            select(Result)
            .where(col(Result.programme_id) == programme_id, col(Result.retired_at).is_(None))
            .order_by(col(Result.number))
        )
        if id_of(result) not in linked_results
    ]
    indicators = [
        LinkChoice(f"indicator:{id_of(indicator)}", indicator.code, indicator)
        for indicator in session.scalars(
            select(Indicator)
            .where(col(Indicator.programme_id) == programme_id)
            .order_by(col(Indicator.code))
        )
        if id_of(indicator) not in linked_indicators
    ]
    return LinkChoices(activities, results, indicators)
