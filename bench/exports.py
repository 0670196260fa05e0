"""Benchmark the exports against the bare libraries, and a stored export's repeated download.

    .venv/bin/python bench/exports.py [--scale 100] [--repeat 9] [--documents-at-scale] [--check]

For the real programme and the 100× programme (bench/generate.py builds both into
bench/work/bench.db), times each format's export in-process: the read-model
(app/exports/table.py over readmodel.whole_table) plus the renderer, as a fresh export
does. As a baseline in the same run, the same rows fetched with one plain SQL query and written
by the bare library into a plain table (python-docx, odfpy, WeasyPrint on a minimal HTML table,
XlsxWriter, the ODF XML with zipfile, csv, json). Then starts the app (one uvicorn worker) on a
copy of the database and times the repeated download of a published period's stored export
through HTTP: the export form's POST (answered with a redirect to the stored file) and the
file's GET. Writes bench/results/exports.json and bench/results/exports.md.
See bench/README.md for the targets.
"""

from __future__ import annotations

import argparse
import csv
import gc
import html
import io
import json
import os
import re
import shutil
import signal
import statistics
import sys
import time
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

from run import (  # noqa: E402
    REAL_SLUG,
    RESULTS,
    VENV_BIN,
    WORK,
    ensure_databases,
    environment,
    free_port,
    server,
    signed_in_headers,
    stop_all,
    wait_until_quiet,
)

FORMATS = ("docx", "odt", "pdf", "xlsx", "ods", "csv", "json")
DOCUMENTS = ("docx", "odt", "pdf")
RATIO_TARGET = 1.5
SCALE_TARGET_S = 1.0
DOWNLOAD_TARGET_MS = 50.0

# The same rows as the export, with one plain query (like bench/baseline_app.py): the
# latest period of the programme, each activity's newest status update, its organisations.
QUERY = """
SELECT a.id, su.version, al.number, al.title, t.title, r.number, r.title, a.label, a.title,
       su.status, su.explanation,
       (SELECT group_concat(o.code, ', ') FROM activity_organisation AS ao
        JOIN organisation AS o ON o.id = ao.organisation_id WHERE ao.activity_id = a.id),
       su.created_at
FROM programme AS p
JOIN reporting_period AS rp ON rp.id = (
    SELECT id FROM reporting_period WHERE programme_id = p.id
    ORDER BY reference_date DESC, id DESC LIMIT 1)
JOIN result AS r ON r.programme_id = p.id
JOIN theme AS t ON t.id = r.theme_id
JOIN action_line AS al ON al.id = t.action_line_id
JOIN activity AS a ON a.result_id = r.id
LEFT JOIN status_update AS su ON su.activity_id = a.id AND su.period_id = rp.id
    AND su.version = (SELECT max(version) FROM status_update
                      WHERE activity_id = a.id AND period_id = rp.id)
WHERE p.slug = ?
ORDER BY al.position, t.position, r.position, a.position
"""
HEADERS = ("Nr.", "Resultaat (doelstelling)", "Activiteiten / producten", "Stand van zaken")


def fetch_rows(database: Path, slug: str) -> list[tuple]:
    import sqlite3

    with sqlite3.connect(database) as connection:
        return connection.execute(QUERY, (slug,)).fetchall()


def _plain(rows):  # type: ignore[no-untyped-def]
    """Five texts per row, as a plain table shows them."""
    return [(str(r[5]), r[6], f"{r[7] or ''} {r[8]}", r[9] or "", r[10] or "") for r in rows]


# --- Bare libraries on a plain table ---------------------------------------------------------


def bare_docx(rows) -> bytes:  # type: ignore[no-untyped-def]
    from docx import Document

    document = Document()
    table = document.add_table(rows=1, cols=5)
    for cell, text in zip(table.rows[0].cells, (*HEADERS, "Toelichting"), strict=True):
        cell.text = text
    for values in _plain(rows):
        for cell, text in zip(table.add_row().cells, values, strict=True):
            cell.text = text
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def bare_odt(rows) -> bytes:  # type: ignore[no-untyped-def]
    from odf.opendocument import OpenDocumentText
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import P

    document = OpenDocumentText()
    table = Table(name="Table")
    table.addElement(TableColumn(numbercolumnsrepeated=5))
    for values in [(*HEADERS, "Toelichting"), *_plain(rows)]:
        row = TableRow()
        for text in values:
            cell = TableCell(valuetype="string")
            cell.addElement(P(text=text))
            row.addElement(cell)
        table.addElement(row)
    document.text.addElement(table)
    buffer = io.BytesIO()
    document.write(buffer)
    return buffer.getvalue()


