"""An edition's figure sheet: exported as XLSX for the organisations that supply the figures,
filled in, and imported with the status import's machinery (app/imports): the same reading
within limits (`parsing.read_sheet` with `FIGURE_LAYOUT`), a preview job that says per row
what it would do, and an apply job that writes all rows or none through `record_figures`
(the edit policy, the version check and the breakdown check, audited, recorded as imported).

Per row: a figure (its key), what it becomes, or why it is refused, naming the sheet's row
and column. A row that changes nothing is never refused for who may change it or for a newer
version, so an editor can send back the whole sheet with only their own figures filled in.
A breakdown declared complete that does not add up with the file's values is refused on the
row of its total, naming the figure.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.worksheet.datavalidation import DataValidation
from sqlmodel import Session

from app.accounts.service import CurrentUser
from app.audit import service as audit
from app.audit.models import AuditSource
from app.errors import DomainError
from app.exports.monitor import print_landscape
from app.exports.service import slug
from app.exports.spreadsheets import header_height, header_width
from app.i18n import LANGUAGES, N_, get_language, gettext, ngettext, translations_for
from app.ids import id_of
from app.imports import parsing
from app.imports.parsing import Layout, SheetRow
from app.imports.service import (
    CHANGE,
    REFUSED,
    UNCHANGED,
    ImportRefused,
    Outcomes,
    Problem,
    job_sheet,
    job_user,
    queue_apply,
    store_and_preview,
    upload_name,
)
from app.jobs import service as jobs
from app.jobs.models import Job
from app.monitor import service
from app.monitor.models import FigureSource, FigureVersion
from app.monitor.service import FIGURE_POLICY, FigureEntry, FigureRow
from app.monitor.values import InvalidValue, QualifiedValue, Qualifier, format_value, parse_value
from app.text import neutralise

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PREVIEW_JOB = "figure_sheet_preview"
APPLY_JOB = "figure_sheet_apply"

# A figure sheet's rows change a figure, leave it, or are refused (no confirmations).
OUTCOMES = (CHANGE, UNCHANGED, REFUSED)

# The words of the breakdown column (either language is read).
COMPLETE = N_("complete")
PARTIAL = N_("partial")


@dataclass(frozen=True)
class SheetColumn:
    key: str
    label: str  # msgid
    width: int
    editable: bool = False


COLUMNS: tuple[SheetColumn, ...] = (
    SheetColumn("key", N_("Figure key"), 30),
    SheetColumn("indicator", N_("Indicator"), 40),
    SheetColumn("area", N_("Area"), 18),
    SheetColumn("years", N_("Years"), 11),
    SheetColumn("dimension", N_("Breakdown by"), 16),
    SheetColumn("category", N_("Category"), 22),
    SheetColumn("unit", N_("Unit"), 10),
    SheetColumn("value", N_("Value"), 16, editable=True),
    SheetColumn("breakdown", N_("Breakdown complete"), 14, editable=True),
    SheetColumn("source_document", N_("Source document"), 30, editable=True),
    SheetColumn("source_page", N_("Source page"), 10, editable=True),
    SheetColumn("version", "Version", 9),
)
FIGURE_LAYOUT = Layout(
    tuple((column.key, column.label) for column in COLUMNS), ("key", "version", "value")
)
# Rows above the header: the edition's title and how to fill the sheet in.
HEADER_ROW = 4
UNIT_LABELS = {
    "count": N_("number"),
    "persons": N_("persons"),
    "euro": N_("euro"),
    "percent": N_("percent"),
    "months": N_("months"),
}


def years_text(year_from: int, year_to: int) -> str:
    return str(year_from) if year_from == year_to else f"{year_from}–{year_to}"


def _breakdown_text(complete: bool | None, language: str) -> str:
    if complete is None:
        return ""
    return translations_for(language).gettext(COMPLETE if complete else PARTIAL)


def _instructions(language: str) -> str:
    return translations_for(language).gettext(
        "Fill in the Value column as the figure is printed: 477, > 200 (at least), < 10 (at "
        "most), ≈ 95–105 (approximately, a range), 5,000–7,500, estimated 3,000, unknown. "
        "For a figure with parts, say in Breakdown complete whether its parts add up to it "
        "(complete) or not (partial). Leave Figure key and Version as they are: they say which "
        "figure and which version you started from. Then import the sheet on the edition's page."
    )


def figure_sheet(view: service.EditionView, *, language: str) -> bytes:
    """The edition's figure sheet as XLSX: a row per figure and part, in printed order;
    every column locked but the ones to fill in (the sheet is protected without a password,
    against accidental changes); text neutralised against formulas."""
    translate = translations_for(language).gettext
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = translate("Figures")
    sheet.cell(row=1, column=1, value=neutralise(view.edition.title)).font = Font(
        bold=True, size=14
    )
    note = sheet.cell(row=2, column=1, value=_instructions(language))
    note.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(COLUMNS))
    sheet.row_dimensions[2].height = 62
    editable_fill = PatternFill("solid", fgColor="FFF8D6")
    header_fill = PatternFill("solid", fgColor="D9E6F2")
    labels = [translate(column.label) for column in COLUMNS]
    # No header word broken ("Bladzijd|e bron"): a column is as wide as its longest word.
    widths = [
        header_width([label], column.width) for label, column in zip(labels, COLUMNS, strict=True)
    ]
    for index, (label, width) in enumerate(zip(labels, widths, strict=True), start=1):
        cell = sheet.cell(row=HEADER_ROW, column=index, value=label)
        cell.font = Font(bold=True)
        cell.fill = header_fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions[cell.column_letter].width = width
    sheet.row_dimensions[HEADER_ROW].height = header_height(labels, widths)
    breakdown_list = DataValidation(
        type="list",
        formula1=f'"{translate(COMPLETE)},{translate(PARTIAL)}"',
        allow_blank=True,
    )
    sheet.add_data_validation(breakdown_list)
    breakdown_letter = parsing.column_letter(
        next(index for index, column in enumerate(COLUMNS) if column.key == "breakdown")
    )
    number = HEADER_ROW
    for row in view.all_figures():
        number += 1
        values = _row_values(row, language)
        for index, column in enumerate(COLUMNS, start=1):
            value = values[column.key]
            filled = sheet.cell(
                row=number,
                column=index,
                value=neutralise(value) if isinstance(value, str) else value,
            )
            if column.editable:
                filled.protection = Protection(locked=False)
                filled.fill = editable_fill
        if row.parts:
            breakdown_list.add(f"{breakdown_letter}{number}")
    sheet.freeze_panes = f"B{HEADER_ROW + 1}"
    sheet.auto_filter.ref = (
        f"A{HEADER_ROW}:{sheet.cell(row=number, column=len(COLUMNS)).coordinate}"
    )
    print_landscape(sheet, title_rows=f"{HEADER_ROW}:{HEADER_ROW}")
    sheet.protection.sheet = True
    sheet.protection.autoFilter = False
    sheet.protection.sort = False
    sheet.protection.formatColumns = False
    workbook.properties.title = view.edition.title
    workbook.properties.subject = translate("Figure sheet")
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def _row_values(row: FigureRow, language: str) -> dict[str, Any]:
    translate = translations_for(language).gettext
    figure = row.figure
    indicator = row.indicator
    version = row.version
    return {
        "key": figure.key,
        "indicator": indicator.name_nl if language == "nl" else indicator.name_en,
        "area": row.area.name_nl if language == "nl" else row.area.name_en,
        "years": years_text(figure.year_from, figure.year_to),
        "dimension": figure.dimension_in(language),
        "category": figure.category_in(language),
        "unit": translate(UNIT_LABELS[indicator.unit.value]),
        "value": row.printed(language),
        "breakdown": _breakdown_text(version.breakdown_complete, language) if version else "",
        "source_document": version.source_document if version else "",
        "source_page": (version.source_page or "") if version else "",
        "version": version.version if version else 0,
    }


def sheet_filename(view: service.EditionView, language: str) -> str:
    """mensenhandelmonitor-2020-cijferblad.xlsx"""
    label = translations_for(language).gettext("Figure sheet")
    return f"{slug(view.edition.title)}-{slug(label)}.xlsx"


# -- the dry run -------------------------------------------------------------------------------


@dataclass
class Line:
    """What one row of the file does. JSON-serialisable (the preview job keeps it)."""

    row: int
    key: str
    figure: str = ""  # the figure as a person reads it: indicator, area, years, category
    figure_id: int | None = None
    outcome: str = UNCHANGED
    value_from: str = ""
    value_to: str = ""
    based_on_version: int | None = None
    note: str = ""
    problems: list[Problem] = field(default_factory=list)
    # For applying (not shown).
    entry: dict[str, Any] | None = None


@dataclass
class Preview(Outcomes[Line]):
    edition_id: int
    edition: str
    lines: list[Line]
    outcomes: ClassVar[tuple[str, ...]] = OUTCOMES

    def summary(self) -> str:
        return gettext(
            "Rows: %(rows)d; changes: %(change)d; unchanged: %(unchanged)d; refused: %(refused)d."
        ) % {"rows": len(self.lines), **self.counts()}

    def as_result(self) -> dict[str, Any]:
        order = {REFUSED: 0, CHANGE: 1}
        lines = sorted(self.lines, key=lambda line: order.get(line.outcome, 2))
        return {
            "edition_id": self.edition_id,
            "edition": self.edition,
            "counts": self.counts(),
            "rows": len(self.lines),
            "lines": [
                {k: v for k, v in asdict(line).items() if k != "entry" and v not in (None, "", [])}
                for line in lines
            ],
        }

    def entries(self) -> list[FigureEntry]:
        return [_entry(line.entry) for line in self.changes if line.entry is not None]


def _entry(data: Mapping[str, Any]) -> FigureEntry:
    return FigureEntry(
        figure_id=data["figure_id"],
        value=QualifiedValue(
            **(data["value"] | {"qualifier": Qualifier(data["value"]["qualifier"])})
        ),
        based_on_version=data["based_on_version"],
        breakdown_complete=data["breakdown_complete"],
        source_document=data["source_document"],
        source_page=data["source_page"],
        source_text=data["source_text"],
    )


def _figure_text(row: FigureRow, language: str) -> str:
    indicator = row.indicator.name_nl if language == "nl" else row.indicator.name_en
    area = row.area.name_nl if language == "nl" else row.area.name_en
    text = f"{indicator}, {area}, {years_text(row.figure.year_from, row.figure.year_to)}"
    if row.figure.category:
        text += f": {row.figure.category_in(language)}"
    return text


def sheet_language(columns: Mapping[str, str]) -> str:
    """The language the sheet's numbers are written in: the one whose label heads its Value
    column ("Waarde": Dutch, "Value": English); else the user's."""
    header = columns.get("value", "").rsplit(" (", 1)[0].strip().lower()
    for language in LANGUAGES:
        if translations_for(language).gettext("Value").lower() == header:
            return language
    return get_language()


