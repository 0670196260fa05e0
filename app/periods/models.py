"""Reporting periods: their life (state) and the record of their moves through it (append-only)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, Date, DateTime, ForeignKey, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.activities.models import Status
from app.clock import utc_now
from app.dbtypes import EnumText


class PeriodState(StrEnum):
    """A reporting period's life: prepared, open for updates, under review, sent to Parliament,
    and, once published, being corrected (a small round of its own beside another period's
    round; the public site keeps showing the report as published until it is republished).
    Labels live in the translation catalogue."""

    draft = "draft"
    open = "open"
    in_review = "in_review"
    published = "published"
    correcting = "correcting"


class PeriodKind(StrEnum):
    """What a period reports: the programme's progress (its activities' statuses), or a
    monitor edition's key figures (app/monitor/). Both go through the same life cycle; the
    programme's progress views list only progress periods, and "one round at a time" holds
    per kind."""

    progress = "progress"
    monitor = "monitor"


class ReportingPeriodBase(SQLModel):
    name: str = Field(max_length=200)
    reference_date: date


class ReportingPeriod(ReportingPeriodBase, table=True):
    __tablename__ = "reporting_period"
    __table_args__ = (UniqueConstraint("programme_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(
        sa_column=Column(Integer, ForeignKey("programme.id", ondelete="CASCADE"), nullable=False)
    )
    state: PeriodState = Field(
        default=PeriodState.draft,
        sa_column=Column(
            EnumText(PeriodState), nullable=False, server_default=PeriodState.draft.value
        ),
    )
    kind: PeriodKind = Field(
        default=PeriodKind.progress,
        sa_column=Column(
            EnumText(PeriodKind), nullable=False, server_default=PeriodKind.progress.value
        ),
    )
    # The date by which the partners are asked to have updated their activities.
    deadline: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    published_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class PeriodTransition(SQLModel, table=True):
    """One row per move (open, to review, publish, reopen...). Never updated or deleted
    (database triggers refuse it); a reopened period shows its reasons from here."""

    __tablename__ = "period_transition"

    id: int | None = Field(default=None, primary_key=True)
    period_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("reporting_period.id", ondelete="RESTRICT"),
            nullable=False,
            index=True,
        )
    )
    from_state: PeriodState | None = Field(
        default=None, sa_column=Column(EnumText(PeriodState), nullable=True)
    )
    to_state: PeriodState = Field(sa_column=Column(EnumText(PeriodState), nullable=False))
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    actor: str = Field(default="", max_length=300)
    actor_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("app_user.id"), nullable=True)
    )
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class PublishedActivity(SQLModel, table=True):
    """The structure as it was when a period was published: where each activity it reported on
    stood (action line, theme, result, its number and titles, the order) and the version of
    its status that the report published. A published period is shown with these, so renaming,
    renumbering or moving items later changes new periods only, and a correction in progress
    (whose approved versions move on) leaves the public report as it was. Written at every
    publication of the period (a correction republishes it)."""

    __tablename__ = "published_activity"

    period_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("reporting_period.id", ondelete="CASCADE"), primary_key=True
        )
    )
    activity_id: int = Field(
        sa_column=Column(Integer, ForeignKey("activity.id", ondelete="CASCADE"), primary_key=True)
    )
    action_line_number: int
    action_line_title: str = Field(sa_column=Column(Text, nullable=False))
    action_line_position: int
    theme_title: str = Field(sa_column=Column(Text, nullable=False))
    theme_position: int
    result_number: int
    result_title: str = Field(sa_column=Column(Text, nullable=False))
    result_note: str = Field(default="", sa_column=Column(Text, nullable=False))
    result_position: int
    activity_label: str | None = Field(default=None, max_length=20)
    activity_title: str = Field(sa_column=Column(Text, nullable=False))
    activity_position: int
    # The published version (a status pointer as status_approved is, for the read-model).
    # Every publication writes it, and migration 3c5e0d9a1b27 filled it in for the snapshots
    # before it; nullable because SQLite adds a referencing column in place only so. (No
    # ON DELETE: a status update is never deleted, and SQLite does not report the option
    # of a column added in place, so the models would seem to drift.)
    status_update_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("status_update.id"), nullable=True),
    )
    version: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    status: Status | None = Field(
        default=None, sa_column=Column(EnumText(Status, 30), nullable=True)
    )
