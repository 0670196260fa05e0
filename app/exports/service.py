"""Exports: the progress table of a period in one of seven formats.

`export()` builds the table (app/exports/table.py) and hands it to the format's renderer. A
published period cannot change, so its exports are produced once and kept as stored files
under a cache key (period, its publication time, format, filters, language, whether the
documents print the organisations, renderer version);
the next request for the same export is served from storage. A reopened and republished period
has a new publication time, so a new key. Any other period is exported fresh each time and
marked as a draft.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.activities.models import Status
from app.errors import InvalidInput
from app.exports import docx, odt, opendata, pdf, spreadsheets
from app.exports.table import ProgressTable, build_table, load_period
from app.i18n import LANGUAGES, N_, gettext, translations_for
from app.jobs import service as jobs
from app.jobs.models import Job, StoredFile
from app.periods.models import PeriodState
from app.readmodel import ActivityFilters

# Raise when a renderer's output changes, so stored exports of published periods are made anew
# (never back: 4 made PDFs that repeated a continued result, 5 is the one layout again, 6 has
# the annex "Opvolging aanbevelingen").
RENDERER_VERSION = 6


@dataclass(frozen=True)
class Format:
    key: str
    label: str  # msgid, for the form
    extension: str
    media_type: str
    render: Callable[[ProgressTable], bytes]
    # A document (DOCX, ODT, PDF) prints organisations only when asked; the spreadsheets and
    # open data always have their organisations column.
    document: bool = False


FORMATS: dict[str, Format] = {
    fmt.key: fmt
    for fmt in (
        Format("docx", N_("Word document (DOCX)"), "docx", docx.MEDIA_TYPE, docx.render, True),
        Format("odt", N_("OpenDocument text (ODT)"), "odt", odt.MEDIA_TYPE, odt.render, True),
        Format("pdf", N_("PDF, A4 landscape"), "pdf", pdf.MEDIA_TYPE, pdf.render, True),
        Format(
            "xlsx",
            N_("Excel spreadsheet (XLSX)"),
            "xlsx",
            spreadsheets.XLSX_MEDIA_TYPE,
            spreadsheets.render_xlsx,
        ),
        Format(
            "ods",
            N_("OpenDocument spreadsheet (ODS)"),
            "ods",
            spreadsheets.ODS_MEDIA_TYPE,
            spreadsheets.render_ods,
        ),
        Format("csv", N_("CSV (UTF-8)"), "csv", opendata.CSV_MEDIA_TYPE, opendata.render_csv),
        Format("json", N_("JSON"), "json", opendata.JSON_MEDIA_TYPE, opendata.render_json),
    )
}


def get_format(key: str) -> Format:
    try:
        return FORMATS[key]
    except KeyError:
        raise InvalidInput(
            gettext("Unknown export format %(format)s; choose one of: %(formats)s")
            % {"format": repr(key), "formats": ", ".join(FORMATS)}
        ) from None


def parse_filters(
    *, action_line: str | int | None, organisation: str | None, statuses: list[str] | None
) -> ActivityFilters:
    """Filters from a form or the command line; a wrong value is refused with a message."""
    line: int | None = None
    if action_line not in (None, ""):
        try:
            line = int(action_line)
        except ValueError:
            raise InvalidInput(
                gettext("%(value)s is not an action line number.") % {"value": repr(action_line)}
            ) from None
    chosen: list[Status] = []
    for value in statuses or []:
        if not value:
            continue
        try:
            status = Status(value)
        except ValueError:
            raise InvalidInput(
                gettext("Unknown status %(status)s; use one of: %(statuses)s")
                % {"status": repr(value), "statuses": ", ".join(Status)}
            ) from None
        if status not in chosen:
            chosen.append(status)
    # In the legend's order, so the same choice always gives the same file (and cache key).
    ordered = tuple(status for status in Status if status in chosen)
    return ActivityFilters(
        statuses=ordered, action_line=line, organisation=(organisation or "").strip() or None
    )


def _language(language: str) -> str:
    if language not in LANGUAGES:
        raise InvalidInput(
            gettext("Unknown language %(language)s; use one of: %(languages)s")
            % {"language": repr(language), "languages": ", ".join(LANGUAGES)}
        )
    return language


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "export"


def filename(
    period_name: str,
    fmt: Format,
    filters: ActivityFilters,
    *,
    draft: bool,
    language: str,
    organisations: bool = False,
) -> str:
    """voortgangsrapportage-2021.docx; a selection, a document with organisations and a draft
    say so in the name (voortgangsrapportage-2022-actielijn-2-organisaties-concept.pdf)."""
    translations = translations_for(language)
    parts = [slug(period_name)]
    if filters.action_line is not None:
        parts.append(slug(translations.gettext("Action line")) + f"-{filters.action_line}")
    if filters.organisation:
        parts.append(slug(filters.organisation))
    if filters.statuses:
        parts.append("-".join(status.value.replace("_", "-") for status in filters.statuses))
    if organisations:
        parts.append(slug(translations.gettext("Organisations")))
    if draft:
        parts.append(slug(translations.gettext("draft")))
    return "-".join(parts) + "." + fmt.extension


def cache_key(
    *,
    period_id: int,
    published_at: datetime,
    fmt: Format,
    filters: ActivityFilters,
    language: str,
    organisations: bool = False,
) -> str:
    """The key a published period's export is stored under (at most 300 characters)."""
    moment = published_at.astimezone(UTC) if published_at.tzinfo else published_at
    selection = "|".join(
        (
            str(filters.action_line or ""),
            filters.organisation or "",
            ",".join(status.value for status in filters.statuses),
            "organisations" if organisations else "",
        )
    )
    digest = hashlib.sha256(selection.encode()).hexdigest()[:20]
    return (
        f"export:v{RENDERER_VERSION}:period-{period_id}:{moment:%Y%m%dT%H%M%S%f}:"
        f"{fmt.key}:{language}:{digest}"
    )


