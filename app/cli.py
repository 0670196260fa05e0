"""The `voortgang` command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from app.config import PROJECT_ROOT, get_settings

cli = typer.Typer(
    help="Voortgang: progress tracker for government programmes.",
    no_args_is_help=True,
    add_completion=False,
)
db_cli = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
cli.add_typer(db_cli, name="db")

DEFAULT_SEED = PROJECT_ROOT / "seed" / "samen-tegen-mensenhandel.yaml"


def alembic_config():  # type: ignore[no-untyped-def]
    from alembic.config import Config

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    return config


def run_alembic(action: str, revision: str, database_url: str | None = None) -> None:
    """Run an Alembic command on the configured database (or the given URL)."""
    from alembic import command

    from app.db import make_engine

    url = database_url or get_settings().database_url
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            getattr(command, action)(config, revision)
    finally:
        engine.dispose()


@db_cli.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision")] = "head",
) -> None:
    """Create or update the schema to the latest migration (or REVISION)."""
    run_alembic("upgrade", revision)
    typer.echo(f"Database at {revision}.")


@db_cli.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, e.g. -1 or base")],
) -> None:
    """Undo migrations down to REVISION."""
    run_alembic("downgrade", revision)
    typer.echo(f"Database at {revision}.")


@db_cli.command("current")
def db_current() -> None:
    """Show the revision the database is at."""
    from sqlalchemy import inspect, text

    from app.db import make_engine

    engine = make_engine(get_settings().database_url)
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            typer.echo("No schema yet: run `voortgang db upgrade`.")
            return
        typer.echo(connection.execute(text("SELECT version_num FROM alembic_version")).scalar())


@cli.command()
def seed(
    file: Annotated[
        Path, typer.Argument(help="Seed file (YAML, see seed/README.md)", show_default=True)
    ] = DEFAULT_SEED,
) -> None:
    """Load a programme from a seed file.

    Running it twice changes nothing; a bad file is refused with the places that are wrong,
    and the database is left as it was.
    """
    from app.db import engine_for, session_scope
    from app.seeding.service import SeedError, load_seed_file

    engine = engine_for(get_settings())
    try:
        for session in session_scope(engine):
            report = load_seed_file(session, file)
    except SeedError as error:
        typer.echo(error.message, err=True)
        raise typer.Exit(code=1) from None
    finally:
        engine.dispose()
    if not report.changed:
        typer.echo(f"{file.name}: already loaded, nothing changed.")
        return
    for label, bucket in (("created", report.created), ("updated", report.updated)):
        if bucket:
            summary = ", ".join(f"{count} {kind}" for kind, count in sorted(bucket.items()))
            typer.echo(f"{file.name}: {label} {summary}.")


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on [env HOST]")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on [env PORT]")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development)")] = False,
) -> None:
    """Serve the web app with uvicorn."""
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        reload=reload,
        proxy_headers=True,
    )


def main() -> None:
    cli(prog_name="voortgang")


if __name__ == "__main__":
    sys.exit(main())
