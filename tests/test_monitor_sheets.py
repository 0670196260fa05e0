"""A monitor edition's figure sheet (export, fill in, import with a dry run and all-or-nothing
apply) and its exports (XLSX, ODS, DOCX and PDF factsheet), opened with real readers."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from bs4 import BeautifulSoup
from docx import Document
from docx.oxml.ns import qn
from fastapi.testclient import TestClient
from odf.namespaces import LOEXTNS
from odf.opendocument import load as load_ods
from odf.style import (
    Footer,
    Header,
    MasterPage,
    PageLayout,
    PageLayoutProperties,
    Style,
    TableColumnProperties,
)
from odf.table import Table, TableCell, TableColumn, TableHeaderRows, TableRow
from odf.text import P, PageCount, PageNumber
from openpyxl import Workbook, load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlmodel import Session, col

from app.config import Settings
from app.exports import monitor as exports
from app.i18n import set_language
from app.imports import parsing
from app.jobs.models import Job, JobState
from app.main import create_app
from app.monitor import figuresheet, service
from app.monitor.models import Edition, FigureSource, FigureVersion
from app.monitor.values import parse_value
from app.review import service as review
from tests.factories import (
    coordinator,
    create_user,
    csrf_from,
    current_user,
    load_monitors,
    sign_in,
)
from tests.test_monitor import DM, MHM, SLM, _open_edition

HEADER = figuresheet.HEADER_ROW
VALUE = 1 + next(i for i, c in enumerate(figuresheet.COLUMNS) if c.key == "value")
BREAKDOWN = 1 + next(i for i, c in enumerate(figuresheet.COLUMNS) if c.key == "breakdown")
SOURCE = 1 + next(i for i, c in enumerate(figuresheet.COLUMNS) if c.key == "source_document")
KEY = 1


@pytest.fixture
def edition(seeded_session: Session) -> Iterator[tuple[Session, int, Any]]:
    """The seeded editions and a new, open one (a total with two parts, supplied by NRM)."""
    set_language("nl")
    edition_id, _, actor, _ = _open_edition(seeded_session)
    yield seeded_session, edition_id, actor


def _sheet(session: Session, edition_id: int, language: str = "nl") -> Workbook:
    content = figuresheet.figure_sheet(service.edition_view(session, edition_id), language=language)
    return load_workbook(io.BytesIO(content))


def _fill(workbook: Workbook, values: dict[str, tuple[str, ...]]) -> bytes:
    """Fill in the sheet as a supplier does: per figure key its value (and breakdown)."""
    sheet = workbook.active
    assert sheet is not None
    for row in range(HEADER + 1, sheet.max_row + 1):
        key = sheet.cell(row=row, column=KEY).value
        if key in values:
            filled = values[key]
            sheet.cell(row=row, column=VALUE, value=filled[0])
            if len(filled) > 1:
                sheet.cell(row=row, column=BREAKDOWN, value=filled[1])
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def _preview(session: Session, edition_id: int, content: bytes, user: Any) -> Any:
    sheet = parsing.read_sheet(content, "cijfers.xlsx", layout=figuresheet.FIGURE_LAYOUT)
    return figuresheet.preview(
        session, edition_id=edition_id, rows=sheet.rows, user=user, columns=sheet.columns
    )


def _apply(session: Session, edition_id: int, content: bytes, user: Any) -> Any:
    sheet = parsing.read_sheet(content, "cijfers.xlsx", layout=figuresheet.FIGURE_LAYOUT)
    return figuresheet.apply(
        session,
        edition_id=edition_id,
        rows=sheet.rows,
        user=user,
        address="",
        columns=sheet.columns,
    )


def _versions(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(FigureVersion)) or 0


def _reasons(line: Any) -> str:
    return " ".join(f"{problem.column}: {problem.message}" for problem in line.problems)


def test_the_figure_sheet_has_a_row_per_figure_and_part_locked_but_for_what_is_filled_in(
    edition: tuple[Session, int, Any],
) -> None:
    session, edition_id, _ = edition
    sheet = _sheet(session, edition_id).active
    assert sheet is not None
    assert sheet["A1"].value == "Mensenhandelmonitor 2021"
    assert "Waarde" in str(sheet["A2"].value) and "> 200" in str(sheet["A2"].value)
    headers = [cell.value for cell in sheet[HEADER]]
    assert headers == [
        "Cijfersleutel", "Indicator", "Gebied", "Jaren", "Uitgesplitst naar", "Categorie",
        "Eenheid", "Waarde", "Uitsplitsing volledig", "Brondocument", "Bladzijde bron", "Versie",
    ]  # fmt: skip
    for cell in sheet[HEADER]:  # no header word broken ("Bladzijd|e bron")
        longest = max(len(word) for word in str(cell.value).split())
        assert (sheet.column_dimensions[cell.column_letter].width or 0) > longest, cell.value
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=HEADER + 1)]
    assert [row[0] for row in rows] == ["controles", "controles.vergund", "controles.overig"]
    assert [(row[4], row[5]) for row in rows] == [(None, None), ("sector", "vergund"), ("sector", "overig")]  # fmt: skip
    assert all(row[-1] == 0 for row in rows)  # no version yet
    assert sheet.protection.sheet
    first = HEADER + 1
    assert sheet.cell(row=first, column=KEY).protection.locked
    assert not sheet.cell(row=first, column=VALUE).protection.locked
    assert not sheet.cell(row=first, column=BREAKDOWN).protection.locked
    assert sheet.cell(row=first, column=len(headers)).protection.locked  # the version
    # The breakdown column offers the two words, on the total's row only.
    (validation,) = sheet.data_validations.dataValidation
    assert validation.formula1 == '"volledig,gedeeltelijk"'
    assert str(validation.sqref) == f"I{first}"


def test_a_filled_sheet_previews_then_applies_every_figure_as_imported(
    edition: tuple[Session, int, Any],
) -> None:
    session, edition_id, actor = edition
    content = _fill(
        _sheet(session, edition_id),
        {"controles": ("477", "volledig"), "controles.vergund": ("320",), "controles.overig": ("157",)},
    )  # fmt: skip
    before = _versions(session)
    checked = _preview(session, edition_id, content, actor)
    assert checked.counts() == {"change": 3, "unchanged": 0, "refused": 0}
    assert [(line.row, line.value_to) for line in checked.lines] == [
        (HEADER + 1, "477"), (HEADER + 2, "320"), (HEADER + 3, "157")
    ]  # fmt: skip
    assert _versions(session) == before  # a dry run
    applied = _apply(session, edition_id, content, actor)
    assert len(applied.applied) == 3
    view = service.edition_view(session, edition_id)
    total = view.figure("controles")
    assert total.printed("nl") == "477" and total.version is not None
    assert total.version.breakdown_complete is True
    assert total.version.source == FigureSource.imported and total.version.author == actor.name
    # Exported again and sent back unchanged: nothing to do.
    again = _preview(session, edition_id, _fill(_sheet(session, edition_id), {}), actor)
    assert again.counts() == {"change": 0, "unchanged": 3, "refused": 0}


def test_every_bad_cell_is_refused_saying_what_and_where_and_nothing_changes(
    edition: tuple[Session, int, Any],
) -> None:
    session, edition_id, actor = edition
    content = _fill(
        _sheet(session, edition_id),
        {"controles": ("veel", "misschien"), "controles.vergund": ("320", "volledig")},
    )
    before = _versions(session)
    checked = _preview(session, edition_id, content, actor)
    total, part = checked.lines[0], checked.lines[1]
    assert total.outcome == part.outcome == "refused"
    assert "Waarde (H): 'veel' is geen cijfer" in _reasons(total)
    assert "Uitsplitsing volledig (I): 'misschien'" in _reasons(total)
    assert "Uitsplitsing volledig (I): Cijfer controles.vergund heeft geen delen" in _reasons(part)
    assert checked.lines[2].outcome == "unchanged"
    result = _apply(session, edition_id, content, actor)
    assert result.applied == [] and _versions(session) == before
    message = figuresheet.refusals_message(result.preview)
    assert f"rij {HEADER + 1}" in message and "Waarde (H)" in message


def test_a_complete_breakdown_that_does_not_add_up_is_refused_naming_the_figure(
    edition: tuple[Session, int, Any],
) -> None:
    session, edition_id, actor = edition
    content = _fill(
        _sheet(session, edition_id),
        {"controles": ("477", "volledig"), "controles.vergund": ("320",), "controles.overig": ("150",)},
    )  # fmt: skip
    before = _versions(session)
    checked = _preview(session, edition_id, content, actor)
    assert checked.counts()["refused"] == 1
    refused = checked.refused[0]
    assert refused.row == HEADER + 1
    assert "controles (477)" in _reasons(refused) and "320 + 150" in _reasons(refused)
    assert _apply(session, edition_id, content, actor).applied == []
    assert _versions(session) == before
    # Declared partial, the same numbers are taken.
    partial = _fill(
        _sheet(session, edition_id),
        {"controles": ("477", "gedeeltelijk"), "controles.vergund": ("320",), "controles.overig": ("150",)},
    )  # fmt: skip
    assert len(_apply(session, edition_id, partial, actor).applied) == 3


def test_a_change_since_the_export_is_refused_and_not_overwritten(
    edition: tuple[Session, int, Any],
) -> None:
    session, edition_id, actor = edition
    exported = _sheet(session, edition_id)  # at version 0
    overig = service.edition_view(session, edition_id).figure("controles.overig").figure
    service.record_figures(
        session, edition_id=edition_id,
        entries=[service.FigureEntry(overig.id or 0, parse_value("12"), 0)], author=actor,
    )  # fmt: skip
    session.commit()
    content = _fill(exported, {"controles.overig": ("13",), "controles.vergund": ("8",)})
    checked = _preview(session, edition_id, content, actor)
    stale = next(line for line in checked.lines if line.key == "controles.overig")
    assert stale.outcome == "refused"
    assert "Versie (L)" in _reasons(stale) and "versie 1 (12)" in _reasons(stale)
    before = _versions(session)
    assert _apply(session, edition_id, content, actor).applied == []
    assert _versions(session) == before
    assert service.edition_view(session, edition_id).figure("controles.overig").printed() == "12"


def test_apply_checks_again_and_writes_nothing_when_a_figure_changed_since_the_preview(
    edition: tuple[Session, int, Any],
) -> None:
    session, edition_id, actor = edition
    content = _fill(_sheet(session, edition_id), {"controles.overig": ("13",)})
    assert _preview(session, edition_id, content, actor).counts()["change"] == 1
    overig = service.edition_view(session, edition_id).figure("controles.overig").figure
    service.record_figures(
        session, edition_id=edition_id,
        entries=[service.FigureEntry(overig.id or 0, parse_value("12"), 0)], author=actor,
    )  # fmt: skip
    session.commit()
    before = _versions(session)
    result = _apply(session, edition_id, content, actor)
    assert result.applied == [] and result.preview.counts()["refused"] == 1
    assert _versions(session) == before


def test_only_the_supplying_organisations_editors_import_its_figures(
    edition: tuple[Session, int, Any],
) -> None:
    session, edition_id, _ = edition
    supplier = current_user(session, create_user(session, "editor", ("NRM",)))
    other = current_user(session, create_user(session, "editor", ("OM",)))
    session.commit()
    content = _fill(_sheet(session, edition_id), {"controles.vergund": ("6",)})
    refused = _preview(session, edition_id, content, other)
    assert refused.counts()["refused"] == 1
    assert "organisatie die dit cijfer levert" in _reasons(refused.refused[0])
    assert len(_apply(session, edition_id, content, supplier).applied) == 1


def test_a_published_edition_takes_no_figures(edition: tuple[Session, int, Any]) -> None:
    session, _, actor = edition
    published = session.scalar(select(Edition).where(col(Edition.title) == DM))
    assert published is not None
    view = service.edition_view(session, published.id or 0)
    key = view.figures[0].figure.key
    content = _fill(_sheet(session, published.id or 0), {key: ("999",)})
    checked = _preview(session, published.id or 0, content, actor)
    assert checked.counts() == {"change": 0, "unchanged": len(view.all_figures()) - 1, "refused": 1}
    assert "gepubliceerd" in _reasons(checked.refused[0])


def test_text_is_neutralised_on_export_and_read_back_as_it_was(
    edition: tuple[Session, int, Any],
) -> None:
    session, edition_id, actor = edition
    total = service.edition_view(session, edition_id).figure("controles").figure
    service.record_figures(
        session, edition_id=edition_id,
        entries=[service.FigureEntry(total.id or 0, parse_value("10"), 0, False, "=HYPERLINK(\"x\")")],
        author=actor,
    )  # fmt: skip
    session.commit()
    workbook = _sheet(session, edition_id)
    sheet = workbook.active
    assert sheet is not None
    assert sheet.cell(row=HEADER + 1, column=SOURCE).value == '\'=HYPERLINK("x")'
    assert sheet.cell(row=HEADER + 1, column=SOURCE).data_type == "s"
    checked = _preview(session, edition_id, _fill(workbook, {}), actor)
    assert checked.counts()["change"] == 0 and checked.counts()["refused"] == 0


def test_an_english_sheet_is_read_with_english_numbers(edition: tuple[Session, int, Any]) -> None:
    session, edition_id, actor = edition
    workbook = _sheet(session, edition_id, language="en")
    assert (
        workbook.active is not None
        and workbook.active.cell(row=HEADER, column=VALUE).value == "Value"
    )
    content = _fill(
        workbook,
        {"controles": ("1,045", "complete"), "controles.vergund": ("1,000",), "controles.overig": ("45",)},
    )  # fmt: skip
    assert len(_apply(session, edition_id, content, actor).applied) == 3
    assert service.edition_view(session, edition_id).figure("controles").printed("nl") == "1.045"


# -- the web: routes, rules, jobs --------------------------------------------------------------


@pytest.fixture
def web(seeded_settings: Settings) -> Iterator[tuple[Any, int, str, str]]:
    app = create_app(seeded_settings)
    with Session(app.state.engine, expire_on_commit=False) as session:
        set_language("nl")
        edition_id, _, _, _ = _open_edition(session)
        editor = create_user(session, "editor", ("NRM",))
        viewer = create_user(session, "viewer")
        session.commit()
    yield app, edition_id, editor, viewer
    app.state.engine.dispose()


def _client(app: Any, email: str) -> TestClient:
    client = TestClient(app)
    sign_in(client, email)
    return client


def test_an_editor_downloads_fills_uploads_previews_and_applies(web: Any) -> None:
    app, edition_id, editor, _ = web
    client = _client(app, editor)
    download = client.get(f"/monitor/editions/{edition_id}/figure-sheet.xlsx")
    assert download.status_code == 200
    assert "mensenhandelmonitor-2021-cijferblad.xlsx" in download.headers["content-disposition"]
    content = _fill(
        load_workbook(io.BytesIO(download.content)),
        {"controles": ("> 200", "gedeeltelijk"), "controles.vergund": ("≈ 95–105",)},
    )
    form = client.get(f"/monitor/editions/{edition_id}/figure-sheet/import")
    assert form.status_code == 200
    token = csrf_from(form.text)
    uploaded = client.post(
        f"/monitor/editions/{edition_id}/figure-sheet/import",
        data={"csrftoken": token},
        files={"file": ("cijfers.xlsx", content, figuresheet.XLSX_MEDIA_TYPE)},
        follow_redirects=False,
    )
    assert uploaded.status_code == 303, uploaded.text[:300]
    job_id = int(uploaded.headers["location"].rsplit("/", 1)[-1])
    page = BeautifulSoup(client.get(f"/jobs/{job_id}").text, "html.parser")
    assert page.find(id="sheet-count-change").text == "2"
    assert "≈ 95–105" in page.find(id=f"sheet-row-{HEADER + 2}").text
    apply_form = page.find("form", id="sheet-apply-form")
    applied = client.post(
        apply_form["action"],
        data={"csrftoken": apply_form.find("input", {"name": "csrftoken"})["value"]},
        follow_redirects=False,
    )
    apply_id = int(applied.headers["location"].rsplit("/", 1)[-1])
    result = BeautifulSoup(client.get(f"/jobs/{apply_id}").text, "html.parser")
    assert result.find(id="sheet-applied-heading").text == "2 wijzigingen doorgevoerd"
    with Session(app.state.engine) as session:
        assert session.get(Job, apply_id).state == JobState.done  # type: ignore[union-attr]
        view = service.edition_view(session, edition_id)
        assert view.figure("controles").printed("nl") == "> 200"
        assert view.figure("controles.vergund").printed("nl") == "≈ 95–105"
    # A bad file is refused on the form.
    refused = client.post(
        f"/monitor/editions/{edition_id}/figure-sheet/import",
        data={"csrftoken": token},
        files={"file": ("cijfers.xlsx", b"not a spreadsheet", figuresheet.XLSX_MEDIA_TYPE)},
    )
    assert refused.status_code == 422 and "sheet-file-error" in refused.text


def test_viewers_export_editions_but_do_not_fill_in_figure_sheets(web: Any) -> None:
    app, edition_id, _, viewer = web
    client = _client(app, viewer)
    assert client.get(f"/monitor/editions/{edition_id}/figure-sheet.xlsx").status_code == 403
    assert client.get(f"/monitor/editions/{edition_id}/figure-sheet/import").status_code == 403
    draft = client.get(f"/monitor/editions/{edition_id}/export.pdf")
    assert draft.status_code == 200
    assert "mensenhandelmonitor-2021-concept.pdf" in draft.headers["content-disposition"]
    assert "CONCEPT" in PdfReader(io.BytesIO(draft.content)).pages[0].extract_text()
    assert client.get(f"/monitor/editions/{edition_id}/export.exe").status_code == 422
    anonymous = TestClient(app)
    refused = anonymous.get(f"/monitor/editions/{edition_id}/export.pdf", follow_redirects=False)
    assert refused.status_code in (303, 401)
    assert refused.headers.get("content-type") != "application/pdf"


# -- the exports, opened with their readers ----------------------------------------------------

PRINTED = {
    DM: ["> 200", "≈ 95–105", "onbekend"],
    SLM: ["5.000–7.500"],
    MHM: ["477", "320", "157"],
}


def _texts_xlsx(content: bytes) -> list[str]:
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    return [str(cell.value) for row in sheet.iter_rows() for cell in row if cell.value is not None]


def _texts_ods(content: bytes) -> list[str]:
    document = load_ods(io.BytesIO(content))
    return [
        "".join(str(node) for node in paragraph.childNodes)
        for row in document.getElementsByType(TableRow)
        for cell in row.getElementsByType(TableCell)
        for paragraph in cell.getElementsByType(P)
    ]


def _texts_docx(content: bytes) -> list[str]:
    document = Document(io.BytesIO(content))
    texts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        texts.extend(cell.text for row in table.rows for cell in row.cells)
    return texts


def _text_pdf(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.mark.parametrize("fmt", ["xlsx", "ods", "docx", "pdf"])
def test_the_seeded_editions_export_their_figures_as_printed(
    seeded_session: Session, fmt: str
) -> None:
    load_monitors(seeded_session)
    for title, printed in PRINTED.items():
        edition = seeded_session.scalar(select(Edition).where(col(Edition.title) == title))
        assert edition is not None
        name, _, content = exports.export_edition(
            seeded_session, edition.id or 0, fmt=fmt, language="nl"
        )
        assert name.endswith(f".{fmt}") and "concept" not in name  # published
        if fmt == "pdf":
            text = _text_pdf(content)
            assert "CONCEPT" not in text
            for value in printed:
                assert value in text, (title, value)
            continue
        cells = {"xlsx": _texts_xlsx, "ods": _texts_ods, "docx": _texts_docx}[fmt](content)
        for value in printed:
            assert any(value in cell for cell in cells), (title, value, fmt)


def _rows(content: bytes) -> list[dict[str, Any]]:
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    header = [cell.value for cell in sheet[1]]
    return [
        dict(zip(header, (cell.value for cell in row), strict=True))
        for row in sheet.iter_rows(min_row=2)
    ]


def _edition_id(session: Session, title: str) -> int:
    edition = session.scalar(select(Edition).where(col(Edition.title) == title))
    assert edition is not None
    return edition.id or 0


def test_the_spreadsheets_have_the_qualifier_bounds_and_footnotes_as_columns(
    seeded_session: Session,
) -> None:
    load_monitors(seeded_session)
    dm = _edition_id(seeded_session, DM)
    rows = _rows(exports.export_edition(seeded_session, dm, fmt="xlsx", language="nl")[2])
    convicted = next(row for row in rows if row["Waarde zoals gedrukt"] == "≈ 95–105")
    assert convicted["Kwalificatie"] == "bereik"
    assert (convicted["Ondergrens"], convicted["Bovengrens"]) == (95, 105)
    assert convicted["Bij benadering"] == "ja"
    signalled = next(row for row in rows if row["Waarde zoals gedrukt"] == "> 200")
    assert signalled["Kwalificatie"] == "ten minste" and signalled["Bovengrens"] is None

    mhm = _edition_id(seeded_session, MHM)
    view = service.edition_view(seeded_session, mhm)
    noted = [row for row in view.all_figures() if row.footnote_numbers]
    assert noted, "the Mensenhandelmonitor has footnotes"
    note = next(n for n in view.footnotes if n.number == noted[0].footnote_numbers[0])
    rows = _rows(exports.export_edition(seeded_session, mhm, fmt="xlsx", language="nl")[2])
    row = next(row for row in rows if row["Cijfersleutel"] == noted[0].figure.key)
    assert note.text in row["Voetnoten"]
    # The factsheet has the note right under its figure, its marker beside the value.
    document = exports.export_edition(seeded_session, mhm, fmt="docx", language="nl")[2]
    table = Document(io.BytesIO(document)).tables[0]
    name = noted[0].indicator.name_nl if not noted[0].figure.parent_id else noted[0].figure.category
    cells = next(r.cells for r in table.rows if str(name) in r.cells[0].text)
    assert note.text in cells[0].text
    assert cells[3].text.endswith(note.marker or str(note.number))


def _ods_page_layout(content: bytes) -> tuple[Any, Any, Any]:
    """The ODS's table, and the master page and page layout properties its style names."""
    document = load_ods(io.BytesIO(content))
    (table,) = document.getElementsByType(Table)
    styles = {s.getAttribute("name"): s for s in document.getElementsByType(Style)}
    master_name = styles[table.getAttribute("stylename")].getAttribute("masterpagename")
    (master,) = (
        m for m in document.getElementsByType(MasterPage) if m.getAttribute("name") == master_name
    )
    layout = next(
        layout
        for layout in document.getElementsByType(PageLayout)
        if layout.getAttribute("name") == master.getAttribute("pagelayoutname")
    )
    (properties,) = layout.getElementsByType(PageLayoutProperties)
    return table, master, properties


