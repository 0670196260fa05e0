"""The monitor's rules: editions through the periods' life cycle, figures entered under the
edit policy, breakdowns that must add up, areas that are not added up.

- An edition is a reporting period of kind `monitor` (`create_edition`); it moves through the
  same moves (`move_edition` is `app.periods.service.move_period`): draft → open → in review →
  published, and from published only into an audited correction (with a reason).
- Who may change a figure, and when, is the edit policy (`FIGURE_POLICY`, app/policy.py): a
  figure's organisation is its indicator's supplier; coordinators change every figure.
- Every change is a new `FigureVersion` (append-only, author, time, version; a based-on
  version check refuses a lost update). A batch (`record_figures`: a form with a total and its
  parts, or an import) is checked as a whole: a breakdown declared complete must add up to its
  total, or nothing is written and the message names the figure.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlmodel import Session, col

from app.accounts.models import Role
from app.accounts.service import CurrentUser
from app.audit import service as audit
from app.audit.models import AuditAction
from app.errors import DomainError, Forbidden, InvalidInput, NotFound
from app.i18n import gettext
from app.ids import id_of
from app.monitor.models import (
    Area,
    Chain,
    ChainStep,
    Edition,
    Figure,
    FigureFootnote,
    FigureSource,
    FigureVersion,
    Footnote,
    Indicator,
)
from app.monitor.values import QualifiedValue, Unit, format_value
from app.periods import service as periods
from app.periods.models import PeriodKind, PeriodState, PeriodTransition, ReportingPeriod
from app.policy import CHANGING_STATES, Decision, EditPolicy, Period, Reason, period_message
from app.review import figures as review_state

# -- the edit policy, in the monitor's words --------------------------------------------------


@dataclass(frozen=True)
class FigureSubject:
    """A figure as the edit policy sees it: its organisation is its indicator's supplier."""

    id: int
    organisation_ids: Set[int]
    retired: bool = False
    sent_back: bool = False


def figure_wording(reason: Reason, subject: FigureSubject, period: Period | None) -> str:
    if reason in (Reason.no_editor, Reason.other_organisation):
        return gettext("Only editors of the organisation that supplies this figure may change it.")
    if reason == Reason.published:
        return gettext(
            "%(edition)s is published and its figures can no longer change. A coordinator "
            "can start a correction, giving a reason."
        ) % {"edition": period.name if period else ""}
    if reason == Reason.not_opened:
        return gettext("%(edition)s has not been opened for figures yet.") % {
            "edition": period.name if period else ""
        }
    if reason == Reason.in_review:
        return gettext(
            "%(edition)s is closed for review; only coordinators can still change its figures."
        ) % {"edition": period.name if period else ""}
    return period_message(reason, period)


FIGURE_POLICY: EditPolicy[FigureSubject] = EditPolicy(figure_wording)


class FigureConflict(DomainError):
    """Someone saved the figure after the version this change was based on."""

    status_code = 409

    def __init__(self, key: str, current: int) -> None:
        super().__init__(
            gettext(
                "Someone else saved figure %(figure)s in the meantime (version %(version)s). "
                "Look at their value and save again."
            )
            % {"figure": key, "version": current}
        )
        self.current = current


class BreakdownMismatch(InvalidInput):
    """A breakdown declared complete does not add up to its total."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = problems


# -- editions --------------------------------------------------------------------------------


def get_edition(session: Session, edition_id: int) -> Edition:
    edition = session.get(Edition, edition_id)
    if edition is None:
        raise NotFound(gettext("Monitor edition %(id)s does not exist") % {"id": edition_id})
    return edition


def edition_period(session: Session, edition: Edition) -> ReportingPeriod:
    return periods.get_period(session, edition.period_id)


def list_editions(session: Session, programme_id: int) -> list[tuple[Edition, ReportingPeriod]]:
    """The programme's editions with their periods (their state), newest first."""
    rows = session.execute(
        select(Edition, ReportingPeriod)
        .join(ReportingPeriod, col(ReportingPeriod.id) == Edition.period_id)
        .where(col(ReportingPeriod.programme_id) == programme_id)
        .order_by(col(Edition.covers_to).desc(), col(Edition.id).desc())
    )
    return [(edition, period) for edition, period in rows.tuples()]


