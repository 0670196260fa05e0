"""Migrations: up, down, up again; and the models never drift from the migrations."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session

from app.activities.models import StatusUpdate
from app.board import readmodel
from app.cli import alembic_config, run_alembic
from app.db import include_name, make_engine
from app.dbtypes import metadata
from app.programmes.models import Activity
from tests.factories import create_programme

APP_TABLES = set(metadata.tables)


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return set(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(databases) -> None:  # type: ignore[no-untyped-def]
    url = databases.new("empty")
    run_alembic("upgrade", "head", database_url=url)
    assert _tables(url) >= APP_TABLES
    run_alembic("downgrade", "base", database_url=url)
    assert not (APP_TABLES & _tables(url))
    # Nothing left behind: no search tables or triggers block a second upgrade.
    run_alembic("upgrade", "head", database_url=url)
    assert _tables(url) >= APP_TABLES


def test_migration_files_list_in_history_order() -> None:
    """A listing of migrations/versions reads as the history: first migration first."""
    script = ScriptDirectory.from_config(alembic_config())
    history = [revision.revision for revision in script.walk_revisions("base", "heads")]
    history.reverse()  # walk_revisions goes from the head down
    files = sorted(Path(script.versions).glob("*.py"))
    assert len(files) == len(history)
    for path in files:
        # The scheme of alembic.ini's file_template: creation date and time, then the id.
        assert re.fullmatch(r"\d{8}_\d{6}_[0-9a-f]{12}_\w+\.py", path.name), path.name
    assert [path.name.split("_")[2] for path in files] == history
    # One line of history: no branches, so the listing order is the only order.
    assert len(script.get_heads()) == 1


def test_models_and_migrations_do_not_drift(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_name": include_name}
            )
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


def test_status_updates_cannot_be_changed_or_deleted(session: Session) -> None:
    create_programme(session, action_lines=1, results_per_line=1, activities_per_result=1)
    for statement in (
        "UPDATE status_update SET explanation = 'rewritten'",
        "DELETE FROM status_update",
    ):
        with pytest.raises(DatabaseError, match="append-only"):
            session.execute(text(statement))
        session.rollback()
    assert session.scalars(select(StatusUpdate)).one().explanation.startswith("Toelichting")


def test_search_index_follows_activity_titles(session: Session) -> None:
    create_programme(session, action_lines=1, results_per_line=1, activities_per_result=2)
    activity = session.scalars(select(Activity).where(Activity.label == "1")).one()
    activity.title = "Zeldzaamwoord training"
    session.commit()
    programme = readmodel.get_programme(session, "test-programme")
    period = readmodel.list_periods(session, programme.id)[0]
    found = readmodel.list_activities(
        session, programme.id, period, readmodel.ActivityFilters(query="zeldzaamwoord")
    )
    assert [row.id for row in found.rows] == [activity.id]
