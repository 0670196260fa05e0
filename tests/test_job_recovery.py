"""Jobs survive a crash: a job whose process died (SIGKILL, in the middle of an import apply)
is taken up by the next process and completes once; a queued job nobody started is run; the
attempts are bounded, then the job fails with the reason on its page; of processes racing for
an abandoned job exactly one gets it; `voortgang worker` runs jobs and stops cleanly.

The processes are real (`voortgang worker` and `voortgang serve`, tests/processes.py) on the
test's database, SQLite or PostgreSQL, with JOB_STALE_SECONDS shortened. A job is stopped in
its middle with JOB_HOLD_FILE: its work written, not committed, it waits while the file exists.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel import Session

from app.activities.models import StatusUpdate, UpdateSource
from app.audit.models import AuditEvent
from app.clock import utc_now
from app.config import Settings
from app.db import make_engine
from app.imports import service as imports
from app.jobs import service as jobs
from app.jobs.models import Job, JobState
from app.main import create_app
from tests.conftest import _settings
from tests.factories import create_user, current_user, sign_in
from tests.processes import AppProcess, CommandProcess
from tests.test_imports import World, write_file

# In the child processes: a job without a heartbeat for a second was interrupted.
STALE = {"JOB_STALE_SECONDS": "1", "JOB_POLL_SECONDS": "0.2"}
# Where a live process's job must not be taken from it: long enough for a starved heartbeat
# thread (a loaded machine) to beat in time.
LIVE = {"JOB_STALE_SECONDS": "5", "JOB_POLL_SECONDS": "0.2"}


@pytest.fixture
def world(seeded_session: Session) -> World:
    return World(seeded_session)


def _wait_for(what: str, check: Callable[[], bool], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _job(world: World, job_id: int) -> Job:
    world.session.commit()  # a new transaction: the processes write through their own
    world.session.expire_all()
    job = world.session.get(Job, job_id)
    assert job is not None
    return job


def _apply_job(world: World, *, language: str = "nl") -> tuple[int, int]:
    """A bulk update of the police editor's activities, previewed and submitted to be
    applied (committed, queued, run by nobody yet): the job's id and the number of changes."""
    records = [dict(record) for record in world.records]
    changed = world.police[:5]
    for record in records:
        if record["activity_id"] in changed:
            record["explanation"] = f"Na de crash bijgewerkt: {record['activity_id']}."
    preview = imports.submit_preview(
        world.session,
        period_id=world.period_id,
        content=write_file("csv", records),
        filename="bijwerken.csv",
        user=world.editor,
        language=language,
    )
    world.session.commit()
    assert jobs.run(world.session.get_bind(), preview.id)  # type: ignore[arg-type]
    assert _job(world, preview.id).state == JobState.done  # type: ignore[arg-type]
    apply = imports.submit_apply(
        world.session,
        preview_job_id=preview.id,  # type: ignore[arg-type]
        user=world.editor,
        language=language,
        address="203.0.113.7",
        confirm=False,  # the changes only: exactly five new versions
    )
    world.session.commit()
    return apply.id, len(changed)  # type: ignore[return-value]


def _imported(world: World) -> tuple[int, int]:
    """Versions written by an import, and `status.import` audit events, as committed now."""
    world.session.commit()
    return (
        world.session.scalar(
            select(func.count())
            .select_from(StatusUpdate)
            .where(StatusUpdate.source == UpdateSource.imported)
        ),
        world.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "status.import")
        ),
    )  # type: ignore[return-value]


@pytest.fixture
def hold(tmp_path: Path) -> Iterator[Path]:
    """JOB_HOLD_FILE: while it exists, a job whose work is written waits before its commit."""
    path = tmp_path / "hold"
    path.touch()
    yield path
    path.unlink(missing_ok=True)


def _kill_in_the_middle(world: World, database_url: str, job_id: int, hold: Path) -> None:
    """Run the job in a `voortgang worker` and SIGKILL it while the job's changes are
    written but not committed."""
    reached = hold.with_name(hold.name + ".reached")
    with CommandProcess(database_url, "worker", JOB_HOLD_FILE=str(hold), **STALE) as worker:
        _wait_for("the worker to be in the middle of the job", reached.exists)
        assert reached.read_text() == str(job_id)
        job = _job(world, job_id)
        assert job.state == JobState.running and job.attempts == 1
        worker.kill()
    hold.unlink()


