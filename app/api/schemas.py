"""Response models of the JSON API (they document the OpenAPI schema)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field

from app.activities.models import Status, UpdateSource
from app.activities.service import MAX_EXPLANATION_LENGTH
from app.clock import as_utc
from app.periods.models import PeriodState
from app.text import FilledText

# The largest id, number or version the API accepts: the database's 32-bit integers. A larger
# one is refused with 422 instead of failing in the database.
MAX_INTEGER = 2**31 - 1
# A moment with its offset (RFC 3339, as the schema's date-time format requires).
UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]


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
    updated_at: UtcDatetime | None
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
    status: Status = Field(description="One of the legend's codes")
    explanation: FilledText = Field(
        min_length=1,
        max_length=MAX_EXPLANATION_LENGTH,
        description="The explanation shown with the status; white space around it is removed",
        examples=["De training is gegeven aan alle eenheden; de evaluatie volgt in het voorjaar."],
    )
    based_on_version: int | None = Field(
        ge=1,
        le=MAX_INTEGER,
        description="The version you last read; null if there was no status yet",
    )
    period: int | None = Field(
        default=None, ge=1, le=MAX_INTEGER, description="Period id; default the latest"
    )


class ConflictOut(BaseModel):
    detail: str
    current_version: int
    current_status: Status
    current_explanation: str
    current_author: str


class ErrorOut(BaseModel):
    """The body of every refusal but a validation error."""

    detail: str = Field(description="What went wrong, in the request's language")


class ValidationProblem(BaseModel):
    loc: list[str | int] = Field(description="Where: body, path or query, then the field")
    msg: str
    type: str


class ValidationErrorOut(BaseModel):
    """The body of a 422 for input the schema refuses (and a rule of the service)."""

    detail: list[ValidationProblem]


ERROR_DESCRIPTIONS = {
    400: "Bad request",
    401: "No valid API token (or session)",
    403: "Your account may not do this",
    404: "Not found",
    409: "Conflict with the current state",
    422: "Invalid input",
    503: "The service is busy: try again after Retry-After seconds",
}


RETRY_AFTER = {
    "description": "Seconds to wait before trying again",
    "schema": {"type": "integer"},
}


def error_responses(
    *statuses: int, descriptions: dict[int, str] | None = None
) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status it can answer besides 200, with its body model
    and a description (the route's own from `descriptions`, else the general one). Every
    operation can answer 503 when the database is busy (app/db.py): it is added here."""
    statuses = (*statuses, 503)
    descriptions = descriptions or {}
    responses: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        response: dict[str, Any] = {
            "model": ValidationErrorOut if status == 422 else ErrorOut,
            "description": descriptions.get(status, ERROR_DESCRIPTIONS[status]),
        }
        if status == 503:
            response["headers"] = {"Retry-After": RETRY_AFTER}
        responses[status] = response
    return responses
