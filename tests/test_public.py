"""The public site: published reports only, without an account.

What a visitor sees is checked against numbers counted by hand or straight from the seed file
(never from the code under test); the leak test puts draft content, review comments, an
unpublished period and an editor's name in the database and searches every public page and
download for them.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
import yaml
from bs4 import BeautifulSoup
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from app import readmodel
from app.activities import service as activities
from app.activities.models import Status
from app.cli import DEFAULT_SEED
from app.config import Settings
from app.main import create_app
from app.monitor.models import Edition
from app.periods import service as periods_service
from app.periods.models import ReportingPeriod
from app.permissions import ROUTE_RULES, Rule, iter_routes
from app.programmes.models import Activity, Programme, Result
from app.public import documents
from app.public.references import find_references, link_references
from app.review import service as review
from tests.factories import (
    coordinator,
    create_programme,
    create_user,
    current_user,
    open_edition,
    open_round,
    programme_data,
    sign_in,
    update_round,
)
from tests.factories import (
    publish as publish_period,
)
from tests.test_board import SLUG

SMALL = "test-programme"
Y2030 = "Voortgangsrapportage 2030"
Y2031 = "Voortgangsrapportage 2031"

SEED = yaml.safe_load(DEFAULT_SEED.read_text(encoding="utf-8"))


# -- building scenarios through the services ----------------------------------------------------


def activity_ids(session: Session, slug: str) -> dict[str, int]:
    """ "<result>.<label>" → activity id."""
    rows = session.execute(
        select(Result.number, Activity.label, Activity.id)
        .join(Result, Result.id == Activity.result_id)
        .join(Programme, Programme.id == Result.programme_id)
        .where(Programme.slug == slug)
    )
    return {f"{number}.{label}": activity_id for number, label, activity_id in rows}


def period_id(session: Session, name: str) -> int:
    found = session.scalar(select(ReportingPeriod.id).where(ReportingPeriod.name == name))
    assert found is not None, name
    return found


def publish(session: Session, period: int) -> None:
    actor = coordinator(session)
    periods_service.move_period(session, period_id=period, move="review", actor=actor)
    publish_period(session, period_id=period, actor=actor)
    session.commit()


def approved_change(
    session: Session, activity_id: int, period: int, status: Status, explanation: str
) -> int:
    """A proposal by one coordinator, approved by another (four eyes)."""
    author = coordinator(session)
    update = activities.record_status(
        session,
        activity_id=activity_id,
        period_id=period,
        status=status,
        explanation=explanation,
        author=author,
        based_on_version=1,
    )
    review.approve(session, status_update_id=update.id, reviewer=coordinator(session))
    session.commit()
    return int(update.id)  # type: ignore[arg-type]


@dataclass
class Scenario:
    ids: dict[str, int]
    earlier: int
    later: int


def two_published_periods(
    session: Session, changes: dict[str, Status], data: dict[str, Any] | None = None
) -> Scenario:
    """The small programme (programme_data(action_lines=2, results_per_line=1,
    activities_per_result=3): 1.1 completed, 1.2 ongoing, 1.3 on_schedule in action line 1;
    2.1 delayed, 2.2 not_started, 2.3 in_consultation in action line 2) published as 2030, then
    2031 opened, the given changes proposed and approved, and 2031 published."""
    create_programme(
        session,
        data or programme_data(action_lines=2, results_per_line=1, activities_per_result=3),
    )
    ids = activity_ids(session, SMALL)
    later = open_round(session, SMALL, name=Y2031, reference_date="2031-01-01")
    for key, status in changes.items():
        approved_change(session, ids[key], later, status, f"Nieuwe stand bij activiteit {key}.")
    publish(session, later)
    return Scenario(ids, period_id(session, Y2030), later)


def small_scenario(session: Session) -> Scenario:
    """1.2 ongoing → completed, 1.3 on_schedule → delayed, 2.1 delayed → on_schedule."""
    return two_published_periods(
        session,
        {"1.2": Status.completed, "1.3": Status.delayed, "2.1": Status.on_schedule},
    )


@pytest.fixture
def public(seeded_settings: Settings) -> Iterator[TestClient]:
    """A visitor without an account, on the seeded database."""
    app = create_app(seeded_settings)
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


@pytest.fixture
def small_public(settings: Settings, session: Session) -> Iterator[tuple[TestClient, Scenario]]:
    scenario = small_scenario(session)
    app = create_app(settings)
    with TestClient(app) as client:
        yield client, scenario
    app.state.engine.dispose()


def page(client: TestClient, path: str, language: str = "nl") -> BeautifulSoup:
    response = client.get(path, params={"lang": language})
    assert response.status_code == 200, (path, response.status_code, response.text[:500])
    assert "text/html" in response.headers["content-type"]
    return BeautifulSoup(response.text, "html.parser")


def text(node: Any) -> str:
    return " ".join(node.get_text().split())


def seed_period_id(client: TestClient) -> int:
    response = client.get(f"/public/{SLUG}/", follow_redirects=False)
    assert response.status_code == 302
    return int(response.headers["location"].rstrip("/").rsplit("/", 1)[1])


def seed_rows() -> list[dict[str, Any]]:
    """Every activity of the seed file with its action line, in printed order."""
    rows = []
    for line in SEED["action_lines"]:
        for theme in line["themes"]:
            for result in theme["results"]:
                for activity in result["activities"]:
                    rows.append({**activity, "line": line["number"], "result": result["number"]})
    return rows


# -- the seed's published 2021 report ------------------------------------------------------------


def test_a_visitor_without_an_account_reaches_the_seed_report(public: TestClient) -> None:
    index = page(public, "/public/")
    link = index.select_one(f"#programme-{SLUG} .report-list a")
    assert link is not None and link.get_text(strip=True) == "Voortgangsrapportage 2021"
    assert "meest recente rapportage" in text(index.select_one(f"#programme-{SLUG}"))
    # The programme's stable address leads to its latest report.
    period = seed_period_id(public)
    assert link["href"] == f"/public/{SLUG}/{period}"
    summary = page(public, link["href"])
    assert summary.select_one("h1").get_text(strip=True) == "Voortgangsrapportage 2021"
    assert "stand van zaken per 1 november 2021" in text(summary.select_one(".nl-paragraph--lead"))
    # Nothing of an account: no sign-out form, no CSRF token, no session cookie.
    # The only form is the header's search, a GET.
    assert [form["method"] for form in summary.select("form")] == ["get"]
    assert "csrftoken" not in str(summary)
    assert "voortgang_session" not in public.cookies


def test_seed_summary_discloses_the_derived_statuses(public: TestClient) -> None:
    period = seed_period_id(public)
    for path in (
        f"/public/{SLUG}/{period}",
        f"/public/{SLUG}/{period}/table",
        f"/public/{SLUG}/{period}/data",
    ):
        notice = page(public, path).select_one("#unconfirmed-notice")
        assert notice is not None, path
        assert text(notice).startswith(
            "Afgeleid, niet bevestigd: bij 128 van de 128 activiteiten is de status afgeleid "
            "uit de toelichting"
        )
    english = page(public, f"/public/{SLUG}/{period}", "en").select_one("#unconfirmed-notice")
    assert text(english).startswith("Derived, not confirmed: for 128 of the 128 activities")
    # Every status says so by itself, in the same words.
    table = page(public, f"/public/{SLUG}/{period}/table")
    marks = table.select("td .unconfirmed-note")
    assert len(marks) == len(seed_rows())
    assert {text(mark) for mark in marks} == {"afgeleid, niet bevestigd"}


def test_seed_headline_figures_are_the_seed_files_counts(public: TestClient) -> None:
    rows = seed_rows()
    counts = Counter(row["status"] for row in rows)
    summary = page(public, f"/public/{SLUG}/{seed_period_id(public)}")
    figures = {
        item["id"].removeprefix("figure-"): int(item.select_one(".key-figure__number").text)
        for item in summary.select(".key-figure")
    }
    assert figures == {
        "total": len(rows),
        "completed": counts["completed"],
        "on_track": counts["ongoing"] + counts["on_schedule"],
        "delayed": counts["delayed"],
        "not_started": counts["not_started"],
    }
    # No previous published report: no change is claimed, and the page says why.
    assert not summary.select(".key-figure__change")
    assert text(summary.select_one("#no-previous")).startswith(
        "Er is geen eerdere gepubliceerde rapportage van dit programma"
    )


def test_action_line_table_has_the_board_counts_and_the_seed_counts(
    public: TestClient, seeded_session: Session
) -> None:
    summary = page(public, f"/public/{SLUG}/{seed_period_id(public)}")
    programme = readmodel.get_programme(seeded_session, SLUG)
    [period] = readmodel.list_periods(seeded_session, programme.id)
    board = readmodel.board(seeded_session, programme, period)
    by_line: dict[int, Counter[str]] = {}
    for row in seed_rows():
        by_line.setdefault(row["line"], Counter())[row["status"]] += 1
    shown_statuses = [
        cell["data-status"] for cell in summary.select("#lines-table-1 td[data-status]")
    ]
    assert shown_statuses[-1] == "total"
    for line in board.action_lines:
        cells = {
            cell["data-status"]: int(cell.get_text(strip=True))
            for cell in summary.select(f"#lines-table-{line.number} td[data-status]")
        }
        expected = {status: by_line[line.number][status] for status in shown_statuses[:-1]}
        assert cells == {**expected, "total": sum(by_line[line.number].values())}
        assert cells == {
            **{s: line.counts.counts.get(Status(s), 0) for s in shown_statuses[:-1]},
            "total": line.counts.total,
        }
    totals = {
        cell["data-status"]: int(cell.get_text(strip=True))
        for cell in summary.select("#lines-table-total td[data-status]")
    }
    assert totals["total"] == board.totals.total == 128


def test_charts_are_svg_with_a_text_alternative_and_the_tables_numbers(
    public: TestClient,
) -> None:
    summary = page(public, f"/public/{SLUG}/{seed_period_id(public)}")
    chart = summary.select_one("svg#chart-action-lines")
    assert chart is not None and chart["role"] == "img"
    title_id, desc_id = chart["aria-labelledby"].split()
    title = chart.find(id=title_id)
    description = chart.find(id=desc_id)
    assert title.name == "title" and title.get_text() == "Activiteiten per status, per actielijn"
    # The description carries every number of the table, per action line.
    for row in summary.select("#lines-table tbody tr"):
        number = row["id"].removeprefix("lines-table-")
        cells = {c["data-status"]: c.get_text(strip=True) for c in row.select("td")}
        part = re.search(
            rf"Actielijn {number}: [^;]*\(totaal {cells['total']}\): ([^;]*)", description.text
        )
        assert part is not None, (number, description.text)
        for status, count in cells.items():
            if status != "total" and count != "0":
                label = {
                    "completed": "Voltooid",
                    "ongoing": "Doorlopend",
                    "on_schedule": "In uitvoering en volgens planning",
                    "delayed": "In uitvoering maar met vertraging",
                    "not_started": "Nog niet in uitvoering",
                    "not_applicable": "Niet van toepassing",
                }[status]
                assert f"{count} {label}" in part.group(1)
    # Readable without colour: each bar ends in its total, and the widest segments carry the
    # status's symbol and number.
    totals = [t.get_text() for t in chart.select("text.chart__total")]
    assert totals == [
        c.get_text(strip=True) for c in summary.select("#lines-table tbody td[data-status=total]")
    ]
    assert "✔ 19" in chart.get_text() and "▶ 20" in chart.get_text()
    # No script anywhere, and no inline style (the CSP forbids both).
    assert not summary.select("script") and not summary.select("[style]")


def test_narrative_of_the_seed_report(public: TestClient) -> None:
    rows = seed_rows()
    counts = Counter(row["status"] for row in rows)
    delayed = [row["title"] for row in rows if row["status"] == "delayed"]
    not_started = [row["title"] for row in rows if row["status"] == "not_started"]
    summary = page(public, f"/public/{SLUG}/{seed_period_id(public)}")
    state, changes = (text(p) for p in summary.select("#narrative p"))
    assert state == (
        f"Van de {len(rows)} activiteiten in deze rapportage zijn er {counts['completed']} "
        f"voltooid, liggen er {counts['ongoing'] + counts['on_schedule']} op koers (doorlopend "
        f"of volgens planning) en lopen er {counts['delayed']} vertraging op. "
        f"Vertraging is er bij ‘{delayed[0]}’, ‘{delayed[1]}’, ‘{delayed[2]}’ en "
        f"{len(delayed) - 3} andere. "
        f"Eén activiteit is nog niet in uitvoering: ‘{not_started[0]}’. "
        f"Voor {counts['not_applicable']} activiteiten is de status ‘niet van toepassing’."
    )
    assert changes == (
        "Dit is de eerste gepubliceerde rapportage van het programma; een vergelijking met een "
        "eerdere rapportage is daarom niet mogelijk."
    )
    english = page(public, f"/public/{SLUG}/{seed_period_id(public)}", "en")
    state_en = text(english.select_one("#narrative p"))
    assert state_en.startswith(
        f"Of the {len(rows)} activities in this report, {counts['completed']} have been "
        f"completed, {counts['ongoing'] + counts['on_schedule']} are on track (ongoing or on "
        f"schedule) and {counts['delayed']} are delayed."
    )
    # The Dutch titles inside the English text are marked as Dutch.
    assert english.select_one("#narrative p span[lang=nl]").get_text() == delayed[0]
    # Each named activity links to its row in the full table.
    first = summary.select_one("#narrative p a")
    assert re.fullmatch(rf"/public/{SLUG}/\d+/table#activity-\d+", first["href"])


def test_action_line_sections_summarise_and_link_to_the_activities(public: TestClient) -> None:
    period = seed_period_id(public)
    summary = page(public, f"/public/{SLUG}/{period}")
    line = summary.select_one("#action-line-2")
    rows = [row for row in seed_rows() if row["line"] == 2]
    assert rows
    counts = Counter(row["status"] for row in rows)
    assert text(line.select_one(".line-narrative")) == (
        f"Van de {len(rows)} activiteiten in deze actielijn zijn er {counts['completed']} "
        f"voltooid, liggen er {counts['ongoing'] + counts['on_schedule']} op koers en zijn er "
        f"{counts['not_applicable']} niet van toepassing. Geen daarvan loopt vertraging op."
    )
    # Its counts per status, each with the status's name (never colour alone).
    assert [text(item) for item in line.select(".status-counts")[0].select("li")] == [
        f"✔ Voltooid: {counts['completed']}",
        f"↻ Doorlopend: {counts['ongoing']}",
        f"▶ In uitvoering en volgens planning: {counts['on_schedule']}",
        f"– Niet van toepassing: {counts['not_applicable']}",
    ]
    # Its results with their number of activities and counts, no activity itself.
    results = [number for number in dict.fromkeys(row["result"] for row in rows)]
    items = line.select(".result-summary")
    assert [item["id"] for item in items] == [f"summary-result-{n}" for n in results]
    first_result = [row for row in rows if row["result"] == results[0]]
    assert (
        text(items[0].select_one(".result-summary__total")) == f"{len(first_result)} activiteiten"
    )
    compact = items[0].select(".status-counts--compact li")
    assert all(item.select_one(".visually-hidden") and item["title"] for item in compact)
    assert sum(int(item.select_one("strong").get_text()) for item in compact) == len(first_result)
    assert summary.select(".public-activity") == []
    assert "explanation" not in str(line)
    # One click away: the action line's page with every activity, status and explanation.
    line_page = f"/public/{SLUG}/{period}/action-lines/2"
    assert items[0].select_one("a")["href"] == f"{line_page}#result-{results[0]}"
    assert line.select_one(".action-line-summary__link a")["href"] == line_page
    detail = page(public, line_page)
    assert text(detail.select_one("h1")).startswith("Actielijn 2: ")
    assert [
        text(item.select_one(".public-activity__title"))
        for item in detail.select("li.public-activity")
    ] == [" ".join(row["title"].split()) for row in rows]
    first = detail.select_one("li.public-activity details .explanation")
    assert text(first) == " ".join(rows[0]["explanation"].split())
    assert detail.select_one(f"#result-{results[0]}") is not None
    assert (
        detail.select_one("#previous-action-line")["href"]
        == f"/public/{SLUG}/{period}/action-lines/1"
    )
    assert (
        detail.select_one("#next-action-line")["href"] == f"/public/{SLUG}/{period}/action-lines/3"
    )
    assert (
        page(public, f"/public/{SLUG}/{period}/action-lines/1").select_one("#previous-action-line")
        is None
    )
    missing = public.get(f"/public/{SLUG}/{period}/action-lines/9")
    assert missing.status_code == 404
    assert "Deze rapportage heeft geen actielijn 9." in missing.text
    # The full table still has every activity.
    table = page(public, f"/public/{SLUG}/{period}/table")
    assert table.select_one("#action-line-2") is not None
    assert len(table.select("tr[id^=activity-]")) == 128


def test_every_activity_is_one_click_from_the_summary(public: TestClient) -> None:
    period = seed_period_id(public)
    summary = page(public, f"/public/{SLUG}/{period}")
    reached = []
    for link in summary.select(".action-line-summary__link a"):
        reached += [item["id"] for item in page(public, link["href"]).select("li.public-activity")]
    expected = [f"activity-{row.id}" for row in _published_rows_for(public, period)]
    assert len(expected) == 128
    assert reached == expected


def test_parliamentary_references_in_the_table_are_linked(public: TestClient) -> None:
    table = page(public, f"/public/{SLUG}/{seed_period_id(public)}/table")
    hrefs = {a["href"] for a in table.select("a.reference-link")}
    assert "https://zoek.officielebekendmakingen.nl/kst-28638-178" in hrefs
    assert "https://www.tweedekamer.nl/kamerstukken/detail?id=2020Z19175" in hrefs
    assert "https://www.tweedekamer.nl/kamerstukken/moties?qry=Kuik+Voordewind" in hrefs


# -- references -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phrase", "linked", "url"),
    [
        # Real phrases from the seed file.
        (
            "Afdoening toezegging aan de TK, 28638, nr. 178",
            "28638, nr. 178",
            "https://zoek.officielebekendmakingen.nl/kst-28638-178",
        ),
        (
            "Noot: Tweede Kamer, vergaderjaar 2018-2019, 28 638, nr. 165.",
            "28 638, nr. 165",
            "https://zoek.officielebekendmakingen.nl/kst-28638-165",
        ),
        (
            "Bewustwording van (mogelijke) klanten (mede n.a.v. Motie 28 638, nr. 166)",
            "28 638, nr. 166",
            "https://zoek.officielebekendmakingen.nl/kst-28638-166",
        ),
        (
            "(met kenmerken: TK 29754, nr 619; TK 29754, nr 618; TK 32735, nr 332).",
            "29754, nr 619",
            "https://zoek.officielebekendmakingen.nl/kst-29754-619",
        ),
        (
            "‘Van voorlichten tot verplichten’ (Kamerstuk 2020Z19175).",
            "2020Z19175",
            "https://www.tweedekamer.nl/kamerstukken/detail?id=2020Z19175",
        ),
        (
            "beantwoording van de kamervragen (kenmerk: 2021D40459)",
            "2021D40459",
            "https://www.tweedekamer.nl/kamerstukken/detail?id=2021D40459",
        ),
        (
            "Motie Kuik/Voordewind verzoekt om binnen de aanpak",
            "Motie Kuik/Voordewind",
            "https://www.tweedekamer.nl/kamerstukken/moties?qry=Kuik+Voordewind",
        ),
        (
            "De gelden uit de motie Segers – Asscher worden komende jaren",
            "motie Segers – Asscher",
            "https://www.tweedekamer.nl/kamerstukken/moties?qry=Segers+Asscher",
        ),
        (
            "Tevens ter afdoening van de motie Segers Buitenweg (28638, nr 172)",
            "motie Segers Buitenweg",
            "https://www.tweedekamer.nl/kamerstukken/moties?qry=Segers+Buitenweg",
        ),
        # Other ways of writing them.
        (
            "zie Kamerstuk 28638-178 voor de brief",
            "Kamerstuk 28638-178",
            "https://zoek.officielebekendmakingen.nl/kst-28638-178",
        ),
        (
            "naar aanleiding van de motie-Kuik over",
            "motie-Kuik",
            "https://www.tweedekamer.nl/kamerstukken/moties?qry=Kuik",
        ),
        (
            "de motie van het lid Van der Graaf (35300 VI, nr. 25) vraagt",
            "motie van het lid Van der Graaf",
            "https://www.tweedekamer.nl/kamerstukken/moties?qry=Van+der+Graaf",
        ),
        (
            "Toegankelijk via: https://www.huiselijkgeweld.nl/vormen.",
            "https://www.huiselijkgeweld.nl/vormen",
            "https://www.huiselijkgeweld.nl/vormen",
        ),
    ],
)
def test_references_are_recognised(phrase: str, linked: str, url: str) -> None:
    found = {reference.text: reference.url for reference in find_references(phrase)}
    assert found.get(linked) == url, found
    html = str(link_references(phrase))
    assert f'href="{url.replace("&", "&amp;")}">{linked}</a>' in html


def test_all_references_in_one_seed_sentence() -> None:
    sentence = "(met kenmerken: TK 29754, nr 619; TK 29754, nr 618; TK 32735, nr 332)."
    assert [r.url for r in find_references(sentence)] == [
        "https://zoek.officielebekendmakingen.nl/kst-29754-619",
        "https://zoek.officielebekendmakingen.nl/kst-29754-618",
        "https://zoek.officielebekendmakingen.nl/kst-32735-332",
    ]
    with_part = find_references("(35300 VI, nr. 25)")
    assert [r.url for r in with_part] == ["https://zoek.officielebekendmakingen.nl/kst-35300-VI-25"]


SEGERS_ASSCHER = "https://www.tweedekamer.nl/kamerstukken/moties?qry=Segers+Asscher"


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("De uitvoering van de motie moet gezien worden binnen de beperkingen van Covid-19.", []),
        ("in de brief aan de TK van 1 juli 2020 (2942882).", []),
        # The name is linked, "35300 25*" is not a paper.
        ("Motie Segers – Asscher, 35300 25*.", [("Motie Segers – Asscher", SEGERS_ASSCHER)]),
        ("jurisprudentie vanaf 1 januari 2018 tot en met 30 juni 2019", []),
    ],
)
def test_no_reference_is_made_up(phrase: str, expected: list[tuple[str, str]]) -> None:
    """Exactly the references that are there: none where there is none, and the one that is."""
    assert [(r.text, r.url) for r in find_references(phrase)] == expected


def test_text_is_escaped_before_anything_is_linked() -> None:
    html = str(link_references('<script>alert("x")</script> motie-Kuik<b> & 28638, nr. 178"><img>'))
    assert "<script>" not in html and "<img>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert (
        '<a class="nl-link reference-link" href="https://www.tweedekamer.nl/kamerstukken/' in html
    )
    assert "&amp; " in html and "&#34;&gt;&lt;img&gt;" in html
    assert html.count("<a ") == 2
    # An address that tries to end the attribute stays inside it, escaped.
    tricky = str(link_references('zie https://example.org/a"onmouseover=x'))
    assert 'href="https://example.org/a"' in tricky and "onmouseover=x</a>" not in tricky


# -- two published periods: what changed ------------------------------------------------------


def test_changes_since_the_previous_published_report(small_public) -> None:  # type: ignore[no-untyped-def]
    client, scenario = small_public
    summary = page(client, f"/public/{SMALL}/{scenario.later}")
    assert summary.select_one("h1").get_text(strip=True) == Y2031
    figures = {
        item["id"].removeprefix("figure-"): (
            int(item.select_one(".key-figure__number").text),
            text(item.select_one(".key-figure__change")),
        )
        for item in summary.select(".key-figure")
    }
    # 2030: 1 completed, 2 on track (1.2, 1.3), 1 delayed (2.1), 1 not started.
    # 2031: 2 completed (1.1, 1.2), 1 on track (2.1), 1 delayed (1.3), 1 not started.
    assert figures == {
        "total": (6, f"evenveel als in {Y2030}"),
        "completed": (2, f"1 meer dan in {Y2030}"),
        "on_track": (1, f"1 minder dan in {Y2030}"),
        "delayed": (1, f"evenveel als in {Y2030}"),
        "not_started": (1, f"evenveel als in {Y2030}"),
    }
    state, changes = (text(p) for p in summary.select("#narrative p"))
    assert state == (
        "Van de 6 activiteiten in deze rapportage zijn er 2 voltooid, ligt er één op koers "
        "(doorlopend of volgens planning) en loopt er één vertraging op. "
        "Vertraging is er bij ‘Activiteit 1.3’. "
        "Eén activiteit is nog niet in uitvoering: ‘Activiteit 2.2’. "
        "Daarnaast is één activiteit in (formele) consultatie."
    )
    assert changes == (
        f"Sinds {Y2030} is de status van 3 activiteiten veranderd. "
        "Sindsdien is één activiteit voltooid: ‘Activiteit 1.2’. "
        "Bij één activiteit is vertraging ontstaan: ‘Activiteit 1.3’."
    )
    english = page(client, f"/public/{SMALL}/{scenario.later}", "en")
    assert [text(p) for p in english.select("#narrative p")] == [
        "Of the 6 activities in this report, 2 have been completed, one is on track (ongoing or "
        "on schedule) and one is delayed. The delayed activity is ‘Activiteit 1.3’. "
        "One activity has not started yet: ‘Activiteit 2.2’. "
        "In addition, one activity is in (formal) consultation.",
        f"Since {Y2030}, the status of 3 activities has changed. "
        "Since then, one activity has been completed: ‘Activiteit 1.2’. "
        "A delay has arisen in one activity: ‘Activiteit 1.3’.",
    ]

    # The transition overview: per status in 2030, where those activities are now.
    matrix = {
        (row["data-before"], cell["data-after"]): int(cell.get_text(strip=True))
        for row in summary.select("#transitions-table tbody tr")
        for cell in row.select("td[data-after]")
        if cell.get_text(strip=True) != "0"
    }
    assert matrix == {
        ("completed", "completed"): 1,
        ("ongoing", "completed"): 1,
        ("on_schedule", "delayed"): 1,
        ("delayed", "on_schedule"): 1,
        ("not_started", "not_started"): 1,
        ("in_consultation", "in_consultation"): 1,
    }
    chart = summary.select_one("svg#chart-transitions")
    assert chart["role"] == "img"
    description = chart.find(id=chart["aria-labelledby"].split()[1]).get_text()
    assert "Eerder ‘Doorlopend’ (1), nu: 1 Voltooid" in description
    assert "Eerder ‘In uitvoering en volgens planning’ (1), nu: 1 In uitvoering maar met" in (
        description
    )
    changed = [
        [text(cell) for cell in row.select("td")]
        for row in summary.select("#changed-table tbody tr")
    ]
    assert changed == [
        ["1.2", "Activiteit 1.2", "↻ Doorlopend", "✔ Voltooid"],
        [
            "1.3",
            "Activiteit 1.3",
            "▶ In uitvoering en volgens planning",
            "⚠ In uitvoering maar met vertraging",
        ],
        [
            "2.1",
            "Activiteit 2.1",
            "⚠ In uitvoering maar met vertraging",
            "▶ In uitvoering en volgens planning",
        ],
    ]
    # The earlier report is listed, and compares with nothing before it.
    other = summary.select_one("#other-reports a")
    assert other.get_text(strip=True) == Y2030
    earlier = page(client, other["href"])
    assert earlier.select_one("#no-previous") is not None


def test_carried_over_statuses_are_disclosed_on_every_page_and_in_the_open_data(
    small_public,
) -> None:  # type: ignore[no-untyped-def]
    client, scenario = small_public
    table = page(client, f"/public/{SMALL}/{scenario.later}/table")
    row = table.select_one(f"#activity-{scenario.ids['1.2']}")
    assert text(row.select_one("td.explanation")) == "Nieuwe stand bij activiteit 1.2."
    # 2031: 1.2, 1.3 and 2.1 were changed for the report; the other three were carried over
    # from 2030 unchanged, and nobody updated or confirmed them.
    carried = {scenario.ids[key] for key in ("1.1", "2.2", "2.3")}
    note = (
        "Overgenomen, niet bevestigd: bij 3 van de 6 activiteiten zijn de status en de "
        "toelichting ongewijzigd overgenomen uit de vorige rapportage; de uitvoerende "
        "organisaties hebben ze voor deze rapportage niet bijgewerkt of bevestigd."
    )
    marked = {
        int(cell.find_parent("tr")["id"].removeprefix("activity-"))
        for cell in table.select("td .unconfirmed-note")
    }
    assert marked == carried
    assert {text(mark) for mark in table.select(".unconfirmed-note")} == {
        "overgenomen, niet bevestigd"
    }
    # The action lines' pages list the activities: the same marks, and the notice counts the
    # action line's own (action line 1: 1.1 carried over, 1.2 and 1.3 changed).
    lines = [page(client, f"/public/{SMALL}/{scenario.later}/action-lines/{n}") for n in (1, 2)]
    line_marked = {
        int(item["id"].removeprefix("activity-"))
        for line in lines
        for item in line.select("li.public-activity")
        if item.select_one(".unconfirmed-note")
    }
    assert line_marked == carried
    assert text(lines[0].select_one("#unconfirmed-notice")) == (
        "Overgenomen, niet bevestigd: bij 1 van de 3 activiteiten zijn de status en de "
        "toelichting ongewijzigd overgenomen uit de vorige rapportage; de uitvoerende "
        "organisatie heeft ze voor deze rapportage niet bijgewerkt of bevestigd."
    )
    assert "bij 2 van de 3 activiteiten" in text(lines[1].select_one("#unconfirmed-notice"))
    summary = page(client, f"/public/{SMALL}/{scenario.later}")
    for soup in (table, summary, page(client, f"/public/{SMALL}/{scenario.later}/data")):
        assert text(soup.select_one("#unconfirmed-notice")) == note
    english = page(client, f"/public/{SMALL}/{scenario.later}/table", "en")
    assert text(english.select_one("#unconfirmed-notice")).startswith(
        "Carried over, not confirmed: for 3 of the 6 activities the status and the explanation "
        "were carried over unchanged from the previous report"
    )
    assert len(english.select("td .unconfirmed-note")) == 3
    # A search hit shows its status as the pages do, with the mark.
    found = BeautifulSoup(
        client.get("/public/search", params={"q": "Toelichting bij activiteit"}).text,
        "html.parser",
    )
    later_hits = found.select(f"li[id^='search-hit-{scenario.later}-']")
    assert {int(hit["id"].rsplit("-", 1)[1]) for hit in later_hits} == carried
    assert {text(hit.select_one(".unconfirmed-note")) for hit in later_hits} == {
        "overgenomen, niet bevestigd"
    }
    earlier_hits = found.select(f"li[id^='search-hit-{scenario.earlier}-']")
    assert earlier_hits and {text(h.select_one(".unconfirmed-note")) for h in earlier_hits} == {
        "afgeleid, niet bevestigd"
    }
    # The open data says it per record, as a code; the schema knows the codes.
    records = list(
        csv.DictReader(
            io.StringIO(
                client.get(f"/public/{SMALL}/{scenario.later}/data.csv").content.decode("utf-8-sig")
            )
        )
    )
    assert {int(r["activity_id"]): r["unconfirmed"] for r in records} == {
        activity_id: "carried_over" if activity_id in carried else ""
        for activity_id in scenario.ids.values()
    }
    data = client.get(f"/public/{SMALL}/{scenario.later}/data.json").json()
    assert sorted(a["activity_id"] for a in data["activities"] if a["unconfirmed"]) == sorted(
        carried
    )
    schema = client.get(f"/public/{SMALL}/{scenario.later}/schema.json").json()
    assert schema["properties"]["activities"]["items"]["properties"]["unconfirmed"]["enum"] == [
        "",
        "derived",
        "carried_over",
    ]
    # The PDFs: the summary's activity table and the full table mark them as the pages do.
    pypdf = pytest.importorskip("pypdf")
    prepare_documents(client.app)
    for name in ("summary.pdf", "table.pdf"):
        response = client.get(f"/public/{SMALL}/{scenario.later}/{name}")
        assert response.status_code == 200, name
        content = " ".join(
            " ".join((p.extract_text() or "").split())
            for p in pypdf.PdfReader(io.BytesIO(response.content)).pages
        )
        assert note.split(";")[0] in content, name
        assert content.count("overgenomen, niet bevestigd") == 3, name
    # 2030's statuses were all derived from the explanations by the seed loader.
    earlier = page(client, f"/public/{SMALL}/{scenario.earlier}/table")
    assert text(earlier.select_one("#unconfirmed-notice")).startswith("Afgeleid, niet bevestigd")
    assert len(earlier.select("td .unconfirmed-note")) == 6


def test_a_report_whose_statuses_were_all_stated_has_nothing_to_disclose(
    settings: Settings, session: Session
) -> None:
    every = {
        "1.1": Status.completed,
        "1.2": Status.completed,
        "1.3": Status.delayed,
        "2.1": Status.on_schedule,
        "2.2": Status.not_started,
        "2.3": Status.in_consultation,
    }
    scenario = two_published_periods(session, every)
    app = create_app(settings)
    with TestClient(app) as client:
        for path in ("", "/table", "/data"):
            soup = page(client, f"/public/{SMALL}/{scenario.later}{path}")
            assert soup.select_one("#unconfirmed-notice") is None, path
            assert not soup.select(".unconfirmed-note"), path
    app.state.engine.dispose()


# -- open data and PDF -----------------------------------------------------------------------


def _published_rows_for(client: TestClient, period: int) -> list[readmodel.ActivityRow]:
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        return _published_rows(session, SLUG, period)


def _published_rows(session: Session, slug: str, period: int) -> list[readmodel.ActivityRow]:
    programme = readmodel.get_programme(session, slug)
    chosen = readmodel.choose_period(readmodel.list_periods(session, programme.id), period)
    assert chosen is not None and chosen.published
    return readmodel.list_activities(session, programme.id, chosen).rows


def test_open_data_downloads_are_the_published_table(
    public: TestClient, seeded_session: Session
) -> None:
    period = seed_period_id(public)
    rows = _published_rows(seeded_session, SLUG, period)
    described = page(public, f"/public/{SLUG}/{period}/data")
    facts = {
        text(dt): text(dt.find_next_sibling("dd")) for dt in described.select("#dataset-facts dt")
    }
    assert facts["Uitgever"] == "Ministerie van Justitie en Veiligheid"
    assert facts["Titel"] == "Samen tegen mensenhandel: Voortgangsrapportage 2021"
    assert facts["Rapportageperiode"].startswith("Voortgangsrapportage 2021, stand van zaken per")
    assert facts["Licentie"].startswith("Creative Commons CC0 1.0")
    assert facts["Aantal records"] == "128 activiteiten"
    licence = described.select_one("#dataset-facts a[rel=license]")
    assert licence["href"] == "https://creativecommons.org/publicdomain/zero/1.0/deed.nl"
    from app.exports.columns import PUBLIC_COLUMNS

    public_keys = [column.key for column in PUBLIC_COLUMNS]
    assert [
        row["data-column"] for row in described.select("#columns-table tbody tr")
    ] == public_keys
    # The traces of internal editing stay internal.
    assert "version" not in public_keys and "last_change" not in public_keys

    response = public.get(described.select_one("#download-csv")["href"])
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    records = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert list(records[0]) == public_keys
    assert [int(r["activity_id"]) for r in records] == [row.id for row in rows]
    assert [r["status"] for r in records] == [row.status.value for row in rows]  # type: ignore[union-attr]
    assert Counter(r["status"] for r in records) == Counter(row["status"] for row in seed_rows())

    data = public.get(described.select_one("#download-json")["href"]).json()
    assert all(list(activity) == public_keys for activity in data["activities"])
    assert [a["explanation"] for a in data["activities"]] == [row.explanation for row in rows]
    assert data["period"]["name"] == "Voortgangsrapportage 2021"
    assert data["period"]["published"] is True
    schema_response = public.get(described.select_one("#download-schema")["href"])
    assert schema_response.status_code == 200
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(data, schema_response.json())


def test_pdfs_open_and_hold_the_summary(public: TestClient) -> None:
    pypdf = pytest.importorskip("pypdf")
    period = seed_period_id(public)
    prepare_documents(public.app)  # type: ignore[attr-defined]
    response = public.get(f"/public/{SLUG}/{period}/summary.pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert "voortgangsrapportage-2021-samenvatting.pdf" in response.headers["content-disposition"]
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    content = " ".join(" ".join((p.extract_text() or "").split()) for p in reader.pages)
    assert "Voortgangsrapportage 2021" in content
    assert "Van de 128 activiteiten in deze rapportage zijn er 36 voltooid" in content
    assert "Kerncijfers" in content and "Actielijn 5" in content
    english = public.get(f"/public/{SLUG}/{period}/summary.pdf", params={"lang": "en"})
    english_text = " ".join(
        p.extract_text() or "" for p in pypdf.PdfReader(io.BytesIO(english.content)).pages
    )
    assert "Of the 128 activities in this report" in " ".join(english_text.split())
    table = public.get(f"/public/{SLUG}/{period}/table.pdf")
    assert table.status_code == 200
    assert len(pypdf.PdfReader(io.BytesIO(table.content)).pages) > 1


# -- only published periods ---------------------------------------------------------------------


def prepare_documents(app) -> None:  # type: ignore[no-untyped-def]
    """What `voortgang seed` and a publication do: make the public documents (the seeded
    database was loaded by the service, so the 2021 report has none yet)."""
    documents.prepare(app.state.engine, settings=app.state.settings)


def _public_routes(app) -> list[APIRoute]:  # type: ignore[no-untyped-def]
    routes = [
        route
        for route in iter_routes(app.routes)
        if isinstance(route, APIRoute) and route.path.startswith("/public")
    ]
    assert all(ROUTE_RULES[route.name] == Rule.public for route in routes)
    return routes


def _content(response) -> str:  # type: ignore[no-untyped-def]
    """What a reader of the response sees: the text, or the text of a PDF's pages."""
    if response.headers.get("content-type", "").startswith("application/pdf"):
        import pypdf

        reader = pypdf.PdfReader(io.BytesIO(response.content))
        return "\n".join(page.extract_text() or "" for page in reader.pages) + str(reader.metadata)
    return response.content.decode("utf-8-sig", errors="replace")


