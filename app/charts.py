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
from app.monitor.values import QualifiedValue, Qualifier

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


# -- key figures (the monitor): values that may be ranges or bounds ------------------------------
#
# A key figure is not always one number: "≈ 95–105" is a range, "> 200" a lower bound,
# "< 5" an upper bound, "onbekend" no number at all. Each is drawn as what it is: a range as a
# solid bar up to its lower number, then a pale band with whiskers to its higher number; a
# lower bound as a bar up to the bound that fades out beyond it and ends in an arrow (there is
# more, how much is not known); an upper bound as a dashed, unfilled outline up to the bound; a
# value without a number as no bar, only its words. The printed value (format_value) is
# written after every bar, so no reading depends on the drawing.

VALUE_COLOUR = "#154273"  # the Rijkshuisstijl's dark blue
BAND_COLOUR = "#8fb8de"
VALUE_INK = "#ffffff"
OPEN_END = 0.25  # how far beyond the longest bar a lower bound's fade reaches (of the scale)
VALUE_ROOM = 130  # space after a bar for its printed value, at least
VALUE_GAP = 10  # between a bar's end and its printed value


@dataclass(frozen=True)
class ValueBar:
    label: str  # printed above the bar
    value: QualifiedValue
    printed: str  # format_value of the value, written after the bar


def _value_extent(value: QualifiedValue) -> float:
    """The largest number the drawing of a value reaches (a lower bound's fade excluded)."""
    return max((b for b in (value.low, value.high) if b is not None), default=0.0)


def _defs(chart_id: str) -> Markup:
    """The fade of a lower bound's open end and the arrow at its end."""
    return Markup(
        "<defs>"
        '<linearGradient id="{id}-fade" x1="0" x2="1" y1="0" y2="0">'
        '<stop offset="0" stop-color="{colour}" stop-opacity="0.6"></stop>'
        '<stop offset="1" stop-color="{colour}" stop-opacity="0"></stop></linearGradient>'
        '<linearGradient id="{id}-fade-left" x1="1" x2="0" y1="0" y2="0">'
        '<stop offset="0" stop-color="{colour}" stop-opacity="0.6"></stop>'
        '<stop offset="1" stop-color="{colour}" stop-opacity="0"></stop></linearGradient>'
        '<marker id="{id}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="{outline}"></path></marker>'
        "</defs>"
    ).format(id=chart_id, colour=VALUE_COLOUR, outline=OUTLINE)


def _value_shapes(
    value: QualifiedValue,
    *,
    top: float,
    scale: float,
    left: float,
    centred: bool,
    reach: float,
    chart_id: str,
) -> tuple[list[Markup], float]:
    """The shapes of one value's bar, and the x where its printed value may start. `left` is
    the bar's zero; a centred bar (a funnel's step) grows both ways from `left`, its middle."""

    def spans(a: float, b: float) -> list[tuple[float, float]]:
        # The x ranges of the values a..b: one to the right, or mirrored around the middle.
        if not centred:
            return [(left + a * scale, left + b * scale)]
        half = scale / 2
        if a == 0:  # one bar across the middle
            return [(left - b * half, left + b * half)]
        return [(left - b * half, left - a * half), (left + a * half, left + b * half)]

    def rect(x1: float, x2: float, **attributes: str) -> Markup:
        extra = Markup("").join(
            Markup(' {k}="{v}"').format(k=k.rstrip("_").replace("_", "-"), v=v)
            for k, v in attributes.items()
        )
        return Markup('<rect x="{x}" y="{y}" width="{w}" height="{h}"{extra}></rect>').format(
            x=_number(x1), y=_number(top), w=_number(max(x2 - x1, 0)), h=BAR_HEIGHT, extra=extra
        )

    shapes: list[Markup] = []
    middle = top + BAR_HEIGHT / 2
    q = value.qualifier
    end = left
    if q in (Qualifier.exact, Qualifier.range, Qualifier.at_least):
        assert value.low is not None
        for x1, x2 in spans(0, value.low):
            shapes.append(rect(x1, x2, fill=VALUE_COLOUR, stroke=OUTLINE, stroke_width="1"))
            end = max(end, x2)
    if q == Qualifier.range:
        assert value.low is not None and value.high is not None
        for x1, x2 in spans(value.low, value.high):
            shapes.append(
                rect(x1, x2, fill=BAND_COLOUR, stroke=OUTLINE, stroke_width="1",
                     stroke_dasharray="3 2")
            )  # fmt: skip
            # Whiskers: the range's two ends and the line between them.
            shapes.append(
                Markup(
                    '<path class="chart__range" d="M{a},{t} V{b} M{a},{m} H{c} M{c},{t} V{b}" '
                    'stroke="{outline}" stroke-width="2" fill="none"></path>'
                ).format(
                    a=_number(x1),
                    c=_number(x2),
                    t=_number(top - 4),
                    b=_number(top + BAR_HEIGHT + 4),
                    m=_number(middle),
                    outline=OUTLINE,
                )  # fmt: skip
            )
            end = max(end, x2)
    if q == Qualifier.at_least:
        assert value.low is not None
        # Open-ended: a fade beyond the bound and an arrow pointing on.
        for index, (x1, x2) in enumerate(spans(value.low, value.low + reach)):
            rightwards = not centred or index == 1
            fade = f"{chart_id}-fade" if rightwards else f"{chart_id}-fade-left"
            shapes.append(rect(x1, x2, fill=f"url(#{fade})", class_="chart__open"))
            start, stop = (x1, x2) if rightwards else (x2, x1)
            shapes.append(
                Markup(
                    '<line class="chart__open-arrow" x1="{a}" y1="{m}" x2="{b}" y2="{m}" '
                    'stroke="{outline}" stroke-width="2" stroke-dasharray="4 3" '
                    'marker-end="url(#{id}-arrow)"></line>'
                ).format(
                    a=_number(start),
                    b=_number(stop),
                    m=_number(middle),
                    outline=OUTLINE,
                    id=chart_id,
                )  # fmt: skip
            )
            end = max(end, x2)
    if q == Qualifier.at_most:
        assert value.high is not None
        for x1, x2 in spans(0, value.high):
            shapes.append(
                rect(x1, x2, fill="none", stroke=VALUE_COLOUR, stroke_width="2",
                     stroke_dasharray="6 3", class_="chart__at-most")
            )  # fmt: skip
            end = max(end, x2)
    return shapes, end


