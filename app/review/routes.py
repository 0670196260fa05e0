"""The reviewer's page: proposals beside the previous period's text, approve one or many, send
one back with a comment; and the editor's answer to a version sent back."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app import readmodel
from app.deps import SessionDep
from app.errors import DomainError
from app.i18n import N_, gettext
from app.periods import service as periods
from app.permissions import CurrentUser, CurrentUserDep, client_address
from app.review import service
from app.text import Text
from app.web import render

router = APIRouter()

DONE_MESSAGES = {
    "approve": N_("The proposal was approved."),
    "send_back": N_("The proposal was sent back to the editor."),
    "approve_many": N_("The selected proposals were approved."),
}


def _review_page(
    request: Request,
    session: Session,
    period_id: int,
    reviewer: CurrentUser,
    *,
    error: str = "",
    comments: dict[int, str] | None = None,
    status_code: int = 200,
) -> Response:
    record = periods.get_period(session, period_id)
    programme = readmodel.programme_of_period(session, period_id)
    period = readmodel.find_period(readmodel.list_periods(session, programme.id), period_id)
    proposals = service.proposals(
        session, period=period, programme_id=programme.id, reviewer=reviewer
    )
    waiting = [p for p in proposals if p.state != "sent_back"]
    done = DONE_MESSAGES.get(request.query_params.get("done", ""))
    return render(
        request,
        "review/review.html",
        {
            "programme": programme,
            "period": period,
            "record": record,
            "proposals": proposals,
            "waiting": waiting,
            # Bulk approval is offered while at least one waiting proposal is this reviewer's
            # to approve.
            "approvable": sum(1 for p in waiting if p.may_approve),
            "sent_back": [p for p in proposals if p.state == "sent_back"],
            "flag_label": lambda flag: gettext(service.FLAG_LABELS[flag]),
            "state_label": periods.state_label,
            "done": gettext(done) if done else "",
            "error": error,
            "comments": comments or {},
        },
        status_code=status_code,
    )


@router.get("/periods/{period_id}/review", include_in_schema=False, name="review")
def review(request: Request, session: SessionDep, user: CurrentUserDep, period_id: int) -> Response:
    return _review_page(request, session, period_id, user)


@router.post("/review/{status_update_id}", include_in_schema=False, name="review_decide")
def review_decide(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    status_update_id: int,
    decision: Annotated[Text, Form()] = "",
    comment: Annotated[Text, Form()] = "",
) -> Response:
    period_id = service.get_version(session, status_update_id).period_id
    try:
        service.decide(
            session,
            status_update_id=status_update_id,
            decision=decision,
            reviewer=user,
            comment=comment,
            address=client_address(request),
        )
    except DomainError as problem:
        session.rollback()
        return _review_page(
            request,
            session,
            period_id,
            user,
            error=problem.message,
            comments={status_update_id: comment},
            status_code=problem.status_code,
        )
    target = request.url_for("review", period_id=period_id).path + f"?done={decision}"
    return RedirectResponse(target, status_code=303)


@router.post(
    "/periods/{period_id}/review/approve", include_in_schema=False, name="review_approve_many"
)
def review_approve_many(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    period_id: int,
    version: Annotated[list[Text] | None, Form()] = None,
) -> Response:
    try:
        ids = [int(raw) for raw in version or []]
    except ValueError:
        ids = []
    return _approve_many(request, session, user, period_id, ids)


def _approve_many(
    request: Request, session: Session, user: CurrentUser, period_id: int, ids: list[int]
) -> Response:
    periods.get_period(session, period_id)
    try:
        service.approve_many(
            session, status_update_ids=ids, reviewer=user, address=client_address(request)
        )
    except DomainError as problem:
        session.rollback()
        return _review_page(
            request,
            session,
            period_id,
            user,
            error=problem.message,
            status_code=problem.status_code,
        )
    target = request.url_for("review", period_id=period_id).path + "?done=approve_many"
    return RedirectResponse(target, status_code=303)


@router.post("/review/{status_update_id}/reply", include_in_schema=False, name="review_reply")
def review_reply(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    status_update_id: int,
    comment: Annotated[Text, Form()] = "",
) -> Response:
    update = service.get_version(session, status_update_id)
    service.reply(
        session,
        status_update_id=status_update_id,
        author=user,
        comment=comment,
        address=client_address(request),
    )
    target = request.url_for("activity", activity_id=update.activity_id).path
    return RedirectResponse(f"{target}?period={update.period_id}&done=reply", status_code=303)
