"""Bulk update by spreadsheet: the upload form, the upload (a preview job) and applying a
preview (an apply job). The job pages show the outcome (templates/jobs/result_import_*.html).

The upload form works with htmx (the CSRF token in the x-csrftoken header) and without
JavaScript (the token as a form field, read for asgi-csrf by CSRFMiddleware in app/main.py).
"""

from __future__ import annotations

from typing import Annotated

from babel.numbers import format_decimal
from fastapi import APIRouter, BackgroundTasks, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app import readmodel
from app.deps import SessionDep
from app.i18n import get_language
from app.imports import parsing, service
from app.imports.uploads import upload_preview
from app.jobs import service as jobs
from app.monitor import reading as monitor_reading
from app.periods import service as periods
from app.permissions import CurrentUserDep, client_address
from app.policy import period_accepts_changes
from app.text import Text
from app.web import render, templates

router = APIRouter()

# templates/jobs/result_import_preview.html is included in the job's page, whose route is the
# jobs package's: a page of the preview's lines comes through this global.
templates.env.globals["import_preview_page"] = service.preview_page


def _form(
    request: Request, session: Session, period_id: int, *, error: str = "", status_code: int = 200
) -> Response:
    record = periods.get_period(session, period_id)
    programme = readmodel.programme_of_period(session, period_id)
    # An htmx upload swaps just the form (with its error) back in.
    return render(
        request,
        "imports/upload.html",
        {
            "programme": programme,
            "period": record,
            "accepts_changes": period_accepts_changes(record),
            "state_label": periods.state_label,
            "error": error,
            "max_megabytes": parsing.MAX_FILE_BYTES // 1024 // 1024,
            "max_rows": format_decimal(parsing.MAX_ROWS, locale=get_language()),
        },
        block="form",
        status_code=status_code,
    )


@router.get("/periods/{period_id}/import", name="import_form", include_in_schema=False)
def import_form(request: Request, session: SessionDep, period_id: int) -> Response:
    # An edition's spreadsheet is its figure sheet (app/monitor/sheets.py), not the status import.
    return monitor_reading.edition_redirect(
        request, session, period_id, "monitor_sheet_form"
    ) or _form(request, session, period_id)


@router.post("/periods/{period_id}/import", name="import_upload", include_in_schema=False)
def import_upload(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    background: BackgroundTasks,
    period_id: int,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    return upload_preview(
        request,
        session,
        background,
        file,
        form=lambda error: _form(request, session, period_id, error=error, status_code=422),
        submit=lambda content, filename, language: service.submit_preview(
            session,
            period_id=period_id,
            content=content,
            filename=filename,
            user=user,
            language=language,
        ),
    )


@router.post("/jobs/{job_id}/apply", name="import_apply", include_in_schema=False)
def import_apply(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    background: BackgroundTasks,
    job_id: int,
    confirmations: Annotated[Text, Form()] = "include",
) -> Response:
    """Apply a preview: with the rows that confirm activities unchanged, or (`leave`) the
    changes only."""
    job = service.submit_apply(
        session,
        preview_job_id=job_id,
        user=user,
        language=get_language(),
        address=client_address(request),
        confirm=confirmations != "leave",
    )
    jobs.run_after_response(request, session, background, job)
    return RedirectResponse(request.url_for("job", job_id=job.id).path, status_code=303)
