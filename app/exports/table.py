"""The progress table, as Parliament knows it: the read-model every export renders.

One function, `build_table`, reads a period and its programme (one query) and the period's
activities through the read-model (`readmodel.whole_table`: two queries whatever the size,
with the board's rules for what a period shows, as named records), and returns plain
dataclasses: action line → theme → result → activity, with the legend and every text a
document needs in the export's language. The renderers (docx, odt, pdf, spreadsheets,
opendata) only lay it out; none of them queries the database.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlmodel import Session, col

from app import readmodel
from app.activities.models import STATUS_ORDER, Status, UpdateSource
from app.activities.presentation import (
    STATUS_STYLES,
    UNCONFIRMED_STYLES,
    unconfirmed_mark,
    unconfirmed_note,
)
from app.clock import as_utc
from app.errors import NotFound
from app.exports.columns import KEYS
from app.i18n import N_, format_date, gettext, translations_for
from app.periods.models import PeriodState, ReportingPeriod
from app.periods.service import STATE_LABELS
from app.programmes.models import Programme
from app.readmodel import (
    ActivityFilters,
    OrganisationRef,
    PeriodRow,
    ProgrammeRow,
    UnconfirmedCount,
    unconfirmed,
    unconfirmed_counts,
)
from app.readmodel.queries import primary_key
from app.recommendations.followup import FollowUpReport, period_follow_up


@dataclass(frozen=True)
class LegendEntry:
    status: Status
    symbol: str
    label: str
    colour: str  # the legend's colour; never the only carrier of meaning
    ink: str  # text colour on `colour`


@dataclass(slots=True)
class ActivityLine:
    id: int
    label: str  # as printed ("1", "1.1"), "" when unnumbered
    title: str
    status: Status | None
    symbol: str
    status_label: str
    explanation: str
    organisations: list[OrganisationRef]  # lead first; `.lead` tells the lead
    last_change: datetime | None
    version: int | None
    # Not stated for the period (derived, or carried over and neither updated nor confirmed:
    # app.readmodel.unconfirmed), and its mark in the export's language; None and "" when it
    # was stated.
    unconfirmed: UpdateSource | None = None
    unconfirmed_mark: str = ""

    @property
    def paragraphs(self) -> list[str]:
        """The explanation's paragraphs (the seed separates them with a blank line)."""
        return [part.strip() for part in self.explanation.split("\n\n") if part.strip()]


@dataclass
class ResultBlock:
    number: int
    title: str
    note: str
    activities: list[ActivityLine] = field(default_factory=list)


@dataclass
class ThemeBlock:
    title: str
    results: list[ResultBlock] = field(default_factory=list)


@dataclass
class ActionLineBlock:
    number: int
    title: str
    themes: list[ThemeBlock] = field(default_factory=list)


@dataclass(frozen=True)
class PeriodInfo:
    id: int
    name: str
    state: PeriodState
    state_label: str
    reference_date: date
    published_at: datetime | None

    @property
    def published(self) -> bool:
        return self.state == PeriodState.published


# Every text a document shows, as English msgids; `Texts` holds them translated.
_TEXTS = {
    "number": N_("Nr."),
    "result": N_("Result (objective)"),
    "activities": N_("Activities / products"),
    "status": N_("State of affairs"),
    "explanation": N_("Explanation"),
    "legend": N_("Legend"),
    "draft": N_("DRAFT"),
    "draft_notice": N_(
        "Draft: this period is not published (%(state)s); statuses and explanations can "
        "still change."
    ),
    "reference_date": N_("State of affairs on %(date)s"),
    "generated": N_("Made on %(time)s (UTC)"),
    "page": N_("Page %(page)s of %(pages)s"),
    "lead": N_("lead"),
    "organisations": N_("Organisations"),
    "selection": N_("Selection"),
    "action_line": N_("Action line"),
    "action_line_heading": N_("Action line %(number)s: %(title)s"),
    "organisation": N_("Organisation"),
    # The annex "Opvolging aanbevelingen" (app.recommendations.followup).
    "annex_title": N_("Follow-up of recommendations"),
    "recommendation": N_("Recommendation"),
    "addressees": N_("Addressees"),
    "response": N_("Government response"),
    "follow_up": N_("Follow-up"),
    "not_reported": N_("not reported"),
    "no_response": N_("none recorded"),
    "statuses": N_("Status"),
    "stage": N_("Stage of the report"),
    "no_status": N_("No status"),
    "no_activities": N_("No activities match this selection."),
    "title": N_("Programme results %(programme)s"),
}


