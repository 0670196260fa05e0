"""Exports of the progress table: every format reopened by a real reader (python-docx, odfpy,
pypdf, openpyxl, csv, json + jsonschema), filters, draft marking, published exports stored once,
the web form and its job, permissions and the command line."""

from __future__ import annotations

import csv
import gc
import io
import json
import re
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import jsonschema
import openpyxl
import pytest
from bs4 import BeautifulSoup
from docx import Document
from docx.enum.text import WD_TAB_ALIGNMENT
from docx.oxml.ns import qn
from docx.shared import Length
from fastapi.testclient import TestClient
from odf import teletype
from odf.namespaces import LOEXTNS, TABLENS
from odf.opendocument import OpenDocument
from odf.opendocument import load as load_odf
from odf.style import Footer, Header, MasterPage, PageLayoutProperties
from odf.table import DatabaseRange, Table, TableCell, TableHeaderRows, TableRow
from odf.text import P, PageCount, PageNumber
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlmodel import Session
from typer.testing import Result

from app import readmodel
from app.activities import service as activities
from app.activities.models import Status
from app.config import PROJECT_ROOT
from app.errors import NotFound
from app.exports import odt, opendata, pdf, service, spreadsheets
from app.exports.columns import COLUMNS, KEYS
from app.exports.table import build_table
from app.jobs import service as jobs
from app.jobs.models import Job, JobState, StoredFile
from app.main import create_app
from app.periods import service as periods_service
from app.periods.models import ReportingPeriod
from app.programmes.models import Activity, Programme
from app.readmodel import ActivityFilters
from app.review import service as review
from tests.cli import run_cli
from tests.factories import coordinator, create_user, csrf_from, open_round, publish, sign_in
from tests.test_monitor_sheets import _ods_page_layout

SLUG = "samen-tegen-mensenhandel"
PUBLISHED = "Voortgangsrapportage 2021"
HEADERS_NL = [
    "Nr.",
    "Resultaat (doelstelling)",
    "Activiteiten / producten",
    "Stand van zaken",
    "Toelichting",
]
LEGEND_NL = [
    "Voltooid",
    "Doorlopend",
    "In uitvoering en volgens planning",
    "In uitvoering maar met vertraging",
    "Nog niet in uitvoering",
    "In (formele) consultatie",
    "Niet van toepassing",
]
SYMBOLS = ["✔", "↻", "▶", "⚠", "○", "✎", "–"]
# Result 1, activity 1 of the seed, as the source document prints it.
KNOWN_TITLE = "Training politiemedewerkers"
KNOWN_STATUS = "▶ In uitvoering en volgens planning"
# The seed's 2021 statuses were derived from the explanations: each says so under it.
DERIVED_MARK = "afgeleid, niet bevestigd"
KNOWN_EXPLANATION = "Alle eerstelijns politiemedewerkers worden getraind"


@pytest.fixture
def app(seeded_settings):  # type: ignore[no-untyped-def]
    app = create_app(seeded_settings)
    yield app
    app.state.engine.dispose()


@pytest.fixture
def session(app) -> Iterator[Session]:  # type: ignore[no-untyped-def]
    with Session(app.state.engine, expire_on_commit=False) as session:
        yield session


def _period_id(session: Session, name: str = PUBLISHED) -> int:
    return session.scalars(select(ReportingPeriod.id).where(ReportingPeriod.name == name)).one()


def _export(session: Session, fmt: str, period_id: int, **options) -> tuple[str, str, bytes]:  # type: ignore[no-untyped-def]
    result = service.export(session, period_id=period_id, fmt=fmt, **options)
    session.commit()
    return result


def _expected_ids(session: Session, period_id: int, filters: ActivityFilters) -> list[int]:
    programme_id = session.scalars(select(Programme.id).where(Programme.slug == SLUG)).one()
    period = readmodel.choose_period(readmodel.list_periods(session, programme_id), period_id)
    return [
        row.id for row in readmodel.list_activities(session, programme_id, period, filters).rows
    ]


