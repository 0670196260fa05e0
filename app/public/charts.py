"""The public summary's two charts: per action line its activities per status, and where the
activities of the previous report stand now. Drawn by app/charts.py (the board's bars too),
where the rules for their legibility are: every segment labelled with its symbol and number,
never colour alone; the page puts the same numbers in a table beside each chart.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup

from app.activities.models import STATUS_ORDER, Status
from app.activities.presentation import STATUS_STYLES
from app.charts import Bar, stacked_bars
from app.compare.service import Comparison
from app.i18n import gettext
from app.readmodel import Board

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
