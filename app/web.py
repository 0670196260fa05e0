"""Templates and the one render() every HTML route uses (full page or htmx fragment)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from functools import cache
from typing import Any
from urllib.parse import quote

import anyio
from fastapi import Request
from fastapi.responses import Response
from jinja2_fragments import render_block
from jinja2_fragments.fastapi import Jinja2Blocks
from markupsafe import Markup, escape

from app.accounts.models import Role
from app.activities.models import STATUS_ORDER, Status
from app.activities.policy import ACTIVITY_POLICY, ActivitySubject
from app.activities.presentation import (
    STATUS_STYLES,
    status_label,
    status_symbol,
    unconfirmed_mark,
    unconfirmed_note,
)
from app.activities.rollup import rollup_of
from app.activity_table import ColumnLabels, RowText
from app.cache import MISSING, RevisionCache
from app.charts import Bar, stacked_bars
from app.config import PROJECT_ROOT
from app.deps import SessionDep
from app.i18n import (
    LANGUAGES,
    N_,
    format_date,
    format_datetime,
    get_language,
    gettext,
    ngettext,
)
from app.permissions import current_user, may_visit
from app.policy import Decision, period_accepts_changes
from app.readmodel import (
    ActionLineOption,
    ActivityFilters,
    ActivityRow,
    OrganisationOption,
    PeriodRow,
    ProgrammeRow,
    StatusCounts,
    list_programmes,
    unconfirmed,
)
from app.urls import url_for

templates = Jinja2Blocks(directory=PROJECT_ROOT / "templates")
templates.env.add_extension("jinja2.ext.i18n")
# The i18n extension adds this method to the environment when it is added: unknown to the stubs.
templates.env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
templates.env.globals.update(
    # Links by a look-up of the route's name (Starlette's searches every route).
    url_for=url_for,
    status_label=status_label,
    status_symbol=status_symbol,
    unconfirmed=unconfirmed,
    unconfirmed_mark=unconfirmed_mark,
    unconfirmed_note=unconfirmed_note,
    STATUS_STYLES=STATUS_STYLES,
    STATUS_ORDER=STATUS_ORDER,
    LANGUAGES=LANGUAGES,
    current_language=get_language,
)


def csrf_token(request: Request) -> str:
    """The CSRF token for forms and htmx requests (asgi-csrf puts a getter in the scope)."""
    getter = request.scope.get("csrftoken")
    return getter() if getter else ""


# Stands in for the query string in a page rendered once for every query string (the public
# site caches its pages by path): `with_query` puts each request's own in.
_QUERY_PLACEHOLDER = "query-" + secrets.token_hex(16)
_FOR_EVERY_QUERY = "voortgang.for_every_query"


def _next_query(query: str) -> str:
    """A query string as the end of the language switch's `next`, less `lang` (which would
    outvote the language chosen): "status=delayed" → "%3Fstatus%3Ddelayed"."""
    kept = "&".join(part for part in query.split("&") if part and part.split("=")[0] != "lang")
    return "%3F" + quote(kept, safe="/") if kept else ""


def language_switch_next(request: Request) -> str:
    """Where the language switch returns to: this page, with its query string, URL-encoded."""
    query = (
        _QUERY_PLACEHOLDER
        if request.scope.get(_FOR_EVERY_QUERY)
        else _next_query(request.url.query)
    )
    return quote(request.url.path, safe="/") + query


def render_for_every_query(request: Request, build: Callable[[], str]) -> str:
    """What `build` renders, for every query string of this address (to cache by path):
    the query string is left as a placeholder that `with_query` fills in."""
    request.scope[_FOR_EVERY_QUERY] = True
    try:
        return build()
    finally:
        del request.scope[_FOR_EVERY_QUERY]


def with_query(request: Request, html: str) -> str:
    """A page from `render_for_every_query`, with this request's query string put in."""
    return html.replace(_QUERY_PLACEHOLDER, _next_query(request.url.query))


