"""The board: per action line, the number of activities in each shown status."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlmodel import Session, col

from app.activities.models import Status
from app.programmes.models import ActionLine, Activity, Result, Theme
from app.readmodel import queries
from app.readmodel.rows import (
    ActionLineSummary,
    ActivityRow,
    Board,
    PeriodRow,
    ProgrammeRow,
    StatusCounts,
)
from app.readmodel.status import status_pointer


def board(session: Session, programme: ProgrammeRow, period: PeriodRow | None) -> Board:
    """Per action line, the number of activities in each status: one aggregate query (two
    for a period in progress, whose action lines are today's)."""
    if period is not None and period.reported:
        return _published_board(session, programme, period)
    connection = queries.connection(session)
    rows = connection.execute(
        select(col(ActionLine.number), col(ActionLine.title), col(ActionLine.retired_at))
        .where(col(ActionLine.programme_id) == programme.id)
        .order_by(col(ActionLine.position))
    ).all()
    lines = [(number, title) for number, title, _ in rows]
    current_lines = {number for number, _, retired_at in rows if retired_at is None}
    counts: dict[int, StatusCounts] = {number: StatusCounts() for number, _ in lines}
    totals = StatusCounts()
    pointer = status_pointer(period)
    aggregate = connection.execute(
        queries.joined_structure(
            select(
                col(ActionLine.number), col(pointer.status), func.count(col(Activity.id))
            ).select_from(Activity),
            period,
        )
        .where(col(Result.programme_id) == programme.id, queries.visible_in_period(period))
        .group_by(col(ActionLine.number), col(pointer.status)),
        queries.parameters(period),
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
    """The board of a published period (or one being corrected): its action lines as they
    were at publication."""
    pointer = status_pointer(period)
    shape = queries.structure(period)
    aggregate = queries.connection(session).execute(
        shape.join(
            select(
                shape.line_number,
                shape.line_title,
                func.min(shape.line_position),
                col(pointer.status),
                func.count(col(Activity.id)),
            )
            .select_from(Activity)
            .join(Result, col(Result.id) == Activity.result_id)
            .join(Theme, col(Theme.id) == Result.theme_id)
            .join(ActionLine, col(ActionLine.id) == Theme.action_line_id)
            .join(pointer, queries.shown_status_join(period))
        )
        .where(col(Result.programme_id) == programme.id)
        .group_by(shape.line_number, shape.line_title, col(pointer.status)),
        queries.parameters(period),
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


def status_counts(rows: Iterable[ActivityRow]) -> StatusCounts:
    """The number of these activities in each shown status (a result's, on its page)."""
    return StatusCounts(dict(Counter(row.status for row in rows)))
