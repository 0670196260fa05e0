"""The rules of the recommendations: the deadline's history, the dialogue entries and the
confirmation of proposed links. Services flush and never commit.

Who may write: coordinators (and admins); a follow-up entry asks the edit policy instead
(`FOLLOW_UP_POLICY`, app/recommendations/policy.py): editors of the organisations that lead a
linked activity or are an addressee propose it during the period's round (`propose_follow_up`,
against the version it was based on), and the four-eyes review decides on it
(app/review/service.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlmodel import Session, col

from app import readmodel
from app.accounts.models import Role
from app.accounts.service import CurrentUser
from app.audit import service as audit
from app.audit.models import AuditAction
from app.clock import utc_now
from app.errors import DomainError, Forbidden, InvalidInput, NotFound
from app.i18n import format_date, gettext
from app.periods.models import PeriodState, ReportingPeriod
from app.periods.service import PeriodClosed, get_period, published_message
from app.policy import Decision
from app.readmodel.rows import PeriodRow
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
from app.recommendations.policy import FOLLOW_UP_POLICY, current_entry, subject_of
from app.review import follow_ups as follow_up_review
from app.review.models import ReviewKind, ReviewNote
from app.text import normalise_newlines

MAX_FOLLOW_UP_LENGTH = 5000


class FollowUpConflict(DomainError):
    """Someone saved the period's follow-up after the version this proposal was based on."""

    status_code = 409

    def __init__(self, current: Entry) -> None:
        super().__init__(
            gettext(
                "Someone else saved this follow-up in the meantime (version %(version)s, "
                "%(author)s). Look at their text and save again."
            )
            % {"version": current.version, "author": current.author or "—"}
        )
        self.current = current


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
    if kind != EntryKind.follow_up and (author is not None or source != EntrySource.seeded):
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
        if author is not None or source != EntrySource.seeded:
            FOLLOW_UP_POLICY.require(
                author, subject_of(session, recommendation_id, period.id or 0), period
            )
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


def propose_follow_up(
    session: Session,
    *,
    recommendation_id: int,
    period_id: int,
    followup_status_id: int | None,
    explanation: str,
    based_on_version: int | None,
    author: CurrentUser,
    address: str = "",
) -> Entry:
    """An editor's (or coordinator's) follow-up of a recommendation in a period's round: a
    status of the legend and an explanation, the next version of the period's follow-up. It
    is a proposal until a coordinator other than its author approves it (app/review). Refused
    when the period's follow-up moved on since `based_on_version` (None or 0: there was none)
    was read (FollowUpConflict, 409), so nobody overwrites a text they have not seen."""
    period = get_period(session, period_id)
    FOLLOW_UP_POLICY.require(author, subject_of(session, recommendation_id, period_id), period)
    current = current_entry(session, recommendation_id, period_id)
    if (current.version if current else 0) != (based_on_version or 0):
        if current is None:  # a version that never was: the form is not this period's
            raise InvalidInput(gettext("The form is incomplete; reload the page and try again."))
        raise FollowUpConflict(current)
    explanation = normalise_newlines(explanation).strip()
    if not explanation:
        raise InvalidInput(gettext("Explain what was done."))
    if len(explanation) > MAX_FOLLOW_UP_LENGTH:
        raise InvalidInput(
            gettext("The explanation has at most %(max)d characters.")
            % {"max": MAX_FOLLOW_UP_LENGTH}
        )
    entry = record_entry(
        session,
        recommendation_id=recommendation_id,
        kind=EntryKind.follow_up,
        entry_date=utc_now().date(),
        text=explanation,
        period_id=period_id,
        followup_status_id=followup_status_id,
        author=author,
    )
    recommendation = get_recommendation(session, recommendation_id)
    status = session.get(FollowUpStatus, followup_status_id)
    audit.record(
        session,
        actor=author,
        action=AuditAction.recommendation_follow_up,
        object_type="recommendation",
        object_id=recommendation_id,
        summary=f"{recommendation.number} v{entry.version}: {status.code if status else ''}",
        details={
            "period_id": period_id,
            "version": entry.version,
            "recommendation_entry_id": entry.id,
            "status": status.code if status else None,
        },
        address=address,
    )
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


# -- the follow-up form ----------------------------------------------------------------------


@dataclass
class FollowUpView:
    """What the follow-up form of a recommendation in a period shows."""

    recommendation: Recommendation
    report: SourceReport
    period: PeriodRow
    periods: list[PeriodRow]
    legend: list[FollowUpStatus]
    current: Entry | None
    current_status: FollowUpStatus | None
    # The current entry's state in review: "waiting", "approved", "sent_back" (None: none).
    review_state: str | None
    notes: list[ReviewNote]
    decision: Decision


def follow_up_view(
    session: Session, *, recommendation_id: int, period_id: int | None, user: CurrentUser
) -> FollowUpView:
    """The recommendation's follow-up in a progress period of its programme (the requested
    one, or the most recent one that started), with whether this user may propose it now.
    Forbidden (403) when it is not this user's to propose in any period."""
    recommendation = get_recommendation(session, recommendation_id)
    report = session.get(SourceReport, recommendation.report_id)
    assert report is not None  # a foreign key
    periods = readmodel.list_periods(session, report.programme_id)
    chosen = readmodel.choose_period(periods, period_id)
    if chosen is None:
        raise NotFound(gettext("This programme has no reporting period"))
    record = get_period(session, chosen.id)
    subject = subject_of(session, recommendation_id, chosen.id)
    FOLLOW_UP_POLICY.access(user, subject).require()
    current = current_entry(session, recommendation_id, chosen.id)
    notes: list[ReviewNote] = []
    state = None
    if current is not None and current.id is not None:
        notes = list(
            session.scalars(
                select(ReviewNote)
                .where(col(ReviewNote.recommendation_entry_id) == current.id)
                .order_by(col(ReviewNote.created_at), col(ReviewNote.id))
            )
        )
        kind = notes[-1].kind if notes else None
        state = (
            "approved"
            if follow_up_review.counts(current, kind)
            else ("sent_back" if kind == ReviewKind.send_back else "waiting")
        )
    legend = list(
        session.scalars(
            select(FollowUpStatus)
            .where(col(FollowUpStatus.programme_id) == report.programme_id)
            .order_by(col(FollowUpStatus.position))
        )
    )
    return FollowUpView(
        recommendation=recommendation,
        report=report,
        period=chosen,
        periods=periods,
        legend=legend,
        current=current,
        current_status=session.get(FollowUpStatus, current.followup_status_id)
        if current is not None and current.followup_status_id
        else None,
        review_state=state,
        notes=notes,
        decision=FOLLOW_UP_POLICY.change(user, subject, record),
    )
