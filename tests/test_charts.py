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


# -- key figures: ranges and bounds drawn as what they are -------------------------------------


def _value_chart(*bars: tuple[str, str], centred: bool = False) -> str:
    from app.charts import ValueBar, value_bars
    from app.monitor.values import format_value, parse_value

    return str(
        value_bars(
            [
                ValueBar(
                    label,
                    parse_value(text, "nl"),
                    format_value(parse_value(text, "nl"), None, "nl"),
                )
                for label, text in bars
            ],
            chart_id="c",
            title="<Titel>",
            description="a & b",
            centred=centred,
        )  # fmt: skip
    )


def _wide(svg: str) -> BeautifulSoup:
    return BeautifulSoup(svg, "html.parser").select_one("svg.chart--wide")  # type: ignore[return-value]


def test_a_lower_bound_is_drawn_open_ended_and_a_range_as_a_range() -> None:
    chart = _wide(
        _value_chart(("meer", ">200"), ("band", "≈95-105"), ("klein", "<5"), ("x", "onbekend"))
    )
    groups = chart.select("g.chart__bar")
    assert len(groups) == 4
    # > 200: a bar to the bound, then a fade and an arrow beyond it.
    assert groups[0].select_one("rect.chart__open")["fill"] == "url(#c-wide-fade)"
    assert groups[0].select_one(".chart__open-arrow")["marker-end"] == "url(#c-wide-arrow)"
    assert "> 200" in groups[0].get_text()
    # ≈ 95–105: whiskers from 95 to 105, nothing open-ended.
    assert groups[1].select_one(".chart__range") is not None
    assert groups[1].select_one(".chart__open") is None
    # < 5: a dashed outline only; unknown: no shape at all, only its words.
    assert groups[2].select_one("rect.chart__at-most")["fill"] == "none"
    assert groups[3].select("rect") == [] and "onbekend" in groups[3].get_text()
    # Texts are escaped, the chart is named by its title and description.
    assert "&lt;Titel&gt;" in _value_chart(("a", "1")) and "a &amp; b" in _value_chart(("a", "1"))
    assert chart["role"] == "img" and chart["aria-labelledby"] == "c-title c-desc"


def test_bars_are_to_scale_and_a_funnel_is_centred() -> None:
    chart = _wide(_value_chart(("a", "300"), ("b", "150")))
    widths = [float(r["width"]) for r in chart.select("rect")]
    assert widths[0] == pytest.approx(2 * widths[1])
    funnel = _wide(_value_chart(("a", "300"), ("b", "150"), centred=True))
    rects = funnel.select("rect")
    middles = [float(r["x"]) + float(r["width"]) / 2 for r in rects]
    assert middles[0] == pytest.approx(middles[1]) == pytest.approx(400)


def test_a_series_joins_its_years_and_marks_missing_years() -> None:
    from app.charts import Point, line_chart
    from app.monitor.values import parse_value

    svg = str(
        line_chart(
            [Point(2016, parse_value("285"), "285"), Point(2019, parse_value(">170"), "> 170")],
            chart_id="s",
            title="t",
            description="d",
        )  # fmt: skip
    )
    chart = _wide(svg)
    assert len(chart.select("circle")) == 2
    assert chart.select_one("polyline")["stroke-dasharray"]  # not all exact: dashed
    assert len(chart.select(".chart__tick")) == 2  # 2017 and 2018 have no figure
    assert chart.select_one(".chart__open-arrow") is not None


@pytest.mark.parametrize("variant", ["wide", "narrow"])
def test_a_bars_value_stands_clear_of_its_bar_and_inside_the_drawing(variant: str) -> None:
    # As the victims' edition: one long estimate ("naar schatting 1.300" at 375 px was drawn
    # over the end of its bar), and a range beside a short value.
    from app.charts import CHAR_WIDTH

    for bars in (
        [("minderjarig", "naar schatting 1300")],
        [("a", "naar schatting tussen de 5.000 en 7.500"), ("b", "12")],
        [("a", ">200"), ("b", "≈95-105")],
    ):
        svg = BeautifulSoup(_value_chart(*bars), "html.parser").select_one(f"svg.chart--{variant}")
        assert svg is not None
        width = float(svg["viewbox"].split()[2]) - 2
        for group in svg.select("g.chart__bar"):
            total = group.select_one("text.chart__total")
            assert total is not None and total.get("text-anchor") is None
            x, y = float(total["x"]), float(total["y"])
            assert x + len(total.get_text()) * CHAR_WIDTH <= width, (bars, variant)
            rects = group.select("rect")
            right = max(float(r["x"]) + float(r["width"]) for r in rects)
            bottom = max(float(r["y"]) + float(r["height"]) for r in rects)
            assert x >= right + 8 or y - 12 > bottom, (bars, variant, total)
