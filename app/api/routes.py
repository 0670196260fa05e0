"""JSON API v1: the board's read-model. Filters match the board's query parameters."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.activities.models import Status
from app.activities.presentation import status_label, status_symbol
from app.api.schemas import (
    ActionLineRef,
    ActivityListOut,
    ActivityOut,
    OrganisationOut,
    PeriodOut,
    ProgrammeOut,
    ResultRef,
    StatusOut,
)
from app.board import readmodel
from app.deps import SessionDep

router = APIRouter(prefix="/api/v1", tags=["read"])

MAX_PAGE_SIZE = 5000


@router.get("/programmes", response_model=list[ProgrammeOut])
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


@router.get("/programmes/{programme}/activities", response_model=ActivityListOut)
def activities(
    session: SessionDep,
    programme: str,
    status: Annotated[list[Status] | None, Query(description="Any of these statuses")] = None,
    action_line: Annotated[int | None, Query(description="Action line number")] = None,
    result: Annotated[int | None, Query(description="Result number")] = None,
    organisation: Annotated[
        str | None, Query(description="Organisation code (lead or involved)")
    ] = None,
    period: Annotated[int | None, Query(description="Period id; default the latest")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Full-text search")] = None,
    page: Annotated[int, Query(ge=1)] = 1,
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
        chosen.id if chosen else None,
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
        activities=[
            ActivityOut(
                id=row.id,
                action_line=ActionLineRef(
                    number=row.action_line_number, title=row.action_line_title
                ),
                theme=row.theme_title,
                result=ResultRef(number=row.result_number, title=row.result_title),
                label=row.label,
                title=row.title,
                status=StatusOut(
                    code=row.status,
                    label=status_label(row.status),
                    symbol=status_symbol(row.status),
                )
                if row.status
                else None,
                explanation=row.explanation,
                source=row.source,
                version=row.version,
                updated_at=row.updated_at,
                organisations=[OrganisationOut(**org.__dict__) for org in row.organisations],
                period=period_out,
            )
            for row in listing.rows
        ],
    )