def create_edition(
    session: Session,
    *,
    programme_id: int,
    title: str,
    publisher_id: int,
    covers_from: int,
    covers_to: int,
    area_id: int,
    actor: CurrentUser,
    source_document: str = "",
    introduction: str = "",
    address: str = "",
) -> Edition:
    """A new edition, as a draft: a reporting period of kind monitor named after the title,
    its reference date the last day of the years it covers (created, recorded and audited as
    any period is)."""
    if covers_from > covers_to:
        raise InvalidInput(
            gettext("An edition covers the years from %(start)s to %(end)s: the start is later.")
            % {"start": covers_from, "end": covers_to}
        )
    if session.get(Area, area_id) is None:
        raise NotFound(gettext("Area %(id)s does not exist") % {"id": area_id})
    period = periods.create_period(
        session,
        programme_id=programme_id,
        name=title,
        reference_date=date(covers_to, 12, 31),
        deadline=None,
        actor=actor,
        address=address,
    )
    period.kind = PeriodKind.monitor
    edition = Edition(
        period_id=id_of(period),
        title=period.name,
        publisher_id=publisher_id,
        covers_from=covers_from,
        covers_to=covers_to,
        area_id=area_id,
        source_document=source_document,
        introduction=introduction,
    )
    session.add(edition)
    session.flush()
    return edition


def move_edition(
    session: Session,
    *,
    edition_id: int,
    move: str,
    actor: CurrentUser,
    reason: str = "",
    address: str = "",
) -> ReportingPeriod:
    """One of the periods' moves (`app.periods.service.MOVES`: open, review, publish,
    reopen-round, correct, republish) on the edition's period: the same checks, compare-and-
    set, transition record and audit event."""
    edition = get_edition(session, edition_id)
    return periods.move_period(
        session, period_id=edition.period_id, move=move, actor=actor, reason=reason, address=address
    )


# -- figures ---------------------------------------------------------------------------------


def add_figure(
    session: Session,
    *,
    edition_id: int,
    key: str,
    indicator_id: int,
    year_from: int,
    year_to: int,
    area_id: int,
    actor: CurrentUser,
    parent_id: int | None = None,
    dimension: str | None = None,
    category: str | None = None,
    dimension_en: str | None = None,
    category_en: str | None = None,
    position: int = 0,
) -> Figure:
    """A figure's coordinates in an edition that is not published (coordinators: choosing an
    edition's indicators and areas is theirs). A part of a breakdown names its parent, the
    dimension and its category (in Dutch, the source's words; optionally in English too)."""
    if not actor.at_least(Role.coordinator):
        raise Forbidden(gettext("Only coordinators may choose an edition's figures."))
    edition = get_edition(session, edition_id)
    period = edition_period(session, edition)
    if PeriodState(period.state) not in (PeriodState.draft, *CHANGING_STATES):
        raise periods.PeriodClosed(
            figure_wording(Reason.published, FigureSubject(0, frozenset()), period)
        )
    if year_from > year_to:
        raise InvalidInput(gettext("A figure's period starts before it ends."))
    if parent_id is not None:
        parent = session.get(Figure, parent_id)
        if parent is None or parent.edition_id != edition_id:
            raise InvalidInput(gettext("A part belongs to a figure of the same edition."))
        if not dimension or not category:
            raise InvalidInput(gettext("A part of a breakdown has a dimension and a category."))
    figure = Figure(
        edition_id=edition_id,
        key=key,
        indicator_id=indicator_id,
        year_from=year_from,
        year_to=year_to,
        area_id=area_id,
        parent_id=parent_id,
        dimension=dimension,
        category=category,
        dimension_en=dimension_en if parent_id is not None else None,
        category_en=category_en if parent_id is not None else None,
        position=position,
    )
    session.add(figure)
    session.flush()
    return figure


def edition_of_version(session: Session, figure_version_id: int) -> int:
    """The edition a figure version belongs to (404 when there is no such version)."""
    version = session.get(FigureVersion, figure_version_id)
    figure = session.get(Figure, version.figure_id) if version else None
    if figure is None:
        raise NotFound(gettext("Version %(id)s does not exist") % {"id": figure_version_id})
    return figure.edition_id


def subject_of(session: Session, figure: Figure) -> FigureSubject:
    indicator = session.get(Indicator, figure.indicator_id)
    supplier = indicator.supplier_id if indicator else None
    # Sent back in review: its editor may change it while the edition is in review.
    current = current_versions(session, [id_of(figure)]).get(id_of(figure))
    return FigureSubject(
        id_of(figure),
        frozenset({supplier} if supplier is not None else ()),
        sent_back=review_state.sent_back(session, current),
    )


def may_change(session: Session, user: CurrentUser | None, figure: Figure) -> Decision:
    """May this user change this figure now (the edit policy, with the edition's period)?"""
    edition = get_edition(session, figure.edition_id)
    return FIGURE_POLICY.change(user, subject_of(session, figure), edition_period(session, edition))


