"""An update round in progress, for bench/run.py: readers, editors and sign-ins at once.

The data: the real programme (migrations + seed) with a new period opened for updates, and
accounts made with the accounts service: READERS readers of every role (viewers, editors of
different organisations, coordinators, administrators), EDITORS editors who each change the
activities of their own organisation, and SIGNERS accounts that sign in with a password.

The load, for `seconds`:

* 16 connections of wrk (bench/rotate.lua) reading the board, the activity list and activity
  pages, each request as the next reader (their session cookies in turn);
* EDITORS threads that each save a status change every SAVE_INTERVAL s, as the browser does:
  the edit form (htmx GET), then the save (htmx POST with the form's CSRF token);
* a thread that signs someone in every SIGN_IN_INTERVAL s: the sign-in page, then the form's
  POST with the e-mail address, the password and the CSRF token.

The threads measure their own latencies (httpx); wrk those of the reads.
"""

from __future__ import annotations

import contextlib
import math
import re
import secrets
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import httpx

BENCH = Path(__file__).resolve().parent
ROTATE_LUA = BENCH / "rotate.lua"
REAL_SLUG = "samen-tegen-mensenhandel"

READERS = 16
EDITORS = 4
SIGNERS = 4
ACTIVITIES_PER_EDITOR = 8
SAVE_INTERVAL = 0.5
SIGN_IN_INTERVAL = 2.0
# The 16 reading connections: (page kind, connections).
READ_MIX = (("board", 6), ("list", 5), ("activity page", 5))
ROUND_PERIOD = "Voortgangsrapportage 2022 (bench)"

# --- The data --------------------------------------------------------------------------------


@dataclass
class Reader:
    email: str
    role: str
    organisations: list[str]
    cookie: str  # the Cookie header's value


@dataclass
class Editor:
    email: str
    organisation: str
    cookie: str
    activities: list[int]


@dataclass
class RoundData:
    slug: str
    period_id: int
    readers: list[Reader]
    editors: list[Editor]
    signers: list[tuple[str, str]]  # (e-mail address, password)
    activities: list[int]  # the activity pages read (every editor's activities among them)


def _organisation_activities(session, programme_id: int) -> dict[str, list[int]]:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    rows = session.execute(
        text(
            "SELECT o.code, a.id FROM activity_organisation ao "
            "JOIN organisation o ON o.id = ao.organisation_id "
            "JOIN activity a ON a.id = ao.activity_id "
            "JOIN result r ON r.id = a.result_id "
            "WHERE r.programme_id = :programme AND a.retired_at IS NULL ORDER BY a.id"
        ),
        {"programme": programme_id},
    )
    found: dict[str, list[int]] = {}
    for code, activity_id in rows:
        found.setdefault(code, []).append(int(activity_id))
    return found


def split_activities(
    by_organisation: dict[str, list[int]], editors: int, each: int
) -> list[tuple[str, list[int]]]:
    """`editors` organisations (those with the most activities first) and for each up to `each`
    activities of its own that no other chosen organisation has: no two editors change the
    same activity, so no save meets another's (a conflict would be an error)."""
    chosen: list[tuple[str, list[int]]] = []
    taken: set[int] = set()
    for code in sorted(by_organisation, key=lambda c: (-len(by_organisation[c]), c)):
        if len(chosen) == editors:
            break
        others = {a for c, ids in by_organisation.items() if c != code for a in ids}
        own = [a for a in by_organisation[code] if a not in taken and a not in others][:each]
        if len(own) < 2:
            own = [a for a in by_organisation[code] if a not in taken][:each]
        if len(own) >= 2:
            chosen.append((code, own))
            taken.update(own)
    if len(chosen) < editors:
        raise RuntimeError(f"only {len(chosen)} organisations with activities for the editors")
    return chosen


