"""Benchmark the board and the activity list against a minimal page and Datasette.

    .venv/bin/python bench/run.py [--regenerate] [--scale 100] [--duration 5] [--check]
    .venv/bin/python bench/run.py --round        # only the update round (SQLite, PostgreSQL)

Generates the databases in bench/work/ when missing, then for each target starts one server
process (one uvicorn worker) in a subprocess, waits until it answers, checks each page, warms up
and measures it with wrk twice: one connection (`-t1 -c1`: p50 latency, no queueing) and eight
connections (`-t2 -c8`: throughput and p99 under load). Then the revalidation (304 answers
against a bare ASGI "ok" app), the bytes on the wire with and without gzip, and an update round
in progress (bench/update_round.py) on SQLite (one worker) and PostgreSQL (two workers).
Writes bench/results/latest.json and bench/results/latest.md (with --round: round.json and
round.md). Every server is stopped at the end, also on error or Ctrl-C.
See bench/README.md for what the figures mean and the targets.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
WORK = BENCH / "work"
RESULTS = BENCH / "results"
# The project's virtual environment, else the one running this (a git worktree has none).
VENV_BIN = ROOT / ".venv" / "bin"
if not VENV_BIN.exists():
    VENV_BIN = Path(sys.executable).parent
REAL_SLUG = "samen-tegen-mensenhandel"
WRK = shutil.which("wrk") or "/usr/bin/wrk"

sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))
import update_round  # noqa: E402
from generate import bench_slug, fingerprint, generate  # noqa: E402

# --- Running processes -----------------------------------------------------------------------

_servers: list[subprocess.Popen] = []


# With --ports FIRST, the servers listen on FIRST, FIRST + 1, ... (in turn); else on free ports.
_ports: list[int] = []


def free_port() -> int:
    if _ports:
        port = _ports[0]
        _ports[0] += 1
        return port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop(process: subprocess.Popen) -> None:
    """Stop a server we started (its own process group), politely first."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    if process in _servers:
        _servers.remove(process)


def stop_all() -> None:
    for process in list(_servers):
        stop(process)


def _on_signal(signum, _frame):  # type: ignore[no-untyped-def]
    stop_all()
    if signum == signal.SIGALRM:
        print("bench/run.py: time limit reached, servers stopped", file=sys.stderr)
    raise SystemExit(128 + signum)


def fetch(
    url: str, timeout: float = 30, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def fetch_raw(
    url: str, headers: dict[str, str] | None = None, timeout: float = 30
) -> tuple[int, dict[str, str], bytes]:
    """A GET with http.client: the status, the headers (lower-case names) and the body as sent
    (chunked framing removed, a compressed body left compressed)."""
    parsed = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parsed.hostname or "", parsed.port, timeout=timeout)
    try:
        target = parsed.path + (f"?{parsed.query}" if parsed.query else "")
        # Without an Accept-Encoding of ours, http.client sends "identity".
        connection.request("GET", target, headers=headers or {})
        response = connection.getresponse()
        body = response.read()
        found = {k.lower(): v for k, v in response.getheaders()}
        cookies = response.headers.get_all("Set-Cookie") or []
        if cookies:
            found["set-cookie"] = "\n".join(cookies)
        return response.status, found, body
    finally:
        connection.close()


@contextlib.contextmanager
def server(
    name: str, command: list[str], env: dict[str, str], probe: str, timeout: float = 60
) -> Iterator[subprocess.Popen]:
    """Start `command` (which must listen on the port in `probe`), yield once it answers."""
    log_path = WORK / "logs" / f"{name}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _servers.append(process)
        try:
            deadline = time.monotonic() + timeout
            while True:
                if process.poll() is not None:
                    raise RuntimeError(
                        f"{name} exited with {process.returncode}; see {log_path}:\n"
                        + log_path.read_text(errors="replace")[-2000:]
                    )
                with contextlib.suppress(OSError):
                    fetch(probe, timeout=5)
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not answer within {timeout:.0f}s")
                time.sleep(0.2)
            yield process
        finally:
            stop(process)


def cpu_busy(seconds: float = 1.0) -> float:
    """Share of all CPUs busy over `seconds` (from /proc/stat), 0..1; 0 where unknown."""

    def sample() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        return sum(fields), idle

    try:
        total_1, idle_1 = sample()
        time.sleep(seconds)
        total_2, idle_2 = sample()
    except (OSError, ValueError, IndexError):
        return 0.0
    total = total_2 - total_1
    return 1 - (idle_2 - idle_1) / total if total else 0.0


def wait_until_quiet(limit: float, threshold: float = 0.1, verbose: bool = True) -> float:
    """Wait (up to `limit` seconds) until the machine is nearly idle; return the busy share."""
    deadline = time.monotonic() + limit
    busy = cpu_busy()
    if busy > threshold and limit > 0 and verbose:
        print(f"Machine busy ({busy:.0%} CPU): waiting up to {limit:.0f} s ...", flush=True)
    while busy > threshold and time.monotonic() < deadline:
        busy = cpu_busy(2)
    if busy > threshold and verbose:
        print(
            f"Note: {busy:.0%} of the CPUs are busy with other work: the figures will be "
            "lower and noisier than on a quiet machine.",
            flush=True,
        )
    return busy


# --- wrk -------------------------------------------------------------------------------------

_SOCKET_ERRORS = ("connect", "read", "write", "timeout")
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if not match:
        raise ValueError(f"unexpected wrk duration {value!r}")
    return float(match[1]) * _UNITS[match[2]]


@dataclass
class WrkResult:
    threads: int
    connections: int
    seconds: float
    requests: int
    requests_per_second: float
    p50_ms: float
    p75_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    non_2xx: int = 0
    socket_errors: dict[str, int] = field(default_factory=dict)
    # CPU used during the run, in CPUs (1.0 = one CPU fully busy): by the server process, by
    # wrk, and by anything else on the machine (other work makes the figures noisy).
    server_cpu: float = 0.0
    wrk_cpu: float = 0.0
    other_cpu: float = 0.0


