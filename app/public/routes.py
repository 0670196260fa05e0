"""The public site: summaries, tables and open data of published reports, without an account.

Every route here has the rule `public` (app/permissions.py) and reads published periods only
(app/public/service.py). Pages and files are the same for every visitor, so they are kept in
the app's revision cache per language and address; nothing on them belongs to a session (no
forms, no CSRF token, no account menu).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.activities.presentation import UNCONFIRMED_STYLES
from app.cache import RevisionCache
from app.deps import SessionDep
from app.errors import InvalidInput, NotFound
from app.exports.columns import PUBLIC_COLUMNS
from app.i18n import N_, format_date, get_language
from app.jobs.models import StoredFile
from app.public import documents, narrative, search, service
from app.public.references import link_references
from app.revalidation import download_tag
from app.web import render, render_for_every_query, with_query

router = APIRouter(prefix="/public")


def _cached(request: Request, kind: str, build: Callable[[], Any]) -> Any:
    """What `build` makes, from the revision cache: the same for every visitor with this
    language and address. The query string is left out on purpose: no public page reads it
    (the language is in get_language(); the language switch's link gets it put in per
    request, see `_page`), and a made-up query must not make the server render a PDF anew."""
    store: RevisionCache = request.app.state.cache
    key = ("public", kind, get_language(), request.url.path)
    return store.get_or_build(request.state.revision, key, build)


def _not_found(request: Request, error: NotFound) -> Response:
    return render(request, "public/not_found.html", {"message": error.message}, status_code=404)


def _page(request: Request, build: Callable[[], Response]) -> Response:
    """A page from the cache, made for every query string; the language switch still gets
    this request's."""
    try:
        html = _cached(
            request,
            "page",
            lambda: render_for_every_query(request, lambda: bytes(build().body).decode()),
        )
    except NotFound as error:
        return _not_found(request, error)
    return HTMLResponse(with_query(request, html))


def _file(
    request: Request, build: Callable[[], tuple[str, str, bytes]], *, inline: bool = False
) -> Response:
    try:
        name, media_type, content = _cached(request, "file", build)
    except NotFound as error:
        return _not_found(request, error)
    disposition = "inline" if inline else "attachment"
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'{disposition}; filename="{name}"'},
    )


# How long a visitor is asked to wait for a document that is being made.
RETRY_AFTER_SECONDS = 60


def _document(
    request: Request, slug: str, period_id: int, find: Callable[[], StoredFile | None]
) -> Response:
    """A published document from storage (app/public/documents.py made it at publication);
    while it is not there yet, a page saying it is being prepared (503, Retry-After). Never
    made here: rendering takes seconds of CPU, and anyone could ask for it. Not cached: the
    job storing the file does not change the data revision."""
    try:
        stored = find()
    except NotFound as error:
        return _not_found(request, error)
    if stored is None:
        report = request.url_for("public_summary", slug=slug, period_id=period_id).path
        response = render(
            request,
            "public/preparing.html",
            _context(report_path=report, retry_after=RETRY_AFTER_SECONDS),
            status_code=503,
        )
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return Response(
        stored.content,
        media_type=stored.media_type,
        headers={
            "Content-Disposition": f'inline; filename="{stored.filename}"',
            "ETag": download_tag(stored.sha256, stored.media_type),
        },
    )


TYPE_LABELS = {
    "integer": N_("Whole number"),
    "text": N_("Text"),
    "datetime": N_("Date and time (ISO 8601, UTC)"),
}


def _context(**values: Any) -> dict[str, Any]:
    """What every public template gets."""
    return {
        "format_date": format_date,
        "link_references": link_references,
        "content_lang": _foreign(),
        **values,
    }


def _foreign() -> str | None:
    """The language of the programme's texts, when the page is in another."""
    return None if get_language() == service.CONTENT_LANGUAGE else service.CONTENT_LANGUAGE


def _summary_context(request: Request, report: service.PublicReport) -> dict[str, Any]:
    table = request.url_for("public_table", slug=report.programme.slug, period_id=report.period.id)
    return _context(
        **documents.summary_context(report, language=get_language(), table_url=table.path)
    )


# -- pages -----------------------------------------------------------------------------------


@router.get("/", include_in_schema=False, name="public_index")
def public_index(request: Request, session: SessionDep) -> Response:
    return _page(
        request,
        lambda: render(
            request,
            "public/index.html",
            _context(programmes=service.programmes_with_reports(session)),
        ),
    )


@router.get("/accessibility", include_in_schema=False, name="public_accessibility")
def public_accessibility(request: Request) -> Response:
    return _page(request, lambda: render(request, "public/accessibility.html", _context()))


@router.get("/search", include_in_schema=False, name="public_search")
def public_search(request: Request, session: SessionDep, q: str = "", page: str = "1") -> Response:
    """Search in the published reports. Not in the page cache (the answer depends on the
    query); the index it searches is, per data revision, so a publication shows at once."""
    store: RevisionCache = request.app.state.cache
    index = store.get_or_build(
        request.state.revision, ("public", "search-index"), lambda: search.build_index(session)
    )
    query = q.strip()
    try:
        result = search.search(index, query, page=int(page) if page.isdigit() else 1)
    except InvalidInput as error:
        return render(
            request,
            "public/search.html",
            _context(query=query, result=None, error=error.message),
            status_code=error.status_code,
        )
    return render(request, "public/search.html", _context(query=query, result=result, error=""))


