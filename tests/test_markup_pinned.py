"""The exact markup of a chart and of an explanation's diff, pinned: they are written by hand
(f-strings with escape(), for speed), so a change to their bytes must be meant. The strings
were made by the Markup.format versions these replaced."""

from __future__ import annotations

from app.activities.diff import explanation_diff
from app.activities.models import Status
from app.charts import Bar, stacked_bars

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
