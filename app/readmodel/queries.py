"""The read-model's statements: which activities a period shows, where each stands in the
structure, their shown status, the filters and the full-text search.

The statements are built once (building them costs more than running them) and take the
period and the programme as parameters when they run, which also lets SQLAlchemy reuse their
compiled form. They are run on the session's connection: SQLAlchemy Core skips the ORM's
per-statement work, which matters on the hottest pages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any, Literal, TypeAlias, cast

from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    Connection,
    Select,
    String,
    and_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    text,
    type_coerce,
)
from sqlalchemy.orm import Mapped, aliased
from sqlmodel import Session, col

from app.activities.models import Status, StatusApproved, StatusUpdate, UpdateSource
from app.dbtypes import EnumText
from app.periods.models import PeriodState, PublishedActivity
from app.programmes.models import (
    ActionLine,
    Activity,
    ActivityOrganisation,
    Organisation,
    Result,
    Theme,
)
from app.readmodel.rows import ActivityFilters, PeriodRow
from app.readmodel.status import status_pointer


def connection(session: Session) -> Connection:
    """The session's connection (same transaction), for plain row queries."""
    return session.connection()


def primary_key(column: int | None) -> Mapped[int]:
    """A model's id column, typed as read back: never None (the models declare it optional
    because a new object has none until it is flushed)."""
    return cast("Mapped[int]", col(column))


def published(period: PeriodRow | None) -> bool:
    return period is not None and period.published


def parameters(period: PeriodRow | None, **others: int) -> dict[str, Any]:
    """The parameters of a statement below for this period."""
    return {"period_id": period.id if period else None, **others}


# The period every statement below is about, given when it runs.
PERIOD: BindParameter[int] = bindparam("period_id")
PROGRAMME: BindParameter[int] = bindparam("programme_id")
# How a period's statements are built: its activities as they are now ("live"), as its
# report published them ("published"), or being corrected: the report's activities where they
# stood at publication, with their newest versions ("correcting").
View: TypeAlias = Literal["live", "published", "correcting"]
# Stands for every period of a view when a statement is built for all of them.
_VIEW_PERIODS: dict[View, PeriodRow | None] = {
    "live": None,
    "published": PeriodRow(0, "", date.min, PeriodState.published),
    "correcting": PeriodRow(0, "", date.min, PeriodState.correcting),
}


def view_of(period: PeriodRow | None) -> View:
    if period is not None and period.published:
        return "published"
    if period is not None and period.correcting:
        return "correcting"
    return "live"


def _period_for(view: View) -> PeriodRow | None:
    return _VIEW_PERIODS[view]


def shown_status_join(period: PeriodRow | None) -> ColumnElement[bool]:
    """Outer-join condition for an activity's shown status in the period."""
    pointer = status_pointer(period)
    return and_(col(pointer.activity_id) == Activity.id, col(pointer.period_id) == PERIOD)


_TOKEN = re.compile(r"\w+", re.UNICODE)


def search_words(query: str) -> list[str]:
    return _TOKEN.findall(query)


def search_match(words: list[str]) -> str:
    """The words as an FTS5 query (SQLite): each a quoted prefix term, so that user input
    never reaches FTS5 syntax."""
    return " ".join('"' + word.replace('"', '""') + '"*' for word in words)


def search_terms(words: list[str]) -> str:
    """The words as a tsquery (PostgreSQL): every word as a prefix."""
    return " & ".join(word + ":*" for word in words)


def _search_condition(dialect: str, period: PeriodRow | None) -> ColumnElement[bool]:
    """Full-text match on the activity title or on its shown explanation in the period, for
    the words given when it runs (`search_parameters`)."""
    pointer = status_pointer(period)
    if dialect == "sqlite":
        in_title = col(Activity.id).in_(
            select(literal_column("rowid"))
            .select_from(text("activity_fts"))
            .where(text("activity_fts MATCH :title_match"))
        )
        in_explanation = col(pointer.status_update_id).in_(
            select(literal_column("rowid"))
            .select_from(text("status_update_fts"))
            .where(text("status_update_fts MATCH :explanation_match"))
        )
        return or_(in_title, in_explanation)
    ts_query = func.to_tsquery("dutch", bindparam("search_terms", type_=String))
    title_matches: ColumnElement[bool] = func.to_tsvector("dutch", Activity.title).op("@@")(
        ts_query
    )
    in_explanation = col(pointer.status_update_id).in_(
        select(col(StatusUpdate.id)).where(
            col(StatusUpdate.period_id) == PERIOD,
            func.to_tsvector("dutch", StatusUpdate.explanation).op("@@")(ts_query),
        )
    )
    return or_(title_matches, in_explanation)