def test_organisations_are_the_same_however_the_table_reads_them(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole table reads its organisations by programme, a short filtered one by activity
    ids, a page of the list by its ids: the same organisations, lead first, either way."""
    programme_id = session.scalars(select(Programme.id).where(Programme.slug == SLUG)).one()
    period = readmodel.choose_period(
        readmodel.list_periods(session, programme_id), _period_id(session)
    )

    def organisations(filters: ActivityFilters, **paging: int) -> dict[int, list]:  # type: ignore[type-arg]
        listing = readmodel.list_activities(session, programme_id, period, filters, **paging)
        return {row.id: row.organisations for row in listing.rows}

    whole = organisations(ActivityFilters())
    assert sum(len(links) for links in whole.values()) > len(whole) > 100
    led = [links for links in whole.values() if any(o.lead for o in links)]
    assert any(len(links) > 1 for links in led)  # so that "the lead comes first" says something
    assert all(links[0].lead for links in led)
    by_ids = organisations(ActivityFilters(action_line=1))
    monkeypatch.setattr("app.readmodel.activities._LISTED_IDS_LIMIT", 0)
    by_programme = organisations(ActivityFilters(action_line=1))
    paged = organisations(ActivityFilters(), page=2, page_size=25)
    assert by_ids == by_programme == {key: whole[key] for key in by_ids}
    assert paged == {key: whole[key] for key in paged} and len(paged) == 25


def test_the_cycle_collector_is_paused_only_while_the_table_is_made(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    period_id = _period_id(session)
    seen: list[bool] = []
    whole_table = readmodel.whole_table

    def watched(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(gc.isenabled())
        return whole_table(*args, **kwargs)

    monkeypatch.setattr(readmodel, "whole_table", watched)
    assert gc.isenabled()
    build_table(session, period_id=period_id)
    assert seen == [False] and gc.isenabled()
    # Back as it was, also when it fails, and left off when it was off.
    with pytest.raises(NotFound):
        build_table(session, period_id=-1)
    assert gc.isenabled()
    gc.disable()
    try:
        build_table(session, period_id=period_id)
        assert not gc.isenabled()
    finally:
        gc.enable()


# --- DOCX ------------------------------------------------------------------------------------


def _docx_text(document) -> str:  # type: ignore[no-untyped-def]
    parts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def test_docx_has_the_layout_of_the_source_document(session: Session) -> None:
    name, media_type, content = _export(session, "docx", _period_id(session))
    assert name == "voortgangsrapportage-2021.docx"
    assert media_type.endswith("wordprocessingml.document")
    document = Document(io.BytesIO(content))

    section = document.sections[0]
    assert section.page_width > section.page_height  # A4 landscape
    assert round(section.page_width.mm) == 297 and round(section.page_height.mm) == 210
    header = section.header.paragraphs[0].text
    assert "Samen tegen mensenhandel" in header and PUBLISHED in header
    assert "CONCEPT" not in _docx_text(document) + header
    footer = section.footer.paragraphs[0]
    assert all(label in footer.text for label in LEGEND_NL)  # the legend on every page
    fields = [field.get(qn("w:instr")).strip() for field in footer._p.iter(qn("w:fldSimple"))]
    assert fields == ["PAGE", "NUMPAGES"]
    assert "Pagina" in footer.text and "van" in footer.text

    # The legend under the title, in one row, each status as the table shows it.
    legend = document.tables[0]
    assert len(legend.rows) == 1
    assert [cell.text for cell in legend.rows[0].cells] == [
        f"{symbol} {label}" for symbol, label in zip(SYMBOLS, LEGEND_NL, strict=True)
    ]

    progress_tables = document.tables[1:]
    assert len(progress_tables) == 16  # one per theme
    for table in progress_tables:
        header_row = table.rows[0]
        assert [cell.text for cell in header_row.cells] == HEADERS_NL
        assert header_row._tr.trPr.find(qn("w:tblHeader")) is not None  # repeats on every page
        assert all(row._tr.trPr.find(qn("w:cantSplit")) is not None for row in table.rows)

    first = progress_tables[0]
    known = first.rows[1].cells
    assert known[0].text == "1." and known[1].text == "Verbeterde signalering bij professionals"
    assert known[2].text == "1. " + KNOWN_TITLE  # no organisations in the annex
    assert known[3].text == f"{KNOWN_STATUS}\n{DERIVED_MARK}"
    assert known[4].text.startswith(KNOWN_EXPLANATION)

    headings = [p for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings[0].text == "Actielijn 1: Doorontwikkeling basis aanpak mensenhandel"
    assert len(headings) == 5
    # The first action line starts under the title, each further one on a new page.
    assert [bool(p.paragraph_format.page_break_before) for p in headings] == [False] + [True] * 4
    assert not any(p.paragraph_format.page_break_before for p in document.paragraphs[:4])
    assert document.core_properties.language == "nl-NL"


def test_docx_in_english(session: Session) -> None:
    _, _, content = _export(session, "docx", _period_id(session), language="en")
    document = Document(io.BytesIO(content))
    assert [cell.text for cell in document.tables[1].rows[0].cells] == [
        "Nr.",
        "Result (objective)",
        "Activities / products",
        "State of affairs",
        "Explanation",
    ]
    assert "Completed" in document.sections[0].footer.paragraphs[0].text


# --- ODT -------------------------------------------------------------------------------------


def _odf_cell_text(cell) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(teletype.extractText(p) for p in cell.getElementsByType(P))


def test_odt_has_the_layout_of_the_source_document(session: Session) -> None:
    name, media_type, content = _export(session, "odt", _period_id(session))
    assert name == "voortgangsrapportage-2021.odt"
    assert media_type == "application/vnd.oasis.opendocument.text"
    document = load_odf(io.BytesIO(content))

    layout = document.automaticstyles.getElementsByType(PageLayoutProperties)[0]
    assert layout.getAttribute("printorientation") == "landscape"
    assert layout.getAttribute("pagewidth") == "29.7cm"
    master = document.masterstyles.getElementsByType(MasterPage)[0]
    page_text = teletype.extractText(master)
    assert "Samen tegen mensenhandel · " + PUBLISHED in page_text
    assert all(label in page_text for label in LEGEND_NL)
    assert master.getElementsByType(PageNumber) and master.getElementsByType(PageCount)

    tables = document.text.getElementsByType(Table)
    assert tables[0].getAttribute("name") == "Legend"
    progress = tables[1:]
    assert len(progress) == 16
    for table in progress:
        header_rows = table.getElementsByType(TableHeaderRows)
        assert len(header_rows) == 1  # repeated on every page
        header = header_rows[0].getElementsByType(TableRow)[0]
        assert [_odf_cell_text(c) for c in header.getElementsByType(TableCell)] == HEADERS_NL
    rows = [
        row
        for row in progress[0].getElementsByType(TableRow)
        if row.parentNode.qname != (TABLENS, "table-header-rows")
    ]
    cells = [_odf_cell_text(cell) for cell in rows[0].getElementsByType(TableCell)]
    assert cells[0] == "1." and cells[2].startswith("1. " + KNOWN_TITLE)
    assert cells[3] == f"{KNOWN_STATUS}\n{DERIVED_MARK}" and cells[4].startswith(KNOWN_EXPLANATION)
    assert "CONCEPT" not in teletype.extractText(document.text)


def test_odt_writes_the_automatic_styles_odfpy_itself_would(session: Session) -> None:
    """The ODT writer replaces odfpy's scan for the automatic styles in use with a quicker one;
    it must pick the same styles, in the same order, for the content and the page styles."""
    table = build_table(session, period_id=_period_id(session))
    document = odt.document(table)
    for segments in (
        [document.styles, document.automaticstyles, document.body],
        [document.masterstyles],
    ):
        quick = document._used_auto_styles(segments)
        assert quick == OpenDocument._used_auto_styles(document, segments)
        assert len(quick) > (10 if len(segments) == 3 else 0)
    # An empty selection has no progress tables, so fewer styles are in use: still the same.
    empty = odt.document(
        build_table(session, period_id=_period_id(session), filters=ActivityFilters(result=999))
    )
    segments = [empty.styles, empty.automaticstyles, empty.body]
    assert empty._used_auto_styles(segments) == OpenDocument._used_auto_styles(empty, segments)


# --- PDF -------------------------------------------------------------------------------------


def test_pdf_is_tagged_paged_and_reads_in_order(session: Session) -> None:
    name, media_type, content = _export(session, "pdf", _period_id(session))
    assert name == "voortgangsrapportage-2021.pdf" and media_type == "application/pdf"
    reader = PdfReader(io.BytesIO(content))
    pages = [page.extract_text() for page in reader.pages]
    assert len(pages) > 10

    catalog = reader.trailer["/Root"]
    assert "/StructTreeRoot" in catalog  # tagged
    assert bool(catalog["/MarkInfo"]["/Marked"]) is True
    assert str(catalog["/Lang"]) == "nl"
    assert reader.metadata.title == "Programmaresultaten Samen tegen mensenhandel"
    box = reader.pages[0].mediabox
    assert round(float(box.width)) == 842 and round(float(box.height)) == 595  # A4 landscape

    for number, text in enumerate(pages, start=1):
        assert f"Samen tegen mensenhandel · {PUBLISHED}" in text  # the header of every page
        assert f"Pagina {number} van {len(pages)}" in text
        assert "Legenda" in text and all(label in text for label in LEGEND_NL)
        assert "CONCEPT" not in text

    # Text wraps inside the cells: compare with the line breaks as spaces.
    table_page = re.sub(r"\s+", " ", next(text for text in pages if KNOWN_TITLE in text))
    # Reading order: the column headers, then the rows in programme order.
    # (The first page also has the title and "Stand van zaken per …" above the table.)
    start = table_page.index("Nr. Resultaat")
    positions = [table_page.index(header, start) for header in HEADERS_NL]
    assert positions == sorted(positions)
    assert table_page.index(KNOWN_TITLE) < table_page.index("Training luchtvaartsector")
    assert table_page.index(KNOWN_TITLE) < table_page.index(KNOWN_STATUS, start)
    assert KNOWN_EXPLANATION in table_page
    # Column headers repeat on every page with a table.
    assert sum(1 for text in pages if "Resultaat (doelstelling)" in text) >= len(pages) - 2


# --- The annex as sent to Parliament (DOCX, ODT, PDF) -----------------------------------------

DOCUMENTS = ["docx", "odt", "pdf"]
# Result 1 has 12 activities, over more than one page in every format.
LONG_RESULT = "Verbeterde signalering bij professionals"
TITLE_NL = "Programmaresultaten Samen tegen mensenhandel"
STATE_OF_AFFAIRS_NL = "Stand van zaken per 1 november 2021"
# The organisations of result 1's first two activities, as codes and by name.
ORGANISATION_CODES = ["RoyalSchipholGroup", "SchoolEnVeiligheid", "KenniscentrumLVB"]
ORGANISATION_NAMES = ["Politie (trekker)", "Royal Schiphol Group", "Stichting School en Veiligheid"]


def _squashed(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _docx_cells(document) -> list:  # type: ignore[no-untyped-def]
    """Every cell of every table once: python-docx gives a cell merged down over rows once per
    row (the same <w:tc>), so they are told apart by element."""
    seen: dict[int, object] = {}
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                seen.setdefault(id(cell._tc), cell)
    return list(seen.values())


def _odt_xml(content: bytes, part: str) -> str:
    return zipfile.ZipFile(io.BytesIO(content)).read(part).decode()


def _pdf_pages(content: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


def _document_text(fmt: str, content: bytes) -> str:
    """What a reader sees of a document: DOCX every cell once, ODT its body, PDF every page."""
    if fmt == "docx":
        document = Document(io.BytesIO(content))
        return "\n".join(
            [p.text for p in document.paragraphs] + [c.text for c in _docx_cells(document)]
        )
    if fmt == "odt":
        return teletype.extractText(load_odf(io.BytesIO(content)).text)
    return "\n".join(_pdf_pages(content))


def test_docx_shows_a_result_once_in_a_cell_merged_down_over_its_activities(
    session: Session,
) -> None:
    _, _, content = _export(session, "docx", _period_id(session))
    document = Document(io.BytesIO(content))
    rows = document.tables[1].rows
    activities = [row for row in rows[1:] if row.cells[1].text == LONG_RESULT]
    assert len(activities) == 12
    first, *further = activities
    for column in (0, 1):
        top = first.cells[column]._tc
        assert top.tcPr.find(qn("w:vMerge")).get(qn("w:val")) == "restart"
        for row in further:
            # python-docx reads a merged cell's further rows as the top cell itself.
            assert row.cells[column]._tc is top
            own = row._tr.tc_lst[column]
            assert own is not top and own.vMerge == "continue" and own.xpath("string(.)") == ""
    # The activities keep a row each.
    assert [row.cells[2].text.split(".")[0] for row in activities] == [str(n) for n in range(1, 13)]
    # The next result starts its own cell.
    after = rows[len(activities) + 1]
    assert after.cells[1].text != LONG_RESULT and after.cells[1]._tc.vMerge == "restart"


def test_odt_shows_a_result_once_in_a_cell_spanning_its_activities(session: Session) -> None:
    _, _, content = _export(session, "odt", _period_id(session))
    body = _odt_xml(content, "content.xml")
    first_table = body[
        body.index("<table:table ") : body.index("</table:table>", body.index("Table1"))
    ]
    spanned = re.findall(
        r'<table:table-cell [^>]*table:number-rows-spanned="(\d+)"[^>]*>(.*?)</table:table-cell>',
        first_table,
    )
    texts = {re.sub(r"<[^>]+>", "", cell): int(rows) for rows, cell in spanned}
    assert texts["1."] == 12 and texts[LONG_RESULT] == 12
    # And odfpy reads the same: the first row has the result, the eleven after it covered cells.
    document = load_odf(io.BytesIO(content))
    table = document.text.getElementsByType(Table)[1]
    rows = [
        row
        for row in table.getElementsByType(TableRow)
        if row.parentNode.qname != (TABLENS, "table-header-rows")
    ]
    first_cells = rows[0].getElementsByType(TableCell)
    assert _odf_cell_text(first_cells[1]) == LONG_RESULT
    assert first_cells[1].getAttribute("numberrowsspanned") == "12"
    for row in rows[1:12]:
        cells = [child for child in row.childNodes if child.nodeType == child.ELEMENT_NODE]
        assert [cell.qname[1] for cell in cells[:3]] == [
            "covered-table-cell",
            "covered-table-cell",
            "table-cell",
        ]
    assert "(vervolg)" not in teletype.extractText(document.text)


def test_pdf_shows_a_result_once_in_a_cell_spanning_its_rows(session: Session) -> None:
    table = build_table(session, period_id=_period_id(session))
    html = BeautifulSoup(pdf.render_html(table), "html.parser")
    cell = html.find("td", string=LONG_RESULT)
    assert cell is not None and cell["rowspan"] == "12"
    assert len(html.find_all("td", string=LONG_RESULT)) == 1
    _, _, content = _export(session, "pdf", _period_id(session))
    pages = _pdf_pages(content)
    assert sum(1 for page in pages if KNOWN_TITLE in page) == 1
    text = _squashed("\n".join(pages))
    # Result 1's activities run over two pages; its title is printed once.
    assert "12. Training medewerkers in de vreemdelingenketen" in text
    assert text.count(LONG_RESULT) == 1
    assert "(vervolg)" not in text


@pytest.mark.parametrize("fmt", DOCUMENTS)
def test_the_annex_shows_no_organisations_unless_asked_then_their_names(
    session: Session, fmt: str
) -> None:
    period_id = _period_id(session)
    name, _, annex = _export(session, fmt, period_id)
    assert name == f"voortgangsrapportage-2021.{fmt}"
    text = _squashed(_document_text(fmt, annex))
    assert KNOWN_TITLE in text
    assert not any(code in text for code in ORGANISATION_CODES), fmt
    assert "(trekker)" not in text
    name, _, with_names = _export(session, fmt, period_id, organisations=True)
    assert name == f"voortgangsrapportage-2021-organisaties.{fmt}"
    text = _squashed(_document_text(fmt, with_names))
    assert all(organisation in text for organisation in ORGANISATION_NAMES), fmt
    assert not any(code in text for code in ORGANISATION_CODES), fmt


def test_organisations_are_part_of_a_stored_documents_key_and_no_spreadsheets(
    session: Session,
) -> None:
    """A document with organisations is another stored file; a spreadsheet has its column
    of organisations either way, so asking for them gives the same file."""
    period_id = _period_id(session)
    _export(session, "docx", period_id)
    _export(session, "docx", period_id, organisations=True)
    again = _export(session, "docx", period_id, organisations=True)
    assert _file_count(session) == 2 and again[0].endswith("-organisaties.docx")
    plain = _export(session, "xlsx", period_id)
    asked = _export(session, "xlsx", period_id, organisations=True)
    assert asked == plain and _file_count(session) == 3
    sheet = openpyxl.load_workbook(io.BytesIO(asked[2])).active
    assert sheet.cell(row=2, column=KEYS.index("organisations") + 1).value == "Politie (trekker)"
    keys = session.scalars(select(StoredFile.cache_key)).all()
    assert len(set(keys)) == 3


@pytest.mark.parametrize("fmt", DOCUMENTS)
def test_the_first_page_has_the_title_the_state_of_affairs_and_the_table(
    session: Session, fmt: str
) -> None:
    _, _, content = _export(session, fmt, _period_id(session))
    if fmt == "pdf":
        first_page = _squashed(_pdf_pages(content)[0])
        assert first_page.index(TITLE_NL) < first_page.index(STATE_OF_AFFAIRS_NL)
        # The table starts on the first page: its first activity is there.
        assert "Resultaat (doelstelling)" in first_page and KNOWN_TITLE in first_page
        assert KNOWN_EXPLANATION in first_page
    elif fmt == "docx":
        paragraphs = [p.text for p in Document(io.BytesIO(content)).paragraphs]
        assert paragraphs[:2] == [TITLE_NL, STATE_OF_AFFAIRS_NL]
    else:
        paragraphs = [
            teletype.extractText(p) for p in load_odf(io.BytesIO(content)).text.getElementsByType(P)
        ]
        assert paragraphs[:2] == [TITLE_NL, STATE_OF_AFFAIRS_NL]
    # The workflow state and the time of making are not on the page.
    if fmt == "pdf":
        page_text = "\n".join(_pdf_pages(content))
    elif fmt == "docx":
        document = Document(io.BytesIO(content))
        section = document.sections[0]
        page_text = "\n".join(
            [_document_text(fmt, content)]
            + [p.text for p in section.header.paragraphs + section.footer.paragraphs]
        )
    else:
        page_text = _document_text(fmt, content) + teletype.extractText(
            load_odf(io.BytesIO(content)).masterstyles
        )
    for hidden in ("Gepubliceerd", "UTC", "Gemaakt op", "Voortgangstabel", "2021-11-01"):
        assert hidden not in page_text, (fmt, hidden)


def test_the_state_of_affairs_is_dated_in_the_documents_language(session: Session) -> None:
    table = build_table(session, period_id=_period_id(session), language="en")
    assert table.title == "Programme results Samen tegen mensenhandel"
    assert table.state_of_affairs == "State of affairs on 1 November 2021"
    _, _, content = _export(session, "docx", _period_id(session), language="en")
    paragraphs = [p.text for p in Document(io.BytesIO(content)).paragraphs]
    assert paragraphs[:2] == [table.title, table.state_of_affairs]


def test_dates_in_the_users_language() -> None:
    from app.i18n import format_date, set_language
    from app.web import templates

    moment = date(2022, 11, 15)
    assert format_date(moment, "nl") == "15 november 2022"
    assert format_date(moment, "en") == "15 November 2022"
    render = templates.env.from_string("{{ day | date }}").render
    try:
        set_language("en")
        assert render(day=moment) == "15 November 2022"
        set_language("nl")
        assert render(day=moment) == "15 november 2022"
    finally:
        set_language("nl")


@pytest.mark.parametrize("fmt", DOCUMENTS)
def test_the_files_metadata_holds_the_state_and_the_time_it_was_made(
    session: Session, fmt: str
) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    _, _, content = _export(session, fmt, _period_id(session))
    after = datetime.now(UTC)
    if fmt == "docx":
        properties = Document(io.BytesIO(content)).core_properties
        assert properties.title == TITLE_NL
        assert properties.subject == PUBLISHED
        assert properties.content_status == "Gepubliceerd"
        made = properties.created.replace(tzinfo=UTC)
        assert properties.modified == properties.created
        assert "(Gepubliceerd)" in properties.comments and "(UTC)" in properties.comments
    elif fmt == "odt":
        meta = _odt_xml(content, "meta.xml")
        assert f"<dc:title>{TITLE_NL}</dc:title>" in meta
        assert f"<dc:subject>{PUBLISHED}</dc:subject>" in meta
        assert re.search(
            r'<meta:user-defined meta:name="Fase van de rapportage"[^>]*>Gepubliceerd<', meta
        )
        stamp = re.search(r"<meta:creation-date>([^<]+)</meta:creation-date>", meta)
        assert stamp is not None and f"<dc:date>{stamp.group(1)}</dc:date>" in meta
        made = datetime.fromisoformat(stamp.group(1))
    else:
        metadata = PdfReader(io.BytesIO(content)).metadata
        assert metadata.title == TITLE_NL
        assert "Gepubliceerd" in metadata["/Keywords"] and PUBLISHED in metadata["/Keywords"]
        assert "(Gepubliceerd)" in metadata.subject and "(UTC)" in metadata.subject
        made = metadata.creation_date.astimezone(UTC)
    assert before <= made <= after, (fmt, made)


def test_a_draft_keeps_its_mark_on_the_page_and_its_state_in_the_metadata(
    session: Session,
) -> None:
    period_id = open_round(session)
    filters = ActivityFilters(action_line=5)
    _, _, docx = _export(session, "docx", period_id, filters=filters)
    document = Document(io.BytesIO(docx))
    assert document.paragraphs[0].text == "CONCEPT"
    assert document.paragraphs[2].text == TITLE_NL
    assert document.paragraphs[3].text == "Stand van zaken per 1 november 2022"
    assert document.core_properties.content_status == "Open voor updates"
    _, _, odt_file = _export(session, "odt", period_id, filters=filters)
    assert "Open voor updates" in _odt_xml(odt_file, "meta.xml")
    _, _, pdf_file = _export(session, "pdf", period_id, filters=filters)
    assert "Open voor updates" in PdfReader(io.BytesIO(pdf_file)).metadata["/Keywords"]


def test_docx_and_odt_put_the_page_number_in_the_same_place(session: Session) -> None:
    """At the right of the footer's one line, after the legend, at the right margin."""
    period_id = _period_id(session)
    _, _, docx = _export(session, "docx", period_id)
    section = Document(io.BytesIO(docx)).sections[0]
    assert len(section.footer.paragraphs) == 1
    footer = section.footer.paragraphs[0]
    (stop,) = footer.paragraph_format.tab_stops
    assert stop.alignment == WD_TAB_ALIGNMENT.RIGHT
    text_width = section.page_width - section.left_margin - section.right_margin
    assert round(stop.position.mm) == round(Length(text_width).mm) == 267
    # (python-docx leaves the fields' text out.)
    assert re.fullmatch(r"Legenda: .*Niet van toepassing\tPagina  van ", footer.text)
    fields = [field.get(qn("w:instr")).strip() for field in footer._p.iter(qn("w:fldSimple"))]
    assert fields == ["PAGE", "NUMPAGES"]

    _, _, odt_file = _export(session, "odt", period_id)
    styles = _odt_xml(odt_file, "styles.xml")
    footer_xml = re.search(r"<style:footer>(.*?)</style:footer>", styles, flags=re.S).group(1)
    assert footer_xml.count("<text:p ") == 1
    assert re.search(
        r"Niet van toepassing<text:tab/>Pagina <text:page-number[^>]*>1</text:page-number>"
        r" van <text:page-count>1</text:page-count></text:p>",
        footer_xml,
    )
    style_name = re.search(r'<text:p text:style-name="([^"]+)"', footer_xml).group(1)
    style = re.search(
        rf'<style:style style:name="{style_name}".*?</style:style>', styles, flags=re.S
    ).group(0)
    assert re.search(r'<style:tab-stop style:position="26.7cm" style:type="right"/>', style)
    layout = re.search(r"<style:page-layout-properties [^>]*>", styles).group(0)
    assert 'fo:margin-left="1.5cm"' in layout and 'fo:margin-right="1.5cm"' in layout


def test_pdf_puts_the_page_number_at_the_right_of_the_footer(session: Session) -> None:
    _, _, content = _export(session, "pdf", _period_id(session))
    page = PdfReader(io.BytesIO(content)).pages[0]
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    found: list[tuple[float, float]] = []

    def visit(text, cm, tm, font, size):  # type: ignore[no-untyped-def]
        if text.startswith("Pagina 1 van"):
            # The text's origin on the page: the text matrix, then the graphics state's.
            x, y = tm[4], tm[5]
            found.append((x * cm[0] + y * cm[2] + cm[4], x * cm[1] + y * cm[3] + cm[5]))

    page.extract_text(visitor_text=visit)
    assert len(found) == 1
    x, y = found[0]
    assert x > 0.85 * width and y < 0.06 * height  # bottom right, as in the DOCX and ODT


# --- XLSX, ODS, CSV, JSON --------------------------------------------------------------------


def test_xlsx_is_typed_frozen_and_filterable(session: Session) -> None:
    period_id = _period_id(session)
    name, media_type, content = _export(session, "xlsx", period_id)
    assert name == "voortgangsrapportage-2021.xlsx" and media_type.endswith("spreadsheetml.sheet")
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert sheet.title == "Activiteiten"
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:N129"
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["Activiteit-id", "Versie", "Actielijn"]
    assert header[9:11] == ["Stand van zaken", "Toelichting"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 128
    first = dict(zip(KEYS, rows[0], strict=True))
    assert isinstance(first["activity_id"], int) and first["version"] == 1
    assert first["action_line"] == 1 and first["result_number"] == 1
    assert first["activity"] == KNOWN_TITLE
    assert first["status"] == "In uitvoering en volgens planning"
    assert first["explanation"].startswith(KNOWN_EXPLANATION)
    assert first["organisations"] == "Politie (trekker)"
    assert isinstance(first["last_change"], datetime)
    explanation = sheet.cell(row=2, column=KEYS.index("explanation") + 1)
    assert explanation.alignment.wrap_text
    assert sheet.column_dimensions["K"].width > 50
    assert [row[0] for row in rows] == _expected_ids(session, period_id, ActivityFilters())


def test_xlsx_writes_each_text_once_and_reads_back_every_character(session: Session) -> None:
    tricky = 'A <b> & "quoted" _x0041_ text\nsecond line, ééé'
    period_id, _ = _round_with_explanations(session, [tricky] * 3)  # the same text three times
    _, _, content = _export(session, "xlsx", period_id)

    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    column = KEYS.index("explanation")
    rows = list(sheet.iter_rows(min_row=1, max_row=4, values_only=True))
    assert rows[0][column] == "Toelichting"
    assert [row[column] for row in rows[1:]] == [tricky] * 3
    # The shared string table holds each text once, the header's labels first.
    strings = zipfile.ZipFile(io.BytesIO(content)).read("xl/sharedStrings.xml").decode()
    items = re.findall(r"<si>(.*?)</si>", strings, flags=re.S)
    assert f'uniqueCount="{len(items)}"' in strings
    assert len(items) == len(set(items))
    assert sum("_x005F_x0041_" in item for item in items) == 1  # Excel shows it as typed
    assert re.sub(r"<[^>]+>", "", items[0]) == "Activiteit-id"


def _ods_rows(content: bytes) -> tuple[list[list[tuple[str, str]]], Table]:
    """(value type, text) of every cell, per row, as odfpy reads them."""
    document = load_odf(io.BytesIO(content))
    table = document.spreadsheet.getElementsByType(Table)[0]
    rows = []
    for row in table.getElementsByType(TableRow):
        rows.append(
            [
                (cell.getAttribute("valuetype") or "", _odf_cell_text(cell))
                for cell in row.getElementsByType(TableCell)
            ]
        )
    return rows, table


def test_ods_is_typed_frozen_and_filterable(session: Session) -> None:
    name, media_type, content = _export(session, "ods", _period_id(session))
    assert name == "voortgangsrapportage-2021.ods"
    assert media_type == "application/vnd.oasis.opendocument.spreadsheet"
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.namelist()[0] == "mimetype"
        assert archive.read("mimetype") == media_type.encode()
        assert archive.getinfo("mimetype").compress_type == zipfile.ZIP_STORED
        settings = archive.read("settings.xml").decode()
    # The header row frozen (LibreOffice's split after row 1).
    assert re.search(r'"VerticalSplitMode" config:type="short">2<', settings)
    assert re.search(r'"VerticalSplitPosition" config:type="int">1<', settings)
    rows, table = _ods_rows(content)
    assert table.getAttribute("name") == "Activiteiten"
    assert [text for _, text in rows[0]][9:11] == ["Stand van zaken", "Toelichting"]
    assert len(rows) == 129
    first = dict(zip(KEYS, rows[1], strict=True))
    assert first["activity_id"][0] == "float" and first["result_number"] == ("float", "1")
    assert first["status"] == ("string", "In uitvoering en volgens planning")
    assert first["last_change"][0] == "date"
    document = load_odf(io.BytesIO(content))
    ranges = document.spreadsheet.getElementsByType(DatabaseRange)
    assert ranges[0].getAttribute("displayfilterbuttons") == "true"
    assert ranges[0].getAttribute("targetrangeaddress").endswith(".N129")


def test_the_spreadsheets_print_a4_landscape_one_page_wide_with_the_header_on_every_page(
    session: Session,
) -> None:
    """Printed, a spreadsheet of 14 columns fits the width of an A4 landscape page (as the
    monitor's do), as many pages down as it takes; before, both printed portrait in
    columns cut over pages."""
    workbook = openpyxl.load_workbook(io.BytesIO(_export(session, "xlsx", _period_id(session))[2]))
    sheet = workbook.active
    assert sheet is not None
    assert sheet.page_setup.orientation == "landscape"
    assert str(sheet.page_setup.paperSize) == sheet.PAPERSIZE_A4  # "9"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    # One page wide (XlsxWriter leaves out fitToWidth, whose default is 1), any number high.
    assert sheet.page_setup.fitToWidth in (None, 1) and sheet.page_setup.fitToHeight == 0
    assert str(sheet.print_title_rows).replace("$", "") == "1:1"

    content = _export(session, "ods", _period_id(session))[2]
    table, master, properties = _ods_page_layout(content)
    assert properties.getAttribute("printorientation") == "landscape"
    assert (properties.getAttribute("pagewidth"), properties.getAttribute("pageheight")) == (
        "29.7cm",
        "21cm",
    )
    assert properties.getAttrNS(LOEXTNS, "scale-to-X") == "1"
    assert properties.getAttrNS(LOEXTNS, "scale-to-Y") == "0"
    assert table.getElementsByType(TableHeaderRows)
    header = teletype.extractText(master.getElementsByType(Header)[0])
    assert "Samen tegen mensenhandel · Voortgangsrapportage 2021" in header
    (footer,) = master.getElementsByType(Footer)
    assert teletype.extractText(footer).startswith("Pagina 1 van 1")
    assert footer.getElementsByType(PageNumber) and footer.getElementsByType(PageCount)


def test_csv_is_utf8_with_the_column_keys(session: Session) -> None:
    name, media_type, content = _export(session, "csv", _period_id(session))
    assert name == "voortgangsrapportage-2021.csv" and media_type.startswith("text/csv")
    assert content.startswith("\ufeff".encode())  # Excel recognises UTF-8
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0] == list(KEYS)
    records = [dict(zip(KEYS, row, strict=True)) for row in rows[1:]]
    assert len(records) == 128
    assert records[0]["status"] == "on_schedule" and records[0]["activity"] == KNOWN_TITLE
    assert records[0]["organisations"] == "Politie (lead)"
    datetime.fromisoformat(records[0]["last_change"])
    assert {record["status"] for record in records} <= {status.value for status in Status}


def test_json_validates_against_the_published_schema(app, session: Session) -> None:  # type: ignore[no-untyped-def]
    _, media_type, content = _export(session, "json", _period_id(session))
    assert media_type == "application/json"
    data = json.loads(content)
    with TestClient(app) as client:
        sign_in(client, create_user(session, "viewer"))
        response = client.get("/exports/schema.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema == opendata.json_schema(language="nl")
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    validator.validate(data)
    assert [column["key"] for column in data["columns"]] == list(KEYS)
    assert data["period"] == {**data["period"], "name": PUBLISHED, "published": True}
    assert len(data["activities"]) == 128
    first = data["activities"][0]
    assert first["activity"] == KNOWN_TITLE and first["status"] == "on_schedule"
    # A record with a wrong type is refused by the schema.
    broken = {**data, "activities": [{**first, "version": "one"}]}
    assert not validator.is_valid(broken)


def test_docs_list_every_column() -> None:
    docs = (PROJECT_ROOT / "docs" / "exports.md").read_text()
    section = docs.split("<!-- columns:start -->\n", 1)[1].split("\n<!-- columns:end -->", 1)[0]
    assert section == opendata.columns_markdown(), (
        "docs/exports.md's column table is out of date; replace it with:\n"
        + opendata.columns_markdown()
    )
    assert [column.key for column in COLUMNS] == list(KEYS)


# --- Statuses not stated for the period: disclosed in every format ---------------------------

CARRIED_MARK = "overgenomen, niet bevestigd"
CARRIED_NOTE = (
    "Overgenomen, niet bevestigd: bij 125 van de 128 activiteiten zijn de status en de "
    "toelichting ongewijzigd overgenomen uit de vorige rapportage"
)


def _published_round(session: Session) -> tuple[int, dict[str, int]]:
    """2022 opened from the seed's 2021 (every status carried over), two activities changed and
    one confirmed unchanged (each approved by a second coordinator), then published: 125 of
    the 128 statuses are still carried over."""
    period_id = open_round(session)
    ids = _expected_ids(session, period_id, ActivityFilters())
    chosen = {"changed": ids[0], "confirmed": ids[1], "also changed": ids[5]}
    starting = readmodel.starting_points(session, period_id)
    for key, activity_id in chosen.items():
        kept = starting[activity_id]
        update = activities.record_status(
            session,
            activity_id=activity_id,
            period_id=period_id,
            status=kept.status if key == "confirmed" else Status.delayed,
            explanation=kept.explanation if key == "confirmed" else f"Nieuw: {key}.",
            author=coordinator(session),
            based_on_version=1,
        )
        review.approve(session, status_update_id=update.id, reviewer=coordinator(session))
    actor = coordinator(session)
    periods_service.move_period(session, period_id=period_id, move="review", actor=actor)
    publish(session, period_id=period_id, actor=actor)
    session.commit()
    return period_id, chosen


def test_every_export_marks_the_carried_over_statuses_and_explains_the_mark(
    session: Session,
) -> None:
    period_id, chosen = _published_round(session)
    stated = set(chosen.values())
    order = _expected_ids(session, period_id, ActivityFilters())
    assert len(order) == 128 and stated <= set(order)

    # DOCX: the mark in words under the status, in the status's cell; the note under the legend.
    document = Document(io.BytesIO(_export(session, "docx", period_id)[2]))
    status_cells = [
        cells[3].text
        for table in document.tables[1:]
        for cells in (r.cells for r in table.rows[1:])
        if cells[3] is not cells[2]  # not a result's note across the row
    ]
    assert len(status_cells) == 128
    marked = [text.endswith(f"\n{CARRIED_MARK}") for text in status_cells]
    assert [index for index, mark in enumerate(marked) if not mark] == [0, 1, 5]
    notes = [p.text for p in document.paragraphs if p.text.startswith("Overgenomen")]
    assert len(notes) == 1 and notes[0].startswith(CARRIED_NOTE)
    assert "Afgeleid" not in _document_text("docx", _export(session, "docx", period_id)[2])

    # ODT: the same, the mark its own paragraph in the status cell.
    odt_content = _export(session, "odt", period_id)[2]
    odt_text = teletype.extractText(load_odf(io.BytesIO(odt_content)).text)
    assert CARRIED_NOTE in odt_text
    assert odt_text.count(CARRIED_MARK) == 125

    # PDF: the note on the first page, the mark by each of the 125 statuses.
    pages = _pdf_pages(_export(session, "pdf", period_id)[2])
    assert CARRIED_NOTE in _squashed(pages[0])
    assert _squashed(" ".join(pages)).count(CARRIED_MARK) == 125

    # XLSX and ODS: the column "Niet bevestigd", the mark in the export's language.
    column = KEYS.index("unconfirmed")
    sheet = openpyxl.load_workbook(io.BytesIO(_export(session, "xlsx", period_id)[2])).active
    assert sheet.cell(row=1, column=column + 1).value == "Niet bevestigd"
    values = [row[column] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert [i for i, value in enumerate(values) if value != CARRIED_MARK] == [0, 1, 5]
    assert {values[i] for i in (0, 1, 5)} == {None}
    english = openpyxl.load_workbook(
        io.BytesIO(_export(session, "xlsx", period_id, language="en")[2])
    ).active
    assert english.cell(row=1, column=column + 1).value == "Not confirmed"
    assert english.cell(row=4, column=column + 1).value == "carried over, not confirmed"
    rows, _ = _ods_rows(_export(session, "ods", period_id)[2])
    assert rows[0][column] == ("string", "Niet bevestigd")
    ods_values = [row[column][1] for row in rows[1:]]
    assert [i for i, value in enumerate(ods_values) if value != CARRIED_MARK] == [0, 1, 5]

    # CSV and JSON: the code, and the JSON Schema knows it.
    records = list(
        csv.DictReader(io.StringIO(_export(session, "csv", period_id)[2].decode("utf-8-sig")))
    )
    codes = {int(record["activity_id"]): record["unconfirmed"] for record in records}
    assert {key for key, code in codes.items() if code != "carried_over"} == stated
    assert {codes[key] for key in stated} == {""}
    data = json.loads(_export(session, "json", period_id)[2])
    assert [a["unconfirmed"] for a in data["activities"]] == [codes[key] for key in order]
    jsonschema.Draft202012Validator(opendata.json_schema(language="nl")).validate(data)
    wrong = {**data, "activities": [{**data["activities"][0], "unconfirmed": "maybe"}]}
    assert not jsonschema.Draft202012Validator(opendata.json_schema(language="nl")).is_valid(wrong)


def test_the_seeds_derived_statuses_are_marked_the_same_way(session: Session) -> None:
    """2021's statuses were derived from the explanations: the same mechanism, another word."""
    period_id = _period_id(session)
    note = "Afgeleid, niet bevestigd: bij 128 van de 128 activiteiten is de status afgeleid"
    for fmt in DOCUMENTS:
        text = _squashed(_document_text(fmt, _export(session, fmt, period_id)[2]))
        assert note in text, fmt
        assert text.count(DERIVED_MARK) == 128, fmt
        assert CARRIED_MARK not in text
    english = _squashed(_document_text("pdf", _export(session, "pdf", period_id, language="en")[2]))
    assert "Derived, not confirmed: for 128 of the 128 activities" in english
    assert english.count("derived, not confirmed") == 128
    records = csv.DictReader(io.StringIO(_export(session, "csv", period_id)[2].decode("utf-8-sig")))
    assert {record["unconfirmed"] for record in records} == {"derived"}


def test_a_stored_export_from_before_a_renderer_change_is_not_served(session: Session) -> None:
    """Stored files are keyed by RENDERER_VERSION: a file stored by the renderers before the
    disclosure (version 2) is left alone and the export is made anew."""
    period_id = _period_id(session)
    request = service.ExportRequest(period_id, service.get_format("csv"), ActivityFilters(), "nl")
    current = service._published_key(session, request)
    assert current is not None and current.startswith(f"export:v{service.RENDERER_VERSION}:")
    stale = current.replace(f"export:v{service.RENDERER_VERSION}:", "export:v2:", 1)
    assert stale != current
    jobs.store_file(
        session, filename="old.csv", media_type="text/csv", content=b"old", cache_key=stale
    )
    session.commit()
    name, _, content = _export(session, "csv", period_id)
    assert content != b"old" and b"unconfirmed" in content.splitlines()[0]


# --- Formulas, filters, drafts ---------------------------------------------------------------


def _round_with_formulas(session: Session) -> tuple[int, list[int]]:
    """An open round in which two explanations start like formulas."""
    return _round_with_explanations(session, ["=SUM(1,2)", "@cmd /c calc"])


def _round_with_explanations(session: Session, explanations: list[str]) -> tuple[int, list[int]]:
    """An open round in which the first activities have these explanations (and are delayed)."""
    period_id = open_round(session)
    actor = coordinator(session)
    ids = _expected_ids(session, period_id, ActivityFilters())[: len(explanations)]
    for activity_id, explanation in zip(ids, explanations, strict=True):
        activities.record_status(
            session,
            activity_id=activity_id,
            period_id=period_id,
            status=Status.delayed,
            explanation=explanation,
            author=actor,
            based_on_version=1,
        )
    session.commit()
    return period_id, ids


def test_spreadsheets_neutralise_formulas(session: Session) -> None:
    period_id, _ = _round_with_formulas(session)
    column = KEYS.index("explanation")

    _, _, xlsx = _export(session, "xlsx", period_id)
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx))
    cells = [row[column] for row in workbook.active.iter_rows(min_row=2, max_row=3)]
    assert [cell.value for cell in cells] == ["'=SUM(1,2)", "'@cmd /c calc"]
    assert all(cell.data_type == "s" for cell in cells)  # text, not a formula

    _, _, ods = _export(session, "ods", period_id)
    rows, _ = _ods_rows(ods)
    assert [rows[1][column], rows[2][column]] == [
        ("string", "'=SUM(1,2)"),
        ("string", "'@cmd /c calc"),
    ]
    assert b"table:formula" not in zipfile.ZipFile(io.BytesIO(ods)).read("content.xml")

    _, _, text = _export(session, "csv", period_id)
    records = list(csv.DictReader(io.StringIO(text.decode("utf-8-sig"))))
    assert [records[0]["explanation"], records[1]["explanation"]] == [
        "'=SUM(1,2)",
        "'@cmd /c calc",
    ]
    # JSON is data for programs: left as entered.
    _, _, data = _export(session, "json", period_id)
    assert json.loads(data)["activities"][0]["explanation"] == "=SUM(1,2)"


def test_text_starting_with_a_tab_or_carriage_return_is_neutralised(session: Session) -> None:
    """Some spreadsheets skip a leading tab or CR and run the rest as a formula: the exports
    neutralise those cells as the audit CSV does, and the importer reads them back."""
    period_id, ids = _round_with_formulas(session)
    first, second = (session.get(Activity, activity_id) for activity_id in ids)
    assert first is not None and second is not None
    first.title, second.title = "\t=SUM(1,2)", "\r@cmd"
    session.commit()
    column = KEYS.index("activity")

    _, _, text = _export(session, "csv", period_id)
    records = list(csv.DictReader(io.StringIO(text.decode("utf-8-sig"), newline="")))
    titles = {record["activity"] for record in records}
    assert {"'\t=SUM(1,2)", "'\r@cmd"} <= titles

    _, _, xlsx = _export(session, "xlsx", period_id)
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx))
    cells = {row[column].value for row in workbook.active.iter_rows(min_row=2)}
    assert "'\t=SUM(1,2)" in cells  # (XML keeps no lone CR)


