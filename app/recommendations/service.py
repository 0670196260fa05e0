"""The rules of the recommendations: the deadline's history, the dialogue entries and the
confirmation of proposed links. Services flush and never commit.

Who may write: coordinators (and admins). The follow-up entries of a round will ask the edit
policy (app/policy.py) instead, with the organisations that lead a linked activity or are an
addressee as the subject's organisations; that is still to come (docs/recommendations.md).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlmodel import Session, col

from app.accounts.models import Role
from app.accounts.service import CurrentUser
from app.clock import utc_now
from app.errors import Forbidden, InvalidInput, NotFound
from app.i18n import format_date, gettext
from app.periods.models import PeriodState, ReportingPeriod
from app.periods.service import PeriodClosed, get_period, published_message
from app.recommendations.models import (
    DeadlineChange,
    Entry,
    EntryKind,
    EntrySource,
    FollowUpStatus,
    LinkState,
    Recommendation,
    SourceReport,
    Verdict,
)


def get_recommendation(session: Session, recommendation_id: int) -> Recommendation:
    found = session.get(Recommendation, recommendation_id)
    if found is None:
        raise NotFound(gettext("Recommendation %(id)s does not exist") % {"id": recommendation_id})
    return found


def programme_of(session: Session, recommendation: Recommendation) -> int:
    report = session.get(SourceReport, recommendation.report_id)
    assert report is not None  # a foreign key
    return report.programme_id


def _require_coordinator(user: CurrentUser | None) -> None:
    if user is None or not user.at_least(Role.coordinator):
        raise Forbidden(gettext("Only a coordinator can change the recommendations."))


def current_deadline(session: Session, recommendation_id: int) -> DeadlineChange | None:
    """The newest row of the deadline's history (its `deadline` None: dropped), or None."""
    return session.scalar(
        select(DeadlineChange)
        .where(col(DeadlineChange.recommendation_id) == recommendation_id)
        .order_by(col(DeadlineChange.version).desc())
        .limit(1)
    )


def reschedule(
    session: Session,
    *,
    recommendation_id: int,
    deadline: date | None,
    reason: str,
    author: CurrentUser | None,
    author_label: str = "",
) -> DeadlineChange:
    """Set, move or drop (None) the deadline: a new row of its history. Moving or dropping a
    deadline that was set needs a reason. `author` None is the seed."""
    if author is not None:
        _require_coordinator(author)
    get_recommendation(session, recommendation_id)
    current = current_deadline(session, recommendation_id)
    if deadline is None and (current is None or current.deadline is None):
        raise InvalidInput(gettext("There is no deadline to drop."))
    if current is not None and current.deadline == deadline and deadline is not None:
        raise InvalidInput(
            gettext("The deadline is already %(date)s.") % {"date": format_date(deadline)}
        )
    if current is not None and current.deadline is not None and not reason.strip():
        raise InvalidInput(gettext("Say why the deadline changes."))
    change = DeadlineChange(
        recommendation_id=recommendation_id,
        version=(current.version if current else 0) + 1,
        deadline=deadline,
        reason=reason.strip(),
        author=author.name if author else author_label,
        author_id=author.id if author else None,
    )
    session.add(change)
    session.flush()
    return change


def record_entry(
    session: Session,
    *,
    recommendation_id: int,
    kind: EntryKind,
    entry_date: date,
    text: str,
    document_reference: str = "",
    verdict: Verdict | None = None,
    period_id: int | None = None,
    followup_status_id: int | None = None,
    author: CurrentUser | None,
    source: EntrySource = EntrySource.entered,
    author_label: str = "",
) -> Entry:
    """Add an entry to a recommendation's dialogue. A response says how the government takes
    the recommendation (a verdict); a follow-up entry belongs to a reporting period of the
    recommendation's programme and carries a status of its legend, and is the next version
    of that period's follow-up."""
    if author is not None or source != EntrySource.seeded:
        _require_coordinator(author)
    recommendation = get_recommendation(session, recommendation_id)
    programme_id = programme_of(session, recommendation)
    if (kind == EntryKind.response) != (verdict is not None):
        raise InvalidInput(
            gettext("A response says whether the recommendation is accepted; other entries do not.")
        )
    period: ReportingPeriod | None = None
    if period_id is not None:
        period = get_period(session, period_id)
        if period.programme_id != programme_id:
            raise InvalidInput(gettext("The reporting period belongs to another programme."))
        if period.state == PeriodState.published:
            raise PeriodClosed(published_message(period.name))
    if kind == EntryKind.follow_up:
        if period is None:
            raise InvalidInput(gettext("A follow-up entry belongs to a reporting period."))
        status = session.get(FollowUpStatus, followup_status_id) if followup_status_id else None
        if status is None or status.programme_id != programme_id:
            raise InvalidInput(gettext("Choose a follow-up status from the programme's legend."))
    elif followup_status_id is not None:
        raise InvalidInput(gettext("Only a follow-up entry has a follow-up status."))
    newest = session.scalar(
        select(func.max(Entry.version)).where(
            col(Entry.recommendation_id) == recommendation_id,
            col(Entry.kind) == kind.value,
            col(Entry.period_id) == period_id
            if period_id is not None
            else col(Entry.period_id).is_(None),
        )
    )
    entry = Entry(
        recommendation_id=recommendation_id,
        kind=kind,
        version=(newest or 0) + 1,
        verdict=verdict,
        entry_date=entry_date,
        document_reference=document_reference.strip(),
        text=text.strip(),
        period_id=period_id,
        followup_status_id=followup_status_id,
        source=source,
        author=author.name if author else author_label,
        author_id=author.id if author else None,
    )
    session.add(entry)
    session.flush()
    return entry


def confirm_link(session: Session, *, link: LinkState, user: CurrentUser) -> None:
    """A person confirms a proposed link (from the seed): it is then theirs."""
    _require_coordinator(user)
    if link.confirmed:
        raise InvalidInput(gettext("This link was confirmed already."))
    link.confirmed_by = user.name
    link.confirmed_by_id = user.id
    link.confirmed_at = utc_now()
    session.add(link)
    session.flush()