def _breakdown_words() -> dict[str, bool]:
    words: dict[str, bool] = {}
    for language in LANGUAGES:
        translate = translations_for(language).gettext
        words[translate(COMPLETE).lower()] = True
        words[translate(PARTIAL).lower()] = False
    words.update({"ja": True, "yes": True, "nee": False, "no": False})
    return words


def _same(version: FigureVersion | None, entry: FigureEntry) -> bool:
    if version is None:
        return False
    return (
        version.value == entry.value
        and version.breakdown_complete == entry.breakdown_complete
        and version.source_document == entry.source_document
        and (version.source_page or None) == entry.source_page
    )


def preview(
    session: Session,
    *,
    edition_id: int,
    rows: Sequence[SheetRow],
    user: CurrentUser,
    columns: Mapping[str, str] | None = None,
) -> Preview:
    """A dry run: per row the change it makes, or that it changes nothing, or why it is
    refused (what and where: the row, and the column as the file names it). Changes nothing."""
    view = service.edition_view(session, edition_id)
    period = view.period
    named = {key: parsing.column_name(key, FIGURE_LAYOUT) for key, _ in FIGURE_LAYOUT.labels}
    named |= dict(columns or {})
    language = sheet_language(columns or {})
    by_key = {row.figure.key: row for row in view.all_figures()}
    words = _breakdown_words()
    first_row: dict[str, int] = {}
    lines: list[Line] = []

    def problem(key: str, message: str) -> Problem:
        return Problem(named[key], message)

    for sheet_row in rows:
        values = sheet_row.values
        key = values.get("key", "").strip()
        line = Line(row=sheet_row.number, key=key)
        lines.append(line)
        if not key:
            _refuse(
                line,
                problem(
                    "key",
                    gettext(
                        "No figure key: this column says which figure the row is about. Copy "
                        "the row from the edition's figure sheet."
                    ),
                ),
            )
            continue
        if key in first_row:
            _refuse(
                line,
                problem(
                    "key",
                    gettext("Figure %(key)s is also in row %(row)s; give each figure one row.")
                    % {"key": key, "row": first_row[key]},
                ),
            )
            continue
        first_row[key] = sheet_row.number
        row = by_key.get(key)
        if row is None:
            _refuse(
                line,
                problem(
                    "key",
                    gettext("%(edition)s has no figure %(key)s.")
                    % {"edition": view.edition.title, "key": key},
                ),
            )
            continue
        line.figure_id = id_of(row.figure)
        line.figure = _figure_text(row, get_language())
        line.value_from = row.printed(get_language())
        current_version = row.version.version if row.version else 0
        problems: list[Problem] = []
        raw_version = values.get("version", "").strip()
        try:
            version = parsing.parse_whole_number(raw_version) if raw_version else 0
        except ValueError:
            version = None
            problems.append(
                problem(
                    "version",
                    gettext(
                        "%(value)s is not a version number. Leave this column as the export "
                        "wrote it."
                    )
                    % {"value": repr(raw_version)},
                )
            )
        line.based_on_version = version
        raw_value = values.get("value", "").strip()
        value: QualifiedValue | None = None
        if raw_value:
            try:
                value = parse_value(raw_value, language)
            except InvalidValue as error:
                problems.append(
                    problem(
                        "value",
                        gettext(
                            "%(value)s is not a figure (%(reason)s). Write it as printed: 477, "
                            "> 200, ≈ 95–105, 5,000–7,500, unknown."
                        )
                        % {"value": repr(raw_value), "reason": str(error)},
                    )
                )
        raw_breakdown = values.get("breakdown", "").strip()
        complete: bool | None = row.version.breakdown_complete if row.version else None
        if raw_breakdown:
            if not row.parts:
                problems.append(
                    problem(
                        "breakdown",
                        gettext("Figure %(key)s has no parts: leave this column empty.")
                        % {"key": key},
                    )
                )
            elif raw_breakdown.lower() not in words:
                problems.append(
                    problem(
                        "breakdown",
                        gettext("%(value)s: write %(complete)s or %(partial)s.")
                        % {
                            "value": repr(raw_breakdown),
                            "complete": gettext(COMPLETE),
                            "partial": gettext(PARTIAL),
                        },
                    )
                )
            else:
                complete = words[raw_breakdown.lower()]
        elif row.parts and complete is None and value is not None:
            complete = False  # parts not declared to add up: partial until someone says so
        source_document = " ".join(values.get("source_document", "").split())
        source_page = values.get("source_page", "").strip() or None
        if source_page is not None and len(source_page) > 20:
            problems.append(problem("source_page", gettext("A page is at most 20 characters.")))
        if problems:
            _refuse(line, *problems)
            continue
        if value is None:
            if row.version is None:
                line.note = gettext("No value in the file: nothing changes.")
                continue
            _refuse(
                line,
                problem(
                    "value",
                    gettext(
                        "The value is empty, but the figure has one (%(value)s). A value is "
                        "not removed: write unknown or suppressed."
                    )
                    % {"value": line.value_from},
                ),
            )
            continue
        entry = FigureEntry(
            figure_id=id_of(row.figure),
            value=value,
            based_on_version=current_version,
            breakdown_complete=complete if row.parts else None,
            source_document=source_document,
            source_page=source_page,
            source_text=row.version.source_text if row.version else "",
        )
        line.value_to = format_value(value, row.indicator.unit, get_language())
        if _same(row.version, entry):
            line.note = gettext("As it is now.")
            continue
        if version != current_version:
            _refuse(
                line,
                problem(
                    "version",
                    gettext(
                        "Someone saved this figure after the sheet was made: the file has "
                        "version %(file)s, the figure is at version %(current)s (%(value)s). "
                        "Export the sheet again and fill in the new one."
                    )
                    % {"file": version, "current": current_version, "value": line.value_from},
                ),
            )
            continue
        decision = FIGURE_POLICY.change(user, service.subject_of(session, row.figure), period)
        if not decision.allowed:
            _refuse(line, Problem("", decision.message))
            continue
        line.outcome = CHANGE
        line.entry = asdict(entry) | {"value": asdict(value)}
    _check_breakdowns(view, lines, named)
    return Preview(edition_id, view.edition.title, lines)


