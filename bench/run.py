"""Benchmark the board and the activity list against a minimal page and Datasette.

    .venv/bin/python bench/run.py [--regenerate] [--scale 100] [--duration 5] [--check]

Generates the databases in bench/work/ when missing, then for each target starts one server
process (one uvicorn worker) in a subprocess, waits until it answers, checks each page, warms up
and measures it with wrk twice: one connection (`-t1 -c1`: p50 latency, no queueing) and eight
connections (`-t2 -c8`: throughput and p99 under load). Writes bench/results/latest.json and
bench/results/latest.md. Every server is stopped at the end, also on error or Ctrl-C.
See bench/README.md for what the figures mean and the targets.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
WORK = BENCH / "work"
RESULTS = BENCH / "results"
VENV_BIN = ROOT / ".venv" / "bin"
REAL_SLUG = "samen-tegen-mensenhandel"
WRK = shutil.which("wrk") or "/usr/bin/wrk"

sys.path.insert(0, str(BENCH))
from generate import bench_slug, fingerprint, generate  # noqa: E402

# --- Running processes -----------------------------------------------------------------------

_servers: list[subprocess.Popen] = []


def free_port() -> int:
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


@contextlib.contextmanager
def server(name: str, command: list[str], env: dict[str, str], probe: str, timeout: float = 60):
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


# --- Report ----------------------------------------------------------------------------------


def _find(measurements: list[Measurement], target: str, endpoint: str, size: str) -> Measurement:
    for m in measurements:
        if (m.target, m.endpoint, m.size) == (target, endpoint, size):
            return m
    raise KeyError((target, endpoint, size))


def evaluate(measurements: list[Measurement], scale: int) -> tuple[dict, list[dict]]:
    full = _find(measurements, "app", "full list", "real")
    minimal = _find(measurements, "minimal", "minimal page", "real")
    datasette = _find(measurements, "datasette", "table page", "real")
    rps = full.eight_connections.requests_per_second
    ratios = {
        "full_list_vs_minimal_page": round(rps / minimal.eight_connections.requests_per_second, 3),
        "full_list_vs_datasette": round(rps / datasette.eight_connections.requests_per_second, 3),
    }
    targets = [
        {
            "id": "a",
            "target": "real full list req/s ≥ minimal page req/s",
            "measured": f"{rps:.0f} vs {minimal.eight_connections.requests_per_second:.0f} "
            f"req/s (×{ratios['full_list_vs_minimal_page']:.2f})",
            "pass": ratios["full_list_vs_minimal_page"] >= 1,
        },
        {
            "id": "b",
            "target": "real full list req/s ≥ 5 × Datasette table page req/s",
            "measured": f"{rps:.0f} vs {datasette.eight_connections.requests_per_second:.0f} "
            f"req/s (×{ratios['full_list_vs_datasette']:.2f})",
            "pass": ratios["full_list_vs_datasette"] >= 5,
        },
    ]
    for name in ("board", "full list", "filtered list", "search"):
        m = _find(measurements, "app", name, "real")
        targets.append(
            {
                "id": "c",
                "target": f"real {m.endpoint}: p50 < 10 ms (1 connection)",
                "measured": f"{m.one_connection.p50_ms:.2f} ms",
                "pass": m.one_connection.p50_ms < 10,
            }
        )
    for name in ("board", "filtered list"):
        m = _find(measurements, "app", name, f"{scale}x")
        targets.append(
            {
                "id": "d",
                "target": f"{scale}× {name}: p99 < 100 ms (8 connections)",
                "measured": f"{m.eight_connections.p99_ms:.2f} ms",
                "pass": m.eight_connections.p99_ms < 100,
            }
        )
    return ratios, targets


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


def write_report(report: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
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
        "",
        "One server process (one uvicorn worker) per target. req/s and p99 with 8 connections "
        "(`wrk -t2 -c8`); p50 with one connection (`wrk -t1 -c1`). server CPU: CPUs used by "
        "the server process under 8 connections; other CPU: CPUs used by anything but the "
        "server and wrk during the page's runs (the higher, the noisier the row).",
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
    lines += ["", "## Ratios", ""]
    for name, value in report["ratios"].items():
        lines.append(f"- {name.replace('_', ' ')}: ×{value:.2f}")
    lines += ["", "## Targets", "", "| | target | measured | result |", "|---|---|---|---|"]
    for t in report["targets"]:
        verdict = "pass" if t["pass"] else "**FAIL**"
        lines.append(f"| {t['id']} | {t['target']} | {t['measured']} | {verdict} |")
    (RESULTS / "latest.md").write_text("\n".join(lines) + "\n")


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


def ensure_databases(scale: int, regenerate: bool) -> tuple[Path, Path, dict]:
    bench_db, real_db = WORK / "bench.db", WORK / "real.db"
    reason = "--regenerate" if regenerate else _stale(bench_db, scale)
    if reason:
        print(f"Generating {bench_db} (scale {scale}; {reason}) ...", flush=True)
        meta = generate(bench_db, scale)
        print(f"  {meta['counts']} in {meta['seconds']} s", flush=True)
    reason = "--regenerate" if regenerate else _stale(real_db, 0)
    if reason:
        print(f"Generating {real_db} (real programme only, for Datasette; {reason}) ...")
        generate(real_db, with_bench=False)
    meta = json.loads(Path(f"{bench_db}.meta.json").read_text())
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
    args = parser.parse_args(argv)
    if args.duration < 1 or args.warmup < 1:
        parser.error("wrk takes whole seconds: --duration and --warmup must be at least 1")
    if not Path(WRK).exists():
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    for tool in ("uvicorn", "datasette"):
        if not (VENV_BIN / tool).exists():
            print(f"{VENV_BIN / tool} is missing: pip install -e '.[bench]'", file=sys.stderr)
            return 2

    busy_before: dict[str, float] = {}
    run_settings = RunSettings(args.duration, args.warmup, args.quiet_wait, args.retries)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGALRM, _on_signal)
    signal.alarm(args.time_limit)
    started = time.monotonic()
    try:
        bench_db, real_db, meta = ensure_databases(args.scale, args.regenerate)
        database_url = f"sqlite:///{bench_db}"
        common = ["--host", "127.0.0.1", "--workers", "1", "--no-access-log"]
        common += ["--log-level", "warning"]
        measurements: list[Measurement] = []

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
            measurements += measure(
                "app, cache off (info)", process, port, cold, run_settings, headers
            )

        port = free_port()
        command = [str(VENV_BIN / "uvicorn"), "baseline_app:create_app", "--factory"]
        command += ["--app-dir", str(BENCH), "--port", str(port), *common]
        print("Minimal page (bench/baseline_app.py)", flush=True)
        busy_before["minimal"] = wait_until_quiet(args.quiet_wait)
        minimal = [
            Endpoint("minimal page", "real", f"/minimal/{REAL_SLUG}", "<table>", r"<tr><td>")
        ]
        with server("minimal", command, env, f"http://127.0.0.1:{port}/") as process:
            measurements += measure("minimal", process, port, minimal, run_settings)

        port = free_port()
        command = [str(VENV_BIN / "datasette"), "serve", str(real_db), "--host", "127.0.0.1"]
        command += ["--port", str(port), "--setting", "num_sql_threads", "1"]
        command += ["--setting", "default_page_size", "250"]
        print("Datasette table page", flush=True)
        busy_before["datasette"] = wait_until_quiet(args.quiet_wait)
        table = [
            Endpoint(
                "table page", "real", f"/{real_db.stem}/activity", "<table", r'<td class="col-id '
            )
        ]
        probe = f"http://127.0.0.1:{port}/-/versions.json"
        with server("datasette", command, {}, probe) as process:
            measurements += measure("datasette", process, port, table, run_settings)
    except (RuntimeError, OSError, subprocess.SubprocessError) as error:
        print(f"bench/run.py: {error}", file=sys.stderr)
        return 2
    finally:
        stop_all()
        signal.alarm(0)

    ratios, targets = evaluate(measurements, args.scale)
    report = {
        "environment": {
            **environment(),
            "cpu_busy_before_each_target": {k: round(v, 2) for k, v in busy_before.items()},
        },
        "settings": {
            "seconds": args.duration,
            "warmup_seconds": args.warmup,
            "scale": args.scale,
            "one_connection": "wrk -t1 -c1 --latency",
            "eight_connections": "wrk -t2 -c8 --latency",
            "workers": 1,
        },
        "database": meta,
        "measurements": [asdict(m) for m in measurements],
        "ratios": ratios,
        "targets": targets,
        "elapsed_seconds": round(time.monotonic() - started, 1),
    }
    write_report(report)
    print()
    print((RESULTS / "latest.md").read_text())
    failed = [t for t in targets if not t["pass"]]
    return 1 if failed and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
