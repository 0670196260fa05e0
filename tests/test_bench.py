"""The benchmark's parts that need no timing: the revision cache's counters, the update round's
data and request mix (bench/rotate.lua through a real wrk), the parsing of what wrk and the
server print, and the evaluation of the targets. No figure of speed is asserted here."""

from __future__ import annotations

import http.server
import logging
import shutil
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from app.activities.models import Status
from app.cache import RevisionCache
from app.db import make_engine
from app.main import create_app
from tests.conftest import _settings

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import run  # noqa: E402
import update_round  # noqa: E402
from update_round import Editor, LuaResult, Reader, RoundData, Timings  # noqa: E402

# --- The revision cache's counters -----------------------------------------------------------


def test_revision_cache_counts_hits_and_misses_per_kind_of_key() -> None:
    cache = RevisionCache(max_entries=8)
    built: list[str] = []

    def build(value: str) -> str:
        built.append(value)
        return value

    assert cache.counts() == {}
    cache.get_or_build(1, ("page", 7, "nl"), lambda: build("a"))
    cache.get_or_build(1, ("page", 7, "nl"), lambda: build("b"))
    cache.get_or_build(1, ("page", 7, "nl"), lambda: build("c"))
    cache.get_or_build(2, ("page", 7, "nl"), lambda: build("d"))  # a new revision: built again
    cache.get_or_build(2, ("session", 1, "x"), lambda: build("e"))
    cache.get_or_build(2, "plain key", lambda: build("f"))
    assert built == ["a", "d", "e", "f"]
    assert cache.counts() == {
        "other": {"hits": 0, "misses": 1},
        "page": {"hits": 2, "misses": 2},
        "session": {"hits": 0, "misses": 1},
    }


