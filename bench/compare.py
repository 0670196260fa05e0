"""This checkout against another revision, in one run: is any page slower than before?

    .venv/bin/python bench/compare.py --against REV [--rounds 7] [--seconds 2] [--scale 100]

Both revisions serve the benchmark's pages (bench/run.py's app endpoints) at the same time, each
in its own uvicorn process (one worker) on its own benchmark database (built by that
revision's own generator, with its own migrations). Each page is then measured in alternating
slices, old-new-new-old, `--rounds` times: `wrk -t1 -c1` (one request at a time: p50, and the
server's CPU time per request) and `wrk -t2 -c8` (req/s). The verdict is on the CPU time per
request: the server process's own CPU time (from /proc) divided by the requests it served, which
other work on the machine hardly changes, where it does change latency and throughput (those
are shown too, alternating so that other work falls on both alike). The medians per page and
their ratio (new / old) go to bench/results/compare.md and .json.

The other revision is checked out with `git worktree` under bench/work/against-REV (once;
it shares this checkout's virtualenv).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import run  # noqa: E402  (this checkout's benchmark: endpoints, wrk, servers)

RESULTS = BENCH / "results"
# A page counts as slower when its median CPU time per request is this much above the old
# one's: below it, two runs of the same revision differ as much on this machine.
TOLERANCE = 1.10

_PREPARE = """
import sys
sys.path.insert(0, "bench")
import run
bench_db, _, _ = run.ensure_databases({scale}, False)
print(bench_db)
print(run.signed_in_headers(bench_db).get("Cookie", ""))
"""


@dataclass
class Side:
    name: str  # "old" or "new"
    checkout: Path
    revision: str
    database: Path = Path()
    cookie: str = ""
    port: int = 0
    pid: int = 0


@dataclass
class PageResult:
    endpoint: str
    size: str
    cpu: dict[str, list[float]] = field(default_factory=lambda: {"old": [], "new": []})
    p50: dict[str, list[float]] = field(default_factory=lambda: {"old": [], "new": []})
    rps: dict[str, list[float]] = field(default_factory=lambda: {"old": [], "new": []})

    def median(self, figure: str, side: str) -> float:
        values: list[float] = getattr(self, figure)[side]
        return statistics.median(values)

    def ratio(self, figure: str) -> float:
        return self.median(figure, "new") / self.median(figure, "old")


def _git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def checkout_of(revision: str) -> Path:
    """A work tree of `revision` beside this one, sharing this checkout's virtualenv."""
    commit = _git("rev-parse", "--short", revision)
    path = run.WORK / f"against-{commit}"
    if not path.exists():
        run.WORK.mkdir(parents=True, exist_ok=True)
        _git("worktree", "add", "--detach", str(path), commit)
    venv = path / ".venv"
    if not venv.exists():
        venv.symlink_to(ROOT / ".venv")
    return path


def prepare(side: Side, scale: int) -> None:
    """The side's benchmark database (its own generator and migrations) and a viewer's
    session cookie in it."""
    completed = subprocess.run(
        [str(run.VENV_BIN / "python"), "-c", _PREPARE.format(scale=scale)],
        cwd=side.checkout,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(side.checkout)},
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{side.name}: preparing failed:\n{completed.stderr[-2000:]}")
    database, cookie = completed.stdout.splitlines()[-2:]
    side.database, side.cookie = Path(database), cookie


