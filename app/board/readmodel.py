"""The read-model: what the board, the activity list, the API and (later) every export read.

Each function runs a fixed, small number of queries whatever the number of activities, and
returns plain dataclasses. The current state of an activity in a period is its StatusUpdate
with the highest version (status updates are append-only).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any, NamedTuple

from markupsafe import Markup
from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    and_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.orm import aliased
from sqlmodel import Session

from app.activities.diff import explanation_diff
from app.activities.models import (
    STATUS_ORDER,
    Status,
    StatusApproved,
    StatusCurrent,
    StatusUpdate,
    UpdateSource,
)
from app.activities.rollup import rollup
from app.errors import NotFound
from app.i18n import gettext
from app.periods.models import PeriodState, PublishedActivity, ReportingPeriod
from app.programmes.models import (
    ActionLine,
    Activity,
    ActivityOrganisation,
    Organisation,
    Programme,
    Result,
    Theme,
)
from app.review.models import ReviewNote


@dataclass(frozen=True)
class PeriodRow:
    id: int
    name: str
    reference_date: date
    state: PeriodState = PeriodState.open
    deadline: date | None = None

    @property
    def published(self) -> bool:
        return self.state == PeriodState.published


@dataclass(frozen=True)
class ProgrammeRow:
    id: int
    slug: str
    name: str
    description: str


class OrganisationRef(NamedTuple):  # a tuple: made for every link of a whole table
    id: int
    code: str
    name: str
    role: str

    @property
    def lead(self) -> bool:
        return self.role == "lead"


@dataclass
class ActivityRow:
    id: int
    action_line_number: int
    action_line_title: str
    theme_id: int
    theme_title: str
    result_number: int
    result_title: str
    result_note: str
    label: str | None
    title: str
    status: Status | None
    explanation: str
    version: int | None
    source: UpdateSource | None
    updated_at: datetime | None
    # The version that counts for the report (approved, or the period's starting point);
    # differs from `version` while a proposal waits for review.
    approved_version: int | None = None
    organisations: list[OrganisationRef] = field(default_factory=list)

    @property
    def not_updated(self) -> bool:
        """Carried over from the previous period and not yet confirmed or changed."""
        return self.source == UpdateSource.carried_over

    @property
    def awaiting_review(self) -> bool:
        return self.version is not None and self.version != self.approved_version

    @property
    def lead(self) -> OrganisationRef | None:
        return next((org for org in self.organisations if org.role == "lead"), None)


@dataclass(frozen=True)
class ActivityFilters:
    statuses: tuple[Status, ...] = ()
    action_line: int | None = None
    organisation: str | None = None
    query: str = ""
    result: int | None = None

    @property
    def active(self) -> bool:
        return bool(
            self.statuses or self.action_line or self.organisation or self.query or self.result
        )


@dataclass
class StatusCounts:
    counts: dict[Status | None, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def overall(self) -> Status | None:
        """The roll-up of these activities (see app/activities/rollup.py)."""
        return rollup(self.counts)

    def ordered(self) -> list[tuple[Status | None, int]]:
        keys: list[Status | None] = [*STATUS_ORDER, None]
        return [(key, self.counts.get(key, 0)) for key in keys if self.counts.get(key, 0)]


@dataclass
class ActionLineSummary:
    number: int
    title: str
    counts: StatusCounts


@dataclass
class Board:
    programme: ProgrammeRow
    period: PeriodRow | None
    action_lines: list[ActionLineSummary]
    totals: StatusCounts


def _rows(session: Session):  # type: ignore[no-untyped-def]
    """The session's connection, for plain row queries: SQLAlchemy Core skips the ORM's
    per-statement work, which matters on the hottest pages. Same transaction."""
    return session.connection()


def get_programme(session: Session, slug: str) -> ProgrammeRow:
    row = (
        _rows(session)
        .execute(
            select(Programme.id, Programme.slug, Programme.name, Programme.description).where(
                Programme.slug == slug
            )
        )
        .first()
    )
    if row is None:
        raise NotFound(gettext("Programme %(slug)s does not exist") % {"slug": slug})
    return ProgrammeRow(*row)


def list_programmes(session: Session) -> list[ProgrammeRow]:
    rows = _rows(session).execute(
        select(Programme.id, Programme.slug, Programme.name, Programme.description).order_by(
            Programme.name
        )
    )
    return [ProgrammeRow(*row) for row in rows]


def list_periods(session: Session, programme_id: int) -> list[PeriodRow]:
    rows = _rows(session).execute(
        select(
            ReportingPeriod.id,
            ReportingPeriod.name,
            ReportingPeriod.reference_date,
            ReportingPeriod.state,
            ReportingPeriod.deadline,
        )
        .where(ReportingPeriod.programme_id == programme_id)
        .order_by(ReportingPeriod.reference_date.desc(), ReportingPeriod.id.desc())
    )
    return [
        PeriodRow(id, name, reference_date, PeriodState(state), deadline)
        for id, name, reference_date, state, deadline in rows
    ]


def choose_period(periods: list[PeriodRow], period_id: int | None) -> PeriodRow | None:
    """The requested period, or the most recent one."""
    if period_id is not None:
        for period in periods:
            if period.id == period_id:
                return period
        raise NotFound(
            gettext("Reporting period %(id)s does not exist in this programme") % {"id": period_id}
        )
    # A draft is still being prepared: the most recent period that has started is the default.
    started = [period for period in periods if period.state != PeriodState.draft]
    return (started or periods or [None])[0]


Pointer = type[StatusCurrent] | type[StatusApproved]


def status_pointer(period: PeriodRow | None) -> Pointer:
    """Which status of an activity a period shows: a published period shows what counts for
    the report (approved updates and the starting point); a period in progress shows the
    newest version, proposals included. Both pointers are kept by database triggers."""
    return StatusApproved if period is not None and period.published else StatusCurrent


def _period_id(period: PeriodRow | None) -> int | None:
    return period.id if period else None


# The period every statement below is about, given when it runs: the statements themselves are
# built once (building them costs more than running them) and reused for every period.
_PERIOD = bindparam("period_id")
# Stands for "a published period" when a statement is built for all of them.
_PUBLISHED = PeriodRow(0, "", date.min, PeriodState.published)


def _run(session: Session, statement: Select, period: PeriodRow | None):  # type: ignore[no-untyped-def,type-arg]
    return _rows(session).execute(statement, {"period_id": _period_id(period)})


def _current_status_join(period: PeriodRow | None) -> ColumnElement[bool]:
    """Outer-join condition for an activity's shown status in the period."""
    pointer = status_pointer(period)
    return and_(pointer.activity_id == Activity.id, pointer.period_id == _PERIOD)


