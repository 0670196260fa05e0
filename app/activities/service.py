"""Recording a status: append-only and version-checked, when the edit policy
(activities/policy.py) says this user may change this activity in this period now."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from app.accounts.service import CurrentUser
from app.activities.models import (
    BASELINE_SOURCES,
    Status,
    StatusUpdate,
    UpdateSource,
)
from app.activities.policy import ACTIVITY_POLICY, ActivitySubject
from app.audit import service as audit
from app.audit.models import AuditAction
from app.errors import DomainError, InvalidInput, NotFound
from app.i18n import gettext
from app.ids import id_of
from app.periods.models import PeriodState, ReportingPeriod
from app.periods.service import get_period
from app.programmes.models import ActionLine, Activity, ActivityOrganisation, Result, Theme
from app.review.models import ReviewKind, ReviewNote
from app.text import normalise_newlines

MAX_EXPLANATION_LENGTH = 5000


class EditConflict(DomainError):
    """Someone saved after the version this edit was based on; nothing is overwritten."""

    status_code = 409

    def __init__(self, current: StatusUpdate) -> None:
        super().__init__(
            gettext(
                "Someone else saved this activity in the meantime (version %(version)s). "
                "Compare their text with yours and save again."
            )
            % {"version": current.version}
        )
        self.current = current


@dataclass(frozen=True)
class FieldErrors(Exception):
    """Validation problems per form field, in the user's language."""

    errors: dict[str, str]


def validate_status_form(status: str, explanation: str) -> tuple[Status, str]:
    errors: dict[str, str] = {}
    parsed: Status | None = None
    if not status:
        errors["status"] = gettext("Choose a status.")
    else:
        try:
            parsed = Status(status)
        except ValueError:
            errors["status"] = gettext("Choose a status from the legend.")
    explanation = normalise_newlines(explanation).strip()
    if not explanation:
        errors["explanation"] = gettext("Write an explanation.")
    elif len(explanation) > MAX_EXPLANATION_LENGTH:
        errors["explanation"] = gettext(
            "The explanation is %(length)d characters long; at most %(max)d are allowed."
        ) % {"length": len(explanation), "max": MAX_EXPLANATION_LENGTH}
    if errors:
        raise FieldErrors(errors)
    assert parsed is not None
    return parsed, explanation


def activity_organisation_ids(session: Session, activity_id: int) -> set[int]:
    return set(
        session.scalars(
            select(col(ActivityOrganisation.organisation_id)).where(
                col(ActivityOrganisation.activity_id) == activity_id
            )
        )
    )


def _retired_at(session: Session, activity_id: int) -> Sequence[datetime | None]:
    """When the activity, its result, theme and action line were retired (None: in use)."""
    found = session.execute(
        select(
            col(Activity.retired_at),
            col(Result.retired_at),
            col(Theme.retired_at),
            col(ActionLine.retired_at),
        )
        .join(Result, col(Result.id) == col(Activity.result_id))
        .join(Theme, col(Theme.id) == col(Result.theme_id))
        .join(ActionLine, col(ActionLine.id) == col(Theme.action_line_id))
        .where(col(Activity.id) == activity_id)
    ).first()
    if found is None:
        raise NotFound(gettext("Activity %(id)s does not exist") % {"id": activity_id})
    return tuple(found)


def is_retired(session: Session, activity_id: int) -> bool:
    """Retired itself, or under a retired result, theme or action line."""
    return any(moment is not None for moment in _retired_at(session, activity_id))


def _activity_subject(
    session: Session, activity_id: int, *, current: StatusUpdate | None = None
) -> ActivitySubject:
    """The activity as the edit policy sees it, in the period `current` is the newest
    version in (None: it has none there)."""
    retired = is_retired(session, activity_id)
    return ActivitySubject.of(
        activity_id,
        activity_organisation_ids(session, activity_id),
        # A retired activity stays part of a period it has a status in.
        retired=current is None and retired,
        sent_back=(
            current is not None
            and latest_review_kind(session, id_of(current)) == ReviewKind.send_back
        ),
    )