def visible_in_period(period: PeriodRow | None) -> ColumnElement[bool]:
    """A published period shows exactly the activities it reported on (an activity added
    later has no status there; one retired later still has), and so does one being corrected
    (its statement joins the snapshot as its structure). A period in progress shows the
    activities that are not retired (nor anything above them), and any that has a status in it.
    """
    pointer = status_pointer(period)
    if published(period):
        return col(pointer.activity_id).is_not(None)
    snapshot = structure(period).snapshot
    if snapshot is not None:
        return col(snapshot.activity_id).is_not(None)
    return or_(
        and_(
            col(Activity.retired_at).is_(None),
            col(Result.retired_at).is_(None),
            col(Theme.retired_at).is_(None),
            col(ActionLine.retired_at).is_(None),
        ),
        col(pointer.activity_id).is_not(None),
    )


# A column of the structure: a model's column, or the published snapshot's beside it.
StructureColumn: TypeAlias = "ColumnElement[Any] | Mapped[Any]"


@dataclass(frozen=True)
class Structure:
    """Where an activity stands in the structure, as a period shows it: a published period
    (also while it is being corrected) as it was at publication (the snapshot in
    published_activity), any other as it is now."""

    snapshot: type[PublishedActivity] | None
    line_number: StructureColumn
    line_title: StructureColumn
    line_position: StructureColumn
    theme_title: StructureColumn
    theme_position: StructureColumn
    result_number: StructureColumn
    result_title: StructureColumn
    result_note: StructureColumn
    result_position: StructureColumn
    label: StructureColumn
    title: StructureColumn
    position: StructureColumn

    @property
    def order(self) -> tuple[StructureColumn, ...]:
        return (self.line_position, self.theme_position, self.result_position, self.position)

    def join(self, statement: Select[*tuple[Any, ...]]) -> Select[*tuple[Any, ...]]:
        if self.snapshot is None:
            return statement
        return statement.outerjoin(
            self.snapshot,
            and_(
                col(self.snapshot.period_id) == PERIOD,
                col(self.snapshot.activity_id) == Activity.id,
            ),
        )


# Where an activity stands in the structure: each published_activity column (the snapshot
# taken at publication, app/periods/service.py) and the live column it records.
STRUCTURE_COLUMNS: tuple[tuple[str, StructureColumn], ...] = (
    ("action_line_number", col(ActionLine.number)),
    ("action_line_title", col(ActionLine.title)),
    ("action_line_position", col(ActionLine.position)),
    ("theme_title", col(Theme.title)),
    ("theme_position", col(Theme.position)),
    ("result_number", col(Result.number)),
    ("result_title", col(Result.title)),
    ("result_note", col(Result.note)),
    ("result_position", col(Result.position)),
    ("activity_label", col(Activity.label)),
    ("activity_title", col(Activity.title)),
    ("activity_position", col(Activity.position)),
)


def _build_structure(is_published: bool) -> Structure:
    live = [column for _, column in STRUCTURE_COLUMNS]
    if not is_published:
        return Structure(None, *live)
    snapshot = aliased(PublishedActivity, name="snapshot")
    recorded = [getattr(snapshot, name) for name, _ in STRUCTURE_COLUMNS]
    # The snapshot wins; the live structure only fills in for a period without one.
    columns = [
        func.coalesce(then, now).label(f"s{index}")
        for index, (then, now) in enumerate(zip(recorded, live, strict=True))
    ]
    return Structure(snapshot, *columns)


_LIVE_STRUCTURE = _build_structure(is_published=False)
_PUBLISHED_STRUCTURE = _build_structure(is_published=True)


def structure(period: PeriodRow | None) -> Structure:
    """The structure columns for the period, built once."""
    return _PUBLISHED_STRUCTURE if period is not None and period.reported else _LIVE_STRUCTURE


def joined_structure(
    statement: Select[*tuple[Any, ...]], period: PeriodRow | None
) -> Select[*tuple[Any, ...]]:
    """A statement from Activity, joined to its result, theme, action line and shown status."""
    return (
        statement.join(Result, col(Result.id) == Activity.result_id)
        .join(Theme, col(Theme.id) == Result.theme_id)
        .join(ActionLine, col(ActionLine.id) == Theme.action_line_id)
        .outerjoin(status_pointer(period), shown_status_join(period))
    )


