"""Recommendation seed files (seed/recommendations/*.yaml, format in seed/README.md):
validated first, then applied in the caller's transaction, all files or none (with the
programme and the monitor, `voortgang seed`).

Running it twice changes nothing: a report is matched on programme and key, a recommendation
on its report and number, an addressee on its position, a legend value on programme and code,
a link on its two ends. The seed proposes links (source `seeded`, unconfirmed); it never
removes a link, since people confirm and add them. It records no response, assessment or
follow-up: those are history that people write.

Every refusal names the file and the place, in English and in Dutch (the command line has no
language of its own).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import select
from sqlmodel import Session, col

from app.ids import id_of
from app.monitor.models import Indicator
from app.programmes.models import Activity, Organisation, Programme, Result
from app.recommendations.models import (
    Addressee,
    FollowUpStatus,
    LinkSource,
    Recommendation,
    RecommendationActivity,
    RecommendationIndicator,
    RecommendationRelation,
    RecommendationResult,
    RelationKind,
    SourceReport,
)
from app.seeding.service import SeedError, SeedReport
from app.text import Text

RECOMMENDATION_SEED_DIR = Path(__file__).resolve().parents[2] / "seed" / "recommendations"


class RecommendationSeedError(SeedError):
    """A refused recommendation seed file: the heading and every problem in both languages."""

    def __init__(self, path: str, problems: list[str]) -> None:
        super().__init__(path, problems)
        listing = "\n".join(f"  - {problem}" for problem in problems)
        self.message = (
            f"{path}: the seed file was refused, nothing was loaded / het seedbestand is "
            f"geweigerd, er is niets geladen:\n{listing}"
        )
        self.args = (self.message,)


def _problem(where: str, english: str, dutch: str) -> str:
    return f"{where}: {english} / {dutch}"


# Pydantic's messages are English; the Dutch beside them, by error type.
_DUTCH = {
    "missing": "ontbreekt",
    "extra_forbidden": "is geen veld van dit formaat",
    "string_too_short": "mag niet leeg zijn",
    "string_too_long": "is te lang",
    "string_type": "moet tekst zijn",
    "int_parsing": "moet een geheel getal zijn",
    "int_type": "moet een geheel getal zijn",
    "bool_parsing": "moet true of false zijn",
    "bool_type": "moet true of false zijn",
    "enum": "is geen van de toegestane waarden",
    "list_type": "moet een lijst zijn",
    "too_short": "heeft te weinig elementen",
    "greater_than_equal": "is te klein",
    "less_than_equal": "is te groot",
    "value_error": "is ongeldig",
    "control_character": "bevat een stuurteken",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SeedLegendValue(_Strict):
    code: Text = Field(min_length=1, max_length=50, pattern=r"^[a-z][a-z_]*$")
    symbol: Text = Field(min_length=1, max_length=10)
    label_nl: Text = Field(min_length=1, max_length=200)
    label_en: Text = Field(min_length=1, max_length=200)


class SeedAddressee(_Strict):
    # As written in the report ("de staatssecretaris van Justitie en Veiligheid").
    name: Text = ""
    organisation: Text | None = None  # an organisation code

    @model_validator(mode="after")
    def _someone(self) -> SeedAddressee:
        if not self.name.strip() and self.organisation is None:
            raise ValueError("an addressee needs a name or an organisation")
        return self


class SeedActivityLink(_Strict):
    result: int = Field(ge=1)
    # The activity's label as printed in its result, or its position there when unnumbered.
    label: Text | None = None
    position: int | None = Field(default=None, ge=1)
    # The activity's title, so that a wrong number is caught rather than linked.
    title: Text = Field(min_length=1)

    @model_validator(mode="after")
    def _one_way(self) -> SeedActivityLink:
        if (self.label is None) == (self.position is None):
            raise ValueError("give the activity's label or its position, not both")
        return self


class SeedLinks(_Strict):
    activities: list[SeedActivityLink] = Field(default_factory=list)
    results: list[int] = Field(default_factory=list)
    indicators: list[Text] = Field(default_factory=list)


class SeedRelation(_Strict):
    kind: RelationKind
    report: Text  # the key of the report of the earlier recommendation
    number: Text


class SeedPart(_Strict):
    number: Text = Field(min_length=1, max_length=20)
    title: Text = Field(min_length=1)
    text: Text = ""
    addressees: list[SeedAddressee] = Field(default_factory=list)
    links: SeedLinks = Field(default_factory=SeedLinks)


class SeedRecommendation(SeedPart):
    priority: bool = False
    relations: list[SeedRelation] = Field(default_factory=list)
    parts: list[SeedPart] = Field(default_factory=list)


class SeedReportEntry(_Strict):
    key: Text = Field(min_length=1, max_length=100, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    title: Text = Field(min_length=1, max_length=500)
    publisher: Text
    year: int | None = Field(default=None, ge=1900, le=2100)
    covers: list[int] | None = Field(default=None, min_length=2, max_length=2)
    reference: Text = ""
    url: Text | None = Field(default=None, max_length=1000)
    source_document: Text = Field(min_length=1)


class RecommendationSeed(_Strict):
    schema_version: int = Field(ge=1, le=1)
    programme: Text
    followup_legend: list[SeedLegendValue] = Field(default_factory=list)
    report: SeedReportEntry | None = None
    recommendations: list[SeedRecommendation] = Field(default_factory=list)

    @model_validator(mode="after")
    def _something(self) -> RecommendationSeed:
        if self.report is None and not self.followup_legend:
            raise ValueError("a file has a report with its recommendations, or a legend")
        if self.report is not None and not self.recommendations:
            raise ValueError("a report needs its recommendations")
        if self.report is None and self.recommendations:
            raise ValueError("recommendations need their report")
        return self


def _where(data: Any, loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    node = data
    for key in loc:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            node = None
        if isinstance(key, int) and isinstance(node, dict):
            name = node.get("number") or node.get("code") or node.get("key") or node.get("title")
            parts.append(repr(name) if name is not None else f"item {key + 1}")
        else:
            parts.append(str(key))
    return " → ".join(parts) or "file"


def _cross_checks(seed: RecommendationSeed) -> list[str]:
    problems: list[str] = []
    numbers: set[str] = set()
    for recommendation in seed.recommendations:
        for item in (recommendation, *recommendation.parts):
            if item.number in numbers:
                problems.append(
                    _problem(
                        f"recommendations → {item.number!r} → number",
                        f"the number {item.number!r} is used twice",
                        f"het nummer {item.number!r} komt twee keer voor",
                    )
                )
            numbers.add(item.number)
    codes: set[str] = set()
    for value in seed.followup_legend:
        if value.code in codes:
            problems.append(
                _problem(
                    f"followup_legend → {value.code!r} → code",
                    f"the code {value.code!r} is used twice",
                    f"de code {value.code!r} komt twee keer voor",
                )
            )
        codes.add(value.code)
    return problems


def parse_recommendation_seed(text: str, source: str) -> RecommendationSeed:
    """The file, validated; RecommendationSeedError naming each place that is wrong."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "file"
        raise RecommendationSeedError(
            source, [_problem(where, f"not valid YAML ({error})", "geen geldige YAML")]
        ) from error
    if not isinstance(data, dict):
        raise RecommendationSeedError(
            source,
            [
                _problem(
                    "file",
                    "expected a mapping with programme, report, recommendations",
                    "verwacht een mapping met programme, report, recommendations",
                )
            ],
        )
    try:
        seed = RecommendationSeed.model_validate(data)
    except ValidationError as error:
        found = [
            _problem(
                _where(data, tuple(item["loc"])),
                item["msg"],
                _DUTCH.get(item["type"], "is ongeldig"),
            )
            for item in error.errors()
        ]
        raise RecommendationSeedError(source, found) from error
    problems = _cross_checks(seed)
    if problems:
        raise RecommendationSeedError(source, problems)
    return seed


