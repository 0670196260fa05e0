"""Jobs: long work recorded in the database, run after the response, with progress, outcome,
failure reasons and files; nothing of it kept in the process."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session

from app.clock import utc_now
from app.config import Settings
from app.errors import InvalidInput
from app.jobs import service as jobs
from app.jobs.models import Job, JobState
from app.main import create_app
from tests.factories import create_user, current_user, sign_in


@jobs.handler("test-echo")
def _echo(session: Session, job: Job, progress) -> jobs.Outcome:  # type: ignore[no-untyped-def]
    progress(50, "half way")
    if job.params.get("fail"):
        raise InvalidInput("De invoer deugt niet: regel 3.")
    if job.params.get("crash"):
        raise RuntimeError("boom")
    stored = jobs.store_file(
        session,
        filename="echo.txt",
        media_type="text/plain",
        content=job.params["text"].encode(),
        user_id=job.created_by_id,
    )
    return jobs.Outcome(file=stored, result={"length": len(job.params["text"])}, message="Klaar.")


@pytest.fixture
def app(settings: Settings):  # type: ignore[no-untyped-def]
    app = create_app(settings)
    yield app
    app.state.engine.dispose()


def _job(app, **params) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    with Session(app.state.engine) as session:
        email = create_user(session, "viewer")
        job = jobs.submit(
            session, kind="test-echo", params=params, user=current_user(session, email)
        )
        session.commit()
        return job.id, email  # type: ignore[return-value]


def test_a_job_runs_to_done_with_its_file(app) -> None:  # type: ignore[no-untyped-def]
    job_id, email = _job(app, text="hallo")
    jobs.run(app.state.engine, job_id)
    jobs.run(app.state.engine, job_id)  # a second run finds it claimed: nothing happens twice
    with Session(app.state.engine) as session:
        job = session.get(Job, job_id)
        assert job.state == JobState.done and job.progress == 100 and job.result == {"length": 5}
    with TestClient(app) as client:
        sign_in(client, email)
        page = client.get(f"/jobs/{job_id}")
        assert 'id="job-done"' in page.text and "echo.txt" in page.text
        download = client.get(f"/files/{job.file_id}")
        assert download.content == b"hallo"
        assert "echo.txt" in download.headers["content-disposition"]


def test_a_failing_job_says_why(app) -> None:  # type: ignore[no-untyped-def]
    for params, reason in (
        ({"fail": True}, "De invoer deugt niet: regel 3."),
        # Any other error: a generic message; its details ("boom") only in the log.
        ({"crash": True}, "Het werk is gestopt door een onverwachte fout."),
    ):
        job_id, email = _job(app, **params)
        jobs.run(app.state.engine, job_id)
        with Session(app.state.engine) as session:
            job = session.get(Job, job_id)
            assert job.state == JobState.failed and reason in job.message
        with TestClient(app) as client:
            sign_in(client, email)
            page = client.get(f"/jobs/{job_id}").text
            assert reason in page and "boom" not in page


def _interrupt(app, job_id: int, *, attempts: int) -> None:  # type: ignore[no-untyped-def]
    """What a process that died while running the job leaves: running, an old heartbeat."""
    with Session(app.state.engine) as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(
                state=JobState.running,
                attempts=attempts,
                heartbeat_at=utc_now() - timedelta(minutes=10),
            )
        )
        session.commit()


def test_an_interrupted_job_shows_so_and_its_page_takes_it_up_again(app) -> None:  # type: ignore[no-untyped-def]
    job_id, email = _job(app, text="x")
    _interrupt(app, job_id, attempts=1)
    # Without the lifespan: no sweeper of the app's own takes it up before the page does.
    client = TestClient(app)
    sign_in(client, email)
    page = client.get(f"/jobs/{job_id}")
    assert 'data-state="running"' in page.text and 'hx-trigger="every 1s"' in page.text
    assert "onderbroken" in page.text and "opnieuw opgepakt" in page.text
    # The page's look took it up after the response: done, at its second attempt.
    with Session(app.state.engine) as session:
        job = session.get(Job, job_id)
        assert job.state == JobState.done and job.attempts == 2
    assert 'id="job-done"' in client.get(f"/jobs/{job_id}").text


def test_an_interrupted_job_without_attempts_left_fails_with_the_reason(app) -> None:  # type: ignore[no-untyped-def]
    job_id, email = _job(app, text="x", language="en")
    _interrupt(app, job_id, attempts=3)
    client = TestClient(app)
    sign_in(client, email)
    page = client.get(f"/jobs/{job_id}")
    assert 'data-state="failed"' in page.text and "hx-trigger" not in page.text
    assert "3 keer onderbroken" in page.text and "niet opnieuw geprobeerd" in page.text
    with Session(app.state.engine) as session:
        job = session.get(Job, job_id)
        assert job.state == JobState.failed and job.attempts == 3 and job.finished_at
        # Recorded in the job's language; the page speaks the reader's.
        assert job.message.startswith("The work was interrupted 3 times")
    english = client.get(f"/jobs/{job_id}?lang=en").text
    assert "The work was interrupted 3 times (the server process stopped)" in english


def test_progress_page_polls_until_done_and_survives_a_reload(app) -> None:  # type: ignore[no-untyped-def]
    job_id, email = _job(app, text="x")
    with TestClient(app) as client:
        sign_in(client, email)
        waiting = client.get(f"/jobs/{job_id}")
        assert 'hx-trigger="every 1s"' in waiting.text and 'data-state="queued"' in waiting.text
        jobs.run(app.state.engine, job_id)
        fragment = client.get(f"/jobs/{job_id}", headers={"HX-Request": "true"})
        assert fragment.text.lstrip().startswith('<div id="job-status"')
        assert "hx-trigger" not in fragment.text and 'data-state="done"' in fragment.text


def test_only_the_owner_or_a_coordinator_sees_a_job_and_its_file(app) -> None:  # type: ignore[no-untyped-def]
    job_id, _ = _job(app, text="geheim")
    jobs.run(app.state.engine, job_id)
    with Session(app.state.engine) as session:
        other = create_user(session, "viewer")
        coordinator = create_user(session, "coordinator")
        file_id = session.get(Job, job_id).file_id
    with TestClient(app) as client:
        sign_in(client, other)
        assert client.get(f"/jobs/{job_id}").status_code == 403
        assert client.get(f"/files/{file_id}").status_code == 403
    with TestClient(app) as client:
        sign_in(client, coordinator)
        assert client.get(f"/files/{file_id}").content == b"geheim"
        assert client.get("/jobs/999999").status_code == 404
