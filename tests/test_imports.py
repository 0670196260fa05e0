"""Bulk update by spreadsheet: real XLSX, ODS and CSV files in the export's layout, a dry run
that says per row what happens, all-or-nothing apply through the editing rules, bad files
refused with a clear message, the web flow through jobs, and the command line."""

from __future__ import annotations

import csv
import io
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session
from typer.testing import Result

from app import readmodel
from app.activities import service as activities
from app.activities.models import Status, StatusUpdate, UpdateSource
from app.activities.presentation import STATUS_STYLES
from app.audit.models import AuditEvent, AuditSource
from app.config import Settings
from app.errors import DomainError
from app.exports.columns import COLUMNS, KEYS
from app.i18n import translations_for
from app.imports import parsing, service
from app.jobs import service as jobs
from app.jobs.models import Job, JobState, StoredFile
from app.main import create_app
from app.periods.models import PeriodState, ReportingPeriod
from app.periods.service import get_period
from app.programmes.models import Activity
from tests.cli import run_cli
from tests.conftest import USE_POSTGRES
from tests.factories import create_user, csrf_from, sign_in, update_round
from tests.test_query_count import counting
from tests.test_write_lock import write_lock_free

FORMATS = ("xlsx", "ods", "csv")
MEDIA_TYPES = parsing.MEDIA_TYPES
NL = translations_for("nl")


# -- files in the export's layout, written with each format's own library -------------------


def export_records(session: Session, period_id: int) -> list[dict[str, Any]]:
    """Every activity of the period as an export row (by column key), from the read-model."""
    period = get_period(session, period_id)
    shown = readmodel.PeriodRow(
        period.id, period.name, period.reference_date, PeriodState(period.state), period.deadline
    )
    return [
        {
            "activity_id": row.id,
            "version": row.version,
            "action_line": row.action_line_number,
            "action_line_title": row.action_line_title,
            "theme": row.theme_title,
            "result_number": row.result_number,
            "result": row.result_title,
            "activity_label": row.label or "",
            "activity": row.title,
            "status": row.status,
            "explanation": row.explanation,
            "organisations": ", ".join(o.code for o in row.organisations),
            "last_change": row.updated_at.isoformat() if row.updated_at else "",
        }
        for row in readmodel.list_activities(session, period.programme_id, shown).rows
    ]


def _cell(value: Any, file_format: str) -> Any:
    """As an export writes it: a status as its code in CSV, as symbol + Dutch label in a
    spreadsheet; text that a spreadsheet would run as a formula neutralised."""
    if isinstance(value, Status):
        if file_format == "csv":
            return value.value
        style = STATUS_STYLES[value]
        return f"{style.symbol} {NL.gettext(style.label)}"
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return "" if value is None else value


def write_file(
    file_format: str,
    records: list[dict[str, Any]],
    *,
    header: list[str] | None = None,
    delimiter: str = ",",
) -> bytes:
    if header is None:
        header = list(KEYS) if file_format == "csv" else [NL.gettext(c.label) for c in COLUMNS]
    rows = [[_cell(record.get(key), file_format) for key in KEYS] for record in records]
    if file_format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
        return buffer.getvalue().encode("utf-8-sig")
    if file_format == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "Activiteiten"
        sheet.append(header)
        for row in rows:
            sheet.append(row)
        output = io.BytesIO()
        workbook.save(output)
        return output.getvalue()
    return _ods(header, rows)


def _ods(header: list[str], rows: list[list[Any]]) -> bytes:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    table = Table(name="Activiteiten")
    for values in [header, *rows]:
        table_row = TableRow()
        for value in values:
            if isinstance(value, int):
                cell = TableCell(valuetype="float", value=value)
                cell.addElement(P(text=str(value)))
            else:
                cell = TableCell(valuetype="string") if value != "" else TableCell()
                if value != "":
                    for line in str(value).split("\n"):  # a paragraph per line
                        cell.addElement(P(text=line))
            table_row.addElement(cell)
        # As office programs save it: the rest of the row as one repeated empty cell.
        table_row.addElement(TableCell(numbercolumnsrepeated=1000))
        table.addElement(table_row)
    # ... and the rest of the sheet as one repeated empty row.
    empty = TableRow(numberrowsrepeated=1_048_000)
    empty.addElement(TableCell(numbercolumnsrepeated=1024))
    table.addElement(empty)
    document.spreadsheet.addElement(table)
    output = io.BytesIO()
    document.write(output)
    return output.getvalue()


# -- the world: an open round, a police editor, activities of theirs and of others ----------


class World:
    """The shared update round (tests/factories.py) with the export's records of it."""

    def __init__(self, session: Session) -> None:
        self.session = session
        update = update_round(session)
        self.period_id = update.period_id
        self.editor_email = update.editor_email
        self.editor = update.editor
        self.coordinator = update.coordinator
        self.police = update.activities
        police = set(self.police)
        self.others = [
            id
            for id in session.scalars(select(Activity.id).order_by(Activity.id))
            if id not in police
        ]
        self.records = export_records(session, self.period_id)
        self.by_id = {record["activity_id"]: record for record in self.records}

    def row_of(self, activity_id: int) -> int:
        """The spreadsheet row of an activity in a file of self.records (header = row 1)."""
        return next(i for i, r in enumerate(self.records) if r["activity_id"] == activity_id) + 2

    def other_status(self, activity_id: int) -> Status:
        return next(s for s in Status if s != self.by_id[activity_id]["status"])

    def change_as_coordinator(self, activity_id: int, explanation: str) -> None:
        current = activities.latest_update(
            self.session, activity_id=activity_id, period_id=self.period_id
        )
        activities.record_status(
            self.session,
            activity_id=activity_id,
            period_id=self.period_id,
            status=Status(current.status),  # type: ignore[union-attr]
            explanation=explanation,
            author=self.coordinator,
            based_on_version=current.version,  # type: ignore[union-attr]
        )
        self.session.commit()

    def counts(self) -> tuple[int, int]:
        """Status updates and audit events, as the database has them now (a new transaction:
        the web app and the command line write through connections of their own)."""
        self.session.commit()
        return (
            self.session.scalar(select(func.count()).select_from(StatusUpdate)),
            self.session.scalar(select(func.count()).select_from(AuditEvent)),
        )  # type: ignore[return-value]


