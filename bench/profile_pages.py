"""Where a page's time goes: SQL vs read-model (Python) vs template rendering, in-process.

    .venv/bin/python bench/profile_pages.py [--db bench/work/bench.db] [--repeat 20]
        [--plans] [--cprofile PAGE] [--cache]

For each benchmarked page it calls the route directly, in this thread, with a real Request
(signed in as the benchmark's viewer, like bench/run.py) and a session: the app-wide
dependencies (route rule, sign-in lookup), then the route function, each given its
dependencies the way FastAPI does; no HTTP server, no ASGI middleware. The page cache is off
(CACHE_SIZE=0; --cache keeps it on), so every call renders afresh. It reports medians of: the
whole call ("route"); the read-model calls (queries + building rows); the pure SQLite time of
the statements they ran (each replayed with the sqlite3 module and fully fetched); the
template rendering (pages and fragments); and the rest ("other": sign-in lookup, session,
commit, filters). The HTTP stack's share is the difference between wrk's p50 (bench/run.py)
and "route". --plans prints EXPLAIN QUERY PLAN of every statement; --cprofile "full list 100x"
prints the top functions of one page.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import io
import os
import pstats
import sqlite3
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

REAL = "samen-tegen-mensenhandel"


def pages(scale: int) -> dict[str, str]:
    result = {}
    for slug, size in ((REAL, "real"), (f"bench-{scale}x", f"{scale}x")):
        base = f"/programmes/{slug}"
        result[f"board {size}"] = base
        result[f"full list {size}"] = f"{base}/activities"
        result[f"filtered list {size}"] = f"{base}/activities?status=delayed&action_line=2"
        result[f"search {size}"] = f"{base}/activities?q=training"
    return result


class Timers:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.readmodel = 0.0
        self.render = 0.0
        self.statements: list[tuple[str, tuple]] = []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=BENCH / "work" / "bench.db")
    parser.add_argument("--scale", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--plans", action="store_true", help="EXPLAIN QUERY PLAN each statement")
    parser.add_argument("--cprofile", metavar="PAGE", help='e.g. "full list 100x"')
    parser.add_argument(
        "--cache", action="store_true", help="keep the page cache on (default: off, CACHE_SIZE=0)"
    )
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = f"sqlite:///{args.db.resolve()}"
    if not args.cache:  # else every call after the first is served from the cache
        os.environ["CACHE_SIZE"] = "0"
    sys.path.insert(0, str(BENCH))
    from run import signed_in_headers

    cookie = signed_in_headers(args.db.resolve()).get("Cookie", "")

    from sqlalchemy import event

    import app.board.routes as routes
    import app.web as web
    from app.main import create_app

    timers = Timers()

    def timed(attribute: str, function):  # type: ignore[no-untyped-def]
        @functools.wraps(function)
        def wrapper(*a, **k):  # type: ignore[no-untyped-def]
            started = time.perf_counter()
            try:
                return function(*a, **k)
            finally:
                elapsed = time.perf_counter() - started
                setattr(timers, attribute, getattr(timers, attribute) + elapsed)

        return wrapper

    # Read-model functions the routes call (they are module attributes of readmodel).
    for name in (
        "get_programme",
        "list_periods",
        "board",
        "list_activities",
        "list_action_lines",
        "list_organisations",
    ):
        setattr(routes.readmodel, name, timed("readmodel", getattr(routes.readmodel, name)))
    original_response = web.templates.TemplateResponse

    def template_response(*a, **k):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return original_response(*a, **k)
        finally:
            timers.render += time.perf_counter() - started

    web.templates.TemplateResponse = template_response  # type: ignore[method-assign]
    original_block = web.render_block

    def render_block(*a, **k):  # type: ignore[no-untyped-def]  # a fragment (the list's rows)
        started = time.perf_counter()
        try:
            return original_block(*a, **k)
        finally:
            timers.render += time.perf_counter() - started

    web.render_block = render_block

    application = create_app()

    @event.listens_for(application.state.engine, "before_cursor_execute")
    def _record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        timers.statements.append((statement, tuple(parameters or ())))

    raw = sqlite3.connect(args.db)

    def sql_time(statement: str, parameters: tuple) -> float:
        started = time.perf_counter()
        raw.execute(statement, parameters).fetchall()
        return time.perf_counter() - started

    print(
        f"{'page':22} {'route':>8} {'readmodel':>9} {'(sql)':>7} {'render':>7} {'other':>7}"
        "   ms, medians"
    )
    for name, path in pages(args.scale).items():
        if args.cprofile and name != args.cprofile:
            continue
        call = direct_call(application, cookie, path)
        call()
        rows = []
        for _ in range(args.repeat):
            timers.reset()
            started = time.perf_counter()
            call()
            total = time.perf_counter() - started
            sql = sum(sql_time(s, p) for s, p in timers.statements)
            rows.append((total, timers.readmodel, sql, timers.render))
        columns = zip(*rows, strict=True)
        total, readmodel, sql, render = (statistics.median(c) * 1000 for c in columns)
        print(
            f"{name:22} {total:8.1f} {readmodel:9.1f} {sql:7.1f} {render:7.1f} "
            f"{total - readmodel - render:7.1f}"
        )
        if args.plans or args.cprofile:
            for statement, parameters in timers.statements:
                ms = statistics.median(sql_time(statement, parameters) for _ in range(5)) * 1000
                print(f"\n  -- {ms:.2f} ms, params {parameters}\n  {' '.join(statement.split())}")
                for row in raw.execute("EXPLAIN QUERY PLAN " + statement, parameters):
                    print(f"     {row[1]:>3} {row[3]}")
        if args.cprofile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.repeat):
                call()
            profiler.disable()
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats("cumulative").print_stats(45)
            stats.sort_stats("tottime").print_stats(25)
            print(out.getvalue())


def direct_call(application, cookie: str, path: str):  # type: ignore[no-untyped-def]
    """The route of `path`, called in this thread with a real Request and session: its
    app-wide dependencies first (the route rule and sign-in lookup, the header's programmes),
    then the route function, each given its dependencies the way FastAPI does (no ASGI)."""
    from urllib.parse import urlsplit

    from sqlmodel import Session
    from starlette.requests import Request
    from starlette.routing import Match

    parts = urlsplit(path)
    scope = {
        "type": "http",
        "method": "GET",
        "path": parts.path,
        "query_string": parts.query.encode(),
        "headers": [(b"cookie", cookie.encode())] if cookie else [],
        "app": application,
        "router": application.router,
        "root_path": "",
        "scheme": "http",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 1),
    }
    route = next(r for r in _routes(application.router) if r.matches(scope)[0] == Match.FULL)
    scope.update(route.matches(scope)[1], route=route)  # endpoint, converted path parameters

    def call():  # type: ignore[no-untyped-def]
        request = Request({**scope, "state": {}})
        with Session(application.state.engine, expire_on_commit=False) as session:
            resolved: dict = {}
            for dependency in application.router.dependencies:
                _resolve(dependency.dependency, request, session, resolved)
            response = _resolve(route.endpoint, request, session, resolved)
            session.commit()
        assert response.status_code == 200, (path, response.status_code)

    return call


def _routes(router):  # type: ignore[no-untyped-def]
    """Every route of the app, inside the routers it includes (none has a prefix)."""
    for route in router.routes:
        included = getattr(route, "original_router", None)  # FastAPI's included router
        if included is not None:
            yield from _routes(included)
        else:
            yield route


def _resolve(function, request, session, resolved: dict):  # type: ignore[no-untyped-def]
    """Call `function` with its parameters as FastAPI gives them: the request, the path
    parameters, and each `Depends(...)` resolved the same way (once per request); the request's
    database session stands in for the app's session dependency."""
    import asyncio
    import inspect
    import typing

    from fastapi import params
    from starlette.requests import Request

    from app.deps import get_session

    if function is get_session:
        return session
    if function in resolved:
        return resolved[function]
    hints = typing.get_type_hints(function, include_extras=True)
    arguments = {}
    for name, parameter in inspect.signature(function).parameters.items():
        hint = hints.get(name)
        depends = next(
            (m for m in getattr(hint, "__metadata__", ()) if isinstance(m, params.Depends)),
            parameter.default if isinstance(parameter.default, params.Depends) else None,
        )
        if depends is not None:
            arguments[name] = _resolve(depends.dependency, request, session, resolved)
        elif hint is Request:
            arguments[name] = request
        elif name in request.path_params:
            arguments[name] = request.path_params[name]
    value = function(**arguments)
    if inspect.iscoroutine(value):
        value = asyncio.new_event_loop().run_until_complete(value)
    resolved[function] = value
    return value


if __name__ == "__main__":
    main()
