"""Run the `voortgang` command in the test process, as a fresh process would see it.

Typer's runner calls the command in-process: no interpreter start and no import of the app per
call. What a separate process would give for free is made explicit here: the command reads its
settings from the environment given (on top of the test process's own, as a child process
inherits it), it starts in a context of its own (the language of a previous test does not carry
over, and a language the command sets does not leak out), and every database engine the
command connects through is disposed of afterwards.
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from typer.testing import CliRunner, Result

from app.cli import cli


def run_cli(*args: str, env: Mapping[str, str] | None = None) -> Result:
    """`voortgang ARGS` with these environment variables; an exception the command does not
    turn into a message and an exit code fails the test with its traceback."""
    engines: set[Engine] = set()

    def seen(connection: Connection) -> None:
        engines.add(connection.engine)

    event.listen(Engine, "engine_connect", seen)
    try:
        result = contextvars.Context().run(
            CliRunner().invoke,
            cli,
            list(args),
            env=dict(env or {}),
            catch_exceptions=False,
            prog_name="voortgang",
        )
    finally:
        event.remove(Engine, "engine_connect", seen)
        for engine in engines:
            engine.dispose()
    return result