@pytest.fixture
def world(seeded_session: Session) -> World:
    return World(seeded_session)


def _read(file_format: str, content: bytes) -> parsing.Sheet:
    return parsing.read_sheet(content, f"bijwerken.{file_format}")


def _preview(world: World, content: bytes, file_format: str, user: Any = None) -> service.Preview:
    sheet = _read(file_format, content)
    return service.preview(
        world.session,
        period_id=world.period_id,
        rows=sheet.rows,
        user=user or world.editor,
        columns=sheet.columns,
    )


def _line(checked: service.Preview, row: int) -> service.PreviewLine:
    return next(line for line in checked.lines if line.row == row)


def _reasons(line: service.PreviewLine) -> str:
    return " | ".join(f"{problem.column}: {problem.message}" for problem in line.problems)


# -- the dry run -------------------------------------------------------------------------


@pytest.mark.parametrize("file_format", FORMATS)
def test_preview_says_per_row_what_changes_what_not_and_why_rows_are_refused(
    world: World, file_format: str
) -> None:
    status_changed, explanation_changed, bad_status, no_explanation, stale, untouched = (
        world.police[:6]
    )
    other = world.others[0]
    records = [dict(record) for record in world.records]
    by_id = {record["activity_id"]: record for record in records}
    by_id[status_changed]["status"] = world.other_status(status_changed)
    by_id[explanation_changed]["explanation"] = "Eerste regel.\nTweede regel, =geen formule."
    by_id[other]["status"] = world.other_status(other)
    by_id[bad_status]["status"] = "Bijna klaar"
    by_id[no_explanation]["explanation"] = "   "
    by_id[stale]["explanation"] = "Mijn nieuwe tekst."
    records.append(dict(by_id[status_changed]))  # the same activity twice
    records.append({**by_id[status_changed], "activity_id": 999_999})
    content = write_file(file_format, records)
    # After the export was made, the coordinator saves two activities.
    world.change_as_coordinator(stale, "Tekst van de coördinator.")
    world.change_as_coordinator(untouched, "Ook van de coördinator.")
    before = world.counts()

    checked = _preview(world, content, file_format)

    assert world.counts() == before  # a dry run
    changed = _line(checked, world.row_of(status_changed))
    assert changed.outcome == "change" and changed.status_changed
    assert changed.status_from == world.by_id[status_changed]["status"].value
    assert changed.status_to == by_id[status_changed]["status"].value
    assert not changed.explanation_changed and changed.based_on_version == 1
    explained = _line(checked, world.row_of(explanation_changed))
    assert explained.outcome == "change" and not explained.status_changed
    assert explained.explanation == "Eerste regel.\nTweede regel, =geen formule."
    assert explained.explanation_from == world.by_id[explanation_changed]["explanation"]

    status_column = "status (J)" if file_format == "csv" else "Stand van zaken (J)"
    explanation_column = "explanation (K)" if file_format == "csv" else "Toelichting (K)"
    expected_refusals = {
        world.row_of(other): ("", "Niet uw organisatie"),
        world.row_of(bad_status): (status_column, "Onbekende stand van zaken 'Bijna klaar'"),
        world.row_of(no_explanation): (explanation_column, "Schrijf een toelichting."),
        world.row_of(stale): (
            "version (B)" if file_format == "csv" else "Versie (B)",
            "Iemand heeft deze activiteit gewijzigd nadat de export was gemaakt "
            "(het bestand heeft versie 1, nu is het versie 2)",
        ),
        len(world.records) + 2: (
            "activity_id (A)" if file_format == "csv" else "Activiteit-id (A)",
            f"staat ook in rij {world.row_of(status_changed)}",
        ),
        len(world.records) + 3: (
            "activity_id (A)" if file_format == "csv" else "Activiteit-id (A)",
            "Er is geen activiteit 999999.",
        ),
    }
    for row, (column, message) in expected_refusals.items():
        line = _line(checked, row)
        assert line.outcome == "refused", (row, line)
        assert any(
            problem.column == column and message in problem.message for problem in line.problems
        ), (row, _reasons(line))
    kept = _line(checked, world.row_of(untouched))
    assert kept.outcome == "unchanged" and "door iemand anders gewijzigd" in kept.note
    # The editor's other activities, sent back as carried over, are confirmed unchanged.
    confirmed = [line.activity_id for line in checked.lines if line.outcome == "confirm"]
    assert sorted(confirmed) == sorted(world.police[6:])  # type: ignore[type-var]
    assert checked.counts() == {
        "change": 2,
        "confirm": len(world.police) - 6,
        "unchanged": len(world.records) - 6 - (len(world.police) - 6),
        "refused": 6,
    }


def test_a_published_period_refuses_every_change(world: World) -> None:
    published = world.session.scalar(
        select(ReportingPeriod.id).where(ReportingPeriod.name == "Voortgangsrapportage 2021")
    )
    records = export_records(world.session, published)  # type: ignore[arg-type]
    changed = next(r for r in records if r["activity_id"] == world.police[0])
    changed["explanation"] = "Een correctie achteraf."
    sheet = _read("csv", write_file("csv", records))
    checked = service.preview(
        world.session,
        period_id=published,
        rows=sheet.rows,
        user=world.editor,  # type: ignore[arg-type]
    )
    line = next(line for line in checked.lines if line.activity_id == world.police[0])
    assert line.outcome == "refused" and "is gepubliceerd" in _reasons(line)
    assert checked.counts() == {
        "change": 0,
        "confirm": 0,
        "unchanged": len(records) - 1,
        "refused": 1,
    }


def test_an_editor_during_review_may_change_only_what_was_sent_back(world: World) -> None:
    from app.periods.service import move_period

    move_period(world.session, period_id=world.period_id, move="review", actor=world.coordinator)
    world.session.commit()
    records = [dict(record) for record in world.records]
    records[world.row_of(world.police[0]) - 2]["explanation"] = "Nog even aangepast."
    checked = _preview(world, write_file("csv", records), "csv")
    line = _line(checked, world.row_of(world.police[0]))
    assert line.outcome == "refused" and "gesloten voor beoordeling" in _reasons(line)
    as_coordinator = _preview(world, write_file("csv", records), "csv", user=world.coordinator)
    assert _line(as_coordinator, world.row_of(world.police[0])).outcome == "change"