def _value_bars_svg(
    bars: Sequence[ValueBar],
    *,
    width: int,
    chart_id: str,
    variant: str,
    title: str,
    description: str,
    centred: bool,
) -> Markup:
    longest = max((_value_extent(bar.value) for bar in bars), default=0.0) or 1.0
    open_ended = any(bar.value.qualifier == Qualifier.at_least for bar in bars)
    # Room after the longest bar for the longest printed value, but the bars keep at least
    # half the drawing; a value that does not fit after its bar goes under it.
    widest = max((_text_width(bar.printed) for bar in bars), default=0.0)
    room = min(max(VALUE_ROOM, widest + VALUE_GAP + 2), width / 2) if not centred else 0
    # The open end of a lower bound reaches OPEN_END of the longest bar beyond its bound.
    scale = (width - room) / (longest * (1 + (OPEN_END if open_ended else 0)))
    reach = longest * OPEN_END
    rows = []
    y = 0.0
    for bar in bars:
        parts: list[Markup] = []
        for line in textwrap.wrap(bar.label, int(width // CHAR_WIDTH)) or [""]:
            y += LINE_HEIGHT
            parts.append(
                Markup('<text class="chart__label" x="{x}" y="{y}"{anchor}>{text}</text>').format(
                    x=_number(width / 2 if centred else 0),
                    y=_number(y - 4),
                    anchor=Markup(' text-anchor="middle"') if centred else "",
                    text=line,
                )
            )
        y += 6
        top = y
        shapes, end = _value_shapes(
            bar.value,
            top=top,
            scale=scale,
            left=width / 2 if centred else 0,
            centred=centred,
            reach=reach,
            chart_id=f"{chart_id}-{variant}",
        )
        parts.extend(shapes)
        text_y = _number(top + BAR_HEIGHT / 2 + FONT_SIZE / 2 - 2)
        if centred and not bar.value.has_number:
            # No number, no bar: its words where the bar would be.
            parts.append(
                Markup(
                    '<text class="chart__total" x="{x}" y="{y}" text-anchor="middle" '
                    'font-weight="bold">{text}</text>'
                ).format(x=_number(width / 2), y=text_y, text=bar.printed)
            )
            y = top + BAR_HEIGHT
        elif centred:
            # A funnel's step: its value under the bar, in the middle.
            y = top + BAR_HEIGHT + FONT_SIZE + 6
            parts.append(
                Markup(
                    '<text class="chart__total" x="{x}" y="{y}" text-anchor="middle" '
                    'font-weight="bold">{text}</text>'
                ).format(x=_number(width / 2), y=_number(y - 2), text=bar.printed)
            )
        else:
            x = end + VALUE_GAP
            y = top + BAR_HEIGHT
            if x + _text_width(bar.printed) > width:
                # Not room after the bar: under it, from the bar's start, never on the bar.
                x = 0
                y = top + BAR_HEIGHT + FONT_SIZE + 6
                text_y = _number(y - 2)
            parts.append(
                Markup(
                    '<text class="chart__total" x="{x}" y="{y}" font-weight="bold">{text}</text>'
                ).format(x=_number(x), y=text_y, text=bar.printed)
            )
        y += ROW_GAP
        rows.append(
            Markup('<g class="chart__bar">{parts}</g>').format(parts=Markup("").join(parts))
        )
    height = max(y - ROW_GAP + 6, BAR_HEIGHT + 2)
    return Markup(
        '<svg class="chart chart--{variant}" id="{id}" xmlns="http://www.w3.org/2000/svg" '
        'viewBox="-1 -1 {width} {height}" width="100%" role="img" '
        'aria-labelledby="{id}-title {id}-desc" font-size="{font}">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>'
        "{defs}{rows}</svg>"
    ).format(
        variant=variant,
        id=chart_id if variant == "wide" else f"{chart_id}-narrow",
        width=width + 2,
        height=_number(height),
        font=FONT_SIZE,
        title=title,
        desc=description,
        defs=_defs(f"{chart_id}-{variant}"),
        rows=Markup("").join(rows),
    )


def value_bars(
    bars: Sequence[ValueBar],
    *,
    chart_id: str,
    title: str,
    description: str,
    centred: bool = False,
) -> Markup:
    """Key figures as horizontal bars (a breakdown's parts), or, `centred`, as a funnel (a
    chain's steps, each bar centred under the one before): wide and narrow, as stacked_bars."""
    return Markup("").join(
        _value_bars_svg(
            bars,
            width=width,
            chart_id=chart_id,
            variant=variant,
            title=title,
            description=description,
            centred=centred,
        )  # fmt: skip
        for variant, width in (("wide", WIDE), ("narrow", NARROW))
    )


@dataclass(frozen=True)
class Point:
    year: int
    value: QualifiedValue
    printed: str


PLOT_HEIGHT = 180
AXIS_ROOM = 28  # under the plot, for the years


def _line_svg(
    points: Sequence[Point],
    *,
    width: int,
    chart_id: str,
    variant: str,
    title: str,
    description: str,
) -> Markup:
    years = sorted({p.year for p in points})
    first, last = years[0], years[-1]
    margin = 60  # room left and right for a point's printed value
    top_room = 26  # above the highest point, for its value
    extents = [_value_extent(p.value) for p in points]
    highest = max(extents, default=0.0) or 1.0
    open_ended = any(p.value.qualifier == Qualifier.at_least for p in points)
    highest *= 1 + (OPEN_END if open_ended else 0)
    plot_width = width - 2 * margin

    def x_of(year: int) -> float:
        return margin + (plot_width * (year - first) / (last - first) if last > first else 0)

    def y_of(amount: float) -> float:
        return top_room + PLOT_HEIGHT * (1 - amount / highest)

    parts: list[Markup] = []
    base = y_of(0)
    parts.append(
        Markup(
            '<line class="chart__axis" x1="{a}" y1="{y}" x2="{b}" y2="{y}" stroke="{o}" '
            'stroke-width="1"></line>'
        ).format(a=_number(margin / 2), b=_number(width - margin / 2), y=_number(base), o=OUTLINE)
    )
    for year in range(first, last + 1):
        if year not in years:  # a year without a figure: a tick, no label
            parts.append(
                Markup(
                    '<line class="chart__tick" x1="{x}" y1="{a}" x2="{x}" y2="{b}" '
                    'stroke="{o}" stroke-width="1"></line>'
                ).format(x=_number(x_of(year)), a=_number(base), b=_number(base + 5), o=OUTLINE)
            )
    for year in years:
        parts.append(
            Markup(
                '<text class="chart__label" x="{x}" y="{y}" text-anchor="middle">{year}</text>'
            ).format(x=_number(x_of(year)), y=_number(base + 20), year=year)
        )
    # The line joins the points that have a number (a bound or range at its lower number,
    # dashed: it is no measured course between the years).
    located = [
        (p, x_of(p.year), y_of(p.value.low if p.value.low is not None else p.value.high or 0))
        for p in points
        if p.value.has_number
    ]
    if len(located) >= 2:
        exact = all(p.value.qualifier == Qualifier.exact for p, _, _ in located)
        parts.append(
            Markup(
                '<polyline class="chart__line" points="{points}" fill="none" stroke="{c}" '
                'stroke-width="2.5"{dash}></polyline>'
            ).format(
                points=" ".join(f"{_number(x)},{_number(y)}" for _, x, y in located),
                c=VALUE_COLOUR,
                dash=Markup("") if exact else Markup(' stroke-dasharray="6 4"'),
            )
        )
    marker_id = f"{chart_id}-{variant}"
    for point in points:
        x = x_of(point.year)
        value = point.value
        label_y = base - 6
        if value.qualifier == Qualifier.range:
            assert value.low is not None and value.high is not None
            y_low, y_high = y_of(value.low), y_of(value.high)
            parts.append(
                Markup(
                    '<rect class="chart__band" x="{x}" y="{y}" width="12" height="{h}" '
                    'fill="{band}" stroke="{o}" stroke-dasharray="3 2"></rect>'
                    '<path class="chart__range" d="M{a},{t} H{b} M{x0},{t} V{u} M{a},{u} H{b}" '
                    'stroke="{o}" stroke-width="2" fill="none"></path>'
                ).format(
                    x=_number(x - 6),
                    y=_number(y_high),
                    h=_number(y_low - y_high),
                    band=BAND_COLOUR,
                    o=OUTLINE,
                    a=_number(x - 8),
                    b=_number(x + 8),
                    x0=_number(x),
                    t=_number(y_high),
                    u=_number(y_low),
                )  # fmt: skip
            )
            label_y = y_high - 8
        elif value.qualifier == Qualifier.at_least:
            assert value.low is not None
            y_low = y_of(value.low)
            reach = y_of(value.low + highest * OPEN_END / (1 + OPEN_END))
            parts.append(
                Markup(
                    '<line class="chart__open-arrow" x1="{x}" y1="{a}" x2="{x}" y2="{b}" '
                    'stroke="{o}" stroke-width="2" stroke-dasharray="4 3" '
                    'marker-end="url(#{id}-arrow)"></line>'
                ).format(x=_number(x), a=_number(y_low), b=_number(reach), o=OUTLINE, id=marker_id)
            )
            label_y = reach - 8
        elif value.qualifier == Qualifier.at_most:
            assert value.high is not None
            y_high = y_of(value.high)
            parts.append(
                Markup(
                    '<line class="chart__open-arrow" x1="{x}" y1="{a}" x2="{x}" y2="{b}" '
                    'stroke="{o}" stroke-width="2" stroke-dasharray="4 3" '
                    'marker-end="url(#{id}-arrow)"></line>'
                ).format(x=_number(x), a=_number(y_high), b=_number(base), o=OUTLINE, id=marker_id)
            )
            label_y = y_high - 8
        if value.has_number:
            amount = value.low if value.low is not None else value.high
            assert amount is not None
            parts.append(
                Markup(
                    '<circle cx="{x}" cy="{y}" r="5" fill="{c}" stroke="#ffffff" '
                    'stroke-width="1.5"></circle>'
                ).format(x=_number(x), y=_number(y_of(amount)), c=VALUE_COLOUR)
            )
            if value.qualifier == Qualifier.exact:
                label_y = y_of(amount) - 10
        parts.append(
            Markup(
                '<text class="chart__total" x="{x}" y="{y}" text-anchor="middle" '
                'font-weight="bold">{text}</text>'
            ).format(x=_number(x), y=_number(label_y), text=point.printed)
        )
    height = base + AXIS_ROOM
    return Markup(
        '<svg class="chart chart--{variant}" id="{id}" xmlns="http://www.w3.org/2000/svg" '
        'viewBox="0 0 {width} {height}" width="100%" role="img" '
        'aria-labelledby="{id}-title {id}-desc" font-size="{font}">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>'
        "{defs}{parts}</svg>"
    ).format(
        variant=variant,
        id=chart_id if variant == "wide" else f"{chart_id}-narrow",
        width=width,
        height=_number(height),
        font=FONT_SIZE,
        title=title,
        desc=description,
        defs=_defs(marker_id),
        parts=Markup("").join(parts),
    )


def line_chart(points: Sequence[Point], *, chart_id: str, title: str, description: str) -> Markup:
    """A key figure over the years: a point per year (a range as a band with whiskers, a lower
    bound with an arrow upwards), joined by a line; wide and narrow, as stacked_bars."""
    return Markup("").join(
        _line_svg(
            points,
            width=width,
            chart_id=chart_id,
            variant=variant,
            title=title,
            description=description,
        )  # fmt: skip
        for variant, width in (("wide", WIDE), ("narrow", NARROW))
    )
