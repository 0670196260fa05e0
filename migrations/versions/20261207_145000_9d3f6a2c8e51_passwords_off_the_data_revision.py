"""passwords off the data revision

A new password hash is not programme data, nor anything a cached page or session user shows:
an account's update raised the data revision (which empties every process's page cache) also
when only its password hash changed: a password set, changed or reset, and a sign-in whose
stored hash was made with older parameters (it is hashed again). Now an update of app_user
raises it only when a column other than password_hash is set. Setting a password ends the
account's other sessions, which raises the session revision (user_session's trigger), so the
cache of session users still sees it at once.

Revision ID: 9d3f6a2c8e51
Revises: 9c4d2e7a1f35
Create Date: 2026-12-07 14:50:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "9d3f6a2c8e51"
down_revision: str | None = "9c4d2e7a1f35"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BUMP = "UPDATE data_revision SET revision = revision + 1 WHERE id = 1"
# Every column of app_user but password_hash (tests/test_triggers.py checks the list against
# the model, so a new column must be added here by a migration of its own).
SHOWN_COLUMNS = "id, email, name, role, active, created_at"


def upgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        op.execute("DROP TRIGGER app_user_revision_update")
        op.execute(
            f"CREATE TRIGGER app_user_revision_update AFTER UPDATE OF {SHOWN_COLUMNS} "
            f"ON app_user BEGIN {BUMP}; END"
        )
        return
    op.execute("DROP TRIGGER app_user_revision ON app_user")
    op.execute(
        f"CREATE TRIGGER app_user_revision AFTER INSERT OR DELETE OR UPDATE OF {SHOWN_COLUMNS} "
        "ON app_user FOR EACH STATEMENT EXECUTE FUNCTION data_revision_bump()"
    )


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        op.execute("DROP TRIGGER app_user_revision_update")
        op.execute(
            f"CREATE TRIGGER app_user_revision_update AFTER UPDATE ON app_user BEGIN {BUMP}; END"
        )
        return
    op.execute("DROP TRIGGER app_user_revision ON app_user")
    op.execute(
        "CREATE TRIGGER app_user_revision AFTER INSERT OR UPDATE OR DELETE ON app_user "
        "FOR EACH STATEMENT EXECUTE FUNCTION data_revision_bump()"
    )