# -- applying: all or nothing ------------------------------------------------------------


@pytest.mark.parametrize("file_format", FORMATS)
def test_apply_changes_every_row_in_one_go_recorded_as_imported_and_audited(
    world: World, file_format: str
) -> None:
    first, second, third = world.police[:3]
    records = [dict(record) for record in world.records]
    by_id = {record["activity_id"]: record for record in records}
    by_id[first]["status"] = world.other_status(first)
    by_id[second]["explanation"] = "Nieuwe toelichting, met\neen tweede regel."
    by_id[third]["explanation"] = "=1+1 is hier tekst, geen formule"
    sheet = _read(file_format, write_file(file_format, records))
    updates_before, _ = world.counts()

    outcome = service.apply(
        world.session,
        period_id=world.period_id,
        rows=sheet.rows,
        user=world.editor,
        address="203.0.113.7",
        filename=f"bijwerken.{file_format}",
        columns=sheet.columns,
    )
    world.session.commit()

    # The three changes, and the editor's other activities sent back as carried over are
    # confirmed unchanged.
    assert len(outcome.applied) == len(world.police) and not outcome.preview.refused
    assert world.counts()[0] == updates_before + len(world.police)
    for activity_id in (first, second, third):
        update = activities.latest_update(
            world.session, activity_id=activity_id, period_id=world.period_id
        )
        assert update is not None and update.version == 2
        assert update.source == UpdateSource.imported and update.author_id == world.editor.id
    assert (
        activities.latest_update(
            world.session, activity_id=third, period_id=world.period_id
        ).explanation
        == "=1+1 is hier tekst, geen formule"
    )  # type: ignore[union-attr]
    assert (
        activities.latest_update(
            world.session, activity_id=second, period_id=world.period_id
        ).explanation
        == "Nieuwe toelichting, met\neen tweede regel."
    )  # type: ignore[union-attr]
    events = world.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "status.update").order_by(AuditEvent.id)
    ).all()[-3:]
    assert {event.object_id for event in events} == {str(first), str(second), str(third)}
    for event in events:
        assert event.details["source"] == "imported" and event.address == "203.0.113.7"
        assert event.actor_id == world.editor.id
    summary = world.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "status.import")
    ).one()
    assert summary.details["filename"] == f"bijwerken.{file_format}"
    assert [change["activity_id"] for change in summary.details["changed"]] == sorted(
        [first, second, third], key=world.row_of
    )
    assert sorted(change["activity_id"] for change in summary.details["confirmed"]) == sorted(
        world.police[3:]
    )
    assert summary.object_id == str(world.period_id)


@pytest.mark.parametrize("file_format", FORMATS)
def test_a_file_with_one_bad_row_applies_nothing(world: World, file_format: str) -> None:
    records = [dict(record) for record in world.records]
    by_id = {record["activity_id"]: record for record in records}
    by_id[world.police[0]]["status"] = world.other_status(world.police[0])
    by_id[world.police[1]]["explanation"] = "Een goede wijziging."
    by_id[world.police[2]]["status"] = "klaar"
    sheet = _read(file_format, write_file(file_format, records))
    before = world.counts()

    outcome = service.apply(
        world.session,
        period_id=world.period_id,
        rows=sheet.rows,
        user=world.editor,
        address="203.0.113.7",
    )
    world.session.commit()

    assert outcome.applied == [] and [line.row for line in outcome.preview.refused] == [
        world.row_of(world.police[2])
    ]
    assert world.counts() == before
    assert "Er is niets gewijzigd: 1 rij is geweigerd." in service.refusals_message(outcome.preview)


def test_the_checker_reads_a_file_in_the_same_number_of_queries_whatever_its_length(
    world: World,
) -> None:
    """What the checker needs is read once per file, not per row: a file twice as long, with
    twice as many rows exported before someone else saved, runs as many queries."""
    exported = [dict(record) for record in world.records]
    assert len(exported) >= 40
    for record in exported[:40:2]:  # every other row: changed by the coordinator since
        world.change_as_coordinator(record["activity_id"], f"Intussen {record['activity_id']}.")
    for record in exported[1:40:4]:
        record["explanation"] = "Mijn versie."
    engine = world.session.get_bind()

    def check(records: list[dict[str, Any]]) -> tuple[int, service.Preview]:
        sheet = _read("csv", write_file("csv", records))
        with counting(engine) as statements:
            checked = service.preview(
                world.session,
                period_id=world.period_id,
                rows=sheet.rows,
                user=world.editor,
                columns=sheet.columns,
            )
        return len(statements), checked

    short_queries, short = check(exported[:20])
    long_queries, long = check(exported[:40])
    left_as_is = [line for line in long.lines if line.note.startswith("Sinds de export")]
    assert len(long.lines) == 40 and len(left_as_is) == 20
    assert len([line for line in short.lines if line.note.startswith("Sinds de export")]) == 10
    assert short_queries == long_queries, (short_queries, long_queries)


def test_apply_checks_again_and_changes_nothing_when_an_activity_changed_since_the_preview(
    world: World,
) -> None:
    records = [dict(record) for record in world.records]
    records[world.row_of(world.police[0]) - 2]["explanation"] = "Mijn versie."
    records[world.row_of(world.police[1]) - 2]["explanation"] = "Ook mijn versie."
    sheet = _read("csv", write_file("csv", records))
    assert _preview(world, write_file("csv", records), "csv").counts()["change"] == 2
    world.change_as_coordinator(world.police[0], "Intussen door de coördinator.")
    before = world.counts()

    outcome = service.apply(
        world.session, period_id=world.period_id, rows=sheet.rows, user=world.editor, address=""
    )
    world.session.commit()

    assert outcome.applied == [] and world.counts() == before
    assert "Iemand heeft deze activiteit gewijzigd" in _reasons(outcome.preview.refused[0])