def _check_breakdowns(
    view: service.EditionView, lines: list[Line], named: Mapping[str, str]
) -> None:
    """Each complete breakdown a change touches must add up with the file's values: refused on
    the row of its total (or, when the total is not in the file, of its first changed part),
    naming the figure."""
    changes = {line.figure_id: line for line in lines if line.outcome == CHANGE}
    if not changes:
        return
    values: dict[int, QualifiedValue] = {}
    complete: dict[int, bool | None] = {}
    for row in view.all_figures():
        fid = id_of(row.figure)
        if row.version is not None:
            values[fid] = row.version.value
            complete[fid] = row.version.breakdown_complete
        line = changes.get(fid)
        if line is not None and line.entry is not None:
            values[fid] = QualifiedValue(**line.entry["value"])
            complete[fid] = line.entry["breakdown_complete"]
    figures = [row.figure for row in view.all_figures()]
    units = {id_of(row.figure): row.indicator.unit for row in view.all_figures()}
    for top in view.figures:
        fid = id_of(top.figure)
        touched = [changes[i] for i in (fid, *(id_of(p.figure) for p in top.parts)) if i in changes]
        if not touched or not complete.get(fid):
            continue
        problems = service.breakdown_problems(
            figures, values, {fid: True}, unit_of=units, language=get_language()
        )
        if problems:
            line = changes.get(fid) or touched[0]
            column = named["breakdown"] if fid in changes else named["value"]
            _refuse(line, *(Problem(column, message) for message in problems))


