"""Charts as SVG, drawn on the server: no chart library and no script in the browser.

One kind of chart serves the public site: horizontal stacked bars, one per row (an action line,
or the activities that had one status in the previous report), each segment a status in the
legend's colour. Nothing depends on colour alone: every segment wide enough carries the
status's symbol and its number, segments are separated by white lines, the total is printed at
the end of each bar, the SVG has a title and a description with every number, and the page
puts the same numbers in a table beside it.

All text is escaped by markupsafe; numbers are formatted here, never taken as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from app.activities.models import STATUS_ORDER, Status
from app.activities.presentation import STATUS_STYLES
from app.compare.service import Comparison
from app.i18n import gettext
from app.readmodel import Board

WIDTH = 800
LABEL_HEIGHT = 20  # the row's label above its bar
BAR_HEIGHT = 28
ROW_GAP = 14
TOTAL_ROOM = 56  # space after the longest bar for its total
FONT_SIZE = 14
# Roughly the width of one character at FONT_SIZE, to decide whether a segment's text fits.
CHAR_WIDTH = 8.5
NO_STATUS_COLOUR = "#ffffff"


@dataclass(frozen=True)
class Bar:
    label: str
    segments: Sequence[tuple[Status | None, int]]  # in legend order; zero counts are skipped

    @property
    def total(self) -> int:
        return sum(count for _, count in self.segments)


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def stacked_bars(
    bars: Sequence[Bar],
    *,
    chart_id: str,
    title: str,
    description: str,
) -> Markup:
    """The bars as one SVG, its title and description named by aria-labelledby."""
    longest = max((bar.total for bar in bars), default=0) or 1
    scale = (WIDTH - TOTAL_ROOM) / longest
    row_height = LABEL_HEIGHT + BAR_HEIGHT + ROW_GAP
    height = max(len(bars) * row_height, row_height)
    parts = [
        Markup(
            '<svg class="chart" id="{id}" xmlns="http://www.w3.org/2000/svg" '
            'viewBox="0 0 {width} {height}" width="100%" role="img" '
            'aria-labelledby="{id}-title {id}-desc" font-size="{font}">'
            '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>'
        ).format(
            id=chart_id,
            width=WIDTH,
            height=height,
            font=FONT_SIZE,
            title=title,
            desc=description,
        )
    ]
    for index, bar in enumerate(bars):
        top = index * row_height
        parts.append(
            Markup('<text class="chart__label" x="0" y="{y}">{label}</text>').format(
                y=_number(top + LABEL_HEIGHT - 6), label=bar.label
            )
        )
        bar_top = top + LABEL_HEIGHT
        x = 0.0
        for status, count in bar.segments:
            if not count:
                continue
            width = count * scale
            style = STATUS_STYLES.get(status) if status else None
            parts.append(
                Markup(
                    '<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{fill}" '
                    'stroke="#ffffff" stroke-width="1.5"></rect>'
                ).format(
                    x=_number(x),
                    y=_number(bar_top),
                    w=_number(width),
                    h=BAR_HEIGHT,
                    fill=style.colour if style else NO_STATUS_COLOUR,
                )
            )
            # The symbol and number where they fit, else the number alone, else nothing (the
            # table beside the chart has every number).
            label = next(
                (
                    text
                    for text in (f"{style.symbol if style else '?'} {count}", str(count))
                    if width >= len(text) * CHAR_WIDTH + 6
                ),
                None,
            )
            if label:
                parts.append(
                    Markup(
                        '<text x="{x}" y="{y}" text-anchor="middle" fill="{ink}">{text}</text>'
                    ).format(
                        x=_number(x + width / 2),
                        y=_number(bar_top + BAR_HEIGHT / 2 + FONT_SIZE / 2 - 2),
                        ink=style.ink if style else "#000000",
                        text=label,
                    )
                )
            x += width
        parts.append(
            Markup(
                '<text class="chart__total" x="{x}" y="{y}" font-weight="bold">{total}</text>'
            ).format(
                x=_number(x + 8),
                y=_number(bar_top + BAR_HEIGHT / 2 + FONT_SIZE / 2 - 2),
                total=bar.total,
            )
        )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


# -- the two charts of a report's summary ---------------------------------------------------------


def _status_label(status: Status | None) -> str:
    return gettext(STATUS_STYLES[status].label) if status else gettext("No status")


def _numbers(segments: Sequence[tuple[Status | None, int]]) -> str:
    return ", ".join(f"{count} {_status_label(status)}" for status, count in segments if count)


def action_lines_chart(board: Board) -> Markup:
    """Per action line, its activities per status."""
    # (gettext outside the f-strings: the message extractor does not look inside them.)
    action_line = gettext("Action line")
    bars = [
        Bar(
            f"{action_line} {line.number}: {line.title}",
            [(status, line.counts.counts.get(status, 0)) for status in STATUS_ORDER],
        )
        for line in board.action_lines
    ]
    description = "; ".join(
        gettext("%(label)s (total %(total)d): %(numbers)s")
        % {"label": bar.label, "total": bar.total, "numbers": _numbers(bar.segments)}
        for bar in bars
    )
    return stacked_bars(
        bars,
        chart_id="chart-action-lines",
        title=gettext("Activities per status, per action line"),
        description=description,
    )


Transition = tuple[Status | None, int, list[tuple[Status | None, int]]]


def transition_rows(comparison: Comparison) -> list[Transition]:
    """Per status in the earlier period (legend order, then "no status"), how many activities
    had it and what their status is now: [(before, total, [(after, count), ...]), ...]."""
    matrix = comparison.matrix
    statuses: tuple[Status | None, ...] = (*STATUS_ORDER, None)
    return [
        (
            before,
            matrix.row_total(before),
            [(after, matrix.count(before, after)) for after in statuses],
        )
        for before in statuses
        if matrix.row_total(before)
    ]


def transitions_chart(comparison: Comparison) -> Markup:
    """Where the activities of the earlier period stand now: one bar per earlier status."""
    bars = [
        Bar(
            gettext("Previously ‘%(status)s’ (%(num)d)")
            % {"status": _status_label(before), "num": total},
            after,
        )
        for before, total, after in transition_rows(comparison)
    ]
    description = "; ".join(
        gettext("%(label)s, now: %(numbers)s")
        % {"label": bar.label, "numbers": _numbers(bar.segments)}
        for bar in bars
    )
    return stacked_bars(
        bars,
        chart_id="chart-transitions",
        title=gettext("Current status of the activities, by their status in %(period)s")
        % {"period": comparison.earlier.name},
        description=description,
    )
