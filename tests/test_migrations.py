"""Migrations: up, down, up again; a database of an earlier head upgrades with its data; and the
models never drift from the migrations."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session

from app import readmodel
from app.accounts.models import Role
from app.accounts.service import hash_token, session_user
from app.activities import service as activities
from app.activities.models import Status, StatusUpdate
from app.cache import current_revisions
from app.cli import alembic_config, run_alembic
from app.db import include_name, make_engine
from app.dbtypes import metadata
from app.programmes.models import Activity
from app.programmes.service import structure_tree
from tests.conftest import DatabaseFactory
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


# The head before the migration files were renamed to date-prefixed names (issue 12): a
# database made then must still upgrade, since the renaming kept every revision id.
PREVIOUS_HEAD = "5a86750d649e"
SESSION_TOKEN = "a-session-from-before-the-upgrade"


def _insert(connection: Connection, statement: str, **ids: int) -> int:
    """The database picks the id and hands it back: PostgreSQL's sequences stay in step, so the
    app's own inserts after the upgrade do not collide with these rows."""
    return int(connection.execute(text(f"{statement} RETURNING id"), ids).scalar_one())


def _one(connection: Connection, query: str) -> tuple[Any, ...]:
    return tuple(connection.execute(text(query)).one())


def _fill_schema_of_previous_head(connection: Connection) -> dict[str, int]:
    """One row of each kind a programme needs, written with the columns of PREVIOUS_HEAD (and
    no model of today's code)."""
    programme = _insert(
        connection,
        "INSERT INTO programme (slug, name, description) "
        "VALUES ('van-voor', 'Programma van voor de upgrade', 'Bestond al.')",
    )
    action_line = _insert(
        connection,
        "INSERT INTO action_line (programme_id, number, title, position) "
        "VALUES (:programme, 7, 'Actielijn van voor', 0)",
        programme=programme,
    )
    theme = _insert(
        connection,
        "INSERT INTO theme (action_line_id, title, position) VALUES (:line, 'Thema van voor', 0)",
        line=action_line,
    )
    result = _insert(
        connection,
        "INSERT INTO result (programme_id, theme_id, number, title, position, note) "
        "VALUES (:programme, :theme, 12, 'Resultaat van voor', 0, 'Een noot.')",
        programme=programme,
        theme=theme,
    )
    activity = _insert(
        connection,
        "INSERT INTO activity (result_id, label, title, position) "
        "VALUES (:result, '12.1', 'Activiteit van voor', 0)",
        result=result,
    )
    organisation = _insert(
        connection, "INSERT INTO organisation (code, name) VALUES ('ORG-V', 'Organisatie Voor')"
    )
    connection.execute(
        text(
            "INSERT INTO activity_organisation (activity_id, organisation_id, role) "
            "VALUES (:activity, :organisation, 'lead')"
        ),
        {"activity": activity, "organisation": organisation},
    )
    period = _insert(
        connection,
        "INSERT INTO reporting_period (programme_id, name, reference_date, state) "
        "VALUES (:programme, 'Rapportage van voor', '2026-09-30', 'open')",
        programme=programme,
    )
    user = _insert(
        connection,
        "INSERT INTO app_user (email, name, role, password_hash, active, created_at) "
        "VALUES ('redacteur@voor.example', 'Rie Dacteur', 'editor', 'no-password', true, "
        "'2026-11-01 09:00:00+00:00')",
    )
    connection.execute(
        text("INSERT INTO user_organisation (user_id, organisation_id) VALUES (:user, :org)"),
        {"user": user, "org": organisation},
    )
    _insert(
        connection,
        "INSERT INTO status_update (activity_id, period_id, version, status, explanation, "
        "source, author, author_id, created_at) VALUES (:activity, :period, 1, 'ongoing', "
        "'Loopt, van voor de upgrade.', 'entered', 'Rie Dacteur', :user, "
        "'2026-11-02 10:00:00+00:00')",
        activity=activity,
        period=period,
        user=user,
    )
    connection.execute(
        text(
            "INSERT INTO user_session (token_hash, user_id, created_at, expires_at) "
            "VALUES (:token_hash, :user, '2026-11-03 08:00:00+00:00', "
            "'2099-01-01 00:00:00+00:00')"
        ),
        {"token_hash": hash_token(SESSION_TOKEN), "user": user},
    )
    return {
        "programme": programme,
        "activity": activity,
        "organisation": organisation,
        "period": period,
        "user": user,
    }