def test_a_conflict_while_writing_undoes_the_changes_already_written(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = [dict(record) for record in world.records]
    for activity_id in world.police[:2]:
        records[world.row_of(activity_id) - 2]["explanation"] = f"Nieuw voor {activity_id}."
    sheet = _read("csv", write_file("csv", records))
    calls = []

    def racing(session: Session, **change: Any) -> StatusUpdate:
        """Someone saves the second activity between the check and the write."""
        calls.append(change["activity_id"])
        if len(calls) == 2:
            current = activities.latest_update(
                session, activity_id=change["activity_id"], period_id=world.period_id
            )
            raise activities.EditConflict(current)  # type: ignore[arg-type]
        return activities.record_status(session, **change)

    monkeypatch.setattr(service, "record_status", racing)
    before = world.counts()
    with pytest.raises(service.ImportRefused, match="Er is niets gewijzigd. Rij"):
        service.apply(
            world.session, period_id=world.period_id, rows=sheet.rows, user=world.editor, address=""
        )
    world.session.commit()
    assert world.counts() == before


# -- reading files -----------------------------------------------------------------------


def test_statuses_are_read_as_code_label_or_symbol_and_label_in_either_language() -> None:
    for text in (
        "completed",
        "Completed",
        "Voltooid",
        "✔ Voltooid",
        "  ✔   voltooid ",
        "✔ Completed",
    ):
        assert parsing.parse_status(text) == Status.completed, text
    assert parsing.parse_status("In uitvoering en volgens planning") == Status.on_schedule
    assert parsing.parse_status("not started") == Status.not_started
    assert parsing.parse_status("– Niet van toepassing") == Status.not_applicable
    assert parsing.parse_status("klaar") is None


def test_csv_with_semicolons_bom_english_headers_and_neutralised_cells(world: World) -> None:
    activity_id = world.police[0]
    header = [translations_for("en").gettext(column.label).upper() for column in COLUMNS]
    record = {
        **world.by_id[activity_id],
        "status": "✔ Completed",
        "explanation": "-5% minder; =A1 blijft tekst",
    }
    content = write_file("csv", [record], header=header, delimiter=";")
    assert content.startswith(b"\xef\xbb\xbf") and b"'-5% minder" in content
    sheet = _read("csv", content)
    assert sheet.rows[0].values["explanation"] == "-5% minder; =A1 blijft tekst"
    assert sheet.rows[0].values["status"] == "✔ Completed"
    assert sheet.columns["explanation"] == "EXPLANATION (K)"
    line = _preview(world, content, "csv").lines[0]
    assert line.row == 2 and line.explanation == "-5% minder; =A1 blijft tekst"


def test_columns_in_another_order_and_blank_rows_are_fine(world: World) -> None:
    activity_id = world.police[0]
    header = ["Toelichting", "Stand van zaken", "Versie", "Activiteit-id", "Opmerking"]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerow([])
    writer.writerow(["Nieuw.", "delayed", "1", str(activity_id), "eigen kolom"])
    sheet = _read("csv", buffer.getvalue().encode())
    assert [row.number for row in sheet.rows] == [3]
    checked = _preview(world, buffer.getvalue().encode(), "csv")
    assert checked.lines[0].outcome == "change" and checked.lines[0].status_to == "delayed"


def _encrypted_xlsx() -> bytes:
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = io.BytesIO(write_file("xlsx", []))
    encrypted = io.BytesIO()
    OOXMLFile(plain).encrypt("geheim wachtwoord", encrypted)
    return encrypted.getvalue()


def _encrypted_ods() -> bytes:
    """An ODS as office programs save it with a password: its content encrypted, as the
    manifest says."""
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr(
            "META-INF/manifest.xml",
            '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
            '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml">'
            '<manifest:encryption-data manifest:checksum-type="SHA1/1K" manifest:checksum="x"/>'
            "</manifest:file-entry></manifest:manifest>",
        )
        archive.writestr("content.xml", os.urandom(256))
    return output.getvalue()


def _csv_rows(count: int) -> bytes:
    lines = ["activity_id,version,status,explanation"]
    lines += [f"{number},1,completed,Klaar." for number in range(1, count + 1)]
    return "\n".join(lines).encode()


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + os.urandom(64)
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
BAD_FILES = {
    "empty": ("leeg.xlsx", b"", "leeg.xlsx is leeg."),
    "password": ("beveiligd.xlsx", _encrypted_xlsx, "beveiligd met een wachtwoord"),
    "password-ods": ("beveiligd.ods", _encrypted_ods, "beveiligd met een wachtwoord"),
    "old-excel": (
        "oud.xlsx",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(2048),
        "oud Excel-bestand (.xls)",
    ),
    "png-as-xlsx": ("foto.xlsx", PNG, "foto.xlsx is geen geldig XLSX-bestand"),
    "pdf-as-ods": ("rapport.ods", PDF, "rapport.ods is geen geldig ODS-bestand"),
    "pdf": ("rapport.pdf", PDF, "rapport.pdf is geen XLSX-, ODS- of CSV-bestand"),
    "truncated": (
        "kapot.xlsx",
        lambda: write_file("xlsx", [])[:900],
        "kapot.xlsx is geen geldig XLSX-bestand",
    ),
    "binary-csv": ("data.csv", PNG, "data.csv is geen geldig CSV-bestand"),
    "not-utf8": (
        "latin.csv",
        "activity_id,version,status,explanation\n1,1,completed,Café\n".encode("latin-1"),
        "geen UTF-8-tekst",
    ),
    "columns-missing": (
        "kolommen.csv",
        b"activity_id,explanation\n1,Tekst\n",
        "Kolommen ontbreken: Versie (version), Stand van zaken (status).",
    ),
    "header-only": ("kop.csv", b"activity_id,version,status,explanation\n", "geen rijen"),
    "too-big": (
        "groot.csv",
        lambda: _csv_rows(1)[:40] + b"x" * parsing.MAX_FILE_BYTES,
        "is 5,0 MB; er kan hoogstens 5 MB tegelijk worden ingelezen",
    ),
    "too-many-rows": (
        "veel.csv",
        lambda: _csv_rows(parsing.MAX_ROWS + 1),
        "Het bestand heeft 2.001 rijen met inhoud; er kunnen hoogstens 2.000 tegelijk",
    ),
}


def _bad_file(name: str) -> tuple[str, bytes, str]:
    filename, content, message = BAD_FILES[name]
    return filename, content() if callable(content) else content, message


@pytest.mark.parametrize("name", BAD_FILES)
def test_a_bad_file_gets_a_clear_message(name: str) -> None:
    filename, content, message = _bad_file(name)
    with pytest.raises(parsing.ImportFileError) as refused:
        parsing.read_sheet(content, filename)
    assert message in refused.value.message


# -- through the web, as an editor: upload → preview job → apply job ----------------------


@pytest.fixture
def web(seeded_settings: Settings) -> Iterator[tuple[Any, World]]:
    app = create_app(seeded_settings)
    with Session(app.state.engine, expire_on_commit=False) as session:
        yield app, World(session)
    app.state.engine.dispose()


def _client(app: Any, email: str, **options: Any) -> TestClient:
    client = TestClient(app, **options)
    sign_in(client, email)
    return client


def _upload(
    client: TestClient, period_id: int, filename: str, content: bytes, *, htmx: bool = True
):  # type: ignore[no-untyped-def]
    """Upload as the form does: htmx sends it with the CSRF token in the x-csrftoken header;
    without JavaScript the browser posts the multipart form with the token as a form field."""
    token = csrf_from(client.get(f"/periods/{period_id}/import").text)
    headers = {"x-csrftoken": token, "HX-Request": "true"} if htmx else {}
    media_type = MEDIA_TYPES.get(filename.rsplit(".", 1)[-1], "application/octet-stream")
    return client.post(
        f"/periods/{period_id}/import",
        data={"csrftoken": token},
        files={"file": (filename, content, media_type)},
        headers=headers,
        follow_redirects=False,
    )


def _job_id(response) -> int:  # type: ignore[no-untyped-def]
    """The job a response sends the browser to (a redirect, or htmx's HX-Redirect)."""
    if response.status_code == 204:
        location = response.headers["hx-redirect"]
    else:
        assert response.status_code == 303, response.text[:500]
        location = response.headers["location"]
    return int(location.rsplit("/", 1)[-1])


def test_an_editor_uploads_sees_the_preview_and_applies_it(web) -> None:  # type: ignore[no-untyped-def]
    from bs4 import BeautifulSoup

    app, world = web
    first, second = world.police[:2]
    records = [dict(record) for record in world.records]
    records[world.row_of(first) - 2]["status"] = world.other_status(first)
    records[world.row_of(second) - 2]["explanation"] = "Via de spreadsheet."
    records[world.row_of(world.others[0]) - 2]["explanation"] = "Niet van mij."
    client = _client(app, world.editor_email)

    period_page = client.get(f"/periods/{world.period_id}")
    link = BeautifulSoup(period_page.text, "html.parser").find(id="import-link")
    assert link is not None and link.text == "Bijwerken met een spreadsheet"
    form_page = BeautifulSoup(client.get(link["href"]).text, "html.parser")
    form = form_page.find("form", id="import-form")
    assert form["enctype"] == "multipart/form-data"
    assert form.find("input", type="file")["accept"].startswith(".xlsx,.ods,.csv")
    assert "niets tot u dat bevestigt" in form_page.text

    # One row is refused: the preview says so and offers nothing to apply.
    refused_job = _job_id(
        _upload(client, world.period_id, "met-fout.xlsx", write_file("xlsx", records))
    )
    page = BeautifulSoup(client.get(f"/jobs/{refused_job}").text, "html.parser")
    assert page.find(id="import-count-refused").text == "1"
    other_row = page.find(id=f"import-row-{world.row_of(world.others[0])}")
    assert "Niet uw organisatie" in other_row.text and other_row["data-outcome"] == "refused"
    assert page.find(id="import-apply-form") is None
    refused_apply = client.post(
        f"/jobs/{refused_job}/apply",
        data={"csrftoken": csrf_from(client.get(f"/jobs/{refused_job}").text)},
    )
    assert refused_apply.status_code == 409 and "geweigerd" in refused_apply.text

    # Corrected, it previews two changes and applies them.
    records[world.row_of(world.others[0]) - 2] = world.by_id[world.others[0]]
    before = world.counts()
    job_id = _job_id(
        _upload(client, world.period_id, "bijwerken.xlsx", write_file("xlsx", records))
    )
    with Session(app.state.engine) as session:
        job = session.get(Job, job_id)
        assert job.state == JobState.done and job.kind == "import_preview"
        assert job.params["filename"] == "bijwerken.xlsx" and job.params["language"] == "nl"
        assert session.get(StoredFile, job.params["file_id"]).created_by_id == world.editor.id
    page = BeautifulSoup(client.get(f"/jobs/{job_id}").text, "html.parser")
    assert page.find(id="import-count-change").text == "2"
    confirmable = len(world.police) - 2  # the editor's others, sent back as carried over
    assert page.find(id="import-count-confirm").text == str(confirmable)
    assert page.find(id="import-count-unchanged").text == str(len(records) - 2 - confirmable)
    first_row = page.find(id=f"import-row-{world.row_of(first)}")
    assert "Stand van zaken" in first_row.text and first_row["data-outcome"] == "change"
    assert "Via de spreadsheet." in page.find(id=f"import-row-{world.row_of(second)}").text
    apply_form = page.find("form", id="import-apply-form")
    buttons = {button["value"]: button.text.strip() for button in apply_form.find_all("button")}
    assert buttons == {
        "include": f"Doorvoeren: 2 gewijzigd, {confirmable} ongewijzigd bevestigd",
        "leave": "Alleen de 2 wijzigingen doorvoeren, niets bevestigen",
    }
    assert world.counts() == before  # nothing changed before confirming

    # The changes only: the rows sent back unchanged confirm nothing.
    applied = client.post(
        apply_form["action"],
        data={
            "csrftoken": apply_form.find("input", {"name": "csrftoken"})["value"],
            "confirmations": "leave",
        },
        follow_redirects=False,
    )
    apply_id = _job_id(applied)
    result = BeautifulSoup(client.get(f"/jobs/{apply_id}").text, "html.parser")
    assert result.find(id="import-applied-heading").text == "2 wijzigingen doorgevoerd"
    assert "2 wijzigingen doorgevoerd." in result.find(id="job-done").text
    assert world.counts()[0] == before[0] + 2
    for activity_id in (first, second):
        update = activities.latest_update(
            world.session, activity_id=activity_id, period_id=world.period_id
        )
        assert update.source == UpdateSource.imported and update.author_id == world.editor.id  # type: ignore[union-attr]
    audit = world.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "status.import")
    ).one()
    assert audit.address == "testclient" and audit.details["filename"] == "bijwerken.xlsx"

    # The preview is spent: it links to the outcome, and applying it again is refused.
    again = BeautifulSoup(client.get(f"/jobs/{job_id}").text, "html.parser")
    assert again.find(id="import-apply-form") is None and again.find(id="import-submitted")
    twice = client.post(
        f"/jobs/{job_id}/apply", data={"csrftoken": csrf_from(client.get(f"/jobs/{job_id}").text)}
    )
    assert twice.status_code == 409 and world.counts()[0] == before[0] + 2


