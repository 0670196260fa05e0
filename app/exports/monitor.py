"""A monitor edition's exports: the figures as printed, in XLSX and ODS (with the qualifier and
numeric bounds as columns of their own, and the footnotes), and a factsheet as DOCX and as a
tagged PDF (the progress table's machinery: app/exports/pdf.py).

Every format reads one read-model (`build_edition`, over `app.monitor.service.edition_view`):
named rows with the value as `format_value` prints it ("> 200", "≈ 95–105", "5.000–7.500"),
so no format prints a false exact number. A footnote follows each figure it belongs to: its
markers beside the value, its text under it. Each file is the edition's own figures as it
stands: an edition being corrected is exported as it was last published (as the public site
shows it, and as a progress period being corrected is exported); any other edition that is not
published is marked as a draft in every file (and its file name), as a progress export is.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.shared import Cm, Mm, Pt, RGBColor
from docx.table import _Row as DocxRow
from odf.dc import Title
from odf.namespaces import LOEXTNS
from odf.opendocument import OpenDocumentSpreadsheet
from odf.style import (
    Footer,
    FooterStyle,
    Header,
    HeaderFooterProperties,
    HeaderStyle,
    MasterPage,
    PageLayout,
    RegionLeft,
    RegionRight,
    Style,
    TableCellProperties,
    TableColumnProperties,
    TableProperties,
    TextProperties,
)
from odf.table import Table, TableCell, TableColumn, TableHeaderRows, TableRow
from odf.text import P
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel import Session

from app.clock import utc_now
from app.errors import InvalidInput
from app.exports import pdf
from app.exports.docx import page_numbers
from app.exports.odt import a4_landscape, add_page_numbers
from app.exports.service import slug
from app.exports.spreadsheets import header_height, header_width, row_height
from app.i18n import N_, translations_for
from app.ids import id_of
from app.monitor import service
from app.monitor.models import Area
from app.monitor.service import FigureRow
from app.monitor.values import Unit
from app.periods.models import PeriodState
from app.periods.service import STATE_LABELS
from app.programmes.models import Organisation
from app.text import neutralise

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODS_MEDIA_TYPE = "application/vnd.oasis.opendocument.spreadsheet"
DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

UNIT_LABELS = {
    Unit.number: N_("number"),
    Unit.persons: N_("persons"),
    Unit.euro: N_("euro"),
    Unit.percent: N_("percent"),
    Unit.months: N_("months"),
}
QUALIFIER_LABELS = {
    "exact": N_("exact"),
    "at_least": N_("at least"),
    "at_most": N_("at most"),
    "range": N_("range"),
    "unknown": N_("unknown"),
    "suppressed": N_("suppressed"),
}

# The spreadsheet columns: key, header msgid, width in characters (widened where a word of
# the header in the export's language is longer: column_widths).
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("key", N_("Figure key"), 28),
    ("indicator", N_("Indicator"), 58),
    ("area", N_("Area"), 18),
    ("area_code", N_("Area code"), 10),
    ("years", N_("Years"), 10),
    ("dimension", N_("Breakdown by"), 14),
    ("category", N_("Category"), 20),
    ("unit", N_("Unit"), 10),
    ("printed", N_("Value as printed"), 18),
    ("qualifier", N_("Qualifier"), 12),
    ("low", N_("Lower bound"), 11),
    ("high", N_("Upper bound"), 11),
    ("approximate", N_("Approximately"), 10),
    ("estimate", N_("Estimate"), 10),
    ("breakdown", N_("Breakdown complete"), 12),
    ("footnotes", N_("Footnotes"), 60),
    ("source_document", N_("Source document"), 30),
    ("source_page", N_("Source page"), 8),
)


@dataclass(frozen=True)
class ExportFigure:
    """A figure as the exports print it."""

    key: str
    level: int  # 0 a figure, 1 a part of its breakdown
    indicator: str
    area: str
    area_code: str
    years: str
    dimension: str
    category: str
    unit: str
    printed: str
    markers: str  # the footnotes' markers, as printed beside the value ("*", "1")
    qualifier: str
    low: float | None
    high: float | None
    approximate: bool
    estimate: bool
    breakdown: str
    notes: tuple[str, ...]  # "* Omdat niet alle …"
    source_document: str
    source_page: str

    def cell(self, key: str) -> str | float | bool | None:
        if key == "footnotes":
            return "\n".join(self.notes)
        value: str | float | bool | None = getattr(self, key)
        return value


@dataclass(frozen=True)
class EditionExport:
    title: str
    language: str
    publisher: str
    area: str
    years: str
    source_document: str
    introduction: str
    state_label: str
    draft: bool
    generated_at: datetime
    figures: list[ExportFigure]
    chains: list[tuple[str, str, list[ExportFigure]]]  # title, caveat, steps
    texts: dict[str, str]

    @property
    def description(self) -> str:
        return f"{self.title} · {self.state_label} · {self.generated_at:%Y-%m-%d %H:%M} UTC"


# The factsheet table's columns (cm): figure, area, years, value; 16 cm between the margins.
FACTSHEET_WIDTHS = (6.6, 2.9, 2.3, 4.2)

TEXTS = {
    "draft": N_("DRAFT"),
    "draft_notice": N_("This is a draft: %(state)s. Its figures may still change."),
    "publisher": N_("Publisher"),
    "area": N_("Area"),
    "years": N_("Years"),
    "source": N_("Source document"),
    "figure": N_("Figure"),
    "value": N_("Value"),
    "figures": N_("Figures"),
    "footnotes": N_("Footnotes"),
    "chains": N_("Chains"),
    "of_which": N_("of which"),
    "page": N_("Page %(page)s of %(pages)s"),
    "factsheet": N_("Factsheet"),
}


def _name(language: str, dutch: str, english: str) -> str:
    return dutch if language == "nl" else english


def years_text(year_from: int, year_to: int) -> str:
    return str(year_from) if year_from == year_to else f"{year_from}–{year_to}"


def build_edition(session: Session, edition_id: int, *, language: str) -> EditionExport:
    """The read-model every format renders: the edition's figures in printed order (each
    figure followed by its parts), their footnotes, and its chains."""
    translate = translations_for(language).gettext
    view = service.edition_view(session, edition_id)
    state = PeriodState(view.period.state)
    if state == PeriodState.correcting:
        # As a progress period's exports: an edition being corrected is exported as it was
        # last published (its corrections are work in progress, on the staff's pages), until
        # it is republished.
        published = service.publications(session, id_of(view.period))
        if published:
            view = service.as_published(session, view, published[-1])
            state = PeriodState.published
    edition = view.edition
    publisher = session.get(Organisation, edition.publisher_id)
    notes = {note.number: note for note in view.footnotes}
    area = session.get(Area, edition.area_id)

    def figure(row: FigureRow, level: int) -> ExportFigure:
        value = row.value
        version = row.version
        figure_notes = [notes[number] for number in row.footnote_numbers if number in notes]
        complete = version.breakdown_complete if version else None
        return ExportFigure(
            key=row.figure.key,
            level=level,
            indicator=_name(language, row.indicator.name_nl, row.indicator.name_en),
            area=_name(language, row.area.name_nl, row.area.name_en),
            area_code=row.area.official_code or "",
            years=years_text(row.figure.year_from, row.figure.year_to),
            dimension=row.figure.dimension_in(language),
            category=row.figure.category_in(language),
            unit=translate(UNIT_LABELS[row.indicator.unit]),
            printed=row.printed(language),
            markers=" ".join(note.marker or str(note.number) for note in figure_notes),
            qualifier=translate(QUALIFIER_LABELS[value.qualifier.value]) if value else "",
            low=value.low if value else None,
            high=value.high if value else None,
            approximate=bool(value and value.approximate),
            estimate=bool(value and value.estimate),
            breakdown="" if complete is None else translate("complete" if complete else "partial"),
            notes=tuple(
                f"{note.marker or note.number} {note.text_in(language)}" for note in figure_notes
            ),
            source_document=version.source_document if version else "",
            source_page=(version.source_page or "") if version else "",
        )

    figures = []
    for top in view.figures:
        figures.append(figure(top, 0))
        figures.extend(figure(part, 1) for part in top.parts)
    chains = [
        (chain.title_in(language), chain.caveat_in(language), [figure(step, 0) for step in steps])
        for chain, steps in view.chains
    ]
    return EditionExport(
        title=edition.title,
        language=language,
        publisher=publisher.name if publisher else "",
        area=_name(language, area.name_nl, area.name_en) if area else "",
        years=years_text(edition.covers_from, edition.covers_to),
        source_document=edition.source_document,
        introduction=edition.introduction,
        state_label=translate(STATE_LABELS[state]),
        draft=state != PeriodState.published,
        generated_at=utc_now(),
        figures=figures,
        chains=chains,
        texts={key: translate(text) for key, text in TEXTS.items()},
    )


# -- spreadsheets ------------------------------------------------------------------------------


def _text(value: str | float | bool | None) -> str | float | bool | None:
    return neutralise(value) if isinstance(value, str) else value


def column_widths(labels: list[str]) -> list[float]:
    """The columns' widths for headers `labels`: at least as wide as each header's longest
    word, so a header wraps between words and never inside one ("Gebiedscode")."""
    return [
        header_width([label], width) for label, (_, _, width) in zip(labels, COLUMNS, strict=True)
    ]


def print_landscape(sheet: Worksheet, *, title_rows: str) -> None:
    """Printed, a sheet is as wide as an A4 landscape page, its header on every page."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.print_title_rows = title_rows


