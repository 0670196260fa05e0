"""account tokens

Links that let a person choose a password: a reset link asked for on "Forgot your password?",
and the invitation an admin's new account sends. Only a hash of each link's token is stored;
a link works once (used_at) and until expires_at. No trigger: nothing cached reads this table
(docs/triggers.md).

Revision ID: fa692fa84ad9
Revises: 468db29dea58
Create Date: 2026-12-03 11:09:59+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # noqa: F401
from alembic import op

revision: str = "fa692fa84ad9"
down_revision: str | None = "468db29dea58"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_account_token_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_token")),
    )
    with op.batch_alter_table("account_token", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_account_token_token_hash"), ["token_hash"], unique=True
        )
        batch_op.create_index(batch_op.f("ix_account_token_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("account_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_token_user_id"))
        batch_op.drop_index(batch_op.f("ix_account_token_token_hash"))

    op.drop_table("account_token")
