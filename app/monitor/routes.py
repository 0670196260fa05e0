"""The monitor's internal pages: the editions of a programme, an edition with its figures,
an indicator with its figures over the editions; entering a figure (with its breakdown) in an
open edition; and the coordinator's edition: create it, choose its figures, move it through
its life cycle (the periods' moves)."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app import readmodel
from app.accounts.models import Role
from app.deps import SessionDep
from app.errors import DomainError, InvalidInput, NotFound
from app.i18n import N_, get_language, gettext
from app.ids import id_of
from app.monitor import reading, service
from app.monitor.values import InvalidValue, Unit, format_value, parse_value
from app.periods import service as periods
from app.periods.models import PeriodState
from app.permissions import CurrentUser, CurrentUserDep, client_address, current_user
from app.review import routes as review_routes
from app.review import service as review
from app.text import Text
from app.web import is_htmx, render

router = APIRouter()

UNIT_LABELS = {
    Unit.number: N_("number"),
    Unit.persons: N_("persons"),
    Unit.euro: N_("euro"),
    Unit.percent: N_("percent"),
    Unit.months: N_("months"),
}

# The periods' moves, in the words of an edition.
MOVE_LABELS = {
    "open": N_("Open for figures"),
    "review": N_("Close for review"),
    "publish": N_("Publish the edition"),
    "reopen-round": N_("Open for figures again"),
    "correct": N_("Start a correction"),
    "republish": N_("Publish the correction"),
}

DONE_MESSAGES = {
    "created": N_("The edition was created as a draft. Add its figures, then open it."),
    "figure-added": N_("The figure was added to the edition."),
    "saved": N_("The figures were saved."),
    "unchanged": N_("Nothing was changed."),
    "open": N_("The edition is open: the supplying organisations can enter their figures."),
    "review": N_("The edition is closed for review."),
    "reopen-round": N_("The edition is open for figures again."),
    "publish": N_("The edition is published."),
    "correct": N_("The correction has started."),
    "republish": N_("The corrected edition is published."),
    "approve": N_("The figure was approved."),
    "send_back": N_("The figure was sent back to its editor."),
    "added": N_("The indicator was added."),
    "changed": N_("The indicator was changed."),
}


def unit_label(unit: Unit | str) -> str:
    return gettext(UNIT_LABELS[Unit(unit)])


def _done(request: Request) -> str:
    done = DONE_MESSAGES.get(request.query_params.get("done", ""))
    return gettext(done) if done else ""


def _year(raw: str, field: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise InvalidInput(
            gettext("%(value)s is not a year in %(field)s.")
            % {"value": repr(raw.strip()), "field": gettext(field)}
        ) from None


def _id(raw: str, field: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(gettext("Choose a %(field)s.") % {"field": gettext(field)}) from None


# -- the editions of a programme -------------------------------------------------------------


@router.get("/programmes/{slug}/monitor", include_in_schema=False, name="monitor_editions")
def monitor_editions(request: Request, session: SessionDep, slug: str) -> Response:
    return _editions_page(request, session, slug)


def _editions_page(
    request: Request,
    session: Session,
    slug: str,
    *,
    error: str = "",
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    programme = readmodel.get_programme(session, slug)
    user = current_user(request)
    coordinating = user is not None and user.at_least(Role.coordinator)
    return render(
        request,
        "monitor/editions.html",
        {
            "programme": programme,
            "editions": service.list_editions(session, programme.id),
            "indicators": reading.indicators_of_programme(session, programme.id),
            "state_label": periods.state_label,
            "coordinating": coordinating,
            "areas": reading.areas(session) if coordinating else [],
            "organisations": reading.organisations(session) if coordinating else [],
            "error": error,
            "values": values or {},
        },
        status_code=status_code,
    )


@router.post("/programmes/{slug}/monitor", include_in_schema=False, name="monitor_create_edition")
def monitor_create_edition(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    slug: str,
    title: Annotated[Text, Form()] = "",
    publisher_id: Annotated[Text, Form()] = "",
    covers_from: Annotated[Text, Form()] = "",
    covers_to: Annotated[Text, Form()] = "",
    area_id: Annotated[Text, Form()] = "",
    source_document: Annotated[Text, Form()] = "",
    introduction: Annotated[Text, Form()] = "",
) -> Response:
    programme = readmodel.get_programme(session, slug)
    values = {
        "title": title,
        "publisher_id": publisher_id,
        "covers_from": covers_from,
        "covers_to": covers_to,
        "area_id": area_id,
        "source_document": source_document,
        "introduction": introduction,
    }
    try:
        if not title.strip():
            raise InvalidInput(gettext("Give the edition a title."))
        edition = service.create_edition(
            session,
            programme_id=programme.id,
            title=title.strip(),
            publisher_id=_id(publisher_id, N_("publisher")),
            covers_from=_year(covers_from, N_("first year covered")),
            covers_to=_year(covers_to, N_("last year covered")),
            area_id=_id(area_id, N_("area")),
            actor=user,
            source_document=source_document.strip(),
            introduction=introduction.strip(),
            address=client_address(request),
        )
    except (InvalidInput, NotFound) as problem:
        session.rollback()
        return _editions_page(
            request, session, slug, error=problem.message, values=values, status_code=422
        )
    target = request.url_for("monitor_edition", edition_id=edition.id).path + "?done=created"
    return RedirectResponse(target, status_code=303)


# -- an edition ------------------------------------------------------------------------------


@router.get("/monitor/editions/{edition_id}", include_in_schema=False, name="monitor_edition")
def monitor_edition(request: Request, session: SessionDep, edition_id: int) -> Response:
    return _edition_page(request, session, edition_id)


def _edition_page(
    request: Request,
    session: Session,
    edition_id: int,
    *,
    error: str = "",
    values: dict[str, str] | None = None,
    comments: dict[int, str] | None = None,
    status_code: int = 200,
) -> Response:
    view = service.edition_view(session, edition_id)
    programme = readmodel.programme_of_period(session, view.period.id or 0)
    user = current_user(request)
    coordinating = user is not None and user.at_least(Role.coordinator)
    editable = {
        id_of(row.figure)
        for row in view.figures
        if service.FIGURE_POLICY.change(
            user, service.subject_of(session, row.figure), view.period
        ).allowed
    }
    moves = [
        move for move in periods.MOVES.values() if coordinating and move.source == view.period.state
    ]
    # Publishing is offered only when it can succeed: otherwise the step says why (the
    # periods' one answer, as move_period gives it when asked to publish).
    publishing = any(move.target == PeriodState.published for move in moves)
    refusal = periods.publication_refusal(session, period=view.period) if publishing else ""
    publisher, area = reading.publisher_and_area(session, view.edition)
    # The four-eyes review of the figures (app/review): what waits for a decision or was sent
    # back; a coordinator decides on it here.
    proposals = review.figure_proposals(session, period_id=id_of(view.period), reviewer=user)
    rows = {id_of(row.figure): row for row in view.all_figures()}
    return render(
        request,
        "monitor/edition.html",
        {
            "programme": programme,
            "view": view,
            "publisher": publisher,
            "area": area,
            "language": get_language(),
            "editable": editable,
            "moves": moves,
            "publication_refusal": refusal,
            "move_label": lambda name: gettext(MOVE_LABELS[name]),
            "state_label": periods.state_label,
            "unit_label": unit_label,
            "coordinating": coordinating,
            "may_add": coordinating
            and PeriodState(view.period.state) not in (PeriodState.published,),
            "indicators": reading.indicators_of_programme(session, programme.id)
            if coordinating
            else [],
            "areas": reading.areas(session) if coordinating else [],
            "done": _done(request),
            "error": error,
            "values": values or {},
            "proposals": proposals,
            "proposal_rows": rows,
            "comments": comments or {},
        },
        status_code=status_code,
    )


@router.post(
    "/monitor/figure-versions/{figure_version_id}/review",
    include_in_schema=False,
    name="monitor_figure_review",
)
def monitor_figure_review(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    figure_version_id: int,
    decision: Annotated[Text, Form()] = "",
    comment: Annotated[Text, Form()] = "",
) -> Response:
    """A coordinator approves a figure version or sends it back with a comment, on the
    edition's page (the review page has its own route, app/review/routes.py)."""
    edition_id = service.edition_of_version(session, figure_version_id)
    target = request.url_for("monitor_edition", edition_id=edition_id).path
    return review_routes.decide_version(
        request,
        session,
        user,
        partial(review.decide_figure, figure_version_id=figure_version_id),
        version_id=figure_version_id,
        decision=decision,
        comment=comment,
        target=f"{target}?done={decision}#review-heading",
        page=partial(_edition_page, request, session, edition_id),
    )


