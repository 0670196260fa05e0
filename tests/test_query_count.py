"""The board and the lists run a fixed number of queries, whatever the number of activities."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.config import Settings
from app.main import create_app
from tests.conftest import DatabaseFactory, _settings
from tests.factories import create_programme, create_user, sign_in


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


URLS = [
    "/programmes/test-programme",
    "/programmes/test-programme/activities",
    "/programmes/test-programme/activities?status=completed&action_line=1&organisation=ORG-A",
    "/programmes/test-programme/activities?q=toelichting",
    "/programmes/test-programme/action-lines/1",
    "/programmes/test-programme/results/1",
    "/api/v1/programmes/test-programme/activities?status=completed",
]


def _queries_per_page(settings: Settings, size: int) -> dict[str, int]:
    from sqlmodel import Session

    app = create_app(settings)
    with Session(app.state.engine) as session:
        create_programme(
            session, action_lines=size, results_per_line=size, activities_per_result=size
        )
        # An editor: the pages then also work out which rows they may change.
        email = create_user(session, "editor", ("ORG-A",))
    counts = {}
    with TestClient(app) as client:
        sign_in(client, email)
        for url in URLS:
            with counting(app.state.engine) as statements:
                response = client.get(url)
            assert response.status_code == 200, url
            counts[url] = len(statements)
    app.state.engine.dispose()
    return counts


def test_query_count_does_not_grow_with_the_programme(databases: DatabaseFactory) -> None:
    small = _queries_per_page(_settings(databases.new("migrated")), 2)  # 8 activities
    large = _queries_per_page(_settings(databases.new("migrated")), 6)  # 216 activities
    assert small == large
    assert max(large.values()) <= 12, large