_TOKEN = re.compile(r"\w+", re.UNICODE)


def _search_condition(
    session: Session, query: str, period: PeriodRow | None
) -> ColumnElement[bool]:
    """Full-text match on the activity title or on its current explanation in the period."""
    pointer = status_pointer(period)
    words = _TOKEN.findall(query)
    if not words:
        return literal_column("1") == literal_column("1")
    if session.get_bind().dialect.name == "sqlite":
        # Each word as a quoted prefix term: user input never reaches FTS5 syntax.
        match = " ".join('"' + word.replace('"', '""') + '"*' for word in words)
        in_title = Activity.id.in_(
            select(literal_column("rowid"))
            .select_from(text("activity_fts"))
            .where(text("activity_fts MATCH :title_match").bindparams(title_match=match))
        )
        in_explanation = pointer.status_update_id.in_(
            select(literal_column("rowid"))
            .select_from(text("status_update_fts"))
            .where(
                text("status_update_fts MATCH :explanation_match").bindparams(
                    explanation_match=match
                )
            )
        )
        return or_(in_title, in_explanation)
    terms = " & ".join(word + ":*" for word in words)
    ts_query = func.to_tsquery("dutch", terms)
    in_title = func.to_tsvector("dutch", Activity.title).op("@@")(ts_query)
    in_explanation = pointer.status_update_id.in_(
        select(StatusUpdate.id).where(
            StatusUpdate.period_id == _PERIOD,
            func.to_tsvector("dutch", StatusUpdate.explanation).op("@@")(ts_query),
        )
    )
    return or_(in_title, in_explanation)