@pytest.mark.parametrize("name", ["empty", "password", "png-as-xlsx", "pdf", "too-big"])
def test_a_bad_upload_is_refused_on_the_form_and_nothing_is_kept(web, name: str) -> None:  # type: ignore[no-untyped-def]
    from bs4 import BeautifulSoup

    app, world = web
    filename, content, message = _bad_file(name)
    client = _client(app, world.editor_email)
    response = _upload(client, world.period_id, filename, content)
    assert response.status_code == 422
    error = BeautifulSoup(response.text, "html.parser").find(id="import-file-error")
    assert error is not None and message in error.text
    with Session(app.state.engine) as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 0
        assert session.scalar(select(func.count()).select_from(StoredFile)) == 0


def test_a_file_whose_rows_cannot_be_read_fails_its_job_with_the_reason(web) -> None:  # type: ignore[no-untyped-def]
    app, world = web
    filename, content, message = _bad_file("too-many-rows")
    client = _client(app, world.editor_email)
    job_id = _job_id(_upload(client, world.period_id, filename, content))
    page = client.get(f"/jobs/{job_id}")
    assert 'data-state="failed"' in page.text and message in page.text


def test_an_upload_without_a_file_or_without_the_csrf_token_is_refused(web) -> None:  # type: ignore[no-untyped-def]
    app, world = web
    client = _client(app, world.editor_email, raise_server_exceptions=False)
    token = csrf_from(client.get(f"/periods/{world.period_id}/import").text)
    no_file = client.post(
        f"/periods/{world.period_id}/import",
        data={"csrftoken": token},
        headers={"x-csrftoken": token, "HX-Request": "true"},
    )
    assert no_file.status_code == 422 and "Kies een bestand" in no_file.text
    assert no_file.text.lstrip().startswith("<form")  # htmx swaps the form with its message
    # Without JavaScript the same form posts the file and redirects to the job.
    assert _job_id(
        _upload(client, world.period_id, "b.csv", write_file("csv", world.records), htmx=False)
    )
    for headers in ({}, {"x-csrftoken": "forged"}):
        forged = client.post(
            f"/periods/{world.period_id}/import",
            data={"csrftoken": "forged"},
            files={"file": ("bijwerken.csv", write_file("csv", world.records), "text/csv")},
            headers=headers,
            follow_redirects=False,
        )
        # Refused before the route, by asgi-csrf.
        assert forged.status_code == 403
    with Session(app.state.engine) as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 1


