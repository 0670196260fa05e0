"""Where the figure versions of a monitor edition stand in the four-eyes review (the same
review notes as status updates, on `ReviewNote.figure_version_id`). Reads models only, so the
periods' publication and the figures' edit policy can ask it.

A figure's version counts once approved: its newest note is an approval. A seeded version
(`FigureSource.seeded`, the published documents themselves) counts without review, as a
period's starting point does for statuses.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute
from sqlmodel import Session, col

from app.monitor.models import Edition, Figure, FigureSource, FigureVersion
from app.review.models import ReviewKind, ReviewNote


def latest_kinds_on(
    session: Session, subject: InstrumentedAttribute[int | None], ids: Iterable[int]
) -> dict[int, ReviewKind]:
    """The newest note's kind per version of one kind of subject (`subject` is the note's
    column: figure_version_id, recommendation_entry_id); versions without a note are absent."""
    wanted = list(ids)
    if not wanted:
        return {}
    newest = select(func.max(ReviewNote.id)).where(col(subject).in_(wanted)).group_by(col(subject))
    rows = session.execute(
        select(col(subject), col(ReviewNote.kind)).where(col(ReviewNote.id).in_(newest))
    )
    return {int(version_id): ReviewKind(kind) for version_id, kind in rows}


def latest_kinds(session: Session, version_ids: Iterable[int]) -> dict[int, ReviewKind]:
    """The newest note's kind per figure version (versions without a note are absent)."""
    return latest_kinds_on(session, ReviewNote.figure_version_id, version_ids)  # type: ignore[arg-type]


def counts(version: FigureVersion, kind: ReviewKind | None) -> bool:
    return version.source == FigureSource.seeded or kind == ReviewKind.approve


def current_of_period(session: Session, period_id: int) -> list[FigureVersion]:
    """The newest version of each figure of the edition on this reporting period."""
    newest = (
        select(col(FigureVersion.figure_id), func.max(FigureVersion.version).label("version"))
        .join(Figure, col(Figure.id) == col(FigureVersion.figure_id))
        .join(Edition, col(Edition.id) == col(Figure.edition_id))
        .where(col(Edition.period_id) == period_id)
        .group_by(col(FigureVersion.figure_id))
        .subquery()
    )
    return list(
        session.scalars(
            select(FigureVersion)
            .join(
                newest,
                (col(FigureVersion.figure_id) == newest.c.figure_id)
                & (col(FigureVersion.version) == newest.c.version),
            )
            .order_by(col(FigureVersion.figure_id))
        )
    )


def unapproved_of_period(session: Session, period_id: int) -> list[FigureVersion]:
    """The edition's current figure versions that do not count yet (waiting or sent back)."""
    versions = current_of_period(session, period_id)
    kinds = latest_kinds(session, [v.id for v in versions if v.id is not None])
    return [v for v in versions if v.id is not None and not counts(v, kinds.get(v.id))]


def sent_back(session: Session, version: FigureVersion | None) -> bool:
    """Is this (current) version sent back to its editor? The edit policy lets the editor
    change it during review then (`FigureSubject.sent_back`)."""
    if version is None or version.id is None:
        return False
    return latest_kinds(session, [version.id]).get(version.id) == ReviewKind.send_back
