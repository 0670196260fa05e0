"""audit event source

Where an audited change came from: the web, the API, an import or the command line. Events
recorded before have none (shown as "unknown"). A plain ADD COLUMN, so SQLite keeps the
table's append-only triggers (a batch rebuild would drop them).

Revision ID: 3c9e1d7a5b42
Revises: fa692fa84ad9
Create Date: 2026-12-03 12:19:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # noqa: F401
from alembic import op

revision: str = "3c9e1d7a5b42"
down_revision: str | None = "fa692fa84ad9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("audit_event", sa.Column("source", sa.String(length=20), nullable=True))


def downgrade() -> None:
    # DROP COLUMN of a plain column needs no table rebuild (SQLite 3.35+, PostgreSQL).
    op.drop_column("audit_event", "source")
