"""The audit log: who changed what, when and from where. Append-only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, DateTime, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel

from app.clock import utc_now


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_at", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    actor_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("app_user.id", ondelete="SET NULL"), nullable=True),
    )
    # The actor as they were at the time (name and e-mail), kept if the account changes.
    actor: str = Field(max_length=300)
    action: str = Field(max_length=60, index=True)
    object_type: str = Field(max_length=60)
    object_id: str = Field(default="", max_length=60)
    summary: str = Field(default="", max_length=1000)
    details: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    address: str = Field(default="", max_length=100)
