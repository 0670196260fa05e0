"""Jobs: long work (exports, imports, public documents, planned reminders) run outside the
request, with its progress, outcome and file in the database.

A route submits a job (committed), then asks for it to be run after the response
(`run_after_response`; with JOBS_IN_WEB false it leaves it to `voortgang worker`), at most
JOB_CONCURRENCY at once in a process (`run_in_background`: the others stay queued). Whichever
process runs it claims it first: a compare-and-set on its attempt counter, from queued (or
interrupted, below) to running. It runs the handler in one transaction with the outcome, beats
its heartbeat meanwhile, and records the outcome only while it still holds its attempt. A busy
database (`app.db.is_database_busy`) is never a job's failure: a report is skipped, a claim
tried again, a run left to be taken up again; any other error fails the job, its details in
the log only.

A job whose process died is taken up again: a running job whose heartbeat is older than
JOB_STALE_SECONDS is claimed anew by another process (`take_up`: a worker's loop, a web
process's `Sweeper`, a look at the job's page), up to JOB_MAX_ATTEMPTS claims, and then marked
failed with the reason; a queued job nobody started is run too. Retrying is safe because a
handler's work and the job's outcome commit together or not at all: a process that died left
nothing behind. A kind whose work reaches outside the database (mail) is registered with
`retry=False`: interrupted, it is marked failed instead of done twice. Nothing about a job lives
in the process: a page reload, or another process, sees the same state.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from app.accounts.models import Role
from app.accounts.service import CurrentUser
from app.clock import as_utc, utc_now
from app.config import Settings, get_settings
from app.db import BACKGROUND_CONNECTIONS, is_database_busy, transaction
from app.errors import DomainError, Forbidden, NotFound
from app.i18n import gettext, ngettext, set_language
from app.ids import id_of
from app.jobs.models import Job, JobState, StoredFile

log = logging.getLogger(__name__)

Progress = Callable[[int, str], None]


@dataclass
class Outcome:
    """What a job handler hands back: a file to offer, and/or data for its result page."""

    file: StoredFile | None = None
    result: dict[str, Any] = field(default_factory=dict)
    message: str = ""


Handler = Callable[[Session, Job, Progress], Outcome]
HANDLERS: dict[str, Handler] = {}
# Kinds whose work reaches outside the database: interrupted, they are not run again.
NOT_RETRIED: set[str] = set()

# The settings of the app or command running a job, while it runs (a handler that sends mail
# needs them); the environment's when the runner gave none.
_running_settings: ContextVar[Settings | None] = ContextVar("job_settings", default=None)


def settings() -> Settings:
    """The settings a job handler runs with."""
    return _running_settings.get() or get_settings()


def stale_after(settings: Settings) -> timedelta:
    """A running job that has not reported for this long was interrupted."""
    return timedelta(seconds=settings.job_stale_seconds)


def handler(kind: str, *, retry: bool = True) -> Callable[[Handler], Handler]:
    """Register the function that does the work of one kind of job. `retry=False` for work
    that reaches outside the database (mail), which an interrupted run may have done in part:
    such a job is marked failed instead of run again."""

    def register(function: Handler) -> Handler:
        HANDLERS[kind] = function
        if not retry:
            NOT_RETRIED.add(kind)
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


def _owned(job_id: int, attempt: int) -> Any:
    """The job, while this attempt holds it: every write of a runner is guarded by it, so a
    process that lost its claim (taken for dead, then taken up elsewhere) changes nothing."""
    return and_(
        col(Job.id) == job_id, col(Job.attempts) == attempt, col(Job.state) == JobState.running
    )


def _report(
    engine: Engine, job_id: int, attempt: int, percent: int | None = None, message: str = ""
) -> None:
    """The job's heartbeat, with its progress if given, in a transaction of its own, so the
    page sees it while the job runs. Best effort: if the database is busy (SQLite while the
    job itself writes, every connection of the pool in use), skip this report."""
    values: dict[str, Any] = {"heartbeat_at": utc_now()}
    if percent is not None:
        values.update(progress=max(0, min(100, percent)), message=message)
    try:
        with transaction(engine) as session:
            session.execute(update(Job).where(_owned(job_id, attempt)).values(**values))
    except Exception as error:
        if not is_database_busy(error):
            raise
        log.debug("report of job %s skipped: database busy", job_id)


def _keep_beating(engine: Engine, job_id: int, attempt: int, interval: float) -> threading.Event:
    """Beat the job's heartbeat every `interval` seconds until the event returned is set, so
    that a long step without progress reports is not taken for a dead process."""
    done = threading.Event()

    def beat() -> None:
        while not done.wait(interval):
            try:
                _report(engine, job_id, attempt)
            except Exception:  # noqa: BLE001 - the thread must not die, or the job is taken over
                log.exception("heartbeat of job %s failed", job_id)

    # Not joined when the job ends: on SQLite a beat may wait for the job's own write lock,
    # and every write it makes afterwards is guarded by the attempt, so it changes nothing.
    threading.Thread(target=beat, name=f"job-{job_id}-heartbeat", daemon=True).start()
    return done


def _stale(settings: Settings) -> Any:
    """Running, with an old heartbeat (or none): its process stopped."""
    return and_(
        col(Job.state) == JobState.running,
        or_(
            col(Job.heartbeat_at).is_(None),
            col(Job.heartbeat_at) < utc_now() - stale_after(settings),
        ),
    )


def _waiting(settings: Settings, *, queued_for: timedelta | None) -> Any:
    """Jobs to take up: interrupted ones, and queued ones (all, or those queued for longer
    than `queued_for`)."""
    queued = col(Job.state) == JobState.queued
    if queued_for is not None:
        queued = and_(queued, col(Job.created_at) < utc_now() - queued_for)
    return or_(queued, _stale(settings))


def _retried(kind: str, attempts: int, settings: Settings) -> bool:
    """Whether an interrupted job is run again."""
    return kind not in NOT_RETRIED and attempts < settings.job_max_attempts


def claim(engine: Engine, job_id: int, settings: Settings) -> int | None:
    """Claim a queued job, or an interrupted one that may be tried again: a compare-and-set
    on its attempt counter, so of any number of processes exactly one gets each attempt. The
    attempt claimed, or None (another process has it; or the database is busy, as SQLite
    answers a process that lost the race: tried again a few times, soon, then left to a later
    look)."""
    for pause in CLAIM_RETRY_PAUSES:
        try:
            return _claim(engine, job_id, settings)
        except Exception as error:
            if not is_database_busy(error):
                raise
            log.info("job %s not claimed: database busy", job_id, exc_info=True)
        time.sleep(pause)
    return None


# How long `claim` waits before each new try when the database was busy (SQLite's write lock
# taken by another writer); after the last it leaves the job to a later look.
CLAIM_RETRY_PAUSES = (0.1, 0.3, 1.0, 0)


def _claim(engine: Engine, job_id: int, settings: Settings) -> int | None:
    with transaction(engine) as session:
        found = session.execute(
            select(col(Job.kind), col(Job.state), col(Job.attempts)).where(
                col(Job.id) == job_id, _waiting(settings, queued_for=None)
            )
        ).one_or_none()
        if found is None:
            return None
        kind, state, attempts = found
        if state == JobState.running and not _retried(kind, attempts, settings):
            return None  # `_give_up` records why
        claimed = session.execute(
            update(Job)
            .where(
                col(Job.id) == job_id,
                col(Job.attempts) == attempts,
                _waiting(settings, queued_for=None),
            )
            .values(state=JobState.running, attempts=attempts + 1, heartbeat_at=utc_now())
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE returns a CursorResult
            return None
    return int(attempts) + 1


def _give_up(engine: Engine, job_id: int, settings: Settings) -> bool:
    """Mark failed an interrupted job that is not tried again (its attempts used up, or work
    that reaches outside the database), with the reason in the job's language. A
    compare-and-set too: a job taken up meanwhile is left alone."""
    with transaction(engine) as session:
        job = session.get(Job, job_id)
        if (
            job is None
            or not interrupted(job, settings)
            or _retried(job.kind, job.attempts, settings)
        ):
            return False
        result: dict[str, Any] = {"interrupted": job.attempts}
        if job.kind in NOT_RETRIED:
            result["not_retried"] = True
        set_language(job.params.get("language", "nl"))
        given_up = session.execute(
            update(Job)
            .execution_options(synchronize_session=False)
            .where(col(Job.id) == job_id, col(Job.attempts) == job.attempts, _stale(settings))
            .values(
                state=JobState.failed,
                message=interruption_message(result),
                result=result,
                finished_at=utc_now(),
            )
        )
        return bool(given_up.rowcount == 1)  # type: ignore[attr-defined]


def interruption_message(result: dict[str, Any]) -> str:
    """Why a job that was interrupted is not tried again, in the current language."""
    if result.get("not_retried"):
        return gettext(
            "The work was interrupted (the server process stopped). It is not tried again by "
            "itself, because part of it may have been done already: check, and start it again "
            "if needed."
        )
    count = int(result.get("interrupted", 1))
    return ngettext(
        "The work was interrupted (the server process stopped) and is not tried again. "
        "Start it again.",
        "The work was interrupted %(num)d times (the server process stopped) and is not "
        "tried again. Start it again.",
        count,
    ) % {"num": count}


class _ClaimLost(Exception):
    """This process was taken for dead and its job taken up elsewhere: its work is undone."""


def run(engine: Engine, job_id: int, *, settings: Settings | None = None) -> bool:
    """Claim and run one job to its end (done or failed, with the reason): a queued one, or
    one whose process died that may be tried again. `settings`: those of the app or command
    running it (default: read from the environment). False: another process has it, or it
    ran already."""
    token = _running_settings.set(settings)
    try:
        return _run(engine, job_id, settings or get_settings())
    finally:
        _running_settings.reset(token)


def _hold_for_tests(settings: Settings, job_id: int) -> None:
    """JOB_HOLD_FILE (tests only): wait here, the work done but not committed, while the file
    exists, and say so in a file beside it; a test stops the process meanwhile."""
    hold = settings.job_hold_file
    if hold is None or not hold.exists():
        return
    hold.with_name(hold.name + ".reached").write_text(str(job_id))
    while hold.exists():
        time.sleep(0.05)


def _run(engine: Engine, job_id: int, settings: Settings) -> bool:
    attempt = claim(engine, job_id, settings)
    if attempt is None:
        return False
    beating = _keep_beating(engine, job_id, attempt, settings.job_stale_seconds / 4)
    kind = ""
    try:
        with transaction(engine) as session:
            job = session.get(Job, job_id)
            assert job is not None
            kind = job.kind
            set_language(job.params.get("language", "nl"))
            outcome = HANDLERS[kind](
                session,
                job,
                lambda percent, message: _report(
                    engine, job_id, attempt, percent=percent, message=message
                ),
            )
            _hold_for_tests(settings, job_id)
            beating.set()
            # The work and the outcome commit together, only while this attempt holds the job.
            finished = session.execute(
                update(Job)
                .execution_options(synchronize_session=False)
                .where(_owned(job_id, attempt))
                .values(
                    state=JobState.done,
                    progress=100,
                    message=outcome.message,
                    result=outcome.result,
                    file_id=outcome.file.id if outcome.file else None,
                    finished_at=utc_now(),
                )
            )
            if finished.rowcount != 1:  # type: ignore[attr-defined]
                raise _ClaimLost
    except _ClaimLost:
        log.warning("job %s attempt %s was taken up elsewhere; its work is undone", job_id, attempt)
        return False
    except Exception as error:  # noqa: BLE001 - every failure is recorded on the job
        if is_database_busy(error):
            # Not the job's fault: its work is undone, and the attempt (counted) is left to be
            # taken up again, as if its process had stopped (no heartbeat: at the next look).
            log.warning(
                "job %s attempt %s: database busy, left to be taken up again",
                job_id,
                attempt,
                exc_info=True,
            )
            _release(engine, job_id, attempt)
            return False
        if isinstance(error, DomainError):
            reason = error.message
        else:
            # The details (SQL, parameters) are for the log, not for the job's page.
            log.exception("job %s failed", job_id)
            reason = gettext(
                "The work stopped because of an unexpected error. The details are in the "
                "server's log; try again later, or tell the administrator."
            )
        with transaction(engine) as session:
            failed = session.execute(
                update(Job)
                .where(_owned(job_id, attempt))
                .values(state=JobState.failed, message=reason, finished_at=utc_now())
            )
        log.info("job %s (%s), attempt %s: failed: %s", job_id, kind, attempt, reason)
        return bool(failed.rowcount == 1)  # type: ignore[attr-defined]
    finally:
        beating.set()
    log.info("job %s (%s), attempt %s: done", job_id, kind, attempt)
    return True


def _release(engine: Engine, job_id: int, attempt: int) -> None:
    """Leave a running job to be taken up again: its heartbeat cleared, as a stopped process
    leaves it (with the attempt counted: `JOB_MAX_ATTEMPTS` bounds the tries)."""
    try:
        with transaction(engine) as session:
            session.execute(update(Job).where(_owned(job_id, attempt)).values(heartbeat_at=None))
    except Exception as error:
        if not is_database_busy(error):
            raise
        # Its heartbeat stops anyway: after JOB_STALE_SECONDS it is taken up all the same.
        log.warning("job %s not released: database busy", job_id)


def take_up(
    engine: Engine,
    *,
    settings: Settings,
    queued_for: timedelta | None = None,
    stop: threading.Event | None = None,
    limit: int = 100,
) -> int:
    """One pass over the jobs waiting for a process: run each queued job (with `queued_for`,
    only those queued for longer: the process that submitted one runs it itself) and each
    interrupted one that may be tried again; mark failed, with the reason, those that may
    not. Safe beside any number of processes doing the same: each job is claimed once per
    attempt. Stops between jobs once `stop` is set. The number of jobs run here."""
    with transaction(engine) as session:
        waiting = list(
            session.scalars(
                select(col(Job.id))
                .where(_waiting(settings, queued_for=queued_for))
                .order_by(col(Job.id))
                .limit(limit)
            )
        )
    ran = 0
    for job_id in (int(found) for found in waiting if found is not None):
        if stop is not None and stop.is_set():
            break
        try:
            if run(engine, job_id, settings=settings):
                ran += 1
            else:
                _give_up(engine, job_id, settings)
        except Exception as error:
            if not is_database_busy(error):
                raise
            # The database is busy or away: the next pass tries again.
            log.warning("job %s not taken up: database busy", job_id, exc_info=True)
    return ran


def take_up_one(engine: Engine, job_id: int, *, settings: Settings) -> bool:
    """Take up one job if nobody is running it: run it, or mark it failed. Whether it ran."""
    try:
        if run(engine, job_id, settings=settings):
            return True
        _give_up(engine, job_id, settings)
    except Exception as error:
        if not is_database_busy(error):
            raise
        log.warning("job %s not taken up: database busy", job_id, exc_info=True)
    return False


def work(engine: Engine, *, settings: Settings, stop: threading.Event, once: bool = False) -> int:
    """`voortgang worker`: run queued jobs and take up interrupted ones until `stop` is set
    (after the job at hand), looking again every JOB_POLL_SECONDS when there was nothing to
    do; `once`: a single pass. The number of jobs run."""
    ran = 0
    while not stop.is_set():
        try:
            this_pass = take_up(engine, settings=settings, stop=stop)
        except Exception as error:
            if not is_database_busy(error):
                raise
            log.warning("no look for jobs: database busy or away", exc_info=True)
            this_pass = 0
        ran += this_pass
        if once:
            break
        if not this_pass:
            stop.wait(settings.job_poll_seconds)
    return ran


class Sweeper:
    """The embedded worker of a web process with JOBS_IN_WEB (the default): at the start and
    then every half JOB_STALE_SECONDS it takes up the jobs other processes left: interrupted
    ones, and queued ones nobody started within JOB_STALE_SECONDS (the process that submitted
    a job runs it after its response). The jobs it runs, it runs in its own thread."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="job-sweeper", daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                take_up(
                    self.engine,
                    settings=self.settings,
                    queued_for=stale_after(self.settings),
                    stop=self._stop,
                )
            except Exception:  # noqa: BLE001 - a web process keeps serving; the next look retries
                log.exception("looking for abandoned jobs failed")
            self._stop.wait(self.settings.job_stale_seconds / 2)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        """Stop looking (after the job at hand; a job still running after `timeout` is left
        to be taken up by another process)."""
        self._stop.set()
        self._thread.join(timeout)


