"""Monitor seed files (seed/monitor/*.yaml, format in seed/README.md): validated first, then
applied in the caller's transaction, all files or none.

Running it twice changes nothing: areas are matched on their code, indicators on programme and
code, an edition on its title (its period's name, kind monitor), figures, footnotes and chains
on their key or number within the edition. A figure's value is history: the seed gives a figure
its first version only; a published edition that lacks a figure of the file is refused.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlmodel import Session, col

from app.clock import utc_now
from app.i18n import N_, gettext
from app.ids import id_of
from app.monitor import service
from app.monitor.models import (
    Area,
    AreaLevel,
    Chain,
    ChainStep,
    Edition,
    Figure,
    FigureFootnote,
    FigureSource,
    Footnote,
    Indicator,
    IndicatorResult,
)
from app.monitor.values import InvalidValue, QualifiedValue, Unit, parse_value
from app.periods.models import PeriodKind, PeriodState, PeriodTransition, ReportingPeriod
from app.programmes.models import Organisation, Programme, Result
from app.seeding.service import SEED_AUTHOR, SeedError, SeedReport
from app.text import Text

MONITOR_SEED_DIR = Path(__file__).resolve().parents[2] / "seed" / "monitor"


class MonitorSeedError(SeedError):
    """A refused monitor seed file, in the user's language (the translation catalogue): the
    file, then each place (the file's own field names and figure keys, as in the programme
    seed's errors) and what is wrong there."""

    def __init__(self, path: str, problems: list[str]) -> None:
        super().__init__(path, problems)
        listing = "\n".join(f"  - {problem}" for problem in problems)
        self.message = (
            gettext("%(file)s: the monitor seed file was refused, nothing was loaded:")
            % {"file": path}
            + "\n"
            + listing
        )
        self.args = (self.message,)


def _refused(source: str, where: str, message: str) -> MonitorSeedError:
    return MonitorSeedError(source, [f"{where}: {message}"])


# Pydantic's messages, by error type, in the catalogue's words (others: "is not valid").
_VALIDATION_MESSAGES = {
    "missing": N_("is missing"),
    "extra_forbidden": N_("is not a field of this format"),
    "string_type": N_("must be text"),
    "string_too_short": N_("must not be empty"),
    "int_parsing": N_("must be a whole number"),
    "int_type": N_("must be a whole number"),
    "bool_parsing": N_("must be true or false"),
    "bool_type": N_("must be true or false"),
    "enum": N_("is not one of the allowed values"),
    "literal_error": N_("is not one of the allowed values"),
    "list_type": N_("must be a list"),
    "too_short": N_("has too few items"),
    "dict_type": N_("must be a mapping"),
    "model_type": N_("must be a mapping"),
}


def _validation_message(item: Any) -> str:
    known = _VALIDATION_MESSAGES.get(item["type"])
    if known is not None:
        return gettext(known)
    return gettext("is not valid (%(detail)s)") % {"detail": item["msg"]}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _years(value: object) -> object:
    """2020, "2020" or "2014-2018" → [from, to]."""
    if isinstance(value, int):
        return [value, value]
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d{4})\s*(?:[-–]\s*(\d{4}))?\s*", value)
        if match:
            return [int(match[1]), int(match[2] or match[1])]
    return value


class SeedArea(_Strict):
    code: Text = Field(min_length=1, max_length=50)
    official_code: Text | None = Field(default=None, max_length=20)
    name_nl: Text = Field(min_length=1, max_length=200)
    name_en: Text = Field(min_length=1, max_length=200)
    level: AreaLevel
    parent: Text | None = None
    additive: bool = False


class SeedIndicator(_Strict):
    code: Text = Field(min_length=1, max_length=100)
    name_nl: Text = Field(min_length=1, max_length=300)
    name_en: Text = Field(min_length=1, max_length=300)
    unit: Unit
    definition: Text = ""
    supplier: Text | None = None
    results: list[int] = Field(default_factory=list)


class SeedSource(_Strict):
    document: Text = Field(min_length=1)
    page: Text | None = Field(default=None, max_length=20)
    # The passage as printed, so a reader can find it.
    text: Text = ""


class SeedPart(_Strict):
    key: Text = Field(min_length=1, max_length=200)
    category: Text = Field(min_length=1, max_length=200)
    # Its faithful English translation (the Dutch is the source text).
    category_en: Text | None = Field(default=None, min_length=1, max_length=200)
    value: Text
    source: SeedSource | None = None  # default: the total's


