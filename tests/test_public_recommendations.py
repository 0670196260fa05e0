"""The public pages of the Rapporteur's recommendations: per published report, the
recommendations per source report, per recommendation and per addressee, with the response
and follow-up as the report published them (never a draft version, another period's entry, a
response saved later, or an author's name), in Dutch and English, without an account; and
their open data: CSV validated with its CSVW metadata by the csvw library, JSON by its
JSON Schema."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from app.main import create_app
from tests.test_board import SLUG
from tests.test_recommendations_exports import (
    DRAFT_TEXT,
    FINAL_TEXT,
    FIRST_ADDRESSEE,
    FIRST_TITLE,
    LATE_RESPONSE,
    LATER_TEXT,
    PERPETRATOR_TEXT,
    FollowUpWorld,
    build_world,
)


@pytest.fixture
def world(seeded_settings) -> Iterator[FollowUpWorld]:  # type: ignore[no-untyped-def]
    app = create_app(seeded_settings)
    yield build_world(app)
    app.state.engine.dispose()


def _base(world: FollowUpWorld, period_id: int | None = None) -> str:
    return f"/public/{SLUG}/{period_id or world.published}/recommendations"


def _text(node) -> str:  # type: ignore[no-untyped-def]
    return " ".join(node.get_text(" ").split())


def test_the_page_shows_published_follow_up_per_report_recommendation_and_addressee(
    world: FollowUpWorld,
) -> None:
    client = TestClient(world.app)  # signed out
    response = client.get(_base(world))
    assert response.status_code == 200
    page = BeautifulSoup(response.text, "html.parser")
    reports = page.select("section.recommendations-report")
    assert [_text(r.select_one("h2")) for r in reports] == [
        "Slachtoffermonitor mensenhandel 2014-2018",
        "Dadermonitor mensenhandel 2015-2019",
    ]
    assert [len(r.select("article")) for r in reports] == [5, 3]
    first = _text(reports[0].select("article")[0])
    assert f"Aanbeveling 1: {FIRST_TITLE}" in first
    assert FIRST_ADDRESSEE in first and "overgenomen" in first
    assert "✔ Uitgevoerd" in first and FINAL_TEXT in first
    assert "Kamerstukken II 2022/23, 28 638, nr. 200" in first
    assert "Nog niet gestart" in _text(reports[1].select("article")[1])
    assert PERPETRATOR_TEXT in _text(reports[1].select("article")[1])
    third = _text(reports[0].select("article")[2])
    assert "niet vastgelegd" in third and "niet gerapporteerd" in third
    # Per addressee: each one as written, its recommendations linked to their place.
    addressees = page.select_one("#addressees")
    assert addressees is not None
    names = [_text(h) for h in addressees.select("h3")]
    assert FIRST_ADDRESSEE in names and "de korpsleiding van de Nationale Politie" in names
    links = [a["href"] for a in addressees.select("a")]
    assert all(page.select_one(str(href)) is not None for href in links)
    # Nothing but what the report published; no author.
    for absent in (DRAFT_TEXT, LATER_TEXT, LATE_RESPONSE, world.actor.name):
        assert absent not in response.text
    # The report's navigation leads here.
    summary = client.get(f"/public/{SLUG}/{world.published}").text
    assert _base(world) in summary


def test_the_page_in_english(world: FollowUpWorld) -> None:
    client = TestClient(world.app)
    response = client.get(_base(world), params={"lang": "en"})
    page = BeautifulSoup(response.text, "html.parser")
    assert page.select_one("html")["lang"] == "en"  # type: ignore[index]
    text = _text(page)
    assert "follow-up of recommendations" in text and "Per addressee" in text
    first = _text(page.select("article")[0])
    assert "Recommendation 1:" in first and "accepted" in first and "✔ Implemented" in first
    assert "none recorded" in _text(page.select("article")[2])


def test_an_unpublished_period_has_no_recommendations_page_or_data(world: FollowUpWorld) -> None:
    client = TestClient(world.app)
    for suffix in ("", "/data.csv", "/csv-metadata.json", "/data.json", "/schema.json"):
        response = client.get(_base(world, world.draft) + suffix)
        assert response.status_code == 404, suffix
        assert LATER_TEXT not in response.text


def test_the_csv_validates_with_its_csvw_metadata(world: FollowUpWorld, tmp_path: Path) -> None:
    csvw = pytest.importorskip("csvw")
    client = TestClient(world.app)
    data = client.get(_base(world) + "/data.csv")
    metadata = client.get(_base(world) + "/csv-metadata.json")
    assert data.status_code == metadata.status_code == 200
    assert data.headers["content-type"].startswith("text/csv")
    (tmp_path / "data.csv").write_bytes(data.content)
    (tmp_path / "csv-metadata.json").write_bytes(metadata.content)
    checked = csvw.CSVW(str(tmp_path / "csv-metadata.json"), validate=True)
    assert checked.is_valid, checked.warnings
    rows = list(checked.tables[0].iterdicts(strict=True))
    assert [(row["report_key"], row["number"]) for row in rows] == [
        ("slachtoffermonitor-2014-2018", n) for n in "12345"
    ] + [("dadermonitor-2015-2019", n) for n in "123"]
    first = rows[0]
    assert (first["title"], first["addressees"], first["response"]) == (
        FIRST_TITLE,
        FIRST_ADDRESSEE,
        "accepted",
    )
    assert (first["follow_up"], first["follow_up_label"], first["explanation"]) == (
        "implemented",
        "✔ Uitgevoerd",
        FINAL_TEXT,
    )
    assert str(first["follow_up_date"])[:10] == "2022-11-01" and first["priority"] is False
    assert rows[2]["response"] is None and rows[2]["follow_up"] is None
    assert DRAFT_TEXT not in data.text and LATER_TEXT not in data.text
    # The library validates: a broken response code is caught.
    (tmp_path / "data.csv").write_text(data.text.replace(",accepted,", ",maybe,", 1), "utf-8")
    assert not csvw.CSVW(str(tmp_path / "csv-metadata.json"), validate=True).is_valid
    assert len(list(csv.reader(io.StringIO(data.text)))) == 9


def test_the_json_validates_against_its_schema(world: FollowUpWorld) -> None:
    client = TestClient(world.app)
    document = client.get(_base(world) + "/data.json").json()
    schema = client.get(_base(world) + "/schema.json").json()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(document, schema, format_checker=jsonschema.FormatChecker())
    assert document["$schema"] == schema["$id"]
    assert document["period"]["name"] == "Voortgangsrapportage 2022"
    records = document["recommendations"]
    assert len(records) == 8
    assert (records[0]["follow_up"], records[0]["explanation"]) == ("implemented", FINAL_TEXT)
    assert (records[6]["follow_up"], records[6]["explanation"]) == ("not_started", PERPETRATOR_TEXT)
    assert world.actor.name not in json.dumps(document, ensure_ascii=False)
    english = client.get(_base(world) + "/schema.json", params={"lang": "en"}).json()
    assert english["title"] == "Follow-up of recommendations"
    assert schema["title"] == "Opvolging aanbevelingen"
    records[0]["response"] = "maybe"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema)