def current_versions(session: Session, figure_ids: Iterable[int]) -> dict[int, FigureVersion]:
    """The newest version of each of these figures (figures without one are absent)."""
    ids = list(figure_ids)
    if not ids:
        return {}
    newest = (
        select(col(FigureVersion.figure_id), func.max(FigureVersion.version).label("version"))
        .where(col(FigureVersion.figure_id).in_(ids))
        .group_by(col(FigureVersion.figure_id))
        .subquery()
    )
    rows = session.scalars(
        select(FigureVersion).join(
            newest,
            (col(FigureVersion.figure_id) == newest.c.figure_id)
            & (col(FigureVersion.version) == newest.c.version),
        )
    )
    return {version.figure_id: version for version in rows}


@dataclass(frozen=True)
class FigureEntry:
    """One figure's new value in a batch. `based_on_version` is the version the person saw
    (0: the figure had none)."""

    figure_id: int
    value: QualifiedValue
    based_on_version: int
    breakdown_complete: bool | None = None
    source_document: str = ""
    source_page: str | None = None
    source_text: str = ""


def adds_up(total: QualifiedValue, parts: Sequence[QualifiedValue]) -> bool:
    """Can the parts add up to the total? Each value allows an interval of numbers (an exact
    one a single number, ">85" everything from 85, an unknown part anything); the sum of the
    parts' intervals must meet the total's. For exact numbers: the sum equals the total."""
    low = sum(part.interval()[0] for part in parts)
    high = sum(part.interval()[1] for part in parts)
    total_low, total_high = total.interval()
    tolerance = 1e-9
    return low <= total_high + tolerance and total_low <= high + tolerance


def breakdown_problems(
    figures: Sequence[Figure],
    values: dict[int, QualifiedValue],
    complete: dict[int, bool | None],
    *,
    unit_of: dict[int, Unit] | None = None,
    language: str | None = None,
) -> list[str]:
    """For each figure whose breakdown is declared complete: do its parts add up? A message
    per figure that does not, naming it ("Figure controles (477): its parts 320 + 150 = 470
    do not add up to it."). Figures without a value are skipped (nothing to check yet)."""
    parts: dict[int, list[Figure]] = {}
    for figure in figures:
        if figure.parent_id is not None:
            parts.setdefault(figure.parent_id, []).append(figure)
    problems = []
    for figure in figures:
        fid = id_of(figure)
        if not complete.get(fid) or fid not in values:
            continue
        children = sorted(parts.get(fid, []), key=lambda part: (part.position, part.key))
        if not children:
            problems.append(
                gettext("Figure %(figure)s is declared complete but has no parts.")
                % {"figure": figure.key}
            )
            continue
        missing = [child.key for child in children if id_of(child) not in values]
        unit = (unit_of or {}).get(fid)
        total = values[fid]
        if missing:
            problems.append(
                gettext(
                    "Figure %(figure)s (%(total)s) is declared complete, but part %(part)s has no "
                    "value."
                )
                % {
                    "figure": figure.key,
                    "total": format_value(total, unit, language),
                    "part": ", ".join(missing),
                }
            )
            continue
        child_values = [values[id_of(child)] for child in children]
        if not adds_up(total, child_values):
            problems.append(
                gettext(
                    "Figure %(figure)s (%(total)s): its parts %(parts)s do not add up to it. "
                    "Correct a number, or declare the breakdown partial."
                )
                % {
                    "figure": figure.key,
                    "total": format_value(total, unit, language),
                    "parts": " + ".join(format_value(v, unit, language) for v in child_values),
                }
            )
    return problems


def _edition_figures(session: Session, edition_id: int) -> list[Figure]:
    return list(
        session.scalars(
            select(Figure)
            .where(col(Figure.edition_id) == edition_id)
            .order_by(col(Figure.position), col(Figure.id))
        )
    )


def _units(session: Session, figures: Sequence[Figure]) -> dict[int, Unit]:
    indicators = {
        id_of(indicator): indicator.unit
        for indicator in session.scalars(
            select(Indicator).where(
                col(Indicator.id).in_({figure.indicator_id for figure in figures})
            )
        )
    }
    return {id_of(figure): indicators[figure.indicator_id] for figure in figures}


