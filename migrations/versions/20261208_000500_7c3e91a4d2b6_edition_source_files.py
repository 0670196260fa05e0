"""edition source files

A monitor edition's source document is named by its title (monitor_edition.source_document,
"Mensenhandelmonitor 2020, Regio Rotterdam"), which the factsheet and the pages print; the
files it was taken from (the seed's shared/seeds/… text files) are kept beside it, in
monitor_edition.source_files, for the open data's provenance. The seed filled
source_document with title and files in one text; loading the seed again splits them.

Revision ID: 7c3e91a4d2b6
Revises: b7e3d1a9c420
Create Date: 2026-12-08 00:05:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c3e91a4d2b6"
down_revision: str | None = "b7e3d1a9c420"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "monitor_edition",
        sa.Column("source_files", sa.Text(), nullable=False, server_default=""),
    )


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN, also on SQLite (3.35+): a batch copy of the table would break
    # the triggers that name it (monitor_figure_published_guard).
    op.drop_column("monitor_edition", "source_files")