def activity_subject(
    row: ActivityRow, *, sent_back: bool = False, retired: bool = False
) -> ActivitySubject:
    """A row of the read-model as the edit policy sees it. A row listed in a period is part
    of it (not retired from it); whether it was sent back is known on the activity page only,
    so a list offers an editor in review no change link (they answer from the activity page)."""
    return ActivitySubject.of(
        row.id,
        (organisation.id for organisation in row.organisations),
        retired=retired,
        sent_back=sent_back,
    )


def change_decision(
    request: Request, row: ActivityRow, period: PeriodRow | None, *, sent_back: bool = False
) -> Decision:
    """May the signed-in user change this activity in this period now (the change link)?"""
    return ACTIVITY_POLICY.change(
        current_user(request), activity_subject(row, sent_back=sent_back), period
    )


def may_open(request: Request, route_name: str) -> bool:
    """Show a link to this route? (The route rules decide, as they do for the route.)"""
    return may_visit(current_user(request), route_name)


async def load_header_programmes(request: Request, session: SessionDep) -> None:
    """App-wide dependency, after the route rule: the programmes a signed-in user's header
    links to (their board and periods), through the revision cache. (Async: nearly always
    they are in the cache, and then no trip to the thread pool is needed.)"""
    if current_user(request) is None:
        return
    cache: RevisionCache = request.app.state.cache
    revision: int = request.state.revision
    found = cache.get(revision, HEADER_PROGRAMMES)
    if found is MISSING:
        found = await anyio.to_thread.run_sync(
            lambda: cache.get_or_build(
                revision, HEADER_PROGRAMMES, lambda: list_programmes(session)
            )
        )
    request.state.header_programmes = found


# The header's programmes in the revision cache.
HEADER_PROGRAMMES = ("programmes",)


def header_programmes(request: Request) -> list[ProgrammeRow]:
    """The programmes the header links to (none: signed out, or a page outside the routes)."""
    return getattr(request.state, "header_programmes", [])


@cache
def _status_badges(language: str) -> dict[str | None, Markup]:
    """Every status as its badge (the `status_badge` macro of templates/_partials.html),
    rendered once per language, which is the current one (see status_badges()): the lists
    show one per row."""
    badge = templates.env.get_template("_partials.html").module.status_badge  # type: ignore[attr-defined]
    badges: dict[str | None, Markup] = {
        status.value: Markup(badge(status)) for status in STATUS_STYLES
    }
    badges[None] = Markup(badge(None))
    return badges


def status_badges() -> dict[str | None, Markup]:
    """Status value (None: no status) → its badge, in the current language."""
    return _status_badges(get_language())


def status_chart(counts: StatusCounts, caption: str) -> Markup:
    """The board's bar for one set of activities (app/charts.py); the page prints each
    status's label and number beside it, so the bar has no total of its own."""
    slug = re.sub(r"[^a-z0-9]+", "-", caption.lower()).strip("-")
    return stacked_bars(
        [Bar(None, counts.ordered())],
        chart_id=f"bar-{slug}",
        title=caption,
        description=", ".join(
            f"{count} {status_label(status)}" for status, count in counts.ordered()
        ),
        totals=False,
    )


@cache
def status_stylesheet() -> str:
    """The status badges' CSS (templates/status.css), rendered once: it reads only the
    status styles."""
    return templates.env.get_template("status.css").render()


def row_text(request: Request, period: PeriodRow | None) -> RowText:
    """What every row of an activity table in `period` shares, worked out once per table."""
    badges = status_badges()
    return RowText(
        badges={None: badges[None], **{status: badges[status.value] for status in Status}},
        lead=gettext("lead"),
        derived=gettext("derived from the explanation, to be confirmed"),
        not_updated=gettext("not yet updated for this period"),
        proposal=gettext("proposal, awaiting review"),
        change=gettext("Change"),
        status_of=gettext("status of"),
        here=quote(request.url.path, safe=""),
        column=ColumnLabels(
            result=gettext("Result"),
            number=gettext("No."),
            activity=gettext("Activity"),
            status=gettext("Status"),
            explanation=gettext("Explanation"),
        ),
        period_id=period.id if period else None,
        round_notes=period is not None and not period.published,
        correcting=period is not None and period.correcting,
        # A row listed in a period is part of it, and a list does not know what was sent
        # back (see activity_subject): the rule's defaults.
        allows=ACTIVITY_POLICY.allows_by_organisations(current_user(request), period),
    )