def parse_wrk(output: str, threads: int, connections: int, seconds: float) -> WrkResult:
    percentiles = {
        int(p): _ms(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", output, re.M)
    }
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    count = re.search(r"^\s+(\d+) requests in", output, re.M)
    latency_max = re.search(r"^\s+Latency\s+\S+\s+\S+\s+(\S+)", output, re.M)
    if not (rps and count and len(percentiles) == 4):
        raise RuntimeError(f"cannot parse wrk output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkResult(
        threads=threads,
        connections=connections,
        seconds=seconds,
        requests=int(count[1]),
        requests_per_second=float(rps[1]),
        p50_ms=percentiles[50],
        p75_ms=percentiles[75],
        p90_ms=percentiles[90],
        p99_ms=percentiles[99],
        max_ms=_ms(latency_max[1]) if latency_max else 0.0,
        non_2xx=int(non_2xx[1]) if non_2xx else 0,
        socket_errors=(
            dict(zip(_SOCKET_ERRORS, map(int, errors.groups()), strict=True)) if errors else {}
        ),
    )


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_snapshot(pid: int | None) -> tuple[float, float, float, float]:
    """(wall time, seconds of busy CPU machine-wide, of process `pid`, of reaped children)."""
    busy = server = 0.0
    with contextlib.suppress(OSError, ValueError, IndexError):
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        busy = (sum(fields[:8]) - fields[3] - fields[4]) / _TICK
    if pid is not None:
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            server = (int(stat[11]) + int(stat[12])) / _TICK
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.monotonic(), busy, server, children.ru_utime + children.ru_stime


def run_wrk(
    url: str,
    threads: int,
    connections: int,
    seconds: int,
    headers: dict[str, str] | None = None,
    server_pid: int | None = None,
) -> WrkResult:
    command = [WRK, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    command += ["--latency", url]
    before = _cpu_snapshot(server_pid)
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 30, check=False
    )
    after = _cpu_snapshot(server_pid)
    if completed.returncode != 0:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr}")
    result = parse_wrk(completed.stdout, threads, connections, seconds)
    wall, busy, server, wrk = (b - a for a, b in zip(before, after, strict=True))
    if wall > 0:
        result.server_cpu = round(server / wall, 2)
        result.wrk_cpu = round(wrk / wall, 2)
        result.other_cpu = round(max(busy - server - wrk, 0) / wall, 2)
    return result


# --- Targets ---------------------------------------------------------------------------------


@dataclass
class Endpoint:
    name: str
    size: str
    path: str
    expect: str  # a string the page must contain (checked before measuring)
    # Counts the table rows shown ("" for a page without a table).
    row_pattern: str = r'<tr[^>]*\bid="activity-\d+"'


@dataclass
class Measurement:
    target: str
    endpoint: str
    size: str
    url: str
    status: int
    bytes: int
    rows: int | None
    one_connection: WrkResult
    eight_connections: WrkResult
    attempts: int = 1


def app_endpoints(scale: int) -> list[Endpoint]:
    endpoints = []
    for slug, size in ((REAL_SLUG, "real"), (bench_slug(scale), f"{scale}x")):
        base = f"/programmes/{slug}"
        endpoints += [
            Endpoint("board", size, base, "board-totals", row_pattern=""),
            Endpoint("full list", size, f"{base}/activities", 'id="results"'),
            Endpoint(
                "filtered list",
                size,
                f"{base}/activities?status=delayed&action_line=2",
                'id="results"',
            ),
            Endpoint("search", size, f"{base}/activities?q=training", 'id="results"'),
            # Not a target: the filter above finds nothing (action line 2 has no delayed
            # activity in the real data); this one shows rows.
            Endpoint(
                "filtered list, line 1 (info)",
                size,
                f"{base}/activities?status=delayed&action_line=1",
                'id="results"',
            ),
        ]
    # Not a target: the framework's floor (middleware, routing, threadpool; no database).
    endpoints.append(
        Endpoint("floor: status.css (info)", "-", "/assets/status.css", ".status--", "")
    )
    return endpoints


@dataclass
class RunSettings:
    seconds: int
    warmup: int
    quiet_wait: int  # seconds to wait for other work to finish, before each page
    retries: int  # extra attempts for a page measured while other work ran
    noisy: float = 0.25  # CPUs of other work above which a page counts as noisy


def _run_page(
    url: str, settings: RunSettings, headers: dict[str, str] | None, pid: int
) -> tuple[WrkResult, WrkResult]:
    wait_until_quiet(settings.quiet_wait, verbose=False)
    run_wrk(url, 1, 1, settings.warmup, headers)
    one = run_wrk(url, 1, 1, settings.seconds, headers, pid)
    eight = run_wrk(url, 2, 8, settings.seconds, headers, pid)
    return one, eight


def measure(
    target: str,
    process: subprocess.Popen,
    port: int,
    endpoints: list[Endpoint],
    settings: RunSettings,
    headers: dict[str, str] | None = None,
) -> list[Measurement]:
    measurements = []
    for endpoint in endpoints:
        url = f"http://127.0.0.1:{port}{endpoint.path}"
        status, body = fetch(url, headers=headers)
        if status != 200 or endpoint.expect.encode() not in body:
            raise RuntimeError(
                f"{target} {endpoint.name} ({endpoint.size}): {url} answered {status}, "
                f"{len(body)} bytes, without {endpoint.expect!r}:\n{body[:500]!r}"
            )
        pattern = endpoint.row_pattern
        rows = len(re.findall(pattern.encode(), body)) if pattern else None
        # Measured again (up to `retries` times) when other work took CPU meanwhile; the
        # attempt with the least other work counts.
        attempts = []
        for _ in range(settings.retries + 1):
            one, eight = _run_page(url, settings, headers, process.pid)
            for result in (one, eight):
                if result.non_2xx or any(result.socket_errors.values()):
                    raise RuntimeError(f"{target} {endpoint.name}: errors under load: {result}")
            attempts.append((max(one.other_cpu, eight.other_cpu), one, eight))
            if attempts[-1][0] <= settings.noisy:
                break
        other, one, eight = min(attempts, key=lambda attempt: attempt[0])
        print(
            f"  {target:10} {endpoint.name:30} {endpoint.size:5} "
            f"{eight.requests_per_second:7.1f} req/s  p50 {one.p50_ms:7.2f} ms  "
            f"p99 {eight.p99_ms:8.2f} ms  ({len(body) / 1024:.0f} KB"
            + ("" if rows is None else f", {rows} rows")
            + f"; other CPU {other:.2f}"
            + (f", {len(attempts)} attempts" if len(attempts) > 1 else "")
            + ")",
            flush=True,
        )
        measurements.append(
            Measurement(
                target,
                endpoint.name,
                endpoint.size,
                url,
                status,
                len(body),
                rows,
                one,
                eight,
                attempts=len(attempts),
            )
        )
    return measurements