@dataclass(frozen=True)
class ExportRequest:
    period_id: int
    fmt: Format
    filters: ActivityFilters
    language: str
    organisations: bool = False  # documents: print the organisations under each activity

    def __post_init__(self) -> None:
        # Only documents have the choice: a spreadsheet asked for "with organisations" is the
        # same file (and the same stored export) as one without.
        if self.organisations and not self.fmt.document:
            object.__setattr__(self, "organisations", False)


def _published_key(session: Session, request: ExportRequest) -> str | None:
    """The cache key when the period is published, else None."""
    _, record = load_period(session, request.period_id)
    # A period being corrected exports its published report (build_table), the one stored.
    if (
        record.state not in (PeriodState.published, PeriodState.correcting)
        or record.published_at is None
    ):
        return None
    return cache_key(
        period_id=request.period_id,
        published_at=record.published_at,
        fmt=request.fmt,
        filters=request.filters,
        language=request.language,
        organisations=request.organisations,
    )


def stored_export(session: Session, request: ExportRequest) -> StoredFile | None:
    """The stored file of this export of a published period, if it was made before."""
    key = _published_key(session, request)
    return jobs.cached_file(session, key) if key else None


def _render(session: Session, request: ExportRequest, report: jobs.Progress) -> tuple[str, bytes]:
    """The file name and content of an export, made now."""
    report(10, gettext("Reading the activities of the period…"))
    table = build_table(
        session,
        period_id=request.period_id,
        filters=request.filters,
        language=request.language,
        show_organisations=request.organisations,
    )
    writing = gettext("Writing %(count)s activities as %(format)s…") % {
        "count": table.activity_count,
        "format": request.fmt.key.upper(),
    }
    report(40, writing)
    # A big document takes minutes; the job's runner keeps its heartbeat meanwhile.
    content = request.fmt.render(table)
    name = filename(
        table.period.name,
        request.fmt,
        request.filters,
        draft=table.draft,
        language=request.language,
        organisations=request.organisations,
    )
    return name, content


def _silent(percent: int, message: str) -> None:
    """No progress to report (the command line, a direct call)."""


def produce(
    session: Session,
    request: ExportRequest,
    *,
    user_id: int | None = None,
    progress: jobs.Progress = _silent,
) -> StoredFile:
    """The export as a stored file: for a published period the stored one when there is one,
    else made now (and, for a published period, kept under its cache key for every later
    request); any other period's export is stored for the user who asked for it."""
    key = _published_key(session, request)
    if key:
        existing = jobs.cached_file(session, key)
        if existing is not None:
            return existing
    name, content = _render(session, request, progress)
    progress(90, gettext("Storing the file…"))
    return keep(session, request, name=name, content=content, user_id=user_id)


def render(session: Session, request: ExportRequest) -> tuple[str, bytes]:
    """The file name and content of an export, made now and not stored (see `keep`)."""
    return _render(session, request, _silent)


def keep(
    session: Session,
    request: ExportRequest,
    *,
    name: str,
    content: bytes,
    user_id: int | None = None,
) -> StoredFile:
    """Store an export made by `render`: a published period's under its cache key (the one
    stored first when two processes made it at once), any other for the user who asked."""
    key = _published_key(session, request)
    if key is None:
        return jobs.store_file(
            session,
            filename=name,
            media_type=request.fmt.media_type,
            content=content,
            user_id=user_id,
        )
    # Two processes may make the same export at once: the first one stored wins.
    try:
        with session.begin_nested():
            return jobs.store_file(
                session,
                filename=name,
                media_type=request.fmt.media_type,
                content=content,
                cache_key=key,
                user_id=user_id,
            )
    except IntegrityError:
        existing = jobs.cached_file(session, key)
        assert existing is not None
        return existing


def export(
    session: Session,
    *,
    period_id: int,
    fmt: str,
    filters: ActivityFilters | None = None,
    language: str = "nl",
    organisations: bool = False,
) -> tuple[str, str, bytes]:
    """(filename, media type, content) of a period's export. A published period's export is
    made once, stored, and served from storage after that; a draft is made each time and not
    stored. `organisations`: a document (DOCX, ODT, PDF) prints each activity's organisations
    by name (off: the annex as sent to Parliament)."""
    request = ExportRequest(
        period_id,
        get_format(fmt),
        filters or ActivityFilters(),
        _language(language),
        organisations=organisations,
    )
    if _published_key(session, request):
        stored = produce(session, request)
        return stored.filename, stored.media_type, stored.content
    name, content = _render(session, request, _silent)
    return name, request.fmt.media_type, content


@jobs.handler("export")
def run_export_job(session: Session, job: Job, progress: jobs.Progress) -> jobs.Outcome:
    params = job.params
    request = ExportRequest(
        period_id=int(params["period_id"]),
        fmt=get_format(params["format"]),
        filters=parse_filters(
            action_line=params.get("action_line"),
            organisation=params.get("organisation"),
            statuses=params.get("statuses"),
        ),
        language=_language(params.get("language", "nl")),
        organisations=bool(params.get("organisations", False)),
    )
    stored = produce(session, request, user_id=job.created_by_id, progress=progress)
    return jobs.Outcome(
        file=stored,
        result={"format": request.fmt.key, "size": stored.size},
        message=gettext("The export %(name)s is ready.") % {"name": stored.filename},
    )