@router.get("/{slug}/", include_in_schema=False, name="public_programme")
def public_programme(request: Request, session: SessionDep, slug: str) -> Response:
    """The latest published report of the programme: a stable address to link to."""
    try:
        programme, period = service.latest_period(session, slug)
    except NotFound as error:
        return _not_found(request, error)
    target = request.url_for("public_summary", slug=programme.slug, period_id=period.id).path
    return RedirectResponse(target, status_code=302)


@router.get("/{slug}/{period_id}", include_in_schema=False, name="public_summary")
def public_summary(request: Request, session: SessionDep, slug: str, period_id: int) -> Response:
    def build() -> Response:
        report = service.report(session, slug, period_id)
        return render(request, "public/summary.html", _summary_context(request, report))

    return _page(request, build)


@router.get(
    "/{slug}/{period_id}/action-lines/{number}",
    include_in_schema=False,
    name="public_action_line",
)
def public_action_line(
    request: Request, session: SessionDep, slug: str, period_id: int, number: int
) -> Response:
    """One action line of a report: its results and every activity with its status and
    explanation (the summary shows the counts, a click away from these)."""

    def build() -> Response:
        report = service.report(session, slug, period_id, compare=False)
        line = report.action_line(number)
        numbers = [group.number for group in report.action_lines()]
        index = numbers.index(number) if number in numbers else -1
        return render(
            request,
            "public/action_line.html",
            _context(
                report=report,
                programme=report.programme,
                period=report.period,
                line=line,
                line_text=narrative.action_line(line.counts, get_language()),
                previous_number=numbers[index - 1] if index > 0 else None,
                next_number=numbers[index + 1] if 0 <= index < len(numbers) - 1 else None,
            ),
        )

    return _page(request, build)


@router.get("/{slug}/{period_id}/table", include_in_schema=False, name="public_table")
def public_table(request: Request, session: SessionDep, slug: str, period_id: int) -> Response:
    def build() -> Response:
        report = service.report(session, slug, period_id, compare=False)
        return render(
            request,
            "public/table.html",
            _context(
                report=report,
                programme=report.programme,
                period=report.period,
                lines=report.action_lines(),
            ),
        )

    return _page(request, build)


@router.get("/{slug}/{period_id}/data", include_in_schema=False, name="public_data")
def public_data(request: Request, session: SessionDep, slug: str, period_id: int) -> Response:
    def build() -> Response:
        report = service.report(session, slug, period_id, compare=False)
        return render(
            request,
            "public/data.html",
            _context(
                programme=report.programme,
                period=report.period,
                activity_count=len(report.rows),
                unconfirmed=report.unconfirmed,
                unconfirmed_kinds=list(UNCONFIRMED_STYLES),
                columns=PUBLIC_COLUMNS,
                type_labels=TYPE_LABELS,
                publisher=service.PUBLISHER,
                licence_url=service.LICENCE_URL,
            ),
        )

    return _page(request, build)


# -- files -----------------------------------------------------------------------------------


@router.get("/{slug}/{period_id}/data.csv", include_in_schema=False, name="public_data_csv")
def public_data_csv(request: Request, session: SessionDep, slug: str, period_id: int) -> Response:
    return _file(
        request,
        lambda: service.open_data(
            session,
            slug=slug,
            period_id=period_id,
            fmt="csv",
            language=get_language(),
            schema_id=_schema_id(request, slug, period_id),
        ),
    )


@router.get("/{slug}/{period_id}/data.json", include_in_schema=False, name="public_data_json")
def public_data_json(request: Request, session: SessionDep, slug: str, period_id: int) -> Response:
    return _file(
        request,
        lambda: service.open_data(
            session,
            slug=slug,
            period_id=period_id,
            fmt="json",
            language=get_language(),
            schema_id=_schema_id(request, slug, period_id),
        ),
    )


@router.get("/{slug}/{period_id}/schema.json", include_in_schema=False, name="public_data_schema")
def public_data_schema(
    request: Request, session: SessionDep, slug: str, period_id: int
) -> Response:
    return _file(
        request,
        lambda: service.data_schema(
            session,
            slug=slug,
            period_id=period_id,
            schema_id=_schema_id(request, slug, period_id),
            language=get_language(),
        ),
        inline=True,
    )


@router.get("/{slug}/{period_id}/table.pdf", include_in_schema=False, name="public_table_pdf")
def public_table_pdf(request: Request, session: SessionDep, slug: str, period_id: int) -> Response:
    return _document(
        request,
        slug,
        period_id,
        lambda: documents.table_file(
            session, slug=slug, period_id=period_id, language=get_language()
        ),
    )


@router.get("/{slug}/{period_id}/summary.pdf", include_in_schema=False, name="public_summary_pdf")
def public_summary_pdf(
    request: Request, session: SessionDep, slug: str, period_id: int
) -> Response:
    return _document(
        request,
        slug,
        period_id,
        lambda: documents.summary_file(
            session, slug=slug, period_id=period_id, language=get_language()
        ),
    )


def _schema_id(request: Request, slug: str, period_id: int) -> str:
    """The open data's JSON Schema: its address is its id."""
    return request.url_for("public_data_schema", slug=slug, period_id=period_id).path
