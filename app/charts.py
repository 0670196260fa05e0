"""Stacked status bars as SVG, drawn on the server: no chart library and no script in the browser.

The board (a bar per action line) and the public summary (a bar per row: an action line, or the
activities that had one status in the previous report) draw their charts here. Each segment is
a status in the legend's colour, and nothing depends on colour alone: every segment carries the
status's symbol and its number, inside the segment where they fit, else just under the bar on a
line that points at the segment (however small it is). Segments are separated by white lines
and the whole bar is outlined, so a pale colour still shows its edge; a bar's total follows it;
the SVG has a title and a description with every number.

A chart is drawn twice, for a wide and for a narrow screen, and the stylesheet shows one of
them (`.chart--wide`, `.chart--narrow`, see static/app.css): one drawing scaled down to a phone
would shrink its text to a few pixels. Text is laid out by an estimate of its width, so that
nothing overlaps at either width.

All text is escaped by markupsafe; numbers are formatted here, never taken as text.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from app.activities.models import Status
from app.activities.presentation import STATUS_STYLES

WIDE = 800
NARROW = 340
FONT_SIZE = 14
# Roughly the width of one character at FONT_SIZE, to decide whether a text fits.
CHAR_WIDTH = 8.5
LINE_HEIGHT = 18  # a line of a bar's label, above the bar
BAR_HEIGHT = 28
ROW_GAP = 14
TOTAL_ROOM = 48  # space after the longest bar for its total
LEADER = 10  # the line from a small segment down to its text
LABEL_GAP = 6  # between two texts under a bar
NO_STATUS_COLOUR = "#ffffff"
OUTLINE = "#333333"


@dataclass(frozen=True)
class Bar:
    label: str | None  # printed above the bar; none for a bar its page already names
    segments: Sequence[tuple[Status | None, int]]  # in legend order; zero counts are skipped

    @property
    def total(self) -> int:
        return sum(count for _, count in self.segments)


@dataclass(frozen=True)
class Segment:
    status: Status | None
    x: float
    width: float
    text: str  # the symbol and the number
    inside: bool  # the text fits in the segment

    @property
    def centre(self) -> float:
        return self.x + self.width / 2


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _text_width(text: str) -> float:
    return len(text) * CHAR_WIDTH


def segments(bar: Bar, scale: float) -> list[Segment]:
    """The bar's segments from x = 0, each with its text and whether that fits inside."""
    laid_out = []
    x = 0.0
    for status, count in bar.segments:
        if not count:
            continue
        width = count * scale
        style = STATUS_STYLES.get(status) if status else None
        text = f"{style.symbol if style else '?'} {count}"
        inside = width >= _text_width(text) + 6
        laid_out.append(Segment(status, x, width, text, inside))
        x += width
    return laid_out


def place_below(wanted: Sequence[tuple[float, float]], width: float) -> list[float]:
    """Left edges for texts in one line under a bar, given (centre wanted, text width) in bar
    order: each as near its centre as the others leave room for, none overlapping, all within
    the chart, the order kept (so no two pointing lines cross)."""
    lefts = []
    end = 0.0
    for centre, text_width in wanted:  # push right past the previous text
        left = max(centre - text_width / 2, end)
        lefts.append(left)
        end = left + text_width + LABEL_GAP
    start = width
    for index in range(len(wanted) - 1, -1, -1):  # then back left from the chart's edge
        text_width = wanted[index][1]
        lefts[index] = min(lefts[index], start - text_width)
        start = lefts[index] - LABEL_GAP
    return [max(left, 0.0) for left in lefts]


