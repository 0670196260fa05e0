"""What the monitor's internal pages read beside an edition (`service.edition_view`): an
indicator with its figures over the editions, the indicators linked to a result, and the
edition a monitor period belongs to. Plain rows, a fixed number of queries each."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlmodel import Session, col

from app.errors import NotFound
from app.i18n import gettext
from app.ids import id_of
from app.monitor.models import Area, Edition, Figure, Indicator, IndicatorResult
from app.monitor.service import FigureRow, current_versions
from app.periods.models import ReportingPeriod
from app.programmes.models import Organisation, Programme, Result


@dataclass(frozen=True)
class SeriesCell:
    """One figure of an indicator: where it was published and its newest value."""

    edition: Edition
    period: ReportingPeriod
    row: FigureRow


@dataclass(frozen=True)
class IndicatorView:
    indicator: Indicator
    supplier: Organisation | None
    results: list[Result]
    # The years (from, to) in order, the areas in order of appearance, and per (years, area)
    # the figures for them (one per edition that printed it).
    years: list[tuple[int, int]]
    areas: list[Area]
    cells: dict[tuple[tuple[int, int], int], list[SeriesCell]]
    # Parts of breakdowns are listed apart (they are not a time series of the indicator).
    parts: list[SeriesCell]


def get_indicator(session: Session, indicator_id: int) -> Indicator:
    indicator = session.get(Indicator, indicator_id)
    if indicator is None:
        raise NotFound(gettext("Indicator %(id)s does not exist") % {"id": indicator_id})
    return indicator


def indicator_view(session: Session, indicator_id: int) -> IndicatorView:
    indicator = get_indicator(session, indicator_id)
    supplier = session.get(Organisation, indicator.supplier_id) if indicator.supplier_id else None
    results = list(
        session.scalars(
            select(Result)
            .join(IndicatorResult, col(IndicatorResult.result_id) == Result.id)
            .where(col(IndicatorResult.indicator_id) == indicator_id)
            .order_by(col(Result.number))
        )
    )
    rows = session.execute(
        select(Figure, Edition, ReportingPeriod, Area)
        .join(Edition, col(Edition.id) == Figure.edition_id)
        .join(ReportingPeriod, col(ReportingPeriod.id) == Edition.period_id)
        .join(Area, col(Area.id) == Figure.area_id)
        .where(col(Figure.indicator_id) == indicator_id)
        .order_by(col(Figure.year_from), col(Figure.year_to), col(Edition.id), col(Figure.position))
    ).tuples()
    found = list(rows)
    versions = current_versions(session, [id_of(figure) for figure, *_ in found])
    years: list[tuple[int, int]] = []
    areas: dict[int, Area] = {}
    cells: dict[tuple[tuple[int, int], int], list[SeriesCell]] = {}
    parts: list[SeriesCell] = []
    for figure, edition, period, area in found:
        cell = SeriesCell(
            edition, period, FigureRow(figure, indicator, area, versions.get(id_of(figure)))
        )
        if figure.parent_id is not None:
            parts.append(cell)
            continue
        span = (figure.year_from, figure.year_to)
        if span not in years:
            years.append(span)
        areas.setdefault(id_of(area), area)
        cells.setdefault((span, id_of(area)), []).append(cell)
    return IndicatorView(
        indicator, supplier, results, sorted(years), list(areas.values()), cells, parts
    )


def result_indicators(session: Session, programme_id: int, number: int) -> list[Indicator]:
    """The indicators linked to a programme's result (by its number), by name."""
    return list(
        session.scalars(
            select(Indicator)
            .join(IndicatorResult, col(IndicatorResult.indicator_id) == Indicator.id)
            .join(Result, col(Result.id) == IndicatorResult.result_id)
            .where(col(Result.programme_id) == programme_id, col(Result.number) == number)
            .order_by(col(Indicator.name_nl))
        )
    )


def edition_of_period(session: Session, period_id: int) -> Edition | None:
    return session.scalar(select(Edition).where(col(Edition.period_id) == period_id))


def edition_redirect(
    request: Request, session: Session, period_id: int, route: str = "monitor_edition"
) -> RedirectResponse | None:
    """A monitor edition is a period too, but its pages are the edition's: a period page
    (overview, completeness, to-do list, publication, import) of an edition's period leads
    to the edition's own page for it (`route`, with the edition's id), so that no link or
    address of a period ends on a page about activities the edition does not have."""
    edition = edition_of_period(session, period_id)
    if edition is None:
        return None
    return RedirectResponse(request.url_for(route, edition_id=edition.id).path, status_code=303)


def indicators_of_programme(session: Session, programme_id: int) -> list[Indicator]:
    return list(
        session.scalars(
            select(Indicator)
            .where(col(Indicator.programme_id) == programme_id)
            .order_by(col(Indicator.name_nl))
        )
    )


def areas(session: Session) -> list[Area]:
    return list(session.scalars(select(Area).order_by(col(Area.id))))


def organisations(session: Session) -> list[Organisation]:
    return list(session.scalars(select(Organisation).order_by(col(Organisation.name))))


def get_figure(session: Session, figure_id: int) -> Figure:
    figure = session.get(Figure, figure_id)
    if figure is None:
        raise NotFound(gettext("Figure %(id)s does not exist") % {"id": figure_id})
    return figure


def publisher_and_area(
    session: Session, edition: Edition
) -> tuple[Organisation | None, Area | None]:
    return session.get(Organisation, edition.publisher_id), session.get(Area, edition.area_id)


def programme_slug(session: Session, indicator: Indicator) -> str:
    programme = session.get(Programme, indicator.programme_id)
    return programme.slug if programme else ""
