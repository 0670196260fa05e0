"""Response models of the JSON API (they document the OpenAPI schema)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from app.activities.models import Status, UpdateSource
from app.periods.models import PeriodState
from app.text import Text


class PeriodOut(BaseModel):
    id: int
    name: str
    reference_date: date
    state: PeriodState
    deadline: date | None = None


class ProgrammeOut(BaseModel):
    slug: str
    name: str
    description: str
    periods: list[PeriodOut]


class ActionLineRef(BaseModel):
    number: int
    title: str


class ResultRef(BaseModel):
    number: int
    title: str


class OrganisationOut(BaseModel):
    code: str
    name: str
    role: str = Field(description="lead or involved")


class StatusOut(BaseModel):
    code: Status
    label: str = Field(description="The status label in the requested language")
    symbol: str


class ActivityOut(BaseModel):
    id: int
    action_line: ActionLineRef
    theme: str
    result: ResultRef
    label: str | None = Field(description="The activity's own number as printed, if any")
    title: str
    status: StatusOut | None
    explanation: str
    source: UpdateSource | None = Field(description="entered, imported or derived")
    version: int | None
    updated_at: datetime | None
    organisations: list[OrganisationOut]
    period: PeriodOut | None


class ActivityListOut(BaseModel):
    programme: str
    period: PeriodOut | None
    total: int
    page: int
    page_size: int
    activities: list[ActivityOut]


class StatusChangeIn(BaseModel):
    status: Text = Field(description="One of the legend's codes, e.g. on_schedule")
    explanation: Text
    based_on_version: int | None = Field(
        description="The version you last read; null if there was no status yet"
    )
    period: int | None = Field(default=None, description="Period id; default the latest")


class ConflictOut(BaseModel):
    detail: str
    current_version: int
    current_status: Status
    current_explanation: str
    current_author: str