MARKERS = {
    "proposal": "LEKMARKERVOORSTEL",
    "approved_draft": "LEKMARKERGOEDGEKEURD",
    "review": "LEKMARKERCOMMENTAAR",
    "reply": "LEKMARKERANTWOORD",
    "period": "LEKMARKERPERIODE",
    "draft_period": "LEKMARKERCONCEPT",
    "editor": "LEKMARKERREDACTEUR",
    "monitor_draft": "LEKMARKERMONITOREDITIE",
    "follow_up": "LEKMARKEROPVOLGING",
    "follow_up_author": "LEKMARKERAUTEUR",
}


def _every_public_response(  # type: ignore[no-untyped-def]
    client: TestClient, app, period_ids: list[int], edition_ids: list[int] | None = None
):
    """Every public route, with every period id of the database (and, for the monitor's
    routes, every edition id), in both languages (a PDF in one: its data is the same in both,
    and reading a PDF's text takes seconds)."""
    for route in _public_routes(app):
        editions = (edition_ids or []) if "{edition_id}" in route.path else [None]
        for period in period_ids if "{period_id}" in route.path else [None]:
            for number, edition in (
                (n, e)
                for n in (range(1, 6) if "{number}" in route.path else [None])
                for e in editions
            ):
                path = route.path.format(
                    slug=SLUG, period_id=period, number=number, edition_id=edition
                )
                for language in ("nl",) if path.endswith(".pdf") else ("nl", "en"):
                    response = client.get(path, params={"lang": language})
                    yield path, language, response


