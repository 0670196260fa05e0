"""The status board as a visitor sees it: counts, drill-down, filters, search, language."""

from __future__ import annotations

import re
from collections import Counter

import pytest
import yaml
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.activities.models import Status
from app.cli import DEFAULT_SEED
from app.csrf_masking import unmask_token
from tests.factories import create_programme, programme_data

SLUG = "samen-tegen-mensenhandel"
DUTCH_LABELS = {
    "completed": "Voltooid",
    "ongoing": "Doorlopend",
    "on_schedule": "In uitvoering en volgens planning",
    "delayed": "In uitvoering maar met vertraging",
    "not_started": "Nog niet in uitvoering",
    "in_consultation": "In (formele) consultatie",
    "not_applicable": "Niet van toepassing",
}


def _seed_statuses() -> dict[int, Counter[str]]:
    """Status counts per action line, read from the seed file itself."""
    data = yaml.safe_load(DEFAULT_SEED.read_text(encoding="utf-8"))
    counts: dict[int, Counter[str]] = {}
    for line in data["action_lines"]:
        counter = counts.setdefault(line["number"], Counter())
        for theme in line["themes"]:
            for result in theme["results"]:
                counter.update(activity["status"] for activity in result["activities"])
    return counts


def _soup(response) -> BeautifulSoup:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text[:500]
    return BeautifulSoup(response.text, "html.parser")


def _shown_counts(section) -> dict[str, int]:  # type: ignore[no-untyped-def]
    shown = {}
    for item in section.select(".status-counts li"):
        badge = item.select_one(".status")
        if badge is None:
            continue
        status = next(
            c.removeprefix("status--") for c in badge["class"] if c.startswith("status--")
        )
        shown[status] = int(item.strong.text)
    return shown


