"""Charts (app/charts.py): every segment of every bar keeps a visible symbol and number, inside
the segment or under the bar pointing at it, never colour alone; on the board and on the
public summary, drawn for a wide and a narrow screen."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient

from app.activities.models import STATUS_ORDER, Status
from app.activities.presentation import STATUS_STYLES
from app.charts import CHAR_WIDTH, LABEL_GAP, NARROW, WIDE, Bar, place_below, stacked_bars
from tests.test_board import SLUG
from tests.test_public import public, seed_period_id  # noqa: F401 (a fixture)

SEGMENT_TEXT = re.compile(r"^(\S) (\d+)$")
SYMBOLS = {style.symbol: status for status, style in STATUS_STYLES.items()}


def _soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def _segment_texts(svg: Tag) -> list[tuple[Status, int]]:
    """(status, number) of every segment's text, inside the bar or under it, bar by bar in
    the legend's order."""
    found = []
    bars = svg.select("g.chart__bar")
    assert bars
    for bar in bars:
        texts = []
        for text in bar.select("text"):
            match = SEGMENT_TEXT.match(text.get_text())
            if match:
                texts.append((SYMBOLS[match.group(1)], int(match.group(2))))
        found += sorted(texts, key=lambda text: STATUS_ORDER.index(text[0]))
    return found


def _nonzero(segments: list[tuple[Status, int]]) -> list[tuple[Status, int]]:
    return [(status, count) for status, count in segments if count]


# Action line 4 of the seed: 2 completed, 1 ongoing ("Doorlopend 1", the segment that had no
# text), 4 on schedule; beside a bar of 58 its ongoing segment is 13 px wide.
LINE_4 = [(Status.completed, 2), (Status.ongoing, 1), (Status.on_schedule, 4)]
LINE_1 = [
    (Status.completed, 20),
    (Status.ongoing, 13),
    (Status.on_schedule, 19),
    (Status.delayed, 3),
    (Status.not_started, 0),
    (Status.in_consultation, 1),
    (Status.not_applicable, 2),
]


def test_every_segment_has_its_symbol_and_number_in_both_drawings() -> None:
    chart = _soup(
        stacked_bars(
            [Bar("Actielijn 1", LINE_1), Bar("Actielijn 4", LINE_4)],
            chart_id="test",
            title="Per actielijn",
            description="…",
        )
    )
    wide, narrow = chart.select("svg")
    assert wide["id"] == "test" and "chart--wide" in wide["class"]
    assert narrow["id"] == "test-narrow" and "chart--narrow" in narrow["class"]
    for svg in (wide, narrow):
        assert _segment_texts(svg) == _nonzero(LINE_1) + LINE_4, svg["id"]
        # Each drawing is named by its own title and description.
        title_id, desc_id = svg["aria-labelledby"].split()
        assert svg.find(id=title_id).name == "title" and svg.find(id=desc_id).name == "desc"
    # Too small to hold its text, the ongoing segment of line 4 points to it under the bar.
    outside = [text.get_text() for text in wide.select("text.chart__outside")]
    assert "↻ 1" in outside and len(wide.select("line.chart__pointer")) == len(outside)


def test_a_narrow_drawing_wraps_a_long_label_instead_of_cutting_it() -> None:
    label = "Actielijn 4: Versterken van de gemeentelijke aanpak van mensenhandel"
    chart = _soup(stacked_bars([Bar(label, LINE_4)], chart_id="c", title="t", description="d"))
    wide, narrow = chart.select("svg")
    assert [t.get_text() for t in wide.select("text.chart__label")] == [label]
    lines = [t.get_text() for t in narrow.select("text.chart__label")]
    assert len(lines) > 1 and " ".join(lines) == label
    assert all(len(line) * CHAR_WIDTH <= NARROW for line in lines)


@pytest.mark.parametrize("width", [WIDE, NARROW])
def test_texts_under_a_bar_keep_their_order_and_never_overlap(width: int) -> None:
    # Four small segments at the bar's end (as 2 not started and 1 in consultation of 128).
    wanted = [(width - 40.0, 34.0), (width - 12.0, 25.5), (width - 8.0, 25.5), (width - 3.0, 34.0)]
    lefts = place_below(wanted, width)
    assert len(lefts) == len(wanted)
    for (left, (_, text_width)), (next_left, _) in zip(
        zip(lefts, wanted, strict=True), zip(lefts[1:], wanted[1:], strict=True), strict=False
    ):
        assert left + text_width + LABEL_GAP <= next_left + 0.001
    assert lefts[0] >= 0 and lefts[-1] + wanted[-1][1] <= width + 0.001
    # A text with room stays centred on its segment.
    assert place_below([(100.0, 30.0)], width) == [85.0]


def test_the_public_summary_labels_every_segment(public: TestClient) -> None:  # noqa: F811
    response = public.get(f"/public/{SLUG}/{seed_period_id(public)}")
    summary = _soup(response.text)
    expected = []
    for row in summary.select("#lines-table tbody tr"):
        for cell in row.select("td[data-status]"):
            if cell["data-status"] != "total" and cell.get_text(strip=True) != "0":
                expected.append((Status(cell["data-status"]), int(cell.get_text(strip=True))))
    assert len(expected) > 15 and (Status.ongoing, 1) in expected
    for chart_id in ("chart-action-lines", "chart-action-lines-narrow"):
        svg = summary.select_one(f"svg#{chart_id}")
        assert svg is not None, chart_id
        assert _segment_texts(svg) == expected, chart_id


def test_the_board_bars_label_every_segment(seeded_client: TestClient) -> None:
    board = _soup(seeded_client.get(f"/programmes/{SLUG}").text)
    sections = board.select("section.board-section")
    assert len(sections) == 6  # all action lines, then each of the five
    for section in sections:
        key = [
            (Status(badge["class"][1].removeprefix("status--")), int(item.strong.get_text()))
            for item in section.select(".status-counts li:not(.status-counts__total)")
            for badge in item.select(".status")
        ]
        assert key, section["id"]
        drawings = section.select("figure.status-bar svg.chart")
        assert [svg["class"][1] for svg in drawings] == ["chart--wide", "chart--narrow"]
        for svg in drawings:
            assert svg["role"] == "img" and _segment_texts(svg) == key, section["id"]
            title_id, desc_id = svg["aria-labelledby"].split()
            assert "Voltooid" in svg.find(id=desc_id).get_text()
    ids = [svg["id"] for svg in board.select("svg.chart")]
    assert len(ids) == len(set(ids)) == 12