class Texts:
    """The document texts in one language: `texts.number`, `texts.page`, …"""

    def __init__(self, language: str) -> None:
        translations = translations_for(language)
        for key, message in _TEXTS.items():
            setattr(self, key, translations.gettext(message))

    def __getattr__(self, name: str) -> str:  # only reached for an unknown key: a bug
        raise AttributeError(name)


@dataclass
class ProgressTable:
    programme: ProgrammeRow
    period: PeriodInfo
    generated_at: datetime
    language: str
    texts: Texts
    legend: list[LegendEntry]
    filters: ActivityFilters
    selection: list[str]  # the filters as readable text, one item per filter
    action_lines: list[ActionLineBlock]
    # Documents (DOCX, ODT, PDF) print the organisations under each activity, by name; off
    # for the annex as sent to Parliament. The spreadsheets and open data always have them.
    show_organisations: bool = False
    # How many of the activities have an unconfirmed status, per kind.
    unconfirmed: list[UnconfirmedCount] = field(default_factory=list)
    # The annex "Opvolging aanbevelingen": the programme's recommendations per report, with
    # their response and follow-up for the period (the same rule: a published period what its
    # report counted, any other the newest, marked as a draft). Whatever the selection.
    follow_up: list[FollowUpReport] = field(default_factory=list)

    @property
    def unconfirmed_notes(self) -> list[str]:
        """What the marks by unconfirmed statuses mean, one note per kind that occurs (the
        documents print them under the legend)."""
        return [
            unconfirmed_note(item.kind, item.number, item.total, self.language)
            for item in self.unconfirmed
        ]

    @property
    def title(self) -> str:
        """The document's own title, as the annex has it: "Programmaresultaten Samen tegen
        mensenhandel"."""
        return self.texts.title % {"programme": self.programme.name}

    @property
    def state_of_affairs(self) -> str:
        """ "Stand van zaken per 1 november 2021": the reference date in the document's
        language."""
        return self.texts.reference_date % {
            "date": format_date(self.period.reference_date, self.language)
        }

    @property
    def header_text(self) -> str:
        """Programme and period, for the page header of every page."""
        return f"{self.programme.name} · {self.period.name}"

    @property
    def description(self) -> str:
        """What the file's metadata says of it (not the page): period, workflow state, the
        state of affairs and when it was made, in UTC."""
        made = self.texts.generated % {"time": self.generated_at.strftime("%Y-%m-%d %H:%M")}
        return f"{self.period.name} ({self.period.state_label}) · {self.state_of_affairs} · {made}"

    @property
    def draft(self) -> bool:
        return not self.period.published

    def activities(self) -> Iterator[tuple[ActionLineBlock, ThemeBlock, ResultBlock, ActivityLine]]:
        for line in self.action_lines:
            for theme in line.themes:
                for result in theme.results:
                    for activity in result.activities:
                        yield line, theme, result, activity

    @property
    def activity_count(self) -> int:
        return sum(1 for _ in self.activities())

    def organisations_text(self, activity: ActivityLine, lead_marker: str | None = None) -> str:
        marker = self.texts.lead if lead_marker is None else lead_marker
        return ", ".join(
            f"{org.code} ({marker})" if org.lead else org.code for org in activity.organisations
        )

    def organisation_names(self, activity: ActivityLine) -> str:
        """The organisations by name, the lead marked: "Politie (trekker), CoMensha"."""
        marker = self.texts.lead
        return ", ".join(
            f"{org.name} ({marker})" if org.lead else org.name for org in activity.organisations
        )

    def column_rows(
        self,
        *,
        status_as: str = "label",
        lead_marker: str | None = None,
        text: Callable[[str], str] | None = None,
        moment: Callable[[datetime], Any] | None = None,
    ) -> Iterator[tuple[Any, ...]]:
        """One tuple per activity with the values of COLUMNS, in their order, typed (int, str,
        datetime or None). `status_as`: "label" (in the export's language: XLSX, ODS) or
        "code" (CSV, JSON). `text`, when given, is applied to every text value (CSV:
        neutralise), `moment` to every date-time (CSV, JSON: isoformat). Built for speed (the
        100× programme has 12,800 rows): what a result's activities share is worked out once
        per result, and the tuple is made in one go."""
        keep = _same if text is None else text
        marker = self.texts.lead if lead_marker is None else lead_marker
        statuses: dict[Status | None, str] = {None: ""}
        for entry in self.legend:
            statuses[entry.status] = keep(
                entry.status.value if status_as == "code" else entry.label
            )
        marks: dict[UpdateSource | None, str] = {None: ""} | {
            kind: kind.value if status_as == "code" else unconfirmed_mark(kind, self.language)
            for kind in UNCONFIRMED_STYLES
        }
        for line in self.action_lines:
            line_title = keep(line.title)
            for theme in line.themes:
                theme_title = keep(theme.title)
                for result in theme.results:
                    result_title = keep(result.title)
                    for activity in result.activities:
                        changed = activity.last_change
                        if moment is not None and changed is not None:
                            changed = moment(changed)
                        # In the order of _ROW_KEYS (= KEYS, checked below).
                        yield (
                            activity.id,
                            activity.version,
                            line.number,
                            line_title,
                            theme_title,
                            result.number,
                            result_title,
                            keep(activity.label),
                            keep(activity.title),
                            statuses[activity.status],
                            keep(activity.explanation),
                            marks[activity.unconfirmed],
                            keep(self.organisations_text(activity, marker)),
                            changed,
                        )


