"""review of follow-up entries

A review note is on one version of an activity's status, of a monitor figure, or (new) of a
recommendation's follow-up entry (review_note.recommendation_entry_id): the CHECK one_subject
keeps exactly one of the three set. A note on a follow-up entry of a published period is
refused by the database (review_note_follow_up_published_guard), as a note on a status update
or a figure version is; a correction (`correcting`) takes notes until it is republished.

On SQLite the table is rebuilt (batch mode), which drops its triggers; they are read before
and made again after, unchanged.

Revision ID: b3e71c5a9d20
Revises: 7c3e91a4d2b6
Create Date: 2026-12-08 00:10:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b3e71c5a9d20"
down_revision: str | None = "7c3e91a4d2b6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TWO_SUBJECTS = "(status_update_id IS NULL) <> (figure_version_id IS NULL)"
THREE_SUBJECTS = (
    "(CASE WHEN status_update_id IS NULL THEN 0 ELSE 1 END"
    " + CASE WHEN figure_version_id IS NULL THEN 0 ELSE 1 END"
    " + CASE WHEN recommendation_entry_id IS NULL THEN 0 ELSE 1 END) = 1"
)
TRIGGER = "review_note_follow_up_published_guard"
PUBLISHED_MESSAGE = "the reporting period is published: reopen it before changing it"
FOLLOW_UP_NOTE_PUBLISHED = (
    "NEW.recommendation_entry_id IS NOT NULL AND (SELECT p.state FROM reporting_period p "
    "JOIN recommendation_entry e ON e.period_id = p.id "
    "WHERE e.id = NEW.recommendation_entry_id) = 'published'"
)


def _sqlite() -> bool:
    return op.get_context().dialect.name == "sqlite"


def _sqlite_triggers() -> list[str]:
    if not _sqlite():
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
        batch_op.add_column(sa.Column("recommendation_entry_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_review_note_recommendation_entry_id_recommendation_entry"),
            "recommendation_entry",
            ["recommendation_entry_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch_op.create_index(
            batch_op.f("ix_review_note_recommendation_entry_id"),
            ["recommendation_entry_id"],
            unique=False,
        )
        batch_op.drop_constraint("one_subject", type_="check")
        batch_op.create_check_constraint("one_subject", THREE_SUBJECTS)
    _restore(triggers)
    if _sqlite():
        op.execute(
            f"CREATE TRIGGER {TRIGGER} BEFORE INSERT ON review_note "
            f"WHEN {FOLLOW_UP_NOTE_PUBLISHED} BEGIN SELECT RAISE(ABORT, '{PUBLISHED_MESSAGE}'); "
            "END"
        )
        return
    op.execute(
        f"CREATE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN IF {FOLLOW_UP_NOTE_PUBLISHED} THEN RAISE EXCEPTION '{PUBLISHED_MESSAGE}'; "
        "END IF; RETURN NEW; END $$"
    )
    op.execute(
        f"CREATE TRIGGER {TRIGGER} BEFORE INSERT ON review_note "
        f"FOR EACH ROW EXECUTE FUNCTION {TRIGGER}()"
    )


def downgrade() -> None:
    # Notes on follow-up entries have no place in the older schema; the table is append-only,
    # so its triggers are set aside while they go.
    if _sqlite():
        op.execute(f"DROP TRIGGER {TRIGGER}")
        triggers = _sqlite_triggers()
        for statement in triggers:
            op.execute(f"DROP TRIGGER {statement.split()[2]}")
        op.execute("DELETE FROM review_note WHERE recommendation_entry_id IS NOT NULL")
    else:
        triggers = []
        op.execute(f"DROP TRIGGER {TRIGGER} ON review_note")
        op.execute(f"DROP FUNCTION {TRIGGER}()")
        op.execute("ALTER TABLE review_note DISABLE TRIGGER review_note_append_only")
        op.execute("DELETE FROM review_note WHERE recommendation_entry_id IS NOT NULL")
        op.execute("ALTER TABLE review_note ENABLE TRIGGER review_note_append_only")
    with op.batch_alter_table("review_note", schema=None) as batch_op:
        batch_op.drop_constraint("one_subject", type_="check")
        batch_op.drop_index(batch_op.f("ix_review_note_recommendation_entry_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_review_note_recommendation_entry_id_recommendation_entry"),
            type_="foreignkey",
        )
        batch_op.drop_column("recommendation_entry_id")
        batch_op.create_check_constraint("one_subject", TWO_SUBJECTS)
    _restore(triggers)
