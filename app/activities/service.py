"""The status change rule: who may record a status, and how (append-only, version-checked)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.accounts.models import Role
from app.accounts.service import CurrentUser
from app.activities.models import BASELINE_SOURCES, Status, StatusUpdate, UpdateSource
from app.audit import service as audit
from app.errors import DomainError, Forbidden, InvalidInput, NotFound
from app.i18n import gettext
from app.periods.models import PeriodState, ReportingPeriod
from app.periods.service import PeriodClosed, get_period, published_message
from app.programmes.models import Activity, ActivityOrganisation
from app.review.models import ReviewKind, ReviewNote

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
    explanation = explanation.replace("\r\n", "\n").strip()
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
            select(ActivityOrganisation.organisation_id).where(
                ActivityOrganisation.activity_id == activity_id
            )
        )
    )


def can_edit(user: CurrentUser | None, organisation_ids: set[int]) -> bool:
    """Coordinators and admins edit everything; an editor edits the activities that one of
    their organisations leads or is involved in; viewers edit nothing."""
    if user is None:
        return False
    if user.at_least(Role.coordinator):
        return True
    return user.role == Role.editor and bool(user.organisation_ids & organisation_ids)


def ensure_can_edit(session: Session, user: CurrentUser, activity_id: int) -> None:
    if session.get(Activity, activity_id) is None:
        raise NotFound(gettext("Activity %(id)s does not exist") % {"id": activity_id})
    if not can_edit(user, activity_organisation_ids(session, activity_id)):
        raise Forbidden(
            gettext("Only editors of the organisations carrying out this activity may change it.")
        )


def latest_update(session: Session, *, activity_id: int, period_id: int) -> StatusUpdate | None:
    return session.scalar(
        select(StatusUpdate)
        .where(StatusUpdate.activity_id == activity_id, StatusUpdate.period_id == period_id)
        .order_by(StatusUpdate.version.desc())
        .limit(1)
    )


def latest_review_kind(session: Session, status_update_id: int) -> ReviewKind | None:
    """The newest review note on one version (None: not reviewed yet)."""
    kind = session.scalar(
        select(ReviewNote.kind)
        .where(ReviewNote.status_update_id == status_update_id)
        .order_by(ReviewNote.created_at.desc(), ReviewNote.id.desc())
        .limit(1)
    )
    return ReviewKind(kind) if kind else None


def ensure_period_accepts(
    session: Session, *, period_id: int, user: CurrentUser, current: StatusUpdate | None
) -> ReportingPeriod:
    """Statuses change only while a period is open for updates; during review only the
    coordinators change them, and editors answer what was sent back to them."""
    period = get_period(session, period_id)
    if period.state == PeriodState.published:
        raise PeriodClosed(published_message(period.name))
    if period.state == PeriodState.draft:
        raise PeriodClosed(
            gettext("%(period)s has not been opened for updates yet.") % {"period": period.name}
        )
    if period.state == PeriodState.in_review and not user.at_least(Role.coordinator):
        sent_back = (
            current is not None and latest_review_kind(session, current.id) == ReviewKind.send_back  # type: ignore[arg-type]
        )
        if not sent_back:
            raise PeriodClosed(
                gettext(
                    "The update round of %(period)s is closed for review; only activities sent "
                    "back to you can still be changed."
                )
                % {"period": period.name}
            )
    return period


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
    ensure_can_edit(session, author, activity_id)
    current = latest_update(session, activity_id=activity_id, period_id=period_id)
    ensure_period_accepts(session, period_id=period_id, user=author, current=current)
    current_version = current.version if current else None
    if current_version != based_on_version:
        raise EditConflict(current)  # type: ignore[arg-type]
    unchanged = current and current.status == status and current.explanation == explanation
    # Saving a period's starting point unchanged confirms it; anything else must change.
    if unchanged and current.source not in BASELINE_SOURCES:  # type: ignore[union-attr]
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
        ensure_period_accepts(session, period_id=period_id, user=author, current=current)
        winner = latest_update(session, activity_id=activity_id, period_id=period_id)
        raise EditConflict(winner) from None  # type: ignore[arg-type]
    audit.record(
        session,
        actor=author,
        action="status.confirm" if unchanged else "status.update",
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


def version_count(session: Session, activity_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(StatusUpdate)
            .where(StatusUpdate.activity_id == activity_id)
        )
        or 0
    )
