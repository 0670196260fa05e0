"""Reporting periods: the list, a period's page with its life cycle, the coordinator's moves,
the round's completeness per organisation and an editor's own to-do list."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Literal, overload

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app import readmodel
from app.accounts.models import Role
from app.activities import service as activities
from app.clock import programme_today
from app.deps import SessionDep
from app.errors import DomainError, InvalidInput, NotFound
from app.i18n import N_, gettext
from app.monitor import reading as monitor_reading
from app.periods import service
from app.periods.models import PeriodState, ReportingPeriod
from app.permissions import CurrentUser, CurrentUserDep, client_address, current_user
from app.public import documents
from app.reminders import service as reminders
from app.text import Text
from app.web import change_decision, is_htmx, render

router = APIRouter()

# Messages shown after a redirect (?done=...): fixed texts, never echoed from the URL.
DONE_MESSAGES = {
    "created": N_("The period was created as a draft."),
    "open": N_("The update round is open; every activity starts from its last status."),
    "review": N_("The round is closed for review."),
    "reopen-round": N_("The update round is open again."),
    "publish": N_("The period is published."),
    "correct": N_(
        "The correction has started. The public site shows the report as published until "
        "you republish it."
    ),
    "republish": N_("The corrected report is published."),
    "deadline": N_("The deadline was saved."),
    "reminder-planned": N_("The reminder is planned."),
    "reminder-unplanned": N_("The planned reminder was taken off the plan."),
}


def _period_rows(
    session: Session, period_id: int
) -> tuple[ReportingPeriod, readmodel.ProgrammeRow, list[readmodel.PeriodRow], readmodel.PeriodRow]:
    record = service.get_period(session, period_id)
    programme = readmodel.programme_of_period(session, period_id)
    periods = readmodel.list_periods(session, programme.id)
    period = readmodel.choose_period(periods, period_id)
    assert period is not None  # with an id given, choose_period finds it or raises NotFound
    return record, programme, periods, period


@overload
def _parse_date(raw: str, field: str, *, required: Literal[True]) -> date: ...
@overload
def _parse_date(raw: str, field: str, *, required: bool) -> date | None: ...
def _parse_date(raw: str, field: str, *, required: bool) -> date | None:
    raw = raw.strip()
    if not raw:
        if required:
            raise InvalidInput(gettext("Fill in the %(field)s.") % {"field": gettext(field)})
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(
            gettext("%(value)s is not a date (use YYYY-MM-DD) in %(field)s.")
            % {"value": repr(raw), "field": gettext(field)}
        ) from None


@router.get("/programmes/{slug}/periods", include_in_schema=False, name="periods")
def periods_page(request: Request, session: SessionDep, slug: str) -> Response:
    return _periods_page(request, session, slug)


def _periods_page(
    request: Request,
    session: Session,
    slug: str,
    *,
    error: str = "",
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    programme = readmodel.get_programme(session, slug)
    return render(
        request,
        "periods/list.html",
        {
            "programme": programme,
            "periods": readmodel.list_periods(session, programme.id),
            "state_label": service.state_label,
            "error": error,
            "values": values or {},
        },
        status_code=status_code,
    )


@router.post("/programmes/{slug}/periods", include_in_schema=False, name="create_period")
def create_period(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    slug: str,
    name: Annotated[Text, Form()] = "",
    reference_date: Annotated[Text, Form()] = "",
    deadline: Annotated[Text, Form()] = "",
) -> Response:
    programme = readmodel.get_programme(session, slug)
    values = {"name": name, "reference_date": reference_date, "deadline": deadline}
    try:
        created = service.create_period(
            session,
            programme_id=programme.id,
            name=name,
            reference_date=_parse_date(reference_date, N_("reference date"), required=True),
            deadline=_parse_date(deadline, N_("deadline"), required=False),
            actor=user,
            address=client_address(request),
        )
    except InvalidInput as problem:
        session.rollback()
        return _periods_page(
            request, session, slug, error=problem.message, values=values, status_code=422
        )
    target = request.url_for("period", period_id=created.id).path + "?done=created"
    return RedirectResponse(target, status_code=303)


@router.get("/periods/{period_id}", include_in_schema=False, name="period")
def period_page(request: Request, session: SessionDep, period_id: int) -> Response:
    return monitor_reading.edition_redirect(request, session, period_id) or _period_page(
        request, session, period_id
    )


def _period_page(
    request: Request,
    session: Session,
    period_id: int,
    *,
    error: str = "",
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    record, programme, periods, period = _period_rows(session, period_id)
    items = service.round_items(session, programme_id=programme.id, period=period)
    organisations = service.progress_by_organisation(items)
    done = DONE_MESSAGES.get(request.query_params.get("done", ""))
    user = current_user(request)
    moves = [
        move
        for move in service.MOVES.values()
        if move.source == record.state and user is not None and user.at_least(Role.coordinator)
    ]
    forward = [move for move in moves if move.forward]
    steps = service.transitions(session, period_id)
    return render(
        request,
        "periods/period.html",
        {
            "programme": programme,
            "period": period,
            "record": record,
            "periods": periods,
            "transitions": steps,
            "corrections": service.corrections(steps),
            "later_rounds": service.later_rounds(session, record)
            if record.state in (PeriodState.published, PeriodState.correcting)
            else [],
            "moves": moves,
            "forward_move": forward[0] if forward else None,
            "back_moves": [move for move in moves if not move.forward],
            "state_label": service.state_label,
            "states": list(service.ROUND_STATES)
            + ([PeriodState.correcting] if record.state == PeriodState.correcting else []),
            "items": items,
            "organisations": organisations,
            "not_updated": sum(1 for item in items if item.progress == service.NOT_UPDATED),
            "awaiting_review": sum(1 for item in items if item.row.awaiting_review),
            "done": gettext(done) if done else "",
            "error": error,
            "reminders": reminders.overview(session, period_id=period_id, today=programme_today()),
            "due_label": reminders.due_label,
            "values": values or {},
        },
        status_code=status_code,
    )


def _change_period(
    request: Request,
    session: Session,
    period_id: int,
    done: str,
    change: Callable[[], object],
    *,
    values: dict[str, str] | None = None,
) -> Response:
    """Make a change to the period, then back to its page: with a confirmation, or with the
    reason it was refused (and nothing changed; the form keeps what was typed, `values`)."""
    try:
        change()
    except NotFound:
        raise
    except DomainError as problem:
        session.rollback()
        return _period_page(
            request,
            session,
            period_id,
            error=problem.message,
            values=values,
            status_code=problem.status_code,
        )
    target = request.url_for("period", period_id=period_id).path + f"?done={done}"
    return RedirectResponse(target, status_code=303)


@router.post("/periods/{period_id}/move", include_in_schema=False, name="period_move")
def period_move(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    period_id: int,
    background_tasks: BackgroundTasks,
    move: Annotated[Text, Form()] = "",
    reason: Annotated[Text, Form()] = "",
) -> Response:
    response = _change_period(
        request,
        session,
        period_id,
        move,
        lambda: service.move_period(
            session,
            period_id=period_id,
            move=move,
            actor=user,
            reason=reason,
            address=client_address(request),
        ),
    )
    if move in ("publish", "republish") and response.status_code == 303:
        documents.run_queued_after_response(request, session, background_tasks)
    return response


def _count(raw: str, field: str) -> int:
    """A count the confirmation page sent back (an unticked box sends nothing: 0)."""
    raw = raw.strip()
    if not raw:
        return 0
    try:
        number = int(raw)
    except ValueError:
        number = -1
    if number < 0:
        raise InvalidInput(
            gettext("%(value)s is not a number of activities in %(field)s.")
            % {"value": repr(raw), "field": gettext(field)}
        )
    return number


@router.get("/periods/{period_id}/publish", include_in_schema=False, name="publish_confirm")
def publish_confirm(request: Request, session: SessionDep, period_id: int) -> Response:
    """Before publishing: how many activities were not updated, confirmed or changed, overall
    and per organisation, and the coordinator's explicit choice. An edition publishes from
    its own page."""
    return monitor_reading.edition_redirect(request, session, period_id) or _publish_page(
        request, session, period_id
    )


def _publish_page(
    request: Request,
    session: Session,
    period_id: int,
    *,
    error: str = "",
    status_code: int = 200,
) -> Response:
    record, programme, _, period = _period_rows(session, period_id)
    closed = ""
    if record.state not in (PeriodState.in_review, PeriodState.correcting):
        closed = gettext("%(period)s is %(state)s: it can only be published from review.") % {
            "period": record.name,
            "state": service.state_label(record.state).lower(),
        }
        status_code = max(status_code, 409)
    return render(
        request,
        "periods/publish.html",
        {
            "programme": programme,
            "period": period,
            "record": record,
            "check": service.publication_check(session, period=record),
            "state_label": service.state_label,
            "progress_label": lambda key: gettext(service.PROGRESS_LABELS[key]),
            "closed": closed,
            "error": error,
        },
        status_code=status_code,
    )


@router.post("/periods/{period_id}/publish", include_in_schema=False, name="period_publish")
def period_publish(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    period_id: int,
    background_tasks: BackgroundTasks,
    accept_not_updated: Annotated[Text, Form()] = "",
    accept_unapproved: Annotated[Text, Form()] = "",
    move: Annotated[Text, Form()] = "publish",
) -> Response:
    """Publish (or republish a correction: the page says which it was made for, and the
    service refuses it when the period moved since), with the choice made on the
    confirmation page; refused, with the page again and the reason, without it."""
    if move not in ("publish", "republish"):
        move = "publish"
    try:
        service.move_period(
            session,
            period_id=period_id,
            move=move,
            actor=user,
            accept_not_updated=_count(accept_not_updated, N_("activities not updated")),
            accept_unapproved=_count(accept_unapproved, N_("proposals not approved")),
            address=client_address(request),
        )
    except NotFound:
        raise
    except DomainError as problem:
        session.rollback()
        return _publish_page(
            request, session, period_id, error=problem.message, status_code=problem.status_code
        )
    # The public documents are made after the response, never on a visitor's request.
    documents.run_queued_after_response(request, session, background_tasks)
    target = request.url_for("period", period_id=period_id).path + f"?done={move}"
    return RedirectResponse(target, status_code=303)


@router.post("/periods/{period_id}/deadline", include_in_schema=False, name="period_deadline")
def period_deadline(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    period_id: int,
    deadline: Annotated[Text, Form()] = "",
) -> Response:
    return _change_period(
        request,
        session,
        period_id,
        "deadline",
        lambda: service.set_deadline(
            session,
            period_id=period_id,
            deadline=_parse_date(deadline, N_("deadline"), required=False),
            actor=user,
            address=client_address(request),
        ),
        values={"deadline": deadline},
    )


def _parse_days(raw: str) -> int:
    raw = raw.strip()
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(
            gettext("%(value)s is not a whole number of days (in days before the deadline).")
            % {"value": repr(raw)}
        ) from None


@router.post("/periods/{period_id}/reminders/plan", include_in_schema=False, name="plan_reminder")
def plan_reminder(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    period_id: int,
    days_before: Annotated[Text, Form()] = "",
) -> Response:
    return _change_period(
        request,
        session,
        period_id,
        "reminder-planned",
        lambda: reminders.plan_reminder(
            session,
            period_id=period_id,
            days_before=_parse_days(days_before),
            actor=user,
            address=client_address(request),
        ),
        values={"days_before": days_before},
    )


@router.post(
    "/periods/{period_id}/reminders/unplan", include_in_schema=False, name="unplan_reminder"
)
def unplan_reminder(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    period_id: int,
    days_before: Annotated[Text, Form()] = "",
) -> Response:
    return _change_period(
        request,
        session,
        period_id,
        "reminder-unplanned",
        lambda: reminders.unplan_reminder(
            session,
            period_id=period_id,
            days_before=_parse_days(days_before),
            actor=user,
            address=client_address(request),
        ),
    )


@router.get("/periods/{period_id}/progress", include_in_schema=False, name="period_progress")
def period_progress(
    request: Request, session: SessionDep, period_id: int, organisation: str = ""
) -> Response:
    """Completeness per organisation, or one organisation's activities (an edition's
    completeness is its own page: which figures wait)."""
    if redirect := monitor_reading.edition_redirect(request, session, period_id):
        return redirect
    _, programme, _, period = _period_rows(session, period_id)
    items = service.round_items(session, programme_id=programme.id, period=period)
    organisations = service.progress_by_organisation(items)
    chosen = None
    if organisation:
        chosen = next((o for o in organisations if o.code == organisation), None)
        if chosen is None:
            raise NotFound(
                gettext("Organisation %(code)s has no activities in this period")
                % {"code": organisation}
            )
    return render(
        request,
        "periods/progress.html",
        {
            "programme": programme,
            "period": period,
            "organisations": organisations,
            "chosen": chosen,
            "items": items,
            "progress_label": lambda key: gettext(service.PROGRESS_LABELS[key]),
        },
    )


@router.get("/periods/{period_id}/todo", include_in_schema=False, name="my_todo")
def my_todo(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    period_id: int,
    select: str = "",
    confirmed: str = "",
) -> Response:
    """The signed-in editor's to-do list: their organisations' activities in the round, the
    ones still as carried over selectable to confirm unchanged (`select=all`: all of them).
    An edition's figures to enter are on its own page."""
    if redirect := monitor_reading.edition_redirect(request, session, period_id):
        return redirect
    return _todo_page(
        request,
        session,
        user,
        period_id,
        select_all=select == "all",
        confirmed=int(confirmed) if confirmed.isdigit() else 0,
    )