def test_no_draft_proposal_comment_or_editor_name_reaches_a_public_page(
    seeded_settings: Settings, seeded_session: Session
) -> None:
    session = seeded_session
    published_2021 = period_id(session, "Voortgangsrapportage 2021")
    # An open round with a secret name, an editor with a secret name, a proposal sent back
    # with a comment and answered, and a proposal approved (but the round is not published).
    update = update_round(session, name=f"Voortgangsrapportage 2022 {MARKERS['period']}")
    round_id = update.period_id
    from app.accounts.models import User

    editor = session.scalar(select(User).where(User.email == update.editor_email))
    editor.name = f"Redacteur {MARKERS['editor']}"  # type: ignore[union-attr]
    session.commit()
    police_activity = update.activities[0]
    proposal = activities.record_status(
        session,
        activity_id=police_activity,
        period_id=round_id,
        status=Status.delayed,
        explanation=f"Concepttekst {MARKERS['proposal']}",
        author=current_user(session, update.editor_email),
        based_on_version=1,
    )
    session.commit()
    review.send_back(
        session,
        status_update_id=proposal.id,  # type: ignore[arg-type]
        reviewer=update.coordinator,
        comment=f"Graag aanpassen {MARKERS['review']}",
    )
    review.reply(
        session,
        status_update_id=proposal.id,  # type: ignore[arg-type]
        author=current_user(session, update.editor_email),
        comment=f"Aangepast {MARKERS['reply']}",
    )
    other = next(i for i in activity_ids(session, SLUG).values() if i != police_activity)
    approved_change(session, other, round_id, Status.completed, MARKERS["approved_draft"])
    # The Rapporteur's recommendations, with a follow-up entry of the open round by an author
    # with a secret name: public only once the round is published, the name never.
    from dataclasses import replace

    from tests.test_recommendations_exports import follow_up
    from tests.test_recommendations_pages import load_everything

    load_everything(session)
    author = replace(update.coordinator, name=f"Coordinator {MARKERS['follow_up_author']}")
    follow_up(session, author, "slachtoffermonitor-2014-2018", "1", status="in_progress", text=f"Opvolging {MARKERS['follow_up']}", period_id=round_id)  # fmt: skip
    session.commit()
    draft = periods_service.create_period(
        session,
        programme_id=readmodel.get_programme(session, SLUG).id,
        name=f"Voortgangsrapportage 2023 {MARKERS['draft_period']}",
        reference_date=date(2023, 11, 1),
        deadline=None,
        actor=coordinator(session),
    )
    session.commit()
    all_periods = [published_2021, round_id, int(draft.id)]  # type: ignore[arg-type]
    # The monitor: its published editions, and a draft edition with a secret title (whose
    # period id is listed too: a monitor period is no progress report either).
    monitor_draft = open_edition(
        session,
        SLUG,
        title=f"Monitor 2024 {MARKERS['monitor_draft']}",
        years=(2024, 2024),
        area="NL",
        opened=False,
    )
    session.commit()
    editions = [int(e.id) for e in session.scalars(select(Edition))]  # type: ignore[arg-type]
    all_periods.append(monitor_draft.period_id)

    app = create_app(seeded_settings)
    prepare_documents(app)
    seen: dict[int, int] = Counter()
    with TestClient(app) as client:
        for path, language, response in _every_public_response(client, app, all_periods, editions):
            assert response.status_code in (200, 302, 404), (path, response.status_code)
            if path.startswith("/public/monitor/"):
                if path.startswith(f"/public/monitor/{monitor_draft.edition_id}"):
                    assert response.status_code == 404, path
            elif path.split("/")[3:4] in (
                [str(round_id)],
                [str(draft.id)],
                [str(monitor_draft.period_id)],
            ):
                # A period that is not published does not exist publicly.
                assert response.status_code == 404, path
                assert {
                    "nl": "Er is geen gepubliceerde rapportage met dit nummer.",
                    "en": "There is no published report with this number.",
                }[language] in response.text
            content = _content(response)
            for marker in MARKERS.values():
                assert marker not in content, (marker, path, language)
            seen[response.status_code] += 1
        assert seen[200] >= 2 * 13 + 2  # every route answered for the published period

        # The search would find the markers: once the round is published, its approved text
        # is public; the proposal that was sent back, the comments and the name still are not.
        publish(session, round_id)
        prepare_documents(app)
        found_approved = found_follow_up = False
        for path, language, response in _every_public_response(client, app, [round_id]):
            content = _content(response)
            found_approved |= MARKERS["approved_draft"] in content
            found_follow_up |= MARKERS["follow_up"] in content
            for key in ("proposal", "review", "reply", "editor", "draft_period", "follow_up_author"):  # fmt: skip
                assert MARKERS[key] not in content, (key, path, language)
        assert found_approved and found_follow_up
    app.state.engine.dispose()


