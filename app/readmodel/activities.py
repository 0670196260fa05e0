"""Activities as a period shows them: pages of the list, the whole table (the unpaged list and
every export), one activity's row, and its history across periods."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Select, func, select
from sqlmodel import Session, col

from app.activities.diff import explanation_diff
from app.activities.models import StatusUpdate
from app.programmes.models import Activity
from app.readmodel import queries
from app.readmodel.programmes import choose_period, list_periods, programme_of_activity
from app.readmodel.rows import (
    NO_FILTERS,
    ActivityDetail,
    ActivityFilters,
    ActivityPage,
    ActivityRecord,
    ActivityRow,
    HistoryEntry,
    HistoryItem,
    OrganisationRef,
    PeriodRow,
    ResultGroup,
    ThemeGroup,
    WholeTable,
)
from app.readmodel.status import confirms
from app.review.models import ReviewNote

# Up to this many activities of a filtered table, their organisations are asked for by id;
# more, or the whole table, and all of the programme's are read: a list of ids costs more to
# send and to compile than the links it leaves out (128 activities: 0.9 against 0.5 ms), and a
# list of thousands would run into the database's limit on parameters.
_LISTED_IDS_LIMIT = 200


def list_activities(
    session: Session,
    programme_id: int,
    period: PeriodRow | None,
    filters: ActivityFilters = NO_FILTERS,
    *,
    page: int = 1,
    page_size: int | None = None,
) -> ActivityPage:
    """Activities in programme order with their shown status. A page of them: three queries
    (the page's ids in order, the details of the page, and their organisations), and a
    fourth to count all that match unless the first page holds them all. All of
    them (no `page_size`): two (the details, and the organisations)."""
    if page_size is None:
        table = whole_table(session, programme_id, period, filters)
        rows = [
            ActivityRow.of(record, table.organisations.get(record.id)) for record in table.records
        ]
        return ActivityPage(rows=rows, total=len(rows), page=1, page_size=max(len(rows), 1))
    connection = queries.connection(session)
    matching = queries.filtered_activity_ids(session, period, filters)
    parameters = {
        **queries.parameters(period, programme_id=programme_id),
        **queries.filter_parameters(queries.dialect_of(session), filters),
    }
    # The page's ids only (in a stable order: the id after the positions), and the number of
    # all that match from a count without the order: not every id read into Python. (On the
    # 100x benchmark programme's full list: 17 + 6 ms on SQLite instead of 35.)
    ids = (
        connection.execute(
            queries.page_of_activity_ids(session, period, filters),
            {**parameters, "page_limit": page_size, "page_offset": (max(page, 1) - 1) * page_size},
        )
        .scalars()
        .all()
    )
    if page <= 1 and len(ids) < page_size:
        total = len(ids)  # all of them on the first page: counted already
    else:
        total = connection.execute(
            select(func.count()).select_from(matching.order_by(None).subquery()), parameters
        ).scalar_one()
    rows = []
    by_id = {}
    if ids:
        result = queries.connection(session).execute(
            queries.listed_activity_select(period),
            {**queries.parameters(period), "activity_ids": ids},
        )
        for record in map(ActivityRecord._make, result.all()):
            row = ActivityRow.of(record)
            rows.append(row)
            by_id[row.id] = row
    _attach_organisations(session, by_id)
    return ActivityPage(rows=rows, total=total, page=page, page_size=page_size)


def _records(
    session: Session, statement: Select[*tuple[Any, ...]], period: PeriodRow | None
) -> list[ActivityRecord]:
    result = queries.connection(session).execute(statement, queries.parameters(period))
    return list(map(ActivityRecord._make, result))


def _attach_organisations(session: Session, by_id: dict[int, ActivityRow]) -> None:
    if not by_id:
        return
    links = queries.connection(session).execute(
        queries.LISTED_ORGANISATION_LINKS, {"activity_ids": list(by_id)}
    )
    # One OrganisationRef per organisation and role, shared by all its activities.
    references: dict[tuple[int, str], OrganisationRef] = {}
    for activity_id, organisation_id, code, name, role in links.all():
        reference = references.get((organisation_id, role))
        if reference is None:
            reference = references[organisation_id, role] = OrganisationRef(
                organisation_id, code, name, role
            )
        by_id[activity_id].organisations.append(reference)


def whole_table(
    session: Session,
    programme_id: int,
    period: PeriodRow | None,
    filters: ActivityFilters = NO_FILTERS,
) -> WholeTable:
    """Every activity the period shows (that matches the filters), in programme order, and
    each one's organisations, lead first: two queries. For readers of thousands of rows (the
    exports, the unpaged list)."""
    connection = queries.connection(session)
    result = connection.execute(
        queries.whole_table_select(session, period, filters),
        {
            **queries.parameters(period, programme_id=programme_id),
            **queries.filter_parameters(queries.dialect_of(session), filters),
        },
    )
    records = list(map(ActivityRecord._make, result))
    organisations: dict[int, list[OrganisationRef]] = {}
    if not records:
        return WholeTable(records, organisations)
    if filters.active and len(records) <= _LISTED_IDS_LIMIT:
        links = connection.execute(
            queries.LISTED_ORGANISATION_LINKS, {"activity_ids": [record.id for record in records]}
        )
    else:  # the whole programme's links, found by the programme, not by a long list of ids
        links = connection.execute(
            queries.PROGRAMME_ORGANISATION_LINKS, {"programme_id": programme_id}
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
    return WholeTable(records, organisations)


def get_activity_row(session: Session, activity_id: int, period: PeriodRow | None) -> ActivityRow:
    statement = queries.activity_select(period).where(col(Activity.id) == activity_id)
    (record,) = _records(session, statement, period)
    row = ActivityRow.of(record)
    _attach_organisations(session, {row.id: row})
    return row


def activity_rows(
    session: Session, activity_ids: list[int], period: PeriodRow | None
) -> list[ActivityRow]:
    """These activities, by action line and result, with their shown status in the period and
    their organisations: two queries (none without ids). For pages that list a few linked
    activities (a recommendation's)."""
    if not activity_ids:
        return []
    result = queries.connection(session).execute(
        queries.listed_activity_select(period),
        {**queries.parameters(period), "activity_ids": list(activity_ids)},
    )
    by_id = {}
    rows = []
    for record in map(ActivityRecord._make, result):
        row = ActivityRow.of(record)
        rows.append(row)
        by_id[row.id] = row
    _attach_organisations(session, by_id)
    rows.sort(key=lambda row: (row.action_line_number, row.result_number))
    return rows


def group_by_theme(rows: list[ActivityRow]) -> list[ThemeGroup]:
    """Rows (already in programme order) as theme → result → activities, for drill-down."""
    groups: dict[int, ThemeGroup] = {}
    for row in rows:
        group = groups.setdefault(row.theme_id, ThemeGroup(row.theme_id, row.theme_title, {}))
        group.results.setdefault(row.result_number, ResultGroup(row.result_title, [])).rows.append(
            row
        )
    return list(groups.values())


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
        .where(col(StatusUpdate.activity_id) == activity_id)
        .order_by(col(StatusUpdate.period_id), col(StatusUpdate.version).desc())
    ).all()
    # Oldest first (periods by date, versions in order), so each text is compared with the
    # one before it, across periods too.
    order = {period.id: index for index, period in enumerate(reversed(periods))}
    chronological = sorted(updates, key=lambda u: (order.get(u.period_id, -1), u.version))
    notes: dict[int, list[ReviewNote]] = defaultdict(list)
    if updates:
        for note in session.scalars(
            select(ReviewNote)
            .where(col(ReviewNote.status_update_id).in_([u.id for u in updates]))
            .order_by(col(ReviewNote.created_at), col(ReviewNote.id))
        ):
            if note.status_update_id is not None:  # always: the query asks for these
                notes[note.status_update_id].append(note)
    by_period: dict[int, list[HistoryItem]] = defaultdict(list)
    previous: StatusUpdate | None = None
    for update in chronological:
        diff = explanation_diff(previous.explanation, update.explanation) if previous else None
        update_notes = notes.get(update.id, []) if update.id is not None else []
        by_period[update.period_id].insert(
            0, HistoryItem(update, diff, update_notes, confirms=confirms(update, previous))
        )
        previous = update
    history = [
        HistoryEntry(period, by_period[period.id]) for period in periods if period.id in by_period
    ]
    row = get_activity_row(session, activity_id, current)
    return ActivityDetail(row=row, programme=programme, history=history, period=current)