@contextmanager
def serving(side: Side) -> Iterator[None]:
    side.port = run.free_port()
    command = [str(run.VENV_BIN / "uvicorn"), "app.main:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(side.port), "--workers", "1"]
    command += ["--no-access-log", "--log-level", "warning"]
    log_path = run.WORK / "logs" / f"compare-{side.name}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=side.checkout,
            env={**os.environ, "DATABASE_URL": f"sqlite:///{side.database}"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{side.name} exited; see {log_path}")
                try:
                    run.fetch(f"http://127.0.0.1:{side.port}/", timeout=5)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{side.name} did not answer") from None
                    time.sleep(0.2)
            side.pid = process.pid
            yield
        finally:
            run.stop(process)


def _check(side: Side, endpoint: run.Endpoint) -> None:
    url = f"http://127.0.0.1:{side.port}{endpoint.path}"
    status, body = run.fetch(url, headers={"Cookie": side.cookie} if side.cookie else None)
    if status != 200 or endpoint.expect.encode() not in body:
        raise RuntimeError(f"{side.name} {endpoint.path}: status {status}, or no {endpoint.expect}")


def measure(
    sides: list[Side], endpoints: list[run.Endpoint], rounds: int, seconds: int
) -> list[PageResult]:
    results = []
    for endpoint in endpoints:
        for side in sides:
            _check(side, endpoint)
        result = PageResult(endpoint.name, endpoint.size)
        print(f"  {endpoint.name} ({endpoint.size})", end="", flush=True)
        for number in range(rounds):
            order = sides if number % 2 == 0 else sides[::-1]  # old-new, new-old, ...
            for side in order:
                url = f"http://127.0.0.1:{side.port}{endpoint.path}"
                headers = {"Cookie": side.cookie} if side.cookie else None
                one = run.run_wrk(url, 1, 1, seconds, headers, side.pid)
                eight = run.run_wrk(url, 2, 8, seconds, headers, side.pid)
                if one.non_2xx or eight.non_2xx:
                    raise RuntimeError(f"{side.name} {endpoint.path}: non-2xx responses")
                # server_cpu is in CPUs over the run: CPU seconds = server_cpu × seconds.
                result.cpu[side.name].append(one.server_cpu * seconds * 1000 / one.requests)
                result.p50[side.name].append(one.p50_ms)
                result.rps[side.name].append(eight.requests_per_second)
            print(".", end="", flush=True)
        print(
            f" CPU {result.median('cpu', 'old'):.2f} → {result.median('cpu', 'new'):.2f} ms"
            f" (×{result.ratio('cpu'):.2f}), p50 ×{result.ratio('p50'):.2f},"
            f" req/s ×{result.ratio('rps'):.2f}",
            flush=True,
        )
        results.append(result)
    return results


def report(sides: list[Side], results: list[PageResult], args: argparse.Namespace) -> bool:
    """Writes compare.md and compare.json; True when no target page is slower."""
    old, new = sides
    slower = [r for r in results if "(info)" not in r.endpoint and r.ratio("cpu") > TOLERANCE]
    lines = [
        "# Old against new, in one run",
        "",
        f"{time.strftime('%Y-%m-%dT%H:%M:%S%z')} · old {old.revision} · new {new.revision}"
        f" · {args.rounds} alternating rounds of {args.seconds} s per page and side"
        f" · `bench/compare.py --against {args.against}`",
        "",
        "Medians over the rounds. CPU: the server process's CPU time per request, with one"
        " connection; p50: `wrk -t1 -c1`; req/s: `wrk -t2 -c8`. Ratio = new / old (CPU and p50:"
        " above 1 is slower; req/s: above 1 is faster).",
        "",
        "| page | size | CPU old ms | CPU new ms | CPU new/old | p50 old ms | p50 new ms |"
        " p50 new/old | req/s old | req/s new | req/s new/old |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.endpoint} | {r.size} | {r.median('cpu', 'old'):.2f} |"
            f" {r.median('cpu', 'new'):.2f} | ×{r.ratio('cpu'):.2f} |"
            f" {r.median('p50', 'old'):.2f} | {r.median('p50', 'new'):.2f} |"
            f" ×{r.ratio('p50'):.2f} | {r.median('rps', 'old'):.0f} |"
            f" {r.median('rps', 'new'):.0f} | ×{r.ratio('rps'):.2f} |"
        )
    verdict = (
        f"No page is slower (CPU time per request within ×{TOLERANCE:.2f} of the old one's)."
        if not slower
        else "Slower: " + ", ".join(f"{r.endpoint} ({r.size})" for r in slower)
    )
    lines += ["", verdict, ""]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "compare.md").write_text("\n".join(lines))
    (RESULTS / "compare.json").write_text(
        json.dumps(
            {
                "old": old.revision,
                "new": new.revision,
                "rounds": args.rounds,
                "seconds": args.seconds,
                "pages": [
                    {
                        "endpoint": r.endpoint,
                        "size": r.size,
                        "cpu_ms": r.cpu,
                        "p50_ms": r.p50,
                        "rps": r.rps,
                    }
                    for r in results
                ],
                "slower": [f"{r.endpoint} ({r.size})" for r in slower],
            },
            indent=2,
        )
    )
    print("\n".join(lines[-3:]))
    return not slower


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", required=True, help="the revision to compare with")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=int, default=2, help="per wrk run")
    parser.add_argument("--scale", type=int, default=100)
    parser.add_argument("--check", action="store_true", help="exit 1 when a page is slower")
    args = parser.parse_args(argv)
    dirty = " (with uncommitted changes)" if _git("status", "--porcelain", "--", "app") else ""
    sides = [
        Side("old", checkout_of(args.against), _git("rev-parse", "--short", args.against)),
        Side("new", ROOT, _git("rev-parse", "--short", "HEAD") + dirty),
    ]
    for side in sides:
        print(f"Preparing {side.name} ({side.revision}) ...", flush=True)
        prepare(side, args.scale)
    endpoints = run.app_endpoints(args.scale)
    with ExitStack() as stack:
        for side in sides:
            stack.enter_context(serving(side))
        results = measure(sides, endpoints, args.rounds, args.seconds)
    no_slower = report(sides, results, args)
    return 1 if args.check and not no_slower else 0


if __name__ == "__main__":
    sys.exit(main())