def _todo_page(
    request: Request,
    session: Session,
    user: CurrentUser,
    period_id: int,
    *,
    select_all: bool = False,
    selected: frozenset[int] = frozenset(),
    confirmed: int = 0,
    refused: DomainError | None = None,
    status_code: int = 200,
) -> Response:
    _, programme, _, period = _period_rows(session, period_id)
    items = service.items_for(
        service.round_items(session, programme_id=programme.id, period=period),
        user.organisation_ids,
    )
    # Still the period's starting point, and the edit policy lets this user change it now.
    confirmable = {
        item.row.id
        for item in items
        if item.progress == service.NOT_UPDATED
        and item.row.version is not None
        and change_decision(request, item.row, period, sent_back=item.sent_back).allowed
    }
    return render(
        request,
        "periods/todo.html",
        {
            "programme": programme,
            "period": period,
            "items": sorted(items, key=lambda item: not item.open),
            "open_count": sum(1 for item in items if item.open),
            "progress_label": lambda key: gettext(service.PROGRESS_LABELS[key]),
            "confirmable": confirmable,
            "selected": confirmable if select_all else selected & confirmable,
            "confirmed": confirmed,
            "refused": refused,
            "problems": getattr(refused, "problems", {}),
        },
        block="todo",
        status_code=status_code,
    )