@router.post(
    "/monitor/editions/{edition_id}/move", include_in_schema=False, name="monitor_edition_move"
)
def monitor_edition_move(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    edition_id: int,
    move: Annotated[Text, Form()] = "",
    reason: Annotated[Text, Form()] = "",
) -> Response:
    try:
        service.move_edition(
            session,
            edition_id=edition_id,
            move=move,
            actor=user,
            reason=reason,
            address=client_address(request),
        )
    except DomainError as problem:
        if problem.status_code == 404:
            raise
        session.rollback()
        return _edition_page(
            request, session, edition_id, error=problem.message, status_code=problem.status_code
        )
    target = request.url_for("monitor_edition", edition_id=edition_id).path + f"?done={move}"
    return RedirectResponse(target, status_code=303)


@router.post(
    "/monitor/editions/{edition_id}/figures", include_in_schema=False, name="monitor_add_figure"
)
def monitor_add_figure(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    edition_id: int,
    indicator_id: Annotated[Text, Form()] = "",
    area_id: Annotated[Text, Form()] = "",
    year_from: Annotated[Text, Form()] = "",
    year_to: Annotated[Text, Form()] = "",
    parent_id: Annotated[Text, Form()] = "",
    dimension: Annotated[Text, Form()] = "",
    category: Annotated[Text, Form()] = "",
    dimension_en: Annotated[Text, Form()] = "",
    category_en: Annotated[Text, Form()] = "",
    key: Annotated[Text, Form()] = "",
) -> Response:
    values = {
        "indicator_id": indicator_id,
        "area_id": area_id,
        "year_from": year_from,
        "year_to": year_to,
        "parent_id": parent_id,
        "dimension": dimension,
        "category": category,
        "dimension_en": dimension_en,
        "category_en": category_en,
        "key": key,
    }
    try:
        if not key.strip():
            raise InvalidInput(gettext("Give the figure a key (unique within the edition)."))
        view = service.edition_view(session, edition_id)
        if any(row.figure.key == key.strip() for row in view.all_figures()):
            raise InvalidInput(
                gettext("The edition already has a figure %(key)s.") % {"key": key.strip()}
            )
        service.add_figure(
            session,
            edition_id=edition_id,
            key=key.strip(),
            indicator_id=_id(indicator_id, N_("indicator")),
            year_from=_year(year_from, N_("first year")),
            year_to=_year(year_to or year_from, N_("last year")),
            area_id=_id(area_id, N_("area")),
            actor=user,
            parent_id=_id(parent_id, N_("total")) if parent_id.strip() else None,
            dimension=dimension.strip() or None,
            category=category.strip() or None,
            dimension_en=dimension_en.strip() or None,
            category_en=category_en.strip() or None,
            position=len(view.all_figures()) + 1,
        )
    except DomainError as problem:
        if problem.status_code == 404 and not values["area_id"]:
            raise
        session.rollback()
        return _edition_page(
            request,
            session,
            edition_id,
            error=problem.message,
            values=values,
            status_code=problem.status_code,
        )
    target = request.url_for("monitor_edition", edition_id=edition_id).path + "?done=figure-added"
    return RedirectResponse(target, status_code=303)