def recommendation_seed_files(directory: Path = RECOMMENDATION_SEED_DIR) -> list[Path]:
    return sorted(directory.glob("*.yaml"))


def load_recommendation_files(session: Session, paths: list[Path], report: SeedReport) -> None:
    """Validate every file, then apply them in order (legends first, then the reports, so a
    relation may name a report of another file). Flushes; the caller commits or rolls back."""
    parsed: list[tuple[str, RecommendationSeed]] = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise RecommendationSeedError(
                str(path),
                [_problem("file", f"cannot be read ({error})", "kan niet worden gelezen")],
            ) from error
        parsed.append((str(path), parse_recommendation_seed(text, str(path))))
    for source, seed in parsed:
        _apply_legend(session, seed, report, source)
    for source, seed in parsed:
        _apply_report(session, seed, report, source)
    for source, seed in parsed:
        _apply_relations(session, seed, report, source)
    session.flush()


def _programme(session: Session, seed: RecommendationSeed, source: str) -> Programme:
    programme = session.scalar(select(Programme).where(col(Programme.slug) == seed.programme))
    if programme is None:
        raise RecommendationSeedError(
            source,
            [
                _problem(
                    "programme",
                    f"no programme {seed.programme!r} is loaded",
                    f"er is geen programma {seed.programme!r} geladen",
                )
            ],
        )
    return programme