def test_an_apply_killed_in_the_middle_is_taken_up_at_the_next_start_and_applied_once(
    world: World, seeded_database_url: str, hold: Path
) -> None:
    job_id, changes = _apply_job(world)
    before = _imported(world)
    _kill_in_the_middle(world, seeded_database_url, job_id, hold)
    # The crash left the data as it was and the job running, with no process behind it.
    assert _imported(world) == before
    assert _job(world, job_id).state == JobState.running

    # The next start of the web app (the embedded default: no worker) takes it up.
    with AppProcess(seeded_database_url, **STALE):
        _wait_for("the job to be done", lambda: _job(world, job_id).state == JobState.done)
    job = _job(world, job_id)
    assert job.attempts == 2 and job.result["applied"] == changes, job.message
    # Applied once: five versions, one import event.
    assert _imported(world) == (before[0] + changes, before[1] + 1)


@pytest.mark.parametrize("process", ["worker", "serve"])
def test_a_queued_job_nobody_started_is_run_by_a_worker_or_a_web_process(
    world: World, seeded_database_url: str, process: str
) -> None:
    # The process that submitted it died between its commit and the run.
    job_id, changes = _apply_job(world)
    before = _imported(world)
    if process == "worker":
        code, output = (
            CommandProcess(seeded_database_url, "worker", "--once", **STALE).start().wait()
        )
        assert code == 0 and "1 jobs run" in output, output
    else:
        with AppProcess(seeded_database_url, **STALE):
            _wait_for("the job to be done", lambda: _job(world, job_id).state == JobState.done)
    job = _job(world, job_id)
    assert job.state == JobState.done and job.attempts == 1, job.message
    assert _imported(world) == (before[0] + changes, before[1] + 1)


def test_a_job_interrupted_too_often_fails_with_the_reason_on_its_page(
    world: World, seeded_database_url: str, seeded_settings: Settings, hold: Path
) -> None:
    job_id, _ = _apply_job(world)
    before = _imported(world)
    _kill_in_the_middle(world, seeded_database_url, job_id, hold)
    one_second = seeded_settings.model_copy(update={"job_stale_seconds": 1})
    _wait_for("its heartbeat to be old", lambda: jobs.interrupted(_job(world, job_id), one_second))
    code, output = (
        CommandProcess(seeded_database_url, "worker", "--once", JOB_MAX_ATTEMPTS="1", **STALE)
        .start()
        .wait()
    )
    assert code == 0 and "0 jobs run" in output, output
    job = _job(world, job_id)
    assert job.state == JobState.failed and job.attempts == 1 and job.finished_at
    assert job.message == (
        "Het werk is onderbroken (het serverproces is gestopt) en wordt niet opnieuw "
        "geprobeerd. Start het opnieuw."
    )
    assert _imported(world) == before
    app = create_app(seeded_settings)
    try:
        client = TestClient(app)
        sign_in(client, world.editor_email)
        for language, reason in (
            ("nl", "Het werk is onderbroken (het serverproces is gestopt) en wordt niet"),
            ("en", "The work was interrupted (the server process stopped) and is not tried"),
        ):
            page = client.get(f"/jobs/{job_id}?lang={language}").text
            assert 'data-state="failed"' in page and reason in page
    finally:
        app.state.engine.dispose()


def test_a_job_in_a_live_process_is_not_taken_from_it(
    world: World, seeded_database_url: str, hold: Path
) -> None:
    """A process holding a job (its heartbeat beating, or on SQLite its write lock held) keeps
    it: a second worker, long after JOB_STALE_SECONDS, does not run it again."""
    job_id, changes = _apply_job(world)
    before = _imported(world)
    reached = hold.with_name(hold.name + ".reached")
    with CommandProcess(seeded_database_url, "worker", JOB_HOLD_FILE=str(hold), **LIVE) as first:
        _wait_for("the worker to be in the middle of the job", reached.exists)
        # Longer than JOB_STALE_SECONDS after its claim (on SQLite its beats wait for its own
        # write lock, which keeps a second worker out as well).
        time.sleep(float(LIVE["JOB_STALE_SECONDS"]) + 1)
        code, output = (
            CommandProcess(seeded_database_url, "worker", "--once", **LIVE).start().wait()
        )
        assert code == 0 and "0 jobs run" in output, output
        hold.unlink()
        _wait_for("the job to be done", lambda: _job(world, job_id).state == JobState.done)
        first.process.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
        code, output = first.wait()
        assert code == 0 and "1 jobs run" in output, output  # stopped cleanly
    job = _job(world, job_id)
    assert job.attempts == 1 and job.result["applied"] == changes
    assert _imported(world) == (before[0] + changes, before[1] + 1)