FORMATS = ["docx", "odt", "pdf", "xlsx", "ods", "csv", "json"]


def _titles_in(fmt: str, content: bytes) -> str:
    """All the text of an export, to look for activity titles in."""
    if fmt == "docx":
        return _docx_text(Document(io.BytesIO(content)))
    if fmt in ("odt", "ods"):
        document = load_odf(io.BytesIO(content))
        return teletype.extractText(document.body)
    if fmt == "pdf":
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    if fmt == "xlsx":
        sheet = openpyxl.load_workbook(io.BytesIO(content)).active
        return "\n".join(str(v) for row in sheet.iter_rows(values_only=True) for v in row if v)
    return content.decode("utf-8-sig")


def _record_ids(fmt: str, content: bytes) -> list[int]:
    if fmt == "xlsx":
        sheet = openpyxl.load_workbook(io.BytesIO(content)).active
        return [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    if fmt == "ods":
        rows, _ = _ods_rows(content)
        return [int(row[0][1]) for row in rows[1:]]
    if fmt == "csv":
        return [
            int(r["activity_id"]) for r in csv.DictReader(io.StringIO(content.decode("utf-8-sig")))
        ]
    return [record["activity_id"] for record in json.loads(content)["activities"]]


def test_filters_apply_to_every_format(session: Session) -> None:
    period_id = _period_id(session)
    filters = service.parse_filters(
        action_line="1", organisation="CoMensha", statuses=["ongoing", "on_schedule"]
    )
    expected = _expected_ids(session, period_id, filters)
    assert 0 < len(expected) < 20
    table = build_table(session, period_id=period_id, filters=filters)
    kept = [activity.title for _, _, _, activity in table.activities()]
    everything = build_table(session, period_id=period_id)
    left_out = [a.title for _, _, _, a in everything.activities() if a.title not in kept]
    for fmt in FORMATS:
        name, _, content = _export(session, fmt, period_id, filters=filters)
        assert name.startswith("voortgangsrapportage-2021-actielijn-1-comensha-ongoing-on-schedule")
        if fmt in ("xlsx", "ods", "csv", "json"):
            assert _record_ids(fmt, content) == expected, fmt
        else:
            text = _titles_in(fmt, content)
            squashed = re.sub(r"\s+", " ", text)
            assert all(re.sub(r"\s+", " ", t) in squashed for t in kept), fmt
            assert KNOWN_TITLE not in text and left_out[0] not in text, fmt
            assert "Selectie: Actielijn 1; Organisatie CoMensha" in squashed, fmt


def test_an_unpublished_period_is_marked_as_draft(session: Session) -> None:
    period_id = open_round(session)
    filters = ActivityFilters(action_line=5)
    name, _, docx = _export(session, "docx", period_id, filters=filters)
    assert name == "voortgangsrapportage-2022-actielijn-5-concept.docx"
    document = Document(io.BytesIO(docx))
    assert "CONCEPT" in document.sections[0].header.paragraphs[0].text
    assert document.paragraphs[0].text == "CONCEPT"  # the line on top
    assert "niet gepubliceerd (Open voor updates)" in document.paragraphs[1].text

    _, _, odt = _export(session, "odt", period_id, filters=filters)
    odf = load_odf(io.BytesIO(odt))
    master = odf.masterstyles.getElementsByType(MasterPage)[0]
    assert "CONCEPT" in teletype.extractText(master)
    assert teletype.extractText(odf.text.getElementsByType(P)[0]) == "CONCEPT"

    name, _, pdf = _export(session, "pdf", period_id, filters=filters)
    assert name.endswith("-concept.pdf")
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]
    assert all("CONCEPT" in text for text in pages)
    assert "niet gepubliceerd" in pages[0]

    name, _, json_content = _export(session, "json", period_id, filters=filters, language="en")
    assert name == "voortgangsrapportage-2022-action-line-5-draft.json"
    assert json.loads(json_content)["period"]["published"] is False
    # A draft is made each time, not kept.
    assert session.scalar(select(func.count()).select_from(StoredFile)) == 0