def reader_roles(count: int, organisations: list[str]) -> list[tuple[str, list[str]]]:
    """Roles for `count` readers: viewers, editors (each of another organisation, a few of two),
    coordinators and administrators in turn."""
    roles = []
    for index in range(count):
        role = ("viewer", "editor", "coordinator", "admin")[index % 4]
        orgs: list[str] = []
        if role == "editor":
            first = organisations[(index // 4) % len(organisations)]
            second = organisations[(index // 4 + 1) % len(organisations)]
            orgs = [first] if index % 8 == 1 else [first, second]
        roles.append((role, orgs))
    return roles


def prepare(database_url: str) -> RoundData:
    """Open an update round in the real programme and make the accounts and their sessions
    (on a database with the migrations and the seed)."""
    from sqlmodel import Session

    from app.accounts import service
    from app.accounts.models import Role
    from app.db import make_engine
    from app.periods import service as periods
    from app.permissions import SESSION_COOKIE
    from app.readmodel import get_programme

    engine = make_engine(database_url)
    lifetime = timedelta(hours=3)
    try:
        with Session(engine) as session:
            programme = get_programme(session, REAL_SLUG)
            coordinator = service.create_user(
                session,
                email="round-coordinator@bench.example.org",
                name="Round coordinator",
                role=Role.coordinator,
                password=None,
            )
            actor = service.as_current_user(session, coordinator)
            period = periods.create_period(
                session,
                programme_id=programme.id,
                name=ROUND_PERIOD,
                reference_date=date(2022, 11, 1),
                deadline=None,
                actor=actor,
            )
            period_id = period.id
            assert period_id is not None
            periods.move_period(session, period_id=period_id, move="open", actor=actor)
            session.commit()

            by_organisation = _organisation_activities(session, programme.id)
            split = split_activities(by_organisation, EDITORS, ACTIVITIES_PER_EDITOR)
            editors = []
            for number, (code, ids) in enumerate(split, 1):
                user = service.create_user(
                    session,
                    email=f"round-editor-{number}@bench.example.org",
                    name=f"Round editor {number} ({code})",
                    role=Role.editor,
                    password=None,
                    organisation_codes=[code],
                )
                token = service.start_session(session, user, lifetime=lifetime)
                editors.append(Editor(user.email, code, f"{SESSION_COOKIE}={token}", ids))
            organisations = sorted(by_organisation, key=lambda c: (-len(by_organisation[c]), c))
            readers = []
            for number, (role, orgs) in enumerate(reader_roles(READERS, organisations), 1):
                user = service.create_user(
                    session,
                    email=f"round-reader-{number}@bench.example.org",
                    name=f"Round reader {number}",
                    role=Role(role),
                    password=None,
                    organisation_codes=orgs,
                )
                token = service.start_session(session, user, lifetime=lifetime)
                readers.append(Reader(user.email, role, orgs, f"{SESSION_COOKIE}={token}"))
            signers = []
            for number in range(1, SIGNERS + 1):
                password = secrets.token_urlsafe(18)
                user = service.create_user(
                    session,
                    email=f"round-signer-{number}@bench.example.org",
                    name=f"Round signer {number}",
                    role=Role.viewer,
                    password=password,
                )
                signers.append((user.email, password))
            session.commit()
    finally:
        engine.dispose()
    edited = [a for editor in editors for a in editor.activities]
    others = [a for ids in by_organisation.values() for a in ids if a not in edited]
    activities = sorted(set(edited) | set(sorted(set(others))[:16]))
    return RoundData(REAL_SLUG, period_id, readers, editors, signers, activities)


def read_requests(data: RoundData) -> dict[str, list[tuple[str, str]]]:
    """Per page kind, the (path, cookie) lines wrk goes round: every reader for every URL, the
    readers changing fastest (consecutive requests are of different users)."""
    urls = {
        "board": [f"/programmes/{data.slug}"],
        "list": [f"/programmes/{data.slug}/activities"],
        "activity page": [f"/activities/{a}" for a in data.activities],
    }
    return {
        kind: [(url, reader.cookie) for url in kind_urls for reader in data.readers]
        for kind, kind_urls in urls.items()
    }


def write_requests(path: Path, lines: list[tuple[str, str]]) -> None:
    path.write_text("".join(f"{url}\t{cookie}\n" for url, cookie in lines))


# --- wrk with rotate.lua ---------------------------------------------------------------------


@dataclass
class LuaResult:
    """What bench/rotate.lua printed after a wrk run."""

    requests: int
    seconds: float
    statuses: dict[int, int]
    socket_errors: dict[str, int]
    # (percent, ms) in 0.1 % steps.
    latency: list[tuple[float, float]] = field(repr=False)

    def percentile(self, percent: float) -> float:
        for p, ms in self.latency:
            if p >= percent - 1e-9:
                return ms
        return self.latency[-1][1] if self.latency else 0.0

    def errors(self, expected: int = 200) -> int:
        """Answers other than `expected`, and connection errors."""
        wrong = sum(n for status, n in self.statuses.items() if status != expected)
        return wrong + sum(self.socket_errors.values())

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def parse_rotate(output: str) -> LuaResult:
    statuses: dict[int, int] = {}
    latency: list[tuple[float, float]] = []
    requests = -1
    seconds = 0.0
    errors: dict[str, int] = {}
    for line in output.splitlines():
        parts = line.split()
        if parts[:1] != ["rotate.lua"] or len(parts) < 3:
            continue
        kind, values = parts[1], parts[2:]
        if kind == "status":
            statuses[int(values[0])] = statuses.get(int(values[0]), 0) + int(values[1])
        elif kind == "requests":
            requests, seconds = int(values[0]), int(values[1]) / 1e6
        elif kind == "errors":
            errors = dict(
                zip(("connect", "read", "write", "timeout"), map(int, values[:4]), strict=True)
            )
        elif kind == "latency":
            latency.append((float(values[0]), int(values[1]) / 1000))
    if requests < 0 or not latency:
        raise RuntimeError(f"no rotate.lua report in wrk's output:\n{output[-2000:]}")
    return LuaResult(requests, seconds, statuses, errors, latency)


def merged_percentile(results: list[LuaResult], percent: float) -> float:
    """The `percent` percentile of all the runs' requests together: each run's distribution
    (its 0.1 % steps) weighted by its number of requests."""
    total = sum(r.requests for r in results)
    if not total:
        return 0.0

    def share_at_most(ms: float) -> float:
        below = 0.0
        for r in results:
            fraction = max((p for p, value in r.latency if value <= ms), default=0.0) / 100
            below += fraction * r.requests
        return below / total

    for candidate in sorted({value for r in results for _, value in r.latency}):
        if share_at_most(candidate) >= percent / 100 - 1e-9:
            return candidate
    return max(value for r in results for _, value in r.latency)


def wrk_rotate(
    wrk: str,
    base_url: str,
    requests_file: Path,
    connections: int,
    seconds: int,
    headers: dict[str, str] | None = None,
    threads: int = 1,
) -> list[str]:
    command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    command += ["--latency", "-s", str(ROTATE_LUA), base_url, "--", str(requests_file)]
    command += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return command


# --- Editors and sign-ins --------------------------------------------------------------------

_HIDDEN = r'<input type="hidden" name="{}" value="([^"]*)"'
_SELECTED = re.compile(r'<option value="(\w+)" selected>')


def hidden_field(html: str, name: str) -> str:
    found = re.search(_HIDDEN.format(re.escape(name)), html)
    if not found:
        raise ValueError(f"no hidden field {name!r} in the page")
    return found[1]


def next_status(current: str, statuses: list[str]) -> str:
    """Another status than the current one: the one after it in the list."""
    if current not in statuses:
        return statuses[0]
    return statuses[(statuses.index(current) + 1) % len(statuses)]


@dataclass
class Timings:
    """Latencies (ms) of one kind of request, with the answers that were errors."""

    latencies: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    errors: int = 0

    def note(self, started: float, status: int | str, ok: bool) -> None:
        self.latencies.append((time.perf_counter() - started) * 1000)
        self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1
        self.errors += 0 if ok else 1

    def percentile(self, percent: float) -> float:
        return percentile(self.latencies, percent)

    def summary(self) -> dict:
        return {
            "count": len(self.latencies),
            "p50_ms": round(self.percentile(50), 2),
            "p99_ms": round(self.percentile(99), 2),
            "max_ms": round(max(self.latencies, default=0.0), 2),
            "statuses": self.statuses,
            "errors": self.errors,
        }


def percentile(values: list[float], percent: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(percent / 100 * len(ordered) - 1e-9)))
    return ordered[rank - 1]


HTMX = {"HX-Request": "true"}


def _ok(status: int) -> bool:
    return 200 <= status < 400


STATUSES = (
    "completed",
    "ongoing",
    "on_schedule",
    "delayed",
    "not_started",
    "in_consultation",
    "not_applicable",
)


def save_once(
    client: httpx.Client, editor: Editor, turn: int, form: Timings, save: Timings
) -> None:
    """One status change as the browser makes it: the edit form (htmx GET), then its POST
    with the form's CSRF token, version and period, and another status. Times both."""
    activity = editor.activities[turn % len(editor.activities)]
    timing, started = form, time.perf_counter()
    try:
        page = client.get(f"/activities/{activity}/edit", params={"context": "page"}, headers=HTMX)
        form.note(started, page.status_code, page.status_code == 200)
        if page.status_code != 200:
            return
        html = page.text
        selected = _SELECTED.search(html)
        body = {
            "csrftoken": hidden_field(html, "csrftoken"),
            "period_id": hidden_field(html, "period_id"),
            "based_on_version": hidden_field(html, "based_on_version"),
            "context": "page",
            "next": "",
            "status": next_status(selected[1] if selected else "", list(STATUSES)),
            "explanation": f"Bench round: change {turn} by {editor.email}.",
        }
        timing, started = save, time.perf_counter()
        saved = client.post(f"/activities/{activity}/status", data=body, headers=HTMX)
        save.note(started, saved.status_code, _ok(saved.status_code))
    except (httpx.HTTPError, ValueError) as error:
        timing.note(started, type(error).__name__, False)


def sign_in_once(client: httpx.Client, email: str, password: str, sign_in: Timings) -> None:
    """The sign-in page, then its form's POST (timed); `client` has no session yet."""
    started = time.perf_counter()
    try:
        page = client.get("/sign-in")
        token = hidden_field(page.text, "csrftoken")
        started = time.perf_counter()
        answer = client.post(
            "/sign-in",
            data={"email": email, "password": password, "next": "/", "csrftoken": token},
        )
        # A 303 with a session cookie; a wrong password would be a 200 or 4xx page.
        signed_in = answer.status_code == 303 and "voortgang_session" in answer.cookies
        sign_in.note(started, answer.status_code, signed_in)
    except (httpx.HTTPError, ValueError) as error:
        sign_in.note(started, type(error).__name__, False)


def edit_loop(
    base_url: str, editor: Editor, stop: threading.Event, form: Timings, save: Timings
) -> None:
    name, _, value = editor.cookie.partition("=")
    with httpx.Client(base_url=base_url, cookies={name: value}, timeout=10) as client:
        turn = 0
        next_at = time.monotonic()
        while not stop.is_set():
            save_once(client, editor, turn, form, save)
            turn += 1
            next_at = max(next_at + SAVE_INTERVAL, time.monotonic())
            stop.wait(max(0.0, next_at - time.monotonic()))


def sign_in_loop(
    base_url: str, signers: list[tuple[str, str]], stop: threading.Event, sign_in: Timings
) -> None:
    turn = 0
    next_at = time.monotonic()
    while not stop.is_set():
        email, password = signers[turn % len(signers)]
        turn += 1
        with httpx.Client(base_url=base_url, timeout=10) as client:
            sign_in_once(client, email, password, sign_in)
        next_at = max(next_at + SIGN_IN_INTERVAL, time.monotonic())
        stop.wait(max(0.0, next_at - time.monotonic()))


@contextlib.contextmanager
def writers(base_url: str, data: RoundData) -> Iterator[dict[str, Timings]]:
    """The editors' and the sign-in threads, running while the block runs."""
    timings = {"edit form": Timings(), "save": Timings(), "sign-in": Timings()}
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=edit_loop,
            args=(base_url, editor, stop, timings["edit form"], timings["save"]),
            daemon=True,
        )
        for editor in data.editors
    ]
    threads.append(
        threading.Thread(
            target=sign_in_loop,
            args=(base_url, data.signers, stop, timings["sign-in"]),
            daemon=True,
        )
    )
    for thread in threads:
        thread.start()
    try:
        yield timings
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=15)


