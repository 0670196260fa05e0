"""retiring structure

Revision ID: ea7faf33507c
Revises: 208d8ce111e0
Create Date: 2026-11-23 05:51:21.668583
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # noqa: F401
from alembic import op

revision: str = "ea7faf33507c"
down_revision: str | None = "208d8ce111e0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


TABLES = ("action_line", "theme", "result", "activity")


def upgrade() -> None:
    # Plain ADD COLUMN (no batch rebuild), so the search triggers on activity stay in place.
    for table in TABLES:
        op.add_column(table, sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # DROP COLUMN of a plain column needs no table rebuild (SQLite 3.35+, PostgreSQL).
    for table in TABLES:
        op.drop_column(table, "retired_at")
