"""review of figure versions

A review note is on one version of an activity's status or (new) on one version of a monitor
figure: status_update_id becomes nullable, figure_version_id is added, and a CHECK keeps
exactly one of the two set. The triggers on review_note stay as they were: for a figure's note
they find no status update and do nothing (the figure version table has its own guards).

On SQLite the table is rebuilt (batch mode), which drops its triggers; they are read before
and made again after, unchanged.

Revision ID: e2b7c9d41a68
Revises: c4a8e2f17b90
Create Date: 2026-12-07 15:25:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e2b7c9d41a68"
down_revision: str | None = "c4a8e2f17b90"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ONE_SUBJECT = "(status_update_id IS NULL) <> (figure_version_id IS NULL)"


def _sqlite_triggers() -> list[str]:
    if op.get_context().dialect.name != "sqlite":
        return []
    rows = op.get_bind().execute(
        sa.text(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'review_note' "
            "ORDER BY name"
        )
    )
    return [row[0] for row in rows]


def _restore(triggers: list[str]) -> None:
    for statement in triggers:
        op.execute(statement)


def upgrade() -> None:
    triggers = _sqlite_triggers()
    with op.batch_alter_table("review_note", schema=None) as batch_op:
        batch_op.alter_column("status_update_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("figure_version_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_review_note_figure_version_id_monitor_figure_version"),
            "monitor_figure_version",
            ["figure_version_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch_op.create_index(
            batch_op.f("ix_review_note_figure_version_id"), ["figure_version_id"], unique=False
        )
        batch_op.create_check_constraint("one_subject", ONE_SUBJECT)
    _restore(triggers)


def downgrade() -> None:
    # Notes on figure versions have no place in the older schema; the table is append-only,
    # so the triggers are set aside while they go.
    triggers = _sqlite_triggers()
    if op.get_context().dialect.name == "sqlite":
        for statement in triggers:
            name = statement.split()[2]
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DELETE FROM review_note WHERE figure_version_id IS NOT NULL")
    else:
        op.execute("ALTER TABLE review_note DISABLE TRIGGER review_note_append_only")
        op.execute("DELETE FROM review_note WHERE figure_version_id IS NOT NULL")
        op.execute("ALTER TABLE review_note ENABLE TRIGGER review_note_append_only")
    with op.batch_alter_table("review_note", schema=None) as batch_op:
        batch_op.drop_constraint("one_subject", type_="check")
        batch_op.drop_index(batch_op.f("ix_review_note_figure_version_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_review_note_figure_version_id_monitor_figure_version"),
            type_="foreignkey",
        )
        batch_op.drop_column("figure_version_id")
        batch_op.alter_column("status_update_id", existing_type=sa.Integer(), nullable=False)
    _restore(triggers)