def signed_in_headers(database: Path) -> dict[str, str]:
    """A fresh sign-in session of a viewer account in the benchmark database, as a Cookie
    header: the board and the list are for signed-in users. Nothing when the app has no
    accounts."""
    sys.path.insert(0, str(ROOT))
    try:
        from app.accounts import service
        from app.accounts.models import Role
        from app.permissions import SESSION_COOKIE
    except ImportError:
        return {}
    import secrets
    from datetime import timedelta

    from sqlmodel import Session

    from app.db import make_engine
    from app.errors import NotFound

    engine = make_engine(f"sqlite:///{database}")
    try:
        with Session(engine) as session:
            try:
                user = service.get_user_by_email(session, "bench@example.org")
            except NotFound:
                user = service.create_user(
                    session,
                    email="bench@example.org",
                    name="Benchmark",
                    role=Role.viewer,
                    password=secrets.token_urlsafe(24),
                )
            token = service.start_session(session, user, lifetime=timedelta(hours=2))
            session.commit()
    finally:
        engine.dispose()
    return {"Cookie": f"{SESSION_COOKIE}={token}"}


# --- Revalidation, compression ---------------------------------------------------------------


def revalidation_paths(scale: int) -> list[tuple[str, str]]:
    """(name, path) of the pages and the API list whose 304 answers are measured."""
    del scale  # the real programme's: a 304 costs the same at any size
    return [
        ("board", f"/programmes/{REAL_SLUG}"),
        ("full list", f"/programmes/{REAL_SLUG}/activities"),
        ("API list", f"/api/v1/programmes/{REAL_SLUG}/activities"),
    ]


def with_cookies(cookie: str, answer: dict[str, str]) -> str:
    """The Cookie header `cookie` with the cookies an answer's Set-Cookie headers set."""
    from http.cookies import SimpleCookie

    jar: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in cookie.split(";"))):
        name, _, value = part.partition("=")
        jar[name] = value
    for line in answer.get("set-cookie", "").splitlines():
        parsed: SimpleCookie = SimpleCookie()
        parsed.load(line)
        jar.update({name: morsel.value for name, morsel in parsed.items()})
    return "; ".join(f"{name}={value}" for name, value in jar.items())


def measure_revalidation(
    port: int, headers: dict[str, str], settings: RunSettings, pid: int
) -> list[dict]:
    """For each page: its ETag and Cache-Control, whether If-None-Match with that ETag is
    answered 304, and if so wrk's req/s and p99 of those 304s (8 connections, the session
    cookie and the cookies the page set sent)."""
    found = []
    for name, path in revalidation_paths(0):
        url = f"http://127.0.0.1:{port}{path}"
        # As a browser: the cookies the first answer sets (the CSRF cookie) are sent from then
        # on; the ETag is the one a page fetched with them has.
        _, first, _ = fetch_raw(url, headers)
        browser = {**headers, "Cookie": with_cookies(headers.get("Cookie", ""), first)}
        cookie = browser["Cookie"]
        status, answer, body = fetch_raw(url, browser)
        entry: dict = {
            "endpoint": name,
            "url": url,
            "status": status,
            "etag": answer.get("etag"),
            "cache_control": answer.get("cache-control"),
            "bytes": len(body),
        }
        found.append(entry)
        if status != 200:
            entry["note"] = f"answered {status}"
            continue
        if not entry["etag"]:
            entry["note"] = "no ETag sent"
            continue
        conditional = {**browser, "If-None-Match": entry["etag"]}
        again, _, again_body = fetch_raw(url, conditional)
        entry["conditional_status"] = again
        if again != 304:
            entry["note"] = f"If-None-Match with its ETag answered {again}, not 304"
            continue
        requests_file = WORK / f"revalidate-{name.replace(' ', '-')}.txt"
        update_round.write_requests(requests_file, [(path, cookie)])
        wait_until_quiet(settings.quiet_wait, verbose=False)
        extra = {"If-None-Match": entry["etag"]}
        base = f"http://127.0.0.1:{port}"
        for seconds in (settings.warmup, settings.seconds):
            command = update_round.wrk_rotate(WRK, base, requests_file, 8, seconds, extra, 2)
            before = _cpu_snapshot(pid)
            completed = subprocess.run(
                command, capture_output=True, text=True, timeout=seconds + 60, check=False
            )
            after = _cpu_snapshot(pid)
            if completed.returncode != 0:
                raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr}")
        result = update_round.parse_rotate(completed.stdout)
        wall, busy, server_cpu, wrk_cpu = (b - a for a, b in zip(before, after, strict=True))
        entry.update(
            requests=result.requests,
            requests_per_second=round(result.requests_per_second, 1),
            p50_ms=result.percentile(50),
            p99_ms=result.percentile(99),
            statuses={str(k): v for k, v in sorted(result.statuses.items())},
            errors=result.errors(304),
            other_cpu=round(max(busy - server_cpu - wrk_cpu, 0) / wall, 2) if wall else 0.0,
        )
        print(
            f"  304        {name:30} {entry['requests_per_second']:7.1f} req/s  "
            f"p99 {entry['p99_ms']:8.2f} ms  ({len(again_body)} bytes; "
            f"statuses {entry['statuses']})",
            flush=True,
        )
    for entry in found:
        if "note" in entry:
            print(f"  304        {entry['endpoint']:30} {entry['note']}", flush=True)
    return found


def compression_paths(scale: int) -> list[tuple[str, str, str]]:
    big = bench_slug(scale)
    return [
        ("board", "real", f"/programmes/{REAL_SLUG}"),
        ("full list", "real", f"/programmes/{REAL_SLUG}/activities"),
        ("full list", f"{scale}x", f"/programmes/{big}/activities"),
        ("search", f"{scale}x", f"/programmes/{big}/activities?q=training"),
        ("API list", "real", f"/api/v1/programmes/{REAL_SLUG}/activities"),
        ("API list", f"{scale}x", f"/api/v1/programmes/{big}/activities"),
    ]


def measure_compression(port: int, headers: dict[str, str], scale: int) -> list[dict]:
    """Bytes of each response's body on the wire, without and with Accept-Encoding: gzip."""
    found = []
    for name, size, path in compression_paths(scale):
        url = f"http://127.0.0.1:{port}{path}"
        plain_status, plain_headers, plain = fetch_raw(url, headers)
        gzip_status, gzip_headers, packed = fetch_raw(url, {**headers, "Accept-Encoding": "gzip"})
        entry = {
            "endpoint": name,
            "size": size,
            "url": url,
            "status": [plain_status, gzip_status],
            "bytes_identity": len(plain),
            "bytes_gzip": len(packed),
            "content_encoding": gzip_headers.get("content-encoding", ""),
            "vary": gzip_headers.get("vary", ""),
            "ratio": round(len(packed) / len(plain), 3) if plain else None,
        }
        found.append(entry)
        print(
            f"  wire       {name:30} {size:5} {len(plain) / 1024:7.1f} KB plain, "
            f"{len(packed) / 1024:7.1f} KB with gzip accepted "
            f"({entry['content_encoding'] or 'not compressed'})",
            flush=True,
        )
    return found