def test_unknown_format_status_or_language_is_refused(session: Session) -> None:
    from app.errors import InvalidInput, NotFound

    with pytest.raises(InvalidInput, match="exportformaat 'rtf'"):
        service.export(session, period_id=_period_id(session), fmt="rtf")
    with pytest.raises(InvalidInput, match="'late'"):
        service.parse_filters(action_line=None, organisation=None, statuses=["late"])
    with pytest.raises(InvalidInput):
        service.parse_filters(action_line="two", organisation=None, statuses=None)
    with pytest.raises(InvalidInput):
        service.export(session, period_id=_period_id(session), fmt="csv", language="de")
    with pytest.raises(NotFound):
        service.export(session, period_id=999999, fmt="csv")


# --- Storage of published exports ------------------------------------------------------------


def _file_count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(StoredFile))  # type: ignore[return-value]


def test_published_export_is_made_once_and_served_from_storage(session: Session) -> None:
    period_id = _period_id(session)
    first = _export(session, "xlsx", period_id)
    assert _file_count(session) == 1
    second = _export(session, "xlsx", period_id)
    assert second == first and _file_count(session) == 1
    # Another language, format or selection is another file.
    _export(session, "xlsx", period_id, language="en")
    _export(session, "csv", period_id)
    _export(session, "csv", period_id, filters=ActivityFilters(action_line=2))
    assert _file_count(session) == 4
    keys = session.scalars(select(StoredFile.cache_key)).all()
    assert all(
        key and key.startswith(f"export:v{service.RENDERER_VERSION}:period-{period_id}:")
        for key in keys
    )