def _visible_in_period(period: PeriodRow | None) -> ColumnElement[bool]:
    """A published period shows exactly the activities it reported on (an activity added
    later has no status there; one retired later still has). A period in progress shows the
    activities that are not retired (nor anything above them), and any that has a status in it.
    """
    pointer = status_pointer(period)
    if period is not None and period.published:
        return pointer.activity_id.is_not(None)
    return or_(
        and_(
            Activity.retired_at.is_(None),
            Result.retired_at.is_(None),
            Theme.retired_at.is_(None),
            ActionLine.retired_at.is_(None),
        ),
        pointer.activity_id.is_not(None),
    )


@dataclass(frozen=True)
class _Structure:
    """Where an activity stands in the structure, as a period shows it: a published period as
    it was at publication (the snapshot in published_activity), any other as it is now."""

    snapshot: type[PublishedActivity] | None
    line_number: ColumnElement  # type: ignore[type-arg]
    line_title: ColumnElement  # type: ignore[type-arg]
    line_position: ColumnElement  # type: ignore[type-arg]
    theme_title: ColumnElement  # type: ignore[type-arg]
    theme_position: ColumnElement  # type: ignore[type-arg]
    result_number: ColumnElement  # type: ignore[type-arg]
    result_title: ColumnElement  # type: ignore[type-arg]
    result_note: ColumnElement  # type: ignore[type-arg]
    result_position: ColumnElement  # type: ignore[type-arg]
    label: ColumnElement  # type: ignore[type-arg]
    title: ColumnElement  # type: ignore[type-arg]
    position: ColumnElement  # type: ignore[type-arg]

    @property
    def order(self) -> tuple[ColumnElement, ...]:  # type: ignore[type-arg]
        return (self.line_position, self.theme_position, self.result_position, self.position)

    def join(self, statement: Select) -> Select:  # type: ignore[type-arg]
        if self.snapshot is None:
            return statement
        return statement.outerjoin(
            self.snapshot,
            and_(
                self.snapshot.period_id == _PERIOD,
                self.snapshot.activity_id == Activity.id,
            ),
        )


def _structure(period: PeriodRow | None) -> _Structure:
    """The structure columns for the period: built once (SQLAlchemy expressions are costly to
    make, and the same ones let it reuse its compiled statements)."""
    return _PUBLISHED_STRUCTURE if period is not None and period.published else _LIVE_STRUCTURE


# Where an activity stands in the structure: each published_activity column (the snapshot
# taken at publication, app/periods/service.py) and the live column it records.
STRUCTURE_COLUMNS = (
    ("action_line_number", ActionLine.number),
    ("action_line_title", ActionLine.title),
    ("action_line_position", ActionLine.position),
    ("theme_title", Theme.title),
    ("theme_position", Theme.position),
    ("result_number", Result.number),
    ("result_title", Result.title),
    ("result_note", Result.note),
    ("result_position", Result.position),
    ("activity_label", Activity.label),
    ("activity_title", Activity.title),
    ("activity_position", Activity.position),
)


def _build_structure(published: bool) -> _Structure:
    live = tuple(column for _, column in STRUCTURE_COLUMNS)
    if not published:
        return _Structure(None, *live)  # type: ignore[arg-type]
    snapshot = aliased(PublishedActivity, name="snapshot")
    recorded = tuple(getattr(snapshot, name) for name, _ in STRUCTURE_COLUMNS)
    # The snapshot wins; the live structure only fills in for a period without one.
    columns = [
        func.coalesce(then, now).label(f"s{index}")
        for index, (then, now) in enumerate(zip(recorded, live, strict=True))
    ]
    return _Structure(snapshot, *columns)  # type: ignore[arg-type]


_LIVE_STRUCTURE = _build_structure(published=False)
_PUBLISHED_STRUCTURE = _build_structure(published=True)
# The approved version beside the shown one (a second alias: the shown pointer may be the
# approved table itself).
_APPROVED = aliased(StatusApproved, name="approved")


@cache
def _activity_ids_base(published: bool) -> Select:  # type: ignore[type-arg]
    """The ids of the activities a period shows, in programme order (programme and period as
    parameters)."""
    period = _PUBLISHED if published else None
    pointer = status_pointer(period)
    structure = _structure(period)
    return (
        structure.join(
            select(Activity.id)
            .join(Result, Result.id == Activity.result_id)
            .join(Theme, Theme.id == Result.theme_id)
            .join(ActionLine, ActionLine.id == Theme.action_line_id)
            .outerjoin(pointer, _current_status_join(period))
        )
        .where(Result.programme_id == bindparam("programme_id"), _visible_in_period(period))
        .order_by(*structure.order)
    )