def test_a_database_at_the_previous_head_upgrades_with_its_data(
    databases: DatabaseFactory,
) -> None:
    url = databases.new("empty")
    run_alembic("upgrade", PREVIOUS_HEAD, database_url=url)
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            ids = _fill_schema_of_previous_head(connection)
            assert _one(connection, "SELECT version_num FROM alembic_version") == (PREVIOUS_HEAD,)
            # Really the old schema: the session revision (row 2) comes with a later migration.
            assert _one(connection, "SELECT count(*) FROM data_revision WHERE id = 2") == (0,)

        run_alembic("upgrade", "head", database_url=url)

        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        with engine.connect() as connection:
            assert _one(connection, "SELECT version_num FROM alembic_version") == (head,)
            assert _one(connection, "SELECT slug, name, description FROM programme") == (
                "van-voor",
                "Programma van voor de upgrade",
                "Bestond al.",
            )
            assert _one(connection, "SELECT number, title FROM action_line") == (
                7,
                "Actielijn van voor",
            )
            assert _one(connection, "SELECT title FROM theme") == ("Thema van voor",)
            assert _one(connection, "SELECT number, title, note FROM result") == (
                12,
                "Resultaat van voor",
                "Een noot.",
            )
            assert _one(connection, "SELECT id, label, title FROM activity") == (
                ids["activity"],
                "12.1",
                "Activiteit van voor",
            )
            assert _one(connection, "SELECT id, code, name FROM organisation") == (
                ids["organisation"],
                "ORG-V",
                "Organisatie Voor",
            )
            assert _one(
                connection, "SELECT activity_id, organisation_id, role FROM activity_organisation"
            ) == (ids["activity"], ids["organisation"], "lead")
            assert _one(
                connection,
                "SELECT id, name, CAST(reference_date AS TEXT), state FROM reporting_period",
            ) == (ids["period"], "Rapportage van voor", "2026-09-30", "open")
            assert _one(connection, "SELECT user_id, organisation_id FROM user_organisation") == (
                ids["user"],
                ids["organisation"],
            )
            assert _one(
                connection,
                "SELECT version, status, explanation, source, author_id FROM status_update",
            ) == (1, "ongoing", "Loopt, van voor de upgrade.", "entered", ids["user"])
            assert _one(connection, "SELECT activity_id, version, status FROM status_current") == (
                ids["activity"],
                1,
                "ongoing",
            )

        with Session(engine) as session:
            # The app reads the upgraded rows: the session still signs its user in...
            signed_in = session_user(session, SESSION_TOKEN)
            assert signed_in is not None, "the session from before the upgrade is gone"
            user, expires_at = signed_in
            assert (user.id, user.email, user.name, user.role) == (
                ids["user"],
                "redacteur@voor.example",
                "Rie Dacteur",
                Role.editor,
            )
            assert user.organisation_ids == {ids["organisation"]}
            assert expires_at == datetime(2099, 1, 1, tzinfo=UTC)
            # ... the structure and the status history read as they were written ...
            [line] = structure_tree(session, ids["programme"])
            [theme] = line["children"]
            [result] = theme["children"]
            assert [activity.title for activity in result["children"]] == ["Activiteit van voor"]
            assert (line["item"].title, theme["item"].title, result["item"].title) == (
                "Actielijn van voor",
                "Thema van voor",
                "Resultaat van voor",
            )
            latest = activities.latest_update(
                session, activity_id=ids["activity"], period_id=ids["period"]
            )
            assert latest is not None
            assert (latest.version, latest.status, latest.author_id) == (1, Status.ongoing, user.id)

            # ... and that user records the next version, which raises the data revision only.
            before = current_revisions(session)
            activities.record_status(
                session,
                activity_id=ids["activity"],
                period_id=ids["period"],
                status=Status.delayed,
                explanation="Vertraagd, na de upgrade.",
                author=user,
                based_on_version=1,
            )
            after_status = current_revisions(session)
            assert after_status.data > before.data
            assert after_status.sessions == before.sessions
            assert session.execute(text("SELECT version, status FROM status_current")).one() == (
                2,
                "delayed",
            )

            # Signing in and out raise the session revision (row 2), not the data revision.
            session.execute(
                text(
                    "INSERT INTO user_session (token_hash, user_id, created_at, expires_at) "
                    "VALUES ('after-the-upgrade', :user, '2026-12-03 08:00:00+00:00', "
                    "'2099-01-01 00:00:00+00:00')"
                ),
                {"user": ids["user"]},
            )
            after_sign_in = current_revisions(session)
            assert after_sign_in.sessions == after_status.sessions + 1
            assert after_sign_in.data == after_status.data
            session.execute(text("DELETE FROM user_session WHERE token_hash = 'after-the-upgrade'"))
            after_sign_out = current_revisions(session)
            assert after_sign_out.sessions == after_sign_in.sessions + 1
            assert after_sign_out.data == after_status.data
    finally:
        engine.dispose()


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


def test_review_notes_on_figure_versions_migrate_up_and_down_keeping_their_triggers(
    databases: DatabaseFactory,
) -> None:
    """e2b7c9d41a68 makes status_update_id nullable beside figure_version_id (one of the two,
    a CHECK); SQLite rebuilds the table, so its append-only and approval triggers must be made
    again, both ways."""
    url = databases.new("empty")
    run_alembic("upgrade", PREVIOUS_HEAD, database_url=url)
    engine = make_engine(url)
    note = (
        "INSERT INTO review_note (status_update_id, figure_version_id, kind, comment, author, "
        "created_at) VALUES ({update}, NULL, 'approve', '', 'Co', '2026-11-04 10:00:00+00:00')"
    )
    try:
        with engine.begin() as connection:
            _fill_schema_of_previous_head(connection)
        run_alembic("upgrade", "c4a8e2f17b90", database_url=url)
        with engine.begin() as connection:
            update = _one(connection, "SELECT id FROM status_update")[0]
            connection.execute(
                text(note.format(update=update).replace(", figure_version_id", "").replace(
                    "NULL, 'approve'", "'approve'"
                ))
            )  # fmt: skip
        run_alembic("upgrade", "e2b7c9d41a68", database_url=url)
        with engine.connect() as connection:
            assert _one(
                connection, "SELECT status_update_id, figure_version_id FROM review_note"
            ) == (
                update,
                None,
            )
            assert _one(connection, "SELECT count(*) FROM status_approved") == (1,)
        for broken in ("UPDATE review_note SET comment = 'x'", note.format(update="NULL")):
            with pytest.raises(DatabaseError), engine.begin() as connection:
                connection.execute(text(broken))
        run_alembic("downgrade", "c4a8e2f17b90", database_url=url)
        with engine.connect() as connection:
            assert _one(connection, "SELECT count(*) FROM review_note") == (1,)
            assert "figure_version_id" not in {
                column["name"] for column in inspect(connection).get_columns("review_note")
            }
        with pytest.raises(DatabaseError), engine.begin() as connection:
            connection.execute(text("DELETE FROM review_note"))
    finally:
        engine.dispose()