class SeedBreakdown(_Strict):
    dimension: Text = Field(min_length=1, max_length=100)
    dimension_en: Text | None = Field(default=None, min_length=1, max_length=100)
    complete: bool
    parts: list[SeedPart] = Field(min_length=1)


class SeedFigure(_Strict):
    key: Text = Field(min_length=1, max_length=200)
    indicator: Text
    years: list[int] = Field(min_length=2, max_length=2)
    area: Text
    value: Text
    source: SeedSource
    footnotes: list[int] = Field(default_factory=list)
    breakdown: SeedBreakdown | None = None

    _years = field_validator("years", mode="before")(_years)


class SeedFootnote(_Strict):
    number: int = Field(ge=1)
    marker: Text = Field(default="", max_length=10)
    text: Text = Field(min_length=1)
    text_en: Text | None = Field(default=None, min_length=1)


class SeedChain(_Strict):
    key: Text = Field(min_length=1, max_length=200)
    title: Text = Field(min_length=1)
    title_en: Text | None = Field(default=None, min_length=1)
    caveat: Text = ""
    caveat_en: Text | None = Field(default=None, min_length=1)
    steps: list[Text] = Field(min_length=2)


class SeedEdition(_Strict):
    title: Text = Field(min_length=1, max_length=200)
    publisher: Text
    covers: list[int] = Field(min_length=2, max_length=2)
    area: Text
    # The source document by its title (with publisher and year where known), as printed;
    # the files it was read from (shared/seeds/…), kept for the open data's provenance.
    source_document: Text = ""
    source_files: list[Text] = Field(default_factory=list)
    introduction: Text = ""
    state: PeriodState = PeriodState.published

    _years = field_validator("covers", mode="before")(_years)


class SeedOrganisation(_Strict):
    code: Text = Field(min_length=1, max_length=50)
    name: Text = Field(min_length=1, max_length=300)


class MonitorSeed(_Strict):
    schema_version: int = Field(ge=1, le=1)
    programme: str
    organisations: list[SeedOrganisation] = Field(default_factory=list)
    areas: list[SeedArea] = Field(default_factory=list)
    indicators: list[SeedIndicator] = Field(default_factory=list)
    edition: SeedEdition
    footnotes: list[SeedFootnote] = Field(default_factory=list)
    figures: list[SeedFigure] = Field(min_length=1)
    chains: list[SeedChain] = Field(default_factory=list)


