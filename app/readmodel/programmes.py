"""Programmes, their reporting periods, and the choices the filters offer."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlmodel import Session, col

from app.errors import NotFound
from app.i18n import gettext
from app.periods.models import PeriodKind, PeriodState, ReportingPeriod
from app.programmes.models import ActionLine, Activity, Organisation, Programme, Result
from app.readmodel.queries import connection, primary_key
from app.readmodel.rows import ActionLineOption, OrganisationOption, PeriodRow, ProgrammeRow

_PROGRAMME = select(
    primary_key(Programme.id), col(Programme.slug), col(Programme.name), col(Programme.description)
)
# The statements every page runs are built once, with their values as parameters: building
# one (and its cache key) costs more than SQLite takes to run it.
_PROGRAMME_BY_SLUG = _PROGRAMME.where(col(Programme.slug) == bindparam("slug"))
_PROGRAMMES = _PROGRAMME.order_by(col(Programme.name))
_PERIODS = (
    select(
        primary_key(ReportingPeriod.id),
        col(ReportingPeriod.name),
        col(ReportingPeriod.reference_date),
        col(ReportingPeriod.state),
        col(ReportingPeriod.deadline),
    )
    .where(
        col(ReportingPeriod.programme_id) == bindparam("programme_id"),
        col(ReportingPeriod.kind) == PeriodKind.progress.value,
    )
    .order_by(col(ReportingPeriod.reference_date).desc(), col(ReportingPeriod.id).desc())
)
_ACTION_LINES = (
    select(col(ActionLine.number), col(ActionLine.title))
    .where(
        col(ActionLine.programme_id) == bindparam("programme_id"),
        col(ActionLine.retired_at).is_(None),
    )
    .order_by(col(ActionLine.position))
)
_ORGANISATIONS = select(col(Organisation.code), col(Organisation.name)).order_by(
    col(Organisation.name)
)


def get_programme(session: Session, slug: str) -> ProgrammeRow:
    row = connection(session).execute(_PROGRAMME_BY_SLUG, {"slug": slug}).first()
    if row is None:
        raise NotFound(gettext("Programme %(slug)s does not exist") % {"slug": slug})
    return ProgrammeRow(*row)


def list_programmes(session: Session) -> list[ProgrammeRow]:
    rows = connection(session).execute(_PROGRAMMES)
    return [ProgrammeRow(*row) for row in rows]


def programme_of_activity(session: Session, activity_id: int) -> ProgrammeRow:
    row = (
        connection(session)
        .execute(
            _PROGRAMME.join(Result, col(Result.programme_id) == Programme.id)
            .join(Activity, col(Activity.result_id) == Result.id)
            .where(col(Activity.id) == activity_id)
        )
        .first()
    )
    if row is None:
        raise NotFound(gettext("Activity %(id)s does not exist") % {"id": activity_id})
    return ProgrammeRow(*row)


def programme_of_period(session: Session, period_id: int) -> ProgrammeRow:
    row = (
        connection(session)
        .execute(
            _PROGRAMME.join(
                ReportingPeriod, col(ReportingPeriod.programme_id) == Programme.id
            ).where(col(ReportingPeriod.id) == period_id)
        )
        .first()
    )
    if row is None:
        raise NotFound(gettext("Reporting period %(id)s does not exist") % {"id": period_id})
    return ProgrammeRow(*row)


def list_periods(session: Session, programme_id: int) -> list[PeriodRow]:
    rows = connection(session).execute(_PERIODS, {"programme_id": programme_id})
    return [
        PeriodRow(id, name, reference_date, PeriodState(state), deadline)
        for id, name, reference_date, state, deadline in rows
    ]


def find_period(periods: list[PeriodRow], period_id: int) -> PeriodRow:
    """The requested period; NotFound when it is not one of these."""
    for period in periods:
        if period.id == period_id:
            return period
    raise NotFound(
        gettext("Reporting period %(id)s does not exist in this programme") % {"id": period_id}
    )


def choose_period(periods: list[PeriodRow], period_id: int | None) -> PeriodRow | None:
    """The requested period, or the most recent one."""
    if period_id is not None:
        return find_period(periods, period_id)
    # A draft is still being prepared: the most recent period that has started is the default.
    started = [period for period in periods if period.state != PeriodState.draft]
    if started:
        return started[0]
    return periods[0] if periods else None


def list_action_lines(session: Session, programme_id: int) -> list[ActionLineOption]:
    """The action lines in use (not retired), for the filter."""
    rows = connection(session).execute(_ACTION_LINES, {"programme_id": programme_id})
    return [ActionLineOption(number, title) for number, title in rows]


def list_organisations(session: Session) -> list[OrganisationOption]:
    """Organisations, for the filter (a small table: cheaper than working out which ones the
    programme's activities name)."""
    rows = connection(session).execute(_ORGANISATIONS)
    return [OrganisationOption(code, name) for code, name in rows]