# --- The update round ------------------------------------------------------------------------


def _postgres_admin_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def _postgres_database(admin_url: str, name: str, create: bool) -> str:
    """Create (or drop) database `name` on the server of `admin_url`; the new one's URL."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    engine = create_engine(_postgres_admin_url(admin_url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if create:
                connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        engine.dispose()
    return (
        make_url(_postgres_admin_url(admin_url))
        .set(database=name)
        .render_as_string(hide_password=False)
    )


def _fresh_sqlite(real_db: Path) -> str:
    """A copy of the real programme's database (migrations + seed), for the round to change."""
    target = WORK / "round.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(real_db, target)
    return f"sqlite:///{target}"


def _seeded_postgres(url: str) -> None:
    from sqlmodel import Session

    from app.cli import DEFAULT_SEED, run_alembic
    from app.db import make_engine
    from app.seeding.service import load_seed_file

    run_alembic("upgrade", "head", database_url=url)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            load_seed_file(session, DEFAULT_SEED)
            session.commit()
    finally:
        engine.dispose()


def _check_round(base: str, data: update_round.RoundData) -> None:
    """Every URL the readers go round answers 200 with the page, as each reader; each editor
    gets an edit form; the sign-in page has a form."""
    for kind, lines in update_round.read_requests(data).items():
        for path, cookie in lines:
            status, body = fetch(base + path, headers={"Cookie": cookie})
            if status != 200 or b"<main" not in body:
                raise RuntimeError(f"round {kind}: {path} answered {status} for {cookie[:30]}")
    for editor in data.editors:
        path = f"/activities/{editor.activities[0]}/edit?context=page"
        status, body = fetch(base + path, headers={"Cookie": editor.cookie})
        if status != 200 or b'name="based_on_version"' not in body:
            raise RuntimeError(f"round: {editor.email} got no edit form ({status}) at {path}")
    status, body = fetch(base + "/sign-in")
    if status != 200 or b'name="csrftoken"' not in body:
        raise RuntimeError(f"round: the sign-in page answered {status}")


def measure_round(
    database: str, workers: int, database_url: str, seconds: int, settings: RunSettings
) -> dict:
    """The update round on one database: the data made, the pages checked (on a server of
    its own), then a fresh server under the round; the cache's counts from its log."""
    print(f"Update round: {database}, {workers} worker(s), {seconds} s", flush=True)
    data = update_round.prepare(database_url)
    env = {"DATABASE_URL": database_url, "SECRET_KEY": secrets.token_urlsafe(36)}

    def command(port: int) -> list[str]:
        return [
            str(VENV_BIN / "uvicorn"),
            "app.main:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            # INFO: the workers log their cache counts at shutdown (app/main.py).
            "--log-level",
            "info",
        ]

    name = f"round-{database.lower()}"
    port = free_port()
    with server(f"{name}-check", command(port), env, f"http://127.0.0.1:{port}/"):
        _check_round(f"http://127.0.0.1:{port}", data)
    busy = wait_until_quiet(settings.quiet_wait)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with server(name, command(port), env, base + "/"):
        time.sleep(1)  # every worker up (the probe reached one)
        before = _cpu_snapshot(None)
        result = update_round.run_round(WRK, base, data, seconds, WORK)
        after = _cpu_snapshot(None)
    log = (WORK / "logs" / f"{name}.log").read_text(errors="replace")
    wall, machine = after[0] - before[0], after[1] - before[1]
    result.update(
        database=database,
        workers=workers,
        data=update_round.data_summary(data),
        cache=update_round.cache_counts(log),
        cpu_busy_before=round(busy, 2),
        machine_cpu=round(machine / wall, 2) if wall else 0.0,
    )
    reads = result["reads_all"]
    page = result["cache"].get("kinds", {}).get("page", {})
    print(
        f"  reads p99 {reads['p99_ms']:.1f} ms ("
        + ", ".join(f"{k} {v['p99_ms']:.1f}" for k, v in result["reads"].items())
        + f"), saves p99 {result['save']['p99_ms']:.1f} ms ({result['save']['count']}), "
        f"sign-in p99 {result['sign_in']['p99_ms']:.1f} ms ({result['sign_in']['count']}), "
        f"errors {result['errors']}, page cache hit rate "
        + (f"{page['hit_rate']:.0%}" if page else "unknown"),
        flush=True,
    )
    return result


def measure_rounds(
    real_db: Path, seconds: int, settings: RunSettings, postgres: str | None
) -> list[dict]:
    rounds = [measure_round("SQLite", 1, _fresh_sqlite(real_db), seconds, settings)]
    if postgres:
        name = f"bench_round_{os.getpid()}"
        try:
            url = _postgres_database(postgres, name, create=True)
        except Exception as error:  # noqa: BLE001 - any failure to reach it is reported
            print(f"Update round: PostgreSQL not reachable ({error})", flush=True)
            rounds.append({"database": "PostgreSQL", "workers": 2, "skipped": str(error)})
            return rounds
        # Dropped at the very end (see main): DROP DATABASE waits for a checkpoint, which can
        # take a minute on a busy machine.
        _to_drop.append((postgres, name))
        _seeded_postgres(url)
        rounds.append(measure_round("PostgreSQL", 2, url, seconds, settings))
    return rounds


_to_drop: list[tuple[str, str]] = []


def drop_databases() -> None:
    while _to_drop:
        admin_url, name = _to_drop.pop()
        try:
            _postgres_database(admin_url, name, create=False)
        except Exception as error:  # noqa: BLE001 - reported, the results are written already
            print(f"bench/run.py: could not drop database {name}: {error}", file=sys.stderr)


# --- Report ----------------------------------------------------------------------------------


def _find(measurements: list[Measurement], target: str, endpoint: str, size: str) -> Measurement:
    for m in measurements:
        if (m.target, m.endpoint, m.size) == (target, endpoint, size):
            return m
    raise KeyError((target, endpoint, size))


COLD = "app, cache off (info)"
ROUND_READS_P99_MS = 100
ROUND_SAVES_P99_MS = 200
REVALIDATION_SHARE = 0.30