def ensure_can_edit(session: Session, user: CurrentUser, activity_id: int) -> None:
    """The activity exists and is this user's to change (in a period that takes changes)."""
    ACTIVITY_POLICY.access(user, _activity_subject(session, activity_id)).require()


def ensure_may_change(
    session: Session,
    *,
    activity_id: int,
    period_id: int,
    user: CurrentUser,
    current: StatusUpdate | None,
) -> ReportingPeriod:
    """The edit policy's answer for this activity in this period now, raised if it is no
    (Forbidden first, then PeriodClosed). `current` is the newest version in the period."""
    subject = _activity_subject(session, activity_id, current=current)
    ACTIVITY_POLICY.access(user, subject).require()
    period = get_period(session, period_id)
    if period.state == PeriodState.correcting and current is None:
        # A correction corrects the published report: an activity the report did not cover
        # (added since) is not part of the period.
        subject = replace(subject, retired=True)
    ACTIVITY_POLICY.require(user, subject, period)
    return period


def latest_update(session: Session, *, activity_id: int, period_id: int) -> StatusUpdate | None:
    return session.scalar(
        select(StatusUpdate)
        .where(
            col(StatusUpdate.activity_id) == activity_id,
            col(StatusUpdate.period_id) == period_id,
        )
        .order_by(col(StatusUpdate.version).desc())
        .limit(1)
    )


def latest_review_kind(session: Session, status_update_id: int) -> ReviewKind | None:
    """The newest review note on one version (None: not reviewed yet)."""
    kind = session.scalar(
        select(col(ReviewNote.kind))
        .where(col(ReviewNote.status_update_id) == status_update_id)
        .order_by(col(ReviewNote.created_at).desc(), col(ReviewNote.id).desc())
        .limit(1)
    )
    return ReviewKind(kind) if kind else None


def record_status(
    session: Session,
    *,
    activity_id: int,
    period_id: int,
    status: Status,
    explanation: str,
    author: CurrentUser,
    based_on_version: int | None,
    source: UpdateSource = UpdateSource.entered,
    address: str = "",
) -> StatusUpdate:
    """Append a new status for the activity in the period. `based_on_version` is the version
    the author saw (None: there was none); if another was saved since, EditConflict."""
    current = latest_update(session, activity_id=activity_id, period_id=period_id)
    ensure_may_change(
        session, activity_id=activity_id, period_id=period_id, user=author, current=current
    )
    current_version = current.version if current else None
    if current_version != based_on_version:
        # current is None only when the form names a version that was never saved.
        raise EditConflict(current)  # type: ignore[arg-type]
    unchanged = current and current.status == status and current.explanation == explanation
    # Saving a period's starting point unchanged confirms it; anything else must change.
    if unchanged and current is not None and current.source not in BASELINE_SOURCES:
        raise InvalidInput(gettext("Nothing changed: the status and explanation are the same."))
    update = StatusUpdate(
        activity_id=activity_id,
        period_id=period_id,
        version=(current_version or 0) + 1,
        status=status,
        explanation=explanation,
        source=source,
        author=author.name,
        author_id=author.id,
    )
    # Two saves racing past the version check collide on the unique (activity, period,
    # version) constraint: the later one becomes a conflict instead of overwriting.
    try:
        with session.begin_nested():
            session.add(update)
            session.flush()
    except IntegrityError:
        # The period may have been published between the check and the insert (a database
        # trigger refuses that); otherwise someone saved the same version first.
        ensure_may_change(
            session, activity_id=activity_id, period_id=period_id, user=author, current=current
        )
        winner = latest_update(session, activity_id=activity_id, period_id=period_id)
        assert winner is not None  # the insert collided with a saved version of this status
        raise EditConflict(winner) from None
    audit.record(
        session,
        actor=author,
        action=AuditAction.status_confirm if unchanged else AuditAction.status_update,
        object_type="activity",
        object_id=activity_id,
        summary=f"{current.status if current else '-'} → {status} (v{update.version})",
        details={
            "period_id": period_id,
            "version": update.version,
            "status": {"from": current.status if current else None, "to": status.value},
            "explanation": {"from": current.explanation if current else None, "to": explanation},
            "source": source.value,
        },
        address=address,
    )
    return update


