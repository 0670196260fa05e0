"""The read-model: what the board, the activity list, the API, the comparison, the public
site, the review, the reminders, the import checker and every export read.

Each function runs a fixed, small number of queries whatever the number of activities, and
returns the named rows of `rows.py`. Which status counts (current, counted, shown, awaiting
review, sent back) is decided in `status.py` only.
"""

from app.readmodel.activities import (
    activity_detail,
    get_activity_row,
    group_by_theme,
    list_activities,
    whole_table,
)
from app.readmodel.board import board, status_counts
from app.readmodel.programmes import (
    choose_period,
    find_period,
    get_programme,
    list_action_lines,
    list_organisations,
    list_periods,
    list_programmes,
    programme_of_activity,
    programme_of_period,
)
from app.readmodel.queries import STRUCTURE_COLUMNS
from app.readmodel.rows import (
    ActionLineOption,
    ActionLineSummary,
    ActivityDetail,
    ActivityFilters,
    ActivityPage,
    ActivityRecord,
    ActivityRow,
    Board,
    HistoryEntry,
    HistoryItem,
    OrganisationOption,
    OrganisationRef,
    PeriodRow,
    ProgrammeRow,
    ResultGroup,
    ReviewMark,
    StatusCounts,
    StatusText,
    ThemeGroup,
    WholeTable,
)
from app.readmodel.status import (
    awaiting_review,
    confirms,
    counted_statuses,
    published_versions,
    review_marks,
    sent_back_ids,
    starting_points,
    status_pointer,
)

__all__ = [
    "STRUCTURE_COLUMNS",
    "ActionLineOption",
    "ActionLineSummary",
    "ActivityDetail",
    "ActivityFilters",
    "ActivityPage",
    "ActivityRecord",
    "ActivityRow",
    "Board",
    "HistoryEntry",
    "HistoryItem",
    "OrganisationOption",
    "OrganisationRef",
    "PeriodRow",
    "ProgrammeRow",
    "ResultGroup",
    "ReviewMark",
    "StatusCounts",
    "StatusText",
    "ThemeGroup",
    "WholeTable",
    "activity_detail",
    "awaiting_review",
    "confirms",
    "board",
    "choose_period",
    "counted_statuses",
    "published_versions",
    "find_period",
    "get_activity_row",
    "get_programme",
    "group_by_theme",
    "list_action_lines",
    "list_activities",
    "list_organisations",
    "list_periods",
    "list_programmes",
    "programme_of_activity",
    "programme_of_period",
    "review_marks",
    "sent_back_ids",
    "starting_points",
    "status_counts",
    "status_pointer",
    "whole_table",
]