def record_figures(
    session: Session,
    *,
    edition_id: int,
    entries: Sequence[FigureEntry],
    author: CurrentUser | None,
    source: FigureSource = FigureSource.entered,
    author_label: str | None = None,
    address: str = "",
) -> list[FigureVersion]:
    """Record new values for figures of one edition, all or none: each under the edit policy
    (`author` None is the seed: no person, allowed only for `FigureSource.seeded`), each
    against the version it was based on, and the edition's complete breakdowns checked with
    the new values (BreakdownMismatch, 422, naming each figure that does not add up)."""
    edition = get_edition(session, edition_id)
    period = edition_period(session, edition)
    figures = _edition_figures(session, edition_id)
    by_id = {id_of(figure): figure for figure in figures}
    current = current_versions(session, by_id)
    seen: set[int] = set()
    for entry in entries:
        figure = by_id.get(entry.figure_id)
        if figure is None:
            raise NotFound(
                gettext("Figure %(id)s is not part of %(edition)s")
                % {"id": entry.figure_id, "edition": edition.title}
            )
        if entry.figure_id in seen:
            raise InvalidInput(
                gettext("Figure %(figure)s is given twice.") % {"figure": figure.key}
            )
        seen.add(entry.figure_id)
        if author is not None or source != FigureSource.seeded:
            FIGURE_POLICY.require(author, subject_of(session, figure), period)
        newest = current[entry.figure_id].version if entry.figure_id in current else 0
        if newest != entry.based_on_version:
            raise FigureConflict(figure.key, newest)
    values = {fid: version.value for fid, version in current.items()}
    complete = {fid: version.breakdown_complete for fid, version in current.items()}
    for entry in entries:
        values[entry.figure_id] = entry.value
        complete[entry.figure_id] = entry.breakdown_complete
    problems = breakdown_problems(figures, values, complete, unit_of=_units(session, figures))
    if problems:
        raise BreakdownMismatch(problems)
    written = []
    for entry in entries:
        have = current.get(entry.figure_id)
        value = entry.value
        version = FigureVersion(
            figure_id=entry.figure_id,
            version=(have.version if have else 0) + 1,
            qualifier=value.qualifier,
            low=value.low,
            high=value.high,
            approximate=value.approximate,
            estimate=value.estimate,
            breakdown_complete=entry.breakdown_complete,
            source_document=entry.source_document,
            source_page=entry.source_page,
            source_text=entry.source_text,
            source=source,
            author=author.name if author else (author_label or ""),
            author_id=author.id if author else None,
        )
        session.add(version)
        written.append(version)
    session.flush()
    if author is not None:
        audit.record(
            session,
            actor=author,
            action=AuditAction.figure_record,
            object_type="edition",
            object_id=edition.id,
            summary=f"{edition.title}: "
            + ", ".join(by_id[entry.figure_id].key for entry in entries),
            details={
                "figures": {
                    by_id[entry.figure_id].key: format_value(entry.value, None, "en")
                    for entry in entries
                },
                "source": source.value,
            },
            address=address,
        )
    return written


# -- areas -----------------------------------------------------------------------------------


def _ancestors(area: Area, by_id: dict[int, Area]) -> set[int]:
    found: set[int] = set()
    parent = area.parent_id
    while parent is not None and parent not in found:
        found.add(parent)
        parent = by_id[parent].parent_id if parent in by_id else None
    return found


def addable(areas: Sequence[Area], every_area: Iterable[Area]) -> bool:
    """May figures of these areas be added up? Only when each is declared additive and none
    contains another (the region contains Rotterdam: never region + Rotterdam)."""
    by_id = {id_of(area): area for area in every_area}
    ids = {id_of(area) for area in areas}
    if len(ids) != len(areas) or not all(area.additive for area in areas):
        return False
    return not any(_ancestors(area, by_id) & ids for area in areas)


def sum_over_areas(
    values: Sequence[tuple[Area, QualifiedValue]], every_area: Iterable[Area]
) -> QualifiedValue:
    """The sum of exact values of additive, non-overlapping areas (InvalidInput otherwise)."""
    if not addable([area for area, _ in values], every_area):
        raise InvalidInput(
            gettext(
                "These areas overlap or are not declared additive: their figures are not added up."
            )
        )
    if not all(value.value is not None for _, value in values):
        raise InvalidInput(gettext("Only exact figures are added up."))
    total = math.fsum(value.value or 0.0 for _, value in values)
    return QualifiedValue.exact(total)


# -- reading an edition ----------------------------------------------------------------------


@dataclass(frozen=True)
class FigureRow:
    """A figure as every view shows it (its newest version, with what it needs to print)."""

    figure: Figure
    indicator: Indicator
    area: Area
    version: FigureVersion | None
    footnote_numbers: tuple[int, ...] = ()
    parts: list[FigureRow] = field(default_factory=list)

    @property
    def value(self) -> QualifiedValue | None:
        return self.version.value if self.version else None

    def printed(self, language: str | None = None) -> str:
        return format_value(self.value, self.indicator.unit, language) if self.value else ""