def _leave_running(world: World, job_id: int, *, attempts: int = 1) -> None:
    """What a process that died while running the job leaves: running, an old heartbeat."""
    world.session.execute(
        update(Job)
        .where(Job.id == job_id)  # type: ignore[arg-type]
        .values(
            state=JobState.running,
            attempts=attempts,
            heartbeat_at=utc_now() - timedelta(minutes=5),
        )
    )
    world.session.commit()


def test_of_processes_racing_for_an_abandoned_job_one_claims_it(
    world: World, seeded_database_url: str
) -> None:
    job_id, changes = _apply_job(world)
    before = _imported(world)
    settings = _settings(seeded_database_url).model_copy(update={"job_max_attempts": 100})
    # Compare-and-set: eight connections claim at the same moment, twenty times over.
    engines = [make_engine(settings.database_url) for _ in range(8)]
    try:
        for round_number in range(20):
            _leave_running(world, job_id, attempts=round_number)
            start = threading.Barrier(len(engines))
            claimed: list[int | None] = []

            def claim(engine: Any, start: threading.Barrier, claimed: list[int | None]) -> None:
                start.wait()
                claimed.append(jobs.claim(engine, job_id, settings))

            threads = [
                threading.Thread(target=claim, args=(engine, start, claimed)) for engine in engines
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert sorted(claimed, key=str) == [round_number + 1] + [None] * 7
    finally:
        for engine in engines:
            engine.dispose()
    # Two real workers at once on the abandoned job: it is applied once.
    _leave_running(world, job_id, attempts=1)
    racing = [
        CommandProcess(seeded_database_url, "worker", "--once", **STALE).start() for _ in range(2)
    ]
    outputs = [process.wait() for process in racing]
    assert all(code == 0 for code, _ in outputs), outputs
    assert sorted(output.count("1 jobs run") for _, output in outputs) == [0, 1], outputs
    job = _job(world, job_id)
    assert job.state == JobState.done and job.attempts == 2
    assert _imported(world) == (before[0] + changes, before[1] + 1)


# -- in this process -------------------------------------------------------------------------


@jobs.handler("test-slow")
def _slow(session: Session, job: Job, progress) -> jobs.Outcome:  # type: ignore[no-untyped-def]
    time.sleep(job.params["seconds"])
    return jobs.Outcome(message="Klaar.")


def test_a_long_step_keeps_the_heartbeat_so_the_job_is_not_taken_for_interrupted(
    settings: Settings,
) -> None:
    # Stale after 3 s (a beat every 0.75 s), the handler sleeps longer than that.
    fast = settings.model_copy(update={"job_stale_seconds": 3})
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            job = jobs.submit(session, kind="test-slow", params={"seconds": 4.5}, user=None)
            session.commit()
            job_id = job.id
        runner = threading.Thread(target=jobs.run, args=(engine, job_id), kwargs={"settings": fast})
        runner.start()
        seen = []
        while runner.is_alive():
            with Session(engine) as session:
                current = session.get(Job, job_id)
                assert current is not None
                if current.state == JobState.running:
                    seen.append(current.heartbeat_at)
                    assert not jobs.interrupted(current, fast)
                    assert jobs.claim(engine, job_id, fast) is None  # nobody takes it over
            time.sleep(0.1)
        runner.join()
        assert len(set(seen)) >= 2  # it beat while the handler slept
        with Session(engine) as session:
            done = session.get(Job, job_id)
            assert done is not None and done.state == JobState.done and done.attempts == 1
    finally:
        engine.dispose()


def test_with_a_worker_deployed_web_processes_leave_the_jobs_to_it(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"jobs_in_web": False, "job_stale_seconds": 1}))
    try:
        with Session(app.state.engine) as session:
            email = create_user(session, "viewer")
            job = jobs.submit(
                session, kind="test-slow", params={"seconds": 0}, user=current_user(session, email)
            )
            job.created_at = utc_now() - timedelta(minutes=5)  # nobody started it
            session.commit()
            job_id = job.id
        with TestClient(app) as client:  # its lifespan starts no look for abandoned jobs
            sign_in(client, email)
            # Nor does a look at the job's page take it up.
            assert 'data-state="queued"' in client.get(f"/jobs/{job_id}").text
            time.sleep(0.6)
        with Session(app.state.engine) as session:
            assert session.get(Job, job_id).state == JobState.queued  # type: ignore[union-attr]
        assert jobs.work(app.state.engine, settings=settings, stop=threading.Event(), once=True)
        with Session(app.state.engine) as session:
            assert session.get(Job, job_id).state == JobState.done  # type: ignore[union-attr]
    finally:
        app.state.engine.dispose()


