"""The documents the public site offers for download (the summary PDF and the full table as
PDF, in every language), made once per publication by a job and then served from storage.

Publishing a period (app/periods/service.py) queues one PUBLISH_JOB; the process that
published runs it after its response, and `voortgang seed` / `voortgang public-documents` run
any that are queued or missing (the seed's published report). An anonymous request only ever
reads the stored file: when it is not there yet, the site says the document is being prepared
(app/public/routes.py) and renders nothing. A period being corrected keeps the documents of its
report as published; once republished it has a new publication time, so new keys and a new
job.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from app.config import Settings
from app.db import transaction
from app.exports import service as exports
from app.i18n import LANGUAGES, format_date, get_language, gettext, set_language
from app.ids import id_of
from app.jobs import service as jobs
from app.jobs.models import Job, JobState, StoredFile
from app.periods import service as periods
from app.periods.models import PeriodKind, PeriodState, ReportingPeriod
from app.programmes.models import Programme
from app.public import charts, narrative, service, summary_pdf
from app.readmodel import ActivityFilters
from app.web import templates

PDF_MEDIA_TYPE = "application/pdf"
# Raise when the summary PDF's template or renderer changes, so stored summaries are made anew.
SUMMARY_VERSION = 2


def file_slug(text: str) -> str:
    """A file name part: "Voortgangsrapportage 2021" → "voortgangsrapportage-2021"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "report"


def table_path(slug: str, period_id: int) -> str:
    """The full table's address (the `public_table` route's; a test holds them together): the
    job has no request to ask."""
    return f"/public/{slug}/{period_id}/table"


def summary_context(
    report: service.PublicReport, *, language: str, table_url: str
) -> dict[str, Any]:
    """What the summary page and the summary PDF show; `table_url`: the full table's address,
    which the named activities link into."""
    context: dict[str, Any] = {
        "report": report,
        "programme": report.programme,
        "period": report.period,
        "table_url": table_url,
        "narrative": narrative.summary(
            report.rows, report.comparison, language, lambda row: f"{table_url}#activity-{row.id}"
        ),
        "line_texts": {
            line.number: narrative.action_line(line.counts, language)
            for line in report.board.action_lines
        },
        "action_line_chart": charts.action_lines_chart(report.board),
        "lines": report.action_lines(),
    }
    if report.comparison is not None:
        context["transition_chart"] = charts.transitions_chart(report.comparison)
        context["transitions"] = charts.transition_rows(report.comparison)
    return context


# -- where each document is stored ------------------------------------------------------------


def _moment(published_at: datetime) -> str:
    moment = published_at.astimezone(UTC) if published_at.tzinfo else published_at
    return f"{moment:%Y%m%dT%H%M%S%f}"


def summary_key(record: ReportingPeriod, language: str) -> str:
    assert record.published_at is not None
    return (
        f"public-summary:v{SUMMARY_VERSION}:period-{record.id}:"
        f"{_moment(record.published_at)}:{language}"
    )


def _table_request(period_id: int, language: str) -> exports.ExportRequest:
    """The full table as PDF: the exports' PDF of every activity (what staff download)."""
    return exports.ExportRequest(period_id, exports.get_format("pdf"), ActivityFilters(), language)


def _published_record(session: Session, slug: str, period_id: int) -> ReportingPeriod:
    """The published period of this programme; NotFound (the public site's one message) for
    anything else."""
    service.published_period(session, slug, period_id)
    return periods.get_period(session, period_id)


def summary_file(
    session: Session, *, slug: str, period_id: int, language: str
) -> StoredFile | None:
    """The stored summary PDF of a published period; None while its job has not made it."""
    record = _published_record(session, slug, period_id)
    return jobs.cached_file(session, summary_key(record, language))


def table_file(session: Session, *, slug: str, period_id: int, language: str) -> StoredFile | None:
    """The stored table PDF of a published period; None while its job has not made it."""
    _published_record(session, slug, period_id)
    return exports.stored_export(session, _table_request(period_id, language))


def _missing(session: Session, record: ReportingPeriod) -> list[str]:
    """The documents of a published period not stored yet, as "summary:nl", "table:en"."""
    missing = []
    for language in LANGUAGES:
        if jobs.cached_file(session, summary_key(record, language)) is None:
            missing.append(f"summary:{language}")
        if exports.stored_export(session, _table_request(id_of(record), language)) is None:
            missing.append(f"table:{language}")
    return missing


# -- the job ---------------------------------------------------------------------------------


def _render_summary(session: Session, record: ReportingPeriod, language: str) -> tuple[str, bytes]:
    programme = session.get(Programme, record.programme_id)
    assert programme is not None
    report = service.report(session, programme.slug, id_of(record))
    public_url = jobs.settings().public_url
    context = summary_context(
        report,
        language=language,
        table_url=public_url + table_path(programme.slug, id_of(record)),
    )
    html = templates.env.get_template("public/summary_pdf.html").render(
        format_date=format_date, content_lang=_foreign(language), **context
    )
    content = summary_pdf.render(html)
    return f"{file_slug(report.period.name)}-{file_slug(gettext('summary'))}.pdf", content