def _maybe(
    measurements: list[Measurement], target: str, endpoint: str, size: str
) -> Measurement | None:
    try:
        return _find(measurements, target, endpoint, size)
    except KeyError:
        return None


def _p99(m: Measurement) -> str:
    if not m.eight_connections.requests:
        return "no request completed"
    return f"{m.eight_connections.p99_ms:.2f} ms"


def evaluate(
    measurements: list[Measurement],
    scale: int,
    revalidation: list[dict] | None = None,
    rounds: list[dict] | None = None,
) -> tuple[dict, list[dict]]:
    """The ratios and the targets, for what was measured (a part not run has no rows)."""
    ratios: dict[str, float] = {}
    targets: list[dict] = []
    full = _maybe(measurements, "app", "full list", "real")
    minimal = _maybe(measurements, "minimal", "minimal page", "real")
    datasette = _maybe(measurements, "datasette", "table page", "real")
    if full and minimal and datasette:
        rps = full.eight_connections.requests_per_second
        minimal_rps = minimal.eight_connections.requests_per_second
        datasette_rps = datasette.eight_connections.requests_per_second
        ratios["full_list_vs_minimal_page"] = round(rps / minimal_rps, 3)
        ratios["full_list_vs_datasette"] = round(rps / datasette_rps, 3)
        targets += [
            {
                "id": "a",
                "target": "real full list req/s ≥ minimal page req/s",
                "measured": f"{rps:.0f} vs {minimal_rps:.0f} "
                f"req/s (×{ratios['full_list_vs_minimal_page']:.2f})",
                "pass": ratios["full_list_vs_minimal_page"] >= 1,
            },
            {
                "id": "b",
                "target": "real full list req/s ≥ 5 × Datasette table page req/s",
                "measured": f"{rps:.0f} vs {datasette_rps:.0f} "
                f"req/s (×{ratios['full_list_vs_datasette']:.2f})",
                "pass": ratios["full_list_vs_datasette"] >= 5,
            },
        ]
    for name in ("board", "full list", "filtered list", "search"):
        m = _maybe(measurements, "app", name, "real")
        if m:
            targets.append(
                {
                    "id": "c",
                    "target": f"real {m.endpoint}: p50 < 10 ms (1 connection)",
                    "measured": f"{m.one_connection.p50_ms:.2f} ms",
                    "pass": m.one_connection.p50_ms < 10,
                }
            )
    for name in ("board", "filtered list"):
        m = _maybe(measurements, "app", name, f"{scale}x")
        if m:
            targets.append(
                {
                    "id": "d",
                    "target": f"{scale}× {name}: p99 < 100 ms (8 connections)",
                    "measured": _p99(m),
                    "pass": m.eight_connections.requests > 0 and m.eight_connections.p99_ms < 100,
                }
            )
    # Issue 15, point 1: rendered afresh (the cache off).
    cold_full = _maybe(measurements, COLD, "full list", "real")
    if cold_full and minimal:
        cold_rps = cold_full.eight_connections.requests_per_second
        minimal_rps = minimal.eight_connections.requests_per_second
        ratios["full_list_cache_off_vs_minimal_page"] = round(cold_rps / minimal_rps, 3)
        targets.append(
            {
                "id": "h",
                "target": "real full list, cache off: req/s ≥ 1.0 × minimal page req/s",
                "measured": f"{cold_rps:.0f} vs {minimal_rps:.0f} req/s "
                f"(×{ratios['full_list_cache_off_vs_minimal_page']:.2f})",
                "pass": ratios["full_list_cache_off_vs_minimal_page"] >= 1,
            }
        )
    for name in ("board", "filtered list"):
        m = _maybe(measurements, COLD, name, f"{scale}x")
        if m:
            targets.append(
                {
                    "id": "i",
                    "target": f"{scale}× {name}, cache off: p99 < 100 ms (8 connections)",
                    "measured": _p99(m),
                    "pass": m.eight_connections.requests > 0 and m.eight_connections.p99_ms < 100,
                }
            )
    # Point 2: the update round, on each database.
    for r in rounds or []:
        label = f"round, {r['database']} ({r['workers']} worker{'s' if r['workers'] > 1 else ''})"
        if "skipped" in r:
            targets.append(
                {
                    "id": "j",
                    "target": f"{label}: measured",
                    "measured": f"not run: {r['skipped']}",
                    "pass": False,
                }
            )
            continue
        reads, saves = r["reads_all"]["p99_ms"], r["save"]["p99_ms"]
        targets += [
            {
                "id": "j",
                "target": f"{label}: reads p99 < {ROUND_READS_P99_MS} ms",
                "measured": f"{reads:.1f} ms ("
                + ", ".join(f"{k} {v['p99_ms']:.1f}" for k, v in r["reads"].items())
                + ")",
                # Every page kind read at all (a p99 of no request is 0).
                "pass": reads < ROUND_READS_P99_MS
                and all(v.get("requests", 1) > 0 for v in r["reads"].values()),
            },
            {
                "id": "j",
                "target": f"{label}: saves p99 < {ROUND_SAVES_P99_MS} ms",
                "measured": f"{saves:.1f} ms ({r['save']['count']} saves)",
                "pass": saves < ROUND_SAVES_P99_MS and r["save"]["count"] > 0,
            },
            {
                "id": "j",
                "target": f"{label}: 0 errors",
                "measured": f"{r['errors']} errors",
                "pass": r["errors"] == 0,
            },
        ]
    # Point 3: 304 answers against the bare ASGI app.
    ceiling = _maybe(measurements, "ceiling", "ok endpoint", "-")
    for entry in revalidation or []:
        if ceiling is None:
            break
        ok_rps = ceiling.eight_connections.requests_per_second
        if "requests_per_second" not in entry:
            measured, passed = entry.get("note", "not measured"), False
        else:
            share = entry["requests_per_second"] / ok_rps if ok_rps else 0.0
            ratios[f"304_{entry['endpoint'].replace(' ', '_')}_vs_ok"] = round(share, 3)
            measured = f"{entry['requests_per_second']:.0f} vs {ok_rps:.0f} req/s ({share:.0%})"
            if entry.get("errors"):
                measured += f"; {entry['errors']} answers not 304"
            passed = share >= REVALIDATION_SHARE and not entry.get("errors")
        targets.append(
            {
                "id": "k",
                "target": f"304 of the {entry['endpoint']}: req/s ≥ 30 % of the ok endpoint's",
                "measured": measured,
                "pass": passed,
            }
        )
    return ratios, targets


