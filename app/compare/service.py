"""Comparing two reporting periods: which activities changed status (from → to), a from × to
count matrix in total and per action line, which activities were added and which are no
longer in the programme, and how the explanations changed.

The basis of "what changed since the last letter to Parliament". Built on the read-model only:
each period is read with `readmodel.list_activities` (two queries), so a comparison runs four
queries whatever the size of the programme, and shows each period exactly as the board does (a
published period what counted for its report, a period in progress its newest versions).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup
from sqlmodel import Session

from app import readmodel
from app.activities.diff import explanation_diff
from app.activities.models import STATUS_ORDER, Status
from app.errors import InvalidInput
from app.i18n import gettext
from app.readmodel import ActivityRow, PeriodRow

# The rows and columns of a matrix: the legend's order, then "no status".
MATRIX_STATUSES: tuple[Status | None, ...] = (*STATUS_ORDER, None)


@dataclass
class StatusMatrix:
    """How many activities had status `before` in the earlier period and `after` in the later
    one, for the activities shown in both."""

    cells: dict[tuple[Status | None, Status | None], int] = field(default_factory=dict)

    def add(self, before: Status | None, after: Status | None) -> None:
        self.cells[(before, after)] = self.cells.get((before, after), 0) + 1

    def count(self, before: Status | None, after: Status | None) -> int:
        return self.cells.get((before, after), 0)

    def row_total(self, before: Status | None) -> int:
        return sum(n for (b, _), n in self.cells.items() if b == before)

    def column_total(self, after: Status | None) -> int:
        return sum(n for (_, a), n in self.cells.items() if a == after)

    @property
    def total(self) -> int:
        return sum(self.cells.values())

    @property
    def changed(self) -> int:
        return sum(n for (before, after), n in self.cells.items() if before != after)

    def nonzero(self) -> list[tuple[Status | None, Status | None, int]]:
        """The cells that hold activities, rows and columns in legend order."""
        return [
            (before, after, self.count(before, after))
            for before in MATRIX_STATUSES
            for after in MATRIX_STATUSES
            if self.count(before, after)
        ]


@dataclass
class StatusChange:
    """An activity shown in both periods whose status differs (row: as in the later period)."""

    row: ActivityRow
    before: Status | None
    after: Status | None


@dataclass
class ExplanationChange:
    """An activity shown in both periods whose explanation differs."""

    row: ActivityRow
    before: str
    after: str
    diff: Markup


@dataclass
class ActionLineComparison:
    number: int
    title: str
    matrix: StatusMatrix = field(default_factory=StatusMatrix)
    added: int = 0
    retired: int = 0

    @property
    def in_both(self) -> int:
        return self.matrix.total

    @property
    def changed(self) -> int:
        return self.matrix.changed


@dataclass
class Comparison:
    earlier: PeriodRow
    later: PeriodRow
    # True when the periods were asked for the other way round (see compare_periods).
    swapped: bool
    changed: list[StatusChange]
    matrix: StatusMatrix
    action_lines: list[ActionLineComparison]
    # Shown in the later period and not in the earlier one; rows as in the later period.
    added: list[ActivityRow]
    # Shown in the earlier period and not in the later one (no longer in the programme);
    # rows as in the earlier period.
    retired: list[ActivityRow]
    explanations: list[ExplanationChange]

    @property
    def in_both(self) -> int:
        return self.matrix.total


def compare_periods(
    session: Session, *, programme_id: int, earlier: PeriodRow, later: PeriodRow
) -> Comparison:
    """Compare two periods of a programme. Comparing a period with itself is refused
    (InvalidInput). When `earlier` is in fact the later of the two (by reference date, then
    id, as periods are listed), the two are swapped rather than refused: "what changed" is
    always read forwards in time, and `swapped` says it happened so a page can tell."""
    if earlier.id == later.id:
        raise InvalidInput(
            gettext("Choose two different periods to compare: both are %(period)s.")
            % {"period": earlier.name}
        )
    swapped = (earlier.reference_date, earlier.id) > (later.reference_date, later.id)
    if swapped:
        earlier, later = later, earlier
    before_rows = readmodel.list_activities(session, programme_id, earlier).rows
    after_rows = readmodel.list_activities(session, programme_id, later).rows
    before_by_id = {row.id: row for row in before_rows}
    after_ids = {row.id for row in after_rows}

    titles = {row.action_line_number: row.action_line_title for row in before_rows + after_rows}
    order = _merged_order(
        [row.action_line_number for row in after_rows],
        [row.action_line_number for row in before_rows],
    )
    lines = {number: ActionLineComparison(number, titles[number]) for number in order}

    matrix = StatusMatrix()
    changed: list[StatusChange] = []
    explanations: list[ExplanationChange] = []
    added: list[ActivityRow] = []
    for row in after_rows:
        line = lines[row.action_line_number]
        previous = before_by_id.get(row.id)
        if previous is None:
            added.append(row)
            line.added += 1
            continue
        matrix.add(previous.status, row.status)
        line.matrix.add(previous.status, row.status)
        if previous.status != row.status:
            changed.append(StatusChange(row, previous.status, row.status))
        if previous.explanation != row.explanation:
            explanations.append(
                ExplanationChange(
                    row,
                    previous.explanation,
                    row.explanation,
                    explanation_diff(previous.explanation, row.explanation),
                )
            )
    retired = [row for row in before_rows if row.id not in after_ids]
    for row in retired:
        lines[row.action_line_number].retired += 1

    return Comparison(
        earlier=earlier,
        later=later,
        swapped=swapped,
        changed=changed,
        matrix=matrix,
        action_lines=list(lines.values()),
        added=added,
        retired=retired,
        explanations=explanations,
    )


def _merged_order(later: list[int], earlier: list[int]) -> list[int]:
    """Two orderings of action line numbers merged: the later period's, with each number only
    the earlier period has put after the one it followed there (an action line retired as a
    whole keeps its place)."""
    merged = list(dict.fromkeys(later))
    insert_at = 0
    for number in dict.fromkeys(earlier):
        if number in merged:
            insert_at = merged.index(number) + 1
        else:
            merged.insert(insert_at, number)
            insert_at += 1
    return merged


def default_periods(
    periods: list[PeriodRow], from_id: int | None, to_id: int | None
) -> tuple[PeriodRow | None, PeriodRow | None]:
    """The periods asked for (NotFound for an id the programme does not have). Without `to`:
    the default period (the board's); without `from`: the period before `to` by reference
    date. Either may be None when the programme has too few periods."""
    later = readmodel.choose_period(periods, to_id)
    if from_id is not None:
        return readmodel.choose_period(periods, from_id), later
    if later is None:
        return None, None
    # `periods` is newest first: the one listed after `later` is the one before it.
    index = next(i for i, period in enumerate(periods) if period.id == later.id)
    return (periods[index + 1] if index + 1 < len(periods) else None), later


def nothing_to_compare(periods: list[PeriodRow], later: PeriodRow | None) -> str:
    """Why default_periods found no pair, in the user's language."""
    if later is None or len(periods) < 2:
        return gettext("This programme needs at least two reporting periods to compare them.")
    return gettext(
        "There is no period before %(period)s: choose the period to compare it with."
    ) % {"period": later.name}
