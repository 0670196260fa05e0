"""What the public site shows: published reporting periods only, as they counted for their
report.

Everything here reads the board's read-model with a published PeriodRow, so every status and
explanation is the approved one (or the period's starting point): no proposal, review comment,
author or version number is ever read, let alone shown. A period that is not published does
not exist for the public site: asking for it is the same NotFound as asking for an id that
does not exist, so nobody can tell a draft from a gap.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from app import readmodel
from app.activities.models import STATUS_ORDER, Status
from app.compare.service import Comparison, compare_periods
from app.errors import NotFound
from app.exports import opendata
from app.exports import service as exports
from app.exports.columns import PUBLIC_COLUMNS
from app.exports.table import build_table
from app.i18n import N_, gettext
from app.periods import service as periods_service
from app.readmodel import (
    ActivityRow,
    Board,
    PeriodRow,
    ProgrammeRow,
    StatusCounts,
    UnconfirmedCount,
)

# The language the programme's own texts (titles, explanations) are written in.
CONTENT_LANGUAGE = "nl"
PUBLISHER = "Ministerie van Justitie en Veiligheid"
LICENCE_NAME = "CC0 1.0"
LICENCE_URL = "https://creativecommons.org/publicdomain/zero/1.0/deed.nl"
SCHEMA_MEDIA_TYPE = "application/schema+json"

# "On track" in the headline figures and the narrative: work that goes as planned.
ON_TRACK: tuple[Status, ...] = (Status.ongoing, Status.on_schedule)


@dataclass(frozen=True)
class Figure:
    """A headline figure: a number of activities now, and in the previous published period."""

    key: str
    label: str  # English msgid
    statuses: tuple[Status, ...] | None  # None: all activities
    count: int
    previous: int | None

    @property
    def change(self) -> int | None:
        return None if self.previous is None else self.count - self.previous


FIGURES: tuple[tuple[str, str, tuple[Status, ...] | None], ...] = (
    ("total", N_("Activities"), None),
    ("completed", N_("Completed"), (Status.completed,)),
    ("on_track", N_("On track"), ON_TRACK),
    ("delayed", N_("Delayed"), (Status.delayed,)),
    ("not_started", N_("Not started yet"), (Status.not_started,)),
)


def count_of(counts: StatusCounts, statuses: tuple[Status, ...] | None) -> int:
    if statuses is None:
        return counts.total
    return sum(counts.counts.get(status, 0) for status in statuses)


@dataclass
class ResultGroup:
    number: int
    title: str
    note: str
    rows: list[ActivityRow] = field(default_factory=list)

    @property
    def counts(self) -> StatusCounts:
        return readmodel.status_counts(self.rows)


@dataclass
class ThemeGroup:
    title: str
    results: list[ResultGroup] = field(default_factory=list)


@dataclass
class ActionLineGroup:
    number: int
    title: str
    counts: StatusCounts
    themes: list[ThemeGroup] = field(default_factory=list)

    @property
    def results(self) -> list[ResultGroup]:
        return [result for theme in self.themes for result in theme.results]

    @property
    def unconfirmed(self) -> list[UnconfirmedCount]:
        """As PublicReport.unconfirmed, of this action line's activities (its page)."""
        return readmodel.unconfirmed_counts(
            row.source for result in self.results for row in result.rows
        )


@dataclass
class PublicReport:
    programme: ProgrammeRow
    period: PeriodRow
    # The programme's published periods, newest first.
    periods: list[PeriodRow]
    previous: PeriodRow | None
    board: Board
    previous_board: Board | None
    rows: list[ActivityRow]
    comparison: Comparison | None
    # When the report was last republished after a correction (None: never corrected).
    corrected_at: datetime | None = None

    @property
    def unconfirmed(self) -> list[UnconfirmedCount]:
        """How many statuses were derived or carried over rather than stated for the report:
        the notice at the top of every page says so, and each of them is marked."""
        return readmodel.unconfirmed_counts(row.source for row in self.rows)

    @property
    def statuses(self) -> list[Status]:
        """The statuses that occur in this period, in the legend's order (table columns)."""
        return [status for status in STATUS_ORDER if self.board.totals.counts.get(status)]

    def figures(self) -> list[Figure]:
        before = self.previous_board.totals if self.previous_board else None
        return [
            Figure(
                key,
                label,
                statuses,
                count_of(self.board.totals, statuses),
                count_of(before, statuses) if before is not None else None,
            )
            for key, label, statuses in FIGURES
        ]

    def action_lines(self) -> list[ActionLineGroup]:
        """Action line → theme → result → activities, in the published order."""
        counts = {line.number: line.counts for line in self.board.action_lines}
        lines: list[ActionLineGroup] = []
        theme_id: int | None = None
        for row in self.rows:
            if not lines or lines[-1].number != row.action_line_number:
                lines.append(
                    ActionLineGroup(
                        row.action_line_number,
                        row.action_line_title,
                        counts.get(row.action_line_number, StatusCounts()),
                    )
                )
                theme_id = None
            line = lines[-1]
            if theme_id != row.theme_id:
                line.themes.append(ThemeGroup(row.theme_title))
                theme_id = row.theme_id
            theme = line.themes[-1]
            if not theme.results or theme.results[-1].number != row.result_number:
                theme.results.append(
                    ResultGroup(row.result_number, row.result_title, row.result_note or "")
                )
            theme.results[-1].rows.append(row)
        return lines

    def action_line(self, number: int) -> ActionLineGroup:
        """One action line of the report, with its themes, results and activities."""
        for line in self.action_lines():
            if line.number == number:
                return line
        raise NotFound(gettext("This report has no action line %(number)s.") % {"number": number})


