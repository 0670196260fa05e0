"""The record of a reporting period's moves through its life (append-only)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, ForeignKey, Integer, Text
from sqlmodel import Field, SQLModel

from app.activities.models import utc_now
from app.db import EnumText
from app.programmes.models import PeriodState


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
    stood (action line, theme, result, its number and titles, the order). A published period
    is shown with these, so renaming, renumbering or moving items later changes new periods
    only. Written at every publication of the period (a correction republishes it)."""

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