# -- entering a figure (a total with its parts) ----------------------------------------------


def _figure_rows(session: Session, figure_id: int) -> tuple[service.EditionView, service.FigureRow]:
    figure = reading.get_figure(session, figure_id)
    top_id = figure.parent_id if figure.parent_id is not None else figure_id
    view = service.edition_view(session, figure.edition_id)
    for row in view.figures:
        if id_of(row.figure) == top_id:
            return view, row
    raise NotFound(gettext("Figure %(id)s does not exist") % {"id": figure_id})


def _figure_form(
    request: Request,
    session: Session,
    figure_id: int,
    *,
    errors: dict[int, str] | None = None,
    error: str = "",
    texts: dict[int, str] | None = None,
    complete: str | None = None,
    versions: dict[int, int] | None = None,
    done: str = "",
    status_code: int = 200,
) -> Response:
    view, row = _figure_rows(session, figure_id)
    programme = readmodel.programme_of_period(session, view.period.id or 0)
    decision = service.may_change(session, current_user(request), row.figure)
    language = get_language()
    shown = {id_of(item.figure): item.printed(language) for item in (row, *row.parts)}
    shown.update(texts or {})
    if complete is None:
        complete = (
            ""
            if row.version is None or row.version.breakdown_complete is None
            else ("complete" if row.version.breakdown_complete else "partial")
        )
    based_on = {
        id_of(item.figure): item.version.version if item.version else 0
        for item in (row, *row.parts)
    }
    based_on.update(versions or {})
    return render(
        request,
        "monitor/figure.html",
        {
            "programme": programme,
            "view": view,
            "row": row,
            "decision": decision,
            "texts": shown,
            "complete": complete,
            "based_on": based_on,
            "errors": errors or {},
            "error": error,
            "done": done,
            "unit_label": unit_label,
            "language": language,
        },
        block="figure_form",
        status_code=status_code,
    )


