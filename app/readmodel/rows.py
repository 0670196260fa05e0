"""The read-model's rows: every shape it hands out, each with named, typed fields.

Readers ask for a column by its name (`row.result_number`), never by its position. Most rows
are dataclasses; the ones made by the thousand for a whole table (`ActivityRecord`,
`OrganisationRef`) are named tuples, which cost less to make and read the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import NamedTuple

from markupsafe import Markup

from app.activities.models import STATUS_ORDER, Status, StatusUpdate, UpdateSource
from app.activities.rollup import rollup
from app.periods.models import PeriodState
from app.review.models import ReviewKind, ReviewNote


@dataclass(frozen=True)
class PeriodRow:
    id: int
    name: str
    reference_date: date
    state: PeriodState = PeriodState.open
    deadline: date | None = None

    @property
    def published(self) -> bool:
        return self.state == PeriodState.published

    @property
    def correcting(self) -> bool:
        """Its published report is being corrected (a small round of its own)."""
        return self.state == PeriodState.correcting

    @property
    def reported(self) -> bool:
        """Its report was published: it reports on the activities it was published with,
        where they stood then (also while a correction is in progress)."""
        return self.state in (PeriodState.published, PeriodState.correcting)

    def as_published(self) -> PeriodRow:
        """The period as its published report shows it: a period being corrected as it was
        last published (what the public site and its files show until it is republished)."""
        return replace(self, state=PeriodState.published) if self.correcting else self


@dataclass(frozen=True)
class ProgrammeRow:
    id: int
    slug: str
    name: str
    description: str


class OrganisationRef(NamedTuple):  # a tuple: made for every link of a whole table
    id: int
    code: str
    name: str
    role: str

    @property
    def lead(self) -> bool:
        return self.role == "lead"


class ActionLineOption(NamedTuple):
    """An action line in use, for a filter."""

    number: int
    title: str


class OrganisationOption(NamedTuple):
    """An organisation, for a filter."""

    code: str
    name: str


class ActivityRecord(NamedTuple):
    """One activity as a period shows it, with its shown status: a row of a whole table (the
    exports read thousands of them; `ActivityRow` is the same with its organisations, for
    pages). A published period's structure fields are as they were at publication."""

    id: int
    action_line_number: int
    action_line_title: str
    theme_id: int
    theme_title: str
    result_number: int
    result_title: str
    result_note: str | None
    label: str | None
    title: str
    status: Status | None
    explanation: str | None
    version: int | None
    source: UpdateSource | None
    updated_at: datetime | None
    # The version that counts for the report (approved, or the period's starting point).
    approved_version: int | None


@dataclass
class ActivityRow:
    id: int
    action_line_number: int
    action_line_title: str
    theme_id: int
    theme_title: str
    result_number: int
    result_title: str
    result_note: str
    label: str | None
    title: str
    status: Status | None
    explanation: str
    version: int | None
    source: UpdateSource | None
    updated_at: datetime | None
    # The version that counts for the report (approved, or the period's starting point);
    # differs from `version` while a proposal waits for review.
    approved_version: int | None = None
    organisations: list[OrganisationRef] = field(default_factory=list)

    @classmethod
    def of(
        cls, record: ActivityRecord, organisations: list[OrganisationRef] | None = None
    ) -> ActivityRow:
        return cls(
            id=record.id,
            action_line_number=record.action_line_number,
            action_line_title=record.action_line_title,
            theme_id=record.theme_id,
            theme_title=record.theme_title,
            result_number=record.result_number,
            result_title=record.result_title,
            result_note=record.result_note or "",
            label=record.label,
            title=record.title,
            status=record.status,
            explanation=record.explanation or "",
            version=record.version,
            source=record.source,
            updated_at=record.updated_at,
            approved_version=record.approved_version,
            organisations=[] if organisations is None else organisations,
        )

    @property
    def not_updated(self) -> bool:
        """Carried over from the previous period and not yet confirmed or changed."""
        return self.source == UpdateSource.carried_over

    @property
    def awaiting_review(self) -> bool:
        return self.version is not None and self.version != self.approved_version

    @property
    def lead(self) -> OrganisationRef | None:
        return next((org for org in self.organisations if org.role == "lead"), None)


class WholeTable(NamedTuple):
    """Every activity a period shows, in programme order, and each one's organisations (lead
    first; an activity without any is not in `organisations`)."""

    records: list[ActivityRecord]
    organisations: dict[int, list[OrganisationRef]]


@dataclass(frozen=True)
class ActivityFilters:
    statuses: tuple[Status, ...] = ()
    action_line: int | None = None
    organisation: str | None = None
    query: str = ""
    result: int | None = None

    @property
    def active(self) -> bool:
        return bool(
            self.statuses or self.action_line or self.organisation or self.query or self.result
        )


NO_FILTERS = ActivityFilters()


@dataclass
class ActivityPage:
    rows: list[ActivityRow]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass
class StatusCounts:
    counts: dict[Status | None, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def overall(self) -> Status | None:
        """The roll-up of these activities (see app/activities/rollup.py)."""
        return rollup(self.counts)

    def ordered(self) -> list[tuple[Status | None, int]]:
        keys: list[Status | None] = [*STATUS_ORDER, None]
        return [(key, self.counts.get(key, 0)) for key in keys if self.counts.get(key, 0)]


@dataclass
class ActionLineSummary:
    number: int
    title: str
    counts: StatusCounts


@dataclass
class Board:
    programme: ProgrammeRow
    period: PeriodRow | None
    action_lines: list[ActionLineSummary]
    totals: StatusCounts


class ResultGroup(NamedTuple):
    title: str
    rows: list[ActivityRow]


@dataclass
class ThemeGroup:
    id: int
    title: str
    results: dict[int, ResultGroup]  # by result number


@dataclass
class HistoryItem:
    update: StatusUpdate
    # The explanation with the changes against the version before it marked; None for the
    # first version of the activity.
    diff: Markup | None
    # Review decisions and comments on this version, oldest first.
    notes: list[ReviewNote] = field(default_factory=list)
    # The version confirms the period's starting point unchanged (status.confirms).
    confirms: bool = False


@dataclass
class HistoryEntry:
    period: PeriodRow
    items: list[HistoryItem]


@dataclass
class ActivityDetail:
    row: ActivityRow
    programme: ProgrammeRow
    history: list[HistoryEntry]
    period: PeriodRow | None


class StatusText(NamedTuple):
    """A status with its explanation, as it counts or as a period started."""

    status: Status
    explanation: str


class UnconfirmedCount(NamedTuple):
    """How many of a table's statuses (of `total`) are unconfirmed in one way (`kind`:
    derived or carried over; see status.unconfirmed)."""

    kind: UpdateSource
    number: int
    total: int


class ReviewMark(NamedTuple):
    """The newest review note on an activity's newest version in a period."""

    kind: ReviewKind
    comment: str

    @property
    def sent_back(self) -> bool:
        return self.kind == ReviewKind.send_back
