"""The public site of the monitor of key figures: published editions only (app/public/
monitor_service.py), their key figures as tiles, charts drawn on the server (app/charts.py)
with the same numbers in a table beside each, and open data (app/public/monitor_data.py).

Every route has the rule `public` (app/permissions.py); pages and files are kept in the
revision cache per language and address, as the progress report's (app/public/routes.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from app.charts import Point, ValueBar, line_chart, value_bars
from app.deps import SessionDep
from app.i18n import get_language, gettext
from app.monitor.service import FigureRow
from app.public import monitor_data, monitor_service
from app.public.routes import _context, _file, _page
from app.public.service import LICENCE_URL
from app.web import render

router = APIRouter(prefix="/public/monitor")


def name_of(row: FigureRow) -> str:
    return row.indicator.name_en if get_language() == "en" else row.indicator.name_nl


def area_name(area: Any) -> str:
    return str(area.name_en if get_language() == "en" else area.name_nl)


def years(row: FigureRow) -> str:
    f = row.figure
    return str(f.year_from) if f.year_from == f.year_to else f"{f.year_from}–{f.year_to}"


def _description(pairs: list[tuple[str, str]]) -> str:
    return "; ".join(f"{label}: {printed}" for label, printed in pairs)


def breakdown_chart(row: FigureRow, index: int) -> Markup:
    bars = [
        ValueBar(part.figure.category_in(get_language()), part.value, part.printed())
        for part in row.parts
        if part.value is not None
    ]
    title = gettext("%(indicator)s (%(value)s), by %(dimension)s") % {
        "indicator": name_of(row),
        "value": row.printed(),
        "dimension": row.parts[0].figure.dimension_in(get_language()),
    }
    return value_bars(
        bars,
        chart_id=f"chart-breakdown-{index}",
        title=title,
        description=_description([(bar.label, bar.printed) for bar in bars]),
    )


def funnel_chart(title: str, caveat: str, steps: list[FigureRow], index: int) -> Markup:
    bars = [
        ValueBar(f"{number}. {name_of(step)}", step.value, step.printed())
        for number, step in enumerate(steps, start=1)
        if step.value is not None
    ]
    return value_bars(
        bars,
        chart_id=f"chart-funnel-{index}",
        title=title,
        description=f"{caveat} " + _description([(bar.label, bar.printed) for bar in bars]),
        centred=True,
    )


def series_chart(rows: list[FigureRow], index: int) -> Markup:
    points = [
        Point(row.figure.year_from, row.value, row.printed())
        for row in rows
        if row.value is not None
    ]
    title = gettext("%(indicator)s per year, %(area)s") % {
        "indicator": name_of(rows[0]),
        "area": area_name(rows[0].area),
    }
    return line_chart(
        points,
        chart_id=f"chart-series-{index}",
        title=title,
        description=_description([(str(p.year), p.printed) for p in points]),
    )


def _edition_context(request: Request, edition: monitor_service.PublicEdition) -> dict[str, Any]:
    notes = {note.number: note for note in edition.view.footnotes}
    return _context(
        public_edition=edition,
        edition=edition.edition,
        view=edition.view,
        notes=notes,
        language=get_language(),
        name_of=name_of,
        area_name=area_name,
        years=years,
        breakdowns=[(row, breakdown_chart(row, i)) for i, row in enumerate(edition.breakdowns())],
        series=[(rows, series_chart(rows, i)) for i, rows in enumerate(edition.series())],
        funnels=[
            (
                chain,
                steps,
                funnel_chart(
                    chain.title_in(get_language()), chain.caveat_in(get_language()), steps, i
                ),
            )
            for i, (chain, steps) in enumerate(edition.view.chains)
        ],
        content_lang="nl" if get_language() != "nl" else None,
    )


@router.get("/", include_in_schema=False, name="public_monitor_index")
def public_monitor_index(request: Request, session: SessionDep) -> Response:
    return _page(
        request,
        lambda: render(
            request,
            "public/monitor_index.html",
            _context(
                editions=monitor_service.published_editions(session),
                area_name=area_name,
                content_lang="nl" if get_language() != "nl" else None,
            ),
        ),
    )


@router.get("/{edition_id}", include_in_schema=False, name="public_monitor_edition")
def public_monitor_edition(request: Request, session: SessionDep, edition_id: int) -> Response:
    def build() -> Response:
        edition = monitor_service.published_edition(session, edition_id)
        return render(request, "public/monitor_edition.html", _edition_context(request, edition))

    return _page(request, build)


@router.get("/{edition_id}/data", include_in_schema=False, name="public_monitor_data")
def public_monitor_data(request: Request, session: SessionDep, edition_id: int) -> Response:
    def build() -> Response:
        edition = monitor_service.published_edition(session, edition_id)
        return render(
            request,
            "public/monitor_data.html",
            _context(
                edition=edition.edition,
                public_edition=edition,
                area_name=area_name,
                record_count=len(monitor_data.records(edition)),
                columns=monitor_data.labelled_columns(),
                licence_url=LICENCE_URL,
                content_lang="nl" if get_language() != "nl" else None,
            ),
        )

    return _page(request, build)


def _paths(request: Request, edition_id: int) -> dict[str, str]:
    def path(name: str) -> str:
        return request.url_for(name, edition_id=edition_id).path

    return {
        "csv": path("public_monitor_data_csv"),
        "page": path("public_monitor_data"),
        "schema": path("public_monitor_schema"),
    }


@router.get("/{edition_id}/data.csv", include_in_schema=False, name="public_monitor_data_csv")
def public_monitor_data_csv(request: Request, session: SessionDep, edition_id: int) -> Response:
    def build() -> tuple[str, str, bytes]:
        edition = monitor_service.published_edition(session, edition_id)
        content = monitor_data.csv_file(edition)
        return (f"monitor-{edition_id}.csv", "text/csv; charset=utf-8", content)

    return _file(request, build)


@router.get(
    "/{edition_id}/csv-metadata.json", include_in_schema=False, name="public_monitor_csv_metadata"
)
def public_monitor_csv_metadata(request: Request, session: SessionDep, edition_id: int) -> Response:
    def build() -> tuple[str, str, bytes]:
        edition = monitor_service.published_edition(session, edition_id)
        paths = _paths(request, edition_id)
        data = monitor_data.csv_metadata(edition, csv_url="data.csv", page_url=paths["page"])
        return ("csv-metadata.json", "application/csvm+json", monitor_data.as_json(data))

    return _file(request, build, inline=True)


@router.get("/{edition_id}/data.json", include_in_schema=False, name="public_monitor_data_json")
def public_monitor_data_json(request: Request, session: SessionDep, edition_id: int) -> Response:
    def build() -> tuple[str, str, bytes]:
        edition = monitor_service.published_edition(session, edition_id)
        schema = _paths(request, edition_id)["schema"]
        content = monitor_data.as_json(monitor_data.json_file(edition, schema_url=schema))
        return (f"monitor-{edition_id}.json", "application/json", content)

    return _file(request, build)


@router.get("/{edition_id}/schema.json", include_in_schema=False, name="public_monitor_schema")
def public_monitor_schema(request: Request, session: SessionDep, edition_id: int) -> Response:
    def build() -> tuple[str, str, bytes]:
        monitor_service.published_edition(session, edition_id)  # published only
        schema = _paths(request, edition_id)["schema"]
        data = monitor_data.json_schema(schema_url=schema, language=get_language())
        return ("schema.json", "application/schema+json", monitor_data.as_json(data))

    return _file(request, build, inline=True)