@router.get(
    "/monitor/figures/{figure_id}/edit", include_in_schema=False, name="monitor_figure_form"
)
def monitor_figure_form(request: Request, session: SessionDep, figure_id: int) -> Response:
    return _figure_form(request, session, figure_id)


@router.post("/monitor/figures/{figure_id}", include_in_schema=False, name="monitor_figure_save")
def monitor_figure_save(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    figure_id: int,
    figure: Annotated[list[Text] | None, Form()] = None,
    value: Annotated[list[Text] | None, Form()] = None,
    version: Annotated[list[Text] | None, Form()] = None,
    complete: Annotated[Text, Form()] = "",
    source_document: Annotated[Text, Form()] = "",
    source_page: Annotated[Text, Form()] = "",
) -> Response:
    """The total and its parts in one form: `figure`, `value` and `version` repeat, one of
    each per figure, in the same order."""
    figures, values, versions = figure or [], value or [], version or []
    if not len(figures) == len(values) == len(versions):
        raise InvalidInput(gettext("The form is incomplete; reload the page and try again."))
    given = {
        raw_id.strip(): (text, raw_version)
        for raw_id, text, raw_version in zip(figures, values, versions, strict=True)
    }
    return _save_figure(
        request,
        session,
        user,
        figure_id,
        given,
        complete_choice=complete,
        source_document=source_document.strip(),
        source_page=source_page.strip() or None,
    )