def _post_export(client: TestClient, period_id: int, **fields):  # type: ignore[no-untyped-def]
    page = client.get(f"/periods/{period_id}")
    data = {"csrftoken": csrf_from(page.text), **fields}
    return client.post(f"/periods/{period_id}/exports", data=data, follow_redirects=False)


def test_viewer_exports_through_a_job_then_straight_from_storage(app, session: Session) -> None:  # type: ignore[no-untyped-def]
    period_id = _period_id(session)
    with TestClient(app) as client:
        sign_in(client, create_user(session, "viewer"))
        page = BeautifulSoup(client.get(f"/periods/{period_id}").text, "html.parser")
        form = page.find("form", id="export-form")
        assert form is not None and page.find(id="export-heading").text == "Exporteren"
        for field in form.find_all(["select", "input"]):
            if field.get("type") in ("hidden",):
                continue
            assert form.find("label", attrs={"for": field["id"]}), field  # every field labelled
        formats = [option["value"] for option in form.find(id="export-format").find_all("option")]
        assert formats == FORMATS
        organisations = form.find(id="export-organisation").find_all("option")
        assert "CoMensha" in [option["value"] for option in organisations]

        response = _post_export(client, period_id, format="docx", status=["delayed"])
        assert response.status_code == 303
        job_url = response.headers["location"]
        assert re.fullmatch(r"/jobs/\d+", job_url)
        # TestClient ran the job after the response, as the server would.
        job_page = client.get(job_url)
        assert 'id="job-done"' in job_page.text
        assert "Export van Voortgangsrapportage 2021 als DOCX" in job_page.text
        link = BeautifulSoup(job_page.text, "html.parser").find(id="job-file")
        assert "voortgangsrapportage-2021-delayed.docx" in link.text
        download = client.get(link["href"])
        assert download.status_code == 200
        document = Document(io.BytesIO(download.content))
        statuses = {
            cells[3].text
            for table in document.tables[1:]
            for cells in (row.cells for row in table.rows[1:])
            if cells[3] is not cells[2]  # not a result's note across the row
        }
        assert statuses == {f"⚠ In uitvoering maar met vertraging\n{DERIVED_MARK}"}
        files = _file_count(session)

        again = _post_export(client, period_id, format="docx", status=["delayed"])
        assert again.status_code == 303
        assert again.headers["location"] == link["href"]  # the same stored file
        assert _file_count(session) == files
        assert session.scalar(select(func.count()).select_from(Job)) == 1

        refused = _post_export(client, period_id, format="rtf")
        assert refused.status_code == 422 and "rtf" in refused.text


