"""Typed request dependencies."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import Annotated

import anyio
from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from sqlmodel import Session

from app.config import Settings
from app.db import RequestTurns, for_writing
from app.text import control_character_problem

# Requests that only read; every other method may write.
READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request: committed when the route succeeds, rolled back otherwise.

    The request first waits for its turn (app/db.py RequestTurns: no more requests use the
    database at once than the pool has connections), in the event loop; the session's work
    runs in the thread pool, as the sync routes do. A request that may write (any method but
    GET, HEAD and OPTIONS) takes SQLite's write lock when its transaction begins.

    Used with scope="function": the commit happens when the route returns, before the response
    is sent. (FastAPI's default scope for a dependency with yield runs its exit code after the
    response is sent: a browser could then follow a redirect before the change was committed
    and see the old state, and a failing commit would follow a response that said "done".)"""
    turns: RequestTurns = request.app.state.database_turns
    engine = request.app.state.engine
    async with turns.turn():
        bind = engine if request.method in READING_METHODS else for_writing(engine)
        session = Session(bind, expire_on_commit=False)
        try:
            yield session
        except BaseException:
            await _in_thread_even_if_cancelled(partial(_end, session, commit=False))
            raise
        # One trip to the thread pool for the commit and the close, not one each: every
        # request makes it, and a trip costs more than the commit of a read (about 0.25
        # million instructions, a twelfth of a cached page's).
        await _in_thread_even_if_cancelled(partial(_end, session, commit=True))


def _end(session: Session, *, commit: bool) -> None:
    """Commit (or roll back) and close: the connection goes back to the pool clean, also
    when the commit fails (the error then goes on to the app)."""
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


async def _in_thread_even_if_cancelled(work: Callable[[], None]) -> None:
    # The connection must go back to the pool clean, also when the client went away.
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(work)


async def get_app_settings(request: Request) -> Settings:
    # Async, as every dependency that does no I/O: a sync one costs a trip to the thread pool.
    return request.app.state.settings


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]


async def refuse_control_characters_in_url(request: Request) -> None:
    """App-wide dependency: no path or query parameter may hold a control character (see
    app/text.py), whether the route declares it or reads the query string itself. Refused as
    FastAPI refuses a declared parameter: 422, with the parameter's place and name. (Async:
    no database, so no trip through the thread pool.)"""
    problems = [
        {"type": "control_character", "loc": (place, name), "msg": problem, "input": value}
        for place, items in (
            ("path", request.path_params.items()),
            ("query", request.query_params.multi_items()),
        )
        for name, value in items
        if isinstance(value, str) and (problem := control_character_problem(value))
    ]
    if problems:
        raise RequestValidationError(problems)
