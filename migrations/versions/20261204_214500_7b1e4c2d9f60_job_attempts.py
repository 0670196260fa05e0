"""job attempts

A job interrupted by a crash is taken up again by another process (app/jobs/service.py): the
number of times it was claimed makes every claim a compare-and-set and bounds the retries. An
index on the state, for the look every worker and web process takes for queued and abandoned
jobs.

Revision ID: 7b1e4c2d9f60
Revises: 3c5e0d9a1b27
Create Date: 2026-12-04 21:45:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # noqa: F401
from alembic import op

revision: str = "7b1e4c2d9f60"
down_revision: str | None = "3c5e0d9a1b27"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.create_index(batch_op.f("ix_job_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_state"))
        batch_op.drop_column("attempts")