def test_unknown_and_unpublished_periods_look_the_same(public: TestClient, seeded_session) -> None:  # type: ignore[no-untyped-def]
    round_id = open_round(seeded_session)
    unpublished = public.get(f"/public/{SLUG}/{round_id}")
    unknown = public.get(f"/public/{SLUG}/999999")
    assert unpublished.status_code == unknown.status_code == 404
    message = BeautifulSoup(unpublished.text, "html.parser").select_one("#error-message")
    other = BeautifulSoup(unknown.text, "html.parser").select_one("#error-message")
    assert text(message) == text(other)
    assert "Voortgangsrapportage 2022" not in unpublished.text
    # The published 2021 report still shows, also next to the open round.
    index = page(public, "/public/")
    assert [a.get_text(strip=True) for a in index.select(".report-list__title")] == [
        "Voortgangsrapportage 2021"
    ]
    assert public.get("/public/no-such-programme/").status_code == 404
    assert public.get(f"/public/{SLUG}/{round_id}/data.csv").status_code == 404
    assert public.get(f"/public/{SLUG}/{round_id}/summary.pdf").status_code == 404


def test_a_newly_published_report_appears_at_once(public: TestClient, seeded_session) -> None:  # type: ignore[no-untyped-def]
    before = page(public, "/public/")  # cached for this data revision
    assert len(before.select(".report-list__item")) == 1
    round_id = open_round(seeded_session)
    publish(seeded_session, round_id)
    after = page(public, "/public/")
    assert [a.get_text(strip=True) for a in after.select(".report-list__title")] == [
        "Voortgangsrapportage 2022",
        "Voortgangsrapportage 2021",
    ]
    assert public.get(f"/public/{SLUG}/", follow_redirects=False).headers["location"] == (
        f"/public/{SLUG}/{round_id}"
    )


