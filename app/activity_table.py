"""The rows of an activity table as HTML: the board's list and search, an action line's and
a result's tables, and one row again after an edit (templates/board/_activity_table.html has
the table around them).

The hottest markup of the site, so it is written by hand: f-strings with escape() on every
text where it goes in (numbers are formatted here, never taken as text). Everything the rows
of a table share (the column labels, the notes, the link text, the status badges) is escaped
once per table, in `RowText`, and what many rows repeat (an organisation, a list of them, a
result's cell, a number) once per table too. valgrind --tool=callgrind on the real
programme's 128 rows: as a Jinja macro called per row, about 240,000 instructions a row (a
macro call, about 30 attribute look-ups through the environment, 22 escapes each making a
Markup, two calls through the context); written out here, about 56,000, most of it the
escape() of the row's own texts. tests/test_markup_pinned.py holds rows' exact bytes, as the
macro made them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Set
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from app.activities.models import Status, UpdateSource
from app.readmodel import ActivityRow, OrganisationRef


@dataclass(frozen=True)
class ColumnLabels:
    """The column headers, again on each cell, for the table's stacked cards on a phone."""

    result: str
    number: str
    activity: str
    status: str
    explanation: str


@dataclass(frozen=True)
class RowText:
    """What every row of an activity table shares, worked out once per table."""

    badges: dict[Status | None, Markup]  # by the row's status
    lead: str
    derived: str
    not_updated: str
    proposal: str
    change: str
    status_of: str
    here: str  # this page's path, URL-encoded: where the edit form returns to
    column: ColumnLabels
    # The period's round notes show (a period not published) and which one can
    period_id: int | None
    round_notes: bool
    correcting: bool
    # May the user change a row of this period (its change link)? One rule for the table:
    # the decision depends only on the user, the period and the row's organisations.
    allows: Callable[[Set[int]], bool]
    # The markup every row shares, escaped once (made in __post_init__).
    _shared: _Shared = field(init=False, repr=False, compare=False)
    # A row's organisations as the table shows them and whether the user may change it, by
    # its list of organisations: many rows share theirs.
    _by_organisations: dict[tuple[OrganisationRef, ...], tuple[str, bool]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    # The markup of what many rows repeat (an organisation, a result's cell, a number), by
    # what it shows, made once: an escape() costs about as much as the rest of a cell.
    _repeated: dict[Hashable, str] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_shared", _Shared.of(self))

    def _organisations(self, organisations: list[OrganisationRef]) -> tuple[str, bool]:
        """A row's organisations as the table shows them (the lead marked), and whether the
        user may change the row."""
        key = tuple(organisations)
        known = self._by_organisations.get(key)
        if known is None:
            names = ", ".join([self._organisation(org) for org in key])
            known = self._by_organisations[key] = (
                f'<span class="organisations">{names}</span>',
                self.allows(frozenset(org.id for org in key)),
            )
        return known

    def _organisation(self, org: OrganisationRef) -> str:
        key = ("organisation", org)
        html = self._repeated.get(key)
        if html is None:
            html = self._repeated[key] = (
                f'<abbr title="{escape(org.name)}">{escape(org.code)}</abbr>'
                + (self._shared.lead if org.role == "lead" else "")
            )
        return html

    def rows(self, rows: Iterable[ActivityRow], show_result: bool, activity_base: str) -> Markup:
        """The table's rows, each on a line of its own, indented as the table's body."""
        base = escape(activity_base)
        return Markup("".join([f"    {self._row(row, show_result, base)}\n" for row in rows]))

    def row(self, row: ActivityRow, show_result: bool, activity_base: str) -> Markup:
        """One row (after an edit, htmx puts it in place of the old one)."""
        return Markup(self._row(row, show_result, escape(activity_base)))

    def _row(self, row: ActivityRow, show_result: bool, base: str) -> str:
        shared = self._shared
        number = row.id  # an int: formatted, not escaped
        title = escape(row.title)
        organisations, may_change = self._organisations(row.organisations)
        repeated = self._repeated
        result = ""
        if show_result:
            key: Hashable = ("result", row.result_number, row.result_title)
            result = repeated.get(key, "")
            if not result:
                result = repeated[key] = (
                    f"{shared.result_cell}{row.result_number}. {escape(row.result_title)}</td>"
                )
        key = ("label", row.label)
        label = repeated.get(key)
        if label is None:
            label = repeated[key] = str(escape(row.label or ""))
        note = shared.derived if row.source == UpdateSource.derived else ""
        if self.round_notes:
            if row.not_updated and not self.correcting:
                note += shared.not_updated
            elif row.awaiting_review:
                note += shared.proposal
        if may_change:
            change = (
                f'    <a class="nl-link edit-link" href="{base}{number}/edit?context=page'
                f'&amp;period={shared.period_id}&amp;next={shared.here}"\n'
                f'       hx-get="{base}{number}/edit?context='
                f'{"row" if show_result else "row-short"}&amp;period={shared.period_id}"'
                f' hx-target="#activity-{number}" hx-swap="outerHTML">{shared.change}'
                f'<span class="visually-hidden"> {shared.status_of} {title}</span></a>\n'
            )
        else:
            change = ""
        return (
            f'<tr class="utrecht-table__row" id="activity-{number}">\n{result}'
            f"{shared.number_cell}{label}</td>\n"
            f'{shared.activity_cell}<a class="nl-link" href="{base}{number}">{title}</a>\n'
            f"{'<br>' + organisations if row.organisations else ''}"
            f'</td>\n  <td class="utrecht-table__cell" id="activity-{number}-status"'
            f"{shared.status_label}{self.badges[row.status]}{note}{change}"
            f"{shared.explanation_cell}{escape(row.explanation)}</td>\n</tr>"
        )


@dataclass(frozen=True)
class _Shared:
    """A table's shared text as the markup its rows print, escaped."""

    result_cell: str
    number_cell: str
    activity_cell: str
    status_label: str
    explanation_cell: str
    lead: str
    derived: str
    not_updated: str
    proposal: str
    change: str
    status_of: str
    here: str
    period_id: str

    @classmethod
    def of(cls, text: RowText) -> _Shared:
        column = text.column
        return cls(
            result_cell=f'<td class="utrecht-table__cell" data-label="{escape(column.result)}">',
            number_cell=f'  <td class="utrecht-table__cell" data-label="{escape(column.number)}">',
            activity_cell=(
                f'  <td class="utrecht-table__cell" data-label="{escape(column.activity)}">'
            ),
            status_label=f' data-label="{escape(column.status)}">',
            explanation_cell=(
                '</td>\n  <td class="utrecht-table__cell explanation"'
                f' data-label="{escape(column.explanation)}">'
            ),
            lead=f' <span class="organisations__role">({escape(text.lead)})</span>',
            derived=f' <span class="derived-note">{escape(text.derived)}</span>',
            not_updated=f' <span class="round-note">{escape(text.not_updated)}</span>',
            proposal=f' <span class="round-note">{escape(text.proposal)}</span>',
            change=str(escape(text.change)),
            status_of=str(escape(text.status_of)),
            here=str(escape(text.here)),
            period_id=str(escape(text.period_id)),
        )
