"""Response models of the period comparison in the JSON API (they document the OpenAPI schema).
Statuses are the legend's codes; null is "no status"."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.activities.models import Status
from app.api.schemas import ActionLineRef, PeriodOut, ResultRef


class CompareActivityOut(BaseModel):
    id: int
    action_line: ActionLineRef
    result: ResultRef
    label: str | None = Field(description="The activity's own number as printed, if any")
    title: str


class MatrixCellOut(BaseModel):
    from_status: Status | None = Field(description="Status in the earlier period")
    to_status: Status | None = Field(description="Status in the later period")
    count: int


class CountsOut(BaseModel):
    in_both: int = Field(description="Activities shown in both periods (the matrix's sum)")
    changed: int = Field(description="Of those, activities whose status changed")
    added: int = Field(description="Activities shown in the later period only")
    retired: int = Field(
        description="Activities shown in the earlier period only (no longer in the programme)"
    )
    explanations_changed: int = Field(
        description="Activities shown in both periods whose explanation changed"
    )


class ActionLineComparisonOut(BaseModel):
    action_line: ActionLineRef
    in_both: int
    changed: int
    added: int
    retired: int
    matrix: list[MatrixCellOut] = Field(description="Non-zero cells; every other cell is 0")


class StatusChangeOut(BaseModel):
    activity: CompareActivityOut
    from_status: Status | None
    to_status: Status | None


class ActivityStatusOut(BaseModel):
    activity: CompareActivityOut
    status: Status | None = Field(description="Its status in the period that shows it")


class ExplanationChangeOut(BaseModel):
    activity: CompareActivityOut
    before: str
    after: str
    diff_html: str = Field(
        description="The later explanation with the changes marked: <del>removed</del>, "
        "<ins>added</ins> (HTML, escaped)"
    )


class ComparisonOut(BaseModel):
    programme: str
    earlier: PeriodOut
    later: PeriodOut
    swapped: bool = Field(
        description="True when `from` was the later period: the two were swapped so that "
        "`earlier` always comes first"
    )
    statuses: list[Status | None] = Field(
        description="The order of the matrix's rows and columns: the legend, then null"
    )
    counts: CountsOut
    matrix: list[MatrixCellOut] = Field(description="Non-zero cells; every other cell is 0")
    action_lines: list[ActionLineComparisonOut]
    changed: list[StatusChangeOut]
    added: list[ActivityStatusOut]
    retired: list[ActivityStatusOut]
    explanations: list[ExplanationChangeOut]