def _upsert(report: SeedReport, what: str, row: Any, **values: Any) -> None:
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    if changed:
        report.count(report.updated, what)


def _apply_legend(
    session: Session, seed: RecommendationSeed, report: SeedReport, source: str
) -> None:
    if not seed.followup_legend:
        return
    programme = _programme(session, seed, source)
    existing = {
        value.code: value
        for value in session.scalars(
            select(FollowUpStatus).where(col(FollowUpStatus.programme_id) == programme.id)
        )
    }
    for position, entry in enumerate(seed.followup_legend, start=1):
        fields: dict[str, Any] = {
            "symbol": entry.symbol,
            "label_nl": entry.label_nl,
            "label_en": entry.label_en,
            "position": position,
        }
        if entry.code in existing:
            _upsert(report, "follow-up legend values", existing[entry.code], **fields)
        else:
            session.add(FollowUpStatus(programme_id=id_of(programme), code=entry.code, **fields))
            report.count(report.created, "follow-up legend values")
    session.flush()


def _organisation(session: Session, code: str, source: str, where: str) -> Organisation:
    found = session.scalar(select(Organisation).where(col(Organisation.code) == code))
    if found is None:
        raise RecommendationSeedError(
            source,
            [_problem(where, f"unknown organisation {code!r}", f"onbekende organisatie {code!r}")],
        )
    return found


def _report_row(session: Session, programme_id: int, key: str) -> SourceReport | None:
    return session.scalar(
        select(SourceReport).where(
            col(SourceReport.programme_id) == programme_id, col(SourceReport.key) == key
        )
    )


def _apply_report(
    session: Session, seed: RecommendationSeed, report: SeedReport, source: str
) -> None:
    entry = seed.report
    if entry is None:
        return
    programme = _programme(session, seed, source)
    publisher = _organisation(session, entry.publisher, source, "report → publisher")
    fields: dict[str, Any] = {
        "title": entry.title,
        "publisher_id": id_of(publisher),
        "year": entry.year,
        "covers_from": entry.covers[0] if entry.covers else None,
        "covers_to": entry.covers[1] if entry.covers else None,
        "reference": entry.reference,
        "url": entry.url,
        "source_document": entry.source_document,
    }
    row = _report_row(session, id_of(programme), entry.key)
    if row is None:
        row = SourceReport(programme_id=id_of(programme), key=entry.key, **fields)
        session.add(row)
        session.flush()
        report.count(report.created, "recommendation reports")
    else:
        _upsert(report, "recommendation reports", row, **fields)
    existing = {
        item.number: item
        for item in session.scalars(
            select(Recommendation).where(col(Recommendation.report_id) == row.id)
        )
    }
    position = 0
    for recommendation in seed.recommendations:
        position += 1
        where = f"recommendations → {recommendation.number!r}"
        parent = _recommendation(
            session, report, existing, id_of(row), recommendation, position, None, entry
        )
        _addressees(session, report, parent, recommendation, source, where)
        _links(session, report, parent, recommendation, id_of(programme), source, where)
        for part in recommendation.parts:
            position += 1
            child = _recommendation(
                session, report, existing, id_of(row), part, position, parent, entry
            )
            part_where = f"{where} → parts → {part.number!r}"
            _addressees(session, report, child, part, source, part_where)
            _links(session, report, child, part, id_of(programme), source, part_where)