def _filter_conditions(
    session: Session, period: PeriodRow | None, filters: ActivityFilters
) -> list[ColumnElement[bool]]:
    """The filters as conditions on a statement that joins the activity's structure and its
    shown status (the ids statement and the whole-table statement both do)."""
    pointer = status_pointer(period)
    structure = _structure(period)
    conditions: list[ColumnElement[bool]] = []
    if filters.statuses:
        conditions.append(pointer.status.in_([s.value for s in filters.statuses]))
    if filters.action_line is not None:
        conditions.append(structure.line_number == filters.action_line)
    if filters.result is not None:
        conditions.append(structure.result_number == filters.result)
    if filters.organisation:
        conditions.append(
            Activity.id.in_(
                select(ActivityOrganisation.activity_id)
                .join(Organisation, Organisation.id == ActivityOrganisation.organisation_id)
                .where(Organisation.code == filters.organisation)
            )
        )
    if filters.query.strip():
        conditions.append(_search_condition(session, filters.query, period))
    return conditions


def _filtered_activity_ids(
    session: Session, period: PeriodRow | None, filters: ActivityFilters
) -> Select:  # type: ignore[type-arg]
    """The ids of the matching activities, in programme order (the programme and the period
    are given when it runs)."""
    statement = _activity_ids_base(period is not None and period.published)
    conditions = _filter_conditions(session, period, filters)
    return statement.where(*conditions) if conditions else statement


def _activity_select(period: PeriodRow | None) -> Select:  # type: ignore[type-arg]
    """Activities with their place in the structure and their current status, in order."""
    return _activity_select_for(period is not None and period.published)


@cache
def _activity_select_for(published: bool) -> Select:  # type: ignore[type-arg]
    period = _PUBLISHED if published else None
    pointer = status_pointer(period)
    approved = _APPROVED
    structure = _structure(period)
    statement = (
        select(
            Activity.id,
            structure.line_number,
            structure.line_title,
            Theme.id,
            structure.theme_title,
            structure.result_number,
            structure.result_title,
            structure.result_note,
            structure.label,
            structure.title,
            StatusUpdate.status,
            StatusUpdate.explanation,
            StatusUpdate.version,
            StatusUpdate.source,
            StatusUpdate.created_at,
            approved.version,
        )
        .join(Result, Result.id == Activity.result_id)
        .join(Theme, Theme.id == Result.theme_id)
        .join(ActionLine, ActionLine.id == Theme.action_line_id)
        .outerjoin(pointer, _current_status_join(period))
        .outerjoin(StatusUpdate, StatusUpdate.id == pointer.status_update_id)
        .outerjoin(
            approved,
            and_(approved.activity_id == Activity.id, approved.period_id == _PERIOD),
        )
    )
    return structure.join(statement).order_by(*structure.order)


def _activity_row(record) -> ActivityRow:  # type: ignore[no-untyped-def]
    (
        activity_id,
        line_number,
        line_title,
        theme_id,
        theme_title,
        result_number,
        result_title,
        result_note,
        label,
        title,
        status,
        explanation,
        version,
        source,
        created_at,
        approved_version,
    ) = record
    return ActivityRow(
        id=activity_id,
        action_line_number=line_number,
        action_line_title=line_title,
        theme_id=theme_id,
        theme_title=theme_title,
        result_number=result_number,
        result_title=result_title,
        result_note=result_note,
        label=label,
        title=title,
        status=Status(status) if status else None,
        explanation=explanation or "",
        version=version,
        source=UpdateSource(source) if source else None,
        updated_at=created_at,
        approved_version=approved_version,
    )


