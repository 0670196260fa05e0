"""Jobs: long work (exports, imports) run outside the request, with its progress, outcome and
file in the database.

A route submits a job (committed), then asks for it to be run after the response
(`run_after_response`). Whichever process runs it claims it first (a compare-and-set from
queued to running), reports progress in short transactions of their own, and records the
outcome. Nothing about a job lives in the process: a page reload, or another process, sees the
same state. A running job whose process stopped shows as interrupted once its heartbeat is old.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col

from app.accounts.models import Role
from app.accounts.service import CurrentUser
from app.clock import utc_now
from app.config import Settings, get_settings
from app.db import transaction
from app.errors import DomainError, Forbidden, NotFound
from app.i18n import gettext, set_language
from app.jobs.models import Job, JobState, StoredFile

log = logging.getLogger(__name__)

# A running job that has not reported for this long was interrupted.
STALE_AFTER = timedelta(minutes=2)

Progress = Callable[[int, str], None]


@dataclass
class Outcome:
    """What a job handler hands back: a file to offer, and/or data for its result page."""

    file: StoredFile | None = None
    result: dict[str, Any] = field(default_factory=dict)
    message: str = ""


Handler = Callable[[Session, Job, Progress], Outcome]
HANDLERS: dict[str, Handler] = {}

# The settings of the app or command running a job, while it runs (a handler that sends mail
# needs them); the environment's when the runner gave none.
_running_settings: ContextVar[Settings | None] = ContextVar("job_settings", default=None)


def settings() -> Settings:
    """The settings a job handler runs with."""
    return _running_settings.get() or get_settings()


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that does the work of one kind of job."""

    def register(function: Handler) -> Handler:
        HANDLERS[kind] = function
        return function

    return register


def submit(session: Session, *, kind: str, params: dict[str, Any], user: CurrentUser | None) -> Job:
    if kind not in HANDLERS:
        raise NotFound(f"Unknown job kind {kind!r}")
    job = Job(kind=kind, params=params, created_by_id=user.id if user else None)
    session.add(job)
    session.flush()
    return job


def store_file(
    session: Session,
    *,
    filename: str,
    media_type: str,
    content: bytes,
    cache_key: str | None = None,
    user_id: int | None = None,
) -> StoredFile:
    stored = StoredFile(
        filename=filename,
        media_type=media_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        cache_key=cache_key,
        created_by_id=user_id,
    )
    session.add(stored)
    session.flush()
    return stored


def cached_file(session: Session, cache_key: str) -> StoredFile | None:
    return session.scalar(select(StoredFile).where(col(StoredFile.cache_key) == cache_key))


def _report(engine: Engine, job_id: int, percent: int, message: str) -> None:
    """Progress in a transaction of its own, so the page sees it while the job runs. Best
    effort: if the database is busy (SQLite while the job itself writes), skip this report."""
    try:
        with transaction(engine) as session:
            session.execute(
                update(Job)
                .where(col(Job.id) == job_id)
                .values(progress=max(0, min(100, percent)), message=message, heartbeat_at=utc_now())
            )
    except OperationalError:
        log.debug("progress report of job %s skipped: database busy", job_id)


def run(engine: Engine, job_id: int, *, settings: Settings | None = None) -> bool:
    """Claim and run one job to its end (done or failed, with the reason). `settings`: those
    of the app or command running it (default: read from the environment). False: another
    process has it, or it ran already."""
    token = _running_settings.set(settings)
    try:
        return _run(engine, job_id)
    finally:
        _running_settings.reset(token)


def _run(engine: Engine, job_id: int) -> bool:
    with transaction(engine) as session:
        claimed = session.execute(
            update(Job)
            .where(col(Job.id) == job_id, col(Job.state) == JobState.queued)
            .values(state=JobState.running, heartbeat_at=utc_now())
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE returns a CursorResult
            return False
    try:
        with transaction(engine) as session:
            job = session.get(Job, job_id)
            assert job is not None
            set_language(job.params.get("language", "nl"))
            outcome = HANDLERS[job.kind](
                session, job, lambda percent, message: _report(engine, job_id, percent, message)
            )
            job.state = JobState.done
            job.progress = 100
            job.message = outcome.message
            job.result = outcome.result
            job.file_id = outcome.file.id if outcome.file else None
            job.finished_at = utc_now()
    except Exception as error:  # noqa: BLE001 - every failure is recorded on the job
        reason = (
            error.message
            if isinstance(error, DomainError)
            else gettext("Unexpected error: %(error)s")
            % {"error": f"{type(error).__name__}: {error}"}
        )
        if not isinstance(error, DomainError):
            log.exception("job %s failed", job_id)
        with transaction(engine) as session:
            session.execute(
                update(Job)
                .where(col(Job.id) == job_id)
                .values(state=JobState.failed, message=reason, finished_at=utc_now())
            )
    return True


def run_after_response(request: Any, session: Session, background: Any, job: Job) -> None:
    """Commit the job (so that any process can see it), then run it after the response, in
    the thread pool."""
    session.commit()
    background.add_task(run, request.app.state.engine, job.id, settings=request.app.state.settings)


def interrupted(job: Job) -> bool:
    if job.state != JobState.running or job.heartbeat_at is None:
        return False
    beat = job.heartbeat_at
    if beat.tzinfo is None:
        beat = beat.replace(tzinfo=UTC)
    return utc_now() - beat > STALE_AFTER


def get_job(session: Session, job_id: int, user: CurrentUser) -> Job:
    """A job, for the user who started it or a coordinator."""
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(gettext("Job %(id)s does not exist") % {"id": job_id})
    if job.created_by_id != user.id and not user.at_least(Role.coordinator):
        raise Forbidden(gettext("This job was started by someone else."))
    return job


def file_of(session: Session, job: Job) -> StoredFile | None:
    """The file a finished job made, if it made one."""
    return session.get(StoredFile, job.file_id) if job.file_id else None


def get_file(session: Session, file_id: int, user: CurrentUser) -> StoredFile:
    """A stored file: a published period's export for every signed-in user, any other for
    whoever made it or a coordinator."""
    stored = session.get(StoredFile, file_id)
    if stored is None:
        raise NotFound(gettext("File %(id)s does not exist") % {"id": file_id})
    if (
        stored.cache_key is None
        and stored.created_by_id != user.id
        and not user.at_least(Role.coordinator)
    ):
        raise Forbidden(gettext("This file was made for someone else."))
    return stored
