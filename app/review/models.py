"""Four-eyes review: the decisions and comments on proposed versions (append-only): of an
activity's status, of a monitor figure, or of a recommendation's follow-up entry."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, DateTime, ForeignKey, Integer, Text
from sqlmodel import Field, SQLModel

from app.clock import utc_now
from app.dbtypes import EnumText


class ReviewKind(StrEnum):
    approve = "approve"  # the reviewer accepts this version: it counts for the report
    send_back = "send_back"  # the reviewer returns it to the editor with a comment
    reply = "reply"  # the editor answers a returned version


class ReviewNote(SQLModel, table=True):
    """One row per decision or comment on one version: of an activity's status
    (status_update_id), of a monitor figure (figure_version_id) or of a recommendation's
    follow-up entry (recommendation_entry_id), exactly one of the three.
    Never updated or deleted (database triggers refuse it). A version's review state is its
    newest note."""

    __tablename__ = "review_note"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN status_update_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN figure_version_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN recommendation_entry_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_subject",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    status_update_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer,
            ForeignKey("status_update.id", ondelete="RESTRICT"),
            nullable=True,
            index=True,
        ),
    )
    figure_version_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer,
            ForeignKey("monitor_figure_version.id", ondelete="RESTRICT"),
            nullable=True,
            index=True,
        ),
    )
    recommendation_entry_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer,
            ForeignKey("recommendation_entry.id", ondelete="RESTRICT"),
            nullable=True,
            index=True,
        ),
    )
    kind: ReviewKind = Field(sa_column=Column(EnumText(ReviewKind), nullable=False))
    comment: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    author: str = Field(default="", max_length=200)
    author_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("app_user.id"), nullable=True)
    )
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