def render_xlsx(export: EditionExport) -> bytes:
    translate = translations_for(export.language).gettext
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = translate("Figures")
    header_fill = PatternFill("solid", fgColor="D9E6F2")
    labels = [translate(label) for _, label, _ in COLUMNS]
    widths = column_widths(labels)
    for index, (label, width) in enumerate(zip(labels, widths, strict=True), start=1):
        cell = sheet.cell(row=1, column=index, value=label)
        cell.font = Font(bold=True)
        cell.fill = header_fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions[cell.column_letter].width = width
    sheet.row_dimensions[1].height = header_height(labels, widths)
    for number, row in enumerate(export.figures, start=2):
        texts = []
        for index, (key, _, _) in enumerate(COLUMNS, start=1):
            value = row.cell(key)
            if isinstance(value, bool):
                value = translate("yes") if value else ""
            cell = sheet.cell(row=number, column=index, value=_text(value))
            # Text wraps in its column (a key, an indicator, the footnotes), as in the ODS.
            cell.alignment = Alignment(
                wrap_text=isinstance(value, str),
                vertical="top",
                indent=2 if key == "indicator" and row.level else 0,
            )
            if isinstance(value, str):
                indent = 2 if key == "indicator" and row.level else 0
                texts.append((value, widths[index - 1] - indent))
        # Spreadsheet programs do not all grow a row for wrapped text: its height is stored.
        sheet.row_dimensions[number].height = row_height(texts)
    sheet.freeze_panes = "B2"
    print_landscape(sheet, title_rows="1:1")
    last = sheet.cell(row=len(export.figures) + 1, column=len(COLUMNS)).coordinate
    sheet.auto_filter.ref = f"A1:{last}"
    workbook.properties.title = export.title
    workbook.properties.subject = export.description
    workbook.properties.contentStatus = export.state_label
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def render_ods(export: EditionExport) -> bytes:
    translate = translations_for(export.language).gettext
    document = OpenDocumentSpreadsheet()
    bold = Style(name="header", family="table-cell")
    bold.addElement(TextProperties(fontweight="bold"))
    bold.addElement(TableCellProperties(backgroundcolor="#d9e6f2", wrapoption="wrap"))
    document.automaticstyles.addElement(bold)
    wrap = Style(name="wrap", family="table-cell")
    wrap.addElement(TableCellProperties(wrapoption="wrap", verticalalign="top"))
    document.automaticstyles.addElement(wrap)
    top = Style(name="top", family="table-cell")  # a number, at the top as its row's texts
    top.addElement(TableCellProperties(verticalalign="top"))
    document.automaticstyles.addElement(top)
    table = Table(name=translate("Figures"), stylename=_ods_print_layout(document, export))
    widths = column_widths([translate(label) for _, label, _ in COLUMNS])
    for index, width in enumerate(widths):
        column_style = Style(name=f"col{index}", family="table-column")
        column_style.addElement(TableColumnProperties(columnwidth=f"{width * 0.19:.2f}cm"))
        document.automaticstyles.addElement(column_style)
        table.addElement(TableColumn(stylename=column_style))
    header = TableRow()
    for _, label, _ in COLUMNS:
        cell = TableCell(valuetype="string", stylename=bold)
        cell.addElement(P(text=translate(label)))
        header.addElement(cell)
    # The header row is printed on every page.
    header_rows = TableHeaderRows()
    header_rows.addElement(header)
    table.addElement(header_rows)
    for row in export.figures:
        line = TableRow()
        for key, _, _ in COLUMNS:
            value = row.cell(key)
            if isinstance(value, bool):
                value = translate("yes") if value else ""
            if isinstance(value, float | int):
                cell = TableCell(valuetype="float", value=value, stylename=top)
                cell.addElement(P(text=f"{value:g}"))
            elif value is None or value == "":
                cell = TableCell()
            else:
                cell = TableCell(valuetype="string", stylename=wrap)
                for paragraph in str(_text(value)).split("\n"):
                    cell.addElement(P(text=paragraph))
            line.addElement(cell)
        table.addElement(line)
    document.spreadsheet.addElement(table)
    document.meta.addElement(_meta_title(export.title))
    output = io.BytesIO()
    document.write(output)
    return output.getvalue()