def test_staff_pages_link_to_the_public_site(seeded_settings: Settings) -> None:
    app = create_app(seeded_settings)
    with TestClient(app) as client:
        sign_in_page = BeautifulSoup(client.get("/sign-in").text, "html.parser")
        assert sign_in_page.select_one(".public-reports-link a")["href"] == "/public/"
        with Session(app.state.engine) as session:
            email = create_user(session, "viewer")
            published = period_id(session, "Voortgangsrapportage 2021")
        sign_in(client, email)
        period_page = BeautifulSoup(client.get(f"/periods/{published}").text, "html.parser")
        link = period_page.select_one("#public-summary-link")
        assert link["href"] == f"/public/{SLUG}/{published}"
        with Session(app.state.engine) as session:
            round_id = open_round(session)
        open_page = BeautifulSoup(client.get(f"/periods/{round_id}").text, "html.parser")
        assert open_page.select_one("#public-summary-link") is None
    app.state.engine.dispose()


def test_public_pages_say_their_language(public: TestClient) -> None:
    period = seed_period_id(public)
    for path in ("/public/", "/public/accessibility", f"/public/{SLUG}/{period}"):
        for language in ("nl", "en"):
            soup = page(public, path, language)
            assert soup.html["lang"] == language
    english = page(public, f"/public/{SLUG}/{period}/table", "en")
    # The programme's own (Dutch) texts are marked as Dutch on an English page.
    assert english.select_one("h1 span")["lang"] == "nl"
    explanations = english.select("td.explanation")
    assert len(explanations) == len(seed_rows())
    assert all(cell["lang"] == "nl" for cell in explanations)
    dutch = page(public, f"/public/{SLUG}/{period}/table", "nl")
    assert len(dutch.select("td.explanation")) == len(explanations)
    assert not dutch.select("td.explanation[lang]")
    assert json.loads(public.get(f"/public/{SLUG}/{period}/schema.json").text)["$schema"]


