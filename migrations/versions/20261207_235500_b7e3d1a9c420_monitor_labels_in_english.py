"""monitor labels in English

The monitor's seeded labels that pages print were Dutch only, also on English pages: a
breakdown's dimension and category (monitor_figure.dimension_en, category_en), a footnote's
text (monitor_footnote.text_en) and a chain's title and caveat (monitor_chain.title_en,
caveat_en). The Dutch stays the source text; the English is its faithful translation, empty
where none was given (the pages then print the Dutch, marked as Dutch). Plain added columns
(no table is rebuilt, so the tables' triggers stay); `voortgang seed` fills them for the
seeded editions.

Revision ID: b7e3d1a9c420
Revises: f529cf0f18bd
Create Date: 2026-12-07 23:55:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7e3d1a9c420"
down_revision: str | None = "f529cf0f18bd"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("monitor_figure", "dimension_en", sa.String(length=100)),
    ("monitor_figure", "category_en", sa.String(length=200)),
    ("monitor_footnote", "text_en", sa.Text()),
    ("monitor_chain", "title_en", sa.Text()),
    ("monitor_chain", "caveat_en", sa.Text()),
)


def upgrade() -> None:
    for table, column, kind in COLUMNS:
        op.add_column(table, sa.Column(column, kind, nullable=True))


def downgrade() -> None:
    for table, column, _ in reversed(COLUMNS):
        op.drop_column(table, column)