def _not_published() -> NotFound:
    # One message for an unknown id and for a period that is not published.
    return NotFound(gettext("There is no published report with this number."))


def published_periods(session: Session, programme_id: int) -> list[PeriodRow]:
    """The programme's published periods, newest first; one being corrected as it was
    published (its report stays as it was until it is republished)."""
    return [
        period.as_published()
        for period in readmodel.list_periods(session, programme_id)
        if period.reported
    ]


@dataclass
class ProgrammeReports:
    programme: ProgrammeRow
    periods: list[PeriodRow]


def programmes_with_reports(session: Session) -> list[ProgrammeReports]:
    """Every programme that has published at least one report, with those reports."""
    found = []
    for programme in readmodel.list_programmes(session):
        periods = published_periods(session, programme.id)
        if periods:
            found.append(ProgrammeReports(programme, periods))
    return found


def get_programme(session: Session, slug: str) -> ProgrammeRow:
    try:
        return readmodel.get_programme(session, slug)
    except NotFound:
        raise NotFound(
            gettext("There is no programme with published reports at this address.")
        ) from None


def latest_period(session: Session, slug: str) -> tuple[ProgrammeRow, PeriodRow]:
    programme = get_programme(session, slug)
    periods = published_periods(session, programme.id)
    if not periods:
        raise NotFound(gettext("There is no programme with published reports at this address."))
    return programme, periods[0]


def published_period(
    session: Session, slug: str, period_id: int
) -> tuple[ProgrammeRow, PeriodRow, list[PeriodRow]]:
    """The programme, the published period with this id, and all its published periods;
    NotFound for anything else."""
    programme = get_programme(session, slug)
    periods = published_periods(session, programme.id)
    period = next((p for p in periods if p.id == period_id), None)
    if period is None:
        raise _not_published()
    return programme, period, periods


def period_rows(session: Session, programme: ProgrammeRow, period: PeriodRow) -> list[ActivityRow]:
    """The published period's activities with what counted for its report."""
    assert period.published, "the public site reads published periods only"
    return readmodel.list_activities(session, programme.id, period).rows


def report(session: Session, slug: str, period_id: int, *, compare: bool = True) -> PublicReport:
    """Everything the summary of a published period shows, compared with the published
    period before it (by reference date), if there is one (and `compare` asks for it)."""
    programme, period, periods = published_period(session, slug, period_id)
    index = next(i for i, p in enumerate(periods) if p.id == period.id)
    previous = periods[index + 1] if compare and index + 1 < len(periods) else None
    comparison = (
        compare_periods(session, programme_id=programme.id, earlier=previous, later=period)
        if previous is not None
        else None
    )
    return PublicReport(
        programme=programme,
        period=period,
        periods=periods,
        previous=previous,
        board=readmodel.board(session, programme, period),
        previous_board=readmodel.board(session, programme, previous) if previous else None,
        rows=period_rows(session, programme, period),
        comparison=comparison,
        corrected_at=periods_service.last_corrected_at(session, period.id),
    )


# -- files -----------------------------------------------------------------------------------
# Each is (file name, media type, content), NotFound unless the period is published.


def published_export(
    session: Session, *, slug: str, period_id: int, fmt: str, language: str
) -> tuple[str, str, bytes]:
    """The export of the published table (app/exports), the same file staff download."""
    published_period(session, slug, period_id)
    return exports.export(session, period_id=period_id, fmt=fmt, language=language)


def open_data(
    session: Session, *, slug: str, period_id: int, fmt: str, language: str, schema_id: str
) -> tuple[str, str, bytes]:
    """The published table as open data (CSV or JSON that names its schema), in the public
    columns (PUBLIC_COLUMNS: without the traces of internal editing that the staff's export
    carries)."""
    published_period(session, slug, period_id)
    table = build_table(session, period_id=period_id, language=language)
    name = exports.filename(
        table.period.name,
        exports.get_format(fmt),
        table.filters,
        draft=False,
        language=table.language,
    )
    if fmt == "csv":
        return name, opendata.CSV_MEDIA_TYPE, opendata.render_csv(table, PUBLIC_COLUMNS)
    return (
        name,
        opendata.JSON_MEDIA_TYPE,
        opendata.render_json(table, PUBLIC_COLUMNS, schema_id),
    )


def data_schema(
    session: Session, *, slug: str, period_id: int, schema_id: str, language: str
) -> tuple[str, str, bytes]:
    """The JSON Schema of the open data, its descriptions in the reader's language."""
    published_period(session, slug, period_id)
    schema = opendata.json_schema(PUBLIC_COLUMNS, schema_id, language=language)
    content = json.dumps(schema, ensure_ascii=False, indent=1).encode()
    return "schema.json", SCHEMA_MEDIA_TYPE, content
