"""Proposing a recommendation's follow-up in a period's round: a status of the programme's
follow-up legend and an explanation, saved as a proposal for the four-eyes review (the
period's review page decides on it, app/review/routes.py). A plain form, swapped in place
by htmx where it runs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app.deps import SessionDep
from app.errors import DomainError
from app.i18n import N_, get_language, gettext
from app.permissions import CurrentUser, CurrentUserDep, client_address
from app.recommendations import service
from app.text import Text
from app.web import is_htmx, render

router = APIRouter()

SAVED = N_("Your follow-up was saved. It counts once a coordinator has approved it.")


def _form(
    request: Request,
    session: Session,
    user: CurrentUser,
    recommendation_id: int,
    period_id: int | None,
    *,
    values: dict[str, str] | None = None,
    error: str = "",
    conflict: service.FollowUpConflict | None = None,
    done: str = "",
    status_code: int = 200,
) -> Response:
    view = service.follow_up_view(
        session, recommendation_id=recommendation_id, period_id=period_id, user=user
    )
    if values is None or conflict is not None:
        # The form starts from the period's follow-up as it is now (after a conflict: based
        # on their version, so saving again is a choice made having seen it).
        typed = values or {}
        values = {
            "status": typed.get("status")
            or (str(view.current.followup_status_id) if view.current else ""),
            "explanation": typed.get("explanation", view.current.text if view.current else ""),
            "based_on_version": str(view.current.version) if view.current else "0",
        }
    return render(
        request,
        "recommendations/follow_up.html",
        {
            "view": view,
            "values": values,
            "error": error,
            "conflict": conflict,
            "done": done,
            "language": get_language(),
            "max_length": service.MAX_FOLLOW_UP_LENGTH,
        },
        block="follow_up_form",
        status_code=status_code,
    )


@router.get(
    "/recommendations/{recommendation_id}/follow-up",
    include_in_schema=False,
    name="recommendation_follow_up_form",
)
def recommendation_follow_up_form(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    recommendation_id: int,
    period: int | None = None,
    done: str = "",
) -> Response:
    return _form(
        request,
        session,
        user,
        recommendation_id,
        period,
        done=gettext(SAVED) if done == "saved" else "",
    )


@router.post(
    "/recommendations/{recommendation_id}/follow-up",
    include_in_schema=False,
    name="recommendation_follow_up_save",
)
def recommendation_follow_up_save(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    recommendation_id: int,
    period_id: Annotated[int, Form()],
    status: Annotated[Text, Form()] = "",
    explanation: Annotated[Text, Form()] = "",
    based_on_version: Annotated[Text, Form()] = "",
) -> Response:
    values = {"status": status, "explanation": explanation, "based_on_version": based_on_version}
    try:
        version = int(based_on_version or "0")
        status_id = int(status) if status.strip() else None
    except ValueError:
        version, status_id = -1, None
    try:
        service.propose_follow_up(
            session,
            recommendation_id=recommendation_id,
            period_id=period_id,
            followup_status_id=status_id,
            explanation=explanation,
            based_on_version=version,
            author=user,
            address=client_address(request),
        )
    except DomainError as problem:
        if problem.status_code in (403, 404):
            raise
        session.rollback()
        return _form(
            request,
            session,
            user,
            recommendation_id,
            period_id,
            values=values,
            error=problem.message,
            conflict=problem if isinstance(problem, service.FollowUpConflict) else None,
            status_code=problem.status_code,
        )
    if is_htmx(request):
        return _form(request, session, user, recommendation_id, period_id, done=gettext(SAVED))
    target = request.url_for(
        "recommendation_follow_up_form", recommendation_id=recommendation_id
    ).path
    return RedirectResponse(f"{target}?period={period_id}&done=saved", status_code=303)