def _same(text: str) -> str:
    return text


# The order in which column_rows() makes its tuples: the order of COLUMNS.
_ROW_KEYS = (
    "activity_id",
    "version",
    "action_line",
    "action_line_title",
    "theme",
    "result_number",
    "result",
    "activity_label",
    "activity",
    "status",
    "explanation",
    "unconfirmed",
    "organisations",
    "last_change",
)
if _ROW_KEYS != KEYS:  # pragma: no cover - a column added to COLUMNS but not here
    raise RuntimeError(f"column_rows() makes {_ROW_KEYS}, COLUMNS has {KEYS}")


def _legend(language: str) -> list[LegendEntry]:
    translations = translations_for(language)
    return [
        LegendEntry(
            status,
            STATUS_STYLES[status].symbol,
            translations.gettext(STATUS_STYLES[status].label),
            STATUS_STYLES[status].colour,
            STATUS_STYLES[status].ink,
        )
        for status in STATUS_ORDER
    ]


def load_period(session: Session, period_id: int) -> tuple[ProgrammeRow, ReportingPeriod]:
    record = session.get(ReportingPeriod, period_id)
    if record is None:
        raise NotFound(gettext("Reporting period %(id)s does not exist") % {"id": period_id})
    programme = readmodel.programme_of_period(session, period_id)
    return programme, record


# A period and its programme, in one query (built once: an export of the real programme takes
# a few milliseconds, so every query counts).
_PERIOD_AND_PROGRAMME: Select[*tuple[Any, ...]] = (
    select(
        primary_key(Programme.id).label("programme_id"),
        col(Programme.slug),
        col(Programme.name).label("programme_name"),
        col(Programme.description),
        primary_key(ReportingPeriod.id).label("period_id"),
        col(ReportingPeriod.name).label("period_name"),
        col(ReportingPeriod.reference_date),
        col(ReportingPeriod.state),
        col(ReportingPeriod.deadline),
        col(ReportingPeriod.published_at),
    )
    .join(Programme, col(Programme.id) == ReportingPeriod.programme_id)
    .where(col(ReportingPeriod.id) == bindparam("period_id"))
)


def _period_and_programme(
    session: Session, period_id: int
) -> tuple[ProgrammeRow, PeriodRow, datetime | None]:
    record = session.connection().execute(_PERIOD_AND_PROGRAMME, {"period_id": period_id}).first()
    if record is None:
        raise NotFound(gettext("Reporting period %(id)s does not exist") % {"id": period_id})
    programme = ProgrammeRow(
        record.programme_id, record.slug, record.programme_name, record.description
    )
    # A period being corrected exports its report as it was published, until it is
    # republished (its corrections are work in progress, shown on the staff's pages).
    period = PeriodRow(
        record.period_id,
        record.period_name,
        record.reference_date,
        PeriodState(record.state),
        record.deadline,
    ).as_published()
    return programme, period, record.published_at


def _selection(
    filters: ActivityFilters, texts: Texts, language: str, organisations: dict[str, str]
) -> list[str]:
    translations = translations_for(language)
    parts = []
    if filters.action_line is not None:
        parts.append(f"{texts.action_line} {filters.action_line}")
    if filters.organisation:
        name = organisations.get(filters.organisation, filters.organisation)
        parts.append(f"{texts.organisation} {name}")
    if filters.statuses:
        labels = ", ".join(
            translations.gettext(STATUS_STYLES[status].label) for status in filters.statuses
        )
        parts.append(f"{texts.statuses}: {labels}")
    return parts