# -- confirming unchanged ------------------------------------------------------------------


@dataclass(frozen=True)
class Confirmation:
    """An activity to confirm unchanged, with the version the editor saw."""

    activity_id: int
    based_on_version: int


class ConfirmRefused(InvalidInput):
    """A selection to confirm unchanged that was refused as a whole: nothing was confirmed.
    `problems` says per activity (by id) why."""

    def __init__(self, problems: dict[int, str], names: dict[int, str]) -> None:
        super().__init__(
            gettext("Nothing was confirmed, because:")
            + " "
            + " · ".join(
                f"{names.get(activity_id, f'#{activity_id}')}: {message}"
                for activity_id, message in problems.items()
            )
        )
        self.problems = problems
        self.names = names


def confirm_unchanged(
    session: Session,
    *,
    activity_id: int,
    period_id: int,
    based_on_version: int,
    author: CurrentUser,
    source: UpdateSource = UpdateSource.entered,
    address: str = "",
) -> StatusUpdate:
    """Confirm the period's starting point of the activity unchanged: a new version with the
    same status and explanation, through `record_status` (the edit policy, the version
    check, the audit). Refused when it was updated for the period already."""
    current = latest_update(session, activity_id=activity_id, period_id=period_id)
    ensure_may_change(
        session, activity_id=activity_id, period_id=period_id, user=author, current=current
    )
    if current is None:
        raise InvalidInput(gettext("It has no status in this period to confirm."))
    if current.version != based_on_version:
        raise EditConflict(current)
    if current.source not in BASELINE_SOURCES:
        raise InvalidInput(
            gettext("It was updated for this period already (version %(version)s).")
            % {"version": current.version}
        )
    return record_status(
        session,
        activity_id=activity_id,
        period_id=period_id,
        status=current.status,
        explanation=current.explanation,
        author=author,
        based_on_version=based_on_version,
        source=source,
        address=address,
    )


def confirm_many(
    session: Session,
    *,
    period_id: int,
    confirmations: Sequence[Confirmation],
    author: CurrentUser,
    address: str = "",
) -> list[StatusUpdate]:
    """Confirm several activities unchanged at once, each as `confirm_unchanged` does: all of
    them, or none (ConfirmRefused names every activity that cannot be confirmed, and why)."""
    if not confirmations:
        raise InvalidInput(gettext("Select at least one activity to confirm."))
    wanted = {item.activity_id: item for item in confirmations}  # each activity once
    problems: dict[int, str] = {}
    confirmed: list[StatusUpdate] = []
    with session.begin_nested() as savepoint:
        for item in wanted.values():
            try:
                confirmed.append(
                    confirm_unchanged(
                        session,
                        activity_id=item.activity_id,
                        period_id=period_id,
                        based_on_version=item.based_on_version,
                        author=author,
                        address=address,
                    )
                )
            except EditConflict as conflict:
                problems[item.activity_id] = gettext(
                    "Someone else saved it after you loaded the list (now version "
                    "%(version)s). Look at it first."
                ) % {"version": conflict.current.version}
            except DomainError as problem:
                problems[item.activity_id] = problem.message
        if problems:
            savepoint.rollback()
    if problems:
        raise ConfirmRefused(problems, activity_names(session, problems))
    return confirmed


def activity_names(session: Session, activity_ids: Iterable[int]) -> dict[int, str]:
    """The activities as people name them: "4.2 Title" (result number, label, title)."""
    return {
        activity_id: f"{number}.{label} {title}" if label else f"{number} {title}"
        for activity_id, number, label, title in session.execute(
            select(col(Activity.id), col(Result.number), col(Activity.label), col(Activity.title))
            .join(Result, col(Result.id) == col(Activity.result_id))
            .where(col(Activity.id).in_(list(activity_ids)))
        )
    }


def version_count(session: Session, activity_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(StatusUpdate)
            .where(col(StatusUpdate.activity_id) == activity_id)
        )
        or 0
    )