def test_viewers_cannot_import_and_nobody_applies_someone_elses_preview(web) -> None:  # type: ignore[no-untyped-def]
    app, world = web
    records = [dict(record) for record in world.records]
    records[world.row_of(world.police[0]) - 2]["explanation"] = "Van de eerste redacteur."
    content = write_file("csv", records)
    with Session(app.state.engine) as session:
        viewer = create_user(session, "viewer")
        other_editor = create_user(session, "editor", ("Politie",))
        other_coordinator = create_user(session, "coordinator")

    viewing = _client(app, viewer)
    assert viewing.get(f"/periods/{world.period_id}/import").status_code == 403
    assert 'id="import-link"' not in viewing.get(f"/periods/{world.period_id}").text
    token = csrf_from(viewing.get(f"/periods/{world.period_id}").text)
    upload = viewing.post(
        f"/periods/{world.period_id}/import",
        data={"csrftoken": token},
        files={"file": ("bijwerken.csv", content, "text/csv")},
        headers={"x-csrftoken": token},
    )
    assert upload.status_code == 403

    job_id = _job_id(_upload(_client(app, world.editor_email), world.period_id, "b.csv", content))
    stranger = _client(app, other_editor)
    token = csrf_from(stranger.get(f"/periods/{world.period_id}").text)
    assert stranger.get(f"/jobs/{job_id}").status_code == 403
    assert stranger.post(f"/jobs/{job_id}/apply", data={"csrftoken": token}).status_code == 403
    with Session(app.state.engine) as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 1

    # A coordinator may apply it; the change is then theirs.
    coordinating = _client(app, other_coordinator)
    token = csrf_from(coordinating.get(f"/periods/{world.period_id}").text)
    apply_id = _job_id(
        coordinating.post(
            f"/jobs/{job_id}/apply", data={"csrftoken": token}, follow_redirects=False
        )
    )
    with Session(app.state.engine) as session:
        assert session.get(Job, apply_id).state == JobState.done
        update = activities.latest_update(
            session, activity_id=world.police[0], period_id=world.period_id
        )
        assert update.source == UpdateSource.imported and update.author_id != world.editor.id  # type: ignore[union-attr]