def bare_pdf(rows) -> bytes:  # type: ignore[no-untyped-def]
    from weasyprint import HTML

    cells = "".join(
        "<tr>" + "".join(f"<td>{html.escape(text)}</td>" for text in values) + "</tr>"
        for values in _plain(rows)
    )
    head = "".join(f"<th>{text}</th>" for text in (*HEADERS, "Toelichting"))
    document = (
        "<!doctype html><html lang=nl><meta charset=utf-8><title>Tabel</title>"
        "<style>@page { size: A4 landscape } html { font: 8.5pt sans-serif } "
        "td, th { border: 0.5pt solid; vertical-align: top }</style>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>"
    )
    return HTML(string=document).write_pdf()


def bare_xlsx(rows) -> bytes:  # type: ignore[no-untyped-def]
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "remove_timezone": True})
    sheet = workbook.add_worksheet()
    for number, row in enumerate(rows):
        sheet.write_row(number, 0, row[:12])
    workbook.close()
    return buffer.getvalue()


def bare_ods(rows) -> bytes:  # type: ignore[no-untyped-def]
    def cell(value) -> str:  # type: ignore[no-untyped-def]
        if isinstance(value, int):
            return f'<table:table-cell office:value-type="float" office:value="{value}"/>'
        text = escape(str(value or ""))
        return (
            '<table:table-cell office:value-type="string">'
            f"<text:p>{text}</text:p></table:table-cell>"
        )

    body = "".join(
        "<table:table-row>" + "".join(cell(v) for v in row) + "</table:table-row>" for row in rows
    )
    content = (
        "<?xml version='1.0' encoding='UTF-8'?><office:document-content "
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3">'
        '<office:body><office:spreadsheet><table:table table:name="Sheet1">'
        f"{body}</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"),
            "application/vnd.oasis.opendocument.spreadsheet",
            compress_type=zipfile.ZIP_STORED,
        )
        archive.writestr("content.xml", content)
    return buffer.getvalue()


def bare_csv(rows) -> bytes:  # type: ignore[no-untyped-def]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def bare_json(rows) -> bytes:  # type: ignore[no-untyped-def]
    keys: tuple[str, ...] = ("activity_id", "version", "action_line", "action_line_title", "theme")
    keys += ("result_number", "result", "activity_label", "activity", "status", "explanation")
    keys += ("organisations", "last_change")
    return json.dumps([dict(zip(keys, row, strict=True)) for row in rows]).encode()


BARE: dict[str, Callable] = {
    "docx": bare_docx,
    "odt": bare_odt,
    "pdf": bare_pdf,
    "xlsx": bare_xlsx,
    "ods": bare_ods,
    "csv": bare_csv,
    "json": bare_json,
}


# --- Measuring -------------------------------------------------------------------------------


@dataclass
class Timing:
    size: str
    format: str
    activities: int
    export_s: float  # read-model + renderer (median)
    read_model_s: float
    render_s: float
    bare_s: float  # plain query + bare library (median)
    bare_query_s: float
    bare_write_s: float
    bytes: int
    bare_bytes: int
    repeats: int

    @property
    def ratio(self) -> float:
        return self.export_s / self.bare_s if self.bare_s else 0.0

    @property
    def render_ratio(self) -> float:
        """The renderer against the bare library, both given their rows (no database)."""
        return self.render_s / self.bare_write_s if self.bare_write_s else 0.0


def _timed(function: Callable, *args: object) -> tuple[float, object]:
    gc.collect()
    started = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - started, result


def _interleaved(read, render, query, write, repeats: int):  # type: ignore[no-untyped-def]
    """The medians of the four steps, timed in turn in every round (the export's two, then
    the bare ones), so that other work on the machine weighs on both sides alike. Also the
    table, the export and the bare file of the last round."""
    times: list[list[float]] = [[], [], [], []]
    for _ in range(repeats):
        read_s, table = _timed(read)
        render_s, content = _timed(render, table)
        query_s, rows = _timed(query)
        write_s, bare = _timed(write, rows)
        for values, value in zip(times, (read_s, render_s, query_s, write_s), strict=True):
            values.append(value)
    medians = [statistics.median(values) for values in times]
    return (*medians, table, content, bare)


