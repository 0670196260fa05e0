"""The list's statements are built once per shape of filters (issue 15): the filters' values
are parameters when the statement runs, so a request does not build a statement (and its
cache key) again. The values reaching the rows: tests/test_board.py, tests/test_query_count.py.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import create_engine
from sqlmodel import Session

from app.activities.models import Status
from app.periods.models import PeriodState
from app.readmodel import queries
from app.readmodel.rows import ActivityFilters, PeriodRow

PERIODS = [
    None,
    PeriodRow(1, "Now", date(2026, 1, 1), PeriodState.open),
    PeriodRow(2, "Then", date(2025, 1, 1), PeriodState.published),
]


def test_same_filters_other_values_same_statement() -> None:
    one = ActivityFilters(
        statuses=(Status.delayed,), action_line=2, organisation="ORG-A", query="training"
    )
    other = ActivityFilters(
        statuses=(Status.completed, Status.ongoing),
        action_line=4,
        organisation="ORG-B",
        query="opvang kinderen",
    )
    with Session(create_engine("sqlite://")) as session:
        for period in PERIODS:
            assert queries.filtered_activity_ids(
                session, period, one
            ) is queries.filtered_activity_ids(session, period, other)
            assert queries.page_of_activity_ids(
                session, period, one
            ) is queries.page_of_activity_ids(session, period, other)
            assert queries.whole_table_select(session, period, one) is queries.whole_table_select(
                session, period, other
            )
            assert queries.filter_parameters("sqlite", other) == {
                "statuses": ["completed", "ongoing"],
                "action_line": 4,
                "organisation": "ORG-B",
                "title_match": '"opvang"* "kinderen"*',
                "explanation_match": '"opvang"* "kinderen"*',
            }
        # Another shape is another statement.
        assert queries.filtered_activity_ids(
            session, None, one
        ) is not queries.filtered_activity_ids(session, None, ActivityFilters(action_line=2))


def test_search_words_reach_fts_as_quoted_terms() -> None:
    assert queries.filter_parameters("sqlite", ActivityFilters(query='a"b OR c*')) == {
        "title_match": '"a"* "b"* "OR"* "c"*',
        "explanation_match": '"a"* "b"* "OR"* "c"*',
    }
    assert queries.filter_parameters("postgresql", ActivityFilters(query="opvang kind")) == {
        "search_terms": "opvang:* & kind:*"
    }
    # No words: no search condition, no parameter.
    assert queries.filter_parameters("sqlite", ActivityFilters(query="  *  ")) == {}
