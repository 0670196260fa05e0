"""sessions off the data revision

Signing in or out is not programme data: it no longer raises the data revision (which empties
every process's page cache). It raises a revision of its own instead, a second row of
data_revision, which the cache of session users is keyed by. status_current, which the
read-model reads, raises the data revision itself (it did only through status_update).

Revision ID: e07c804dd5dc
Revises: 5a86750d649e
Create Date: 2026-12-02 18:56:54.496317
"""

from collections.abc import Sequence

from alembic import op

revision: str = "e07c804dd5dc"
down_revision: str | None = "5a86750d649e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The rows of data_revision (app/cache.py names them too).
DATA_REVISION = 1
SESSION_REVISION = 2
VERBS = ("INSERT", "UPDATE", "DELETE")


def _bump(row: int) -> str:
    return f"UPDATE data_revision SET revision = revision + 1 WHERE id = {row}"


def upgrade() -> None:
    op.execute(f"INSERT INTO data_revision (id, revision) VALUES ({SESSION_REVISION}, 0)")
    if op.get_context().dialect.name == "sqlite":
        for verb in VERBS:
            op.execute(f"DROP TRIGGER user_session_revision_{verb.lower()}")
            op.execute(
                f"CREATE TRIGGER session_revision_{verb.lower()} AFTER {verb} ON user_session "
                f"BEGIN {_bump(SESSION_REVISION)}; END"
            )
            op.execute(
                f"CREATE TRIGGER status_current_revision_{verb.lower()} AFTER {verb} "
                f"ON status_current BEGIN {_bump(DATA_REVISION)}; END"
            )
        return
    op.execute("DROP TRIGGER user_session_revision ON user_session")
    op.execute(
        "CREATE FUNCTION session_revision_bump() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN {_bump(SESSION_REVISION)}; RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER session_revision AFTER INSERT OR UPDATE OR DELETE ON user_session "
        "FOR EACH STATEMENT EXECUTE FUNCTION session_revision_bump()"
    )
    op.execute(
        "CREATE TRIGGER status_current_revision AFTER INSERT OR UPDATE OR DELETE "
        "ON status_current FOR EACH STATEMENT EXECUTE FUNCTION data_revision_bump()"
    )


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        for verb in VERBS:
            op.execute(f"DROP TRIGGER status_current_revision_{verb.lower()}")
            op.execute(f"DROP TRIGGER session_revision_{verb.lower()}")
            op.execute(
                f"CREATE TRIGGER user_session_revision_{verb.lower()} AFTER {verb} "
                f"ON user_session BEGIN {_bump(DATA_REVISION)}; END"
            )
    else:
        op.execute("DROP TRIGGER status_current_revision ON status_current")
        op.execute("DROP TRIGGER session_revision ON user_session")
        op.execute("DROP FUNCTION session_revision_bump()")
        op.execute(
            "CREATE TRIGGER user_session_revision AFTER INSERT OR UPDATE OR DELETE "
            "ON user_session FOR EACH STATEMENT EXECUTE FUNCTION data_revision_bump()"
        )
    op.execute(f"DELETE FROM data_revision WHERE id = {SESSION_REVISION}")
