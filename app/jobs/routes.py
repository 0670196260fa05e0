"""A job's page (progress, then the outcome and its file) and file downloads."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from app.deps import SessionDep
from app.jobs import service
from app.jobs.models import Job, JobState
from app.permissions import CurrentUserDep
from app.web import render

router = APIRouter()


def _context(session: Session, job: Job) -> dict[str, Any]:
    interrupted = service.interrupted(job)
    return {
        "job": job,
        "finished": job.state in (JobState.done, JobState.failed) or interrupted,
        "interrupted": interrupted,
        "file": service.file_of(session, job),
    }


@router.get("/jobs/{job_id}", include_in_schema=False, name="job")
def job_page(request: Request, session: SessionDep, user: CurrentUserDep, job_id: int) -> Response:
    job = service.get_job(session, job_id, user)
    return render(request, "jobs/job.html", _context(session, job), block="status")


@router.get("/files/{file_id}", include_in_schema=False, name="stored_file")
def stored_file(session: SessionDep, user: CurrentUserDep, file_id: int) -> Response:
    stored = service.get_file(session, file_id, user)
    disposition = f"attachment; filename*=UTF-8''{quote(stored.filename)}"
    return Response(
        stored.content,
        media_type=stored.media_type,
        headers={
            "Content-Disposition": disposition,
            "ETag": f'"{stored.sha256}"',
            "Cache-Control": "private, max-age=3600",
        },
    )
