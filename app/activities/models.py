"""Status updates: the append-only record of an activity's status per reporting period."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.clock import utc_now
from app.dbtypes import EnumText


class Status(StrEnum):
    """The programme legend, in its own order. Labels live in the translation catalogue."""

    completed = "completed"
    ongoing = "ongoing"
    on_schedule = "on_schedule"
    delayed = "delayed"
    not_started = "not_started"
    in_consultation = "in_consultation"
    not_applicable = "not_applicable"


STATUS_ORDER: tuple[Status, ...] = tuple(Status)


class UpdateSource(StrEnum):
    entered = "entered"
    imported = "imported"
    derived = "derived"
    # Opening a period copies each activity's last counted status as its starting point.
    carried_over = "carried_over"


# Sources that are a period's starting point rather than a proposal: they count without review.
BASELINE_SOURCES = (UpdateSource.derived, UpdateSource.carried_over)


class StatusUpdateBase(SQLModel):
    status: Status = Field(sa_column=Column(EnumText(Status, 30), nullable=False))
    explanation: str = Field(default="", sa_column=Column(Text, nullable=False))


class StatusUpdate(StatusUpdateBase, table=True):
    """One row per change. Rows are never updated or deleted (database triggers refuse it);
    the current state of an activity in a period is its row with the highest version."""

    __tablename__ = "status_update"
    __table_args__ = (
        UniqueConstraint("activity_id", "period_id", "version"),
        Index("ix_status_update_period_activity", "period_id", "activity_id", "version"),
    )

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(
        sa_column=Column(Integer, ForeignKey("activity.id", ondelete="RESTRICT"), nullable=False)
    )
    period_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("reporting_period.id", ondelete="RESTRICT"), nullable=False
        )
    )
    version: int
    source: UpdateSource = Field(sa_column=Column(String(20), nullable=False))
    # The author's name at the time of writing; author_id links the account, if any
    # (accounts are deactivated, never deleted).
    author: str = Field(default="", max_length=200)
    author_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("app_user.id"), nullable=True)
    )
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class StatusCurrent(SQLModel, table=True):
    """The latest status update of each activity in each period: a pointer kept by a database
    trigger on every insert into status_update (so no code path can forget it). Lists and
    counts read it instead of searching each activity's history."""

    __tablename__ = "status_current"
    __table_args__ = (Index("ix_status_current_period_status", "period_id", "status"),)

    activity_id: int = Field(
        sa_column=Column(Integer, ForeignKey("activity.id", ondelete="RESTRICT"), primary_key=True)
    )
    period_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("reporting_period.id", ondelete="RESTRICT"), primary_key=True
        )
    )
    status_update_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("status_update.id", ondelete="RESTRICT"), nullable=False
        )
    )
    version: int
    status: Status = Field(sa_column=Column(EnumText(Status, 30), nullable=False))


class StatusApproved(SQLModel, table=True):
    """The update of each activity in each period that counts for the report: the newest one
    that was approved by a reviewer, or the period's starting point (a derived or carried-over
    status). Kept by database triggers on inserts into status_update and review_note; a
    published period shows these."""

    __tablename__ = "status_approved"
    __table_args__ = (Index("ix_status_approved_period_status", "period_id", "status"),)

    activity_id: int = Field(
        sa_column=Column(Integer, ForeignKey("activity.id", ondelete="RESTRICT"), primary_key=True)
    )
    period_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("reporting_period.id", ondelete="RESTRICT"), primary_key=True
        )
    )
    status_update_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("status_update.id", ondelete="RESTRICT"), nullable=False
        )
    )
    version: int
    status: Status = Field(sa_column=Column(EnumText(Status, 30), nullable=False))
