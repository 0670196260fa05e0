"""The status board (read-only): programme overview, drill-down, filtered list, activity."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlmodel import Session

from app import readmodel
from app.accounts.models import Role
from app.activities import service as activities_service
from app.activities.models import Status
from app.activities.policy import ACTIVITY_POLICY
from app.board.service import CachedReads, cached_page
from app.deps import SessionDep, SettingsDep
from app.errors import InvalidInput, NotFound
from app.i18n import LANGUAGES, get_language, gettext
from app.monitor import reading as monitor_reading
from app.periods import service as periods_service
from app.permissions import current_user
from app.policy import period_accepts_changes
from app.review.models import ReviewKind
from app.web import (
    activity_subject,
    filter_options,
    is_htmx,
    render,
    render_block_html,
    status_stylesheet,
)

router = APIRouter()


async def cached_reads(request: Request, session: SessionDep) -> CachedReads:
    # The revision was read once for this request, by the permission check that runs first.
    # (Async: nothing here waits, and a sync dependency costs a trip to the thread pool.)
    return CachedReads(session, request.app.state.cache, request.state.revision)


ReadsDep = Annotated[CachedReads, Depends(cached_reads)]


def _edit_signature(request: Request) -> Hashable:
    """What decides which rows show a change link: part of a cached list's key."""
    return ACTIVITY_POLICY.audience(current_user(request))


