"""Four-eyes review: during an update round an editor's save (of an activity's status, of a
monitor edition's figure, or of a recommendation's follow-up) is a proposal; a coordinator
other than its author approves it (then it counts for the report) or sends it back with a
comment, which the editor answers.

Decisions are made on one version: if a newer version was saved since the reviewer looked,
the decision is refused, so nobody approves a text they have not seen.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from markupsafe import Markup
from sqlalchemy import func, select
from sqlmodel import Session, col

from app import readmodel
from app.accounts.models import Role
from app.accounts.service import CurrentUser
from app.activities import service as activities
from app.activities.diff import explanation_diff
from app.activities.models import (
    BASELINE_SOURCES,
    Status,
    StatusUpdate,
)
from app.audit import service as audit
from app.audit.models import AuditAction
from app.errors import DomainError, Forbidden, InvalidInput, NotFound
from app.i18n import N_, gettext
from app.ids import id_of
from app.monitor.models import Edition, Figure, FigureSource, FigureVersion
from app.periods.models import PeriodState, ReportingPeriod
from app.periods.service import PeriodClosed, get_period, previous_period, published_message
from app.programmes.models import Activity
from app.recommendations.models import Entry, EntryKind, FollowUpStatus, Recommendation
from app.review import figures as figure_review
from app.review import follow_ups as follow_up_review
from app.review.models import ReviewKind, ReviewNote
from app.text import normalise_newlines

MAX_COMMENT_LENGTH = 2000

# How far along an activity is, for the "moved backwards" flag. "Not applicable" is outside
# the scale; "in consultation" and "not started" are both before the work.
PROGRESS: dict[Status, int] = {
    Status.delayed: 0,
    Status.not_started: 1,
    Status.in_consultation: 1,
    Status.on_schedule: 2,
    Status.ongoing: 2,
    Status.completed: 3,
}

FLAG_LABELS = {
    "status_only": N_("Status changed, explanation unchanged"),
    "stale_explanation": N_("Explanation unchanged for two periods"),
    "backwards": N_("Status moved backwards"),
}


class ReviewConflict(DomainError):
    """A newer version was saved after the one being decided on."""

    status_code = 409


def moved_backwards(before: Status | None, after: Status | None) -> bool:
    if before not in PROGRESS or after not in PROGRESS:
        return False
    return PROGRESS[after] < PROGRESS[before]


def _clean_comment(comment: str) -> str:
    comment = normalise_newlines(comment).strip()
    if len(comment) > MAX_COMMENT_LENGTH:
        raise InvalidInput(
            gettext("The comment has at most %(max)d characters.") % {"max": MAX_COMMENT_LENGTH}
        )
    return comment


def _reviewable(session: Session, status_update_id: int) -> tuple[StatusUpdate, ReportingPeriod]:
    update = session.get(StatusUpdate, status_update_id)
    if update is None:
        raise NotFound(gettext("Version %(id)s does not exist") % {"id": status_update_id})
    period = get_period(session, update.period_id)
    if period.state == PeriodState.published:
        raise PeriodClosed(published_message(period.name))
    if period.state == PeriodState.draft:
        raise PeriodClosed(
            gettext("%(period)s has not been opened for updates yet.") % {"period": period.name}
        )
    latest = activities.latest_update(
        session, activity_id=update.activity_id, period_id=update.period_id
    )
    if latest is not None and latest.id != update.id:
        raise ReviewConflict(
            gettext(
                "A newer version (%(version)s) of this activity was saved after the one you "
                "reviewed. Look at it first."
            )
            % {"version": latest.version}
        )
    return update, period


def _note(
    session: Session,
    update: StatusUpdate,
    *,
    kind: ReviewKind,
    comment: str,
    actor: CurrentUser,
    address: str,
) -> ReviewNote:
    note = ReviewNote(
        status_update_id=id_of(update),
        kind=kind,
        comment=comment,
        author=actor.name,
        author_id=actor.id,
    )
    session.add(note)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=AuditAction(f"review.{kind.value}"),
        object_type="activity",
        object_id=update.activity_id,
        summary=f"v{update.version}" + (f": {comment}" if comment else ""),
        details={
            "period_id": update.period_id,
            "version": update.version,
            "status_update_id": update.id,
            "comment": comment,
        },
        address=address,
    )
    return note


def _ensure_reviewer(reviewer: CurrentUser) -> None:
    if not reviewer.at_least(Role.coordinator):
        raise Forbidden(gettext("Only coordinators review proposals."))


def own_proposal(update: StatusUpdate | FigureVersion | Entry, reviewer: CurrentUser) -> bool:
    """Four eyes: a version (of a status, a figure or a follow-up) is never approved by its
    own author."""
    return update.author_id is not None and update.author_id == reviewer.id


def own_proposal_message(update: StatusUpdate) -> str:
    return gettext("Four eyes: someone else must approve your own proposal (version %(v)s).") % {
        "v": update.version
    }


def approve(
    session: Session, *, status_update_id: int, reviewer: CurrentUser, address: str = ""
) -> ReviewNote:
    _ensure_reviewer(reviewer)
    update, _ = _reviewable(session, status_update_id)
    if update.source in BASELINE_SOURCES:
        raise InvalidInput(gettext("This is the period's starting point; it needs no approval."))
    kind = activities.latest_review_kind(session, id_of(update))
    if kind == ReviewKind.approve:
        raise InvalidInput(gettext("This version has been approved already."))
    if own_proposal(update, reviewer):
        raise Forbidden(own_proposal_message(update))
    return _note(
        session, update, kind=ReviewKind.approve, comment="", actor=reviewer, address=address
    )


def approve_many(
    session: Session,
    *,
    status_update_ids: list[int] | None = None,
    figure_version_ids: list[int] | None = None,
    follow_up_entry_ids: list[int] | None = None,
    reviewer: CurrentUser,
    address: str = "",
) -> int:
    """Approve several proposals at once (versions of statuses, of monitor figures, of
    recommendations' follow-ups, in any mix): all of them, or none (each refusal is named)."""
    status_update_ids = list(dict.fromkeys(status_update_ids or []))
    figure_version_ids = list(dict.fromkeys(figure_version_ids or []))
    follow_up_entry_ids = list(dict.fromkeys(follow_up_entry_ids or []))
    if not status_update_ids and not figure_version_ids and not follow_up_entry_ids:
        raise InvalidInput(gettext("Select at least one proposal to approve."))
    problems: list[str] = []
    approved = 0
    with session.begin_nested() as savepoint:
        for status_update_id in status_update_ids:
            try:
                approve(
                    session,
                    status_update_id=status_update_id,
                    reviewer=reviewer,
                    address=address,
                )
                approved += 1
            except DomainError as problem:
                title = _activity_title(session, status_update_id)
                problems.append(f"{title}: {problem.message}")
        for figure_version_id in figure_version_ids:
            try:
                decide_figure(
                    session,
                    figure_version_id=figure_version_id,
                    decision="approve",
                    reviewer=reviewer,
                    address=address,
                )
                approved += 1
            except DomainError as problem:
                title = _figure_title(session, figure_version_id)
                problems.append(f"{title}: {problem.message}")
        for entry_id in follow_up_entry_ids:
            try:
                decide_follow_up(
                    session,
                    entry_id=entry_id,
                    decision="approve",
                    reviewer=reviewer,
                    address=address,
                )
                approved += 1
            except DomainError as problem:
                title = _follow_up_title(session, entry_id)
                problems.append(f"{title}: {problem.message}")
        if problems:
            savepoint.rollback()
    if problems:
        raise InvalidInput(gettext("Nothing was approved, because:") + " " + " · ".join(problems))
    return approved


def _activity_title(session: Session, status_update_id: int) -> str:
    update = session.get(StatusUpdate, status_update_id)
    if update is None:
        return f"#{status_update_id}"
    activity = session.get(Activity, update.activity_id)
    return (
        f"{activity.label or ''} {activity.title}".strip() if activity else f"#{status_update_id}"
    )


def _figure_title(session: Session, figure_version_id: int) -> str:
    version = session.get(FigureVersion, figure_version_id)
    figure = session.get(Figure, version.figure_id) if version else None
    return f"{figure.key} v{version.version}" if figure and version else f"#{figure_version_id}"


def _follow_up_title(session: Session, entry_id: int) -> str:
    entry = session.get(Entry, entry_id)
    recommendation = session.get(Recommendation, entry.recommendation_id) if entry else None
    if entry is None or recommendation is None:
        return f"#{entry_id}"
    return gettext("Recommendation %(number)s v%(v)s") % {
        "number": recommendation.number,
        "v": entry.version,
    }


def send_back(
    session: Session,
    *,
    status_update_id: int,
    reviewer: CurrentUser,
    comment: str,
    address: str = "",
) -> ReviewNote:
    _ensure_reviewer(reviewer)
    comment = _clean_comment(comment)
    if not comment:
        raise InvalidInput(gettext("Say what should change: a comment is needed."))
    update, _ = _reviewable(session, status_update_id)
    if update.source in BASELINE_SOURCES:
        raise InvalidInput(gettext("This is the period's starting point; it needs no approval."))
    if activities.latest_review_kind(session, id_of(update)) == ReviewKind.approve:
        raise InvalidInput(gettext("This version has been approved already."))
    return _note(
        session,
        update,
        kind=ReviewKind.send_back,
        comment=comment,
        actor=reviewer,
        address=address,
    )


def get_version(session: Session, status_update_id: int) -> StatusUpdate:
    update = session.get(StatusUpdate, status_update_id)
    if update is None:
        raise NotFound(gettext("Version %(id)s does not exist") % {"id": status_update_id})
    return update


def decide(
    session: Session,
    *,
    status_update_id: int,
    decision: str,
    reviewer: CurrentUser,
    comment: str = "",
    address: str = "",
) -> ReviewNote:
    """A reviewer's decision on one version, as the review page sends it: approve or send
    back (with the comment)."""
    if decision == "approve":
        return approve(
            session, status_update_id=status_update_id, reviewer=reviewer, address=address
        )
    if decision == "send_back":
        return send_back(
            session,
            status_update_id=status_update_id,
            reviewer=reviewer,
            comment=comment,
            address=address,
        )
    raise InvalidInput(gettext("Choose approve or send back."))


def reply(
    session: Session,
    *,
    status_update_id: int,
    author: CurrentUser,
    comment: str,
    address: str = "",
) -> ReviewNote:
    """The editor's answer to a version sent back to them (back in the reviewer's queue)."""
    comment = _clean_comment(comment)
    if not comment:
        raise InvalidInput(gettext("Write an answer."))
    update, _ = _reviewable(session, status_update_id)
    activities.ensure_can_edit(session, author, update.activity_id)
    if activities.latest_review_kind(session, id_of(update)) != ReviewKind.send_back:
        raise InvalidInput(gettext("Only a version that was sent back can be answered."))
    return _note(
        session, update, kind=ReviewKind.reply, comment=comment, actor=author, address=address
    )


def notes_by_update(session: Session, status_update_ids: list[int]) -> dict[int, list[ReviewNote]]:
    """Review notes per version, oldest first."""
    found: dict[int, list[ReviewNote]] = defaultdict(list)
    if not status_update_ids:
        return found
    for note in session.scalars(
        select(ReviewNote)
        .where(col(ReviewNote.status_update_id).in_(status_update_ids))
        .order_by(col(ReviewNote.created_at), col(ReviewNote.id))
    ):
        if note.status_update_id is not None:  # always: the query asks for these
            found[note.status_update_id].append(note)
    return found


# -- the reviewer's queue -----------------------------------------------------------------


@dataclass
class Proposal:
    row: readmodel.ActivityRow
    update: StatusUpdate
    # What counted in the previous period (the text the reviewer compares against).
    previous_status: Status | None
    previous_explanation: str | None
    diff: Markup | None
    flags: list[str]
    state: str  # "waiting", "answered" or "sent_back"
    notes: list[ReviewNote] = field(default_factory=list)
    # Why this reviewer may not approve it (their own proposal); empty when they may.
    approval_refused: str = ""
    # It confirms the period's starting point unchanged (readmodel.confirms_start).
    confirms: bool = False

    @property
    def may_approve(self) -> bool:
        return not self.approval_refused


def proposals(
    session: Session, *, period: readmodel.PeriodRow, programme_id: int, reviewer: CurrentUser
) -> list[Proposal]:
    """The activities whose newest version in the period waits for a decision (or was sent
    back), in programme order, each with the previous period's text beside it, flags, and
    whether this reviewer may approve it (`approve` asks the same rule)."""
    record = get_period(session, period.id)
    updates = readmodel.awaiting_review(session, period.id)
    if not updates:
        return []
    notes = notes_by_update(session, [id_of(update) for update in updates.values()])
    before = previous_period(session, record)
    earlier = previous_period(session, before) if before is not None else None
    previous_texts = readmodel.counted_statuses(session, id_of(before)) if before else {}
    earlier_texts = readmodel.counted_statuses(session, id_of(earlier)) if earlier else {}
    listing = readmodel.list_activities(session, programme_id, period)
    starting = readmodel.starting_points(session, period.id)
    found: list[Proposal] = []
    for row in listing.rows:
        update = updates.get(row.id)
        if update is None:
            continue
        previous = previous_texts.get(row.id)
        earliest = earlier_texts.get(row.id)
        flags = []
        if previous is not None:
            if update.status != previous[0] and update.explanation == previous[1]:
                flags.append("status_only")
            if (
                earliest is not None
                and update.explanation == previous[1]
                and previous[1] == earliest[1]
            ):
                flags.append("stale_explanation")
            if moved_backwards(previous[0], Status(update.status)):
                flags.append("backwards")
        update_notes = notes.get(id_of(update), [])
        last = update_notes[-1].kind if update_notes else None
        state = "waiting"
        if last is not None:
            state = {ReviewKind.send_back: "sent_back", ReviewKind.reply: "answered"}.get(
                last, "waiting"
            )
        found.append(
            Proposal(
                row=row,
                update=update,
                previous_status=previous[0] if previous else None,
                previous_explanation=previous[1] if previous else None,
                diff=explanation_diff(previous[1], update.explanation) if previous else None,
                flags=flags,
                state=state,
                notes=update_notes,
                approval_refused=own_proposal_message(update)
                if own_proposal(update, reviewer)
                else "",
                confirms=readmodel.confirms_start(update, starting.get(row.id)),
            )
        )
    return found


# -- the figures of a monitor edition (the same notes, on figure_version_id) -----------------


def _figure_reviewable(
    session: Session, figure_version_id: int
) -> tuple[FigureVersion, Figure, ReportingPeriod]:
    version = session.get(FigureVersion, figure_version_id)
    if version is None:
        raise NotFound(gettext("Version %(id)s does not exist") % {"id": figure_version_id})
    figure = session.get(Figure, version.figure_id)
    edition = session.get(Edition, figure.edition_id) if figure else None
    if figure is None or edition is None:
        raise NotFound(gettext("Version %(id)s does not exist") % {"id": figure_version_id})
    period = get_period(session, edition.period_id)
    _open_for_review(period)
    newest = session.scalar(
        select(func.max(FigureVersion.version)).where(
            col(FigureVersion.figure_id) == version.figure_id
        )
    )
    if newest != version.version:
        raise ReviewConflict(
            gettext(
                "A newer version (%(version)s) of this figure was saved after the one you "
                "reviewed. Look at it first."
            )
            % {"version": newest}
        )
    return version, figure, period


def _decision_comment(reviewer: CurrentUser, decision: str, comment: str) -> str:
    """A reviewer's decision as a form gives it, checked: approve, or send back with a
    comment (the cleaned comment; none for an approval)."""
    _ensure_reviewer(reviewer)
    if decision not in ("approve", "send_back"):
        raise InvalidInput(gettext("Choose approve or send back."))
    comment = _clean_comment(comment) if decision == "send_back" else ""
    if decision == "send_back" and not comment:
        raise InvalidInput(gettext("Say what should change: a comment is needed."))
    return comment


def _open_for_review(period: ReportingPeriod) -> None:
    if period.state == PeriodState.published:
        raise PeriodClosed(published_message(period.name))
    if period.state == PeriodState.draft:
        raise PeriodClosed(
            gettext("%(period)s has not been opened for updates yet.") % {"period": period.name}
        )


def decide_figure(
    session: Session,
    *,
    figure_version_id: int,
    decision: str,
    reviewer: CurrentUser,
    comment: str = "",
    address: str = "",
) -> ReviewNote:
    """A reviewer's decision on one figure version: approve (never their own version) or send
    back with a comment (its editor may then change it while the edition is in review)."""
    comment = _decision_comment(reviewer, decision, comment)
    version, figure, period = _figure_reviewable(session, figure_version_id)
    kind = figure_review.latest_kinds(session, [figure_version_id]).get(figure_version_id)
    if figure_review.counts(version, kind):
        if version.source == FigureSource.seeded:
            raise InvalidInput(gettext("This figure was loaded from its published source."))
        raise InvalidInput(gettext("This version has been approved already."))
    if decision == "approve" and own_proposal(version, reviewer):
        raise Forbidden(
            gettext("Four eyes: someone else must approve your own figure (version %(v)s).")
            % {"v": version.version}
        )
    note = ReviewNote(
        figure_version_id=figure_version_id,
        kind=ReviewKind(decision),
        comment=comment,
        author=reviewer.name,
        author_id=reviewer.id,
    )
    session.add(note)
    session.flush()
    audit.record(
        session,
        actor=reviewer,
        action=AuditAction(f"review.{decision}"),
        object_type="monitor_figure",
        object_id=id_of(figure),
        summary=f"{figure.key} v{version.version}" + (f": {comment}" if comment else ""),
        details={
            "period_id": id_of(period),
            "version": version.version,
            "figure_version_id": figure_version_id,
            "comment": comment,
        },
        address=address,
    )
    return note


@dataclass(kw_only=True)
class _Proposal:
    """What the reviewer sees of any subject's version that does not count yet: its state,
    its notes (oldest first) and why it may not be approved by this reviewer, if so."""

    state: str  # "waiting", "answered" or "sent_back"
    notes: list[ReviewNote] = field(default_factory=list)
    approval_refused: str = ""

    @property
    def may_approve(self) -> bool:
        return not self.approval_refused


@dataclass
class FigureProposal(_Proposal):
    """A figure's current version that does not count yet, as the reviewer sees it."""

    figure: Figure
    version: FigureVersion


def figure_proposals(
    session: Session, *, period_id: int, reviewer: CurrentUser | None
) -> list[FigureProposal]:
    """The edition's figure versions waiting for a decision or sent back, in figure order,
    with their notes (oldest first)."""
    versions = figure_review.unapproved_of_period(session, period_id)
    if not versions:
        return []
    notes = _notes_on(session, "figure_version_id", [id_of(version) for version in versions])
    found = []
    for version in versions:
        figure = session.get(Figure, version.figure_id)
        if figure is None:
            continue
        version_notes = notes.get(id_of(version), [])
        state = _state(version_notes)
        refused = ""
        if reviewer is not None and own_proposal(version, reviewer):
            refused = gettext(
                "Four eyes: someone else must approve your own figure (version %(v)s)."
            ) % {"v": version.version}
        found.append(
            FigureProposal(
                figure, version, state=state, notes=version_notes, approval_refused=refused
            )
        )
    return found


def _notes_on(session: Session, subject: str, ids: list[int]) -> dict[int, list[ReviewNote]]:
    """Review notes per version of one kind of subject (the note's column), oldest first."""
    column = getattr(ReviewNote, subject)
    notes: dict[int, list[ReviewNote]] = defaultdict(list)
    if not ids:
        return notes
    for note in session.scalars(
        select(ReviewNote)
        .where(col(column).in_(ids))
        .order_by(col(ReviewNote.created_at), col(ReviewNote.id))
    ):
        notes[getattr(note, subject)].append(note)
    return notes


def _state(notes: list[ReviewNote]) -> str:
    """Where a version stands by its newest note: waiting, answered or sent_back."""
    last = notes[-1].kind if notes else None
    return {ReviewKind.send_back: "sent_back", ReviewKind.reply: "answered"}.get(
        last or ReviewKind.approve, "waiting"
    )


# -- the follow-up of recommendations (the same notes, on recommendation_entry_id) ----------


def _follow_up_reviewable(session: Session, entry_id: int) -> tuple[Entry, ReportingPeriod]:
    entry = session.get(Entry, entry_id)
    if entry is None or entry.kind != EntryKind.follow_up or entry.period_id is None:
        raise NotFound(gettext("Version %(id)s does not exist") % {"id": entry_id})
    period = get_period(session, entry.period_id)
    _open_for_review(period)
    newest = session.scalar(
        select(func.max(Entry.version)).where(
            col(Entry.recommendation_id) == entry.recommendation_id,
            col(Entry.kind) == EntryKind.follow_up.value,
            col(Entry.period_id) == entry.period_id,
        )
    )
    if newest != entry.version:
        raise ReviewConflict(
            gettext(
                "A newer version (%(version)s) of this follow-up was saved after the one you "
                "reviewed. Look at it first."
            )
            % {"version": newest}
        )
    return entry, period


def follow_up_period(session: Session, entry_id: int) -> int:
    """The reporting period of a follow-up entry (404 when there is no such entry)."""
    entry = session.get(Entry, entry_id)
    if entry is None or entry.period_id is None:
        raise NotFound(gettext("Version %(id)s does not exist") % {"id": entry_id})
    return entry.period_id


def own_follow_up_message(entry: Entry) -> str:
    return gettext("Four eyes: someone else must approve your own follow-up (version %(v)s).") % {
        "v": entry.version
    }


def decide_follow_up(
    session: Session,
    *,
    entry_id: int,
    decision: str,
    reviewer: CurrentUser,
    comment: str = "",
    address: str = "",
) -> ReviewNote:
    """A reviewer's decision on one follow-up entry: approve (never their own) or send back
    with a comment (its editors may then propose it again while the period is in review)."""
    comment = _decision_comment(reviewer, decision, comment)
    entry, period = _follow_up_reviewable(session, entry_id)
    kind = follow_up_review.latest_kinds(session, [entry_id]).get(entry_id)
    if follow_up_review.counts(entry, kind):
        raise InvalidInput(gettext("This version has been approved already."))
    if decision == "approve" and own_proposal(entry, reviewer):
        raise Forbidden(own_follow_up_message(entry))
    note = ReviewNote(
        recommendation_entry_id=entry_id,
        kind=ReviewKind(decision),
        comment=comment,
        author=reviewer.name,
        author_id=reviewer.id,
    )
    session.add(note)
    session.flush()
    recommendation = session.get(Recommendation, entry.recommendation_id)
    audit.record(
        session,
        actor=reviewer,
        action=AuditAction(f"review.{decision}"),
        object_type="recommendation",
        object_id=entry.recommendation_id,
        summary=f"{recommendation.number if recommendation else ''} v{entry.version}"
        + (f": {comment}" if comment else ""),
        details={
            "period_id": id_of(period),
            "version": entry.version,
            "recommendation_entry_id": entry_id,
            "comment": comment,
        },
        address=address,
    )
    return note


@dataclass
class FollowUpProposal(_Proposal):
    """A recommendation's current follow-up in the period that does not count yet."""

    recommendation: Recommendation
    entry: Entry
    status: FollowUpStatus | None


def follow_up_proposals(
    session: Session, *, period_id: int, reviewer: CurrentUser | None
) -> list[FollowUpProposal]:
    """The period's follow-up entries waiting for a decision or sent back, in the order of
    the reports and their recommendations, with their notes (oldest first)."""
    entries = follow_up_review.unapproved_of_period(session, period_id)
    if not entries:
        return []
    notes = _notes_on(session, "recommendation_entry_id", [id_of(entry) for entry in entries])
    found = []
    for entry in entries:
        recommendation = session.get(Recommendation, entry.recommendation_id)
        if recommendation is None:
            continue
        status = (
            session.get(FollowUpStatus, entry.followup_status_id)
            if entry.followup_status_id
            else None
        )
        entry_notes = notes.get(id_of(entry), [])
        refused = (
            own_follow_up_message(entry)
            if reviewer is not None and own_proposal(entry, reviewer)
            else ""
        )
        found.append(
            FollowUpProposal(
                recommendation,
                entry,
                status,
                state=_state(entry_notes),
                notes=entry_notes,
                approval_refused=refused,
            )
        )
    found.sort(key=lambda p: (p.recommendation.report_id, p.recommendation.position))
    return found
