"""The programme model: Programme → ActionLine → Theme → Result → Activity, and organisations.

The model is programme-agnostic: nothing here knows about Samen tegen mensenhandel.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class ProgrammeBase(SQLModel):
    slug: str = Field(max_length=100, unique=True, index=True)
    name: str = Field(max_length=300)
    description: str = Field(default="", max_length=4000)


class Programme(ProgrammeBase, table=True):
    id: int | None = Field(default=None, primary_key=True)


class ActionLineBase(SQLModel):
    number: int
    title: str = Field(max_length=500)
    position: int


class ActionLine(ActionLineBase, table=True):
    __tablename__ = "action_line"
    __table_args__ = (UniqueConstraint("programme_id", "number"),)

    # Retired items keep their history; they no longer appear where they have no status.
    retired_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(
        sa_column=Column(Integer, ForeignKey("programme.id", ondelete="CASCADE"), nullable=False)
    )


class ThemeBase(SQLModel):
    title: str = Field(max_length=500)
    position: int


class Theme(ThemeBase, table=True):
    __table_args__ = (UniqueConstraint("action_line_id", "position"),)

    # Retired items keep their history; they no longer appear where they have no status.
    retired_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    id: int | None = Field(default=None, primary_key=True)
    action_line_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("action_line.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )


class ResultBase(SQLModel):
    number: int
    title: str = Field(max_length=500)
    position: int


class Result(ResultBase, table=True):
    # Text printed across the table for the result as a whole (introduction, closing remark).
    note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    # Result numbers are unique within a programme, not just within a theme. The index lets
    # the board count a programme's activities without reading its results' rows.
    __table_args__ = (
        UniqueConstraint("programme_id", "number"),
        Index(
            "ix_result_programme_id_theme_id_retired_at", "programme_id", "theme_id", "retired_at"
        ),
    )

    # Retired items keep their history; they no longer appear where they have no status.
    retired_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(
        sa_column=Column(Integer, ForeignKey("programme.id", ondelete="CASCADE"), nullable=False)
    )
    theme_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("theme.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )


class ActivityBase(SQLModel):
    # The label as printed ("1", "12", "1.1"); None for an unnumbered row.
    label: str | None = Field(default=None, max_length=20)
    title: str = Field(max_length=1000)
    position: int


class Activity(ActivityBase, table=True):
    # The index lets the board and the lists find a result's activities that are not retired
    # without reading the activities' rows (their titles make them long).
    __table_args__ = (
        UniqueConstraint("result_id", "position"),
        Index("ix_activity_result_id_retired_at", "result_id", "retired_at"),
    )

    # Retired items keep their history; they no longer appear where they have no status.
    retired_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    id: int | None = Field(default=None, primary_key=True)
    result_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("result.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )


class OrganisationBase(SQLModel):
    code: str = Field(max_length=50, unique=True, index=True)
    name: str = Field(max_length=300)


class Organisation(OrganisationBase, table=True):
    id: int | None = Field(default=None, primary_key=True)


class OrganisationRole(StrEnum):
    lead = "lead"
    involved = "involved"


class ActivityOrganisation(SQLModel, table=True):
    __tablename__ = "activity_organisation"

    activity_id: int = Field(
        sa_column=Column(Integer, ForeignKey("activity.id", ondelete="CASCADE"), primary_key=True)
    )
    organisation_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("organisation.id", ondelete="RESTRICT"),
            primary_key=True,
            index=True,
        )
    )
    role: OrganisationRole = Field(sa_column=Column(String(20), nullable=False))