def test_the_export_form_offers_organisations_off_by_default(app, session: Session) -> None:  # type: ignore[no-untyped-def]
    period_id = _period_id(session)
    with TestClient(app) as client:
        sign_in(client, create_user(session, "viewer"))
        page = BeautifulSoup(client.get(f"/periods/{period_id}").text, "html.parser")
        box = page.find("form", id="export-form").find("input", attrs={"name": "organisations"})
        assert box["type"] == "checkbox" and not box.has_attr("checked")
        label = page.find("label", attrs={"for": box["id"]})
        assert label.text == "Organisaties onder elke activiteit afdrukken"
        assert "DOCX, ODT, PDF" in page.find(id=box["aria-describedby"]).text

        response = _post_export(client, period_id, format="odt", organisations="1")
        assert response.status_code == 303
        job = session.scalars(select(Job)).one()
        assert job.params["organisations"] is True
        link = BeautifulSoup(client.get(response.headers["location"]).text, "html.parser")
        download = client.get(link.find(id="job-file")["href"])
        assert download.status_code == 200
        assert "voortgangsrapportage-2021-organisaties.odt" in link.find(id="job-file").text
        text = teletype.extractText(load_odf(io.BytesIO(download.content)).text)
        assert "Politie (trekker)" in text and "Royal Schiphol Group" in text
        # Without the box: the annex, another file.
        plain = _post_export(client, period_id, format="odt")
        page = client.get(plain.headers["location"])
        assert "voortgangsrapportage-2021.odt" in page.text


