"""Where the follow-up entries of a reporting period stand in the four-eyes review (the same
review notes as status updates and figure versions, on `ReviewNote.recommendation_entry_id`).
Reads models only, so the periods' publication and the follow-ups' edit policy can ask it.

A recommendation's follow-up in a period is its newest follow-up entry there; it counts once
its newest note is an approval. A seeded entry counts without review, as a seeded figure does.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlmodel import Session, col

from app.ids import id_of
from app.recommendations.models import Entry, EntryKind, EntrySource
from app.review.figures import latest_kinds_on
from app.review.models import ReviewKind, ReviewNote


def latest_kinds(session: Session, entry_ids: Iterable[int]) -> dict[int, ReviewKind]:
    """The newest note's kind per follow-up entry (entries without a note are absent)."""
    return latest_kinds_on(session, ReviewNote.recommendation_entry_id, entry_ids)  # type: ignore[arg-type]


def counts(entry: Entry, kind: ReviewKind | None) -> bool:
    return entry.source == EntrySource.seeded or kind == ReviewKind.approve


def counting(session: Session, entries: Iterable[Entry]) -> frozenset[int]:
    """The ids of those follow-up entries that count (approved, or seeded): what the
    recommendations' pages read as a follow-up, a proposal only once it is approved."""
    listed = [entry for entry in entries if entry.id is not None]
    kinds = latest_kinds(session, [id_of(entry) for entry in listed])
    return frozenset(id_of(entry) for entry in listed if counts(entry, kinds.get(id_of(entry))))


def current_of_period(session: Session, period_id: int) -> list[Entry]:
    """The newest follow-up entry of each recommendation in this reporting period."""
    newest = (
        select(col(Entry.recommendation_id), func.max(Entry.version).label("version"))
        .where(col(Entry.period_id) == period_id, col(Entry.kind) == EntryKind.follow_up.value)
        .group_by(col(Entry.recommendation_id))
        .subquery()
    )
    return list(
        session.scalars(
            select(Entry)
            .join(
                newest,
                (col(Entry.recommendation_id) == newest.c.recommendation_id)
                & (col(Entry.version) == newest.c.version),
            )
            .where(col(Entry.period_id) == period_id, col(Entry.kind) == EntryKind.follow_up.value)
            .order_by(col(Entry.recommendation_id))
        )
    )


def unapproved_of_period(session: Session, period_id: int) -> list[Entry]:
    """The period's current follow-up entries that do not count yet (waiting or sent back)."""
    entries = current_of_period(session, period_id)
    kinds = latest_kinds(session, [e.id for e in entries if e.id is not None])
    return [e for e in entries if e.id is not None and not counts(e, kinds.get(e.id))]


def sent_back(session: Session, entry: Entry | None) -> bool:
    """Is this (current) entry sent back to its editors? The edit policy lets them change it
    while the period is in review then (`FollowUpSubject.sent_back`)."""
    if entry is None or entry.id is None:
        return False
    return latest_kinds(session, [entry.id]).get(entry.id) == ReviewKind.send_back
