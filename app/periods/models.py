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