def _ods_print_layout(document: OpenDocumentSpreadsheet, export: EditionExport) -> Style:
    """Printed as the XLSX is: A4 landscape, scaled to one page wide (as many pages down as it
    takes), the edition (and DRAFT) in the page header, "Page X of Y" in the footer. Returns
    the table's style, which names the master page with this layout."""
    layout = PageLayout(name="landscape")
    properties = a4_landscape()
    # One page wide, any number of pages high: LibreOffice's attributes (ODF 1.3 has them as
    # style:scale-to-X/Y; odfpy writes ODF 1.2, where LibreOffice reads them as loext).
    properties.setAttrNS(LOEXTNS, "scale-to-X", "1")
    properties.setAttrNS(LOEXTNS, "scale-to-Y", "0")
    layout.addElement(properties)
    # Calc prints a page header and footer only when the layout gives them a style.
    for kind in (HeaderStyle, FooterStyle):
        space = kind()
        space.addElement(HeaderFooterProperties(minheight="0.6cm", margin="0.2cm"))
        layout.addElement(space)
    document.automaticstyles.addElement(layout)
    master = MasterPage(name="Default", pagelayoutname=layout)
    # Calc's page regions: the title at the left, DRAFT and the page numbers at the right.
    header = Header()
    left = RegionLeft()
    left.addElement(P(text=export.title))
    header.addElement(left)
    if export.draft:
        right = RegionRight()
        right.addElement(P(text=export.texts["draft"]))
        header.addElement(right)
    master.addElement(header)
    footer = Footer()
    bottom = P()
    add_page_numbers(bottom, export.texts["page"])
    corner = RegionRight()
    corner.addElement(bottom)
    footer.addElement(corner)
    master.addElement(footer)
    document.masterstyles.addElement(master)
    table_style = Style(name="sheet", family="table", masterpagename=master)
    table_style.addElement(TableProperties(display="true"))
    document.automaticstyles.addElement(table_style)
    return table_style