def measure_exports(database: Path, slug: str, size: str, formats, repeats: int) -> list[Timing]:  # type: ignore[no-untyped-def]
    from sqlalchemy import select
    from sqlmodel import Session, col

    from app.db import make_engine
    from app.exports import service
    from app.exports.table import build_table
    from app.periods.models import ReportingPeriod
    from app.programmes.models import Programme

    engine = make_engine(f"sqlite:///{database}")
    timings = []
    try:
        with Session(engine) as session:
            programme_id = session.scalar(
                select(col(Programme.id)).where(col(Programme.slug) == slug)
            )
            period_id = session.scalar(
                select(col(ReportingPeriod.id))
                .where(col(ReportingPeriod.programme_id) == programme_id)
                .order_by(
                    col(ReportingPeriod.reference_date).desc(), col(ReportingPeriod.id).desc()
                )
            )
            assert period_id is not None
            for fmt_key in formats:
                fmt = service.FORMATS[fmt_key]
                repeat = repeats if size == "real" or fmt_key not in DOCUMENTS else 1
                build_table(session, period_id=period_id)  # warm the caches once
                read_s, render_s, query_s, write_s, table, content, bare = _interleaved(
                    lambda: build_table(session, period_id=period_id),
                    fmt.render,
                    lambda: fetch_rows(database, slug),
                    BARE[fmt_key],
                    repeat,
                )
                # An export is the read-model and the renderer; a bare one the query and the
                # library (each step's median, so a document at scale is made only once).
                export_s, bare_s = read_s + render_s, query_s + write_s
                timing = Timing(
                    size=size,
                    format=fmt_key,
                    activities=table.activity_count,
                    export_s=round(export_s, 4),
                    read_model_s=round(read_s, 4),
                    render_s=round(render_s, 4),
                    bare_s=round(bare_s, 4),
                    bare_query_s=round(query_s, 4),
                    bare_write_s=round(write_s, 4),
                    bytes=len(content),
                    bare_bytes=len(bare),
                    repeats=repeat,
                )
                print(
                    f"  {size:5} {fmt_key:5} {timing.activities:6} activities  "
                    f"export {export_s * 1000:9.1f} ms (read-model {read_s * 1000:7.1f}, "
                    f"render {render_s * 1000:8.1f})  bare {bare_s * 1000:9.1f} ms "
                    f"(query {query_s * 1000:6.1f}, write {write_s * 1000:8.1f})  "
                    f"×{timing.ratio:.2f}",
                    flush=True,
                )
                timings.append(timing)
    finally:
        engine.dispose()
    return timings


