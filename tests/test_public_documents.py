"""The public site's documents (summary and table as PDF) are made once, by the job that
publishing queues, and served from storage: an anonymous request never renders one."""

from __future__ import annotations

import dataclasses
import io
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from app.config import Settings
from app.db import make_engine, transaction
from app.exports import service as exports
from app.jobs import service as jobs
from app.jobs.models import Job, JobState, StoredFile
from app.main import create_app
from app.periods import service as periods
from app.public import documents, summary_pdf
from tests.cli import run_cli
from tests.factories import coordinator, csrf_from, sign_in
from tests.test_board import SLUG
from tests.test_public import period_id
from tests.test_publishing import _in_review

SEED_2021 = "Voortgangsrapportage 2021"
DOCUMENTS = ("summary.pdf", "table.pdf")


class Renders:
    """Counts every PDF rendered (the summary's and the exports' renderer), or fails."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, fail: bool = False) -> None:
        self.count = 0
        self.lock = threading.Lock()
        self.fail = fail
        real_summary = summary_pdf.render
        pdf = exports.FORMATS["pdf"]

        def summary(html: str) -> bytes:
            return self._rendered(lambda: real_summary(html))

        def table(table: Any) -> bytes:
            return self._rendered(lambda: pdf.render(table))

        monkeypatch.setattr(summary_pdf, "render", summary)
        monkeypatch.setitem(exports.FORMATS, "pdf", dataclasses.replace(pdf, render=table))

    def _rendered(self, make: Any) -> bytes:
        with self.lock:
            self.count += 1
        if self.fail:
            raise AssertionError("a PDF was rendered")
        return bytes(make())


def _jobs(session: Session) -> list[Job]:
    session.expire_all()
    return list(session.scalars(select(Job).where(Job.kind == periods.PUBLISH_JOB)))


def _stored_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(StoredFile)) or 0)


@pytest.fixture
def anonymous(seeded_settings: Settings) -> Iterator[TestClient]:
    app = create_app(seeded_settings)
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


def test_an_anonymous_request_never_renders_and_says_the_document_is_being_prepared(
    anonymous: TestClient, seeded_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    renders = Renders(monkeypatch, fail=True)
    published = period_id(seeded_session, SEED_2021)
    # The seeded database was loaded by the service, not by `voortgang seed`: no documents.
    for name in DOCUMENTS:
        for language, title in (("nl", "Dit document wordt voorbereid"), ("en", "being prepared")):
            response = anonymous.get(
                f"/public/{SLUG}/{published}/{name}", params={"lang": language}
            )
            assert response.status_code == 503, (name, language)
            assert response.headers["retry-after"] == "60"
            assert "text/html" in response.headers["content-type"]
            page = BeautifulSoup(response.text, "html.parser")
            assert title in page.select_one("#preparing-message h1").get_text()
            assert page.select_one("main a[href]")["href"] == f"/public/{SLUG}/{published}"
    assert renders.count == 0
    assert _stored_count(seeded_session) == 0
    # An unknown or unpublished period stays the same 404 as before.
    assert anonymous.get(f"/public/{SLUG}/999999/summary.pdf").status_code == 404


def test_publishing_queues_exactly_one_job_and_then_every_document_is_served(
    seeded_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the web: the coordinator publishes, the job runs after the response (the test
    client runs background tasks before it returns), and visitors get stored files."""
    app = create_app(seeded_settings)
    with Session(app.state.engine, expire_on_commit=False) as session:
        world = _in_review(session)
        assert _jobs(session) == []
        staff = TestClient(app)
        sign_in(staff, world.round.coordinator_email)
        token = csrf_from(staff.get(f"/periods/{world.period_id}/publish").text)
        published = staff.post(
            f"/periods/{world.period_id}/publish",
            data={"csrftoken": token, "accept_not_updated": "125", "accept_unapproved": "2"},
            follow_redirects=False,
        )
        assert published.status_code == 303
        [job] = _jobs(session)
        assert job.params == {"period_id": world.period_id}
        assert job.state == JobState.done, job.message
        assert sorted(job.result["made"]) == ["summary:en", "summary:nl", "table:en", "table:nl"]
        renders = Renders(monkeypatch, fail=True)
        with TestClient(app) as visitor:
            for name in DOCUMENTS:
                for language in ("nl", "en"):
                    path = f"/public/{SLUG}/{world.period_id}/{name}"
                    response = visitor.get(path, params={"lang": language})
                    assert response.status_code == 200, (name, language)
                    assert response.headers["content-type"] == "application/pdf"
                    assert response.content.startswith(b"%PDF")
            dutch = visitor.get(f"/public/{SLUG}/{world.period_id}/summary.pdf")
            english = visitor.get(f"/public/{SLUG}/{world.period_id}/summary.pdf?lang=en")
            assert dutch.content != english.content
            assert (
                "voortgangsrapportage-2022-samenvatting.pdf" in dutch.headers["content-disposition"]
            )
        assert renders.count == 0
        # The staff's PDF export of the published period is the stored table: no new render.
        assert exports.export(session, period_id=world.period_id, fmt="pdf")[2].startswith(b"%PDF")
        assert renders.count == 0
    app.state.engine.dispose()