def run_round(wrk: str, base_url: str, data: RoundData, seconds: int, work: Path) -> dict:
    """The round for `seconds`: wrk per page kind at once, with the editors and sign-ins."""
    work.mkdir(parents=True, exist_ok=True)
    runs = []
    for kind, lines in read_requests(data).items():
        path = work / f"round-{kind.replace(' ', '-')}.txt"
        write_requests(path, lines)
        connections = dict(READ_MIX)[kind]
        runs.append((kind, wrk_rotate(wrk, base_url, path, connections, seconds)))
    with writers(base_url, data) as timings:
        processes = [
            (kind, subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
            for kind, command in runs
        ]
        outputs = []
        for kind, process in processes:
            out, err = process.communicate(timeout=seconds + 60)
            if process.returncode != 0:
                raise RuntimeError(f"wrk ({kind}) failed ({process.returncode}): {err.decode()}")
            outputs.append((kind, parse_rotate(out.decode())))
    return summarise(outputs, timings, seconds)


def _key(name: str) -> str:
    return name.replace(" ", "_").replace("-", "_")


def summarise(
    reads: list[tuple[str, LuaResult]], timings: dict[str, Timings], seconds: int
) -> dict:
    """The round's figures: reads per page kind and together, the writers' timings, errors."""
    per_kind = {
        kind: {
            "connections": dict(READ_MIX).get(kind, 0),
            "requests": r.requests,
            "requests_per_second": round(r.requests_per_second, 1),
            "p50_ms": r.percentile(50),
            "p99_ms": r.percentile(99),
            "statuses": {str(k): v for k, v in sorted(r.statuses.items())},
            "socket_errors": r.socket_errors,
            "errors": r.errors(200),
        }
        for kind, r in reads
    }
    results = [r for _, r in reads]
    writers_summary = {name: t.summary() for name, t in timings.items()}
    return {
        "seconds": seconds,
        "reads": per_kind,
        "reads_all": {
            "requests": sum(r.requests for r in results),
            "p50_ms": merged_percentile(results, 50),
            "p99_ms": merged_percentile(results, 99),
            "errors": sum(r.errors(200) for r in results),
        },
        **{_key(name): summary for name, summary in writers_summary.items()},
        "errors": sum(r.errors(200) for r in results) + sum(t.errors for t in timings.values()),
    }


# --- The cache's counts, from the server's log -----------------------------------------------

_COUNTS = re.compile(r"Revision cache counts \(process (\d+)\): (\{.*\})")


def cache_counts(log: str) -> dict:
    """The revision cache's hits and misses per kind, added up over the processes (workers)
    that logged them at shutdown; with the hit rates. Empty when no process logged them."""
    import json

    total: dict[str, dict[str, int]] = {}
    processes = 0
    for _pid, counts in _COUNTS.findall(log):
        processes += 1
        for kind, values in json.loads(counts).items():
            entry = total.setdefault(kind, {"hits": 0, "misses": 0})
            entry["hits"] += int(values.get("hits", 0))
            entry["misses"] += int(values.get("misses", 0))
    if not processes:
        return {}
    hits = sum(v["hits"] for v in total.values())
    lookups = hits + sum(v["misses"] for v in total.values())
    return {
        "processes": processes,
        "kinds": {
            kind: {**v, "hit_rate": round(v["hits"] / max(1, v["hits"] + v["misses"]), 3)}
            for kind, v in sorted(total.items())
        },
        "hit_rate_all": round(hits / lookups, 3) if lookups else None,
    }


def data_summary(data: RoundData) -> dict:
    roles: dict[str, int] = {}
    for reader in data.readers:
        roles[reader.role] = roles.get(reader.role, 0) + 1
    return {
        "programme": data.slug,
        "period": ROUND_PERIOD,
        "readers_by_role": roles,
        "editors": [
            {"organisation": e.organisation, "activities": len(e.activities)} for e in data.editors
        ],
        "signers": len(data.signers),
        "activity_pages": len(data.activities),
    }