def real_vs_scaled(measurements: list[Measurement], scale: int) -> list[dict]:
    """Point 5: per page, the 100× programme's p50 and req/s against the real one's, with the
    cache on and off (a ratio near 1: the cost grows with the work, not the data)."""
    rows = []
    for target in ("app", COLD):
        for name in ("board", "full list", "filtered list", "search"):
            real = _maybe(measurements, target, name, "real")
            big = _maybe(measurements, target, name, f"{scale}x")
            if not (real and big):
                continue
            real_rps = real.eight_connections.requests_per_second
            big_rps = big.eight_connections.requests_per_second
            rows.append(
                {
                    "cache": "on" if target == "app" else "off",
                    "endpoint": name,
                    "p50_real_ms": real.one_connection.p50_ms,
                    "p50_scaled_ms": big.one_connection.p50_ms,
                    "p50_ratio": round(big.one_connection.p50_ms / real.one_connection.p50_ms, 2)
                    if real.one_connection.p50_ms
                    else None,
                    "rps_real": real_rps,
                    "rps_scaled": big_rps,
                    "rps_ratio": round(big_rps / real_rps, 2) if real_rps else None,
                }
            )
    return rows


def environment() -> dict:
    def _out(command: list[str]) -> str:
        try:
            return subprocess.run(
                command, capture_output=True, text=True, timeout=10, cwd=ROOT
            ).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return ""

    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": _out(["git", "rev-parse", "--short", "HEAD"]),
        "git_dirty": bool(_out(["git", "status", "--porcelain", "--", "app", "templates"])),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "wrk": _out([WRK, "--version"]).splitlines()[0] if _out([WRK, "--version"]) else "",
    }