@dataclass
class ActivityPage:
    rows: list[ActivityRow]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def list_activities(
    session: Session,
    programme_id: int,
    period: PeriodRow | None,
    filters: ActivityFilters = ActivityFilters(),
    *,
    page: int = 1,
    page_size: int | None = None,
) -> ActivityPage:
    """Activities in programme order with their current status. A page of them: three queries
    (the matching ids in order, the details of the page, and their organisations). All of
    them (no `page_size`): two (the details, and the organisations)."""
    parameters = {"period_id": _period_id(period), "programme_id": programme_id}
    if page_size is None:
        records, organisations = whole_table(session, programme_id, period, filters)
        rows = [_activity_row(record) for record in records]
        for row in rows:
            row.organisations = organisations.get(row.id, [])
        return ActivityPage(rows=rows, total=len(rows), page=1, page_size=max(len(rows), 1))
    ids = list(
        _rows(session)
        .execute(_filtered_activity_ids(session, period, filters), parameters)
        .scalars()
    )
    total = len(ids)
    ids = ids[(max(page, 1) - 1) * page_size :][:page_size]
    rows = []
    by_id = {}
    if ids:
        for record in _run(session, _activity_select(period).where(Activity.id.in_(ids)), period):
            row = _activity_row(record)
            rows.append(row)
            by_id[row.id] = row
    _attach_organisations(session, by_id)
    return ActivityPage(rows=rows, total=total, page=page, page_size=page_size)


@cache
def _whole_table_for(published: bool) -> Select:  # type: ignore[type-arg]
    """Every activity a period shows, with its status, in programme order (programme and
    period as parameters): the statement behind the unpaged list and the exports."""
    period = _PUBLISHED if published else None
    return _activity_select_for(published).where(
        Result.programme_id == bindparam("programme_id"), _visible_in_period(period)
    )


def _whole_table(session: Session, period: PeriodRow | None, filters: ActivityFilters) -> Select:  # type: ignore[type-arg]
    statement = _whole_table_for(period is not None and period.published)
    conditions = _filter_conditions(session, period, filters)
    return statement.where(*conditions) if conditions else statement


# Lead first, then alphabetical.
_ORGANISATION_LINKS = (
    select(
        ActivityOrganisation.activity_id,
        Organisation.id,
        Organisation.code,
        Organisation.name,
        ActivityOrganisation.role,
    )
    .join(Organisation, Organisation.id == ActivityOrganisation.organisation_id)
    .order_by(ActivityOrganisation.role.desc(), Organisation.code)
)
_PROGRAMME_ORGANISATION_LINKS = (
    _ORGANISATION_LINKS.join(Activity, Activity.id == ActivityOrganisation.activity_id)
    .join(Result, Result.id == Activity.result_id)
    .where(Result.programme_id == bindparam("programme_id"))
)


def _attach_organisations(session: Session, by_id: dict[int, ActivityRow]) -> None:
    if not by_id:
        return
    links = _rows(session).execute(
        _ORGANISATION_LINKS.where(ActivityOrganisation.activity_id.in_(list(by_id)))
    )
    for activity_id, organisation_id, code, name, role in links.all():
        by_id[activity_id].organisations.append(OrganisationRef(organisation_id, code, name, role))


# Up to this many activities of a filtered table, their organisations are asked for by id;
# more, or the whole table, and all of the programme's are read: a list of ids costs more to
# send and to compile than the links it leaves out (128 activities: 0.9 against 0.5 ms), and a
# list of thousands would run into the database's limit on parameters.
_LISTED_IDS_LIMIT = 200


def whole_table(
    session: Session,
    programme_id: int,
    period: PeriodRow | None,
    filters: ActivityFilters = ActivityFilters(),
) -> tuple[Sequence[Row[Any]], dict[int, list[OrganisationRef]]]:
    """Every activity the period shows (that matches the filters), in programme order, as
    records with ActivityRow's fields from `id` to `approved_version` in their order (the
    columns of _activity_select_for), and each one's organisations, lead first: two
    queries. For readers that make their own objects of them (the exports);
    `list_activities` makes ActivityRows of them."""
    records = (
        _rows(session)
        .execute(
            _whole_table(session, period, filters),
            {"period_id": _period_id(period), "programme_id": programme_id},
        )
        .all()
    )
    organisations: dict[int, list[OrganisationRef]] = {}
    if not records:
        return records, organisations
    if filters.active and len(records) <= _LISTED_IDS_LIMIT:
        links = _rows(session).execute(
            _ORGANISATION_LINKS.where(
                ActivityOrganisation.activity_id.in_([record[0] for record in records])
            )
        )
    else:  # the whole programme's links, found by the programme, not by a long list of ids
        links = _rows(session).execute(
            _PROGRAMME_ORGANISATION_LINKS, {"programme_id": programme_id}
        )
    # One OrganisationRef per organisation and role, shared by all its activities.
    references: dict[tuple[int, str], OrganisationRef] = {}
    for activity_id, organisation_id, code, name, role in links.all():
        reference = references.get((organisation_id, role))
        if reference is None:
            reference = references[organisation_id, role] = OrganisationRef(
                organisation_id, code, name, role
            )
        if activity_id in organisations:
            organisations[activity_id].append(reference)
        else:
            organisations[activity_id] = [reference]
    return records, organisations


