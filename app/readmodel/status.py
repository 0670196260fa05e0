"""Which status of an activity a period has, in one place.

Status updates are append-only; three kinds of "the status" are read from them:

- **current**: an activity's newest version in a period, proposals included
  (`status_current`, a pointer kept by database triggers);
- **counted** (approved): what counts for the report, the newest approved version or, before
  any, the period's starting point (`status_approved`, also kept by triggers);
- **published**: what a published report said, the counted version when it was (last)
  published (`published_activity`, written at every publication), so a correction in progress
  does not show in the report before it is republished;
- **shown**: what a period shows, the published status in a published period and the current
  one in a period in progress or being corrected (`status_pointer`).

A version **confirms** the period's starting point when it repeats it unchanged
(`confirms`): the status service takes an unchanged save of nothing else.

A shown status is **unconfirmed** while it is still the period's starting point: derived from
its explanation (the seed's first report) or carried over from the previous period when the
round opened, and neither changed nor confirmed since (`unconfirmed`, counted per kind by
`unconfirmed_counts`); every public page and export discloses it.

A version **awaits review** while the current and the counted one differ
(`ActivityRow.awaiting_review` row by row, `awaiting_review` for a whole period), and it is
**sent back** while the newest review note on the current version says so (`review_marks`).
Every page, service and export that needs one of these asks this module.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlmodel import Session, col

from app.activities.models import (
    BASELINE_SOURCES,
    Status,
    StatusApproved,
    StatusCurrent,
    StatusUpdate,
    UpdateSource,
)
from app.periods.models import PublishedActivity
from app.readmodel.rows import PeriodRow, ReviewMark, StatusText, UnconfirmedCount
from app.review.models import ReviewKind, ReviewNote

Pointer = type[StatusCurrent] | type[StatusApproved] | type[PublishedActivity]


def status_pointer(period: PeriodRow | None) -> Pointer:
    """Which status of an activity a period shows: a published period shows what its report
    published (what counted then: approved updates and the starting point); a period in
    progress, or being corrected, shows the newest version, proposals included. The current
    pointer is kept by database triggers, the published one at publication."""
    return PublishedActivity if period is not None and period.published else StatusCurrent


def confirms(update: StatusUpdate, previous: StatusUpdate | None) -> bool:
    """Does `update` confirm the version before it (`previous`, of the same activity) as it
    was? Only a period's starting point (derived or carried over) can be saved unchanged, so a
    proposal that repeats its period's starting point word for word is a confirmation, made
    on the web page, through the API or by an import."""
    return (
        previous is not None
        and previous.period_id == update.period_id
        and previous.source in BASELINE_SOURCES
        and update.source not in BASELINE_SOURCES
        and (previous.status, previous.explanation) == (update.status, update.explanation)
    )


def confirms_start(update: StatusUpdate, start: StatusText | None) -> bool:
    """`confirms`, with the period's starting point (`starting_points`) for the version
    before: a second version that repeats it."""
    return (
        start is not None
        and update.version == 2
        and update.source not in BASELINE_SOURCES
        and (start.status, start.explanation) == (update.status, update.explanation)
    )


def counted_statuses(session: Session, period_id: int) -> dict[int, StatusText]:
    """Per activity, the status and explanation that count in a period (one query)."""
    rows = session.execute(
        select(
            col(StatusUpdate.activity_id), col(StatusUpdate.status), col(StatusUpdate.explanation)
        )
        .join(StatusApproved, col(StatusApproved.status_update_id) == StatusUpdate.id)
        .where(col(StatusApproved.period_id) == period_id)
    )
    return {activity_id: StatusText(Status(status), text) for activity_id, status, text in rows}


def published_versions(session: Session, period_id: int) -> dict[int, int]:
    """Per activity, the version of its status that the period's report (last) published
    (one query; empty for a period never published)."""
    rows = session.execute(
        select(col(PublishedActivity.activity_id), col(PublishedActivity.version)).where(
            col(PublishedActivity.period_id) == period_id,
            col(PublishedActivity.version).is_not(None),
        )
    )
    return {activity_id: version for activity_id, version in rows}


def starting_points(session: Session, period_id: int) -> dict[int, StatusText]:
    """Per activity, the status and explanation the period started with (its first version,
    when it was derived or carried over rather than entered; one query)."""
    rows = session.execute(
        select(
            col(StatusUpdate.activity_id), col(StatusUpdate.status), col(StatusUpdate.explanation)
        ).where(
            col(StatusUpdate.period_id) == period_id,
            col(StatusUpdate.version) == 1,
            col(StatusUpdate.source).in_([source.value for source in BASELINE_SOURCES]),
        )
    )
    return {activity_id: StatusText(Status(status), text) for activity_id, status, text in rows}


def unconfirmed(source: UpdateSource | None) -> UpdateSource | None:
    """Why a shown status was not stated for its period, if it was not: `derived` (read from
    the explanation) or `carried_over` (the previous period's, carried over when the round
    opened); None when an organisation entered, imported or confirmed it in the period (or
    there is no status). The starting point is version 1 with a baseline source, and any
    change or confirmation appends a version with another source."""
    return source if source in BASELINE_SOURCES else None


def unconfirmed_counts(sources: Iterable[UpdateSource | None]) -> list[UnconfirmedCount]:
    """Of these shown statuses (one per activity), how many of each kind are unconfirmed, and
    of how many in all: only the kinds that occur, derived before carried over."""
    total = 0
    counts = dict.fromkeys(BASELINE_SOURCES, 0)
    for source in sources:
        total += 1
        kind = unconfirmed(source)
        if kind is not None:
            counts[kind] += 1
    return [UnconfirmedCount(kind, number, total) for kind, number in counts.items() if number]


def awaiting_review(session: Session, period_id: int) -> dict[int, StatusUpdate]:
    """Per activity whose current version differs from the counted one, that current
    version (two queries)."""
    pending = [
        current
        for current, counted in session.execute(
            select(col(StatusCurrent.status_update_id), col(StatusApproved.status_update_id))
            .outerjoin(
                StatusApproved,
                (col(StatusApproved.activity_id) == StatusCurrent.activity_id)
                & (col(StatusApproved.period_id) == StatusCurrent.period_id),
            )
            .where(col(StatusCurrent.period_id) == period_id)
        )
        if current != counted
    ]
    if not pending:
        return {}
    return {
        update.activity_id: update
        for update in session.scalars(select(StatusUpdate).where(col(StatusUpdate.id).in_(pending)))
    }


def review_marks(session: Session, period_id: int) -> dict[int, ReviewMark]:
    """Per activity, the newest review note on its current version in the period, if any
    (one query: for checking many activities at once)."""
    marks: dict[int, ReviewMark] = {}
    for activity_id, kind, comment in session.execute(
        select(col(StatusCurrent.activity_id), col(ReviewNote.kind), col(ReviewNote.comment))
        .join(ReviewNote, col(ReviewNote.status_update_id) == col(StatusCurrent.status_update_id))
        .where(col(StatusCurrent.period_id) == period_id)
        .order_by(col(ReviewNote.created_at), col(ReviewNote.id))
    ):
        marks[activity_id] = ReviewMark(ReviewKind(kind), comment)
    return marks


def sent_back_ids(session: Session, period_id: int) -> set[int]:
    """The activities whose current version in the period was last sent back in review."""
    return {
        activity_id
        for activity_id, mark in review_marks(session, period_id).items()
        if mark.sent_back
    }