def _refuse(line: Line, *problems: Problem) -> None:
    line.outcome = REFUSED
    line.entry = None
    line.problems.extend(problems)


@dataclass
class ApplyResult:
    preview: Preview
    applied: list[FigureVersion]  # empty when anything was refused


def apply(
    session: Session,
    *,
    edition_id: int,
    rows: Sequence[SheetRow],
    user: CurrentUser,
    address: str,
    columns: Mapping[str, str] | None = None,
) -> ApplyResult:
    """All rows or none: every row checked again (the data may have changed since the
    preview); if any is refused nothing is written. Otherwise the changes are one
    `record_figures` batch (policy, versions and breakdowns checked again, audited, source
    imported); refused while writing, nothing stays and ImportRefused says why."""
    checked = preview(session, edition_id=edition_id, rows=rows, user=user, columns=columns)
    if checked.refused or not checked.changes:
        return ApplyResult(checked, [])
    try:
        with session.begin_nested(), audit.recording_from(AuditSource.import_):
            written = service.record_figures(
                session,
                edition_id=edition_id,
                entries=checked.entries(),
                author=user,
                source=FigureSource.imported,
                address=address,
            )
    except DomainError as error:
        raise ImportRefused(
            gettext("Nothing was changed: %(reason)s") % {"reason": error.message}
        ) from error
    return ApplyResult(checked, written)


