"""Loading a programme from a seed file: validated first, then applied in one transaction.

Running it twice changes nothing: rows are matched on their natural keys (programme slug,
action line number, theme position, result number, activity position, organisation code,
period name) and a status is only recorded for an activity that has none in the period yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlmodel import Session, col

from app.activities.models import StatusUpdate, UpdateSource
from app.clock import utc_now
from app.errors import InvalidInput
from app.ids import id_of
from app.periods.models import PeriodKind, PeriodState, PeriodTransition, ReportingPeriod
from app.periods.service import snapshot_structure
from app.programmes.models import (
    ActionLine,
    Activity,
    ActivityOrganisation,
    Organisation,
    OrganisationRole,
    Programme,
    Result,
    Theme,
)
from app.seeding.schema import SeedActivity, SeedFile

SEED_AUTHOR = "seed"


class SeedError(InvalidInput):
    """A seed file that cannot be loaded; `problems` name each place that is wrong."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.problems = problems
        listing = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"{path}: the seed file was refused, nothing was loaded:\n{listing}")


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)

    def count(self, bucket: dict[str, int], kind: str) -> None:
        bucket[kind] = bucket.get(kind, 0) + 1

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def _describe_location(data: Any, loc: tuple[int | str, ...]) -> str:
    """Turn a pydantic error location into words a person finds in the file."""
    parts: list[str] = []
    node = data
    for key in loc:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            node = None
        if isinstance(key, int) and isinstance(node, dict):
            if "number" in node and "themes" in node:
                parts.append(f"action line {node['number']}")
            elif "number" in node and "activities" in node:
                parts.append(f"result {node['number']}")
            elif "results" in node:
                parts.append(f"theme {key + 1} ({node.get('title')!r})")
            elif "status" in node or "explanation" in node:
                label = node.get("label")
                parts.append(f"activity {label!r}" if label else f"activity #{key + 1}")
            else:
                parts.append(f"item {key + 1}")
        elif isinstance(key, str) and key not in (
            "action_lines",
            "themes",
            "results",
            "activities",
        ):
            parts.append(key)
    return " → ".join(parts) or "file"


def _cross_checks(seed: SeedFile) -> list[str]:
    problems: list[str] = []
    known_codes = {org.code for org in seed.organisations}
    seen_codes: set[str] = set()
    for org in seed.organisations:
        if org.code in seen_codes:
            problems.append(f"organisations: code {org.code!r} is listed twice")
        seen_codes.add(org.code)

    seen_lines: set[int] = set()
    seen_results: dict[int, str] = {}
    for line in seed.action_lines:
        where_line = f"action line {line.number}"
        if line.number in seen_lines:
            problems.append(f"{where_line}: duplicate action line number {line.number}")
        seen_lines.add(line.number)
        for theme in line.themes:
            for result in theme.results:
                where = f"{where_line} → result {result.number}"
                if result.number in seen_results:
                    problems.append(
                        f"{where}: duplicate result number {result.number} "
                        f"(already used in {seen_results[result.number]})"
                    )
                else:
                    seen_results[result.number] = where_line
                seen_labels: set[str] = set()
                for index, activity in enumerate(result.activities, start=1):
                    name = (
                        f"activity {activity.label!r}" if activity.label else f"activity #{index}"
                    )
                    if activity.label is not None:
                        if activity.label in seen_labels:
                            problems.append(
                                f"{where} → {name}: duplicate activity number {activity.label!r}"
                            )
                        seen_labels.add(activity.label)
                    for code in [activity.lead, *activity.involved]:
                        if code is not None and code not in known_codes:
                            problems.append(
                                f"{where} → {name}: unknown organisation {code!r} "
                                "(add it under organisations)"
                            )
    return problems