def test_open_data_column_descriptions_follow_the_readers_language(public: TestClient) -> None:
    period = seed_period_id(public)
    base = f"/public/{SLUG}/{period}"
    expected = {
        "nl": {
            "activity_id": "Interne id van de activiteit (niet wijzigen).",
            "explanation": "Toelichting op de stand van zaken.",
            "unconfirmed": "Of de status niet voor deze rapportage is opgegeven",
        },
        "en": {
            "activity_id": "Internal id of the activity (do not change).",
            "explanation": "Explanation of the state of affairs.",
            "unconfirmed": "Whether the status was not stated for this report",
        },
    }
    for language, descriptions in expected.items():
        # The page: the description in the page's own language, so not marked as another.
        rows = page(public, f"{base}/data", language).select("#columns-table tbody tr")
        on_page = {row["data-column"]: row.select("td")[-1] for row in rows}
        assert len(on_page) == 12
        for key, start in descriptions.items():
            assert text(on_page[key]).startswith(start), (language, key)
            assert not on_page[key].has_attr("lang")
        # The JSON's column list and the JSON Schema.
        data = public.get(f"{base}/data.json", params={"lang": language}).json()
        assert data["language"] == language
        in_json = {column["key"]: column["description"] for column in data["columns"]}
        schema = public.get(f"{base}/schema.json", params={"lang": language}).json()
        in_schema = {
            key: value["description"]
            for key, value in schema["properties"]["activities"]["items"]["properties"].items()
        }
        for key, start in descriptions.items():
            assert in_json[key].startswith(start), (language, key)
            assert in_schema[key].startswith(start), (language, key)
    # Without a choice: Dutch; the language cookie that the switch sets is followed too.
    assert public.get(f"{base}/schema.json").json()["title"] == (
        "Export van de voortgangstabel uit Voortgang"
    )
    public.cookies.set("lang", "en")
    try:
        assert public.get(f"{base}/schema.json").json()["title"] == (
            "Voortgang progress table export"
        )
    finally:
        public.cookies.delete("lang")
