"""The reviewer's page: proposals beside the previous period's text, approve one or many, send
one back with a comment; and the editor's answer to a version sent back. For a monitor
edition's period the same page lists its figure versions waiting for review, and for a
progress period the recommendations' follow-ups beside the statuses, with the same decisions
(app/review/service.py: decide_figure, decide_follow_up, approve_many)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app import readmodel
from app.deps import SessionDep
from app.errors import DomainError
from app.i18n import N_, get_language, gettext
from app.ids import id_of
from app.monitor import reading as monitor_reading
from app.monitor import service as monitor
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
    done = DONE_MESSAGES.get(request.query_params.get("done", ""))
    common = {
        "programme": programme,
        "record": record,
        "state_label": periods.state_label,
        "done": gettext(done) if done else "",
        "error": error,
        "comments": comments or {},
    }
    edition = monitor_reading.edition_of_period(session, period_id)
    if edition is not None:
        return _figure_review_page(
            request, session, edition.id or 0, reviewer, common, status_code=status_code
        )
    period = readmodel.find_period(readmodel.list_periods(session, programme.id), period_id)
    proposals = service.proposals(
        session, period=period, programme_id=programme.id, reviewer=reviewer
    )
    waiting = [p for p in proposals if p.state != "sent_back"]
    follow_ups = service.follow_up_proposals(session, period_id=period_id, reviewer=reviewer)
    follow_ups_waiting = [p for p in follow_ups if p.state != "sent_back"]
    return render(
        request,
        "review/review.html",
        {
            **common,
            "period": period,
            "proposals": proposals,
            "waiting": waiting,
            # Bulk approval is offered while at least one waiting proposal is this reviewer's
            # to approve.
            "approvable": sum(1 for p in waiting if p.may_approve)
            + sum(1 for f in follow_ups_waiting if f.may_approve),
            "sent_back": [p for p in proposals if p.state == "sent_back"],
            "follow_ups_waiting": follow_ups_waiting,
            "follow_ups_sent_back": [p for p in follow_ups if p.state == "sent_back"],
            "language": get_language(),
            "flag_label": lambda flag: gettext(service.FLAG_LABELS[flag]),
        },
        status_code=status_code,
    )


def _figure_review_page(
    request: Request,
    session: Session,
    edition_id: int,
    reviewer: CurrentUser,
    common: dict[str, object],
    *,
    status_code: int,
) -> Response:
    """A monitor edition's review: its figure versions waiting for a decision or sent back."""
    view = monitor.edition_view(session, edition_id)
    proposals = service.figure_proposals(session, period_id=id_of(view.period), reviewer=reviewer)
    waiting = [p for p in proposals if p.state != "sent_back"]
    return render(
        request,
        "review/figures.html",
        {
            **common,
            "view": view,
            "language": get_language(),
            "proposal_rows": {id_of(row.figure): row for row in view.all_figures()},
            "waiting": waiting,
            "approvable": sum(1 for p in waiting if p.may_approve),
            "sent_back": [p for p in proposals if p.state == "sent_back"],
        },
        status_code=status_code,
    )


def decided(
    session: Session,
    decide: Callable[[], object],
    *,
    target: str,
    page: Callable[..., Response],
    comments: dict[int, str] | None = None,
) -> Response:
    """A reviewer's decision as a form sends it: made, the way on (303 to `target`); refused,
    nothing written and the page again (`page(error=, comments=, status_code=)`: the review
    page or an edition's) with the refusal, its status and the comment typed."""
    try:
        decide()
    except DomainError as problem:
        session.rollback()
        return page(error=problem.message, comments=comments or {}, status_code=problem.status_code)
    return RedirectResponse(target, status_code=303)


def decide_version(
    request: Request,
    session: Session,
    user: CurrentUser,
    decide: Callable[..., object],
    *,
    version_id: int,
    decision: str,
    comment: str,
    target: str,
    page: Callable[..., Response],
) -> Response:
    """One decision on one version, of a status (`service.decide`) or of a monitor figure
    (`service.decide_figure`), the version's id bound in `decide`."""
    return decided(
        session,
        lambda: decide(
            session,
            decision=decision,
            reviewer=user,
            comment=comment,
            address=client_address(request),
        ),
        target=target,
        page=page,
        comments={version_id: comment},
    )


def _review_target(request: Request, period_id: int, done: str) -> str:
    return request.url_for("review", period_id=period_id).path + f"?done={done}"


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
    return decide_version(
        request,
        session,
        user,
        partial(service.decide, status_update_id=status_update_id),
        version_id=status_update_id,
        decision=decision,
        comment=comment,
        target=_review_target(request, period_id, decision),
        page=partial(_review_page, request, session, period_id, user),
    )


@router.post(
    "/review/figure-versions/{figure_version_id}",
    include_in_schema=False,
    name="review_decide_figure",
)
def review_decide_figure(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    figure_version_id: int,
    decision: Annotated[Text, Form()] = "",
    comment: Annotated[Text, Form()] = "",
) -> Response:
    """A decision on a monitor figure's version from the review page (the edition page has
    its own route, app/monitor/routes.py, that leads back to the edition)."""
    period_id = monitor.get_edition(
        session, monitor.edition_of_version(session, figure_version_id)
    ).period_id
    return decide_version(
        request,
        session,
        user,
        partial(service.decide_figure, figure_version_id=figure_version_id),
        version_id=figure_version_id,
        decision=decision,
        comment=comment,
        target=_review_target(request, period_id, decision),
        page=partial(_review_page, request, session, period_id, user),
    )


@router.post(
    "/review/follow-ups/{entry_id}", include_in_schema=False, name="review_decide_follow_up"
)
def review_decide_follow_up(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    entry_id: int,
    decision: Annotated[Text, Form()] = "",
    comment: Annotated[Text, Form()] = "",
) -> Response:
    """A decision on a recommendation's follow-up entry from the period's review page."""
    period_id = service.follow_up_period(session, entry_id)
    return decide_version(
        request,
        session,
        user,
        partial(service.decide_follow_up, entry_id=entry_id),
        version_id=entry_id,
        decision=decision,
        comment=comment,
        target=_review_target(request, period_id, decision),
        page=partial(_review_page, request, session, period_id, user),
    )


@router.post(
    "/periods/{period_id}/review/approve", include_in_schema=False, name="review_approve_many"
)
def review_approve_many(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    period_id: int,
    version: Annotated[list[Text] | None, Form()] = None,
    figure_version: Annotated[list[Text] | None, Form()] = None,
    follow_up: Annotated[list[Text] | None, Form()] = None,
) -> Response:
    """The selected proposals approved at once: status versions (`version`), recommendations'
    follow-up entries (`follow_up`) and, on a monitor edition's page, figure versions
    (`figure_version`)."""
    periods.get_period(session, period_id)
    return decided(
        session,
        lambda: service.approve_many(
            session,
            status_update_ids=_ids(version),
            figure_version_ids=_ids(figure_version),
            follow_up_entry_ids=_ids(follow_up),
            reviewer=user,
            address=client_address(request),
        ),
        target=_review_target(request, period_id, "approve_many"),
        page=partial(_review_page, request, session, period_id, user),
    )


def _ids(raw: list[str] | None) -> list[int]:
    try:
        return [int(value) for value in raw or []]
    except ValueError:
        return []


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