def _recommendation(
    session: Session,
    report: SeedReport,
    existing: dict[str, Recommendation],
    report_id: int,
    entry: SeedPart,
    position: int,
    parent: Recommendation | None,
    report_entry: SeedReportEntry,
) -> Recommendation:
    fields: dict[str, Any] = {
        "position": position,
        "title": entry.title,
        "text": entry.text,
        "priority": entry.priority if isinstance(entry, SeedRecommendation) else False,
        "parent_id": id_of(parent) if parent else None,
        "source_document": report_entry.source_document,
    }
    row = existing.get(entry.number)
    if row is None:
        row = Recommendation(report_id=report_id, number=entry.number, **fields)
        session.add(row)
        session.flush()
        existing[entry.number] = row
        report.count(report.created, "recommendations")
    else:
        _upsert(report, "recommendations", row, **fields)
    return row


def _addressees(
    session: Session,
    report: SeedReport,
    recommendation: Recommendation,
    entry: SeedPart,
    source: str,
    where: str,
) -> None:
    """The addressees follow the file, by position."""
    rows = {
        row.position: row
        for row in session.scalars(
            select(Addressee).where(col(Addressee.recommendation_id) == recommendation.id)
        )
    }
    for position, addressee in enumerate(entry.addressees, start=1):
        organisation_id = (
            id_of(
                _organisation(
                    session,
                    addressee.organisation,
                    source,
                    f"{where} → addressees → {position} → organisation",
                )
            )
            if addressee.organisation
            else None
        )
        fields: dict[str, Any] = {
            "name": addressee.name.strip(),
            "organisation_id": organisation_id,
        }
        if position in rows:
            _upsert(report, "addressees", rows[position], **fields)
        else:
            session.add(
                Addressee(recommendation_id=id_of(recommendation), position=position, **fields)
            )
            report.count(report.created, "addressees")
    for position, row in rows.items():
        if position > len(entry.addressees):
            session.delete(row)
            report.count(report.updated, "addressees")
    session.flush()


def _refused(source: str, where: str, english: str, dutch: str) -> RecommendationSeedError:
    return RecommendationSeedError(source, [_problem(where, english, dutch)])