def _round_lines(rounds: list[dict]) -> list[str]:
    lines = [
        "",
        "## Update round in progress",
        "",
        "The real programme with a period open for updates. 16 connections read (wrk, "
        "bench/rotate.lua: "
        + ", ".join(f"{k} {n}" for k, n in update_round.READ_MIX)
        + " connections; each request as the next of 16 readers of every role) while "
        f"{update_round.EDITORS} editors each save a status change every "
        f"{update_round.SAVE_INTERVAL:g} s (edit form, then the save with its CSRF token) and "
        f"someone signs in every {update_round.SIGN_IN_INTERVAL:g} s (the sign-in form's "
        "POST). Errors: a read not answered 200, a save or sign-in not 2xx/3xx (a sign-in "
        "also without its session cookie), a connection error. Page cache hit rate: the "
        "revision cache's hits over lookups of whole pages (board and list), added up over "
        "the workers (each logs its counts at shutdown).",
        "",
        "| database | workers | s | reads p50 ms | reads p99 ms | board p99 | list p99 "
        "| activity page p99 | reads req/s | saves | saves p99 ms | edit form p99 ms "
        "| sign-ins | sign-in p99 ms | errors | page cache hit rate | cache hit rate (all) "
        "| machine CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rounds:
        if "skipped" in r:
            lines.append(f"| {r['database']} | {r['workers']} | not run: {r['skipped']} |")
            continue
        reads = r["reads"]
        page = r["cache"].get("kinds", {}).get("page")
        rps = sum(v["requests_per_second"] for v in reads.values())
        hit_all = r["cache"].get("hit_rate_all")
        lines.append(
            f"| {r['database']} | {r['workers']} | {r['seconds']} "
            f"| {r['reads_all']['p50_ms']:.1f} | {r['reads_all']['p99_ms']:.1f} "
            + "".join(
                f"| {reads[k]['p99_ms']:.1f} " if k in reads else "| "
                for k in ("board", "list", "activity page")
            )
            + f"| {rps:.0f} | {r['save']['count']} | {r['save']['p99_ms']:.1f} "
            f"| {r['edit_form']['p99_ms']:.1f} | {r['sign_in']['count']} "
            f"| {r['sign_in']['p99_ms']:.1f} | {r['errors']} "
            f"| {'unknown' if not page else format(page['hit_rate'], '.0%')} "
            f"| {'unknown' if hit_all is None else format(hit_all, '.0%')} "
            f"| {r['machine_cpu']:.2f} |"
        )
    return lines


def write_report(report: dict, name: str = "latest") -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    env = report["environment"]
    dirty = " (app/templates modified)" if env["git_dirty"] else ""
    lines = [
        "# Benchmark results",
        "",
        f"{env['date']} · commit {env['git_commit']}{dirty}"
        f" · Python {env['python']} · SQLite {env['sqlite']} · {env['cpus']} CPUs · "
        f"{report['settings']['seconds']:g} s per run · CPU busy with other work before "
        "each target: "
        + ", ".join(f"{k} {v:.0%}" for k, v in env["cpu_busy_before_each_target"].items()),
    ]
    if report.get("label"):
        lines += ["", f"**{report['label']}**"]
    if report["measurements"]:
        lines += [
            "",
            "One server process (one uvicorn worker) per target. req/s and p99 with 8 "
            "connections (`wrk -t2 -c8`); p50 with one connection (`wrk -t1 -c1`). server CPU: "
            "CPUs used by the server process under 8 connections; other CPU: CPUs used by "
            "anything but the server and wrk during the page's runs (the higher, the noisier "
            "the row).",
            "",
            "| target | endpoint | size | req/s | p50 ms | p99 ms "
            "| req/s (1 conn) | p99 ms (1 conn) | page KB | rows | server CPU | other CPU |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
    for m in report["measurements"]:
        one, eight = m["one_connection"], m["eight_connections"]
        lines.append(
            f"| {m['target']} | {m['endpoint']} | {m['size']} | "
            f"{eight['requests_per_second']:.0f} | {one['p50_ms']:.2f} | {eight['p99_ms']:.2f} | "
            f"{one['requests_per_second']:.0f} | {one['p99_ms']:.2f} | {m['bytes'] / 1024:.0f} "
            f"| {'' if m['rows'] is None else m['rows']} "
            f"| {eight['server_cpu']:.2f} | {max(one['other_cpu'], eight['other_cpu']):.2f} |"
        )
    if report.get("real_vs_scaled"):
        scale = report["settings"]["scale"]
        lines += [
            "",
            f"## Real vs {scale}×",
            "",
            f"Per page, the {scale}× programme against the real one: p50 (1 connection) and "
            "req/s (8 connections), the cache on and off. A ratio near 1: the cost grows with "
            "the work (rows shown), not the data.",
            "",
            f"| cache | endpoint | p50 real ms | p50 {scale}× ms | p50 ×"
            f" | req/s real | req/s {scale}× | req/s × |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        for row in report["real_vs_scaled"]:
            lines.append(
                f"| {row['cache']} | {row['endpoint']} | {row['p50_real_ms']:.2f} "
                f"| {row['p50_scaled_ms']:.2f} | {row['p50_ratio']} | {row['rps_real']:.0f} "
                f"| {row['rps_scaled']:.0f} | {row['rps_ratio']} |"
            )
    if report.get("revalidation"):
        lines += [
            "",
            "## Revalidation",
            "",
            "Each page fetched as a browser does: with the session cookie, then with the "
            "cookies that answer set too (CSRF); if it sent an ETag, wrk (`-t2 -c8`, "
            "bench/rotate.lua) with `If-None-Match: <that ETag>` and the same cookies. "
            "The ceiling is the ok endpoint (bench/ok_app.py) in the table above.",
            "",
            "| endpoint | ETag | Cache-Control | 304 req/s | 304 p99 ms | answers | note |",
            "|---|---|---|---:|---:|---|---|",
        ]
        for e in report["revalidation"]:
            rps = e.get("requests_per_second")
            lines.append(
                f"| {e['endpoint']} | {('`' + e['etag'] + '`') if e['etag'] else 'none'} "
                f"| {e['cache_control'] or ''} | {'' if rps is None else f'{rps:.0f}'} "
                f"| {e.get('p99_ms', '')} | {e.get('statuses', '')} | {e.get('note', '')} |"
            )
    if report.get("compression"):
        lines += [
            "",
            "## Bytes on the wire",
            "",
            "The body as sent (http.client: chunked framing removed, nothing decompressed), "
            "without an Accept-Encoding (identity) and with `Accept-Encoding: gzip`.",
            "",
            "| endpoint | size | KB plain | KB, gzip accepted | Content-Encoding | ratio |",
            "|---|---|---:|---:|---|---:|",
        ]
        for c in report["compression"]:
            lines.append(
                f"| {c['endpoint']} | {c['size']} | {c['bytes_identity'] / 1024:.1f} "
                f"| {c['bytes_gzip'] / 1024:.1f} | {c['content_encoding'] or 'none'} "
                f"| {c['ratio']} |"
            )
    if report.get("rounds"):
        lines += _round_lines(report["rounds"])
    if report["ratios"]:
        lines += ["", "## Ratios", ""]
        for key, value in report["ratios"].items():
            lines.append(f"- {key.replace('_', ' ')}: ×{value:.2f}")
    lines += ["", "## Targets", "", "| | target | measured | result |", "|---|---|---|---|"]
    for t in report["targets"]:
        verdict = "pass" if t["pass"] else "**FAIL**"
        lines.append(f"| {t['id']} | {t['target']} | {t['measured']} | {verdict} |")
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")


# --- Main ------------------------------------------------------------------------------------


def _stale(db: Path, scale: int) -> str | None:
    """Why `db` must be (re)built, or None when it is up to date."""
    meta_path = Path(f"{db}.meta.json")
    if not db.exists() or not meta_path.exists():
        return "missing"
    meta = json.loads(meta_path.read_text())
    if meta.get("fingerprint") != fingerprint():
        return "migrations, seed or generator changed"
    if meta.get("scale") != scale:
        return f"scale {meta.get('scale')} instead of {scale}"
    return None


def ensure_databases(
    scale: int, regenerate: bool, with_bench: bool = True
) -> tuple[Path, Path, dict]:
    bench_db, real_db = WORK / "bench.db", WORK / "real.db"
    reason = "--regenerate" if regenerate else _stale(bench_db, scale)
    if reason and with_bench:
        print(f"Generating {bench_db} (scale {scale}; {reason}) ...", flush=True)
        meta = generate(bench_db, scale)
        print(f"  {meta['counts']} in {meta['seconds']} s", flush=True)
    reason = "--regenerate" if regenerate else _stale(real_db, 0)
    if reason:
        print(f"Generating {real_db} (real programme only, for Datasette; {reason}) ...")
        generate(real_db, with_bench=False)
    meta_path = Path(f"{bench_db}.meta.json")
    meta = json.loads(meta_path.read_text()) if with_bench else {}
    return bench_db, real_db, meta


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--regenerate", action="store_true", help="Rebuild the databases")
    parser.add_argument("--scale", type=int, default=100, help="Size of the big programme")
    parser.add_argument("--duration", type=int, default=5, help="Seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=1, help="Seconds of warm-up per page")
    parser.add_argument(
        "--check", action="store_true", help="Exit with status 1 when a target fails"
    )
    parser.add_argument(
        "--time-limit", type=int, default=1800, help="Stop everything after this many seconds"
    )
    parser.add_argument(
        "--quiet-wait",
        type=int,
        default=60,
        help="Before each page, wait up to this many seconds for other work to finish",
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=2,
        help="Measure a page again (up to this many times) when other work took CPU",
    )
    parser.add_argument(
        "--round",
        action="store_true",
        help="Only the update round (SQLite and PostgreSQL); results in round.md/round.json",
    )
    parser.add_argument("--no-round", action="store_true", help="Everything but the update round")
    parser.add_argument(
        "--round-duration", type=int, default=20, help="Seconds of each update round"
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="A PostgreSQL server's URL to create the round's database on (and drop it "
        "after); 'none': the round on SQLite only",
    )
    parser.add_argument(
        "--ports",
        type=int,
        default=0,
        help="Servers listen on this port and the next ones (default: any free port)",
    )
    parser.add_argument("--label", default="", help="A line shown at the top of the results")
    args = parser.parse_args(argv)
    if args.duration < 1 or args.warmup < 1 or args.round_duration < 1:
        parser.error("wrk takes whole seconds: the durations must be at least 1")
    if args.round and args.no_round:
        parser.error("--round and --no-round exclude each other")
    if not Path(WRK).exists():
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    for tool in ("uvicorn",) if args.round else ("uvicorn", "datasette"):
        if not (VENV_BIN / tool).exists():
            print(f"{VENV_BIN / tool} is missing: pip install -e '.[bench]'", file=sys.stderr)
            return 2
    if args.ports:
        _ports[:] = [args.ports]
    postgres = None if args.postgres.lower() == "none" else args.postgres

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGALRM, _on_signal)
    signal.alarm(args.time_limit)
    try:
        return _run(args, postgres)
    finally:
        drop_databases()


def _run(args: argparse.Namespace, postgres: str | None) -> int:
    busy_before: dict[str, float] = {}
    run_settings = RunSettings(args.duration, args.warmup, args.quiet_wait, args.retries)
    started = time.monotonic()
    measurements: list[Measurement] = []
    revalidation: list[dict] = []
    compression: list[dict] = []
    rounds: list[dict] = []
    try:
        bench_db, real_db, meta = ensure_databases(
            args.scale, args.regenerate, with_bench=not args.round
        )
        if not args.round:
            pages(args, run_settings, bench_db, real_db, busy_before, measurements)
            revalidation, compression = revalidation_and_compression(
                args, run_settings, bench_db, busy_before, measurements
            )
        if not args.no_round:
            rounds = measure_rounds(real_db, args.round_duration, run_settings, postgres)
    except (RuntimeError, OSError, subprocess.SubprocessError) as error:
        print(f"bench/run.py: {error}", file=sys.stderr)
        return 2
    finally:
        stop_all()
        signal.alarm(0)

    ratios, targets = evaluate(measurements, args.scale, revalidation, rounds)
    report = {
        "environment": {
            **environment(),
            "cpu_busy_before_each_target": {k: round(v, 2) for k, v in busy_before.items()},
        },
        "label": args.label,
        "settings": {
            "seconds": args.duration,
            "warmup_seconds": args.warmup,
            "scale": args.scale,
            "one_connection": "wrk -t1 -c1 --latency",
            "eight_connections": "wrk -t2 -c8 --latency",
            "workers": 1,
            "round_seconds": args.round_duration,
            "round_read_mix": dict(update_round.READ_MIX),
        },
        "database": meta,
        "measurements": [asdict(m) for m in measurements],
        "real_vs_scaled": real_vs_scaled(measurements, args.scale),
        "revalidation": revalidation,
        "compression": compression,
        "rounds": rounds,
        "ratios": ratios,
        "targets": targets,
        "elapsed_seconds": round(time.monotonic() - started, 1),
    }
    name = "round" if args.round else "latest"
    write_report(report, name)
    print()
    print((RESULTS / f"{name}.md").read_text())
    failed = [t for t in targets if not t["pass"]]
    return 1 if failed and args.check else 0


COMMON = ["--host", "127.0.0.1", "--workers", "1", "--no-access-log", "--log-level", "warning"]


def pages(
    args: argparse.Namespace,
    run_settings: RunSettings,
    bench_db: Path,
    real_db: Path,
    busy_before: dict[str, float],
    measurements: list[Measurement],
) -> None:
    """The pages of the app (cache on and off), the minimal page and Datasette."""
    database_url = f"sqlite:///{bench_db}"
    common = COMMON
    port = free_port()
    command = [str(VENV_BIN / "uvicorn"), "app.main:create_app", "--factory"]
    command += ["--port", str(port), *common]
    print("Voortgang (app.main)", flush=True)
    busy_before["app"] = wait_until_quiet(args.quiet_wait)
    headers = signed_in_headers(bench_db)
    env = {"DATABASE_URL": database_url}
    with server("app", command, env, f"http://127.0.0.1:{port}/") as process:
        measurements += measure(
            "app", process, port, app_endpoints(args.scale), run_settings, headers
        )

    # Not a target: the same pages with the revision cache turned off, i.e. what the first
    # request after every change costs (each request reads and renders everything).
    port = free_port()
    command = [str(VENV_BIN / "uvicorn"), "app.main:create_app", "--factory"]
    command += ["--port", str(port), *common]
    print("Voortgang, cache off (info)", flush=True)
    cold = [e for e in app_endpoints(args.scale) if "(info)" not in e.name]
    with server(
        "app-cold", command, {**env, "CACHE_SIZE": "0"}, f"http://127.0.0.1:{port}/"
    ) as process:
        measurements += measure(COLD, process, port, cold, run_settings, headers)

    port = free_port()
    command = [str(VENV_BIN / "uvicorn"), "baseline_app:create_app", "--factory"]
    command += ["--app-dir", str(BENCH), "--port", str(port), *common]
    print("Minimal page (bench/baseline_app.py)", flush=True)
    busy_before["minimal"] = wait_until_quiet(args.quiet_wait)
    minimal = [Endpoint("minimal page", "real", f"/minimal/{REAL_SLUG}", "<table>", r"<tr><td>")]
    with server("minimal", command, env, f"http://127.0.0.1:{port}/") as process:
        measurements += measure("minimal", process, port, minimal, run_settings)

    port = free_port()
    command = [str(VENV_BIN / "datasette"), "serve", str(real_db), "--host", "127.0.0.1"]
    command += ["--port", str(port), "--setting", "num_sql_threads", "1"]
    command += ["--setting", "default_page_size", "250"]
    print("Datasette table page", flush=True)
    busy_before["datasette"] = wait_until_quiet(args.quiet_wait)
    table = [
        Endpoint("table page", "real", f"/{real_db.stem}/activity", "<table", r'<td class="col-id ')
    ]
    probe = f"http://127.0.0.1:{port}/-/versions.json"
    with server("datasette", command, {}, probe) as process:
        measurements += measure("datasette", process, port, table, run_settings)


def revalidation_and_compression(
    args: argparse.Namespace,
    run_settings: RunSettings,
    bench_db: Path,
    busy_before: dict[str, float],
    measurements: list[Measurement],
) -> tuple[list[dict], list[dict]]:
    """The ceiling (bare ASGI "ok"), then on the app (cache on) the 304 answers and the bytes
    on the wire with and without gzip."""
    port = free_port()
    command = [str(VENV_BIN / "uvicorn"), "ok_app:app", "--app-dir", str(BENCH)]
    command += ["--port", str(port), *COMMON]
    print("Ceiling: bare ASGI ok endpoint (bench/ok_app.py)", flush=True)
    busy_before["ceiling"] = wait_until_quiet(args.quiet_wait)
    ok = [Endpoint("ok endpoint", "-", "/", "ok", "")]
    with server("ceiling", command, {}, f"http://127.0.0.1:{port}/") as process:
        measurements += measure("ceiling", process, port, ok, run_settings)

    port = free_port()
    command = [str(VENV_BIN / "uvicorn"), "app.main:create_app", "--factory"]
    command += ["--port", str(port), *COMMON]
    print("Voortgang: revalidation (304) and bytes on the wire", flush=True)
    busy_before["revalidation"] = wait_until_quiet(args.quiet_wait)
    headers = signed_in_headers(bench_db)
    env = {"DATABASE_URL": f"sqlite:///{bench_db}"}
    with server("app-revalidation", command, env, f"http://127.0.0.1:{port}/") as process:
        revalidation = measure_revalidation(port, headers, run_settings, process.pid)
        compression = measure_compression(port, headers, args.scale)
    return revalidation, compression


if __name__ == "__main__":
    sys.exit(main())