def _svg(
    bars: Sequence[Bar],
    *,
    width: int,
    chart_id: str,
    variant: str,
    title: str,
    description: str,
    totals: bool,
) -> Markup:
    # Written with plain string formatting: every text is escaped where it goes in (numbers
    # are formatted here and need none). Markup.format would do the same escaping through
    # Python's string.Formatter, which cost most of a board's rendering time.
    longest = max((bar.total for bar in bars), default=0) or 1
    scale = (width - (TOTAL_ROOM if totals else 0)) / longest
    rows = []
    y = 0.0
    for bar in bars:
        parts: list[str] = []
        if bar.label:
            for line in textwrap.wrap(bar.label, int(width // CHAR_WIDTH)) or [""]:
                y += LINE_HEIGHT
                parts.append(
                    f'<text class="chart__label" x="0" y="{_number(y - 4)}">{escape(line)}</text>'
                )
            y += 2
        top = y
        top_text = _number(top)
        middle = _number(top + BAR_HEIGHT / 2 + FONT_SIZE / 2 - 2)
        laid_out = segments(bar, scale)
        for segment in laid_out:
            style = STATUS_STYLES.get(segment.status) if segment.status else None
            fill = escape(style.colour if style else NO_STATUS_COLOUR)
            parts.append(
                f'<rect x="{_number(segment.x)}" y="{top_text}" width="{_number(segment.width)}" '
                f'height="{BAR_HEIGHT}" fill="{fill}" stroke="#ffffff" stroke-width="1.5"></rect>'
            )
            if segment.inside:
                ink = escape(style.ink if style else "#000000")
                parts.append(
                    f'<text x="{_number(segment.centre)}" y="{middle}" text-anchor="middle" '
                    f'fill="{ink}">{escape(segment.text)}</text>'
                )
        bar_width = sum(segment.width for segment in laid_out)
        if laid_out:
            parts.append(
                f'<rect class="chart__outline" x="0" y="{top_text}" width="{_number(bar_width)}" '
                f'height="{BAR_HEIGHT}" fill="none" stroke="{OUTLINE}" stroke-width="1"></rect>'
            )
        if totals:
            parts.append(
                f'<text class="chart__total" x="{_number(bar_width + 8)}" y="{middle}" '
                f'font-weight="bold">{bar.total}</text>'
            )
        y = top + BAR_HEIGHT
        outside = [segment for segment in laid_out if not segment.inside]
        if outside:
            # Under the bar, the texts of the segments too small to hold them, each on a line
            # pointing at its segment.
            lefts = place_below(
                [(segment.centre, _text_width(segment.text)) for segment in outside], width
            )
            for segment, left in zip(outside, lefts, strict=True):
                centre = _number(left + _text_width(segment.text) / 2)
                parts.append(
                    f'<line class="chart__pointer" x1="{_number(segment.centre)}" '
                    f'y1="{_number(y)}" x2="{centre}" y2="{_number(y + LEADER - 2)}" '
                    f'stroke="{OUTLINE}" stroke-width="1"></line>'
                    f'<text class="chart__outside" x="{centre}" '
                    f'y="{_number(y + LEADER + FONT_SIZE - 1)}" text-anchor="middle">'
                    f"{escape(segment.text)}</text>"
                )
            y += LEADER + FONT_SIZE + 2
        y += ROW_GAP
        rows.append('<g class="chart__bar">' + "".join(parts) + "</g>")
    height = max(y - ROW_GAP + 2, BAR_HEIGHT + 2)
    svg_id = escape(chart_id)
    return Markup(
        f'<svg class="chart chart--{escape(variant)}" id="{svg_id}" '
        'xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="-1 -1 {width + 2} {_number(height)}" width="100%" role="img" '
        f'aria-labelledby="{svg_id}-title {svg_id}-desc" font-size="{FONT_SIZE}">'
        f'<title id="{svg_id}-title">{escape(title)}</title>'
        f'<desc id="{svg_id}-desc">{escape(description)}</desc>' + "".join(rows) + "</svg>"
    )


def stacked_bars(
    bars: Sequence[Bar],
    *,
    chart_id: str,
    title: str,
    description: str,
    totals: bool = True,
) -> Markup:
    """The bars as two SVGs, wide (id `chart_id`) and narrow (`chart_id`-narrow), each named
    by its title and description (aria-labelledby)."""
    return Markup("").join(
        _svg(
            bars,
            width=width,
            chart_id=chart_id if variant == "wide" else f"{chart_id}-narrow",
            variant=variant,
            title=title,
            description=description,
            totals=totals,
        )
        for variant, width in (("wide", WIDE), ("narrow", NARROW))
    )