# The approved version beside the shown one (an alias of its own beside the shown pointer).
_APPROVED = aliased(StatusApproved, name="approved")


@cache
def _activity_ids_base(view: View) -> Select[*tuple[Any, ...]]:
    """The ids of the activities a period shows, in programme order."""
    period = _period_for(view)
    shape = structure(period)
    return (
        shape.join(joined_structure(select(col(Activity.id)), period))
        .where(col(Result.programme_id) == PROGRAMME, visible_in_period(period))
        .order_by(*shape.order)
    )


# Which filters a statement has (statuses, action line, result, organisation, search words):
# the statement is built once for each such shape, with the filters' values as parameters.
FilterShape: TypeAlias = tuple[bool, bool, bool, bool, bool]


def filter_shape(filters: ActivityFilters) -> FilterShape:
    return (
        bool(filters.statuses),
        filters.action_line is not None,
        filters.result is not None,
        bool(filters.organisation),
        bool(search_words(filters.query)),
    )


def filter_parameters(dialect: str, filters: ActivityFilters) -> dict[str, Any]:
    """The values of the filters, for a statement of `filtered_activity_ids` or
    `whole_table_select`."""
    values: dict[str, Any] = {}
    if filters.statuses:
        values["statuses"] = [status.value for status in filters.statuses]
    if filters.action_line is not None:
        values["action_line"] = filters.action_line
    if filters.result is not None:
        values["result"] = filters.result
    if filters.organisation:
        values["organisation"] = filters.organisation
    words = search_words(filters.query)
    if words and dialect == "sqlite":
        values["title_match"] = values["explanation_match"] = search_match(words)
    elif words:
        values["search_terms"] = search_terms(words)
    return values


def _filter_conditions(dialect: str, view: View, shape: FilterShape) -> list[ColumnElement[bool]]:
    """The filters as conditions on a statement that joins the activity's structure and its
    shown status (the ids statement and the whole-table statement both do)."""
    period = _period_for(view)
    pointer = status_pointer(period)
    columns = structure(period)
    statuses, action_line, result, organisation, search = shape
    conditions: list[ColumnElement[bool]] = []
    if statuses:
        conditions.append(col(pointer.status).in_(bindparam("statuses", expanding=True)))
    if action_line:
        conditions.append(columns.line_number == bindparam("action_line"))
    if result:
        conditions.append(columns.result_number == bindparam("result"))
    if organisation:
        conditions.append(
            col(Activity.id).in_(
                select(col(ActivityOrganisation.activity_id))
                .join(Organisation, col(Organisation.id) == ActivityOrganisation.organisation_id)
                .where(col(Organisation.code) == bindparam("organisation"))
            )
        )
    if search:
        conditions.append(_search_condition(dialect, period))
    return conditions


def dialect_of(session: Session) -> str:
    return session.get_bind().dialect.name


@cache
def _filtered_ids_for(dialect: str, view: View, shape: FilterShape) -> Select[*tuple[Any, ...]]:
    statement = _activity_ids_base(view)
    conditions = _filter_conditions(dialect, view, shape)
    return statement.where(*conditions) if conditions else statement


@cache
def _page_ids_for(dialect: str, view: View, shape: FilterShape) -> Select[*tuple[Any, ...]]:
    return (
        _filtered_ids_for(dialect, view, shape)
        .order_by(col(Activity.id))
        # BIGINT: a page far past the end (the API takes any page number) is an offset over
        # 2**31, which PostgreSQL refuses as an INTEGER parameter ("integer out of range").
        .limit(bindparam("page_limit", type_=BigInteger))
        .offset(bindparam("page_offset", type_=BigInteger))
    )


def page_of_activity_ids(
    session: Session, period: PeriodRow | None, filters: ActivityFilters
) -> Select[*tuple[Any, ...]]:
    """One page of `filtered_activity_ids`, in a stable order (the id after the positions):
    `page_limit` ids from `page_offset`, given when it runs."""
    return _page_ids_for(dialect_of(session), view_of(period), filter_shape(filters))


def filtered_activity_ids(
    session: Session, period: PeriodRow | None, filters: ActivityFilters
) -> Select[*tuple[Any, ...]]:
    """The ids of the matching activities, in programme order (the filters' values:
    `filter_parameters`)."""
    return _filtered_ids_for(dialect_of(session), view_of(period), filter_shape(filters))