def _optional_int(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(
            gettext("%(field)s must be a whole number, not %(value)s")
            % {"field": name, "value": repr(raw)}
        ) from None


def parse_filters(request: Request) -> readmodel.ActivityFilters:
    """Filters from the query string, as the form sends them (empty values mean 'all')."""
    statuses: list[Status] = []
    for raw in request.query_params.getlist("status"):
        if not raw:
            continue
        try:
            statuses.append(Status(raw))
        except ValueError:
            raise InvalidInput(gettext("Unknown status %(value)s") % {"value": repr(raw)}) from None
    return readmodel.ActivityFilters(
        statuses=tuple(statuses),
        action_line=_optional_int(request, "action_line"),
        organisation=request.query_params.get("organisation", "").strip() or None,
        query=request.query_params.get("q", "").strip()[:200],
        result=_optional_int(request, "result"),
    )


def _period_context(
    session: Session, programme: readmodel.ProgrammeRow, request: Request
) -> tuple[list[readmodel.PeriodRow], readmodel.PeriodRow | None]:
    periods = readmodel.list_periods(session, programme.id)
    period = readmodel.choose_period(periods, _optional_int(request, "period"))
    return periods, period


@router.get("/", include_in_schema=False, name="home")
def home(request: Request, session: SessionDep) -> Response:
    programmes = readmodel.list_programmes(session)
    if len(programmes) == 1:
        return RedirectResponse(
            request.url_for("programme_board", slug=programmes[0].slug), status_code=302
        )
    return render(request, "board/home.html", {"programmes": programmes})


@router.get("/programmes/{slug}", include_in_schema=False, name="programme_board")
def programme_board(request: Request, reads: ReadsDep, slug: str) -> Response:
    programme = reads.programme(slug)
    periods = reads.periods(programme.id)
    period = readmodel.choose_period(periods, _optional_int(request, "period"))
    user = current_user(request)
    todo = None
    if (
        user is not None
        and user.at_least(Role.editor)
        and user.organisation_ids
        and period
        and period_accepts_changes(period)
    ):
        # The editor's own to-do list, on the page they land on after signing in.
        items = reads.get(
            ("round", programme.id, period.id),
            lambda: periods_service.round_items(
                reads.session, programme_id=programme.id, period=period
            ),
        )
        mine = periods_service.items_for(items, user.organisation_ids)
        todo = {"total": len(mine), "open": [item for item in mine if item.open]}
    return cached_page(
        request,
        reads,
        lambda: render(
            request,
            "board/board.html",
            {
                "board": reads.board(programme, period),
                "periods": periods,
                "period": period,
                "todo": todo,
                "state_label": periods_service.state_label,
            },
        ),
    )


def _drill_down(
    request: Request,
    session: Session,
    slug: str,
    filters: readmodel.ActivityFilters,
    missing: str,
) -> tuple[
    readmodel.ProgrammeRow,
    list[readmodel.PeriodRow],
    readmodel.PeriodRow | None,
    list[readmodel.ActivityRow],
]:
    """Programme, periods, chosen period and the activities of one part of the structure."""
    programme = readmodel.get_programme(session, slug)
    periods, period = _period_context(session, programme, request)
    page = readmodel.list_activities(session, programme.id, period, filters)
    if not page.rows:
        raise NotFound(missing)
    return programme, periods, period, page.rows


@router.get("/programmes/{slug}/action-lines/{number}", include_in_schema=False, name="action_line")
def action_line(request: Request, session: SessionDep, slug: str, number: int) -> Response:
    programme, periods, period, rows = _drill_down(
        request,
        session,
        slug,
        readmodel.ActivityFilters(action_line=number),
        gettext("Action line %(number)s does not exist") % {"number": number},
    )
    return render(
        request,
        "board/action_line.html",
        {
            "programme": programme,
            "periods": periods,
            "period": period,
            "line": rows[0],
            "themes": readmodel.group_by_theme(rows),
            **_summary_context(session, programme, period, action_line=number),
        },
    )


@router.get("/programmes/{slug}/results/{number}", include_in_schema=False, name="result")
def result(request: Request, session: SessionDep, slug: str, number: int) -> Response:
    programme, periods, period, rows = _drill_down(
        request,
        session,
        slug,
        readmodel.ActivityFilters(result=number),
        gettext("Result %(number)s does not exist") % {"number": number},
    )
    return render(
        request,
        "board/result.html",
        {
            "programme": programme,
            "periods": periods,
            "period": period,
            "rows": rows,
            "indicators": monitor_reading.result_indicators(session, programme.id, number),
            **_summary_context(session, programme, period, result=(number, rows)),
        },
    )


@router.get("/programmes/{slug}/activities", include_in_schema=False, name="activity_list")
def activity_list(request: Request, reads: ReadsDep, settings: SettingsDep, slug: str) -> Response:
    session = reads.session
    programme = reads.programme(slug)
    periods = reads.periods(programme.id)
    period = readmodel.choose_period(periods, _optional_int(request, "period"))
    filters = parse_filters(request)
    page_number = max(_optional_int(request, "page") or 1, 1)
    query_without_page = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]
    context = {
        "programme": programme,
        "periods": periods,
        "period": period,
        "filters": filters,
        "page_query": urlencode(query_without_page),
        "list_url": request.url_for("activity_list", slug=programme.slug).path,
    }

    def render_results() -> Markup:
        page = readmodel.list_activities(
            session,
            programme.id,
            period,
            filters,
            page=page_number,
            page_size=settings.page_size,
        )
        return Markup(
            render_block_html(
                request, "board/activities.html", "results", {**context, "page": page}
            )
        )

    # The list itself is the same for everyone with the same rights, language and filters.
    key = (
        "list",
        programme.id,
        period,
        filters,
        page_number,
        settings.page_size,
        get_language(),
        _edit_signature(request),
        tuple(query_without_page),
    )
    if is_htmx(request) and request.headers.get("HX-History-Restore-Request") != "true":
        return HTMLResponse(reads.get(key, render_results), headers={"Vary": "HX-Request"})

    def render_page() -> Response:
        return render(
            request,
            "board/activities.html",
            {
                **context,
                "results_html": reads.get(key, render_results),
                # Written out in Python (app/web.py), not by a loop in the template.
                "options": filter_options(
                    readmodel.list_action_lines(session, programme.id),
                    readmodel.list_organisations(session),
                    periods,
                    filters,
                    period,
                ),
            },
        )

    return cached_page(request, reads, render_page)