def _confirmations(raw: list[str]) -> list[activities.Confirmation]:
    """The ticked boxes: each "<activity id>:<version it showed>"."""
    found = []
    for value in raw:
        activity_id, _, version = value.partition(":")
        if not (activity_id.isdigit() and version.isdigit()):
            raise InvalidInput(
                gettext("The selection could not be read. Load the list again and select anew.")
            )
        found.append(activities.Confirmation(int(activity_id), int(version)))
    return found


@router.post("/periods/{period_id}/todo/confirm", include_in_schema=False, name="todo_confirm")
def todo_confirm(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    period_id: int,
    confirm: Annotated[list[Text] | None, Form()] = None,
) -> Response:
    """Confirm the selected activities unchanged for the period: all of them or none."""
    service.get_period(session, period_id)
    chosen: list[activities.Confirmation] = []
    try:
        chosen = _confirmations(confirm or [])
        done = activities.confirm_many(
            session,
            period_id=period_id,
            confirmations=chosen,
            author=user,
            address=client_address(request),
        )
    except DomainError as problem:
        session.rollback()
        return _todo_page(
            request,
            session,
            user,
            period_id,
            selected=frozenset(item.activity_id for item in chosen),
            refused=problem,
            status_code=problem.status_code,
        )
    if is_htmx(request):
        response = _todo_page(request, session, user, period_id, confirmed=len(done))
        response.headers["HX-Trigger"] = "statusChanged"
        return response
    target = request.url_for("my_todo", period_id=period_id).path + f"?confirmed={len(done)}"
    return RedirectResponse(target, status_code=303)