def run_after_response(request: Any, session: Session, background: Any, *submitted: Job) -> None:
    """Commit the jobs (so that any process can see them), then, unless a `voortgang worker`
    runs the jobs (JOBS_IN_WEB false), run them after the response, in the thread pool, as
    many at once as JOB_CONCURRENCY allows (`run_in_background`)."""
    session.commit()
    app_settings: Settings = request.app.state.settings
    if app_settings.jobs_in_web:
        for job in submitted:
            background.add_task(
                run_in_background, request.app.state.engine, id_of(job), settings=app_settings
            )


# Per engine (one per app): the jobs its process may run at once after its responses.
_slots: WeakKeyDictionary[Engine, threading.BoundedSemaphore] = WeakKeyDictionary()
_slots_lock = threading.Lock()


def concurrency(settings: Settings) -> int:
    """How many jobs a web process runs at once after its responses: each holds two of the
    BACKGROUND_CONNECTIONS (its work, its heartbeat) and a thread of the pool that sync routes
    share."""
    return settings.job_concurrency or max(1, BACKGROUND_CONNECTIONS // 2)


def _slots_of(engine: Engine, settings: Settings) -> threading.BoundedSemaphore:
    with _slots_lock:
        slots = _slots.get(engine)
        if slots is None:
            slots = _slots[engine] = threading.BoundedSemaphore(concurrency(settings))
        return slots


def _oldest_queued(engine: Engine) -> int | None:
    try:
        with transaction(engine) as session:
            found = session.scalar(
                select(col(Job.id))
                .where(col(Job.state) == JobState.queued)
                .order_by(col(Job.id))
                .limit(1)
            )
    except Exception as error:
        if not is_database_busy(error):
            raise
        return None  # the sweeper or a worker takes it up
    return None if found is None else int(found)


def run_in_background(engine: Engine, job_id: int, *, settings: Settings) -> None:
    """Take up a job after a response (`take_up_one`) if this process runs fewer than
    `concurrency` jobs; otherwise leave it queued. The queue is the database: a run that ends
    here takes up the oldest queued job, so a job left queued by a busy process is run by it
    soon after, or by any other process (a worker, a sweeper)."""
    slots = _slots_of(engine, settings)
    next_id: int | None = job_id
    while next_id is not None and slots.acquire(blocking=False):
        try:
            ran = take_up_one(engine, next_id, settings=settings)
        finally:
            slots.release()
        # Looked for after the release: a job that found every slot taken was committed
        # before, so it is seen here.
        next_id = _oldest_queued(engine) if ran else None
    if next_id == job_id:
        log.info("job %s left queued: %s jobs run in this process", job_id, concurrency(settings))


def interrupted(job: Job, app_settings: Settings | None = None) -> bool:
    """Running, but its process has not reported for JOB_STALE_SECONDS: it stopped.
    `app_settings`: the app's (default: those a job runs with)."""
    if job.state != JobState.running:
        return False
    if job.heartbeat_at is None:
        return True
    return utc_now() - as_utc(job.heartbeat_at) > stale_after(app_settings or settings())


def abandoned(job: Job, settings: Settings) -> bool:
    """Waiting for a process to take it up: interrupted, or queued for JOB_STALE_SECONDS."""
    if job.state == JobState.queued:
        return utc_now() - as_utc(job.created_at) > stale_after(settings)
    return interrupted(job, settings)


def retried(job: Job, settings: Settings) -> bool:
    """Whether a job, if it is interrupted, is taken up again."""
    return _retried(job.kind, job.attempts, settings)


def interruption(job: Job, settings: Settings) -> str | None:
    """Why a job failed because it was interrupted (or will, at the next look: it is not
    tried again), in the current language; None for any other job."""
    if job.state == JobState.failed and "interrupted" in job.result:
        return interruption_message(job.result)
    if interrupted(job, settings) and not retried(job, settings):
        return interruption_message(
            {"interrupted": job.attempts, "not_retried": job.kind in NOT_RETRIED}
        )
    return None


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
