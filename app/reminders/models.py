"""Reminders planned for a period (days before its deadline) and every time reminders went out.

Both live in the database, so every app process and the command line see the same plan, and
a planned reminder is claimed once: `reminder_run` holds one row per period and due date
(a unique key), so of two processes checking at the same moment only one sends it.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from app.clock import utc_now
from app.dbtypes import EnumText

# At most this many days before the deadline (a year).
MAX_DAYS_BEFORE = 366


class ReminderSchedule(SQLModel, table=True):
    """ "Remind the editors N days before the deadline" for one period. Several per period
    (a first call and a last one); changing the deadline moves them with it."""

    __tablename__ = "reminder_schedule"
    __table_args__ = (
        UniqueConstraint("period_id", "days_before"),
        CheckConstraint(f"days_before >= 0 AND days_before <= {MAX_DAYS_BEFORE}", name="days"),
    )

    id: int | None = Field(default=None, primary_key=True)
    period_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("reporting_period.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    days_before: int = Field(sa_column=Column(Integer, nullable=False))
    created_by_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("app_user.id"), nullable=True)
    )
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class ReminderKind(StrEnum):
    """How reminders went out: a coordinator's button or the command line, or the plan."""

    manual = "manual"
    scheduled = "scheduled"


class ReminderRun(SQLModel, table=True):
    """One sending of a period's reminders and its outcome. A planned one carries the date
    it was due: (period, due date) is unique, which is how it is sent once."""

    __tablename__ = "reminder_run"
    __table_args__ = (UniqueConstraint("period_id", "due_on"),)

    id: int | None = Field(default=None, primary_key=True)
    period_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("reporting_period.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    kind: ReminderKind = Field(sa_column=Column(EnumText(ReminderKind), nullable=False))
    # A planned run: the day it was due and how many days before the deadline that was.
    due_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    days_before: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    # The job that sends a planned run (its progress and failure reason are there).
    job_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("job.id"), nullable=True)
    )
    actor: str = Field(default="", max_length=300)
    actor_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("app_user.id"), nullable=True)
    )
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    # Set when the messages went out (None: not yet, or the sending failed: see the job).
    finished_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    open_activities: int = 0
    sent: int = 0
    failed: int = 0
    without_editors: int = 0