# --- Repeated download over HTTP -------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def _request(url: str, *, headers: dict[str, str], data: bytes | None = None):  # type: ignore[no-untyped-def]
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def measure_download(database: Path, count: int) -> dict:
    """A published period's stored XLSX, downloaded `count` times through the export form's
    POST (a 303 to the stored file) and the file's GET, against a running server."""
    copy = WORK / "exports.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{copy}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(database, copy)
    headers = signed_in_headers(copy)
    from sqlalchemy import select
    from sqlmodel import Session, col

    from app.db import make_engine
    from app.exports import service
    from app.periods.models import PeriodState, ReportingPeriod
    from app.programmes.models import Programme
    from app.readmodel import ActivityFilters

    engine = make_engine(f"sqlite:///{copy}")
    with Session(engine) as session:
        period_id = session.scalar(
            select(col(ReportingPeriod.id))
            .join(Programme, col(Programme.id) == ReportingPeriod.programme_id)
            .where(
                col(Programme.slug) == REAL_SLUG,
                col(ReportingPeriod.state) == PeriodState.published,
            )
        )
        assert period_id is not None
        request = service.ExportRequest(period_id, service.FORMATS["xlsx"], ActivityFilters(), "nl")
        stored = service.produce(session, request)  # the first download made it
        session.commit()
        file_id, size = stored.id, stored.size
    engine.dispose()

    port = free_port()
    command = [str(VENV_BIN / "uvicorn"), "app.main:create_app", "--factory", "--port", str(port)]
    command += ["--host", "127.0.0.1", "--workers", "1", "--no-access-log"]
    command += ["--log-level", "warning"]
    base = f"http://127.0.0.1:{port}"
    posts, gets, totals = [], [], []
    with server("exports", command, {"DATABASE_URL": f"sqlite:///{copy}"}, f"{base}/"):
        status, response_headers, body = _request(f"{base}/periods/{period_id}", headers=headers)
        if status != 200:
            raise RuntimeError(f"period page answered {status}")
        token = re.search(rb'name="csrftoken" value="([^"]+)"', body)
        cookie = re.search(r"csrftoken=([^;]+)", response_headers.get("set-cookie", ""))
        if not token or not cookie:
            raise RuntimeError("no CSRF token on the period page")
        form_headers = {
            **headers,
            "Cookie": f"{headers['Cookie']}; csrftoken={cookie[1]}",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        form = urllib.parse.urlencode({"csrftoken": token[1].decode(), "format": "xlsx"}).encode()
        for attempt in range(count + 3):
            started = time.perf_counter()
            status, answer, _ = _request(
                f"{base}/periods/{period_id}/exports", headers=form_headers, data=form
            )
            posted = time.perf_counter()
            if status != 303 or answer.get("location") != f"/files/{file_id}":
                raise RuntimeError(f"export form answered {status} {answer.get('location')}")
            status, _, content = _request(f"{base}/files/{file_id}", headers=headers)
            done = time.perf_counter()
            if status != 200 or len(content) != size:
                raise RuntimeError(f"stored file answered {status}, {len(content)} bytes")
            if attempt >= 3:  # the first ones warm the server up
                posts.append((posted - started) * 1000)
                gets.append((done - posted) * 1000)
                totals.append((done - started) * 1000)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{copy}{suffix}").unlink(missing_ok=True)

    def summary(values: list[float]) -> dict:
        ordered = sorted(values)
        return {
            "p50_ms": round(statistics.median(ordered), 2),
            "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1], 2),
            "max_ms": round(ordered[-1], 2),
        }

    return {
        "requests": count,
        "bytes": size,
        "form_post": summary(posts),
        "file_get": summary(gets),
        "download": summary(totals),
    }


# --- Report ----------------------------------------------------------------------------------


def evaluate(timings: list[Timing], download: dict, scale: int) -> list[dict]:
    targets = []
    for t in timings:
        if t.size == "real":
            targets.append(
                {
                    "id": "e",
                    "target": f"real {t.format}: export ≤ {RATIO_TARGET} × bare library",
                    "measured": f"{t.export_s * 1000:.1f} vs {t.bare_s * 1000:.1f} ms "
                    f"(×{t.ratio:.2f}; render alone vs library alone ×{t.render_ratio:.2f})",
                    "pass": t.ratio <= RATIO_TARGET,
                }
            )
    for t in timings:
        if t.size != "real" and t.format in ("xlsx", "ods", "csv", "json"):
            targets.append(
                {
                    "id": "f",
                    "target": f"{scale}× {t.format}: export < {SCALE_TARGET_S:g} s",
                    "measured": f"{t.export_s:.3f} s",
                    "pass": t.export_s < SCALE_TARGET_S,
                }
            )
    targets.append(
        {
            "id": "g",
            "target": f"stored export, repeated download < {DOWNLOAD_TARGET_MS:g} ms (p95)",
            "measured": f"p50 {download['download']['p50_ms']:.1f} ms, "
            f"p95 {download['download']['p95_ms']:.1f} ms",
            "pass": download["download"]["p95_ms"] < DOWNLOAD_TARGET_MS,
        }
    )
    return targets


def write_report(report: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "exports.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    env = report["environment"]
    dirty = " (app/templates modified)" if env["git_dirty"] else ""
    lines = [
        "# Export benchmark results",
        "",
        f"{env['date']} · commit {env['git_commit']}{dirty} · Python {env['python']} · "
        f"SQLite {env['sqlite']} · {env['cpus']} CPUs · median of {report['settings']['repeat']} "
        f"runs ({report['settings']['scale']}× DOCX and ODT: "
        f"{'1 run' if report['settings']['documents_at_scale'] else 'not run'}, PDF: "
        f"{'1 run' if report['settings']['pdf_at_scale'] else 'not run'}) · "
        f"CPU busy with other work before: {env['cpu_busy_before']:.0%}",
        "",
        "In-process. **export**: the read-model (app/exports/table.py) plus the renderer, as a "
        "fresh export does. **bare**: the same rows with one plain SQL query, written by the bare "
        "library into a plain table (bench/exports.py). Times in ms.",
        "",
        "| size | format | activities | export | read-model | render | bare | bare query "
        "| bare write | export / bare | render / bare write | KB | bare KB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for t in report["timings"]:
        ratio = t["export_s"] / t["bare_s"] if t["bare_s"] else 0
        lines.append(
            f"| {t['size']} | {t['format']} | {t['activities']} | {t['export_s'] * 1000:.1f} | "
            f"{t['read_model_s'] * 1000:.1f} | {t['render_s'] * 1000:.1f} | "
            f"{t['bare_s'] * 1000:.1f} | {t['bare_query_s'] * 1000:.1f} | "
            f"{t['bare_write_s'] * 1000:.1f} | ×{ratio:.2f} | "
            f"×{t['render_s'] / t['bare_write_s'] if t['bare_write_s'] else 0:.2f} | "
            f"{t['bytes'] / 1024:.0f} | "
            f"{t['bare_bytes'] / 1024:.0f} |"
        )
    download = report["download"]
    lines += [
        "",
        "## Repeated download of a stored export (HTTP, one uvicorn worker)",
        "",
        f"The published period's XLSX ({download['bytes'] / 1024:.0f} KB), stored by the first "
        f"export; {download['requests']} downloads, one at a time: the export form's POST "
        "(answered with a 303 to the stored file) and the file's GET.",
        "",
        "| step | p50 ms | p95 ms | max ms |",
        "|---|---:|---:|---:|",
    ]
    for step in ("form_post", "file_get", "download"):
        s = download[step]
        lines.append(
            f"| {step.replace('_', ' ')} | {s['p50_ms']:.2f} | {s['p95_ms']:.2f} "
            f"| {s['max_ms']:.2f} |"
        )
    lines += ["", "## Targets", "", "| | target | measured | result |", "|---|---|---|---|"]
    for t in report["targets"]:
        verdict = "pass" if t["pass"] else "**FAIL**"
        lines.append(f"| {t['id']} | {t['target']} | {t['measured']} | {verdict} |")
    (RESULTS / "exports.md").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=100, help="Size of the big programme")
    parser.add_argument("--repeat", type=int, default=9, help="Runs per measurement (median)")
    parser.add_argument(
        "--documents-at-scale",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="Also time DOCX and ODT at the big size (once each; about a minute)",
    )
    parser.add_argument(
        "--pdf-at-scale",
        action="store_true",
        help="Also time the PDF at the big size (about 3,000 pages: 20 minutes, 4 GB)",
    )
    parser.add_argument("--downloads", type=int, default=100, help="Repeated downloads to time")
    parser.add_argument("--regenerate", action="store_true", help="Rebuild the databases")
    parser.add_argument("--quiet-wait", type=int, default=60, help="Wait for a quiet machine")
    parser.add_argument("--check", action="store_true", help="Exit 1 when a target fails")
    args = parser.parse_args(argv)

    def on_sigterm(*_: object) -> None:
        stop_all()
        sys.exit(143)

    signal.signal(signal.SIGTERM, on_sigterm)
    started = time.monotonic()
    try:
        bench_db, _, meta = ensure_databases(args.scale, args.regenerate)
        busy = wait_until_quiet(args.quiet_wait)
        print("Exports of the real programme", flush=True)
        timings = measure_exports(bench_db, REAL_SLUG, "real", FORMATS, args.repeat)
        print(f"Exports of the {args.scale}× programme", flush=True)
        big = [
            fmt
            for fmt in FORMATS
            if fmt not in DOCUMENTS
            or (fmt == "pdf" and args.pdf_at_scale)
            or (fmt != "pdf" and args.documents_at_scale)
        ]
        wait_until_quiet(args.quiet_wait, verbose=False)
        timings += measure_exports(
            bench_db, f"bench-{args.scale}x", f"{args.scale}x", big, args.repeat
        )
        print("Repeated download of a stored export", flush=True)
        download = measure_download(bench_db, args.downloads)
        print(f"  download p50 {download['download']['p50_ms']:.1f} ms", flush=True)
    except (RuntimeError, OSError) as error:
        print(f"bench/exports.py: {error}", file=sys.stderr)
        return 2
    finally:
        stop_all()
    targets = evaluate(timings, download, args.scale)
    report = {
        "environment": {**environment(), "cpu_busy_before": round(busy, 2)},
        "settings": {
            "scale": args.scale,
            "repeat": args.repeat,
            "documents_at_scale": args.documents_at_scale,
            "pdf_at_scale": args.pdf_at_scale,
        },
        "database": meta,
        "timings": [asdict(t) for t in timings],
        "download": download,
        "targets": targets,
        "elapsed_seconds": round(time.monotonic() - started, 1),
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    write_report(report)
    print()
    print((RESULTS / "exports.md").read_text())
    return 1 if args.check and not all(t["pass"] for t in targets) else 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