def _keep_summary(
    session: Session, record: ReportingPeriod, language: str, name: str, content: bytes
) -> None:
    try:
        with session.begin_nested():
            jobs.store_file(
                session,
                filename=name,
                media_type=PDF_MEDIA_TYPE,
                content=content,
                cache_key=summary_key(record, language),
            )
    except IntegrityError:  # made meanwhile by a job of an earlier publication's request
        pass


def _foreign(language: str) -> str | None:
    return None if language == service.CONTENT_LANGUAGE else service.CONTENT_LANGUAGE


@jobs.handler(periods.PUBLISH_JOB)
def render_documents(session: Session, job: Job, progress: jobs.Progress) -> jobs.Outcome:
    """Make every document of the published period that is not stored yet."""
    record = periods.get_period(session, int(job.params["period_id"]))
    # A period being corrected still shows its report as published (the public site reads
    # it so), and these are its documents; republishing queues a job for the corrected ones.
    if (
        record.state not in (PeriodState.published, PeriodState.correcting)
        or record.published_at is None
    ):
        # No longer published before the job ran: its next publication queues a job of its own.
        return jobs.Outcome(
            message=gettext("%(period)s is no longer published.") % {"period": record.name}
        )
    missing = _missing(session, record)
    before = get_language()
    made: list[tuple[str, str, str, bytes]] = []
    try:
        # Every document made first, then all stored: on SQLite the first write takes the
        # database's write lock until the job commits, and rendering takes seconds.
        for done, document in enumerate(missing):
            kind, language = document.split(":")
            set_language(language)
            progress(int(100 * done / len(missing)), gettext("Making the documents…"))
            if kind == "summary":
                made.append((kind, language, *_render_summary(session, record, language)))
            else:
                table = _table_request(id_of(record), language)
                made.append((kind, language, *exports.render(session, table)))
    finally:
        set_language(before)
    for kind, language, name, content in made:
        if kind == "summary":
            _keep_summary(session, record, language, name, content)
        else:
            exports.keep(
                session, _table_request(id_of(record), language), name=name, content=content
            )
    return jobs.Outcome(
        result={"made": missing},
        message=gettext("The documents of %(period)s are ready.") % {"period": record.name},
    )


# -- running the jobs outside a request --------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """What `prepare` did for one job, for the command's report."""

    period: str
    job_id: int
    state: JobState
    message: str


def _queued(session: Session) -> list[Job]:
    return list(
        session.scalars(
            select(Job)
            .where(col(Job.kind) == periods.PUBLISH_JOB, col(Job.state) == JobState.queued)
            .order_by(col(Job.id))
        )
    )


def _unfinished(session: Session) -> list[Job]:
    return list(
        session.scalars(
            select(Job)
            .where(
                col(Job.kind) == periods.PUBLISH_JOB,
                col(Job.state).in_([JobState.queued, JobState.running]),
            )
            .order_by(col(Job.id))
        )
    )


def queue_missing(session: Session, *, settings: Settings) -> list[Job]:
    """Queue a job for every published period whose documents are not all stored and that
    has no job queued, running or to be taken up again for them (a period published by the
    seed, or whose job failed or was interrupted too often)."""
    waiting = {
        int(job.params.get("period_id", 0))
        for job in _unfinished(session)
        if not jobs.interrupted(job, settings) or jobs.retried(job, settings)
    }
    queued = []
    records = session.scalars(
        select(ReportingPeriod)
        .where(
            col(ReportingPeriod.kind) == PeriodKind.progress.value,
            col(ReportingPeriod.state).in_(
                [PeriodState.published.value, PeriodState.correcting.value]
            ),
        )
        .order_by(col(ReportingPeriod.id))
    )
    for record in records:
        if id_of(record) not in waiting and _missing(session, record):
            queued.append(periods.queue_documents(session, period_id=id_of(record), actor=None))
    return queued


def prepare(engine: Engine, *, settings: Settings) -> list[Prepared]:
    """Queue the documents that are missing and run every queued job, here and now (the
    command line). Safe beside app processes: each job runs where it is claimed first."""
    with transaction(engine) as session:
        queue_missing(session, settings=settings)
        waiting = [id_of(job) for job in _unfinished(session) if jobs.abandoned(job, settings)]
        waiting += [id_of(job) for job in _queued(session) if id_of(job) not in waiting]
    # Queued ones, and those whose process stopped (taken up again; a job running in a live
    # process is not claimed).
    ran = [job_id for job_id in waiting if jobs.run(engine, job_id, settings=settings)]
    outcomes = []
    with transaction(engine) as session:
        for job_id in ran:
            job = session.get(Job, job_id)
            assert job is not None
            record = periods.get_period(session, int(job.params["period_id"]))
            outcomes.append(Prepared(record.name, job_id, job.state, job.message))
    return outcomes


def run_queued_after_response(request: Any, session: Session, background: Any) -> None:
    """After a publication: commit, and run the queued document jobs after the response
    (`jobs.run_after_response`)."""
    jobs.run_after_response(request, session, background, *_queued(session))