def _save_figure(
    request: Request,
    session: Session,
    user: CurrentUser,
    figure_id: int,
    given: dict[str, tuple[str, str]],
    *,
    complete_choice: str,
    source_document: str,
    source_page: str | None,
) -> Response:
    view, row = _figure_rows(session, figure_id)
    language = get_language()
    texts: dict[int, str] = {}
    versions: dict[int, int] = {}
    errors: dict[int, str] = {}
    entries = []
    complete = None if not row.parts else {"complete": True, "partial": False}.get(complete_choice)
    for item in (row, *row.parts):
        fid = id_of(item.figure)
        text, raw_version = given.get(str(fid), (item.printed(language), "0"))
        text = text.strip()
        texts[fid] = text
        try:
            versions[fid] = int(raw_version)
        except ValueError:
            versions[fid] = -1
        changed_flag = (
            item is row
            and bool(row.parts)
            and ((row.version.breakdown_complete if row.version else None) != complete)
        )
        if text == item.printed(language) and not changed_flag:
            continue
        if not text:
            errors[fid] = gettext("Fill in a value for %(figure)s (or write “unknown”).") % {
                "figure": item.figure.key
            }
            continue
        try:
            value = parse_value(text, language)
        except InvalidValue:
            errors[fid] = gettext(
                "“%(text)s” for %(figure)s is not a value. Write for example 120, > 200, < 5, "
                "95–105, ≈ 100 or unknown."
            ) % {"text": text, "figure": item.figure.key}
            continue
        entries.append(
            service.FigureEntry(
                fid,
                value,
                versions[fid],
                breakdown_complete=complete if item is row else None,
                source_document=source_document if item is row else "",
                source_page=source_page if item is row else None,
            )
        )
    if row.parts and complete_choice not in ("complete", "partial"):
        errors[id_of(row.figure)] = gettext(
            "Say whether the breakdown of %(figure)s is complete or partial."
        ) % {"figure": row.figure.key}
    if errors:
        return _figure_form(
            request,
            session,
            figure_id,
            errors=errors,
            texts=texts,
            complete=complete_choice,
            versions=versions,
            status_code=422,
        )
    if not entries:
        return _after_save(request, session, figure_id, view, "unchanged")
    try:
        service.record_figures(
            session,
            edition_id=id_of(view.edition),
            entries=entries,
            author=user,
            address=client_address(request),
        )
    except DomainError as problem:
        if problem.status_code == 404:
            raise
        session.rollback()
        conflict = isinstance(problem, service.FigureConflict)
        return _figure_form(
            request,
            session,
            figure_id,
            error=problem.message,
            texts=texts,
            complete=complete_choice,
            # After a conflict the form shows the newest versions' numbers (saving again is
            # a choice made having seen them); otherwise the ones the person was editing.
            versions=None if conflict else versions,
            status_code=problem.status_code,
        )
    return _after_save(request, session, figure_id, view, "saved")


def _after_save(
    request: Request, session: Session, figure_id: int, view: service.EditionView, done: str
) -> Response:
    if is_htmx(request):
        return _figure_form(request, session, figure_id, done=gettext(DONE_MESSAGES[done]))
    target = (
        request.url_for("monitor_edition", edition_id=id_of(view.edition)).path
        + f"?done={done}#figure-{figure_id}"
    )
    return RedirectResponse(target, status_code=303)


# -- an indicator ----------------------------------------------------------------------------


@router.get("/monitor/indicators/{indicator_id}", include_in_schema=False, name="monitor_indicator")
def monitor_indicator(request: Request, session: SessionDep, indicator_id: int) -> Response:
    view = reading.indicator_view(session, indicator_id)
    programme = readmodel.get_programme(session, reading.programme_slug(session, view.indicator))
    return render(
        request,
        "monitor/indicator.html",
        {
            "programme": programme,
            "view": view,
            "unit_label": unit_label,
            "state_label": periods.state_label,
            "language": get_language(),
            "format_value": format_value,
            "coordinating": (user := current_user(request)) is not None
            and user.at_least(Role.coordinator),
            "done": _done(request),
        },
    )