def test_the_summary_pdf_links_to_the_public_table_at_the_public_address(
    seeded_settings: Settings, seeded_session: Session
) -> None:
    pypdf = pytest.importorskip("pypdf")
    engine = make_engine(seeded_settings.database_url)
    settings = seeded_settings.model_copy(update={"public_url": "https://voortgang.example.nl"})
    try:
        [outcome] = documents.prepare(engine, settings=settings)
    finally:
        engine.dispose()
    assert outcome.state == JobState.done and outcome.period == SEED_2021
    published = period_id(seeded_session, SEED_2021)
    app = create_app(seeded_settings)
    with TestClient(app) as visitor:
        # The job has no request: its path for the table is the route's.
        assert documents.table_path(SLUG, published) == str(
            app.url_path_for("public_table", slug=SLUG, period_id=published)
        )
        response = visitor.get(f"/public/{SLUG}/{published}/summary.pdf")
        assert response.status_code == 200
        reader = pypdf.PdfReader(io.BytesIO(response.content))
        content = " ".join(" ".join((p.extract_text() or "").split()) for p in reader.pages)
        assert "Van de 128 activiteiten in deze rapportage zijn er 36 voltooid" in content
        links = {
            annotation.get_object()["/A"].get("/URI")
            for page in reader.pages
            for annotation in page.get("/Annots", [])
            if "/A" in annotation.get_object()
        }
        assert f"https://voortgang.example.nl/public/{SLUG}/{published}/table" in links
        assert any(
            str(link).startswith(
                f"https://voortgang.example.nl/public/{SLUG}/{published}/table#activity-"
            )
            for link in links
        )
    app.state.engine.dispose()


def test_of_several_processes_only_one_renders(
    seeded_settings: Settings, seeded_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes (two engines) run the same queued job at once: the claim lets one."""
    renders = Renders(monkeypatch)
    published = period_id(seeded_session, SEED_2021)
    job = periods.queue_documents(seeded_session, period_id=published, actor=None)
    seeded_session.commit()
    engines = [make_engine(seeded_settings.database_url) for _ in range(2)]
    start = threading.Barrier(2)
    ran: list[bool] = []

    def process(engine: Any) -> None:
        start.wait()
        ran.append(jobs.run(engine, int(job.id), settings=seeded_settings))  # type: ignore[arg-type]

    threads = [threading.Thread(target=process, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for engine in engines:
        engine.dispose()
    assert sorted(ran) == [False, True]
    assert renders.count == 4  # summary and table, Dutch and English: once each
    assert _stored_count(seeded_session) == 4
    # Asking again queues nothing and renders nothing: everything is stored.
    engine = make_engine(seeded_settings.database_url)
    try:
        assert documents.prepare(engine, settings=seeded_settings) == []
    finally:
        engine.dispose()
    assert renders.count == 4


def test_a_job_for_a_period_being_corrected_makes_its_documents_as_published(
    seeded_session: Session, seeded_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A correction started before the publication's job ran: the public site still shows
    the report as published, so the job makes its documents (under the publication's keys)."""
    made: list[str] = []
    monkeypatch.setattr(summary_pdf, "render", lambda html: made.append("summary") or b"%PDF")
    pdf = exports.FORMATS["pdf"]
    monkeypatch.setitem(
        exports.FORMATS,
        "pdf",
        dataclasses.replace(pdf, render=lambda table: made.append("table") or b"%PDF"),
    )
    published = period_id(seeded_session, SEED_2021)
    job = periods.queue_documents(seeded_session, period_id=published, actor=None)
    periods.move_period(
        seeded_session,
        period_id=published,
        move="correct",
        actor=coordinator(seeded_session),
        reason="Een correctie.",
    )
    seeded_session.commit()
    engine = make_engine(seeded_settings.database_url)
    try:
        assert jobs.run(engine, int(job.id), settings=seeded_settings)  # type: ignore[arg-type]
        with transaction(engine) as session:
            done = session.get(Job, job.id)
            assert done is not None and done.state == JobState.done
    finally:
        engine.dispose()
    assert "summary" in made and "table" in made


def test_the_seed_command_leaves_the_published_report_ready(databases) -> None:  # type: ignore[no-untyped-def]
    url = databases.new("empty")
    assert run_cli("db", "upgrade", env={"DATABASE_URL": url}).exit_code == 0
    first = run_cli("seed", env={"DATABASE_URL": url})
    assert first.exit_code == 0, first.stderr
    assert f"public documents of {SEED_2021}: ready" in first.stdout
    again = run_cli("seed", env={"DATABASE_URL": url})
    assert again.exit_code == 0 and "public documents" not in again.stdout
    assert "Every published report has its public documents." in (
        run_cli("public-documents", env={"DATABASE_URL": url}).stdout
    )
    app = create_app(Settings(database_url=url, secret_key="test-secret", _env_file=None))  # type: ignore[call-arg]
    with TestClient(app) as visitor, Session(app.state.engine) as session:
        published = period_id(session, SEED_2021)
        assert len(_jobs(session)) == 1
        for name in DOCUMENTS:
            response = visitor.get(f"/public/{SLUG}/{published}/{name}")
            assert response.status_code == 200 and response.content.startswith(b"%PDF")
    app.state.engine.dispose()