def _meta_title(title: str) -> Title:
    return Title(text=title)


# -- the factsheet -----------------------------------------------------------------------------


def _row_flags(row: DocxRow, *, header: bool = False) -> None:
    """A table row never split across pages; the header row repeated on every page."""
    properties = row._tr.get_or_add_trPr()
    properties.append(OxmlElement("w:cantSplit"))
    if header:
        properties.append(OxmlElement("w:tblHeader"))


def render_docx(export: EditionExport) -> bytes:
    """The factsheet as a Word document: title and facts, a notice for a draft, the figures as
    a table (a part indented under its figure, "of which"), each figure's footnotes under it,
    the chains; A4 portrait, the edition (and DRAFT for a draft) in the page header, "Page X
    of Y" in the footer; the table's header row repeats on every page and no row is split."""
    texts = export.texts
    document = Document()
    style = document.styles["Normal"]
    style.font.name = "Arial"
    style.font.size = Pt(10)
    section = document.sections[0]
    # A4 portrait (python-docx's template is US Letter), 2.5 cm margins: 16 cm for the table.
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(25)
    section.top_margin = section.bottom_margin = Mm(20)
    section.header_distance = section.footer_distance = Mm(10)
    usable = Mm(210 - 50)
    header = section.header.paragraphs[0]
    header.paragraph_format.tab_stops.add_tab_stop(usable, WD_TAB_ALIGNMENT.RIGHT)
    header.add_run(export.title).font.size = Pt(8)
    if export.draft:
        mark = header.add_run("\t" + texts["draft"])
        mark.bold = True
        mark.font.color.rgb = RGBColor(0xA9, 0x00, 0x61)
    # "Page X of Y" at the right margin, as in the PDF and the progress table's documents.
    footer = section.footer.paragraphs[0]
    footer.style = document.styles["Footer"]
    footer.style.font.size = Pt(8)  # the page numbers' fields too, which have no runs of ours
    footer.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    page_numbers(footer, texts["page"])
    if export.draft:
        notice = document.add_paragraph()
        run = notice.add_run(texts["draft"] + " ")
        run.bold = True
        run.font.color.rgb = RGBColor(0xA9, 0x00, 0x61)
        notice.add_run(texts["draft_notice"] % {"state": export.state_label})
    document.add_heading(export.title, level=1)
    facts = document.add_paragraph()
    for label, value in (
        (texts["publisher"], export.publisher),
        (texts["area"], export.area),
        (texts["years"], export.years),
        (texts["source"], export.source_document),
    ):
        if value:
            if facts.runs:
                facts.add_run().add_break()
            facts.add_run(f"{label}: ").bold = True
            facts.add_run(value)
    if export.introduction:
        document.add_paragraph(export.introduction)
    document.add_heading(texts["figures"], level=2)
    table = document.add_table(rows=1, cols=4)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    _row_flags(table.rows[0], header=True)
    for cell, text in zip(
        table.rows[0].cells,
        (texts["figure"], texts["area"], texts["years"], texts["value"]),
        strict=True,
    ):
        cell.paragraphs[0].add_run(text).bold = True
    for row in export.figures:
        line = table.add_row()
        _row_flags(line)
        cells = line.cells
        first = cells[0].paragraphs[0]
        if row.level:
            first.paragraph_format.left_indent = Pt(14)
            first.add_run(f"{texts['of_which']} {row.category}")
        else:
            first.add_run(row.indicator).bold = True
        for note in row.notes:
            paragraph = cells[0].add_paragraph()
            run = paragraph.add_run(note)
            run.italic = True
            run.font.size = Pt(8)
        cells[1].paragraphs[0].add_run(row.area)
        cells[2].paragraphs[0].add_run(row.years)
        value = cells[3].paragraphs[0]
        value.add_run(row.printed).bold = not row.level
        if row.markers:
            value.add_run(" " + row.markers).font.superscript = True
    for column, width in zip(table.columns, FACTSHEET_WIDTHS, strict=True):
        column.width = Cm(width)  # the grid, which LibreOffice reads
        for cell in column.cells:
            cell.width = Cm(width)
    for title, caveat, steps in export.chains:
        document.add_heading(title, level=2)
        if caveat:
            document.add_paragraph(caveat).runs[0].italic = True
        for step in steps:
            line = document.add_paragraph(style="List Number")
            line.add_run(f"{step.indicator}: ")
            line.add_run(step.printed).bold = True
    properties = document.core_properties
    properties.title = export.title
    properties.subject = texts["factsheet"]
    properties.content_status = export.state_label
    properties.comments = export.description
    properties.created = properties.modified = export.generated_at.replace(tzinfo=None)
    output = io.BytesIO()
    document.save(output)
    return output.getvalue()


