"""published status version

A published period's snapshot (published_activity) records the version of each activity's
status that the report published, beside its place in the structure. The read-model shows a
published period through it, so a correction in progress (a period in state 'correcting',
whose approved versions move on as proposals are approved) leaves the public report as it was
until it is republished. Filled for the snapshots there are from the approved versions, which
a published period can no longer change. The state 'correcting' itself needs no change: a
period's state is plain text, and the published-period guards refuse changes only in the state
'published' (docs/triggers.md).

Revision ID: 3c5e0d9a1b27
Revises: 3c9e1d7a5b42
Create Date: 2026-12-03 12:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # noqa: F401
from alembic import op

revision: str = "3c5e0d9a1b27"
down_revision: str | None = "3c9e1d7a5b42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FOREIGN_KEY = "fk_published_activity_status_update_id_status_update"
FILL = (
    "UPDATE published_activity SET "
    "status_update_id = (SELECT s.status_update_id FROM status_approved s "
    "WHERE s.period_id = published_activity.period_id "
    "AND s.activity_id = published_activity.activity_id), "
    "version = (SELECT s.version FROM status_approved s "
    "WHERE s.period_id = published_activity.period_id "
    "AND s.activity_id = published_activity.activity_id), "
    "status = (SELECT s.status FROM status_approved s "
    "WHERE s.period_id = published_activity.period_id "
    "AND s.activity_id = published_activity.activity_id)"
)
BUMP = "UPDATE data_revision SET revision = revision + 1 WHERE id = 1"


def _sqlite() -> bool:
    return op.get_context().dialect.name == "sqlite"


def upgrade() -> None:
    if _sqlite():
        # SQLite adds a referencing column in place (a nullable one); a batch would rebuild
        # the table and lose its revision triggers.
        op.execute(
            "ALTER TABLE published_activity ADD COLUMN status_update_id INTEGER "
            f"CONSTRAINT {FOREIGN_KEY} REFERENCES status_update (id)"
        )
    else:
        op.add_column("published_activity", sa.Column("status_update_id", sa.Integer()))
        op.create_foreign_key(
            FOREIGN_KEY,
            "published_activity",
            "status_update",
            ["status_update_id"],
            ["id"],
        )
    op.add_column("published_activity", sa.Column("version", sa.Integer(), nullable=True))
    op.add_column("published_activity", sa.Column("status", sa.String(length=30), nullable=True))
    op.execute(FILL)


def downgrade() -> None:
    with op.batch_alter_table("published_activity", schema=None) as batch_op:
        if not _sqlite():
            batch_op.drop_constraint(FOREIGN_KEY, type_="foreignkey")
        batch_op.drop_column("status")
        batch_op.drop_column("version")
        batch_op.drop_column("status_update_id")
    if _sqlite():
        # The batch rebuilt the table without its triggers: the revision triggers again.
        for verb in ("INSERT", "UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER published_activity_revision_{verb.lower()} AFTER {verb} "
                f"ON published_activity BEGIN {BUMP}; END"
            )