def build_table(
    session: Session,
    *,
    period_id: int,
    filters: ActivityFilters | None = None,
    language: str = "nl",
    generated_at: datetime | None = None,
    show_organisations: bool = False,
) -> ProgressTable:
    """The progress table of a period: a published period shows what counted for its report
    (approved versions), any other period its newest versions, marked as a draft.
    `show_organisations`: the documents print each activity's organisations."""
    with _without_cycle_collection():
        table = _build_table(
            session,
            period_id=period_id,
            filters=filters or ActivityFilters(),
            language=language,
            generated_at=generated_at,
        )
    table.show_organisations = show_organisations
    return table


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """The cycle collector paused while the table is made, then back as it was. The table is
    tens of thousands of objects for a big programme (12,800 activities: records, lines,
    lists), and their number sets off a full collection, which walks every object in the
    process (about 90 ms of a 300 ms read in the export benchmark) and finds nothing: the
    table has no reference cycles, so reference counting frees it. Pausing it is
    process-wide: another thread's cycles wait the fraction of a second for the next
    collection."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _build_table(
    session: Session,
    *,
    period_id: int,
    filters: ActivityFilters,
    language: str,
    generated_at: datetime | None,
) -> ProgressTable:
    programme, period_row, published_at = _period_and_programme(session, period_id)
    table = readmodel.whole_table(session, programme.id, period_row, filters)
    organisations = table.organisations
    texts = Texts(language)
    translations = translations_for(language)
    state = period_row.state
    period = PeriodInfo(
        id=period_row.id,
        name=period_row.name,
        state=state,
        state_label=translations.gettext(STATE_LABELS[state]),
        reference_date=period_row.reference_date,
        published_at=None if published_at is None else as_utc(published_at),
    )
    # Symbol and label of each status.
    shown: dict[Status | None, tuple[str, str]] = {None: ("?", texts.no_status)} | {
        status: (
            STATUS_STYLES[status].symbol,
            translations.gettext(STATUS_STYLES[status].label),
        )
        for status in Status
    }
    organisation_names: dict[str, str] = {}
    lines: list[ActionLineBlock] = []
    line: ActionLineBlock | None = None
    theme: ThemeBlock | None = None
    theme_id: int | None = None
    result: ResultBlock | None = None
    no_organisations: list[OrganisationRef] = []
    marks = {kind: unconfirmed_mark(kind, language) for kind in UNCONFIRMED_STYLES} | {None: ""}
    for record in table.records:
        if line is None or line.number != record.action_line_number:
            line = ActionLineBlock(record.action_line_number, record.action_line_title)
            lines.append(line)
            theme = None
        if theme is None or theme_id != record.theme_id:
            theme = ThemeBlock(record.theme_title)
            theme_id = record.theme_id
            line.themes.append(theme)
            result = None
        if result is None or result.number != record.result_number:
            result = ResultBlock(
                record.result_number, record.result_title, record.result_note or ""
            )
            theme.results.append(result)
        status = record.status
        symbol, status_label = shown[status]
        links = organisations.get(record.id, no_organisations)
        kind = unconfirmed(record.source)
        result.activities.append(
            ActivityLine(
                id=record.id,
                label=record.label or "",
                title=record.title,
                status=status,
                symbol=symbol,
                status_label=status_label,
                explanation=record.explanation or "",
                organisations=links,
                last_change=None if record.updated_at is None else as_utc(record.updated_at),
                version=record.version,
                unconfirmed=kind,
                unconfirmed_mark=marks[kind],
            )
        )
        for org in links:
            organisation_names[org.code] = org.name
    return ProgressTable(
        programme=programme,
        period=period,
        generated_at=generated_at or datetime.now(UTC),
        language=language,
        texts=texts,
        legend=_legend(language),
        filters=filters,
        selection=_selection(filters, texts, language, organisation_names),
        action_lines=lines,
        unconfirmed=unconfirmed_counts(record.source for record in table.records),
        follow_up=period_follow_up(
            session,
            programme_id=programme.id,
            period_id=period.id,
            published_at=period.published_at if period.published else None,
            language=language,
        ),
    )
