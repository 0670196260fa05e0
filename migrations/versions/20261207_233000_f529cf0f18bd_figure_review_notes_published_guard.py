"""figure review notes published guard

A review note on a figure version (review_note.figure_version_id, migration e2b7c9d41a68) in
a published monitor edition is refused by the database, as a note on a status update in a
published period is (review_note_published_guard, which finds no status update for a
figure's note and lets it through). A correction (`correcting`) takes notes until it is
republished.

Revision ID: f529cf0f18bd
Revises: 0f80181618f0
Create Date: 2026-12-07 23:30:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "f529cf0f18bd"
down_revision: str | None = "0f80181618f0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGER = "review_note_figure_published_guard"
PUBLISHED_MESSAGE = "the monitor edition is published: reopen it before changing it"
FIGURE_NOTE_PUBLISHED = (
    "NEW.figure_version_id IS NOT NULL AND (SELECT p.state FROM reporting_period p "
    "JOIN monitor_edition e ON e.period_id = p.id "
    "JOIN monitor_figure f ON f.edition_id = e.id "
    "JOIN monitor_figure_version v ON v.figure_id = f.id "
    "WHERE v.id = NEW.figure_version_id) = 'published'"
)


def upgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        op.execute(
            f"CREATE TRIGGER {TRIGGER} BEFORE INSERT ON review_note "
            f"WHEN {FIGURE_NOTE_PUBLISHED} BEGIN SELECT RAISE(ABORT, '{PUBLISHED_MESSAGE}'); END"
        )
        return
    op.execute(
        f"CREATE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN IF {FIGURE_NOTE_PUBLISHED} THEN RAISE EXCEPTION '{PUBLISHED_MESSAGE}'; "
        "END IF; RETURN NEW; END $$"
    )
    op.execute(
        f"CREATE TRIGGER {TRIGGER} BEFORE INSERT ON review_note "
        f"FOR EACH ROW EXECUTE FUNCTION {TRIGGER}()"
    )


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        op.execute(f"DROP TRIGGER {TRIGGER}")
        return
    op.execute(f"DROP TRIGGER {TRIGGER} ON review_note")
    op.execute(f"DROP FUNCTION {TRIGGER}()")
