"""The rules of a reporting period's life: draft → open (update round) → in review → published,
and from published only into a correction (with a reason): a small round of its own on the
published period (correcting → published again), which may run beside another period's round.
While it runs, the published report stays as it was (the read-model shows a published period
through its snapshot, written at every publication).

Every move is a compare-and-set on the period's state (so two coordinators, in any app
processes, cannot both make the same move), recorded in period_transition and in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import insert, select, update
from sqlmodel import Session, col

from app import readmodel
from app.accounts.models import Role
from app.accounts.service import CurrentUser
from app.activities.models import (
    StatusApproved,
    StatusUpdate,
    UpdateSource,
)
from app.audit import service as audit
from app.audit.models import AuditAction
from app.clock import utc_now
from app.errors import DomainError, Forbidden, InvalidInput, NotFound
from app.i18n import N_, format_date, gettext, ngettext
from app.ids import id_of
from app.jobs import service as jobs
from app.jobs.models import Job
from app.periods.models import (
    PeriodKind,
    PeriodState,
    PeriodTransition,
    PublishedActivity,
    ReportingPeriod,
)
from app.programmes.models import ActionLine, Activity, Result, Theme
from app.review import figures as figure_review
from app.review import follow_ups as follow_up_review
from app.text import normalise_newlines

STATE_LABELS = {
    PeriodState.draft: N_("Draft"),
    PeriodState.open: N_("Open for updates"),
    PeriodState.in_review: N_("In review"),
    PeriodState.published: N_("Published"),
    PeriodState.correcting: N_("Being corrected"),
}
# The steps of an ordinary round, in order (a correction comes after the last, and back).
ROUND_STATES = (PeriodState.draft, PeriodState.open, PeriodState.in_review, PeriodState.published)

MAX_REASON_LENGTH = 2000


class PeriodClosed(DomainError):
    """The period does not accept this change in its current state."""

    status_code = 409


@dataclass(frozen=True)
class Move:
    name: str
    source: PeriodState
    target: PeriodState
    label: str
    needs_reason: bool = False
    # A step forward in the life cycle (the period page's main button), or back.
    forward: bool = True
    # Said beside the button: what the step does to whom.
    explanation: str = ""


# The moves a coordinator can make, by name (the name is what forms and the CLI send).
MOVES: dict[str, Move] = {
    move.name: move
    for move in (
        Move(
            "open",
            PeriodState.draft,
            PeriodState.open,
            N_("Open the update round"),
            explanation=N_(
                "Every activity starts from its last published status, and the editors can "
                "update their organisations' activities."
            ),
        ),
        Move(
            "review",
            PeriodState.open,
            PeriodState.in_review,
            N_("Close the round for review"),
            explanation=N_(
                "Editors can then only change what is sent back to them; coordinators review "
                "the proposals."
            ),
        ),
        Move(
            "publish",
            PeriodState.in_review,
            PeriodState.published,
            N_("Publish"),
            explanation=N_(
                "First you see how many activities were not updated, confirmed or changed; "
                "publishing puts the report on the public site."
            ),
        ),
        Move(
            "reopen-round",
            PeriodState.in_review,
            PeriodState.open,
            N_("Reopen the round"),
            forward=False,
            explanation=N_("Back to the update round: editors can update their activities again."),
        ),
        Move(
            "correct",
            PeriodState.published,
            PeriodState.correcting,
            N_("Start a correction"),
            needs_reason=True,
            forward=False,
            explanation=N_(
                "A small round of its own on this published report, beside any other period's "
                "round: editors propose corrections, coordinators review them, and you "
                "republish. Until then the public site shows the report as it was published."
            ),
        ),
        Move(
            "republish",
            PeriodState.correcting,
            PeriodState.published,
            N_("Republish"),
            explanation=N_(
                "First you see which activities were corrected and which proposals were not "
                "approved; republishing puts the corrected report on the public site."
            ),
        ),
    )
}


def state_label(state: PeriodState | str) -> str:
    return gettext(STATE_LABELS[PeriodState(state)])


def get_period(session: Session, period_id: int) -> ReportingPeriod:
    period = session.get(ReportingPeriod, period_id)
    if period is None:
        raise NotFound(gettext("Reporting period %(id)s does not exist") % {"id": period_id})
    return period


def _require_coordinator(user: CurrentUser) -> None:
    if not user.at_least(Role.coordinator):
        raise Forbidden(gettext("Only coordinators may manage reporting periods."))


def create_period(
    session: Session,
    *,
    programme_id: int,
    name: str,
    reference_date: date,
    deadline: date | None,
    actor: CurrentUser,
    address: str = "",
) -> ReportingPeriod:
    """A new period, as a draft: nothing is carried over until it is opened."""
    _require_coordinator(actor)
    name = name.strip()
    if not name:
        raise InvalidInput(gettext("Give the period a name."))
    if len(name) > 200:
        raise InvalidInput(gettext("A period name has at most 200 characters."))
    taken = session.scalar(
        select(col(ReportingPeriod.id)).where(
            col(ReportingPeriod.programme_id) == programme_id, col(ReportingPeriod.name) == name
        )
    )
    if taken is not None:
        raise InvalidInput(gettext("There is already a period named %(name)s.") % {"name": name})
    _check_deadline(deadline, reference_date=reference_date)
    period = ReportingPeriod(
        programme_id=programme_id,
        name=name,
        reference_date=reference_date,
        deadline=deadline,
        state=PeriodState.draft,
    )
    session.add(period)
    session.flush()
    session.add(
        PeriodTransition(
            period_id=id_of(period),
            from_state=None,
            to_state=PeriodState.draft,
            actor=actor.name,
            actor_id=actor.id,
        )
    )
    audit.record(
        session,
        actor=actor,
        action=AuditAction.period_create,
        object_type="period",
        object_id=period.id,
        summary=name,
        details={"reference_date": reference_date.isoformat(), "deadline": _iso(deadline)},
        address=address,
    )
    session.flush()
    return period


def set_deadline(
    session: Session,
    *,
    period_id: int,
    deadline: date | None,
    actor: CurrentUser,
    address: str = "",
) -> ReportingPeriod:
    _require_coordinator(actor)
    period = get_period(session, period_id)
    if period.state in (PeriodState.published, PeriodState.correcting):
        raise PeriodClosed(published_message(period.name))
    _check_deadline(deadline, reference_date=period.reference_date)
    previous = period.deadline
    period.deadline = deadline
    audit.record(
        session,
        actor=actor,
        action=AuditAction.period_deadline,
        object_type="period",
        object_id=period.id,
        summary=f"{_iso(previous) or '-'} → {_iso(deadline) or '-'}",
        details={"from": _iso(previous), "to": _iso(deadline)},
        address=address,
    )
    session.flush()
    return period


def _check_deadline(deadline: date | None, *, reference_date: date) -> None:
    """The deadline for updates comes on or after the reference date: the partners report
    how things stood on that date, so they cannot be asked to do so before it."""
    if deadline is None:
        return
    if deadline < date(2000, 1, 1):
        raise InvalidInput(
            gettext("The deadline %(date)s is not a plausible date.") % {"date": deadline}
        )
    if deadline < reference_date:
        raise InvalidInput(
            gettext(
                "The deadline for updates (%(deadline)s) is before the reference date "
                "(%(reference)s). The partners report the state of affairs on the reference "
                "date, so the deadline is on or after it."
            )
            % {"deadline": format_date(deadline), "reference": format_date(reference_date)}
        )


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def published_message(name: str) -> str:
    return gettext(
        "%(period)s is published and can no longer change. A coordinator can start a "
        "correction, giving a reason."
    ) % {"period": name}


def move_period(
    session: Session,
    *,
    period_id: int,
    move: str,
    actor: CurrentUser,
    reason: str = "",
    accept_not_updated: int = 0,
    accept_unapproved: int = 0,
    address: str = "",
) -> ReportingPeriod:
    """Make one of MOVES. Refused (409) when the period is not in the move's starting state,
    for instance because another coordinator moved it first.

    Publishing is the coordinator's explicit choice: with activities that were not updated
    for the period (their text is still the previous period's) or proposals that were not
    approved (they do not count), it is refused (422) unless `accept_not_updated` and
    `accept_unapproved` are at least those numbers, the ones the confirmation page showed.
    Republishing a correction asks the same about the proposals not approved (what was not
    updated in a correction is simply what needed no correction)."""
    _require_coordinator(actor)
    chosen = MOVES.get(move)
    if chosen is None:
        raise InvalidInput(gettext("Unknown step %(move)s") % {"move": repr(move)})
    period = get_period(session, period_id)
    reason = normalise_newlines(reason).strip()
    if chosen.needs_reason and not reason:
        raise InvalidInput(gettext("Give the reason for correcting a published period."))
    if len(reason) > MAX_REASON_LENGTH:
        raise InvalidInput(
            gettext("The reason has at most %(max)d characters.") % {"max": MAX_REASON_LENGTH}
        )
    if period.state != chosen.source:
        raise PeriodClosed(
            gettext("%(period)s is %(state)s: %(step)s is not possible now.")
            % {
                "period": period.name,
                "state": state_label(period.state).lower(),
                "step": gettext(chosen.label).lower(),
            }
        )
    if chosen.target in (PeriodState.open, PeriodState.in_review):
        _ensure_single_round(session, period)
    # What a move does beyond the state is the activities' (carried over when a round opens,
    # counted and snapshotted when it is published); a monitor edition's figures need none of
    # it (their breakdowns are checked on every entry, app/monitor/service.py), only the
    # four-eyes review of their versions before publication (below).
    progress = PeriodKind(period.kind) == PeriodKind.progress
    check = None
    if chosen.target == PeriodState.published:
        if progress:
            check = publication_check(session, period=period)
            if chosen.source == PeriodState.correcting:
                accept_not_updated = check.not_updated
        refusal = publication_refusal(
            session,
            period=period,
            check=check,
            accept_not_updated=accept_not_updated,
            accept_unapproved=accept_unapproved,
        )
        if refusal:
            raise InvalidInput(refusal)
    # Compare-and-set: of two concurrent moves only one finds the state it expects.
    changes: dict[str, object] = {"state": chosen.target.value}
    if chosen.target == PeriodState.published:
        changes["published_at"] = utc_now()
    moved = session.execute(
        update(ReportingPeriod)
        .where(
            col(ReportingPeriod.id) == period.id, col(ReportingPeriod.state) == chosen.source.value
        )
        .values(**changes)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE returns a CursorResult
        raise PeriodClosed(gettext("Someone else changed this period in the meantime. Reload."))
    session.refresh(period)
    carried = 0
    if move == "open" and progress:
        carried = carry_over(session, period=period, actor=actor)
    if chosen.target == PeriodState.published and progress:
        snapshot_structure(session, period_id=id_of(period))
        queue_documents(session, period_id=id_of(period), actor=actor)
    session.add(
        PeriodTransition(
            period_id=id_of(period),
            from_state=chosen.source,
            to_state=chosen.target,
            reason=reason,
            actor=actor.name,
            actor_id=actor.id,
        )
    )
    audit.record(
        session,
        actor=actor,
        action=AuditAction(f"period.{move}"),
        object_type="period",
        object_id=period.id,
        summary=f"{period.name}: {chosen.source} → {chosen.target}"
        + (f" ({reason})" if reason else ""),
        details={"from": chosen.source.value, "to": chosen.target.value, "reason": reason}
        | ({"carried_over": carried} if move == "open" and progress else {})
        | (check.details() if check is not None else {}),
        address=address,
    )
    session.flush()
    return period


# The job that makes a published period's public documents (app/public/documents.py registers
# its handler): publishing queues it, so no anonymous request ever renders one.
PUBLISH_JOB = "public_documents"


def queue_documents(session: Session, *, period_id: int, actor: CurrentUser | None) -> Job:
    """Queue the job that makes the public documents of a period just published."""
    return jobs.submit(session, kind=PUBLISH_JOB, params={"period_id": period_id}, user=actor)


def _ensure_single_round(session: Session, period: ReportingPeriod) -> None:
    """One round at a time: partners update one period, never two. A correction of a
    published period is not a round of this kind: it may run beside one. The rule holds per
    kind: a monitor edition's round runs beside the progress round."""
    other = session.scalar(
        select(col(ReportingPeriod.name)).where(
            col(ReportingPeriod.programme_id) == period.programme_id,
            col(ReportingPeriod.kind) == period.kind,
            col(ReportingPeriod.id) != period.id,
            col(ReportingPeriod.state).in_([PeriodState.open.value, PeriodState.in_review.value]),
        )
    )
    if other is not None:
        raise PeriodClosed(
            gettext("%(other)s is still open or in review; publish it first.") % {"other": other}
        )


def previous_period(session: Session, period: ReportingPeriod) -> ReportingPeriod | None:
    """The period before this one (by reference date) in the same programme, of its kind."""
    return session.scalar(
        select(ReportingPeriod)
        .where(
            col(ReportingPeriod.programme_id) == period.programme_id,
            col(ReportingPeriod.kind) == period.kind,
            col(ReportingPeriod.id) != period.id,
            col(ReportingPeriod.reference_date) <= period.reference_date,
        )
        .order_by(col(ReportingPeriod.reference_date).desc(), col(ReportingPeriod.id).desc())
        .limit(1)
    )


def carry_over(session: Session, *, period: ReportingPeriod, actor: CurrentUser) -> int:
    """Give every current activity its status and explanation that counted in the previous
    period as its starting point here (version 1, marked carried over). Retired activities are
    not carried; activities that already have a status here keep it. A previous period being
    corrected gives what its report published (its corrections count once republished; this
    period, opened already, keeps its starting points then)."""
    previous = previous_period(session, period)
    if previous is None:
        return 0
    pointer: type[StatusApproved] | type[PublishedActivity] = (
        PublishedActivity if previous.state == PeriodState.correcting else StatusApproved
    )
    rows = session.execute(
        select(
            col(StatusUpdate.activity_id), col(StatusUpdate.status), col(StatusUpdate.explanation)
        )
        .join(pointer, col(pointer.status_update_id) == StatusUpdate.id)
        .join(Activity, col(Activity.id) == StatusUpdate.activity_id)
        .join(Result, col(Result.id) == Activity.result_id)
        .join(Theme, col(Theme.id) == Result.theme_id)
        .join(ActionLine, col(ActionLine.id) == Theme.action_line_id)
        .where(
            col(pointer.period_id) == previous.id,
            col(Result.programme_id) == period.programme_id,
            col(Activity.retired_at).is_(None),
            col(Result.retired_at).is_(None),
            col(Theme.retired_at).is_(None),
            col(ActionLine.retired_at).is_(None),
        )
    ).all()
    present = set(
        session.scalars(
            select(col(StatusUpdate.activity_id)).where(col(StatusUpdate.period_id) == period.id)
        )
    )
    now = utc_now()
    added = [
        StatusUpdate(
            activity_id=activity_id,
            period_id=id_of(period),
            version=1,
            status=status,
            explanation=explanation,
            source=UpdateSource.carried_over,
            author=actor.name,
            author_id=actor.id,
            created_at=now,
        )
        for activity_id, status, explanation in rows
        if activity_id not in present
    ]
    session.add_all(added)
    session.flush()
    return len(added)


def snapshot_structure(session: Session, *, period_id: int) -> None:
    """Record where every activity the period reports on stands in the structure now (at
    publication), and the version of its status that counts, so that the published period
    keeps showing it that way (also while a correction is under way). A correction's
    republication keeps the structure the report was first published with (renaming or moving
    items since changes new periods only) and takes the corrected versions."""
    snapshot = col(PublishedActivity.period_id) == period_id
    if session.scalar(select(col(PublishedActivity.activity_id)).where(snapshot).limit(1)):
        approved = select(StatusApproved).where(
            col(StatusApproved.period_id) == period_id,
            col(StatusApproved.activity_id) == PublishedActivity.activity_id,
        )
        session.execute(
            update(PublishedActivity)
            .where(snapshot)
            .values(
                {
                    name: approved.with_only_columns(
                        getattr(StatusApproved, name)
                    ).scalar_subquery()
                    for name in ("status_update_id", "version", "status")
                }
            )
            .execution_options(synchronize_session=False)
        )
        return
    session.execute(
        insert(PublishedActivity).from_select(
            [
                "period_id",
                "activity_id",
                *(name for name, _ in readmodel.STRUCTURE_COLUMNS),
                "status_update_id",
                "version",
                "status",
            ],
            select(
                col(StatusApproved.period_id),
                col(Activity.id),
                *(column for _, column in readmodel.STRUCTURE_COLUMNS),
                col(StatusApproved.status_update_id),
                col(StatusApproved.version),
                col(StatusApproved.status),
            )
            .join(Activity, col(Activity.id) == StatusApproved.activity_id)
            .join(Result, col(Result.id) == Activity.result_id)
            .join(Theme, col(Theme.id) == Result.theme_id)
            .join(ActionLine, col(ActionLine.id) == Theme.action_line_id)
            .where(col(StatusApproved.period_id) == period_id),
        )
    )


def transitions(session: Session, period_id: int) -> list[PeriodTransition]:
    return list(
        session.scalars(
            select(PeriodTransition)
            .where(col(PeriodTransition.period_id) == period_id)
            .order_by(col(PeriodTransition.created_at), col(PeriodTransition.id))
        )
    )


@dataclass(frozen=True)
class Correction:
    """A correction of a published period: started with a reason, republished (or not yet).
    Read from the period's transitions; a reopening from before corrections had a state of
    their own (published → in review) counts too."""

    started: PeriodTransition
    republished: PeriodTransition | None


def corrections(steps: list[PeriodTransition]) -> list[Correction]:
    """The period's corrections, oldest first, from its transitions (in order)."""
    found: list[Correction] = []
    for step in steps:
        if step.from_state == PeriodState.published and step.to_state in (
            PeriodState.correcting,
            PeriodState.in_review,
        ):
            found.append(Correction(step, None))
        elif step.to_state == PeriodState.published and found and found[-1].republished is None:
            found[-1] = Correction(found[-1].started, step)
    return found


def last_corrected_at(session: Session, period_id: int) -> datetime | None:
    """When the period's report was last republished after a correction (None: never)."""
    done = [c for c in corrections(transitions(session, period_id)) if c.republished]
    return done[-1].republished.created_at if done and done[-1].republished else None


def later_rounds(session: Session, period: ReportingPeriod) -> list[ReportingPeriod]:
    """The programme's periods after this one that have been opened: each started from this
    period's report (carried over when it opened), so correcting this one does not change
    them."""
    return list(
        session.scalars(
            select(ReportingPeriod)
            .where(
                col(ReportingPeriod.programme_id) == period.programme_id,
                col(ReportingPeriod.kind) == period.kind,
                col(ReportingPeriod.id) != period.id,
                col(ReportingPeriod.reference_date) > period.reference_date,
                col(ReportingPeriod.state) != PeriodState.draft.value,
            )
            .order_by(col(ReportingPeriod.reference_date))
        )
    )


# -- the update round: who still has to do what --------------------------------------------

NOT_UPDATED = "not_updated"
CONFIRMED = "confirmed"
CHANGED = "changed"
PROGRESS_LABELS = {
    NOT_UPDATED: N_("Not yet updated"),
    CONFIRMED: N_("Confirmed"),
    CHANGED: N_("Changed"),
}


@dataclass
class RoundItem:
    """One activity in an update round, as its organisation's to-do list shows it."""

    row: readmodel.ActivityRow
    progress: str  # NOT_UPDATED, CONFIRMED or CHANGED
    sent_back: bool
    comment: str  # the reviewer's comment when sent back

    @property
    def open(self) -> bool:
        return self.progress == NOT_UPDATED or self.sent_back


@dataclass
class OrganisationProgress:
    code: str
    name: str
    items: list[RoundItem]

    def count(self, progress: str) -> int:
        return sum(1 for item in self.items if item.progress == progress)

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def sent_back(self) -> int:
        return sum(1 for item in self.items if item.sent_back)

    @property
    def unapproved(self) -> int:
        """Proposals not approved (awaiting review or sent back): they do not count."""
        return sum(1 for item in self.items if item.row.awaiting_review)

    @property
    def done(self) -> int:
        return self.total - self.count(NOT_UPDATED)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100

    @property
    def open_items(self) -> list[RoundItem]:
        return [item for item in self.items if item.open]


def round_items(
    session: Session, *, programme_id: int, period: readmodel.PeriodRow
) -> list[RoundItem]:
    """Every activity of the period with where it stands in the round: not yet updated
    (still its starting point, or no status at all), confirmed (saved unchanged), or changed;
    and whether its newest version was sent back. Four queries whatever the size."""
    listing = readmodel.list_activities(session, programme_id, period)
    starting = readmodel.starting_points(session, period.id)
    marks = readmodel.review_marks(session, period.id)
    items = []
    for row in listing.rows:
        if row.version is None or readmodel.unconfirmed(row.source):
            progress = NOT_UPDATED
        elif starting.get(row.id) == (row.status, row.explanation):
            progress = CONFIRMED
        else:
            progress = CHANGED
        mark = marks.get(row.id)
        sent_back = mark is not None and mark.sent_back
        items.append(
            RoundItem(row, progress, sent_back, mark.comment if mark and sent_back else "")
        )
    return items


def progress_by_organisation(items: list[RoundItem]) -> list[OrganisationProgress]:
    """Per organisation (lead or involved), its activities in the round, by name."""
    found: dict[str, OrganisationProgress] = {}
    for item in items:
        for organisation in item.row.organisations:
            found.setdefault(
                organisation.code, OrganisationProgress(organisation.code, organisation.name, [])
            ).items.append(item)
    return sorted(found.values(), key=lambda progress: progress.name.lower())


def items_for(items: list[RoundItem], organisation_ids: frozenset[int]) -> list[RoundItem]:
    """The activities one of these organisations leads or is involved in."""
    return [
        item
        for item in items
        if any(organisation.id in organisation_ids for organisation in item.row.organisations)
    ]


# -- publishing: what the report would say ----------------------------------------------------


@dataclass
class PublicationCheck:
    """What publishing the period now would put in its report: per activity (and per
    organisation that leads it or is involved in it) whether it was updated for the period,
    and which proposals were not approved, so do not count (the report shows the version
    before them). The confirmation page shows it; the service refuses to publish without
    the coordinator's choice on it."""

    items: list[RoundItem]
    organisations: list[OrganisationProgress]
    # A correction: per activity, the version its report published (else empty).
    published_versions: dict[int, int] = field(default_factory=dict)
    correction: bool = False

    def count(self, progress: str) -> int:
        return sum(1 for item in self.items if item.progress == progress)

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def corrected_items(self) -> list[RoundItem]:
        """In a correction: the activities whose counted version is no longer the one the
        report published (republishing changes them in the public report)."""
        return [
            item
            for item in self.items
            if item.row.approved_version is not None
            and item.row.approved_version != self.published_versions.get(item.row.id)
        ]

    @property
    def corrected(self) -> int:
        return len(self.corrected_items)

    @property
    def not_updated(self) -> int:
        return self.count(NOT_UPDATED)

    @property
    def not_updated_items(self) -> list[RoundItem]:
        return [item for item in self.items if item.progress == NOT_UPDATED]

    @property
    def unapproved_items(self) -> list[RoundItem]:
        return [item for item in self.items if item.row.awaiting_review]

    @property
    def unapproved(self) -> int:
        return len(self.unapproved_items)

    def refusal(self, *, accept_not_updated: int, accept_unapproved: int) -> str:
        """Why publishing with this choice is refused ("" when it is not). The choice is
        the numbers the coordinator accepted; fewer now is fine, more needs a new look."""
        problems = []
        if self.not_updated > accept_not_updated:
            if accept_not_updated:
                problems.append(
                    gettext(
                        "Since you looked, the number of activities not updated went from "
                        "%(seen)d to %(count)d. Look at the counts again."
                    )
                    % {"seen": accept_not_updated, "count": self.not_updated}
                )
            else:
                problems.append(
                    ngettext(
                        "%(num)d activity was not updated for this period: its text is still "
                        "the previous period's. Tick that you publish with it, or reopen the "
                        "round.",
                        "%(num)d activities were not updated for this period: their text is "
                        "still the previous period's. Tick that you publish with them, or "
                        "reopen the round.",
                        self.not_updated,
                    )
                    % {"num": self.not_updated}
                )
        if self.unapproved > accept_unapproved:
            if accept_unapproved:
                problems.append(
                    gettext(
                        "Since you looked, the number of proposals not approved went from "
                        "%(seen)d to %(count)d. Look at the counts again."
                    )
                    % {"seen": accept_unapproved, "count": self.unapproved}
                )
            else:
                problems.append(
                    ngettext(
                        "%(num)d proposal was not approved: it will not count, the report "
                        "shows the version before it. Tick that you publish without it, or "
                        "review it first.",
                        "%(num)d proposals were not approved: they will not count, the report "
                        "shows the version before each. Tick that you publish without them, "
                        "or review them first.",
                        self.unapproved,
                    )
                    % {"num": self.unapproved}
                )
        return " ".join(problems)

    def details(self) -> dict[str, object]:
        """The counts as the audit log records them with the publication."""
        if self.correction:
            return {
                "activities": self.total,
                "corrected": self.corrected,
                "not_approved": self.unapproved,
            }
        return {
            "activities": self.total,
            NOT_UPDATED: self.not_updated,
            CONFIRMED: self.count(CONFIRMED),
            CHANGED: self.count(CHANGED),
            "not_approved": self.unapproved,
            "by_organisation": {
                organisation.code: {
                    NOT_UPDATED: organisation.count(NOT_UPDATED),
                    CONFIRMED: organisation.count(CONFIRMED),
                    CHANGED: organisation.count(CHANGED),
                }
                for organisation in self.organisations
            },
        }


def publication_refusal(
    session: Session,
    *,
    period: ReportingPeriod,
    check: PublicationCheck | None = None,
    accept_not_updated: int = 0,
    accept_unapproved: int = 0,
) -> str:
    """Why publishing (or republishing) `period` now is refused ("" when it is not), the one
    answer `move_period` and the pages that offer the step ask. A progress period: what the
    coordinator did not accept of its publication check (`PublicationCheck.refusal`; the
    confirmation page lets them accept it). A monitor edition: its figure versions the
    four-eyes review has not approved, which nobody can accept away (the public site shows a
    published edition's current versions); reviewing them is the way on. Either kind: the
    recommendations' follow-ups of the period the review has not approved (publication
    freezes them), which nobody can accept away either."""
    if PeriodKind(period.kind) == PeriodKind.progress:
        check = check or publication_check(session, period=period)
        refusal = check.refusal(
            accept_not_updated=accept_not_updated, accept_unapproved=accept_unapproved
        )
    else:
        waiting = len(figure_review.unapproved_of_period(session, id_of(period)))
        refusal = (
            ngettext(
                "%(num)d figure version was not approved. Review it before publishing.",
                "%(num)d figure versions were not approved. Review them before publishing.",
                waiting,
            )
            % {"num": waiting}
            if waiting
            else ""
        )
    return refusal or _follow_up_refusal(session, period)


def _follow_up_refusal(session: Session, period: ReportingPeriod) -> str:
    waiting = len(follow_up_review.unapproved_of_period(session, id_of(period)))
    if not waiting:
        return ""
    return ngettext(
        "%(num)d follow-up of a recommendation was not approved. Review it before publishing.",
        "%(num)d follow-ups of recommendations were not approved. Review them before publishing.",
        waiting,
    ) % {"num": waiting}


def period_row(period: ReportingPeriod) -> readmodel.PeriodRow:
    return readmodel.PeriodRow(
        id_of(period),
        period.name,
        period.reference_date,
        PeriodState(period.state),
        period.deadline,
    )


def publication_check(session: Session, *, period: ReportingPeriod) -> PublicationCheck:
    """Where every activity of the period stands before it is published (four queries; a
    correction five)."""
    items = round_items(session, programme_id=period.programme_id, period=period_row(period))
    if period.state == PeriodState.correcting:
        return PublicationCheck(
            items,
            progress_by_organisation(items),
            readmodel.published_versions(session, id_of(period)),
            correction=True,
        )
    return PublicationCheck(items, progress_by_organisation(items))