def test_work_in_a_savepoint_commits_with_its_transaction_not_at_its_release(
    engine: Engine,
) -> None:
    """A job's work and outcome are all or nothing, also when the work's first write is in a
    savepoint (an import's all-rows block): on SQLite its RELEASE must not commit."""
    with Session(engine) as session:
        session.execute(select(func.count()).select_from(Job))  # reads first, as a handler does
        with session.begin_nested():
            session.add(Job(kind="test-slow", params={"seconds": 0}))
        session.rollback()  # the process died before the job's outcome was committed
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 0


# -- a busy database, faults, and the bound on jobs at once -----------------------------------


def _exhausted(engine: Engine) -> list[Any]:
    """Every connection of `engine`'s pool (BACKGROUND_CONNECTIONS included) checked out: a
    further checkout waits its timeout and raises the pool's TimeoutError."""
    held = []
    while True:
        try:
            held.append(engine.connect())
        except PoolTimeout:
            return held


def _release_all(held: list[Any]) -> None:
    for connection in held:
        connection.close()


def _submitted(engine: Engine, kind: str, **params: Any) -> int:
    with Session(engine) as session:
        job = jobs.submit(session, kind=kind, params=params, user=None)
        session.commit()
        return job.id  # type: ignore[return-value]


def _read(settings: Settings, job_id: int) -> Job:
    reader = make_engine(settings.database_url)
    try:
        with Session(reader) as session:
            job = session.get(Job, job_id)
            assert job is not None
            return job
    finally:
        reader.dispose()


def test_a_full_pool_skips_a_report_and_the_heartbeat_keeps_beating(settings: Settings) -> None:
    engine = make_engine(settings.database_url, pool_size=1, timeout=0.2)
    try:
        job_id = _submitted(engine, "test-slow", seconds=0)
        assert jobs.claim(engine, job_id, settings) == 1
        claimed_beat = _read(settings, job_id).heartbeat_at
        held = _exhausted(engine)
        try:
            jobs._report(engine, job_id, 1, 50, "half")  # skipped, not raised
            beating = jobs._keep_beating(engine, job_id, 1, 0.05)
            time.sleep(1)  # a few beats meet the full pool
        finally:
            _release_all(held)
        try:
            # The beating thread survived them: the heartbeat moves again.
            _wait_for(
                "the heartbeat to beat again",
                lambda: _read(settings, job_id).heartbeat_at != claimed_beat,
                timeout=30,
            )
        finally:
            beating.set()
    finally:
        engine.dispose()


def test_a_claim_that_meets_a_busy_database_is_tried_again_soon(settings: Settings) -> None:
    engine = make_engine(settings.database_url, pool_size=1, timeout=0.2)
    try:
        job_id = _submitted(engine, "test-slow", seconds=0)
        held = _exhausted(engine)
        threading.Timer(0.3, _release_all, args=(held,)).start()
        assert jobs.claim(engine, job_id, settings) == 1
    finally:
        engine.dispose()