def test_home_redirects_to_the_only_programme(seeded_client: TestClient) -> None:
    response = seeded_client.get("/", follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"].endswith(f"/programmes/{SLUG}")


def test_board_shows_counts_per_action_line_with_labels_and_totals(
    seeded_client: TestClient,
) -> None:
    page = _soup(seeded_client.get(f"/programmes/{SLUG}"))
    expected = _seed_statuses()
    for number, counts in expected.items():
        section = page.select_one(f"#action-line-{number}")
        assert _shown_counts(section) == dict(counts)
        # Never colour alone: every count has its symbol and its words.
        for badge in section.select(".status-counts .status"):
            assert badge.select_one(".status__symbol").text.strip()
            assert badge.text.strip().split(" ", 1)[1] in DUTCH_LABELS.values()
        assert section.select_one(".status-counts__total strong").text == str(sum(counts.values()))
    totals = sum(expected.values(), Counter())
    assert _shown_counts(page.select_one("#board-totals")) == dict(totals)


def test_board_chart_has_a_text_alternative(seeded_client: TestClient) -> None:
    page = _soup(seeded_client.get(f"/programmes/{SLUG}"))
    svg = page.select_one("#action-line-1 svg")
    assert svg["role"] == "img"
    title_id, desc_id = svg["aria-labelledby"].split()
    assert svg.find(id=title_id).get_text() == "Actielijn 1"
    assert "Voltooid" in svg.find(id=desc_id).get_text()


def test_drill_down_from_action_line_to_activity(seeded_client: TestClient) -> None:
    line = _soup(seeded_client.get(f"/programmes/{SLUG}/action-lines/2"))
    assert "Doorontwikkeling van de aanpak van arbeidsuitbuiting" in line.h1.text
    themes = [h2.text.strip() for h2 in line.select("section.theme > h2")]
    assert themes == [
        "Signalering en preventie",
        "Ondersteuning van (mogelijke) slachtoffers van arbeidsuitbuiting",
    ]
    result_link = line.select_one("#result-15 a")["href"]
    result = _soup(seeded_client.get(result_link))
    assert result.h1.text.startswith("Resultaat 15")
    rows = result.select("tbody tr")
    assert len(rows) == 5
    activity_link = rows[0].select_one("a")["href"]
    activity = _soup(seeded_client.get(activity_link))
    assert "Voortgangsrapportage 2021" in activity.select_one(".history-period h3").text
    assert "afgeleid uit de toelichting" in activity.text


def test_unknown_programme_action_line_and_activity_are_404(seeded_client: TestClient) -> None:
    for url in (
        "/programmes/nope",
        f"/programmes/{SLUG}/action-lines/99",
        "/activities/999999",
        f"/programmes/{SLUG}/results/99",
    ):
        response = seeded_client.get(url)
        assert response.status_code == 404, url
        assert "bestaat niet" in response.text


@pytest.mark.parametrize("status", ["delayed", "completed"])
def test_status_filter_shows_only_that_status(seeded_client: TestClient, status: str) -> None:
    page = _soup(seeded_client.get(f"/programmes/{SLUG}/activities", params={"status": status}))
    rows = page.select("tbody tr")
    expected = sum(counts[status] for counts in _seed_statuses().values())
    assert len(rows) == expected > 0
    assert {row.select_one(".status")["class"][1] for row in rows} == {f"status--{status}"}


def test_filters_combine_action_line_and_organisation(seeded_client: TestClient) -> None:
    page = _soup(
        seeded_client.get(
            f"/programmes/{SLUG}/activities", params={"action_line": "3", "organisation": "BZ"}
        )
    )
    rows = page.select("tbody tr")
    assert rows
    for row in rows:
        assert "BZ" in row.select_one(".organisations").text
    # The form shows the filters that are applied.
    assert page.select_one("#filter-action-line option[selected]")["value"] == "3"
    assert page.select_one("#filter-organisation option[selected]")["value"] == "BZ"


def test_search_finds_words_in_explanations_and_titles(seeded_client: TestClient) -> None:
    # "webcrawler" appears in the title and explanation of one activity; "Schiphol" only
    # in an explanation.
    for word, expected_title in (
        ("webcrawler", "Webcrawler"),
        ("Schiphol", "Training luchtvaartsector"),
    ):
        page = _soup(seeded_client.get(f"/programmes/{SLUG}/activities", params={"q": word}))
        titles = [a.text for a in page.select("tbody tr td a")]
        assert expected_title in titles, (word, titles)
    empty = _soup(seeded_client.get(f"/programmes/{SLUG}/activities", params={"q": "xyzzyqwerty"}))
    assert not empty.select("tbody tr")
    assert "Geen activiteiten gevonden" in empty.text


def test_search_input_cannot_break_the_query(seeded_client: TestClient) -> None:
    for query in ['"', "NEAR(", "a* OR b", "'; DROP TABLE activity; --", "%", "ü"]:
        response = seeded_client.get(f"/programmes/{SLUG}/activities", params={"q": query})
        assert response.status_code == 200, query


def test_htmx_request_gets_only_the_result_list(seeded_client: TestClient) -> None:
    url = f"/programmes/{SLUG}/activities?status=delayed"
    fragment = seeded_client.get(url, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert fragment.text.lstrip().startswith('<div id="results"')
    assert "HX-Request" in [part.strip() for part in fragment.headers["vary"].split(",")]
    full = seeded_client.get(url)
    assert "<html" in full.text and 'id="results"' in full.text
    restore = seeded_client.get(
        url, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in restore.text


def test_bad_filter_values_get_a_clear_message(seeded_client: TestClient) -> None:
    response = seeded_client.get(f"/programmes/{SLUG}/activities", params={"status": "bogus"})
    assert response.status_code == 422
    assert "Onbekende status" in response.text and "bogus" in response.text
    response = seeded_client.get(f"/programmes/{SLUG}/activities", params={"action_line": "x"})
    assert response.status_code == 422
    assert "geheel getal" in response.text


def test_english_is_available_and_dutch_is_default(seeded_client: TestClient) -> None:
    dutch = _soup(seeded_client.get(f"/programmes/{SLUG}"))
    assert dutch.html["lang"] == "nl"
    assert "Voltooid" in dutch.text
    switch = seeded_client.get(f"/language/en?next=/programmes/{SLUG}", follow_redirects=False)
    assert switch.status_code == 303
    assert switch.headers["location"] == f"/programmes/{SLUG}"
    english = _soup(seeded_client.get(f"/programmes/{SLUG}"))
    assert english.html["lang"] == "en"
    assert "Completed" in english.text and "Voltooid" not in english.text


def test_language_switch_never_redirects_off_site(seeded_client: TestClient) -> None:
    for target in ("https://evil.example/", "//evil.example/"):
        response = seeded_client.get(f"/language/nl?next={target}", follow_redirects=False)
        assert response.headers["location"] == "/"


def test_pages_have_landmarks_skip_link_and_labelled_controls(seeded_client: TestClient) -> None:
    for url in (
        f"/programmes/{SLUG}",
        f"/programmes/{SLUG}/activities",
        "/activities/1",
        f"/programmes/{SLUG}/action-lines/1",
        f"/programmes/{SLUG}/results/1",
    ):
        page = _soup(seeded_client.get(url))
        assert page.select_one("a.nl-skip-link")["href"] == "#main"
        assert (
            page.select_one("main#main") and page.select_one("header") and page.select_one("footer")
        )
        assert len(page.select("h1")) == 1
        for control in page.select("input:not([type=hidden]), select"):
            assert page.select_one(f"label[for={control['id']}]"), (url, control)


def test_markup_in_data_is_shown_as_text(session: Session, client: TestClient) -> None:
    data = programme_data(action_lines=1, results_per_line=1, activities_per_result=1)
    activity = data["action_lines"][0]["themes"][0]["results"][0]["activities"][0]
    activity["title"] = "<script>alert('title')</script>"
    activity["explanation"] = '<img src=x onerror="alert(1)"> & meer'
    create_programme(session, data)
    response = client.get("/programmes/test-programme/activities")
    assert "<script>alert" not in response.text
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in response.text
    assert "<img src=x" not in response.text
    page = _soup(response)
    assert page.select_one("td.explanation").text == '<img src=x onerror="alert(1)"> & meer'


def test_security_headers(seeded_client: TestClient) -> None:
    response = seeded_client.get(f"/programmes/{SLUG}")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"]
    assert "<script>" not in response.text.replace("<script src=", "")


def test_pagination_splits_long_lists(session: Session, settings, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    create_programme(session, action_lines=2, results_per_line=5, activities_per_result=30)
    client.app.state.settings.page_size = 250  # type: ignore[attr-defined]
    first = _soup(client.get("/programmes/test-programme/activities"))
    assert len(first.select("tbody tr")) == 250
    assert "300 activiteiten gevonden" in first.select_one("#result-count").text
    next_link = first.select_one("a[rel=next]")["href"]
    second = _soup(client.get(next_link))
    assert len(second.select("tbody tr")) == 50


def test_every_status_of_the_legend_has_dutch_and_english_labels(seeded_client: TestClient) -> None:
    from app.activities.presentation import status_label
    from app.i18n import set_language

    set_language("nl")
    assert {s.value: status_label(s) for s in Status} == DUTCH_LABELS
    set_language("en")
    english = {status_label(s) for s in Status}
    assert len(english) == 7 and not english & set(DUTCH_LABELS.values())
    set_language("nl")


def test_result_note_printed_across_the_table_is_shown(seeded_client: TestClient) -> None:
    page = _soup(seeded_client.get(f"/programmes/{SLUG}/results/25"))
    assert page.select_one(".result-note").text.strip().startswith("Motie Kuik/Voordewind verzoekt")
    assert len(page.select("tbody tr")) == 9


def test_cached_pages_carry_each_browsers_own_csrf_token(seeded_settings) -> None:  # type: ignore[no-untyped-def]
    from sqlmodel import Session

    from app.main import create_app
    from tests.factories import create_user, sign_in

    app = create_app(seeded_settings)
    with Session(app.state.engine) as session:
        email = create_user(session, "viewer")
    first, second = TestClient(app), TestClient(app)
    for client in (first, second):
        sign_in(client, email)
    url = f"/programmes/{SLUG}/activities"
    pages = [client.get(url).text for client in (first, second, first)]
    tokens = [client.cookies.get("csrftoken") for client in (first, second)]
    assert tokens[0] != tokens[1]
    # Each page prints its browser's token, masked afresh (app/csrf_masking.py).
    printed = [
        {unmask_token(value) for value in re.findall(r'name="csrftoken" value="([^"]+)"', page)}
        for page in pages
    ]
    assert printed == [{tokens[0]}, {tokens[1]}, {tokens[0]}]
    app.state.engine.dispose()


def test_board_shows_the_overall_state_per_action_line(seeded_client: TestClient) -> None:
    page = _soup(seeded_client.get(f"/programmes/{SLUG}"))
    seed = _seed_statuses()
    for number, counts in seed.items():
        shown = page.select_one(f"#action-line-{number} .overall .status")["class"][1]
        # Any delayed activity makes the whole delayed; the real lines are all partly under way.
        expected = "delayed" if counts["delayed"] else "on_schedule"
        assert shown == f"status--{expected}", number
    result = _soup(seeded_client.get(f"/programmes/{SLUG}/results/5"))
    assert result.select_one(".overall .status")


def _seed_result_statuses(number: int) -> Counter[str]:
    """The statuses of one result's activities, read from the seed file itself."""
    data = yaml.safe_load(DEFAULT_SEED.read_text(encoding="utf-8"))
    found = [
        result
        for line in data["action_lines"]
        for theme in line["themes"]
        for result in theme["results"]
        if result["number"] == number
    ]
    assert len(found) == 1
    return Counter(activity["status"] for activity in found[0]["activities"])


def _summary_total(section) -> int:  # type: ignore[no-untyped-def]
    return int(section.select_one(".status-counts__total strong").text)


def test_result_page_counts_its_own_activities_not_its_action_lines(
    seeded_client: TestClient,
) -> None:
    expected = _seed_result_statuses(4)
    assert sum(expected.values()) == 13  # result 4 of the real programme; its line has 58
    page = _soup(seeded_client.get(f"/programmes/{SLUG}/results/4"))
    summary = page.select_one("#status-summary")
    assert "Resultaat 4" in summary.select_one("h2").text
    assert _summary_total(summary) == 13 == len(page.select("tbody tr"))
    assert _shown_counts(summary) == dict(expected)
    # The refresh after an edit in place asks for this result's counts, and gets them.
    refresh = summary["hx-get"]
    assert "result=4" in refresh and "action_line" not in refresh
    fragment = _soup(seeded_client.get(refresh, headers={"HX-Request": "true"}))
    assert _summary_total(fragment.select_one("#status-summary")) == 13
    assert _shown_counts(fragment.select_one("#status-summary")) == dict(expected)
    # The action line's page still counts the whole line.
    line = _soup(seeded_client.get(f"/programmes/{SLUG}/action-lines/1"))
    assert _summary_total(line.select_one("#status-summary")) == 58
    assert seeded_client.get(f"/programmes/{SLUG}/summary?result=99").status_code == 404
