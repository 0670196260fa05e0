"""A job's page (progress, then the outcome and its file) and file downloads."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import Response
from sqlmodel import Session

from app.config import Settings
from app.deps import SessionDep
from app.ids import id_of
from app.jobs import service
from app.jobs.models import Job, JobState
from app.permissions import CurrentUserDep
from app.revalidation import download_tag
from app.web import render

router = APIRouter()


def _context(session: Session, job: Job, settings: Settings) -> dict[str, Any]:
    interrupted = service.interrupted(job, settings)
    # Interrupted and not tried again: failed, as the next look for abandoned jobs records.
    given_up = interrupted and not service.retried(job, settings)
    return {
        "job": job,
        "finished": job.state in (JobState.done, JobState.failed) or given_up,
        "failed": job.state == JobState.failed or given_up,
        "retrying": interrupted and not given_up,
        "interruption": service.interruption(job, settings),
        "attempts": job.attempts,
        "max_attempts": settings.job_max_attempts,
        "file": service.file_of(session, job),
    }


@router.get("/jobs/{job_id}", include_in_schema=False, name="job")
def job_page(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    background: BackgroundTasks,
    job_id: int,
) -> Response:
    job = service.get_job(session, job_id, user)
    settings: Settings = request.app.state.settings
    if settings.jobs_in_web and service.abandoned(job, settings):
        # Its process stopped (or never started it): this one takes it up after the response.
        background.add_task(
            service.run_in_background, request.app.state.engine, id_of(job), settings=settings
        )
    return render(request, "jobs/job.html", _context(session, job, settings), block="status")


@router.get("/files/{file_id}", include_in_schema=False, name="stored_file")
def stored_file(session: SessionDep, user: CurrentUserDep, file_id: int) -> Response:
    stored = service.get_file(session, file_id, user)
    disposition = f"attachment; filename*=UTF-8''{quote(stored.filename)}"
    return Response(
        stored.content,
        media_type=stored.media_type,
        headers={
            "Content-Disposition": disposition,
            "ETag": download_tag(stored.sha256, stored.media_type),
            "Cache-Control": "private, max-age=3600",
        },
    )