@dataclass(frozen=True)
class EditionView:
    """An edition as its pages, exports and charts read it: its figures in printed order
    (each top-level figure with its parts), footnotes and chains."""

    edition: Edition
    period: ReportingPeriod
    figures: list[FigureRow]
    footnotes: list[Footnote]
    chains: list[tuple[Chain, list[FigureRow]]]

    def figure(self, key: str) -> FigureRow:
        for row in self.all_figures():
            if row.figure.key == key:
                return row
        raise KeyError(key)

    def all_figures(self) -> list[FigureRow]:
        return [row for top in self.figures for row in (top, *top.parts)]


def edition_view(session: Session, edition_id: int) -> EditionView:
    """Everything an edition shows, in a fixed number of queries whatever its size."""
    edition = get_edition(session, edition_id)
    period = edition_period(session, edition)
    figures = _edition_figures(session, edition_id)
    indicators = {
        id_of(row): row
        for row in session.scalars(
            select(Indicator).where(col(Indicator.id).in_({f.indicator_id for f in figures}))
        )
    }
    areas = {
        id_of(row): row
        for row in session.scalars(
            select(Area).where(col(Area.id).in_({f.area_id for f in figures}))
        )
    }
    footnotes = list(
        session.scalars(
            select(Footnote)
            .where(col(Footnote.edition_id) == edition_id)
            .order_by(col(Footnote.number))
        )
    )
    numbers = {id_of(note): note.number for note in footnotes}
    notes_of: dict[int, list[int]] = {}
    for link in session.scalars(
        select(FigureFootnote).where(col(FigureFootnote.footnote_id).in_(numbers))
    ):
        notes_of.setdefault(link.figure_id, []).append(numbers[link.footnote_id])
    versions = current_versions(session, [id_of(f) for f in figures])
    rows = {
        id_of(f): FigureRow(
            f,
            indicators[f.indicator_id],
            areas[f.area_id],
            versions.get(id_of(f)),
            tuple(sorted(notes_of.get(id_of(f), ()))),
        )
        for f in figures
    }
    top = []
    for f in figures:
        if f.parent_id is None:
            top.append(rows[id_of(f)])
        else:
            rows[f.parent_id].parts.append(rows[id_of(f)])
    chains = []
    chain_rows = list(
        session.scalars(
            select(Chain).where(col(Chain.edition_id) == edition_id).order_by(col(Chain.id))
        )
    )
    steps = list(
        session.scalars(
            select(ChainStep)
            .where(col(ChainStep.chain_id).in_([id_of(c) for c in chain_rows]))
            .order_by(col(ChainStep.chain_id), col(ChainStep.position))
        )
    )
    for chain in chain_rows:
        chains.append(
            (chain, [rows[step.figure_id] for step in steps if step.chain_id == chain.id])
        )
    return EditionView(edition, period, top, footnotes, chains)


def publications(session: Session, period_id: int) -> list[datetime]:
    """When the edition's period was published, oldest first (a republication after a
    correction is another); empty for one never published."""
    return list(
        session.scalars(
            select(col(PeriodTransition.created_at))
            .where(
                col(PeriodTransition.period_id) == period_id,
                col(PeriodTransition.to_state) == PeriodState.published,
            )
            .order_by(col(PeriodTransition.created_at))
        )
    )


def as_published(session: Session, view: EditionView, at: datetime) -> EditionView:
    """The view with each figure's newest version recorded by the publication at `at` (an
    edition being corrected, as the public site and the exports show it)."""
    ids = [id_of(row.figure) for row in view.all_figures()]
    newest = (
        select(col(FigureVersion.figure_id), func.max(col(FigureVersion.version)).label("version"))
        .where(col(FigureVersion.figure_id).in_(ids), col(FigureVersion.created_at) <= at)
        .group_by(col(FigureVersion.figure_id))
        .subquery()
    )
    versions = {
        v.figure_id: v
        for v in session.scalars(
            select(FigureVersion).join(
                newest,
                (col(FigureVersion.figure_id) == newest.c.figure_id)
                & (col(FigureVersion.version) == newest.c.version),
            )
        )
    }

    def published(row: FigureRow) -> FigureRow:
        return dataclasses.replace(
            row,
            version=versions.get(id_of(row.figure)),
            parts=[published(part) for part in row.parts],
        )

    figures = [published(row) for row in view.figures]
    by_id = {id_of(row.figure): row for top in figures for row in (top, *top.parts)}
    chains = [
        (chain, [by_id[id_of(step.figure)] for step in steps]) for chain, steps in view.chains
    ]
    return dataclasses.replace(view, figures=figures, chains=chains)