def list_action_lines(session: Session, programme_id: int) -> list[tuple[int, str]]:
    """The action lines in use (not retired), for the filter."""
    rows = _rows(session).execute(
        select(ActionLine.number, ActionLine.title)
        .where(ActionLine.programme_id == programme_id, ActionLine.retired_at.is_(None))
        .order_by(ActionLine.position)
    )
    return [(number, title) for number, title in rows]


def board(session: Session, programme: ProgrammeRow, period: PeriodRow | None) -> Board:
    """Per action line, the number of activities in each status: one aggregate query (two
    for a period in progress, whose action lines are today's)."""
    if period is not None and period.published:
        return _published_board(session, programme, period)
    rows = (
        _rows(session)
        .execute(
            select(ActionLine.number, ActionLine.title, ActionLine.retired_at)
            .where(ActionLine.programme_id == programme.id)
            .order_by(ActionLine.position)
        )
        .all()
    )
    lines = [(number, title) for number, title, _ in rows]
    current_lines = {number for number, _, retired_at in rows if retired_at is None}
    counts: dict[int, StatusCounts] = {number: StatusCounts() for number, _ in lines}
    totals = StatusCounts()
    pointer = status_pointer(period)
    aggregate = _run(
        session,
        select(ActionLine.number, pointer.status, func.count(Activity.id))
        .select_from(Activity)
        .join(Result, Result.id == Activity.result_id)
        .join(Theme, Theme.id == Result.theme_id)
        .join(ActionLine, ActionLine.id == Theme.action_line_id)
        .outerjoin(pointer, _current_status_join(period))
        .where(Result.programme_id == programme.id, _visible_in_period(period))
        .group_by(ActionLine.number, pointer.status),
        period,
    )
    for number, status, count in aggregate:
        key = Status(status) if status else None
        counts[number].counts[key] = count
        totals.counts[key] = totals.counts.get(key, 0) + count
    return Board(
        programme=programme,
        period=period,
        # A retired action line only shows in periods where its activities have a status.
        action_lines=[
            ActionLineSummary(number, title, counts[number])
            for number, title in lines
            if number in current_lines or counts[number].total
        ],
        totals=totals,
    )


def _published_board(session: Session, programme: ProgrammeRow, period: PeriodRow) -> Board:
    """The board of a published period: its action lines as they were at publication."""
    pointer = status_pointer(period)
    structure = _structure(period)
    aggregate = _run(
        session,
        structure.join(
            select(
                structure.line_number,
                structure.line_title,
                func.min(structure.line_position),
                pointer.status,
                func.count(Activity.id),
            )
            .select_from(Activity)
            .join(Result, Result.id == Activity.result_id)
            .join(Theme, Theme.id == Result.theme_id)
            .join(ActionLine, ActionLine.id == Theme.action_line_id)
            .join(pointer, _current_status_join(period))
        )
        .where(Result.programme_id == programme.id)
        .group_by(structure.line_number, structure.line_title, pointer.status),
        period,
    )
    lines: dict[int, tuple[int, str, StatusCounts]] = {}
    totals = StatusCounts()
    for number, title, position, status, count in aggregate:
        key = Status(status) if status else None
        entry = lines.setdefault(number, (position, title, StatusCounts()))
        entry[2].counts[key] = count
        totals.counts[key] = totals.counts.get(key, 0) + count
    return Board(
        programme=programme,
        period=period,
        action_lines=[
            ActionLineSummary(number, title, counts)
            for number, (_, title, counts) in sorted(lines.items(), key=lambda item: item[1][0])
        ],
        totals=totals,
    )


def list_organisations(session: Session) -> list[tuple[str, str]]:
    """Organisations, for the filter (a small table: cheaper than working out which ones the
    programme's activities name)."""
    rows = _rows(session).execute(
        select(Organisation.code, Organisation.name).order_by(Organisation.name)
    )
    return [(code, name) for code, name in rows]