def _links(
    session: Session,
    report: SeedReport,
    recommendation: Recommendation,
    entry: SeedPart,
    programme_id: int,
    source: str,
    where: str,
) -> None:
    rec_id = id_of(recommendation)
    have_activities = set(
        session.scalars(
            select(col(RecommendationActivity.activity_id)).where(
                col(RecommendationActivity.recommendation_id) == rec_id
            )
        )
    )
    for index, link in enumerate(entry.links.activities, start=1):
        place = f"{where} → links → activities → {index}"
        result = _result(session, programme_id, link.result, source, place)
        query = select(Activity).where(col(Activity.result_id) == result.id)
        if link.label is not None:
            query = query.where(col(Activity.label) == link.label)
        else:
            query = query.where(col(Activity.position) == link.position)
        activity = session.scalar(query)
        named = f"result {link.result}, activity {link.label or f'#{link.position}'}"
        genoemd = f"resultaat {link.result}, activiteit {link.label or f'#{link.position}'}"
        if activity is None:
            raise _refused(source, place, f"no {named}", f"er is geen {genoemd}")
        if activity.title.strip() != link.title.strip():
            raise _refused(
                source,
                f"{place} → title",
                f"{named} is {activity.title!r}, not {link.title!r}",
                f"{genoemd} heet {activity.title!r}, niet {link.title!r}",
            )
        if id_of(activity) not in have_activities:
            session.add(
                RecommendationActivity(
                    recommendation_id=rec_id,
                    activity_id=id_of(activity),
                    source=LinkSource.seeded,
                )
            )
            have_activities.add(id_of(activity))
            report.count(report.created, "recommendation links")
    have_results = set(
        session.scalars(
            select(col(RecommendationResult.result_id)).where(
                col(RecommendationResult.recommendation_id) == rec_id
            )
        )
    )
    for number in entry.links.results:
        result = _result(session, programme_id, number, source, f"{where} → links → results")
        if id_of(result) not in have_results:
            session.add(
                RecommendationResult(
                    recommendation_id=rec_id, result_id=id_of(result), source=LinkSource.seeded
                )
            )
            have_results.add(id_of(result))
            report.count(report.created, "recommendation links")
    have_indicators = set(
        session.scalars(
            select(col(RecommendationIndicator.indicator_id)).where(
                col(RecommendationIndicator.recommendation_id) == rec_id
            )
        )
    )
    for code in entry.links.indicators:
        indicator = session.scalar(
            select(Indicator).where(
                col(Indicator.programme_id) == programme_id, col(Indicator.code) == code
            )
        )
        if indicator is None:
            raise _refused(
                source,
                f"{where} → links → indicators",
                f"no indicator {code!r} (the monitor's files load first)",
                f"er is geen indicator {code!r} (de bestanden van de monitor laden eerst)",
            )
        if id_of(indicator) not in have_indicators:
            session.add(
                RecommendationIndicator(
                    recommendation_id=rec_id,
                    indicator_id=id_of(indicator),
                    source=LinkSource.seeded,
                )
            )
            have_indicators.add(id_of(indicator))
            report.count(report.created, "recommendation links")
    session.flush()


def _result(session: Session, programme_id: int, number: int, source: str, where: str) -> Result:
    result = session.scalar(
        select(Result).where(col(Result.programme_id) == programme_id, col(Result.number) == number)
    )
    if result is None:
        raise _refused(source, where, f"no result {number}", f"er is geen resultaat {number}")
    return result


def _apply_relations(
    session: Session, seed: RecommendationSeed, report: SeedReport, source: str
) -> None:
    if seed.report is None:
        return
    programme = _programme(session, seed, source)
    own = _report_row(session, id_of(programme), seed.report.key)
    assert own is not None  # applied just before
    for recommendation in seed.recommendations:
        where = f"recommendations → {recommendation.number!r} → relations"
        if not recommendation.relations:
            continue
        this = session.scalar(
            select(Recommendation).where(
                col(Recommendation.report_id) == own.id,
                col(Recommendation.number) == recommendation.number,
            )
        )
        assert this is not None
        have = {
            row.related_id: row
            for row in session.scalars(
                select(RecommendationRelation).where(
                    col(RecommendationRelation.recommendation_id) == this.id
                )
            )
        }
        for relation in recommendation.relations:
            other_report = _report_row(session, id_of(programme), relation.report)
            other = (
                session.scalar(
                    select(Recommendation).where(
                        col(Recommendation.report_id) == other_report.id,
                        col(Recommendation.number) == relation.number,
                    )
                )
                if other_report
                else None
            )
            if other is None or other.id == this.id:
                raise _refused(
                    source,
                    where,
                    f"no other recommendation {relation.number!r} in report {relation.report!r}",
                    f"er is geen andere aanbeveling {relation.number!r} in rapport "
                    f"{relation.report!r}",
                )
            if id_of(other) in have:
                _upsert(report, "recommendation relations", have[id_of(other)], kind=relation.kind)
            else:
                session.add(
                    RecommendationRelation(
                        recommendation_id=id_of(this), related_id=id_of(other), kind=relation.kind
                    )
                )
                report.count(report.created, "recommendation relations")
    session.flush()
