"""The list filter's options are written out in Python (app/web.py, issue 15): escaped, the
chosen one selected or ticked. The whole form as a page shows it: tests/test_markup_pinned.py."""

from __future__ import annotations

from app.activities.models import STATUS_ORDER, Status
from app.web import select_options, status_filter


def test_select_options_escape_and_select_by_value() -> None:
    html = select_options([("A&B", 'Org "<b>"'), ("C", "Plain")], "A&B")
    assert html == (
        '<option value="A&amp;B" selected>Org &#34;&lt;b&gt;&#34;</option>'
        '<option value="C">Plain</option>'
    )
    assert select_options([(1, "1. Line"), (2, "2. Line")], None).count("selected") == 0
    assert select_options([], "x") == ""


def test_status_filter_ticks_the_chosen_statuses_in_legend_order() -> None:
    html = status_filter((Status.delayed,))
    assert html.count('type="checkbox"') == len(STATUS_ORDER)
    assert 'value="delayed" id="filter-status-delayed" checked>' in html
    assert html.count(" checked") == 1
    assert [status.value for status in STATUS_ORDER] == [
        part.split('"')[0] for part in html.split('name="status" value="')[1:]
    ]