def test_the_ods_prints_a4_landscape_one_page_wide_with_its_header_on_every_page(
    seeded_session: Session,
) -> None:
    load_monitors(seeded_session)
    mhm = _edition_id(seeded_session, MHM)
    content = exports.export_edition(seeded_session, mhm, fmt="ods", language="nl")[2]
    table, master, properties = _ods_page_layout(content)
    assert properties.getAttribute("printorientation") == "landscape"
    assert (properties.getAttribute("pagewidth"), properties.getAttribute("pageheight")) == (
        "29.7cm",
        "21cm",
    )
    # Scaled to one page wide, as many pages down as it takes (LibreOffice's attributes).
    assert properties.getAttrNS(LOEXTNS, "scale-to-X") == "1"
    assert properties.getAttrNS(LOEXTNS, "scale-to-Y") == "0"
    (header_rows,) = table.getElementsByType(TableHeaderRows)
    assert "Cijfersleutel" in str(header_rows)
    assert "Mensenhandelmonitor 2020" in str(master.getElementsByType(Header)[0])
    (footer,) = master.getElementsByType(Footer)
    assert "Pagina" in str(footer)
    assert footer.getElementsByType(PageNumber) and footer.getElementsByType(PageCount)


def test_the_docx_factsheet_is_a4_portrait_with_page_numbers_and_a_repeated_header(
    seeded_session: Session,
) -> None:
    load_monitors(seeded_session)
    mhm = _edition_id(seeded_session, MHM)
    document = Document(
        io.BytesIO(exports.export_edition(seeded_session, mhm, fmt="docx", language="nl")[2])
    )
    section = document.sections[0]
    assert section.page_width and section.page_height  # A4 portrait, in twips
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    footer = section.footer.paragraphs[0]
    fields = [f.get(qn("w:instr")).strip() for f in footer._p.iter(qn("w:fldSimple"))]
    assert fields == ["PAGE", "NUMPAGES"]
    assert footer.text.startswith("Pagina") and " van " in footer.text
    assert section.header.paragraphs[0].text == "Mensenhandelmonitor 2020"
    table = document.tables[0]
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    assert all(row._tr.trPr.find(qn("w:cantSplit")) is not None for row in table.rows)


