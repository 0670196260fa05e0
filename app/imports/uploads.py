"""The web side of an upload that becomes a preview job, shared by the status import
(app/imports/routes.py) and the monitor's figure sheet (app/monitor/sheets.py): the checks of
the uploaded file, the form again with its error (422), and on to the job's page."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import BackgroundTasks, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app.i18n import get_language, gettext
from app.ids import id_of
from app.imports import parsing
from app.jobs import service as jobs
from app.jobs.models import Job
from app.web import is_htmx


def upload_preview(
    request: Request,
    session: Session,
    background: BackgroundTasks,
    file: UploadFile | None,
    *,
    form: Callable[[str], Response],
    submit: Callable[[bytes, str, str], Job],
) -> Response:
    """Read the uploaded `file` and queue its preview with `submit(content, filename,
    language)`; without a file or with a file refused, `form(error)` (the form with the error,
    status 422)."""
    if file is None or not file.filename:
        return form(gettext("Choose a file to upload."))
    # One byte more than allowed is enough to know the file is too big.
    content = file.file.read(parsing.MAX_FILE_BYTES + 1)
    try:
        job = submit(content, file.filename, get_language())
    except parsing.ImportFileError as error:
        return form(error.message)
    jobs.run_after_response(request, session, background, job)
    return to_job(request, id_of(job))


def to_job(request: Request, job_id: int) -> Response:
    """To the job's page: a redirect, or for htmx a full page load (not a swap)."""
    location = request.url_for("job", job_id=job_id).path
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)