def test_the_import_link_shows_only_while_the_period_takes_changes(web) -> None:  # type: ignore[no-untyped-def]
    app, world = web
    published = world.session.scalar(
        select(ReportingPeriod.id).where(ReportingPeriod.name == "Voortgangsrapportage 2021")
    )
    client = _client(app, world.editor_email)
    assert 'id="import-link"' in client.get(f"/periods/{world.period_id}").text
    assert 'id="import-link"' not in client.get(f"/periods/{published}").text
    form = client.get(f"/periods/{published}/import")
    assert form.status_code == 200 and 'id="import-period-closed"' in form.text


# -- a preview job run directly (the job framework's own path) -----------------------------


def test_preview_job_result_is_json_and_the_apply_job_fails_with_the_reasons(web) -> None:  # type: ignore[no-untyped-def]
    import json

    app, world = web
    records = [dict(record) for record in world.records]
    records[world.row_of(world.police[0]) - 2]["explanation"] = "Nieuw."
    content = write_file("ods", records)
    job = service.submit_preview(
        world.session,
        period_id=world.period_id,
        content=content,
        filename="map/bijwerken.ods",
        user=world.editor,
        language="en",
    )
    world.session.commit()
    jobs.run(app.state.engine, job.id)  # type: ignore[arg-type]
    world.session.expire_all()
    done = world.session.get(Job, job.id)
    assert done.state == JobState.done, done.message
    assert json.loads(json.dumps(done.result))["counts"]["change"] == 1
    assert done.message.startswith("Rows: 128; changes: 1;")  # in the uploader's language
    assert done.params["filename"] == "bijwerken.ods"
    # The activity changes before the apply runs: the apply job fails and says why.
    world.change_as_coordinator(world.police[0], "Intussen gewijzigd.")
    apply_job = service.submit_apply(
        world.session,
        preview_job_id=job.id,
        user=world.editor,
        language="nl",
        address="x",  # type: ignore[arg-type]
    )
    world.session.commit()
    before = world.counts()
    jobs.run(app.state.engine, apply_job.id)  # type: ignore[arg-type]
    world.session.expire_all()
    failed = world.session.get(Job, apply_job.id)
    assert failed.state == JobState.failed
    assert failed.message.startswith("Er is niets gewijzigd: 1 rij is geweigerd.")
    assert f"rij {world.row_of(world.police[0])}" in failed.message
    assert world.counts() == before


def test_a_long_file_name_is_shortened_keeping_its_extension(world: World) -> None:
    job = service.submit_preview(
        world.session,
        period_id=world.period_id,
        content=write_file("csv", world.records),
        filename="bijwerken-" + "heel-lang-" * 40 + ".csv",
        user=world.editor,
        language="nl",
    )
    name = job.params["filename"]
    assert len(name) == service.MAX_FILENAME_LENGTH and name.endswith("….csv")
    assert world.session.get(StoredFile, job.params["file_id"]).filename == name


# -- the command line --------------------------------------------------------------------


def _cli(*args: str, database_url: str) -> Result:
    return run_cli("import", *args, env={"DATABASE_URL": database_url})


def test_the_command_line_previews_and_applies_as_the_given_account(
    world: World, seeded_database_url: str, tmp_path: Path
) -> None:
    records = [dict(record) for record in world.records]
    records[world.row_of(world.police[0]) - 2]["explanation"] = "Vanaf de opdrachtregel."
    good = tmp_path / "bijwerken.xlsx"
    good.write_bytes(write_file("xlsx", records))
    period = ["--period", "Voortgangsrapportage 2022", "--as", world.editor_email]
    before = world.counts()

    preview = _cli(str(good), *period, database_url=seeded_database_url)
    assert preview.exit_code == 0, preview.stderr
    assert "change: explanation changed" in preview.stdout
    others = len(world.police) - 1  # sent back as carried over: confirmed unchanged
    assert (
        f"wijzigingen: 1; bevestigd ongewijzigd: {others}; ongewijzigd: {127 - others}; "
        "geweigerd: 0" in preview.stdout
    )
    assert world.counts() == before

    applied = _cli(str(good), *period, "--apply", database_url=seeded_database_url)
    assert applied.exit_code == 0, applied.stderr
    assert "Changes applied: 1." in applied.stdout
    assert f"Confirmed unchanged: {others}." in applied.stdout
    world.counts()
    update = activities.latest_update(
        world.session, activity_id=world.police[0], period_id=world.period_id
    )
    assert update.explanation == "Vanaf de opdrachtregel."  # type: ignore[union-attr]
    assert update.author_id == world.editor.id and update.source == UpdateSource.imported  # type: ignore[union-attr]
    audit = world.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "status.import")
    ).one()
    assert audit.address == "cli" and audit.actor_id == world.editor.id
    # An import from the command line is an import, and so is each change it makes.
    change = world.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "status.update")
    ).one()
    assert audit.source == change.source == AuditSource.import_

    records[world.row_of(world.others[0]) - 2]["explanation"] = "Niet van mij."
    refused = tmp_path / "fout.csv"
    refused.write_bytes(write_file("csv", records))
    before = world.counts()
    result = _cli(str(refused), *period, "--apply", database_url=seeded_database_url)
    assert result.exit_code == 1
    assert (
        "REFUSED: Niet uw organisatie" in result.stdout and "nothing was changed" in result.stderr
    )
    assert world.counts() == before

    bad = tmp_path / "foto.xlsx"
    bad.write_bytes(PNG)
    result = _cli(str(bad), *period, database_url=seeded_database_url)
    assert result.exit_code == 1 and "geen geldig XLSX-bestand" in result.stderr


# -- the round trip ----------------------------------------------------------------------


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("file_format", FORMATS)
def test_exporting_and_reimporting_without_changes_changes_nothing(
    world: World, file_format: str, language: str
) -> None:
    """The real exports (app/exports), reopened by the importer: nothing changes, also for
    texts the export neutralised so that no spreadsheet runs them as a formula."""
    from app.exports.service import export

    world.change_as_coordinator(world.police[0], "=SOM(A1:A3) is hier gewoon tekst")
    world.change_as_coordinator(world.police[1], "-5% ten opzichte van vorig jaar\n@ministerie")
    name, _, content = export(
        world.session, period_id=world.period_id, fmt=file_format, language=language
    )
    # Nothing changes; what each may change and is still as carried over is confirmed.
    for user, confirmable in (
        (world.editor, len(world.police) - 2),
        (world.coordinator, len(world.records) - 2),
    ):
        sheet = parsing.read_sheet(content, name)
        checked = service.preview(
            world.session, period_id=world.period_id, rows=sheet.rows, user=user
        )
        assert checked.counts() == {
            "change": 0,
            "confirm": confirmable,
            "unchanged": len(world.records) - confirmable,
            "refused": 0,
        }