@router.get("/programmes/{slug}/summary", include_in_schema=False, name="status_summary")
def status_summary(request: Request, session: SessionDep, slug: str) -> Response:
    """The status counts of the programme, one action line or one result (refreshed after an
    edit)."""
    programme = readmodel.get_programme(session, slug)
    _, period = _period_context(session, programme, request)
    result_number = _optional_int(request, "result")
    result = None
    if result_number is not None:
        rows = readmodel.list_activities(
            session, programme.id, period, readmodel.ActivityFilters(result=result_number)
        ).rows
        if not rows:
            raise NotFound(gettext("Result %(number)s does not exist") % {"number": result_number})
        result = (result_number, rows)
    return render(
        request,
        "board/summary.html",
        _summary_context(
            session,
            programme,
            period,
            action_line=_optional_int(request, "action_line"),
            result=result,
        ),
        block="summary",
    )


def _summary_context(
    session: Session,
    programme: readmodel.ProgrammeRow,
    period: readmodel.PeriodRow | None,
    *,
    action_line: int | None = None,
    result: tuple[int, list[readmodel.ActivityRow]] | None = None,
) -> dict[str, Any]:
    """The counts per status of what a page shows: one result's activities (its number and
    rows, already read for the page), one action line, or the whole programme."""
    context = {
        "programme": programme,
        "period": period,
        "summary_action_line": None,
        "summary_result": None,
    }
    if result is not None:
        number, rows = result
        return context | {
            "summary_counts": readmodel.status_counts(rows),
            "summary_caption": gettext("Result") + f" {number}",
            "summary_result": number,
        }
    board = readmodel.board(session, programme, period)
    counts = board.totals
    caption = gettext("All action lines")
    if action_line is not None:
        for line in board.action_lines:
            if line.number == action_line:
                counts = line.counts
                caption = gettext("Action line") + f" {line.number}"
    return context | {
        "summary_counts": counts,
        "summary_caption": caption,
        "summary_action_line": action_line,
    }


@router.get("/activities/{activity_id}", include_in_schema=False, name="activity")
def activity(request: Request, session: SessionDep, activity_id: int) -> Response:
    return _activity_page(request, session, activity_id)


@router.get("/activities/{activity_id}/history", include_in_schema=False, name="activity_history")
def activity_history(request: Request, session: SessionDep, activity_id: int) -> Response:
    """The activity's history (for htmx: it refreshes itself after a save on the page;
    without htmx, the activity's page)."""
    return _activity_page(request, session, activity_id, block="history")


def _activity_page(
    request: Request, session: Session, activity_id: int, *, block: str | None = None
) -> Response:
    detail = readmodel.activity_detail(session, activity_id, _optional_int(request, "period"))
    current = next(
        (
            entry.items[0]
            for entry in detail.history
            if detail.period and entry.period.id == detail.period.id
        ),
        None,
    )
    last_note = current.notes[-1] if current and current.notes else None
    sent_back = last_note is not None and last_note.kind == ReviewKind.send_back
    user = current_user(request)
    # Without a status in the period, a retired activity is no longer part of it.
    retired = detail.row.version is None and activities_service.is_retired(session, detail.row.id)
    subject = activity_subject(detail.row, sent_back=sent_back, retired=retired)
    return render(
        request,
        "board/activity.html",
        {
            "detail": detail,
            "current_version": current.update if current else None,
            "sent_back": last_note if sent_back else None,
            "editable": ACTIVITY_POLICY.change(user, subject, detail.period).allowed,
            # The editor answers what was sent back to them.
            "may_reply": sent_back and ACTIVITY_POLICY.access(user, subject).allowed,
            "replied": request.query_params.get("done") == "reply",
        },
        block=block,
    )


@router.get("/language/{language}", include_in_schema=False, name="set_language")
def set_language(request: Request, language: str, next: str = "/") -> Response:
    if language not in LANGUAGES:
        raise NotFound(gettext("Unknown language"))
    # Only local paths: never redirect to another site.
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        "lang",
        language,
        max_age=365 * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.secure_cookies or request.url.scheme == "https",
    )
    return response


@router.get("/assets/status.css", include_in_schema=False, name="status_css")
def status_css() -> Response:
    """The status badges' stylesheet (templates/status.css)."""
    return Response(
        status_stylesheet(),
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=3600"},
    )