def render_pdf(export: EditionExport) -> bytes:
    return pdf.render_document(
        "monitor.html", "monitor.css", page_text=export.texts["page"], export=export
    )


@dataclass(frozen=True)
class EditionFormat:
    key: str
    media_type: str
    render: Callable[[EditionExport], bytes]


FORMATS = {
    fmt.key: fmt
    for fmt in (
        EditionFormat("xlsx", XLSX_MEDIA_TYPE, render_xlsx),
        EditionFormat("ods", ODS_MEDIA_TYPE, render_ods),
        EditionFormat("docx", DOCX_MEDIA_TYPE, render_docx),
        EditionFormat("pdf", pdf.MEDIA_TYPE, render_pdf),
    )
}


def export_edition(
    session: Session, edition_id: int, *, fmt: str, language: str
) -> tuple[str, str, bytes]:
    """(file name, media type, content): mensenhandelmonitor-2020.pdf; a draft's name ends
    in -concept (-draft)."""
    if fmt not in FORMATS:
        raise InvalidInput(
            translations_for(language).gettext(
                "Unknown export format %(format)s; choose one of: %(formats)s"
            )
            % {"format": repr(fmt), "formats": ", ".join(FORMATS)}
        )
    export = build_edition(session, edition_id, language=language)
    name = slug(export.title)
    if export.draft:
        name += "-" + slug(translations_for(language).gettext("draft"))
    chosen = FORMATS[fmt]
    return f"{name}.{fmt}", chosen.media_type, chosen.render(export)