def parse_seed(text: str, *, source: str = "seed file") -> SeedFile:
    """Parse and validate; raise SeedError naming every problem and where it is."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown place"
        problem = getattr(error, "problem", None) or str(error)
        raise SeedError(source, [f"{where}: not valid YAML ({problem})"]) from error
    if not isinstance(data, dict):
        raise SeedError(source, ["file: expected a mapping with programme, period, action_lines"])
    try:
        seed = SeedFile.model_validate(data)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            where = _describe_location(data, tuple(item["loc"]))
            message = item["msg"]
            if item["type"] == "enum":
                message = f"unknown status {item['input']!r}; {message.lower()}"
            elif item["type"] == "missing":
                message = f"missing {item['loc'][-1]!r}"
            problems.append(f"{where}: {message}")
        raise SeedError(source, problems) from error
    problems = _cross_checks(seed)
    if problems:
        raise SeedError(source, problems)
    return seed


def load_seed_file(session: Session, path: Path) -> SeedReport:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SeedError(str(path), [f"file: cannot be read ({error})"]) from error
    return apply_seed(session, parse_seed(text, source=str(path)))


def _upsert(session: Session, report: SeedReport, kind: str, row: Any, **values: Any) -> None:
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    if changed:
        report.count(report.updated, kind)


def apply_seed(session: Session, seed: SeedFile) -> SeedReport:
    """Bring the database in line with the seed. Flushes; the caller commits or rolls back."""
    report = SeedReport()

    organisations = {org.code: org for org in session.scalars(select(Organisation))}
    for entry in seed.organisations:
        if entry.code in organisations:
            _upsert(session, report, "organisations", organisations[entry.code], name=entry.name)
        else:
            organisation = Organisation(code=entry.code, name=entry.name)
            session.add(organisation)
            organisations[entry.code] = organisation
            report.count(report.created, "organisations")

    programme = session.scalar(select(Programme).where(col(Programme.slug) == seed.programme.slug))
    if programme is None:
        programme = Programme(**seed.programme.model_dump())
        session.add(programme)
        report.count(report.created, "programmes")
    else:
        _upsert(
            session,
            report,
            "programmes",
            programme,
            name=seed.programme.name,
            description=seed.programme.description,
        )
    session.flush()

    period = session.scalar(
        select(ReportingPeriod).where(
            col(ReportingPeriod.programme_id) == programme.id,
            col(ReportingPeriod.kind) == PeriodKind.progress.value,
            col(ReportingPeriod.name) == seed.period.name,
        )
    )
    publish_when_loaded = False
    if period is None:
        # Created open so that its statuses can be recorded; published once they are.
        period = ReportingPeriod(
            programme_id=id_of(programme),
            name=seed.period.name,
            reference_date=seed.period.reference_date,
            state=PeriodState.open,
        )
        session.add(period)
        report.count(report.created, "periods")
        publish_when_loaded = seed.period.state == PeriodState.published
        if seed.period.state != PeriodState.published:
            period.state = seed.period.state
    else:
        _upsert(session, report, "periods", period, reference_date=seed.period.reference_date)
    session.flush()

    for line_position, seed_line in enumerate(seed.action_lines, start=1):
        line = session.scalar(
            select(ActionLine).where(
                col(ActionLine.programme_id) == programme.id,
                col(ActionLine.number) == seed_line.number,
            )
        )
        if line is None:
            line = ActionLine(
                programme_id=id_of(programme),
                number=seed_line.number,
                title=seed_line.title,
                position=line_position,
            )
            session.add(line)
            session.flush()
            report.count(report.created, "action lines")
        else:
            _upsert(
                session, report, "action lines", line, title=seed_line.title, position=line_position
            )
        for theme_position, seed_theme in enumerate(seed_line.themes, start=1):
            theme = session.scalar(
                select(Theme).where(
                    col(Theme.action_line_id) == line.id, col(Theme.position) == theme_position
                )
            )
            if theme is None:
                theme = Theme(
                    action_line_id=id_of(line), title=seed_theme.title, position=theme_position
                )
                session.add(theme)
                session.flush()
                report.count(report.created, "themes")
            else:
                _upsert(session, report, "themes", theme, title=seed_theme.title)
            for seed_result in seed_theme.results:
                result = session.scalar(
                    select(Result).where(
                        col(Result.programme_id) == programme.id,
                        col(Result.number) == seed_result.number,
                    )
                )
                if result is None:
                    result = Result(
                        programme_id=id_of(programme),
                        theme_id=id_of(theme),
                        number=seed_result.number,
                        title=seed_result.title,
                        note=seed_result.note,
                        position=seed_result.number,
                    )
                    session.add(result)
                    session.flush()
                    report.count(report.created, "results")
                else:
                    _upsert(
                        session,
                        report,
                        "results",
                        result,
                        theme_id=theme.id,
                        title=seed_result.title,
                        note=seed_result.note,
                        position=seed_result.number,
                    )
                for activity_position, seed_activity in enumerate(seed_result.activities, 1):
                    _apply_activity(
                        session,
                        report,
                        result,
                        activity_position,
                        seed_activity,
                        organisations,
                        period,
                    )
    session.flush()
    if publish_when_loaded:
        period.state = PeriodState.published
        period.published_at = utc_now()
        snapshot_structure(session, period_id=id_of(period))
        session.add(
            PeriodTransition(
                period_id=id_of(period),
                from_state=None,
                to_state=PeriodState.published,
                reason="Loaded from the seed file as the report that was sent.",
                actor=SEED_AUTHOR,
            )
        )
        session.flush()
    return report


def _apply_activity(
    session: Session,
    report: SeedReport,
    result: Result,
    position: int,
    seed_activity: SeedActivity,
    organisations: dict[str, Organisation],
    period: ReportingPeriod,
) -> None:
    activity = session.scalar(
        select(Activity).where(
            col(Activity.result_id) == result.id, col(Activity.position) == position
        )
    )
    if activity is None:
        activity = Activity(
            result_id=id_of(result),
            label=seed_activity.label,
            title=seed_activity.title,
            position=position,
        )
        session.add(activity)
        session.flush()
        report.count(report.created, "activities")
    else:
        _upsert(
            session,
            report,
            "activities",
            activity,
            label=seed_activity.label,
            title=seed_activity.title,
        )

    wanted: dict[int, OrganisationRole] = {}
    for code in seed_activity.involved:
        wanted[id_of(organisations[code])] = OrganisationRole.involved
    if seed_activity.lead:
        wanted[id_of(organisations[seed_activity.lead])] = OrganisationRole.lead
    existing = {
        link.organisation_id: link
        for link in session.scalars(
            select(ActivityOrganisation).where(col(ActivityOrganisation.activity_id) == activity.id)
        )
    }
    for organisation_id, link in existing.items():
        if organisation_id not in wanted:
            session.delete(link)
            report.count(report.updated, "activity organisations")
        elif link.role != wanted[organisation_id]:
            link.role = wanted[organisation_id]
            report.count(report.updated, "activity organisations")
    for organisation_id, role in wanted.items():
        if organisation_id not in existing:
            session.add(
                ActivityOrganisation(
                    activity_id=id_of(activity), organisation_id=organisation_id, role=role
                )
            )
            report.count(report.created, "activity organisations")

    # A status is history: the seed only supplies the first one; later ones come from people.
    has_status = session.scalar(
        select(func.count())
        .select_from(StatusUpdate)
        .where(
            col(StatusUpdate.activity_id) == activity.id, col(StatusUpdate.period_id) == period.id
        )
    )
    if not has_status and period.state == PeriodState.published:
        raise SeedError(
            "seed",
            [
                f"activity {activity.label or ''} {activity.title!r}: the period {period.name!r} "
                "is published, so no status can be added to it"
            ],
        )
    if not has_status:
        session.add(
            StatusUpdate(
                activity_id=id_of(activity),
                period_id=id_of(period),
                version=1,
                status=seed_activity.status,
                explanation=seed_activity.explanation,
                source=UpdateSource.derived,
                author=SEED_AUTHOR,
            )
        )
        report.count(report.created, "status updates")