# The shown status's codes read back as enum members (a dictionary lookup per value).
_STATUS = type_coerce(StatusUpdate.status, EnumText(Status, 30))
_SOURCE = type_coerce(StatusUpdate.source, EnumText(UpdateSource))


@cache
def _activity_select_for(view: View) -> Select[*tuple[Any, ...]]:
    """Activities with their place in the structure and their shown status, in order: the
    columns of rows.ActivityRecord, in its order. In a published period the shown version is
    the approved one (as it was published)."""
    period = _period_for(view)
    pointer = status_pointer(period)
    shape = structure(period)
    approved_version = col(pointer.version) if view == "published" else col(_APPROVED.version)
    statement = (
        select(
            primary_key(Activity.id),
            shape.line_number,
            shape.line_title,
            primary_key(Theme.id),
            shape.theme_title,
            shape.result_number,
            shape.result_title,
            shape.result_note,
            shape.label,
            shape.title,
            _STATUS,
            col(StatusUpdate.explanation),
            col(StatusUpdate.version),
            _SOURCE,
            col(StatusUpdate.created_at),
            approved_version,
        )
        .join(Result, col(Result.id) == Activity.result_id)
        .join(Theme, col(Theme.id) == Result.theme_id)
        .join(ActionLine, col(ActionLine.id) == Theme.action_line_id)
        .outerjoin(pointer, shown_status_join(period))
        .outerjoin(StatusUpdate, col(StatusUpdate.id) == pointer.status_update_id)
    )
    if view != "published":
        statement = statement.outerjoin(
            _APPROVED,
            and_(col(_APPROVED.activity_id) == Activity.id, col(_APPROVED.period_id) == PERIOD),
        )
    return shape.join(statement).order_by(*shape.order)


def activity_select(period: PeriodRow | None) -> Select[*tuple[Any, ...]]:
    return _activity_select_for(view_of(period))


# The activities of a list of ids (a page of a list): one expanding parameter, so the statement
# is built and compiled once, not per request with a bound literal per id.
ACTIVITY_IDS: BindParameter[list[int]] = bindparam("activity_ids", expanding=True)


@cache
def _listed_select_for(view: View) -> Select[*tuple[Any, ...]]:
    return _activity_select_for(view).where(col(Activity.id).in_(ACTIVITY_IDS))


def listed_activity_select(period: PeriodRow | None) -> Select[*tuple[Any, ...]]:
    """The rows of the activities `activity_ids` (given when it runs) in the period."""
    return _listed_select_for(view_of(period))


@cache
def _whole_table_for(view: View) -> Select[*tuple[Any, ...]]:
    """Every activity a period shows, with its status, in programme order: the statement
    behind the unpaged list and the exports."""
    return _activity_select_for(view).where(
        col(Result.programme_id) == PROGRAMME, visible_in_period(_period_for(view))
    )


@cache
def _whole_table_filtered(dialect: str, view: View, shape: FilterShape) -> Select[*tuple[Any, ...]]:
    statement = _whole_table_for(view)
    conditions = _filter_conditions(dialect, view, shape)
    return statement.where(*conditions) if conditions else statement


def whole_table_select(
    session: Session, period: PeriodRow | None, filters: ActivityFilters
) -> Select[*tuple[Any, ...]]:
    """(The filters' values: `filter_parameters`.)"""
    return _whole_table_filtered(dialect_of(session), view_of(period), filter_shape(filters))


# Lead first, then alphabetical.
ORGANISATION_LINKS = (
    select(
        col(ActivityOrganisation.activity_id),
        primary_key(Organisation.id),
        col(Organisation.code),
        col(Organisation.name),
        col(ActivityOrganisation.role),
    )
    .join(Organisation, col(Organisation.id) == ActivityOrganisation.organisation_id)
    .order_by(col(ActivityOrganisation.role).desc(), col(Organisation.code))
)
PROGRAMME_ORGANISATION_LINKS = (
    ORGANISATION_LINKS.join(Activity, col(Activity.id) == ActivityOrganisation.activity_id)
    .join(Result, col(Result.id) == Activity.result_id)
    .where(col(Result.programme_id) == PROGRAMME)
)
# The organisation links of the activities `activity_ids` (given when it runs).
LISTED_ORGANISATION_LINKS = ORGANISATION_LINKS.where(
    col(ActivityOrganisation.activity_id).in_(ACTIVITY_IDS)
)
