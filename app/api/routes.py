"""JSON API v1: the board's read-model. Filters match the board's query parameters."""

from __future__ import annotations

from typing import Annotated

from annotated_types import MaxLen
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from app import readmodel
from app.activities import service
from app.activities.models import Status
from app.activities.presentation import status_label, status_symbol
from app.api.schemas import (
    MAX_INTEGER,
    ActionLineRef,
    ActivityListOut,
    ActivityOut,
    ConflictOut,
    ErrorOut,
    OrganisationOut,
    PeriodOut,
    ProgrammeOut,
    ResultRef,
    StatusChangeIn,
    StatusOut,
    ValidationErrorOut,
    error_responses,
)
from app.deps import SessionDep
from app.errors import NotFound
from app.i18n import gettext
from app.permissions import CurrentUserDep, client_address
from app.text import TEXT, Text

router = APIRouter(prefix="/api/v1")

MAX_PAGE_SIZE = 5000
ACTIVITIES = "#/paths/~1api~1v1~1programmes~1{programme}~1activities/get"
COMPARE = "#/paths/~1api~1v1~1programmes~1{programme}~1compare/get"
UPDATE_STATUS = "#/paths/~1api~1v1~1activities~1{activity_id}~1status/patch"
Id = Annotated[int, Path(ge=1, le=MAX_INTEGER)]
Number = Annotated[int | None, Query(ge=1, le=MAX_INTEGER)]


@router.get(
    "/programmes",
    response_model=list[ProgrammeOut],
    name="api_programmes",
    responses={
        200: {
            "links": {
                "activities": {
                    "operationRef": ACTIVITIES,
                    "parameters": {"programme": "$response.body#/0/slug"},
                    "description": "The first programme's activities",
                },
                "compare": {
                    "operationRef": COMPARE,
                    "parameters": {"programme": "$response.body#/0/slug"},
                    "description": "The first programme's comparison of periods",
                },
            }
        },
        **error_responses(401),
    },
)
def programmes(session: SessionDep) -> list[ProgrammeOut]:
    """Every programme with its reporting periods, newest period first."""
    return [
        ProgrammeOut(
            slug=programme.slug,
            name=programme.name,
            description=programme.description,
            periods=[
                PeriodOut(**period.__dict__)
                for period in readmodel.list_periods(session, programme.id)
            ],
        )
        for programme in readmodel.list_programmes(session)
    ]


@router.get(
    "/programmes/{programme}/activities",
    response_model=ActivityListOut,
    name="api_activities",
    responses={
        200: {
            "links": {
                "update_status": {
                    "operationRef": UPDATE_STATUS,
                    "parameters": {"activity_id": "$response.body#/activities/0/id"},
                    "description": "Change the first activity's status",
                }
            }
        },
        **error_responses(401, 404, 422, descriptions={404: "Unknown programme or period"}),
    },
)
def activities(
    session: SessionDep,
    programme: Text,
    status: Annotated[list[Status] | None, Query(description="Any of these statuses")] = None,
    action_line: Annotated[Number, Query(description="Action line number")] = None,
    result: Annotated[Number, Query(description="Result number")] = None,
    organisation: Annotated[
        Annotated[str, MaxLen(200), TEXT] | None,
        Query(description="Organisation code (lead or involved)"),
    ] = None,
    period: Annotated[Number, Query(description="Period id; default the latest")] = None,
    q: Annotated[
        Annotated[str, MaxLen(200), TEXT] | None, Query(description="Full-text search")
    ] = None,
    page: Annotated[int, Query(ge=1, le=MAX_INTEGER)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 1000,
) -> ActivityListOut:
    """Activities in programme order with their current status in the period."""
    programme_row = readmodel.get_programme(session, programme)
    chosen = readmodel.choose_period(readmodel.list_periods(session, programme_row.id), period)
    filters = readmodel.ActivityFilters(
        statuses=tuple(status or ()),
        action_line=action_line,
        organisation=organisation,
        query=q or "",
        result=result,
    )
    listing = readmodel.list_activities(
        session,
        programme_row.id,
        chosen,
        filters,
        page=page,
        page_size=page_size,
    )
    period_out = PeriodOut(**chosen.__dict__) if chosen else None
    return ActivityListOut(
        programme=programme_row.slug,
        period=period_out,
        total=listing.total,
        page=page,
        page_size=page_size,
        activities=[_activity_out(row, period_out) for row in listing.rows],
    )


@router.patch(
    "/activities/{activity_id}/status",
    response_model=ActivityOut,
    name="api_update_status",
    responses={
        **error_responses(
            400,
            401,
            403,
            404,
            422,
            descriptions={
                400: "A body that is not JSON",
                403: "Your account may not change this activity",
                404: "Unknown activity or period, or the programme has no reporting period",
                422: "Invalid status or explanation",
            },
        ),
        409: {
            "model": ConflictOut | ErrorOut,
            "description": "Someone saved since based_on_version (ConflictOut, with what they "
            "saved), or the period takes no changes now (published, or not open to you)",
        },
    },
)
def update_status(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    activity_id: Id,
    change: StatusChangeIn,
) -> ActivityOut | JSONResponse:
    """Record a new status and explanation for the activity (same rules, version check and
    audit as the web form). `based_on_version` is the version you last read (null if the
    activity had no status in the period)."""
    programme = readmodel.programme_of_activity(session, activity_id)
    period = readmodel.choose_period(readmodel.list_periods(session, programme.id), change.period)
    if period is None:
        raise NotFound(gettext("This programme has no reporting period"))
    try:
        status, explanation = service.validate_status_form(change.status, change.explanation)
        service.record_status(
            session,
            activity_id=activity_id,
            period_id=period.id,
            status=status,
            explanation=explanation,
            author=user,
            based_on_version=change.based_on_version,
            address=client_address(request),
        )
    except service.FieldErrors as problems:
        # The schema refuses what the form's rules refuse; should a rule go further, its
        # refusal has the shape of the schema's own.
        refusal = ValidationErrorOut(
            detail=[
                {"loc": ["body", field], "msg": message, "type": "value_error"}
                for field, message in problems.errors.items()
            ]
        )
        return JSONResponse(refusal.model_dump(mode="json"), status_code=422)
    except service.EditConflict as conflict:
        return JSONResponse(
            ConflictOut(
                detail=conflict.message,
                current_version=conflict.current.version,
                current_status=conflict.current.status,
                current_explanation=conflict.current.explanation,
                current_author=conflict.current.author,
            ).model_dump(mode="json"),
            status_code=409,
        )
    row = readmodel.get_activity_row(session, activity_id, period)
    return _activity_out(row, PeriodOut(**period.__dict__))


def _activity_out(row: readmodel.ActivityRow, period: PeriodOut | None) -> ActivityOut:
    return ActivityOut(
        id=row.id,
        action_line=ActionLineRef(number=row.action_line_number, title=row.action_line_title),
        theme=row.theme_title,
        result=ResultRef(number=row.result_number, title=row.result_title),
        label=row.label,
        title=row.title,
        status=StatusOut(
            code=row.status, label=status_label(row.status), symbol=status_symbol(row.status)
        )
        if row.status
        else None,
        explanation=row.explanation,
        source=row.source,
        version=row.version,
        updated_at=row.updated_at,
        organisations=[
            OrganisationOut(code=org.code, name=org.name, role=org.role)
            for org in row.organisations
        ],
        period=period,
    )