def test_job_page_shows_progress_then_the_file(app, session: Session) -> None:  # type: ignore[no-untyped-def]
    period_id = open_round(session)
    email = create_user(session, "viewer")
    from app.accounts.service import as_current_user, get_user_by_email

    user = as_current_user(session, get_user_by_email(session, email))
    job = jobs.submit(
        session,
        kind="export",
        params={"period_id": period_id, "format": "csv", "language": "nl", "title": "Export"},
        user=user,
    )
    session.commit()
    with TestClient(app) as client:
        sign_in(client, email)
        waiting = client.get(f"/jobs/{job.id}")
        assert 'data-state="queued"' in waiting.text and "<progress" in waiting.text
        jobs.run(app.state.engine, job.id)
        done = client.get(f"/jobs/{job.id}")
        assert 'data-state="done"' in done.text
        assert "voortgangsrapportage-2022-concept.csv" in done.text
    session.expire_all()
    finished = session.get(Job, job.id)
    assert finished.state == JobState.done and finished.progress == 100
    stored = session.get(StoredFile, finished.file_id)
    assert stored.cache_key is None and stored.created_by_id == user.id


def test_a_failing_export_job_says_why(app, session: Session) -> None:  # type: ignore[no-untyped-def]
    job = jobs.submit(
        session,
        kind="export",
        params={"period_id": 999999, "format": "csv", "language": "nl"},
        user=None,
    )
    session.commit()
    jobs.run(app.state.engine, job.id)
    session.expire_all()
    failed = session.get(Job, job.id)
    assert failed.state == JobState.failed and "999999" in failed.message


