"""The recommendations' internal pages: every signed-in account reads the list (filters by
report, addressee and priority; counts) and a recommendation's page (text, addressees, the
linked activities with their current status, the linked key figures' latest values, which
links are still proposals), in Dutch and in English; the signed-out are sent to sign in."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session, col

from app.main import create_app
from app.monitor.seeding import load_monitor_files, monitor_seed_files
from app.recommendations.models import Recommendation, SourceReport
from app.recommendations.seeding import load_recommendation_files, recommendation_seed_files
from app.seeding.service import SeedReport
from tests.factories import create_user, sign_in
from tests.test_board import SLUG

LIST = f"/programmes/{SLUG}/recommendations"


@dataclass
class World:
    app: Any
    emails: dict[str, str]

    def client(self, who: str | None) -> TestClient:
        client = TestClient(self.app)
        if who is not None:
            sign_in(client, self.emails[who])
        return client

    def recommendation(self, report: str, number: str) -> Recommendation:
        with Session(self.app.state.engine) as session:
            found = session.scalar(
                select(Recommendation)
                .join(SourceReport, col(SourceReport.id) == Recommendation.report_id)
                .where(col(SourceReport.key) == report, col(Recommendation.number) == number)
            )
            assert found is not None
            return found


def load_everything(session: Session) -> None:
    report = SeedReport()
    load_monitor_files(session, monitor_seed_files(), report)
    load_recommendation_files(session, recommendation_seed_files(), report)
    session.commit()


@pytest.fixture
def world(seeded_settings) -> Iterator[World]:  # type: ignore[no-untyped-def]
    app = create_app(seeded_settings)
    with Session(app.state.engine, expire_on_commit=False) as session:
        load_everything(session)
        emails = {
            "viewer": create_user(session, "viewer"),
            "editor": create_user(session, "editor", ("OM",)),
        }
    yield World(app, emails)
    app.state.engine.dispose()


def _text(html: str, selector: str) -> str:
    found = BeautifulSoup(html, "html.parser").select_one(selector)
    assert found is not None, selector
    return " ".join(found.get_text(" ").split())


def _rows(html: str) -> list[str]:
    table = BeautifulSoup(html, "html.parser").select("#recommendations tbody tr")
    return [" ".join(row.get_text(" ").split()) for row in table]


def test_the_list_shows_every_recommendation_with_counts_and_is_in_the_menu(
    world: World,
) -> None:
    with world.client("viewer") as client:
        board = client.get(f"/programmes/{SLUG}")
        assert f'href="{LIST}"' in board.text
        page = client.get(LIST)
        assert page.status_code == 200
        rows = _rows(page.text)
        assert len(rows) == 8
        assert rows[0].startswith("1 ZORG VOOR COÖRDINATIE EN MONITORING")
        assert "de korpsleiding van de Nationale Politie" in rows[4]
        counts = _text(page.text, "#recommendation-counts")
        assert "Slachtoffermonitor mensenhandel 2014-2018: 5" in counts
        assert "Dadermonitor mensenhandel 2015-2019: 3" in counts
        assert "Prioriteit: 0" in counts and "Totaal: 8" in counts
        assert _text(page.text, "#result-count") == "8 van 8 aanbevelingen"


@pytest.mark.parametrize(
    ("query", "expected", "count"),
    [
        ("?report=dadermonitor-2015-2019", ["Zet gericht in", "Onderzoek of", "Inventariseer"], "3 van 8 aanbevelingen"),
        ("?addressee=Politie", ["VERSTERK DE ROL VAN DE NATIONALE POLITIE"], "1 van 8 aanbevelingen"),
        ("?priority=yes", [], "0 van 8 aanbevelingen"),
    ],
    ids=["report", "addressee", "priority"],
)  # fmt: skip
def test_the_list_filters_by_report_addressee_and_priority(
    world: World, query: str, expected: list[str], count: str
) -> None:
    with world.client("editor") as client:
        page = client.get(LIST + query)
        assert page.status_code == 200
        rows = _rows(page.text)
        assert len(rows) == len(expected)
        for row, words in zip(rows, expected, strict=True):
            assert words in row
        assert _text(page.text, "#result-count") == count
        if not expected:
            assert "Geen aanbeveling past bij deze filters." in page.text


def test_a_recommendation_shows_its_text_addressees_activities_and_figures(
    world: World,
) -> None:
    victims_2 = world.recommendation("slachtoffermonitor-2014-2018", "2")
    with world.client("viewer") as client:
        page = client.get(f"/recommendations/{victims_2.id}")
        assert page.status_code == 200
        assert _text(page.text, "#recommendation-title") == victims_2.title
        assert _text(page.text, "#recommendation-text") == victims_2.text
        addressees = _text(page.text, "#addressees")
        assert "de staatssecretaris van Justitie en Veiligheid" in addressees
        assert "Ministerie van Justitie en Veiligheid" in addressees
        activities = _text(page.text, "#linked-activities")
        # Each with its status in the current period, by symbol and label, and as proposed.
        assert "Datacollectie via het CBS" in activities
        assert activities.count("voorgesteld door de seed, niet bevestigd") == 3
        assert "Voltooid" in activities or "In uitvoering" in activities
        figures = _text(page.text, "#linked-indicators")
        assert "668" in figures and "5.000–7.500" in figures
        assert "Er is nog geen beleidsreactie of opvolging vastgelegd." in page.text
        english = client.get(f"/recommendations/{victims_2.id}?lang=en")
        assert "5,000–7,500" in _text(english.text, "#linked-indicators")
        assert "proposed by the seed, not confirmed" in english.text
        assert "No response or follow-up has been recorded yet." in english.text


def test_a_recommendation_without_addressees_says_so_and_an_unknown_one_is_404(
    world: World,
) -> None:
    offenders_2 = world.recommendation("dadermonitor-2015-2019", "2")
    with world.client("viewer") as client:
        page = client.get(f"/recommendations/{offenders_2.id}")
        assert "het rapport noemt geen geadresseerde" in _text(page.text, "#addressees")
        figures = _text(page.text, "#linked-indicators")
        assert "25" in figures and "onbekend" in figures
        assert client.get("/recommendations/99999").status_code == 404


def test_the_signed_out_are_sent_to_sign_in(world: World) -> None:
    recommendation = world.recommendation("slachtoffermonitor-2014-2018", "1")
    with world.client(None) as client:
        for path in (LIST, f"/recommendations/{recommendation.id}"):
            response = client.get(path, follow_redirects=False)
            assert response.status_code == 303
            assert response.headers["location"].startswith("/sign-in")
