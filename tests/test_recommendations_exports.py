"""The annual export's annex "Opvolging aanbevelingen" / "Follow-up of recommendations": every
format (DOCX, ODT, PDF, XLSX, ODS) reopened by a real reader, with per report and per
recommendation its number, title, addressees, the government's response, and the follow-up
(symbol and label, explanation) of the exported period only: for a published period what was
saved by its publication (the newest version), for a draft the newest, marked as a draft."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import openpyxl
import pytest
from docx import Document
from odf import teletype
from odf.opendocument import load as load_odf
from odf.table import Table, TableCell, TableRow
from odf.text import H
from pypdf import PdfReader
from sqlalchemy import select
from sqlmodel import Session, col

from app.exports import service
from app.exports.table import build_table
from app.main import create_app
from app.periods import service as periods
from app.periods.models import ReportingPeriod
from app.recommendations import service as recommendations
from app.recommendations.models import (
    EntryKind,
    FollowUpStatus,
    Recommendation,
    SourceReport,
    Verdict,
)
from tests.factories import coordinator, open_round, publish
from tests.test_recommendations_pages import load_everything

VICTIMS = "slachtoffermonitor-2014-2018"
PERPETRATORS = "dadermonitor-2015-2019"
FIRST_TITLE = "ZORG VOOR COÖRDINATIE EN MONITORING VAN HET PROGRAMMA SAMEN TEGEN MENSENHANDEL"
FIRST_ADDRESSEE = "de staatsecretaris van Justitie en Veiligheid"
DRAFT_TEXT = "Eerste opzet van de monitor."
FINAL_TEXT = "De impactmonitor is opgezet en loopt sinds 2022."
PERPETRATOR_TEXT = "Nog niet begonnen; gepland voor 2023."
LATER_TEXT = "Opgevolgd door het nieuwe programma."
LATE_RESPONSE = "Kabinetsreactie van na de publicatie."
HEADERS_NL = [
    "Nr.",
    "Aanbeveling",
    "Geadresseerden",
    "Kabinetsreactie",
    "Opvolging",
    "Toelichting",
]


def recommendation_id(session: Session, report: str, number: str) -> int:
    found = session.scalar(
        select(Recommendation.id)
        .join(SourceReport, col(SourceReport.id) == Recommendation.report_id)
        .where(col(SourceReport.key) == report, col(Recommendation.number) == number)
    )
    assert found is not None
    return found


def status_id(session: Session, code: str) -> int:
    found = session.scalar(select(FollowUpStatus.id).where(col(FollowUpStatus.code) == code))
    assert found is not None
    return found


def follow_up(session: Session, actor: Any, report: str, number: str, **fields: Any) -> None:
    code = fields.pop("status")
    recommendations.record_entry(
        session,
        recommendation_id=recommendation_id(session, report, number),
        kind=EntryKind.follow_up,
        entry_date=date(2022, 11, 1),
        followup_status_id=status_id(session, code),
        author=actor,
        **fields,
    )


def respond(session: Session, actor: Any, report: str, number: str, verdict: Verdict, text: str) -> None:  # fmt: skip
    recommendations.record_entry(
        session,
        recommendation_id=recommendation_id(session, report, number),
        kind=EntryKind.response,
        verdict=verdict,
        entry_date=date(2021, 6, 1),
        text=text,
        author=actor,
    )


@dataclass
class FollowUpWorld:
    """2022 published with follow-up (victims 1 in two versions, perpetrators 2), a response
    to victims 1; then 2023 open with a later follow-up of victims 1, and a response to
    victims 3 saved after 2022 was published."""

    app: Any
    published: int  # Voortgangsrapportage 2022
    draft: int  # Voortgangsrapportage 2023 (open)
    actor: Any


def build_world(app: Any) -> FollowUpWorld:
    with Session(app.state.engine, expire_on_commit=False) as session:
        load_everything(session)
        actor = coordinator(session)
        published = open_round(session, name="Voortgangsrapportage 2022", actor=actor)
        respond(session, actor, VICTIMS, "1", Verdict.accepted, "Het kabinet neemt haar over.")
        follow_up(session, actor, VICTIMS, "1", status="in_progress", text=DRAFT_TEXT, period_id=published)  # fmt: skip
        follow_up(session, actor, VICTIMS, "1", status="implemented", text=FINAL_TEXT, period_id=published, document_reference="Kamerstukken II 2022/23, 28 638, nr. 200")  # fmt: skip
        follow_up(session, actor, PERPETRATORS, "2", status="not_started", text=PERPETRATOR_TEXT, period_id=published)  # fmt: skip
        session.commit()
        periods.move_period(session, period_id=published, move="review", actor=actor)
        publish(session, period_id=published, actor=actor)
        session.commit()
        draft = open_round(
            session, name="Voortgangsrapportage 2023", reference_date="2023-11-01", actor=actor
        )
        follow_up(session, actor, VICTIMS, "1", status="superseded", text=LATER_TEXT, period_id=draft)  # fmt: skip
        respond(session, actor, VICTIMS, "3", Verdict.not_accepted, LATE_RESPONSE)
        session.commit()
    return FollowUpWorld(app, published, draft, actor)


@pytest.fixture
def world(seeded_settings) -> Iterator[FollowUpWorld]:  # type: ignore[no-untyped-def]
    app = create_app(seeded_settings)
    yield build_world(app)
    app.state.engine.dispose()


def _export(world: FollowUpWorld, fmt: str, period_id: int, language: str = "nl") -> bytes:
    with Session(world.app.state.engine, expire_on_commit=False) as session:
        _, _, content = service.export(session, period_id=period_id, fmt=fmt, language=language)
        session.commit()
    return content


def _norm(text: str) -> str:
    return " ".join(text.split())


def test_the_read_model_keeps_to_the_period_and_its_publication(world: FollowUpWorld) -> None:
    with Session(world.app.state.engine) as session:
        published = build_table(session, period_id=world.published)
        draft = build_table(session, period_id=world.draft)
    assert [report.key for report in published.follow_up] == [VICTIMS, PERPETRATORS]
    assert [len(report.rows) for report in published.follow_up] == [5, 3]
    first = published.follow_up[0].rows[0]
    assert (first.number, first.title, first.addressees) == ("1", FIRST_TITLE, [FIRST_ADDRESSEE])
    # The newest version of 2022's entry, not the first one, nor 2023's.
    assert (first.symbol, first.status_label, first.explanation) == ("✔", "Uitgevoerd", FINAL_TEXT)
    assert (first.verdict, first.verdict_label) == (Verdict.accepted, "overgenomen")
    assert first.document_reference == "Kamerstukken II 2022/23, 28 638, nr. 200"
    perpetrators = published.follow_up[1].rows[1]
    assert (perpetrators.status_code, perpetrators.explanation) == ("not_started", PERPETRATOR_TEXT)
    # Saved after 2022 was published: not in its report.
    third = published.follow_up[0].rows[2]
    assert third.verdict is None and third.status_code == ""
    # The open 2023 round: its own (draft) follow-up and every response.
    later = draft.follow_up[0].rows
    assert (later[0].status_code, later[0].explanation) == ("superseded", LATER_TEXT)
    assert later[2].verdict == Verdict.not_accepted
    assert draft.follow_up[1].rows[1].status_code == ""


def test_docx_annex(world: FollowUpWorld) -> None:
    document = Document(io.BytesIO(_export(world, "docx", world.published)))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    annex = headings.index("Opvolging aanbevelingen")
    assert headings[annex + 1 : annex + 3] == [
        "Slachtoffermonitor mensenhandel 2014-2018",
        "Dadermonitor mensenhandel 2015-2019",
    ]
    tables = [t for t in document.tables if _norm(t.rows[0].cells[1].text) == "Aanbeveling"]
    assert len(tables) == 2
    victims, perpetrators = tables
    assert [_norm(c.text) for c in victims.rows[0].cells] == HEADERS_NL
    assert len(victims.rows) == 6 and len(perpetrators.rows) == 4
    first = [_norm(c.text) for c in victims.rows[1].cells]
    assert first == ["1", FIRST_TITLE, FIRST_ADDRESSEE, "overgenomen", "✔ Uitgevoerd", FINAL_TEXT]
    third = [_norm(c.text) for c in victims.rows[3].cells]
    assert third[3:5] == ["niet vastgelegd", "niet gerapporteerd"]
    assert [_norm(c.text) for c in perpetrators.rows[2].cells][4:] == [
        "○ Nog niet gestart",
        PERPETRATOR_TEXT,
    ]
    text = "\n".join(_norm(c.text) for t in tables for row in t.rows for c in row.cells)
    assert DRAFT_TEXT not in text and LATER_TEXT not in text and LATE_RESPONSE not in text
    # The header row repeats on every page, as the progress table's.
    header = victims.rows[0]._tr
    assert header.find(".//{*}tblHeader") is not None


def test_docx_annex_in_english_and_as_a_draft(world: FollowUpWorld) -> None:
    document = Document(io.BytesIO(_export(world, "docx", world.draft, "en")))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert "Follow-up of recommendations" in headings
    tables = [t for t in document.tables if _norm(t.rows[0].cells[1].text) == "Recommendation"]
    assert [_norm(c.text) for c in tables[0].rows[0].cells] == [
        "Nr.",
        "Recommendation",
        "Addressees",
        "Government response",
        "Follow-up",
        "Explanation",
    ]
    first = [_norm(c.text) for c in tables[0].rows[1].cells]
    assert first[3:] == ["accepted", "↷ Superseded", LATER_TEXT]
    assert [_norm(c.text) for c in tables[0].rows[3].cells][3] == "not accepted"
    assert "DRAFT" in document.sections[0].header.paragraphs[0].text


def _odt_tables(content: bytes) -> tuple[list[str], dict[str, list[list[str]]]]:
    document = load_odf(io.BytesIO(content))
    headings = [teletype.extractText(h) for h in document.getElementsByType(H)]
    tables = {}
    for table in document.getElementsByType(Table):
        rows = [
            [_norm(teletype.extractText(cell)) for cell in row.getElementsByType(TableCell)]
            for row in table.getElementsByType(TableRow)
        ]
        tables[table.getAttribute("name")] = rows
    return headings, tables


def test_odt_annex(world: FollowUpWorld) -> None:
    headings, tables = _odt_tables(_export(world, "odt", world.published))
    assert "Opvolging aanbevelingen" in headings
    victims, perpetrators = tables["Annex1"], tables["Annex2"]
    assert victims[0] == HEADERS_NL
    assert len(victims) == 6 and len(perpetrators) == 4
    assert victims[1] == [
        "1",
        FIRST_TITLE,
        FIRST_ADDRESSEE,
        "overgenomen",
        "✔ Uitgevoerd",
        FINAL_TEXT,
    ]
    assert perpetrators[2][4:] == ["○ Nog niet gestart", PERPETRATOR_TEXT]
    assert victims[3][3:5] == ["niet vastgelegd", "niet gerapporteerd"]


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_pdf_annex(world: FollowUpWorld) -> None:
    text = _norm(_pdf_text(_export(world, "pdf", world.published)))
    annex = text.index("Opvolging aanbevelingen")
    tail = text[annex:]
    for expected in (
        "Slachtoffermonitor mensenhandel 2014-2018",
        "Dadermonitor mensenhandel 2015-2019",
        "Kabinetsreactie",
        "Geadresseerden",
        "overgenomen",
        "✔ Uitgevoerd",
        FINAL_TEXT,
        "○ Nog niet gestart",
        PERPETRATOR_TEXT,
        "niet gerapporteerd",
    ):
        assert expected in tail, expected
    for absent in (DRAFT_TEXT, LATER_TEXT, LATE_RESPONSE):
        assert absent not in text


def _annex_expected(rows: list[list[Any]]) -> None:
    header, *data = rows
    assert header == [
        "Rapport",
        "Nr.",
        "Aanbeveling",
        "Geadresseerden",
        "Kabinetsreactie",
        "Opvolging",
        "Toelichting",
    ]
    assert [row[:2] for row in data] == [
        ["Slachtoffermonitor mensenhandel 2014-2018", number] for number in "12345"
    ] + [["Dadermonitor mensenhandel 2015-2019", number] for number in "123"]
    assert data[0][2:] == [FIRST_TITLE, FIRST_ADDRESSEE, "overgenomen", "✔ Uitgevoerd", FINAL_TEXT]
    assert data[6][5:] == ["○ Nog niet gestart", PERPETRATOR_TEXT]
    assert data[2][4:] == ["", "", ""]


def test_xlsx_annex_sheet(world: FollowUpWorld) -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(_export(world, "xlsx", world.published)))
    assert workbook.sheetnames == ["Activiteiten", "Opvolging aanbevelingen"]
    sheet = workbook["Opvolging aanbevelingen"]
    _annex_expected([[cell or "" for cell in row] for row in sheet.iter_rows(values_only=True)])
    assert sheet.freeze_panes == "A2"
    assert sheet.print_title_rows == "$1:$1"
    # The activities sheet is as before: its shared strings still point at its own texts.
    activities = workbook["Activiteiten"]
    assert activities.cell(1, 1).value == "Activiteit-id"
    assert activities.max_row > 100
    assert all(isinstance(row[8], str) and row[8] for row in activities.iter_rows(min_row=2, values_only=True))  # fmt: skip


def test_ods_annex_sheet(world: FollowUpWorld) -> None:
    _, tables = _odt_tables(_export(world, "ods", world.published))
    assert list(tables) == ["Activiteiten", "Opvolging aanbevelingen"]
    _annex_expected(tables["Opvolging aanbevelingen"])
    assert tables["Activiteiten"][0][0] == "Activiteit-id"


def test_a_programme_without_recommendations_has_no_annex(seeded_settings) -> None:  # type: ignore[no-untyped-def]
    """The seeded programme alone (no reports loaded): the exports are as they were."""
    app = create_app(seeded_settings)
    try:
        with Session(app.state.engine) as session:
            period_id = session.scalars(select(ReportingPeriod.id)).first()
            assert period_id is not None
            assert build_table(session, period_id=period_id).follow_up == []
            _, _, data = service.export(session, period_id=period_id, fmt="xlsx")
        assert openpyxl.load_workbook(io.BytesIO(data)).sheetnames == ["Activiteiten"]
    finally:
        app.state.engine.dispose()
