"""reminder schedule and runs

Reminders planned per period (N days before its deadline) and every time a period's reminders
went out; a planned one is claimed once per period and due date (a unique key), so two
processes checking at the same moment send it once. Neither table is read by the read-model
(the period's page reads them, uncached), so neither raises the data revision.

Revision ID: 468db29dea58
Revises: e07c804dd5dc
Create Date: 2026-12-03 08:30:21.255793+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # noqa: F401
from alembic import op

revision: str = "468db29dea58"
down_revision: str | None = "e07c804dd5dc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reminder_schedule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("days_before", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "days_before >= 0 AND days_before <= 366", name=op.f("ck_reminder_schedule_days")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
            name=op.f("fk_reminder_schedule_created_by_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["reporting_period.id"],
            name=op.f("fk_reminder_schedule_period_id_reporting_period"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_schedule")),
        sa.UniqueConstraint(
            "period_id", "days_before", name=op.f("uq_reminder_schedule_period_id_days_before")
        ),
    )
    with op.batch_alter_table("reminder_schedule", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reminder_schedule_period_id"), ["period_id"], unique=False
        )

    op.create_table(
        "reminder_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("days_before", sa.Integer(), nullable=True),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("open_activities", sa.Integer(), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("without_editors", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["app_user.id"], name=op.f("fk_reminder_run_actor_id_app_user")
        ),
        sa.ForeignKeyConstraint(["job_id"], ["job.id"], name=op.f("fk_reminder_run_job_id_job")),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["reporting_period.id"],
            name=op.f("fk_reminder_run_period_id_reporting_period"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_run")),
        sa.UniqueConstraint("period_id", "due_on", name=op.f("uq_reminder_run_period_id_due_on")),
    )
    with op.batch_alter_table("reminder_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reminder_run_period_id"), ["period_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reminder_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reminder_run_period_id"))

    op.drop_table("reminder_run")
    with op.batch_alter_table("reminder_schedule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reminder_schedule_period_id"))

    op.drop_table("reminder_schedule")
