"""Alembic environment: the URL comes from the caller's connection or from the app settings."""

from __future__ import annotations

from alembic import context

import app.models  # noqa: F401  (registers every table on the metadata)
from app.config import get_settings
from app.db import include_name, make_engine
from app.dbtypes import metadata


def run_migrations(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    engine = make_engine(get_settings().database_url)
    with engine.connect() as conn:
        run_migrations(conn)
    engine.dispose()
