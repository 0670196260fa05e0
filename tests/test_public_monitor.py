"""The monitor's public pages: published editions only, tiles, charts with their tables, open
data (CSV with CSVW metadata validated by the csvw library, JSON validated by its schema)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import jsonschema
import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session, col

from app.config import Settings
from app.ids import id_of
from app.main import create_app
from app.monitor import service
from app.monitor.models import Edition, Figure
from app.monitor.values import parse_value
from app.permissions import iter_routes
from app.review import service as review
from tests.factories import EditionFigure, coordinator, load_monitors, open_edition

MHM = "Mensenhandelmonitor 2020"
DM = "Dadermonitor mensenhandel 2015-2019 (factsheet)"
SECRET = "LEKMARKERMONITOR"


def _load(session: Session) -> None:
    load_monitors(session)


def _edition_id(session: Session, title: str) -> int:
    edition = session.scalar(select(Edition).where(col(Edition.title) == title))
    assert edition is not None
    return edition.id or 0


@pytest.fixture
def monitor_client(seeded_settings: Settings, seeded_session: Session):  # type: ignore[no-untyped-def]
    _load(seeded_session)
    app = create_app(seeded_settings)
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


def _soup(client: TestClient, path: str, language: str = "nl") -> BeautifulSoup:
    response = client.get(path, params={"lang": language})
    assert response.status_code == 200, (path, response.text[:500])
    return BeautifulSoup(response.text, "html.parser")


def _text(node) -> str:  # type: ignore[no-untyped-def]
    return " ".join(node.get_text(" ").split())


def test_the_edition_page_shows_tiles_as_the_monitor_prints_them(
    monitor_client: TestClient, seeded_session: Session
) -> None:
    page = _soup(monitor_client, f"/public/monitor/{_edition_id(seeded_session, MHM)}")
    tile = page.select_one("#figure-bestuurlijke-controles")
    assert tile is not None
    assert _text(tile).startswith(
        "477 Bestuurlijke controles waarvan 320 vergunde branche en 157 overig"
    )
    assert "Regio Rotterdam · 2020" in _text(tile)
    # The footnote beside the figure it belongs to (and no other tile).
    convicted = page.select_one("#figure-verdachten-veroordeeld")
    assert convicted is not None and "niet alle aangehouden verdachten" in _text(convicted)
    assert "niet alle aangehouden" not in _text(tile)
    english = _soup(monitor_client, f"/public/monitor/{_edition_id(seeded_session, MHM)}", "en")
    tile = english.select_one("#figure-bestuurlijke-controles")
    assert tile is not None
    assert _text(tile).startswith(
        "477 Administrative checks of which 320 licensed sector and 157 other"
    )
    # The categories have their English: nothing in the tile is marked as Dutch.
    assert tile.select_one("[lang=nl]") is None


def test_breakdowns_footnotes_and_chains_print_in_the_readers_language(
    monitor_client: TestClient, seeded_session: Session
) -> None:
    """Seeded labels have a faithful English beside the Dutch source text: the tiles, the
    charts' text alternatives and tables, the footnotes and the funnel use the reader's."""
    mhm = f"/public/monitor/{_edition_id(seeded_session, MHM)}"
    dm = f"/public/monitor/{_edition_id(seeded_session, DM)}"
    english, dutch = _soup(monitor_client, mhm, "en"), _soup(monitor_client, mhm, "nl")
    breakdowns = english.select_one("#breakdowns")
    assert breakdowns is not None
    descriptions = " ".join(_text(node) for node in breakdowns.select("svg.chart desc"))
    assert "licensed sector: 320" in descriptions and "human smuggling" in descriptions
    titles = " ".join(_text(node) for node in breakdowns.select("svg.chart title"))
    assert "Suspects arrested (55), by offence" in titles, titles
    assert "vergunde branche" not in _text(breakdowns) and "mensensmokkel" not in descriptions
    assert "vergunde branche: 320" in " ".join(
        _text(node) for node in dutch.select("#breakdowns svg.chart desc")
    )
    convicted = english.select_one("#figure-verdachten-veroordeeld")
    assert convicted is not None and "not all suspects arrested" in _text(convicted)
    assert convicted.select_one("[lang=nl]") is None
    funnel = _soup(monitor_client, dm, "en").select_one("#chains")
    assert funnel is not None
    assert "Average number of perpetrators" in _text(funnel) and "not a cohort" in _text(funnel)
    assert "geen cohort" not in _text(funnel) and funnel.select_one("[lang=nl]") is None
    notes = _soup(monitor_client, dm, "en").select_one("#footnotes")
    assert notes is not None and "These percentages are underestimates." in _text(notes)
    # Open data carries both: the Dutch source text and its English.
    edition = _edition_id(seeded_session, MHM)
    rows = list(csv.DictReader(io.StringIO(monitor_client.get(f"{mhm}/data.csv").text)))
    part = next(row for row in rows if row["key"] == "bestuurlijke-controles.vergunde-branche")
    assert (part["category"], part["category_en"]) == ("vergunde branche", "licensed sector")
    assert (part["dimension"], part["dimension_en"]) == ("sector", "sector")
    document = monitor_client.get(f"/public/monitor/{edition}/data.json").json()
    assert document["footnotes"][0]["text_en"].startswith("Because not all suspects")


def test_every_chart_has_a_text_alternative_and_its_numbers_in_a_table(
    monitor_client: TestClient, seeded_session: Session
) -> None:
    for title in (MHM, DM):
        page = _soup(monitor_client, f"/public/monitor/{_edition_id(seeded_session, title)}")
        charts = page.select("svg.chart")
        assert charts
        for svg in charts:
            assert svg["role"] == "img"
            title_id, desc_id = svg["aria-labelledby"].split()
            assert svg.select_one(f"#{title_id}").get_text()
            description = svg.select_one(f"#{desc_id}").get_text()
            table = svg.find_parent("figure").find_next_sibling("div").select_one("table")
            for cell in table.select("td"):
                assert cell.get_text() in description, (cell.get_text(), description)
    funnel = _soup(monitor_client, f"/public/monitor/{_edition_id(seeded_session, DM)}")
    chain = funnel.select_one("#chains")
    assert chain is not None
    assert "geen cohort" in _text(chain)
    svg = chain.select_one("svg.chart--wide")
    # The lower bounds are drawn open-ended (an arrow), the range as a range.
    assert len(svg.select(".chart__open-arrow")) == 2 * 3  # > 200, > 180, > 85 on both sides
    assert svg.select(".chart__range")
    assert "≈ 95–105" in _text(svg)


def test_a_series_over_years_is_drawn_as_a_line(
    monitor_client: TestClient, seeded_session: Session
) -> None:
    page = _soup(monitor_client, f"/public/monitor/{_edition_id(seeded_session, DM)}")
    series = page.select_one("#series")
    assert series is not None
    headings = [_text(h) for h in series.select("h3")]
    assert "Meldingen van mensenhandel (Nederland)" in headings
    assert len(series.select("svg.chart--wide polyline")) == len(headings) == 3


def _open_edition(session: Session, title: str) -> int:
    edition = open_edition(
        session, title=title, years=(2024, 2024), area="NL",
        figures=[EditionFigure("meldingen", "meldingen-mensenhandel")],
    )  # fmt: skip
    service.record_figures(
        session, edition_id=edition.edition_id,
        entries=[service.FigureEntry(id_of(edition.figures["meldingen"]), parse_value("987654"), 0)],
        author=edition.coordinator,
    )  # fmt: skip
    session.commit()
    return edition.edition_id


def _every_monitor_response(client: TestClient, edition_ids: list[int]):  # type: ignore[no-untyped-def]
    for route in iter_routes(client.app.routes):  # type: ignore[attr-defined]
        path = getattr(route, "path", "")
        if not path.startswith("/public/monitor"):
            continue
        for edition in edition_ids if "{edition_id}" in path else [None]:
            address = path.format(edition_id=edition)
            for language in ("nl", "en"):
                yield address, client.get(address, params={"lang": language})


def test_no_draft_open_or_corrected_figure_reaches_the_public_monitor(
    monitor_client: TestClient, seeded_session: Session
) -> None:
    session = seeded_session
    open_id = _open_edition(session, f"Monitor 2024 {SECRET}")
    published = _edition_id(session, MHM)
    # A correction of a published edition: its new value is not public until republished.
    actor = coordinator(session)
    service.move_edition(session, edition_id=published, move="correct", actor=actor, reason="x")
    figure = session.scalar(select(Figure).where(col(Figure.key) == "lasten-onder-dwangsom"))
    assert figure is not None
    current = service.current_versions(session, [figure.id or 0])[figure.id or 0]
    corrected = service.record_figures(
        session, edition_id=published,
        entries=[service.FigureEntry(figure.id or 0, parse_value("555444"), current.version,
                                     source_text=SECRET)],
        author=actor,
    )  # fmt: skip
    session.commit()
    seen = 0
    for path, response in _every_monitor_response(monitor_client, [open_id, published]):
        assert response.status_code in (200, 404), path
        if f"/{open_id}" in path:
            assert response.status_code == 404, path
        for secret in (SECRET, "987654", "987.654", "987,654", "555444", "555.444", "555,444"):
            assert secret not in response.text, (secret, path)
        assert actor.name not in response.text, path
        seen += response.status_code == 200
    assert seen == 2 * 7  # the index, and every route of the published edition
    page = monitor_client.get(f"/public/monitor/{published}").text
    assert ">5<" in page.replace("</strong>", "<")  # the value as published
    # Approved by another coordinator (four eyes) and republished: the corrected value is public.
    review.decide_figure(
        session, figure_version_id=corrected[0].id or 0, decision="approve",
        reviewer=coordinator(session),
    )  # fmt: skip
    service.move_edition(session, edition_id=published, move="republish", actor=actor)
    session.commit()
    page = monitor_client.get(f"/public/monitor/{published}").text
    assert "555.444" in page
    assert "corrigeerd" in page or "gecorrigeerd" in page


def test_the_csv_and_its_csvw_metadata_validate_with_the_csvw_library(
    monitor_client: TestClient, seeded_session: Session, tmp_path: Path
) -> None:
    csvw = pytest.importorskip("csvw")
    edition = _edition_id(seeded_session, DM)
    data = monitor_client.get(f"/public/monitor/{edition}/data.csv")
    metadata = monitor_client.get(f"/public/monitor/{edition}/csv-metadata.json")
    assert data.status_code == metadata.status_code == 200
    (tmp_path / "data.csv").write_bytes(data.content)
    (tmp_path / "csv-metadata.json").write_bytes(metadata.content)
    checked = csvw.CSVW(str(tmp_path / "csv-metadata.json"), validate=True)
    assert checked.is_valid, checked.warnings
    rows = list(checked.tables[0].iterdicts(strict=True))
    by_key = {row["key"]: row for row in rows}
    assert by_key["signalering"]["qualifier"] == "at_least"
    assert by_key["signalering"]["low"] == 200 and by_key["signalering"]["high"] is None
    assert by_key["veroordeling"]["approximate"] is True
    assert (by_key["veroordeling"]["low"], by_key["veroordeling"]["high"]) == (95, 105)
    assert by_key["prevalentie"]["qualifier"] == "unknown"
    described = json.loads(metadata.content)
    assert [note["rdf:value"] for note in described["notes"]] == ["*", "**"]
    # A broken value is caught: the library validates, it does not just read.
    broken = data.text.replace(",at_least,", ",more_or_less,", 1)
    (tmp_path / "data.csv").write_text(broken, encoding="utf-8")
    checked = csvw.CSVW(str(tmp_path / "csv-metadata.json"), validate=True)
    assert not checked.is_valid
    assert len(list(csv.reader(io.StringIO(data.text)))) == len(rows) + 1


def test_the_json_validates_against_its_schema(
    monitor_client: TestClient, seeded_session: Session
) -> None:
    edition = _edition_id(seeded_session, MHM)
    document = monitor_client.get(f"/public/monitor/{edition}/data.json").json()
    schema = monitor_client.get(f"/public/monitor/{edition}/schema.json").json()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(document, schema)
    assert document["$schema"] == schema["$id"]
    # The source document by its title; the files it was read from as provenance.
    assert document["edition"]["source_document"] == "Mensenhandelmonitor 2020, Regio Rotterdam"
    assert "shared/seeds/002_347f2a937e8c39a3.txt" in document["edition"]["source_files"]
    metadata = monitor_client.get(f"/public/monitor/{edition}/csv-metadata.json").json()
    assert metadata["dc:source"].startswith("Mensenhandelmonitor 2020, Regio Rotterdam (shared/")
    parts = [f for f in document["figures"] if f["parent_key"] == "bestuurlijke-controles"]
    assert [(p["category"], p["low"]) for p in parts] == [
        ("vergunde branche", 320),
        ("overig", 157),
    ]
    document["figures"][0]["qualifier"] = "roughly"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema)


def test_the_dataset_page_describes_the_data(
    monitor_client: TestClient, seeded_session: Session
) -> None:
    page = _soup(monitor_client, f"/public/monitor/{_edition_id(seeded_session, MHM)}/data")
    facts = _text(page.select_one("#dataset-facts"))
    for words in ("Mensenhandelmonitor 2020", "Regio Rotterdam", "2020", "CC0"):
        assert words in facts
    # The data has the English beside the Dutch source text (dimension_en, category_en, ...).
    assert "Nederlands; de dimensies, categorieën, voetnoten en ketens ook in het Engels" in facts
    english = _soup(
        monitor_client, f"/public/monitor/{_edition_id(seeded_session, MHM)}/data", "en"
    )
    assert "Dutch; the dimensions, categories, footnotes and chains also in English" in _text(
        english.select_one("#dataset-facts")
    )
    columns = [row["data-column"] for row in page.select("#columns-table tr[data-column]")]
    assert {"qualifier", "low", "high", "footnotes"} <= set(columns)
    index = _soup(monitor_client, "/public/monitor/")
    assert len(index.select("#monitor-editions li")) == 3


def test_the_public_index_links_to_the_monitor(monitor_client: TestClient) -> None:
    link = _soup(monitor_client, "/public/").select_one("#monitor-link a")
    assert link is not None and link["href"] == "/public/monitor/"
    assert _text(link) == "Monitor van kerncijfers"