def test_an_edition_being_corrected_exports_its_figures_as_published_until_republished(
    seeded_session: Session,
) -> None:
    """Each file is the edition's own figures as it was published: the value entered in a
    correction (555444, waiting for review) is in no export, which is not a draft; once
    approved and republished, every export has it."""
    session = seeded_session
    load_monitors(session)
    mhm = _edition_id(session, MHM)
    actor = coordinator(session)
    service.move_edition(session, edition_id=mhm, move="correct", actor=actor, reason="typo")
    figure = service.edition_view(session, mhm).figure("lasten-onder-dwangsom")
    assert figure.printed("nl") == "5"
    (corrected,) = service.record_figures(
        session, edition_id=mhm,
        entries=[service.FigureEntry(figure.figure.id or 0, parse_value("555444"),
                                     figure.version.version if figure.version else 0)],
        author=actor,
    )  # fmt: skip
    session.commit()

    def texts(fmt: str) -> tuple[str, str]:
        name, _, content = exports.export_edition(session, mhm, fmt=fmt, language="nl")
        if fmt == "pdf":
            return name, _text_pdf(content)
        return name, "\n".join({"xlsx": _texts_xlsx, "ods": _texts_ods, "docx": _texts_docx}[fmt](content))  # fmt: skip

    for fmt in ("xlsx", "ods", "docx", "pdf"):
        name, text = texts(fmt)
        assert "concept" not in name and "CONCEPT" not in text, fmt
        assert "555" not in text, fmt
    row = next(
        r
        for r in _rows(exports.export_edition(session, mhm, fmt="xlsx", language="nl")[2])
        if r["Cijfersleutel"] == "lasten-onder-dwangsom"
    )
    assert row["Waarde zoals gedrukt"] == "5" and row["Ondergrens"] == 5

    review.decide_figure(
        session, figure_version_id=corrected.id or 0, decision="approve",
        reviewer=coordinator(session),
    )  # fmt: skip
    service.move_edition(session, edition_id=mhm, move="republish", actor=actor)
    session.commit()
    for fmt in ("xlsx", "ods", "docx", "pdf"):
        name, text = texts(fmt)
        assert "concept" not in name and "555.444" in text, fmt


