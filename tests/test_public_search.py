"""Search on the public site: titles and explanations of published reports only, grouped per
report, the hits marked (and everything escaped), paged, and right after a publication."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.activities import service as activities
from app.activities.models import Status
from app.config import Settings
from app.main import create_app
from app.public import search
from tests.factories import current_user, update_round
from tests.test_board import SLUG
from tests.test_public import activity_ids, approved_change, period_id, publish, text


@pytest.fixture
def visitor(seeded_settings: Settings) -> Iterator[TestClient]:
    app = create_app(seeded_settings)
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


def results(client: TestClient, query: str, **params: str) -> BeautifulSoup:
    response = client.get("/public/search", params={"q": query, **params})
    assert response.status_code == 200, response.text[:300]
    return BeautifulSoup(response.text, "html.parser")


def hit_titles(page: BeautifulSoup) -> list[str]:
    return [text(hit.select_one(".search-hit__title a")) for hit in page.select(".search-hit")]


def test_every_public_page_has_the_search_form(visitor: TestClient) -> None:
    index = BeautifulSoup(visitor.get("/public/").text, "html.parser")
    form = index.select_one("form[role=search]")
    assert form["action"] == "/public/search" and form["method"] == "get"
    assert index.select_one("label[for=header-search-query]") is not None
    assert form.select_one("input[name=q]") is not None


def test_finds_titles_result_titles_and_explanations_ignoring_case_and_accents(
    visitor: TestClient, seeded_session: Session
) -> None:
    published = period_id(seeded_session, "Voortgangsrapportage 2021")
    # An activity title, in any case.
    page = results(visitor, "WEBCRAWLER")
    assert hit_titles(page) == ["Webcrawler"]
    hit = page.select_one(".search-hit")
    assert hit.select_one(".search-hit__title mark").get_text() == "Webcrawler"
    assert [mark.get_text() for mark in hit.select(".search-hit__explanation mark")] == [
        "webcrawler",
        "webcrawler",
    ]
    link = hit.select_one(".search-hit__title a")["href"]
    assert link.startswith(f"/public/{SLUG}/{published}/action-lines/1#activity-")
    target = BeautifulSoup(visitor.get(link.split("#")[0]).text, "html.parser")
    assert target.select_one(f"#{link.split('#')[1]}") is not None
    # Without the accent: "coördinatie" is found, and marked as written.
    accents = results(visitor, "coordinatie")
    assert "Realiseren landelijk netwerk zorgcoördinatie" in hit_titles(accents)
    assert "coördinatie" in [mark.get_text() for mark in accents.select("mark")]
    # A result's title: every activity of "Result 28" holds "IBP-afspraken" in it.
    result_hits = results(visitor, "IBP-afspraken")
    assert len(result_hits.select(".search-hit")) == 5
    assert all(
        hit.select_one(".search-hit__result mark") for hit in result_hits.select(".search-hit")
    )
    # Every word must occur: two words from different activities find nothing.
    assert results(visitor, "webcrawler zorgcoördinatie").select_one("#search-none") is not None


def test_draft_open_and_in_review_text_is_never_found_until_published(
    visitor: TestClient, seeded_session: Session
) -> None:
    session = seeded_session
    update = update_round(session, name="Voortgangsrapportage 2022")
    round_id = update.period_id
    ids = activity_ids(session, SLUG)
    approved_change(session, ids["4.4"], round_id, Status.completed, "Goedgekeurd ZOEKGOEDGEKEURD.")
    activities.record_status(
        session,
        activity_id=update.activities[0],
        period_id=round_id,
        status=Status.delayed,
        explanation="Voorstel ZOEKVOORSTEL",
        author=current_user(session, update.editor_email),
        based_on_version=1,
    )
    session.commit()
    for word in ("ZOEKGOEDGEKEURD", "ZOEKVOORSTEL"):
        page = results(visitor, word)  # the index is now cached for this data revision
        assert page.select_one("#search-none") is not None, word
        assert page.select(".search-hit") == []
    # Webcrawler is in the open round, approved: still only the 2021 report's text is found.
    assert [h2.get_text(strip=True) for h2 in results(visitor, "webcrawler").select("h2")] == [
        "Voortgangsrapportage 2021"
    ]
    publish(session, round_id)
    # At once after the publication: its approved text, not the proposal.
    found = results(visitor, "zoekgoedgekeurd")
    assert hit_titles(found) == ["Webcrawler"]
    assert found.select_one("h2").get_text(strip=True) == "Voortgangsrapportage 2022"
    assert results(visitor, "ZOEKVOORSTEL").select(".search-hit") == []
    # Grouped per report, the newest first.
    both = results(visitor, "webcrawler")
    assert [h2.get_text(strip=True) for h2 in both.select("h2")] == [
        "Voortgangsrapportage 2022",
        "Voortgangsrapportage 2021",
    ]
    assert text(both.select_one("#search-count")) == "2 activiteiten gevonden · in 2 rapportages"


def test_hits_and_the_query_are_escaped(visitor: TestClient, seeded_session: Session) -> None:
    session = seeded_session
    update = update_round(session, name="Voortgangsrapportage 2022")
    ids = activity_ids(session, SLUG)
    approved_change(
        session,
        ids["4.4"],
        update.period_id,
        Status.completed,
        'Af <script>alert("x")</script> & klaar',
    )
    publish(session, update.period_id)
    response = visitor.get("/public/search", params={"q": "<script>alert"})
    assert response.status_code == 200
    assert "<script>" not in response.text
    assert "<mark>&lt;script&gt;alert</mark>" in response.text
    page = BeautifulSoup(response.text, "html.parser")
    assert page.select_one("#search-query")["value"] == "<script>alert"
    assert (
        text(page.select_one(".search-hit__explanation"))
        == 'Af <script>alert("x")</script> & klaar'
    )


def test_results_are_paged(visitor: TestClient) -> None:
    first = results(visitor, "de")
    count = text(first.select_one("#search-count"))
    total = int(count.split()[0])
    assert total > search.PAGE_SIZE
    pages = -(-total // search.PAGE_SIZE)
    assert count == f"{total} activiteiten gevonden · in 1 rapportage · pagina 1 van {pages}"
    assert len(first.select(".search-hit")) == search.PAGE_SIZE
    assert first.select_one("#search-previous") is None
    second = results(visitor, "de", page="2")
    assert second.select_one("#search-next" if pages > 2 else "#search-previous") is not None
    assert set(hit["id"] for hit in first.select(".search-hit")).isdisjoint(
        hit["id"] for hit in second.select(".search-hit")
    )
    assert first.select_one("#search-next")["href"] == "/public/search?q=de&page=2"
    # Past the end or not a number: the nearest page.
    assert (
        len(results(visitor, "de", page="999").select(".search-hit"))
        == total - (pages - 1) * search.PAGE_SIZE
    )
    assert results(visitor, "de", page="nul").select_one("#search-previous") is None


def test_empty_and_too_long_queries_are_answered_clearly(visitor: TestClient) -> None:
    empty = results(visitor, "   ")
    assert "Typ een of meer woorden" in text(empty.select_one("#search-hint"))
    assert empty.select(".search-hit") == []
    too_long = visitor.get("/public/search", params={"q": "x" * 201})
    assert too_long.status_code == 422
    message = BeautifulSoup(too_long.text, "html.parser").select_one("#search-error")
    assert text(message) == "De zoektekst is 201 tekens lang; gebruik er hoogstens 200."
    many = visitor.get("/public/search", params={"q": " ".join(f"w{n}" for n in range(11))})
    assert many.status_code == 422
    assert "hoogstens 10 woorden" in many.text
    english = visitor.get("/public/search", params={"q": "x" * 201, "lang": "en"})
    assert "use at most 200 characters" in english.text


def test_folding_keeps_the_original_positions() -> None:
    folded = search.Folded("Zorgcoördinatie en COÖRDINATIE")
    assert folded.folded == "zorgcoordinatie en coordinatie"
    spans = folded.spans(["coordinatie"])
    assert [folded.text[start:end] for start, end in spans] == ["coördinatie", "COÖRDINATIE"]
    assert str(search.highlight("a <b> a", search.Folded("a <b> a").spans(["<b>"]))) == (
        "a <mark>&lt;b&gt;</mark> a"
    )