def status_filter(selected: tuple[Status, ...]) -> Markup:
    """The list filter's status checkboxes (each with its symbol and label), ticked where
    `selected`: written out here, not by a loop of macros (one list page each)."""
    badges = _status_symbol_badges(get_language())
    return Markup(
        "\n    ".join(
            f'<div class="status-filter__option">\n'
            f'      <input class="utrecht-checkbox" type="checkbox" name="status" value="{value}"'
            f' id="filter-status-{value}"{" checked" if status in selected else ""}>\n'
            f'      <label class="utrecht-form-label" for="filter-status-{value}">{badge}</label>\n'
            f"    </div>"
            for status, value, badge in badges
        )
    )


@cache
def _status_symbol_badges(language: str) -> list[tuple[Status, Markup, Markup]]:
    """Every status in the legend's order, its value and its symbol beside its label, in
    `language` (the current one, see status_filter)."""
    badge = templates.env.get_template("_partials.html").module.status_badge  # type: ignore[attr-defined]
    return [
        (
            status,
            escape(status.value),
            Markup("{} {}").format(Markup(badge(status, symbol_only=True)), status_label(status)),
        )
        for status in STATUS_ORDER
    ]


def select_options(options: list[tuple[Any, Any]], selected: Any) -> Markup:
    """A select's options, (value, label) each, the one whose value is `selected` selected."""
    return Markup(
        "".join(
            f'<option value="{escape(value)}"{" selected" if value == selected else ""}>'
            f"{escape(label)}</option>"
            for value, label in options
        )
    )


def filter_options(
    action_lines: list[ActionLineOption],
    organisations: list[OrganisationOption],
    periods: list[PeriodRow],
    filters: ActivityFilters,
    period: PeriodRow | None,
) -> dict[str, Markup]:
    """The list filter's options: action lines, organisations, periods."""
    return {
        "action_lines": select_options(
            [(line.number, f"{line.number}. {line.title}") for line in action_lines],
            filters.action_line,
        ),
        "organisations": select_options(
            [(organisation.code, organisation.name) for organisation in organisations],
            filters.organisation,
        ),
        "periods": select_options(
            [(item.id, item.name) for item in periods], period.id if period else None
        ),
    }


ROLE_LABELS = {
    Role.viewer: N_("Viewer"),
    Role.editor: N_("Editor"),
    Role.coordinator: N_("Coordinator"),
    Role.admin: N_("Administrator"),
}


def role_label(role: Role | str) -> str:
    return gettext(ROLE_LABELS[Role(role)])


templates.env.globals.update(
    csrf_token=csrf_token,
    language_switch_next=language_switch_next,
    change_decision=change_decision,
    may_open=may_open,
    header_programmes=header_programmes,
    period_accepts_changes=period_accepts_changes,
    current_user=current_user,
    role_label=role_label,
    overall_status=lambda rows: rollup_of(row.status for row in rows),
    status_badges=status_badges,
    status_filter=status_filter,
    status_chart=status_chart,
    row_text=row_text,
    ROLES=list(Role),
)
# `{{ period.reference_date | date }}`: "15 november 2022", in the user's language.
templates.env.filters["date"] = format_date
# `{{ event.at | datetime }}`: "3 december 2026 13:05", Dutch time, in the user's language.
templates.env.filters["datetime"] = format_datetime
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    block: str | None = None,
    status_code: int = 200,
) -> Response:
    """The full page, or only `block` for an htmx request (but the full page when htmx
    restores history, since the cache then needs a whole document)."""
    fragment = (
        block is not None
        and is_htmx(request)
        and request.headers.get("HX-History-Restore-Request") != "true"
    )
    response = templates.TemplateResponse(
        request,
        template,
        context,
        status_code=status_code,
        block_name=block if fragment else None,
    )
    response.headers["Vary"] = "HX-Request"
    return response


def render_block_html(request: Request, template: str, block: str, context: dict[str, Any]) -> str:
    """One block of a template as HTML (for caching a fragment)."""
    return render_block(templates.env, template, block, {"request": request, **context})
