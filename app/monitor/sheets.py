"""The monitor's spreadsheets and exports on the web: an edition's figure sheet (download,
upload as a preview job, apply the preview as a job) and the edition's exports (XLSX, ODS and
the DOCX and PDF factsheet). The job pages show the outcome
(templates/jobs/result_figure_sheet_*.html); the links for an edition's page are in
templates/monitor/_sheet_links.html.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from babel.numbers import format_decimal
from fastapi import APIRouter, BackgroundTasks, File, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app import readmodel
from app.deps import SessionDep
from app.exports import monitor as exports
from app.i18n import get_language
from app.ids import id_of
from app.imports import parsing
from app.imports.uploads import upload_preview
from app.jobs import service as jobs
from app.monitor import figuresheet, service
from app.permissions import CurrentUserDep, client_address
from app.policy import period_accepts_changes
from app.web import render

router = APIRouter()


def _download(name: str, media_type: str, content: bytes) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
            "Cache-Control": "private, no-store",
        },
    )


@router.get(
    "/monitor/editions/{edition_id}/figure-sheet.xlsx",
    name="monitor_figure_sheet",
    include_in_schema=False,
)
def figure_sheet(session: SessionDep, edition_id: int) -> Response:
    language = get_language()
    view = service.edition_view(session, edition_id)
    return _download(
        figuresheet.sheet_filename(view, language),
        figuresheet.XLSX_MEDIA_TYPE,
        figuresheet.figure_sheet(view, language=language),
    )


def _form(
    request: Request, session: Session, edition_id: int, *, error: str = "", status_code: int = 200
) -> Response:
    edition = service.get_edition(session, edition_id)
    period = service.edition_period(session, edition)
    return render(
        request,
        "monitor/sheet_upload.html",
        {
            "programme": readmodel.programme_of_period(session, id_of(period)),
            "edition": edition,
            "period": period,
            "accepts_changes": period_accepts_changes(period),
            "error": error,
            "max_megabytes": parsing.MAX_FILE_BYTES // 1024 // 1024,
            "max_rows": format_decimal(parsing.MAX_ROWS, locale=get_language()),
        },
        block="form",
        status_code=status_code,
    )


@router.get(
    "/monitor/editions/{edition_id}/figure-sheet/import",
    name="monitor_sheet_form",
    include_in_schema=False,
)
def sheet_form(request: Request, session: SessionDep, edition_id: int) -> Response:
    return _form(request, session, edition_id)


@router.post(
    "/monitor/editions/{edition_id}/figure-sheet/import",
    name="monitor_sheet_upload",
    include_in_schema=False,
)
def sheet_upload(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    background: BackgroundTasks,
    edition_id: int,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    return upload_preview(
        request,
        session,
        background,
        file,
        form=lambda error: _form(request, session, edition_id, error=error, status_code=422),
        submit=lambda content, filename, language: figuresheet.submit_preview(
            session,
            edition_id=edition_id,
            content=content,
            filename=filename,
            user=user,
            language=language,
        ),
    )


@router.post("/jobs/{job_id}/apply-figures", name="monitor_sheet_apply", include_in_schema=False)
def sheet_apply(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    background: BackgroundTasks,
    job_id: int,
) -> Response:
    job = figuresheet.submit_apply(
        session,
        preview_job_id=job_id,
        user=user,
        language=get_language(),
        address=client_address(request),
    )
    jobs.run_after_response(request, session, background, job)
    return RedirectResponse(request.url_for("job", job_id=job.id).path, status_code=303)


@router.get(
    "/monitor/editions/{edition_id}/export.{fmt}", name="monitor_export", include_in_schema=False
)
def edition_export(session: SessionDep, edition_id: int, fmt: str) -> Response:
    """The edition as XLSX, ODS, DOCX or PDF, made now (an edition has tens of figures); a
    draft is marked as such in the file and its name."""
    name, media_type, content = exports.export_edition(
        session, edition_id, fmt=fmt, language=get_language()
    )
    return _download(name, media_type, content)