@jobs.handler("test-busy")
def _busy(session: Session, job: Job, progress) -> jobs.Outcome:  # type: ignore[no-untyped-def]
    """Meets a busy database (every connection in use) on its first attempt."""
    if job.attempts == 1:
        crowded = make_engine(jobs.settings().database_url, pool_size=1, timeout=0.05)
        try:
            held = _exhausted(crowded)
            try:
                crowded.connect()
            finally:
                _release_all(held)
        finally:
            crowded.dispose()
    return jobs.Outcome(message="Klaar.")


def test_a_busy_database_in_a_handler_leaves_the_job_to_be_taken_up_again(
    settings: Settings, engine: Engine
) -> None:
    job_id = _submitted(engine, "test-busy")
    assert not jobs.run(engine, job_id, settings=settings)
    job = _read(settings, job_id)
    assert job.state == JobState.running and job.attempts == 1, job.message
    assert job.heartbeat_at is None and jobs.interrupted(job, settings)
    assert jobs.take_up(engine, settings=settings) == 1  # the next look runs it again
    job = _read(settings, job_id)
    assert job.state == JobState.done and job.attempts == 2


@jobs.handler("test-fault")
def _fault(session: Session, job: Job, progress) -> jobs.Outcome:  # type: ignore[no-untyped-def]
    session.execute(text("SELECT secret_column FROM no_such_table WHERE 1 = 1"))
    return jobs.Outcome()


@pytest.mark.parametrize(
    ("language", "reason"),
    [
        ("nl", "Het werk is gestopt door een onverwachte fout. De details staan in het logboek"),
        ("en", "The work stopped because of an unexpected error. The details are in the"),
    ],
)
def test_an_unexpected_error_is_logged_and_its_details_kept_off_the_page(
    settings: Settings, engine: Engine, caplog: pytest.LogCaptureFixture, language: str, reason: str
) -> None:
    job_id = _submitted(engine, "test-fault", language=language)
    with caplog.at_level(logging.ERROR, logger="app.jobs.service"):
        assert jobs.run(engine, job_id, settings=settings)
    job = _read(settings, job_id)
    assert job.state == JobState.failed and job.attempts == 1  # a fault: not tried again
    assert job.message.startswith(reason), job.message
    assert "no_such_table" not in job.message and "SELECT" not in job.message
    assert "no_such_table" in caplog.text  # the details are in the log
    # Not a busy database: a look for jobs does not take it for one and try it again.
    assert jobs.take_up(engine, settings=settings) == 0


def test_a_burst_of_jobs_runs_at_most_the_bound_at_once_and_all_complete(
    settings: Settings, hold: Path
) -> None:
    bound, burst = 2, 6
    app = create_app(settings.model_copy(update={"job_concurrency": bound, "job_hold_file": hold}))
    engine = app.state.engine
    running = select(func.count()).select_from(Job).where(Job.state == JobState.running)  # type: ignore[arg-type]
    try:
        job_ids = [_submitted(engine, "test-slow", seconds=0) for _ in range(burst)]
        # As the thread pool runs the background tasks of `burst` responses, all at once.
        threads = [
            threading.Thread(
                target=jobs.run_in_background,
                args=(engine, job_id),
                kwargs={"settings": app.state.settings},
            )
            for job_id in job_ids
        ]
        for thread in threads:
            thread.start()
        with Session(make_engine(settings.database_url)) as watcher:

            def count() -> int:
                watcher.rollback()
                return int(watcher.scalar(running) or 0)

            _wait_for("the bound to be reached", lambda: count() == bound)
            # The others found no slot: their tasks ended, the jobs left queued.
            _wait_for(
                "the tasks over the bound to end",
                lambda: sum(thread.is_alive() for thread in threads) == bound,
            )
            with TestClient(app) as client:  # meanwhile the process answers requests
                for _ in range(5):
                    assert client.get("/public/").status_code == 200
                    assert count() == bound
            seen = [count()]
            hold.unlink()
            done = select(func.count()).select_from(Job).where(Job.state == JobState.done)  # type: ignore[arg-type]

            def all_done() -> bool:
                seen.append(count())
                return watcher.scalar(done) == burst

            # The runs that end take up the queued jobs, two at a time.
            _wait_for("every job to be done", all_done)
            assert max(seen) <= bound, seen
        for thread in threads:
            thread.join()
    finally:
        engine.dispose()
