"""Editing an activity's status in place (htmx), with a plain form as the fallback."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app import readmodel
from app.activities import service
from app.deps import SessionDep
from app.errors import NotFound
from app.i18n import gettext
from app.permissions import CurrentUserDep, client_address
from app.text import Text
from app.web import is_htmx, render

router = APIRouter()

# Where the edited activity is shown: a row of a table, or the activity's own page.
CONTEXTS = ("row", "row-short", "page")


def _context(value: str | None) -> str:
    return value if value in CONTEXTS else "page"


def _period(
    session: Session, activity_id: int, period_id: int | None
) -> tuple[readmodel.ProgrammeRow, readmodel.PeriodRow | None]:
    programme = readmodel.programme_of_activity(session, activity_id)
    periods = readmodel.list_periods(session, programme.id)
    return programme, readmodel.choose_period(periods, period_id)


def _display(
    request: Request,
    session: Session,
    activity_id: int,
    period: readmodel.PeriodRow | None,
    context: str,
    **extra: Any,
) -> Response:
    row = readmodel.get_activity_row(session, activity_id, period)
    template = "activities/current.html" if context == "page" else "activities/row.html"
    return render(
        request,
        template,
        {"row": row, "period": period, "context": context, **extra},
        block="display",
    )


@router.get("/activities/{activity_id}/row", name="activity_row", include_in_schema=False)
def activity_row(
    request: Request,
    session: SessionDep,
    activity_id: int,
    period: int | None = None,
    context: str = "row",
) -> Response:
    """The activity as displayed (used by 'Cancel' in the in-place editor)."""
    _, chosen = _period(session, activity_id, period)
    return _display(request, session, activity_id, chosen, _context(context))


def _form(
    request: Request,
    row: readmodel.ActivityRow,
    period: readmodel.PeriodRow,
    context: str,
    *,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    conflict: service.EditConflict | None = None,
    status_code: int = 200,
    next_url: str = "",
) -> Response:
    return render(
        request,
        "activities/edit.html",
        {
            "row": row,
            "period": period,
            "context": context,
            "values": values,
            "errors": errors or {},
            "conflict": conflict,
            "next_url": next_url,
            "max_length": service.MAX_EXPLANATION_LENGTH,
        },
        block="form",
        status_code=status_code,
    )


@router.get("/activities/{activity_id}/edit", name="edit_status_form", include_in_schema=False)
def edit_status_form(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    activity_id: int,
    period: int | None = None,
    context: str = "page",
    next: str = "",
) -> Response:
    service.ensure_can_edit(session, user, activity_id)
    _, chosen = _period(session, activity_id, period)
    if chosen is None:
        raise NotFound(gettext("This programme has no reporting period"))
    service.ensure_may_change(
        session,
        activity_id=activity_id,
        period_id=chosen.id,
        user=user,
        current=service.latest_update(session, activity_id=activity_id, period_id=chosen.id),
    )
    row = readmodel.get_activity_row(session, activity_id, chosen)
    values = {
        "status": row.status.value if row.status else "",
        "explanation": row.explanation,
        "based_on_version": str(row.version) if row.version else "",
    }
    return _form(request, row, chosen, _context(context), values=values, next_url=next)


@router.post("/activities/{activity_id}/status", name="save_status", include_in_schema=False)
def save_status(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    activity_id: int,
    period_id: Annotated[int, Form()],
    status: Annotated[Text, Form()] = "",
    explanation: Annotated[Text, Form()] = "",
    based_on_version: Annotated[Text, Form()] = "",
    context: Annotated[Text, Form()] = "page",
    next: Annotated[Text, Form()] = "",
) -> Response:
    context = _context(context)
    programme = readmodel.programme_of_activity(session, activity_id)
    period = readmodel.find_period(readmodel.list_periods(session, programme.id), period_id)
    service.ensure_can_edit(session, user, activity_id)
    values = {"status": status, "explanation": explanation, "based_on_version": based_on_version}
    try:
        version = int(based_on_version) if based_on_version else None
    except ValueError:
        version = -1  # never matches: treated as a conflict below

    def form_again(
        status_code: int,
        *,
        errors: dict[str, str] | None = None,
        conflict: service.EditConflict | None = None,
    ) -> Response:
        """The form with what was typed and what is wrong, for this row as it is now."""
        row = readmodel.get_activity_row(session, activity_id, period)
        return _form(
            request,
            row,
            period,
            context,
            values=values,
            errors=errors,
            conflict=conflict,
            status_code=status_code,
            next_url=next,
        )

    try:
        parsed_status, clean_explanation = service.validate_status_form(status, explanation)
        service.record_status(
            session,
            activity_id=activity_id,
            period_id=period.id,
            status=parsed_status,
            explanation=clean_explanation,
            author=user,
            based_on_version=version,
            address=client_address(request),
        )
    except service.FieldErrors as problems:
        return form_again(422, errors=problems.errors)
    except service.EditConflict as conflict:
        # The merge form is based on their version now: saving it again is a deliberate choice.
        values["based_on_version"] = str(conflict.current.version)
        return form_again(409, conflict=conflict)
    except service.InvalidInput as unchanged:
        return form_again(422, errors={"form": unchanged.message})
    if is_htmx(request):
        response = _display(request, session, activity_id, period, context, saved=True)
        # Lets the status counts on the page refresh themselves.
        response.headers["HX-Trigger"] = "statusChanged"
        return response
    target = (
        next
        if next.startswith("/") and not next.startswith("//")
        else (request.url_for("activity", activity_id=activity_id).path)
    )
    return RedirectResponse(target, status_code=303)
