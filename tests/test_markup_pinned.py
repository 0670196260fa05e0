"""The exact markup of a chart, of an explanation's diff and of an activity table's rows,
pinned: they are written by hand (f-strings with escape(), for speed), so a change to their
bytes must be meant. The strings were made by the versions these replaced (Markup.format; for
the rows, the Jinja macro activity_row of templates/board/_activity_table.html)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from markupsafe import Markup

from app.activities.diff import explanation_diff
from app.activities.models import Status, UpdateSource
from app.activity_table import ColumnLabels, RowText
from app.charts import Bar, stacked_bars
from app.readmodel import ActivityRow, OrganisationRef

CHART = (
    '<svg class="chart chart--wide" id="bar-1" xmlns="http://www.w3.org/2000/svg" viewBox="-1 -1 802 76" width="100%" role="img" aria-labelledby="bar-1-title bar-1-desc" font-size="14">'
    '<title id="bar-1-title">T &lt;&amp;&gt;</title>'
    '<desc id="bar-1-desc">30 done &amp; 1 late</desc>'
    '<g class="chart__bar">'
    '<text class="chart__label" x="0" y="14">Line &lt;1&gt; &amp; &#34;x&#34;</text>'
    '<rect x="0" y="20" width="683.6" height="28" fill="#39870c" stroke="#ffffff" stroke-width="1.5">'
    "</rect>"
    '<text x="341.8" y="39" text-anchor="middle" fill="#ffffff">✔ 30</text>'
    '<rect x="683.6" y="20" width="22.8" height="28" fill="#ffb612" stroke="#ffffff" stroke-width="1.5">'
    "</rect>"
    '<rect x="706.4" y="20" width="45.6" height="28" fill="#ffffff" stroke="#ffffff" stroke-width="1.5">'
    "</rect>"
    '<text x="729.2" y="39" text-anchor="middle" fill="#000000">? 2</text>'
    '<rect class="chart__outline" x="0" y="20" width="752" height="28" fill="none" stroke="#333333" stroke-width="1">'
    "</rect>"
    '<text class="chart__total" x="760" y="39" font-weight="bold">33</text>'
    '<line class="chart__pointer" x1="695" y1="48" x2="695" y2="56" stroke="#333333" stroke-width="1">'
    "</line>"
    '<text class="chart__outside" x="695" y="71" text-anchor="middle">⚠ 1</text>'
    "</g>"
    "</svg>"
    '<svg class="chart chart--narrow" id="bar-1-narrow" xmlns="http://www.w3.org/2000/svg" viewBox="-1 -1 342 76" width="100%" role="img" aria-labelledby="bar-1-narrow-title bar-1-narrow-desc" font-size="14">'
    '<title id="bar-1-narrow-title">T &lt;&amp;&gt;</title>'
    '<desc id="bar-1-narrow-desc">30 done &amp; 1 late</desc>'
    '<g class="chart__bar">'
    '<text class="chart__label" x="0" y="14">Line &lt;1&gt; &amp; &#34;x&#34;</text>'
    '<rect x="0" y="20" width="265.5" height="28" fill="#39870c" stroke="#ffffff" stroke-width="1.5">'
    "</rect>"
    '<text x="132.7" y="39" text-anchor="middle" fill="#ffffff">✔ 30</text>'
    '<rect x="265.5" y="20" width="8.8" height="28" fill="#ffb612" stroke="#ffffff" stroke-width="1.5">'
    "</rect>"
    '<rect x="274.3" y="20" width="17.7" height="28" fill="#ffffff" stroke="#ffffff" stroke-width="1.5">'
    "</rect>"
    '<rect class="chart__outline" x="0" y="20" width="292" height="28" fill="none" stroke="#333333" stroke-width="1">'
    "</rect>"
    '<text class="chart__total" x="300" y="39" font-weight="bold">33</text>'
    '<line class="chart__pointer" x1="269.9" y1="48" x2="269.9" y2="56" stroke="#333333" stroke-width="1">'
    "</line>"
    '<text class="chart__outside" x="269.9" y="71" text-anchor="middle">⚠ 1</text>'
    '<line class="chart__pointer" x1="283.2" y1="48" x2="301.4" y2="56" stroke="#333333" stroke-width="1">'
    "</line>"
    '<text class="chart__outside" x="301.4" y="71" text-anchor="middle">? 2</text>'
    "</g>"
    "</svg>"
)


def test_a_chart_is_the_markup_it_always_was() -> None:
    bars = [Bar('Line <1> & "x"', [(Status.completed, 30), (Status.delayed, 1), (None, 2)])]
    chart = stacked_bars(bars, chart_id="bar-1", title="T <&>", description="30 done & 1 late")
    assert str(chart) == CHART


def test_a_diff_is_the_markup_it_always_was() -> None:
    diff = explanation_diff("Old <b> text & more", "New <b> text, & more")
    assert (
        str(diff)
        == "<del>Old</del><ins>New</ins> &lt;b&gt; <del>text</del><ins>text,</ins> &amp; more"
    )


# Every text of a row is hostile: each must come out escaped, once.
ROW_WITH_EVERYTHING = (
    '<tr class="utrecht-table__row" id="activity-7">\n'
    '<td class="utrecht-table__cell" data-label="Result &lt;&amp;&gt;">3. Result &lt;3&gt; &amp; co</td>  <td class="utrecht-table__cell" data-label="No. &lt;&amp;&gt;">2&lt;b&gt;</td>\n'
    '  <td class="utrecht-table__cell" data-label="Activity &lt;&amp;&gt;">'
    '<a class="nl-link" href="/activities/7">&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#39;q&#39;</a>\n'
    '<br><span class="organisations">'
    '<abbr title="Org &#34;A&#34; &lt;lead&gt;">A&amp;B</abbr> <span class="organisations__role">(lead &lt;&amp;&gt;)</span>, <abbr title="Org C">C</abbr>'
    "</span></td>\n"
    '  <td class="utrecht-table__cell" id="activity-7-status" data-label="Status &lt;&amp;&gt;">'
    '<span class="status status--delayed">delayed</span> <span class="derived-note">derived &lt;&amp;&gt;</span>    <a class="nl-link edit-link" href="/activities/7/edit?context=page&amp;period=5&amp;next=%2Fprogrammes%2Fp%2Factivities"\n'
    '       hx-get="/activities/7/edit?context=row&amp;period=5" hx-target="#activity-7" hx-swap="outerHTML">Change &lt;&amp;&gt;<span class="visually-hidden"> status of &lt;&amp;&gt; &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#39;q&#39;</span>'
    "</a>\n</td>\n"
    '  <td class="utrecht-table__cell explanation" data-label="Explanation &lt;&amp;&gt;">Why: &lt;i&gt;late&lt;/i&gt; &amp; &#39;so&#39; &#34;on&#34;</td>\n'
    "</tr>"
)

ROW_SHORT_PROPOSAL = (
    '<tr class="utrecht-table__row" id="activity-7">\n'
    '  <td class="utrecht-table__cell" data-label="No. &lt;&amp;&gt;"></td>\n'
    '  <td class="utrecht-table__cell" data-label="Activity &lt;&amp;&gt;">'
    '<a class="nl-link" href="/activities/7">&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#39;q&#39;</a>\n'
    "</td>\n"
    '  <td class="utrecht-table__cell" id="activity-7-status" data-label="Status &lt;&amp;&gt;">'
    '<span class="status status--none">none</span> <span class="round-note">proposal &lt;&amp;&gt;</span>'
    "</td>\n"
    '  <td class="utrecht-table__cell explanation" data-label="Explanation &lt;&amp;&gt;">'
    "</td>\n</tr>"
)

ROW_NOT_UPDATED = (
    '<tr class="utrecht-table__row" id="activity-7">\n'
    '<td class="utrecht-table__cell" data-label="Result &lt;&amp;&gt;">3. Result &lt;3&gt; &amp; co</td>  <td class="utrecht-table__cell" data-label="No. &lt;&amp;&gt;">2&lt;b&gt;</td>\n'
    '  <td class="utrecht-table__cell" data-label="Activity &lt;&amp;&gt;">'
    '<a class="nl-link" href="/activities/7">&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#39;q&#39;</a>\n'
    '<br><span class="organisations">'
    '<abbr title="Org &#34;A&#34; &lt;lead&gt;">A&amp;B</abbr> <span class="organisations__role">(lead &lt;&amp;&gt;)</span>, <abbr title="Org C">C</abbr>'
    "</span></td>\n"
    '  <td class="utrecht-table__cell" id="activity-7-status" data-label="Status &lt;&amp;&gt;">'
    '<span class="status status--delayed">delayed</span> <span class="round-note">not updated &lt;&amp;&gt;</span>'
    "</td>\n"
    '  <td class="utrecht-table__cell explanation" data-label="Explanation &lt;&amp;&gt;">Why: &lt;i&gt;late&lt;/i&gt; &amp; &#39;so&#39; &#34;on&#34;</td>\n'
    "</tr>"
)

HOSTILE = "<script>alert(\"x\")</script> & 'q'"


def _row(**changes: Any) -> ActivityRow:
    fields: dict[str, Any] = {
        "id": 7,
        "action_line_number": 1,
        "action_line_title": "L",
        "theme_id": 1,
        "theme_title": "T",
        "result_number": 3,
        "result_title": "Result <3> & co",
        "result_note": "",
        "label": "2<b>",
        "title": HOSTILE,
        "status": Status.delayed,
        "explanation": "Why: <i>late</i> & 'so' \"on\"",
        "version": 2,
        "source": UpdateSource.derived,
        "updated_at": datetime(2030, 1, 1),
        "approved_version": 2,
        "organisations": [
            OrganisationRef(1, "A&B", 'Org "A" <lead>', "lead"),
            OrganisationRef(2, "C", "Org C", "involved"),
        ],
    }
    return ActivityRow(**(fields | changes))


def _text(*, may_change: bool) -> RowText:
    badges: dict[Status | None, Markup] = {
        status: Markup(f'<span class="status status--{status.value}">{status.value}</span>')
        for status in Status
    }
    badges[None] = Markup('<span class="status status--none">none</span>')
    return RowText(
        badges=badges,
        lead="lead <&>",
        derived="derived <&>",
        not_updated="not updated <&>",
        proposal="proposal <&>",
        change="Change <&>",
        status_of="status of <&>",
        here="%2Fprogrammes%2Fp%2Factivities",
        column=ColumnLabels(
            result="Result <&>",
            number="No. <&>",
            activity="Activity <&>",
            status="Status <&>",
            explanation="Explanation <&>",
        ),
        period_id=5,
        round_notes=True,
        correcting=False,
        allows=lambda organisation_ids: may_change,
    )


def test_an_activity_row_is_the_markup_it_always_was() -> None:
    assert str(_text(may_change=True).row(_row(), True, "/activities/")) == ROW_WITH_EVERYTHING
    short = _row(
        source=UpdateSource.entered,
        version=3,
        organisations=[],
        status=None,
        label=None,
        explanation="",
    )
    assert str(_text(may_change=False).row(short, False, "/activities/")) == ROW_SHORT_PROPOSAL
    carried = _row(source=UpdateSource.carried_over)
    assert str(_text(may_change=False).row(carried, True, "/activities/")) == ROW_NOT_UPDATED


def test_a_table_s_rows_are_each_on_a_line_of_their_own() -> None:
    """Rows that share a result, a number and organisations (made once per table) are each
    the markup the row alone is."""
    rows = [_row(), _row(id=8), _row(id=9, result_number=4, label=None, organisations=[])]
    html = str(_text(may_change=True).rows(rows, True, "/activities/"))
    alone = [str(_text(may_change=True).row(row, True, "/activities/")) for row in rows]
    assert html == "".join(f"    {row}\n" for row in alone)
    assert html.count("<script>") == 0 and html.count("&lt;script&gt;") == 6