def _where(data: Any, loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    node = data
    for key in loc:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            node = None
        if isinstance(key, int) and isinstance(node, dict):
            name = node.get("key") or node.get("code") or node.get("number")
            parts.append(repr(name) if name is not None else f"item {key + 1}")
        else:
            parts.append(str(key))
    return " → ".join(parts) or "file"


def _parse(text: str, source: str) -> tuple[MonitorSeed, dict[str, QualifiedValue]]:
    """The file, validated, and every value it gives by figure key; SeedError naming each
    place that is wrong."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = (
            gettext("line %(line)d, column %(column)d")
            % {"line": mark.line + 1, "column": mark.column + 1}
            if mark
            else gettext("unknown place")
        )
        problem = getattr(error, "problem", None) or str(error)
        raise _refused(
            source, where, gettext("not valid YAML (%(problem)s)") % {"problem": problem}
        ) from error
    if not isinstance(data, dict):
        raise _refused(
            source, "file", gettext("expected a mapping with programme, edition, figures")
        )
    try:
        seed = MonitorSeed.model_validate(data)
    except ValidationError as error:
        found = [
            f"{_where(data, tuple(item['loc']))}: {_validation_message(item)}"
            for item in error.errors()
        ]
        raise MonitorSeedError(source, found) from error
    problems: list[str] = []
    values: dict[str, QualifiedValue] = {}
    keys: set[str] = set()
    for figure in seed.figures:
        entries = [(figure.key, figure.value, f"figures → {figure.key!r}")]
        if figure.breakdown:
            entries += [
                (part.key, part.value, f"figures → {figure.key!r} → breakdown → {part.key!r}")
                for part in figure.breakdown.parts
            ]
        for key, value, where in entries:
            if key in keys:
                problems.append(
                    f"{where}: " + gettext("the key %(key)s is used twice") % {"key": repr(key)}
                )
            keys.add(key)
            try:
                values[key] = parse_value(value, "nl")
            except InvalidValue:
                problems.append(
                    f"{where} → value: "
                    + gettext(
                        "%(value)s is not a value (write for example 120, > 200, ≈ 95–105 or "
                        "onbekend)"
                    )
                    % {"value": repr(value)}
                )
    footnotes = {note.number for note in seed.footnotes}
    for figure in seed.figures:
        for number in figure.footnotes:
            if number not in footnotes:
                problems.append(
                    f"figures → {figure.key!r} → footnotes: "
                    + gettext("no footnote %(number)s") % {"number": number}
                )
    for chain in seed.chains:
        for step in chain.steps:
            if step not in keys:
                problems.append(
                    f"chains → {chain.key!r} → steps: "
                    + gettext("no figure %(key)s") % {"key": repr(step)}
                )
    areas = {area.code for area in seed.areas}
    indicators = {indicator.code for indicator in seed.indicators}
    for figure in seed.figures:
        if figure.indicator not in indicators:
            problems.append(
                f"figures → {figure.key!r} → indicator: "
                + gettext("unknown indicator %(code)s") % {"code": repr(figure.indicator)}
            )
        if figure.area not in areas:
            problems.append(f"figures → {figure.key!r} → area: " + _unknown_area(figure.area))
    if seed.edition.area not in areas:
        problems.append("edition → area: " + _unknown_area(seed.edition.area))
    for area in seed.areas:
        if area.parent is not None and area.parent not in areas:
            problems.append(f"areas → {area.code!r} → parent: " + _unknown_area(area.parent))
    if problems:
        raise MonitorSeedError(source, problems)
    return seed, values


def _unknown_area(code: str) -> str:
    return gettext("unknown area %(code)s") % {"code": repr(code)}


def _upsert(report: SeedReport, kind: str, row: Any, **values: Any) -> None:
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    if changed:
        report.count(report.updated, kind)


def load_monitor_files(session: Session, paths: list[Path], report: SeedReport) -> None:
    """Validate every file, then apply them in order. Flushes; the caller commits or rolls
    back (so a refused file leaves the database as it was, the programme seed included)."""
    parsed = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise _refused(
                str(path), "file", gettext("cannot be read (%(error)s)") % {"error": error}
            ) from error
        parsed.append((path, *_parse(text, str(path))))
    for path, seed, values in parsed:
        apply_monitor_seed(session, seed, values, report, source=str(path))


def monitor_seed_files(directory: Path = MONITOR_SEED_DIR) -> list[Path]:
    return sorted(directory.glob("*.yaml"))


def _organisation(session: Session, code: str, source: str, where: str) -> Organisation:
    found = session.scalar(select(Organisation).where(col(Organisation.code) == code))
    if found is None:
        raise _refused(
            source, where, gettext("unknown organisation %(code)s") % {"code": repr(code)}
        )
    return found


def apply_monitor_seed(
    session: Session,
    seed: MonitorSeed,
    values: dict[str, QualifiedValue],
    report: SeedReport,
    *,
    source: str = "monitor seed",
) -> Edition:
    programme = session.scalar(select(Programme).where(col(Programme.slug) == seed.programme))
    if programme is None:
        raise _refused(
            source,
            "programme",
            gettext("no programme %(slug)s is loaded") % {"slug": repr(seed.programme)},
        )
    for organisation_seed in seed.organisations:
        organisation = session.scalar(
            select(Organisation).where(col(Organisation.code) == organisation_seed.code)
        )
        if organisation is None:
            session.add(Organisation(code=organisation_seed.code, name=organisation_seed.name))
            report.count(report.created, "organisations")
        else:
            _upsert(report, "organisations", organisation, name=organisation_seed.name)
    session.flush()

    areas: dict[str, Area] = {area.code: area for area in session.scalars(select(Area))}
    for area_seed in seed.areas:
        parent_id = id_of(areas[area_seed.parent]) if area_seed.parent else None
        fields: dict[str, Any] = {
            "official_code": area_seed.official_code,
            "name_nl": area_seed.name_nl,
            "name_en": area_seed.name_en,
            "level": area_seed.level,
            "parent_id": parent_id,
            "additive": area_seed.additive,
        }
        if area_seed.code in areas:
            _upsert(report, "areas", areas[area_seed.code], **fields)
        else:
            area = Area(code=area_seed.code, **fields)
            session.add(area)
            areas[area_seed.code] = area
            report.count(report.created, "areas")
        session.flush()

    indicators: dict[str, Indicator] = {}
    for indicator_seed in seed.indicators:
        where = f"indicators → {indicator_seed.code!r}"
        supplier = (
            id_of(_organisation(session, indicator_seed.supplier, source, f"{where} → supplier"))
            if indicator_seed.supplier
            else None
        )
        fields = {
            "name_nl": indicator_seed.name_nl,
            "name_en": indicator_seed.name_en,
            "unit": indicator_seed.unit,
            "definition": indicator_seed.definition,
            "supplier_id": supplier,
        }
        indicator = session.scalar(
            select(Indicator).where(
                col(Indicator.programme_id) == programme.id,
                col(Indicator.code) == indicator_seed.code,
            )
        )
        if indicator is None:
            indicator = Indicator(programme_id=id_of(programme), code=indicator_seed.code, **fields)
            session.add(indicator)
            session.flush()
            report.count(report.created, "indicators")
        else:
            _upsert(report, "indicators", indicator, **fields)
        indicators[indicator_seed.code] = indicator
        linked = set(
            session.scalars(
                select(col(IndicatorResult.result_id)).where(
                    col(IndicatorResult.indicator_id) == indicator.id
                )
            )
        )
        for number in indicator_seed.results:
            result = session.scalar(
                select(Result).where(
                    col(Result.programme_id) == programme.id, col(Result.number) == number
                )
            )
            if result is None:
                raise _refused(
                    source,
                    f"{where} → results",
                    gettext("no result %(number)s") % {"number": number},
                )
            if id_of(result) not in linked:
                session.add(IndicatorResult(indicator_id=id_of(indicator), result_id=id_of(result)))
                report.count(report.created, "indicator links")

    edition_seed = seed.edition
    publisher = _organisation(session, edition_seed.publisher, source, "edition → publisher")
    period = session.scalar(
        select(ReportingPeriod).where(
            col(ReportingPeriod.programme_id) == programme.id,
            col(ReportingPeriod.kind) == PeriodKind.monitor.value,
            col(ReportingPeriod.name) == edition_seed.title,
        )
    )
    publish_when_loaded = False
    if period is None:
        # Created open so that its figures can be recorded; published once they are.
        period = ReportingPeriod(
            programme_id=id_of(programme),
            kind=PeriodKind.monitor,
            name=edition_seed.title,
            reference_date=date(edition_seed.covers[1], 12, 31),
            state=PeriodState.open,
        )
        session.add(period)
        session.flush()
        report.count(report.created, "monitor editions")
        publish_when_loaded = edition_seed.state == PeriodState.published
        if not publish_when_loaded:
            period.state = edition_seed.state
    edition = session.scalar(select(Edition).where(col(Edition.period_id) == period.id))
    fields = {
        "title": edition_seed.title,
        "publisher_id": id_of(publisher),
        "covers_from": edition_seed.covers[0],
        "covers_to": edition_seed.covers[1],
        "area_id": id_of(areas[edition_seed.area]),
        "source_document": edition_seed.source_document,
        "source_files": ", ".join(edition_seed.source_files),
        "introduction": edition_seed.introduction,
    }
    if edition is None:
        edition = Edition(period_id=id_of(period), **fields)
        session.add(edition)
        session.flush()
    else:
        _upsert(report, "monitor editions", edition, **fields)

    footnotes: dict[int, Footnote] = {
        note.number: note
        for note in session.scalars(select(Footnote).where(col(Footnote.edition_id) == edition.id))
    }
    for footnote_seed in seed.footnotes:
        if footnote_seed.number in footnotes:
            _upsert(
                report,
                "footnotes",
                footnotes[footnote_seed.number],
                marker=footnote_seed.marker,
                text=footnote_seed.text,
                text_en=footnote_seed.text_en,
            )
        else:
            note = Footnote(
                edition_id=id_of(edition),
                number=footnote_seed.number,
                marker=footnote_seed.marker,
                text=footnote_seed.text,
                text_en=footnote_seed.text_en,
            )
            session.add(note)
            footnotes[footnote_seed.number] = note
            report.count(report.created, "footnotes")
    session.flush()

    figures: dict[str, Figure] = {
        figure.key: figure
        for figure in session.scalars(select(Figure).where(col(Figure.edition_id) == edition.id))
    }
    entries: list[service.FigureEntry] = []
    have_values = service.current_versions(session, [id_of(f) for f in figures.values()])
    position = 0

    def place(
        key: str,
        indicator: Indicator,
        years: list[int],
        area: Area,
        source_entry: SeedSource,
        *,
        parent: Figure | None = None,
        dimension: str | None = None,
        category: str | None = None,
        dimension_en: str | None = None,
        category_en: str | None = None,
        complete: bool | None = None,
    ) -> Figure:
        nonlocal position
        position += 1
        figure = figures.get(key)
        coordinates: dict[str, Any] = {
            "indicator_id": id_of(indicator),
            "year_from": years[0],
            "year_to": years[1],
            "area_id": id_of(area),
            "parent_id": id_of(parent) if parent else None,
            "dimension": dimension,
            "category": category,
            "dimension_en": dimension_en,
            "category_en": category_en,
            "position": position,
        }
        if figure is None:
            if period.state == PeriodState.published:
                raise _refused(
                    source,
                    f"figures → {key!r}",
                    gettext("the edition %(title)s is published, so no figure can be added to it")
                    % {"title": repr(edition_seed.title)},
                )
            figure = Figure(edition_id=id_of(edition), key=key, **coordinates)
            session.add(figure)
            session.flush()
            figures[key] = figure
            report.count(report.created, "figures")
        else:
            _upsert(report, "figures", figure, **coordinates)
        if id_of(figure) not in have_values:
            entries.append(
                service.FigureEntry(
                    figure_id=id_of(figure),
                    value=values[key],
                    based_on_version=0,
                    breakdown_complete=complete,
                    source_document=source_entry.document,
                    source_page=source_entry.page,
                    source_text=source_entry.text,
                )
            )
        return figure

    for figure_seed in seed.figures:
        indicator = indicators.get(figure_seed.indicator)
        if indicator is None:  # declared in another file of the same programme
            indicator = session.scalar(
                select(Indicator).where(
                    col(Indicator.programme_id) == programme.id,
                    col(Indicator.code) == figure_seed.indicator,
                )
            )
        assert indicator is not None
        area = areas[figure_seed.area]
        total = place(
            figure_seed.key,
            indicator,
            figure_seed.years,
            area,
            figure_seed.source,
            complete=figure_seed.breakdown.complete if figure_seed.breakdown else None,
        )
        linked = set(
            session.scalars(
                select(col(FigureFootnote.footnote_id)).where(
                    col(FigureFootnote.figure_id) == total.id
                )
            )
        )
        for number in figure_seed.footnotes:
            if id_of(footnotes[number]) not in linked:
                session.add(
                    FigureFootnote(figure_id=id_of(total), footnote_id=id_of(footnotes[number]))
                )
        if figure_seed.breakdown:
            for part in figure_seed.breakdown.parts:
                place(
                    part.key,
                    indicator,
                    figure_seed.years,
                    area,
                    part.source or figure_seed.source,
                    parent=total,
                    dimension=figure_seed.breakdown.dimension,
                    category=part.category,
                    dimension_en=figure_seed.breakdown.dimension_en,
                    category_en=part.category_en,
                )
    session.flush()
    try:
        written = service.record_figures(
            session,
            edition_id=id_of(edition),
            entries=entries,
            author=None,
            source=FigureSource.seeded,
            author_label=SEED_AUTHOR,
        )
    except service.BreakdownMismatch as error:
        raise MonitorSeedError(source, error.problems) from error
    if written:
        report.created["figure values"] = report.created.get("figure values", 0) + len(written)

    for chain_seed in seed.chains:
        chain = session.scalar(
            select(Chain).where(
                col(Chain.edition_id) == edition.id, col(Chain.key) == chain_seed.key
            )
        )
        if chain is None:
            chain = Chain(
                edition_id=id_of(edition),
                key=chain_seed.key,
                title=chain_seed.title,
                caveat=chain_seed.caveat,
                title_en=chain_seed.title_en,
                caveat_en=chain_seed.caveat_en,
            )
            session.add(chain)
            session.flush()
            report.count(report.created, "chains")
        else:
            _upsert(
                report,
                "chains",
                chain,
                title=chain_seed.title,
                caveat=chain_seed.caveat,
                title_en=chain_seed.title_en,
                caveat_en=chain_seed.caveat_en,
            )
        steps = {
            step.position: step
            for step in session.scalars(
                select(ChainStep).where(col(ChainStep.chain_id) == chain.id)
            )
        }
        for number, key in enumerate(chain_seed.steps, start=1):
            figure_id = id_of(figures[key])
            if number not in steps:
                session.add(ChainStep(chain_id=id_of(chain), position=number, figure_id=figure_id))
                report.count(report.created, "chain steps")
            else:
                _upsert(report, "chain steps", steps[number], figure_id=figure_id)
        for number, step in steps.items():
            if number > len(chain_seed.steps):
                session.delete(step)
                report.count(report.updated, "chain steps")
    session.flush()

    if publish_when_loaded:
        period.state = PeriodState.published
        period.published_at = utc_now()
        session.add(
            PeriodTransition(
                period_id=id_of(period),
                from_state=None,
                to_state=PeriodState.published,
                reason="Loaded from the monitor seed file as the edition that was published.",
                actor=SEED_AUTHOR,
            )
        )
        session.flush()
    return edition