def test_an_edited_export_changes_exactly_what_was_edited(world: World) -> None:
    from openpyxl import load_workbook

    from app.exports.service import export

    name, _, content = export(world.session, period_id=world.period_id, fmt="xlsx")
    workbook = load_workbook(io.BytesIO(content))
    sheet = workbook.worksheets[0]
    header = [cell.value for cell in sheet[1]]
    row = next(row for row in sheet.iter_rows(min_row=2) if row[0].value == world.police[0])
    row[header.index("Stand van zaken")].value = "In uitvoering maar met vertraging"
    row[header.index("Toelichting")].value = "Vertraagd door de verbouwing."
    edited = io.BytesIO()
    workbook.save(edited)
    checked = _preview(world, edited.getvalue(), "xlsx")
    confirmable = len(world.police) - 1
    assert checked.counts() == {
        "change": 1,
        "confirm": confirmable,
        "unchanged": len(world.records) - 1 - confirmable,
        "refused": 0,
    }
    change = checked.changes[0]
    assert change.activity_id == world.police[0] and change.status_to == "delayed"
    assert change.explanation == "Vertraagd door de verbouwing." and change.row == row[0].row


@pytest.mark.parametrize("file_format", FORMATS)
def test_files_written_by_other_programs_read_back_unchanged(
    world: World, file_format: str
) -> None:
    """The same rows written with openpyxl, odfpy (paragraph per line, repeated empty cells
    and rows as office programs save them) and the csv module."""
    checked = _preview(world, write_file(file_format, world.records), file_format)
    assert checked.counts() == {
        "change": 0,
        "confirm": len(world.police),
        "unchanged": len(world.records) - len(world.police),
        "refused": 0,
    }


def test_domain_errors_of_the_import_are_domain_errors() -> None:
    assert issubclass(parsing.ImportFileError, DomainError)
    assert parsing.ImportFileError("x").status_code == 422
    assert service.ImportRefused("x").status_code == 409


# -- in a real browser -------------------------------------------------------------------


@pytest.mark.browser
def test_upload_preview_and_apply_in_a_browser(
    browser, seeded_settings: Settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """htmx sends the upload (with the CSRF token in its header); the job page polls until the
    preview is there; applying it shows the outcome. Every page passes an axe-core scan."""
    from axe_playwright_python.sync_playwright import Axe

    from tests.browser import WCAG_21_AA, LiveServer, sign_in_page
    from tests.factories import PASSWORD

    def no_violations(page) -> None:  # type: ignore[no-untyped-def]
        results = Axe().run(page, options=WCAG_21_AA)
        assert results.violations_count == 0, (page.url, results.generate_report())

    with (
        LiveServer(seeded_settings) as server,
        Session(server.app.state.engine, expire_on_commit=False) as session,
    ):
        world = World(session)
        records = [dict(record) for record in world.records]
        records[world.row_of(world.police[0]) - 2]["explanation"] = "Uit de browser."
        good = tmp_path / "bijwerken.ods"
        good.write_bytes(write_file("ods", records))
        bad = tmp_path / "foto.xlsx"
        bad.write_bytes(PNG)

        context = browser.new_context(locale="nl-NL")
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        sign_in_page(page, server.url, world.editor_email, PASSWORD)
        page.goto(f"{server.url}/periods/{world.period_id}")
        page.get_by_role("link", name="Bijwerken met een spreadsheet").click()
        page.wait_for_url("**/import")
        no_violations(page)

        page.set_input_files("#import-file", str(bad))
        page.get_by_role("button", name="Aanleveren en voorbeeld bekijken").click()
        page.locator("#import-file-error").wait_for()
        assert "geen geldig XLSX-bestand" in page.locator("#import-file-error").inner_text()
        no_violations(page)

        page.set_input_files("#import-file", str(good))
        page.get_by_role("button", name="Aanleveren en voorbeeld bekijken").click()
        page.wait_for_url("**/jobs/*")
        page.locator("#import-apply-form").wait_for()
        assert page.locator("#import-count-change").inner_text() == "1"
        no_violations(page)
        page.get_by_role(
            "button", name="Alleen de 1 wijziging doorvoeren, niets bevestigen"
        ).click()
        page.locator("#import-applied-heading").wait_for()
        assert page.locator("#import-applied-heading").inner_text() == "1 wijziging doorgevoerd"
        no_violations(page)
        assert not errors
        context.close()
        world.counts()  # a new transaction: the server wrote the change
        update = activities.latest_update(
            session, activity_id=world.police[0], period_id=world.period_id
        )
        assert update.explanation == "Uit de browser."  # type: ignore[union-attr]


@pytest.mark.skipif(USE_POSTGRES, reason="SQLite's write lock")
def test_an_upload_is_read_without_the_write_lock(web, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """The uploaded file (up to 5 MB) is read while the request holds no transaction: another
    writer could take SQLite's write lock meanwhile (before, it waited for the whole read)."""
    app, world = web
    read_sheet = parsing.read_sheet
    lock_free_while_read: list[bool] = []

    def watched(content: bytes, filename: str, **options: Any) -> parsing.Sheet:
        lock_free_while_read.append(write_lock_free(app.state.settings.database_url))
        return read_sheet(content, filename, **options)

    monkeypatch.setattr(parsing, "read_sheet", watched)
    client = _client(app, world.editor_email)
    answer = _upload(client, world.period_id, "bijwerken.csv", write_file("csv", world.records))
    assert answer.status_code < 400, answer.text[:300]
    # (Read again by the preview job, outside any request.)
    assert lock_free_while_read and all(lock_free_while_read), lock_free_while_read