def refusals_message(checked: Preview) -> str:
    described = [
        gettext("row %(row)s: %(reasons)s")
        % {
            "row": line.row,
            "reasons": " ".join(
                f"{problem.column}: {problem.message}" if problem.column else problem.message
                for problem in line.problems
            ),
        }
        for line in checked.refused[:10]
    ]
    count = len(checked.refused)
    return (
        ngettext(
            "Nothing was changed: %(num)d row is refused.",
            "Nothing was changed: %(num)d rows are refused.",
            count,
        )
        % {"num": count}
        + " "
        + "; ".join(described)
    )


# -- jobs --------------------------------------------------------------------------------------


def submit_preview(
    session: Session,
    *,
    edition_id: int,
    content: bytes,
    filename: str,
    user: CurrentUser,
    language: str,
) -> Job:
    """Check the file enough to refuse a bad one at once (format, size, columns), keep it,
    and queue the dry run (as the status import: app.imports.service.store_and_preview)."""
    edition = service.get_edition(session, edition_id)
    name = upload_name(filename)
    return store_and_preview(
        session,
        content=content,
        name=name,
        layout=FIGURE_LAYOUT,
        user=user,
        kind=PREVIEW_JOB,
        params={
            "edition_id": edition_id,
            "filename": name,
            "language": language,
            "title": gettext("Figures of %(edition)s: preview of %(file)s")
            % {"edition": edition.title, "file": name},
        },
    )