def test_the_app_logs_its_cache_counts_at_shutdown(
    seeded_settings, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    app = create_app(seeded_settings)
    with caplog.at_level(logging.INFO, logger="uvicorn.error"):
        with TestClient(app) as client:
            app.state.cache.get_or_build(1, ("page", 1), lambda: "x")
            app.state.cache.get_or_build(1, ("page", 1), lambda: "x")
            client.get("/public/")
        lines = [
            r.getMessage() for r in caplog.records if "Revision cache counts" in r.getMessage()
        ]
    assert len(lines) == 1
    counts = update_round.cache_counts(lines[0])
    assert counts["processes"] == 1
    assert counts["kinds"]["page"] == {"hits": 1, "misses": 1, "hit_rate": 0.5}


def test_cache_counts_add_up_the_workers_lines() -> None:
    log = (
        "INFO:     Started server process [11]\n"
        'INFO:     Revision cache counts (process 11): {"page": {"hits": 3, "misses": 1}, '
        '"session": {"hits": 5, "misses": 5}}\n'
        'INFO:     Revision cache counts (process 12): {"page": {"hits": 1, "misses": 3}}\n'
    )
    counts = update_round.cache_counts(log)
    assert counts["processes"] == 2
    assert counts["kinds"]["page"] == {"hits": 4, "misses": 4, "hit_rate": 0.5}
    assert counts["kinds"]["session"]["hit_rate"] == 0.5
    assert counts["hit_rate_all"] == round(9 / 18, 3)
    assert update_round.cache_counts("INFO: nothing logged") == {}


# --- The round's data ------------------------------------------------------------------------


def _fake_data(readers: int = 4, activities: int = 3) -> RoundData:
    return RoundData(
        slug="p",
        period_id=1,
        readers=[
            Reader(f"r{i}@x", "viewer", [], f"voortgang_session=token{i}") for i in range(readers)
        ],
        editors=[Editor("e@x", "ORG", "voortgang_session=editor", [1, 2])],
        signers=[("s@x", "secret")],
        activities=list(range(10, 10 + activities)),
    )


def test_read_requests_give_every_reader_every_url_users_changing_fastest() -> None:
    data = _fake_data()
    requests = update_round.read_requests(data)
    assert set(requests) == {kind for kind, _ in update_round.READ_MIX}
    assert sum(n for _, n in update_round.READ_MIX) == 16
    cookies = [r.cookie for r in data.readers]
    for kind, lines in requests.items():
        paths = {path for path, _ in lines}
        assert len(lines) == len(paths) * len(cookies), kind
        assert set(lines) == {(path, cookie) for path in paths for cookie in cookies}
        for first, second in zip(lines, lines[1:], strict=False):
            assert first[1] != second[1]  # the next request is another user's
    assert {p for p, _ in requests["activity page"]} == {f"/activities/{a}" for a in range(10, 13)}
    assert {p for p, _ in requests["board"]} == {"/programmes/p"}
    assert {p for p, _ in requests["list"]} == {"/programmes/p/activities"}


def test_split_activities_gives_each_editor_activities_no_other_editor_has() -> None:
    by_organisation = {
        "A": [1, 2, 3, 4, 5],
        "B": [3, 4, 6, 7],
        "C": [8, 9],
        "D": [1, 9, 10, 11],
        "E": [12],
    }
    split = update_round.split_activities(by_organisation, 4, 3)
    assert [code for code, _ in split] == ["A", "B", "D", "C"]
    chosen = [a for _, ids in split for a in ids]
    assert len(chosen) == len(set(chosen))
    for code, ids in split:
        assert set(ids) <= set(by_organisation[code])
        assert 2 <= len(ids) <= 3
    with pytest.raises(RuntimeError):
        update_round.split_activities({"A": [1, 2]}, 4, 3)


def test_reader_roles_mix_every_role_and_give_editors_organisations() -> None:
    roles = update_round.reader_roles(16, ["A", "B", "C"])
    assert Counter(role for role, _ in roles) == {
        "viewer": 4,
        "editor": 4,
        "coordinator": 4,
        "admin": 4,
    }
    editors = [orgs for role, orgs in roles if role == "editor"]
    assert all(editors) and len({tuple(o) for o in editors}) == len(editors)
    assert all(not orgs for role, orgs in roles if role != "editor")


def test_the_editors_statuses_are_the_apps_and_each_save_changes_it() -> None:
    assert tuple(s.value for s in Status) == update_round.STATUSES
    statuses = list(update_round.STATUSES)
    for status in statuses:
        assert update_round.next_status(status, statuses) != status
    assert update_round.next_status("", statuses) == statuses[0]


def test_prepare_opens_a_round_whose_editors_save_and_signers_sign_in(
    seeded_database_url: str,
) -> None:
    """The data the round needs, made on a seeded database: readers of every role signed in,
    editors whose real saves (form, CSRF token) are accepted, signers whose password works."""
    data = update_round.prepare(seeded_database_url)
    assert len(data.readers) == update_round.READERS
    assert len(data.editors) == update_round.EDITORS
    assert {r.role for r in data.readers} == {"viewer", "editor", "coordinator", "admin"}
    app = create_app(_settings(seeded_database_url))
    with TestClient(app) as client:
        for kind, lines in update_round.read_requests(data).items():
            for path, cookie in lines[: update_round.READERS + 1]:
                answer = client.get(path, headers={"Cookie": cookie})
                assert answer.status_code == 200, (kind, path)
                client.cookies.clear()
    form, save = Timings(), Timings()
    for editor in data.editors:
        name, _, value = editor.cookie.partition("=")
        with TestClient(app, cookies={name: value}) as client:
            update_round.save_once(client, editor, 0, form, save)
            update_round.save_once(client, editor, 0, form, save)  # the same activity again
    assert form.errors == 0 and save.errors == 0, (form.statuses, save.statuses)
    assert save.statuses == {"200": 2 * update_round.EDITORS}
    engine = make_engine(seeded_database_url)
    try:
        with Session(engine) as session:
            versions = session.execute(
                text(
                    "SELECT activity_id, max(version) FROM status_update WHERE period_id = :p "
                    "GROUP BY activity_id"
                ),
                {"p": data.period_id},
            ).all()
    finally:
        engine.dispose()
    edited = {editor.activities[0] for editor in data.editors}
    assert {a for a, v in versions if v >= 3} == edited  # carried over (1), then two saves
    sign_in = Timings()
    # As httpx.Client in the round: redirects not followed.
    with TestClient(app, follow_redirects=False) as client:
        update_round.sign_in_once(client, *data.signers[0], sign_in)
    with TestClient(app, follow_redirects=False) as client:
        update_round.sign_in_once(client, data.signers[1][0], "wrong password!", sign_in)
    assert sign_in.statuses["303"] == 1 and sign_in.errors == 1


# --- bench/rotate.lua through wrk ------------------------------------------------------------


@pytest.fixture
def recording_server() -> Iterator[tuple[str, list[tuple[str, str, str]]]]:
    """A local HTTP server that notes each request's path, Cookie and If-None-Match."""
    seen: list[tuple[str, str, str]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            seen.append(
                (self.path, self.headers.get("Cookie", ""), self.headers.get("If-None-Match", ""))
            )
            status = 304 if self.path == "/not-modified" else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    finally:
        httpd.shutdown()
        httpd.server_close()


WRK = shutil.which("wrk")


@pytest.mark.skipif(WRK is None, reason="wrk is not installed")
def test_rotate_lua_sends_every_line_in_turn_and_reports_what_came_back(
    recording_server: tuple[str, list[tuple[str, str, str]]], tmp_path: Path
) -> None:
    base, seen = recording_server
    lines = [(f"/page/{i}", f"voortgang_session=user{i % 3}") for i in range(6)]
    lines.append(("/not-modified", ""))
    requests_file = tmp_path / "requests.txt"
    update_round.write_requests(requests_file, lines)
    command = update_round.wrk_rotate(
        str(WRK), base, requests_file, 1, 1, {"If-None-Match": '"v1"'}
    )
    output = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    result = update_round.parse_rotate(output.stdout)
    assert len(seen) >= 2 * len(lines)
    # One connection: the lines in order, round and round.
    sent = [(path, cookie) for path, cookie, _ in seen]
    for index, request in enumerate(sent):
        assert request == lines[(index + 1) % len(lines)] or index == 0
    assert {etag for _, _, etag in seen} == {'"v1"'}
    counts = Counter(sent[: len(sent) // len(lines) * len(lines)])
    assert set(counts.values()) == {len(sent) // len(lines)}
    # What rotate.lua counted is what the server answered.
    assert result.statuses.get(304, 0) == sum(1 for p, _, _ in seen if p == "/not-modified")
    assert sum(result.statuses.values()) == result.requests
    assert result.errors(200) == result.statuses.get(304, 0)
    assert result.percentile(99) <= result.percentile(100)


def test_parse_rotate_and_the_merged_percentile() -> None:
    output = "Running 1s test\n  10 requests in 1.00s\n" + "\n".join(
        ["rotate.lua status 200 90", "rotate.lua status 503 10"]
        + ["rotate.lua requests 100 2000000", "rotate.lua errors 0 1 0 2 10"]
        + [f"rotate.lua latency {step / 10:.1f} {step * 10}" for step in range(1, 1001)]
    )
    result = update_round.parse_rotate(output)
    assert result.requests == 100 and result.seconds == 2.0
    assert result.requests_per_second == 50
    assert result.statuses == {200: 90, 503: 10}
    assert result.socket_errors == {"connect": 0, "read": 1, "write": 0, "timeout": 2}
    assert result.errors(200) == 13
    assert result.percentile(50) == 5.0  # 500 steps × 10 µs
    assert result.percentile(99) == 9.9
    with pytest.raises(RuntimeError):
        update_round.parse_rotate("no script output")

    def uniform(requests: int, ms: float) -> LuaResult:
        return LuaResult(requests, 1.0, {200: requests}, {}, [(s / 10, ms) for s in range(1, 1001)])

    # 98 % of the requests take 1 ms, 2 % take 50 ms: p99 of all is 50, p50 is 1.
    fast, slow = uniform(980, 1.0), uniform(20, 50.0)
    assert update_round.merged_percentile([fast, slow], 99) == 50.0
    assert update_round.merged_percentile([fast, slow], 50) == 1.0
    assert update_round.merged_percentile([uniform(995, 1.0), uniform(5, 50.0)], 99) == 1.0
    assert update_round.merged_percentile([], 99) == 0.0


def test_timings_percentiles_and_errors() -> None:
    assert update_round.percentile([], 99) == 0.0
    assert update_round.percentile(list(range(1, 101)), 99) == 99
    assert update_round.percentile(list(range(1, 101)), 50) == 50
    assert update_round.percentile([3.0], 99) == 3.0
    timings = Timings()
    timings.note(0.0, 200, True)
    timings.note(0.0, "ConnectError", False)
    assert timings.statuses == {"200": 1, "ConnectError": 1}
    assert timings.errors == 1
    assert (
        update_round.hidden_field(
            '<input type="hidden" name="csrftoken" value="abc.def">', "csrftoken"
        )
        == "abc.def"
    )
    with pytest.raises(ValueError):
        update_round.hidden_field("<form></form>", "csrftoken")


# --- The targets -----------------------------------------------------------------------------


def _wrk(rps: float, p50: float = 1.0, p99: float = 10.0) -> run.WrkResult:
    return run.WrkResult(1, 1, 5, int(rps * 5), rps, p50, p50, p99, p99, p99)


def _m(target: str, endpoint: str, size: str, rps: float, p50: float = 1.0, p99: float = 10.0):  # type: ignore[no-untyped-def]
    return run.Measurement(
        target, endpoint, size, "", 200, 100, None, _wrk(rps, p50, p99), _wrk(rps, p50, p99)
    )


def _measurements(cold_full_rps: float, cold_board_p99: float) -> list[run.Measurement]:
    found = [
        _m("minimal", "minimal page", "real", 100),
        _m("datasette", "table page", "real", 10),
        _m("ceiling", "ok endpoint", "-", 1000),
    ]
    for target, rps in (("app", 400.0), (run.COLD, cold_full_rps)):
        for name in ("board", "full list", "filtered list", "search"):
            found.append(_m(target, name, "real", rps, 2.0))
            p99 = cold_board_p99 if (target, name) == (run.COLD, "board") else 50.0
            found.append(_m(target, name, "100x", rps / 2, 4.0, p99))
    return found


def _round(reads_p99: float, saves_p99: float, errors: int, database: str = "SQLite") -> dict:
    return {
        "database": database,
        "workers": 1,
        "reads": {"board": {"p99_ms": reads_p99}},
        "reads_all": {"p99_ms": reads_p99},
        "save": {"p99_ms": saves_p99, "count": 40},
        "errors": errors,
    }


def _by_id(targets: list[dict], target_id: str) -> list[dict]:
    return [t for t in targets if t["id"] == target_id]


def test_targets_of_issue_15_pass_and_fail_on_their_thresholds() -> None:
    revalidation = [
        {"endpoint": "board", "etag": '"a"', "requests_per_second": 300.0, "errors": 0},
        {"endpoint": "full list", "etag": '"b"', "requests_per_second": 299.0, "errors": 0},
        {"endpoint": "API list", "etag": None, "note": "no ETag sent"},
    ]
    rounds = [
        _round(99.0, 199.0, 0),
        _round(101.0, 250.0, 1, "PostgreSQL"),
        {"database": "PostgreSQL", "workers": 2, "skipped": "not reachable"},
    ]
    ratios, targets = run.evaluate(_measurements(100, 99.0), 100, revalidation, rounds)
    (cold,) = _by_id(targets, "h")
    assert cold["pass"] and ratios["full_list_cache_off_vs_minimal_page"] == 1.0
    assert [t["pass"] for t in _by_id(targets, "i")] == [True, True]
    assert [t["pass"] for t in _by_id(targets, "j")] == [True, True, True] + [False] * 4
    assert "not run" in _by_id(targets, "j")[-1]["measured"]
    k = _by_id(targets, "k")
    assert [t["pass"] for t in k] == [True, False, False]
    assert k[2]["measured"] == "no ETag sent"
    assert ratios["304_board_vs_ok"] == 0.3

    _, targets = run.evaluate(_measurements(99, 100.0), 100, [], [])
    assert not _by_id(targets, "h")[0]["pass"]
    assert [t["pass"] for t in _by_id(targets, "i")] == [False, True]
    assert not _by_id(targets, "j") and not _by_id(targets, "k")


def test_a_304_run_with_other_answers_fails() -> None:
    revalidation = [
        {"endpoint": "board", "etag": '"a"', "requests_per_second": 900.0, "errors": 3},
    ]
    _, targets = run.evaluate(_measurements(100, 10), 100, revalidation, [])
    (k,) = _by_id(targets, "k")
    assert not k["pass"] and "3 answers not 304" in k["measured"]


def test_only_the_measured_parts_are_evaluated() -> None:
    ratios, targets = run.evaluate([], 100, [], [_round(10, 10, 0)])
    assert ratios == {}
    assert {t["id"] for t in targets} == {"j"}


def test_real_vs_scaled_ratios_per_page_cache_on_and_off() -> None:
    rows = run.real_vs_scaled(_measurements(100, 10), 100)
    assert {(r["cache"], r["endpoint"]) for r in rows} == {
        (cache, name)
        for cache in ("on", "off")
        for name in ("board", "full list", "filtered list", "search")
    }
    for row in rows:
        assert row["p50_ratio"] == 2.0
        assert row["rps_ratio"] == 0.5


def test_the_report_shows_every_part(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run, "RESULTS", tmp_path)
    measurements = _measurements(100, 10)
    revalidation = [
        {"endpoint": "API list", "etag": None, "cache_control": None, "note": "no ETag sent"}
    ]
    rounds = [
        {
            **_round(50, 60, 0),
            "seconds": 20,
            "reads": {"board": {"p99_ms": 50, "requests_per_second": 40.0}},
            "reads_all": {"p50_ms": 10, "p99_ms": 50},
            "edit_form": {"p99_ms": 30},
            "sign_in": {"p99_ms": 90, "count": 10},
            "cache": {
                "kinds": {"page": {"hits": 1, "misses": 3, "hit_rate": 0.25}},
                "hit_rate_all": 0.5,
            },
            "machine_cpu": 1.9,
        }
    ]
    ratios, targets = run.evaluate(measurements, 100, revalidation, rounds)
    report = {
        "environment": {**run.environment(), "cpu_busy_before_each_target": {"app": 0.5}},
        "label": "made on a loaded machine",
        "settings": {"seconds": 5, "scale": 100},
        "measurements": [run.asdict(m) for m in measurements],
        "real_vs_scaled": run.real_vs_scaled(measurements, 100),
        "revalidation": revalidation,
        "compression": [
            {
                "endpoint": "board",
                "size": "real",
                "bytes_identity": 2048,
                "bytes_gzip": 512,
                "content_encoding": "gzip",
                "ratio": 0.25,
            }
        ],
        "rounds": rounds,
        "ratios": ratios,
        "targets": targets,
    }
    run.write_report(report, "trial")
    markdown = (tmp_path / "trial.md").read_text()
    for part in (
        "made on a loaded machine",
        "## Real vs 100×",
        "## Revalidation",
        "no ETag sent",
        "## Bytes on the wire",
        "## Update round in progress",
        "| SQLite | 1 | 20 |",
        "25%",
        "## Targets",
    ):
        assert part in markdown, part
    assert (tmp_path / "trial.json").exists()


# --- Revalidation and compression, against a server that does them --------------------------


@pytest.fixture
def revalidating_server() -> Iterator[int]:
    """A local server as the app will be: an ETag on the board and the list (304 to
    If-None-Match with it) once the browser sends the CSRF cookie the first answer set, none
    on the API list; gzip when accepted."""
    import gzip

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            body = b"<html>" + b"row " * 2000 + b"</html>"
            has_token = "csrftoken=t1" in self.headers.get("Cookie", "")
            etag = None if self.path.startswith("/api/") or not has_token else '"rev-1"'
            if etag and self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.send_response(200)
            if not has_token:
                self.send_header("Set-Cookie", "csrftoken=t1; Path=/; SameSite=Lax")
            if etag:
                self.send_header("ETag", etag)
                self.send_header("Cache-Control", "private, no-cache")
            if "gzip" in self.headers.get("Accept-Encoding", ""):
                body = gzip.compress(body)
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(httpd.server_address[1])
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.skipif(WRK is None, reason="wrk is not installed")
def test_revalidation_measures_304s_where_an_etag_is_sent(
    revalidating_server: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run, "WORK", tmp_path)
    settings = run.RunSettings(seconds=1, warmup=1, quiet_wait=0, retries=0)
    found = run.measure_revalidation(
        revalidating_server, {"Cookie": "voortgang_session=x"}, settings, 0
    )
    by_name = {entry["endpoint"]: entry for entry in found}
    assert set(by_name) == {"board", "full list", "API list"}
    for name in ("board", "full list"):
        entry = by_name[name]
        assert entry["etag"] == '"rev-1"' and entry["cache_control"] == "private, no-cache"
        assert entry["conditional_status"] == 304
        assert entry["requests"] > 0 and entry["errors"] == 0
        assert set(entry["statuses"]) == {"304"}
    assert by_name["API list"]["note"] == "no ETag sent"
    assert "requests_per_second" not in by_name["API list"]


def test_compression_counts_the_bytes_as_sent(revalidating_server: int) -> None:
    found = run.measure_compression(revalidating_server, {}, 100)
    assert len(found) == len(run.compression_paths(100))
    for entry in found:
        assert entry["status"] == [200, 200]
        assert entry["bytes_identity"] == len(b"<html>" + b"row " * 2000 + b"</html>")
        assert entry["content_encoding"] == "gzip"
        assert 0 < entry["bytes_gzip"] < entry["bytes_identity"] / 10


def test_with_cookies_adds_what_an_answer_sets() -> None:
    answer = {"set-cookie": "csrftoken=abc; Path=/; SameSite=Lax\nlang=nl; Path=/"}
    assert run.with_cookies("voortgang_session=s", answer) == (
        "voortgang_session=s; csrftoken=abc; lang=nl"
    )
    assert run.with_cookies("a=1; csrftoken=old", {"set-cookie": "csrftoken=new"}) == (
        "a=1; csrftoken=new"
    )
    assert run.with_cookies("", {}) == ""