@dataclass
class ThemeGroup:
    id: int
    title: str
    results: dict[int, tuple[str, list[ActivityRow]]]


def group_by_theme(rows: list[ActivityRow]) -> list[ThemeGroup]:
    """Rows (already in programme order) as theme → result → activities, for drill-down."""
    groups: dict[int, ThemeGroup] = {}
    for row in rows:
        group = groups.setdefault(row.theme_id, ThemeGroup(row.theme_id, row.theme_title, {}))
        group.results.setdefault(row.result_number, (row.result_title, []))[1].append(row)
    return list(groups.values())


@dataclass
class HistoryItem:
    update: StatusUpdate
    # The explanation with the changes against the version before it marked; None for the
    # first version of the activity.
    diff: Markup | None
    # Review decisions and comments on this version, oldest first.
    notes: list[ReviewNote] = field(default_factory=list)


@dataclass
class HistoryEntry:
    period: PeriodRow
    items: list[HistoryItem]


@dataclass
class ActivityDetail:
    row: ActivityRow
    programme: ProgrammeRow
    history: list[HistoryEntry]
    period: PeriodRow | None


def programme_of_activity(session: Session, activity_id: int) -> ProgrammeRow:
    row = (
        _rows(session)
        .execute(
            select(Programme.id, Programme.slug, Programme.name, Programme.description)
            .join(Result, Result.programme_id == Programme.id)
            .join(Activity, Activity.result_id == Result.id)
            .where(Activity.id == activity_id)
        )
        .first()
    )
    if row is None:
        raise NotFound(gettext("Activity %(id)s does not exist") % {"id": activity_id})
    return ProgrammeRow(*row)


def programme_of_period(session: Session, period_id: int) -> ProgrammeRow:
    row = (
        _rows(session)
        .execute(
            select(Programme.id, Programme.slug, Programme.name, Programme.description)
            .join(ReportingPeriod, ReportingPeriod.programme_id == Programme.id)
            .where(ReportingPeriod.id == period_id)
        )
        .first()
    )
    if row is None:
        raise NotFound(gettext("Reporting period %(id)s does not exist") % {"id": period_id})
    return ProgrammeRow(*row)


def activity_detail(
    session: Session, activity_id: int, period_id: int | None = None
) -> ActivityDetail:
    """One activity with its full history across periods, newest first, and its state in the
    chosen period (default: the current one)."""
    programme = programme_of_activity(session, activity_id)
    periods = list_periods(session, programme.id)
    current = choose_period(periods, period_id)
    updates = session.scalars(  # ORM objects: the history shows whole StatusUpdate rows
        select(StatusUpdate)
        .where(StatusUpdate.activity_id == activity_id)
        .order_by(StatusUpdate.period_id, StatusUpdate.version.desc())
    ).all()
    # Oldest first (periods by date, versions in order), so each text is compared with the
    # one before it, across periods too.
    order = {period.id: index for index, period in enumerate(reversed(periods))}
    chronological = sorted(updates, key=lambda u: (order.get(u.period_id, -1), u.version))
    notes: dict[int, list[ReviewNote]] = defaultdict(list)
    if updates:
        for note in session.scalars(
            select(ReviewNote)
            .where(ReviewNote.status_update_id.in_([u.id for u in updates]))  # type: ignore[attr-defined]
            .order_by(ReviewNote.created_at, ReviewNote.id)
        ):
            notes[note.status_update_id].append(note)
    by_period: dict[int, list[HistoryItem]] = defaultdict(list)
    previous: StatusUpdate | None = None
    for update in chronological:
        diff = explanation_diff(previous.explanation, update.explanation) if previous else None
        by_period[update.period_id].insert(
            0,
            HistoryItem(update, diff, notes.get(update.id, [])),  # type: ignore[arg-type]
        )
        previous = update
    history = [
        HistoryEntry(period, by_period[period.id]) for period in periods if period.id in by_period
    ]
    row = get_activity_row(session, activity_id, current)
    return ActivityDetail(row=row, programme=programme, history=history, period=current)


def get_activity_row(session: Session, activity_id: int, period: PeriodRow | None) -> ActivityRow:
    record = _run(session, _activity_select(period).where(Activity.id == activity_id), period).one()
    row = _activity_row(record)
    _attach_organisations(session, {row.id: row})
    return row