def submit_apply(
    session: Session, *, preview_job_id: int, user: CurrentUser, language: str, address: str
) -> Job:
    """Queue applying a finished preview without refusals (once)."""
    return queue_apply(
        session,
        preview_job_id=preview_job_id,
        user=user,
        preview_kind=PREVIEW_JOB,
        apply_kind=APPLY_JOB,
        not_a_preview=gettext("Job %(id)s is not a preview of a figure sheet."),
        applies=lambda counts: bool(counts.get(CHANGE)),
        params=lambda previewed, result: {
            "file_id": previewed.params["file_id"],
            "edition_id": previewed.params["edition_id"],
            "filename": previewed.params["filename"],
            "preview_job_id": previewed.id,
            "language": language,
            "address": address,
            "title": gettext("Figures of %(edition)s: applying %(file)s")
            % {"edition": result.get("edition", ""), "file": previewed.params["filename"]},
        },
    )


def _job_file(
    session: Session, job: Job, progress: jobs.Progress, *, percent: int, message: str
) -> dict[str, Any]:
    """What both jobs check: the job's edition, the rows and columns of its stored file, and
    the person who asked (`preview` and `apply` take them as keywords)."""
    user = job_user(session, job)
    sheet = job_sheet(session, job, progress, layout=FIGURE_LAYOUT)
    progress(percent, message)
    return {
        "edition_id": job.params["edition_id"],
        "rows": sheet.rows,
        "user": user,
        "columns": sheet.columns,
    }


@jobs.handler(PREVIEW_JOB)
def _preview_job(session: Session, job: Job, progress: jobs.Progress) -> jobs.Outcome:
    checked = preview(
        session,
        **_job_file(session, job, progress, percent=40, message=gettext("Checking every row…")),
    )
    return jobs.Outcome(
        result=checked.as_result() | {"filename": job.params["filename"]},
        message=checked.summary(),
    )


@jobs.handler(APPLY_JOB)
def _apply_job(session: Session, job: Job, progress: jobs.Progress) -> jobs.Outcome:
    file = _job_file(
        session, job, progress, percent=30, message=gettext("Checking every row again…")
    )
    outcome = apply(session, address=job.params.get("address", ""), **file)
    checked = outcome.preview
    if checked.refused:
        raise ImportRefused(refusals_message(checked))
    count = len(outcome.applied)
    return jobs.Outcome(
        result={
            "edition_id": checked.edition_id,
            "edition": checked.edition,
            "filename": job.params["filename"],
            "applied": count,
            "unchanged": checked.count(UNCHANGED),
            "changes": [
                {"row": line.row, "key": line.key, "figure": line.figure, "value": line.value_to}
                for line in checked.changes
            ],
        },
        message=ngettext("%(num)d figure changed.", "%(num)d figures changed.", count)
        % {"num": count},
    )