def test_signed_out_visitors_are_sent_to_sign_in(app, session: Session) -> None:  # type: ignore[no-untyped-def]
    period_id = _period_id(session)
    with TestClient(app) as client:
        response = client.post(
            f"/periods/{period_id}/exports", data={"format": "csv"}, follow_redirects=False
        )
        assert response.status_code == 303
        assert response.headers["location"].startswith("/sign-in?next=")
        schema = client.get("/exports/schema.json", follow_redirects=False)
        assert schema.status_code == 303 and schema.headers["location"].startswith("/sign-in")
    assert _file_count(session) == 0


# --- Command line ----------------------------------------------------------------------------


def _cli(database_url: str, *args: str) -> Result:
    return run_cli("export", *args, env={"DATABASE_URL": database_url})


def test_cli_writes_an_export_that_its_reader_opens(
    seeded_database_url: str, tmp_path: Path
) -> None:
    output = tmp_path / "tabel.xlsx"
    done = _cli(
        seeded_database_url,
        "--period",
        PUBLISHED,
        "--format",
        "xlsx",
        "--output",
        str(output),
        "--action-line",
        "2",
        "--language",
        "en",
    )
    assert done.exit_code == 0, done.stderr
    assert "voortgangsrapportage-2021-action-line-2.xlsx" in done.stdout
    sheet = openpyxl.load_workbook(output).active
    assert sheet.title == "Activities" and sheet["J1"].value == "Status"
    assert {row[2] for row in sheet.iter_rows(min_row=2, values_only=True)} == {2}

    docx_file = tmp_path / "tabel.docx"
    by_id = _cli(
        seeded_database_url, "--period", "1", "--format", "docx", "--output", str(docx_file)
    )
    assert by_id.exit_code == 0, by_id.stderr
    document = Document(docx_file)
    assert document.tables[1].rows[0].cells[1].text == "Resultaat (doelstelling)"
    assert document.tables[1].rows[1].cells[2].text == "1. " + KNOWN_TITLE

    with_names = _cli(
        seeded_database_url,
        *("--period", PUBLISHED, "--format", "docx", "--output", str(docx_file)),
        "--organisations",
    )
    assert with_names.exit_code == 0, with_names.stderr
    assert "voortgangsrapportage-2021-organisaties.docx" in with_names.stdout
    cell = Document(docx_file).tables[1].rows[1].cells[2]
    assert [p.text for p in cell.paragraphs] == ["1. " + KNOWN_TITLE, "Politie (trekker)"]


def test_cli_refuses_bad_input_with_a_message(seeded_database_url: str, tmp_path: Path) -> None:
    output = str(tmp_path / "x")
    unknown_period = _cli(
        seeded_database_url, "--period", "1999", "--format", "csv", "--output", output
    )
    assert unknown_period.exit_code == 1
    assert "no period '1999'" in unknown_period.stderr and PUBLISHED in unknown_period.stderr
    unknown_format = _cli(
        seeded_database_url, "--period", PUBLISHED, "--format", "rtf", "--output", output
    )
    assert unknown_format.exit_code == 1 and "rtf" in unknown_format.stderr
    bad_status = _cli(
        seeded_database_url,
        "--period",
        PUBLISHED,
        "--format",
        "csv",
        "--output",
        output,
        "--status",
        "late",
    )
    assert bad_status.exit_code == 1 and "late" in bad_status.stderr
    assert not Path(output).exists()


def test_wrapped_lines_estimates_lines_at_word_boundaries() -> None:
    # 10 characters of width hold 11 letters (LETTERS_PER_WIDTH 1.15).
    assert spreadsheets.wrapped_lines("", 10) == 1
    assert spreadsheets.wrapped_lines("eleven lett", 10) == 1
    assert spreadsheets.wrapped_lines("eleven letters", 10) == 2  # wraps between the words
    assert spreadsheets.wrapped_lines("one\ntwo\nthree", 10) == 3  # each paragraph its own line
    assert spreadsheets.wrapped_lines("x" * 23, 10) == 3  # a long word broken over lines
    assert spreadsheets.wrapped_lines("x" * 22 + " y", 10) == 3
    assert spreadsheets.row_height([("a", 10), ("eleven letters", 10)]) == 30
    assert spreadsheets.header_width(["Gebiedscode"], 10) >= len("Gebiedscode")


def test_xlsx_rows_are_as_tall_as_their_wrapped_text(session: Session) -> None:
    """LibreOffice does not lay out an XLSX row without a stored height: its wrapped lines
    overprinted the rows below. Every row has the height of its longest wrapped cell."""
    sheet = openpyxl.load_workbook(
        io.BytesIO(_export(session, "xlsx", _period_id(session))[2])
    ).active
    assert sheet is not None
    letters = {key: openpyxl.utils.get_column_letter(KEYS.index(key) + 1) for key in KEYS}
    widths = {key: sheet.column_dimensions[letter].width for key, letter in letters.items()}
    heights = []
    for number in range(2, sheet.max_row + 1):
        dimension = sheet.row_dimensions[number]
        assert dimension.customHeight and dimension.height, number
        heights.append(dimension.height)
        for key in spreadsheets.WRAPPED:
            text = sheet[f"{letters[key]}{number}"].value or ""
            # Never fewer lines than a line of the column's width in characters holds.
            lines = sum(
                1 + len(paragraph) // int(widths[key] * 1.3) for paragraph in text.split("\n")
            )
            assert dimension.height >= 15 * lines, (number, key)
    assert max(heights) >= 8 * 15 and min(heights) <= 2 * 15  # long explanations; short ones
    # No header word is broken: each column is as wide as its header's longest word.
    for cell in sheet[1]:
        longest = max(len(word) for word in str(cell.value).split())
        assert sheet.column_dimensions[cell.column_letter].width > longest, cell.value
    assert sheet.row_dimensions[1].height