@pytest.mark.parametrize("language", ["nl", "en"])
def test_no_header_word_is_broken_and_rows_are_as_tall_as_their_text(
    seeded_session: Session, language: str
) -> None:
    """Narrow columns broke their headers inside a word ("Gebiedsco|de", "Bladzijd|e bron");
    and a row's wrapped key or footnotes ran over the rows below in the XLSX."""
    load_monitors(seeded_session)
    mhm = _edition_id(seeded_session, MHM)
    xlsx = exports.export_edition(seeded_session, mhm, fmt="xlsx", language=language)[2]
    sheet = load_workbook(io.BytesIO(xlsx)).active
    assert sheet is not None
    for cell in sheet[1]:
        longest = max(len(word) for word in str(cell.value).split())
        assert (sheet.column_dimensions[cell.column_letter].width or 0) > longest, cell.value
    header = [cell.value for cell in sheet[1]]
    notes_column = header.index("Voetnoten" if language == "nl" else "Footnotes") + 1
    noted = 0
    for number in range(2, sheet.max_row + 1):
        height = sheet.row_dimensions[number].height
        assert height, number
        key = sheet.cell(row=number, column=1)
        assert key.alignment.wrap_text
        if len(str(key.value)) > (sheet.column_dimensions["A"].width or 0) * 1.3:
            assert height >= 30, key.value  # a key that wraps: two lines
        notes = sheet.cell(row=number, column=notes_column).value
        if notes:
            noted += 1
            assert height >= 15 * (len(notes) // 80 + 1), key.value
    assert noted
    # The ODS: the same widths (its rows LibreOffice lays out itself: optimal height).
    ods = load_ods(
        io.BytesIO(exports.export_edition(seeded_session, mhm, fmt="ods", language=language)[2])
    )
    styles = {s.getAttribute("name"): s for s in ods.getElementsByType(Style)}
    (table,) = ods.getElementsByType(Table)
    columns = table.getElementsByType(TableColumn)
    (header_rows,) = table.getElementsByType(TableHeaderRows)
    labels = [str(cell) for cell in header_rows.getElementsByType(TableCell)]
    assert labels == header
    for column, label in zip(columns, labels, strict=True):
        (properties,) = styles[column.getAttribute("stylename")].getElementsByType(
            TableColumnProperties
        )
        width = float(properties.getAttribute("columnwidth").removesuffix("cm")) / 0.19
        assert width > max(len(word) for word in label.split()), label


def test_the_factsheet_names_its_source_document_by_title_and_keeps_the_files(
    seeded_session: Session,
) -> None:
    """The factsheet's "Brondocument" printed the seed's file paths; it prints the title,
    and the files stay on the edition for the open data's provenance."""
    load_monitors(seeded_session)
    mhm = _edition_id(seeded_session, MHM)
    document = Document(
        io.BytesIO(exports.export_edition(seeded_session, mhm, fmt="docx", language="nl")[2])
    )
    (facts,) = (p.text for p in document.paragraphs if "Brondocument:" in p.text)
    assert "Brondocument: Mensenhandelmonitor 2020, Regio Rotterdam" in facts
    assert ".txt" not in facts and "shared/seeds" not in facts
    text = _text_pdf(exports.export_edition(seeded_session, mhm, fmt="pdf", language="nl")[2])
    assert "Mensenhandelmonitor 2020, Regio Rotterdam" in text and ".txt" not in text
    edition = seeded_session.get(Edition, mhm)
    assert edition is not None
    assert edition.source_files == (
        "shared/seeds/000_db6cf8c3470fff37.txt, shared/seeds/002_347f2a937e8c39a3.txt"
    )
    # Loading the seed again changes nothing.
    assert not load_monitors(seeded_session).changed
