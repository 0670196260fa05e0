"""The progress table as an OpenDocument text (odfpy): ODF is the Dutch government's open
standard for documents.

The same layout as the Word document: A4 landscape; programme and period (and DRAFT) in the
page header; the legend and "Page X of Y" (right, on the same line) in the page footer of every
page; the title and state of affairs on the first page with the table under them; each further
action line on a new page; per action line and theme a table whose header row repeats on
every page (`table:table-header-rows`) and whose rows are kept on one page
(`fo:keep-together`), a result's number and title one cell spanning its activities' rows
(`table:number-rows-spanned`). The workflow state and the time the file was made are in the
metadata (meta.xml).
"""

from __future__ import annotations

import re
from functools import partial
from io import BytesIO

from odf import dc, meta
from odf.element import Element, Node
from odf.namespaces import (
    CHARTNS,
    DRAWNS,
    PRESENTATIONNS,
    STYLENS,
    TABLENS,
    TEXTNS,
)
from odf.opendocument import OpenDocument, OpenDocumentText
from odf.style import (
    Footer,
    Header,
    MasterPage,
    PageLayout,
    PageLayoutProperties,
    ParagraphProperties,
    Style,
    TableCellProperties,
    TableColumnProperties,
    TableProperties,
    TableRowProperties,
    TabStop,
    TabStops,
    TextProperties,
)
from odf.table import (
    CoveredTableCell,
    Table,
    TableCell,
    TableColumn,
    TableHeaderRows,
    TableRow,
)
from odf.text import H, P, PageCount, PageNumber, Span, Tab

from app.exports.docx import ANNEX_WIDTHS, WIDTHS, annex_headers
from app.exports.table import ActivityLine, ProgressTable, ResultBlock, ThemeBlock
from app.recommendations.followup import FollowUpReport

MEDIA_TYPE = "application/vnd.oasis.opendocument.text"
FONT = "Liberation Sans"
BORDER = "0.5pt solid #777777"
DRAFT_COLOUR = "#a90061"
MUTED = "#595959"
# The width between the page margins (A4 landscape less 1.5 cm on either side), where the
# header's DRAFT and the footer's page number are set, right-aligned, as in the Word document.
TEXT_WIDTH = "26.7cm"


class _Styles:
    """The automatic and common styles of one document."""

    def __init__(self, document: OpenDocumentText, table: ProgressTable) -> None:
        self.document = document
        language, country = ("nl", "NL") if table.language == "nl" else ("en", "GB")
        default = Style(name="Standard", family="paragraph")
        default.addElement(
            TextProperties(
                fontname=FONT,
                fontfamily=FONT,
                fontsize="8.5pt",
                language=language,
                country=country,
            )
        )
        default.addElement(ParagraphProperties(marginbottom="0.05cm"))
        document.styles.addElement(default)
        self.title = self._paragraph("Title", fontsize="20pt", fontweight="bold", parent=True)
        self.heading1 = self._heading("Heading_20_1", "Heading 1", 1, "14pt")
        self.heading2 = self._heading("Heading_20_2", "Heading 2", 2, "11pt")
        # An action line after the first starts a page.
        self.heading1_new_page = Style(
            name="Heading1NewPage", family="paragraph", parentstylename=self.heading1
        )
        self.heading1_new_page.addElement(ParagraphProperties(breakbefore="page"))
        self._add(self.heading1_new_page)
        self.bold = self._text("Bold", fontweight="bold")
        self.small = self._paragraph("Small", fontsize="7.5pt", color=MUTED)
        self.page_line = self._paragraph("PageLine", fontsize="7.5pt", color=MUTED)
        tabs = TabStops()
        tabs.addElement(TabStop(position=TEXT_WIDTH, type="right"))
        line_properties = ParagraphProperties()
        line_properties.addElement(tabs)
        self.page_line.addElement(line_properties)
        self.draft = self._paragraph(
            "Draft", fontsize="26pt", fontweight="bold", color=DRAFT_COLOUR, center=True
        )
        self.draft_notice = self._paragraph(
            "DraftNotice", fontweight="bold", color=DRAFT_COLOUR, center=True
        )
        self.draft_mark = self._text(
            "DraftMark", fontweight="bold", color=DRAFT_COLOUR, fontsize="10pt"
        )
        self.header_cell = self._cell("HeaderCell", "#d9e6f2")
        self.cell = self._cell("Cell", None)
        self.header_row = self._row("HeaderRow")
        self.row = self._row("Row")
        self.status_cells = {
            entry.status: self._cell(f"Status_{entry.status.value}", entry.colour)
            for entry in table.legend
        }
        self.bold_paragraph = self._paragraph("BoldParagraph", fontweight="bold")
        self.legend_heading = self._paragraph("LegendHeading", fontweight="bold")
        self.legend_heading.addElement(ParagraphProperties(keepwithnext="always"))
        self.italic_paragraph = self._paragraph("ItalicParagraph", fontstyle="italic")
        self.note = self._paragraph("Note")
        self.note.addElement(ParagraphProperties(margintop="0.1cm"))
        self.status_paragraphs = {
            entry.status: self._paragraph(
                f"Status_{entry.status.value}_Text", color=entry.ink, fontweight="bold"
            )
            for entry in table.legend
        }
        # The mark under an unconfirmed status, in the status's ink.
        self.status_marks = {
            entry.status: self._paragraph(
                f"Status_{entry.status.value}_Mark",
                color=entry.ink,
                fontstyle="italic",
                fontsize="7.5pt",
            )
            for entry in table.legend
        }
        self.mark = self._paragraph("Mark", fontstyle="italic", fontsize="7.5pt")
        self.columns = [self._column(f"Column{index}", width) for index, width in enumerate(WIDTHS)]
        self.table = Style(name="ProgressTable", family="table")
        self.table.addElement(TableProperties(width=f"{sum(WIDTHS)}cm", align="left"))
        document.automaticstyles.addElement(self.table)
        self.annex_columns = [
            self._column(f"AnnexColumn{index}", width) for index, width in enumerate(ANNEX_WIDTHS)
        ]
        self.muted = self._paragraph("Muted", color=MUTED)
        self.muted_italic = self._paragraph("MutedItalic", color=MUTED, fontstyle="italic")
        self.legend_column = self._column("LegendColumn", sum(WIDTHS) / len(table.legend))
        self.legend_table = Style(name="LegendTable", family="table")
        self.legend_table.addElement(TableProperties(width=f"{sum(WIDTHS)}cm", align="left"))
        document.automaticstyles.addElement(self.legend_table)

    def _add(self, style: Style, common: bool = False) -> Style:
        (self.document.styles if common else self.document.automaticstyles).addElement(style)
        return style

    def _paragraph(
        self, name: str, *, parent: bool = False, center: bool = False, **text: str
    ) -> Style:
        style = Style(name=name, family="paragraph", parentstylename="Standard")
        style.addElement(TextProperties(**text))
        if center:
            style.addElement(ParagraphProperties(textalign="center"))
        return self._add(style, common=parent)

    def _heading(self, name: str, display: str, level: int, size: str) -> Style:
        style = Style(
            name=name,
            displayname=display,
            family="paragraph",
            parentstylename="Standard",
            defaultoutlinelevel=str(level),
        )
        style.addElement(TextProperties(fontsize=size, fontweight="bold"))
        style.addElement(
            ParagraphProperties(margintop="0.3cm", marginbottom="0.15cm", keepwithnext="always")
        )
        return self._add(style, common=True)

    def _text(self, name: str, **properties: str) -> Style:
        style = Style(name=name, family="text")
        style.addElement(TextProperties(**properties))
        return self._add(style)

    def _cell(self, name: str, fill: str | None) -> Style:
        style = Style(name=name, family="table-cell")
        properties = {"border": BORDER, "padding": "0.08cm"}
        if fill:
            properties["backgroundcolor"] = fill
        style.addElement(TableCellProperties(**properties))
        return self._add(style)

    def _row(self, name: str) -> Style:
        style = Style(name=name, family="table-row")
        style.addElement(TableRowProperties(keeptogether="always", useoptimalrowheight="true"))
        return self._add(style)

    def _column(self, name: str, width: float) -> Style:
        style = Style(name=name, family="table-column")
        style.addElement(TableColumnProperties(columnwidth=f"{width}cm"))
        return self._add(style)


def a4_landscape() -> PageLayoutProperties:
    """An A4 landscape page, 1.2 cm margins above and below, 1.5 cm at the sides (the progress
    table's document and the monitor's spreadsheet)."""
    return PageLayoutProperties(
        pagewidth="29.7cm",
        pageheight="21cm",
        printorientation="landscape",
        margintop="1.2cm",
        marginbottom="1.2cm",
        marginleft="1.5cm",
        marginright="1.5cm",
    )


def add_page_numbers(paragraph: P, template: str) -> None:
    """'Page %(page)s of %(pages)s', translated, with the placeholders as page fields."""
    for piece in re.split(r"(%\(page\)s|%\(pages\)s)", template):
        if piece == "%(page)s":
            paragraph.addElement(PageNumber(selectpage="current", text="1"))
        elif piece == "%(pages)s":
            paragraph.addElement(PageCount(text="1"))
        elif piece:
            paragraph.addText(piece)


def _page(document: OpenDocumentText, styles: _Styles, table: ProgressTable) -> None:
    layout = PageLayout(name="Landscape")
    layout.addElement(a4_landscape())
    document.automaticstyles.addElement(layout)
    master = MasterPage(name="Standard", pagelayoutname=layout)
    header = Header()
    line = P(stylename=styles.page_line, text=table.header_text)
    if table.draft:
        line.addElement(Tab())
        line.addElement(Span(stylename=styles.draft_mark, text=table.texts.draft))
    header.addElement(line)
    master.addElement(header)
    # One line, as in the Word document: the legend, then the page number at the right.
    footer = Footer()
    bottom = P(stylename=styles.page_line)
    bottom.addElement(Span(stylename=styles.bold, text=f"{table.texts.legend}: "))
    bottom.addText("   ".join(f"{entry.symbol} {entry.label}" for entry in table.legend))
    bottom.addElement(Tab())
    add_page_numbers(bottom, table.texts.page)
    footer.addElement(bottom)
    master.addElement(footer)
    document.masterstyles.addElement(master)


# The rows are most of the document. Their elements are made the quick way: no grammar check
# (the names below are fixed and valid), and the style name put straight into the element's
# attributes (odfpy would otherwise run it through its attribute converter, which returns a
# name unchanged); paragraph styles rather than spans.
_CELL_STYLE = (TABLENS, "style-name")
_TEXT_STYLE = (TEXTNS, "style-name")
_ROWS_SPANNED = (TABLENS, "number-rows-spanned")


def _name(style: Style) -> str:
    return style.getAttribute("name")


def _p(text: str, style: str | None = None) -> P:
    paragraph = P(text=text, check_grammar=False)
    if style is not None:
        paragraph.attributes[_TEXT_STYLE] = style
    return paragraph


def _cell(style: str, *paragraphs: P) -> TableCell:
    cell = TableCell(check_grammar=False)
    cell.attributes[_CELL_STYLE] = style
    for paragraph in paragraphs:
        cell.addElement(paragraph, check_grammar=False)
    return cell


# Where an element names a style (what odfpy's OpenDocument._parseoneelement looks for).
_STYLE_REFERENCES = (
    (CHARTNS, "style-name"),
    (DRAWNS, "style-name"),
    (DRAWNS, "text-style-name"),
    (PRESENTATIONNS, "style-name"),
    (STYLENS, "data-style-name"),
    (STYLENS, "list-style-name"),
    (STYLENS, "page-layout-name"),
    (STYLENS, "style-name"),
    (TABLENS, "default-cell-style-name"),
    (TABLENS, "style-name"),
    (TEXTNS, "style-name"),
)


def _used_auto_styles(document: OpenDocument, segments: list[Element]) -> list[Element]:
    """odfpy's OpenDocument._used_auto_styles, the same answer without its cost: it asks every
    element for each of eleven style attributes through getAttrNS, which was a third of the
    time of writing a document. This looks in the elements' attribute dictionaries."""
    used: set[str] = set()
    stack = list(segments)
    while stack:
        node = stack.pop()
        for child in node.childNodes:
            if child.nodeType == Node.ELEMENT_NODE:
                attributes = child.attributes
                if attributes:
                    for reference in _STYLE_REFERENCES:
                        name = attributes.get(reference)
                        if name:
                            used.add(name)
                if child.childNodes:
                    stack.append(child)
    return [
        style
        for style in document.automaticstyles.childNodes
        if isinstance(style, Element) and style.getAttrNS(STYLENS, "name") in used
    ]


class _RowStyles:
    """The style names the rows use, looked up once per document."""

    def __init__(self, styles: _Styles) -> None:
        self.cell = _name(styles.cell)
        self.row = _name(styles.row)
        self.bold = _name(styles.bold_paragraph)
        self.small = _name(styles.small)
        self.status_cells = {key: _name(value) for key, value in styles.status_cells.items()}
        self.status_paragraphs = {
            key: _name(value) for key, value in styles.status_paragraphs.items()
        }
        self.status_marks = {key: _name(value) for key, value in styles.status_marks.items()}
        self.mark = _name(styles.mark)


def _result_cells(names: _RowStyles, result: ResultBlock) -> list[TableCell]:
    """The result's number and title, in its first row, spanning all of its rows."""
    rows = len(result.activities) + (1 if result.note else 0)
    cells = [
        _cell(names.cell, _p(f"{result.number}.", names.bold)),
        _cell(names.cell, _p(result.title, names.bold)),
    ]
    if rows > 1:
        for cell in cells:
            cell.attributes[_ROWS_SPANNED] = str(rows)
    return cells


def _covered() -> CoveredTableCell:
    return CoveredTableCell(check_grammar=False)


def _activity_cells(
    names: _RowStyles, activity: ActivityLine, table: ProgressTable
) -> list[TableCell]:
    label = f"{activity.label}. " if activity.label else ""
    title = [_p(label + activity.title)]
    if table.show_organisations and activity.organisations:
        title.append(_p(table.organisation_names(activity), names.small))
    status_paragraphs = [
        _p(
            f"{activity.symbol} {activity.status_label}",
            names.status_paragraphs[activity.status] if activity.status else names.bold,
        )
    ]
    if activity.unconfirmed_mark:
        # Not stated for the period: said in words (the note under the legend explains it).
        mark_style = names.status_marks[activity.status] if activity.status else names.mark
        status_paragraphs.append(_p(activity.unconfirmed_mark, mark_style))
    status = _cell(
        names.status_cells[activity.status] if activity.status else names.cell,
        *status_paragraphs,
    )
    explanation = [_p(text) for text in activity.paragraphs or [""]]
    return [_cell(names.cell, *title), status, _cell(names.cell, *explanation)]


def _theme_table(
    document: OpenDocumentText,
    styles: _Styles,
    names: _RowStyles,
    theme: ThemeBlock,
    table: ProgressTable,
    index: int,
) -> None:
    grid = Table(name=f"Table{index}", stylename=styles.table)
    for column in styles.columns:
        grid.addElement(TableColumn(stylename=column))
    header_rows = TableHeaderRows()
    header = TableRow(stylename=styles.header_row)
    texts = table.texts
    for text in (texts.number, texts.result, texts.activities, texts.status, texts.explanation):
        header.addElement(_cell(_name(styles.header_cell), _p(text, names.bold)))
    header_rows.addElement(header)
    grid.addElement(header_rows)
    for result in theme.results:
        if result.note:
            row = TableRow(stylename=styles.row)
            for cell in _result_cells(names, result):
                row.addElement(cell)
            note = TableCell(stylename=styles.cell, numbercolumnsspanned=3)
            note.addElement(P(stylename=styles.italic_paragraph, text=result.note))
            row.addElement(note)
            row.addElement(CoveredTableCell())
            row.addElement(CoveredTableCell())
            grid.addElement(row)
        for position, activity in enumerate(result.activities):
            row = TableRow(qattributes={_CELL_STYLE: names.row}, check_grammar=False)
            first = position == 0 and not result.note
            result_cells = _result_cells(names, result) if first else [_covered(), _covered()]
            for cell in (*result_cells, *_activity_cells(names, activity, table)):
                row.addElement(cell, check_grammar=False)
            grid.addElement(row, check_grammar=False)
    document.text.addElement(grid)


def _annex_table(
    document: OpenDocumentText,
    styles: _Styles,
    names: _RowStyles,
    report: FollowUpReport,
    table: ProgressTable,
    index: int,
) -> None:
    """One report's recommendations, in the progress table's look (header row repeated, rows
    kept on one page); the follow-up as symbol and label in bold (the legend has no colours)."""
    grid = Table(name=f"Annex{index}", stylename=styles.table)
    for column in styles.annex_columns:
        grid.addElement(TableColumn(stylename=column))
    header_rows = TableHeaderRows()
    header = TableRow(stylename=styles.header_row)
    for text in annex_headers(table):
        header.addElement(_cell(_name(styles.header_cell), _p(text, names.bold)))
    header_rows.addElement(header)
    grid.addElement(header_rows)
    texts = table.texts
    for line in report.rows:
        row = TableRow(stylename=styles.row)
        status = (
            _p(f"{line.symbol} {line.status_label}", names.bold)
            if line.status_code
            else _p(texts.not_reported, _name(styles.muted_italic))
        )
        response = (
            _p(line.verdict_label) if line.verdict else _p(texts.no_response, _name(styles.muted))
        )
        for cell in (
            _cell(names.cell, _p(line.number, names.bold)),
            _cell(names.cell, _p(line.title, names.bold)),
            _cell(names.cell, *(_p(name) for name in line.addressees or [""])),
            _cell(names.cell, response),
            _cell(names.cell, status),
            _cell(names.cell, *(_p(text) for text in line.paragraphs or [""])),
        ):
            row.addElement(cell)
        grid.addElement(row)
    document.text.addElement(grid)


def _title_block(document: OpenDocumentText, styles: _Styles, table: ProgressTable) -> None:
    texts = table.texts
    body = document.text
    if table.draft:
        body.addElement(P(stylename=styles.draft, text=texts.draft))
        body.addElement(
            P(
                stylename=styles.draft_notice,
                text=texts.draft_notice % {"state": table.period.state_label},
            )
        )
    body.addElement(P(stylename=styles.title, text=table.title))
    body.addElement(P(stylename=styles.bold_paragraph, text=table.state_of_affairs))
    if table.selection:
        body.addElement(P(text=f"{texts.selection}: " + "; ".join(table.selection)))
    body.addElement(P(stylename=styles.legend_heading, text=texts.legend))
    # The legend in one row, each status as its cells in the table show it.
    legend = Table(name="Legend", stylename=styles.legend_table)
    legend.addElement(
        TableColumn(stylename=styles.legend_column, numbercolumnsrepeated=len(table.legend))
    )
    row = TableRow()
    for entry in table.legend:
        row.addElement(
            _cell(
                _name(styles.status_cells[entry.status]),
                _p(f"{entry.symbol} {entry.label}", _name(styles.status_paragraphs[entry.status])),
            )
        )
    legend.addElement(row)
    body.addElement(legend)
    # What the marks by statuses that were not stated for the period mean.
    for note in table.unconfirmed_notes:
        body.addElement(P(stylename=styles.note, text=note))


def _metadata(odt: OpenDocumentText, table: ProgressTable) -> None:
    """What the page does not say: the workflow state and when the file was made."""
    made = table.generated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    odt.meta.addElement(dc.Title(text=table.title))
    odt.meta.addElement(dc.Subject(text=table.period.name))
    odt.meta.addElement(dc.Description(text=table.description))
    odt.meta.addElement(dc.Language(text="nl-NL" if table.language == "nl" else "en-GB"))
    odt.meta.addElement(meta.InitialCreator(text="Voortgang"))
    odt.meta.addElement(meta.CreationDate(text=made))
    odt.meta.addElement(dc.Date(text=made))
    odt.meta.addElement(meta.Keyword(text=table.period.state_label))
    odt.meta.addElement(
        meta.UserDefined(name=table.texts.stage, valuetype="string", text=table.period.state_label)
    )


def document(table: ProgressTable) -> OpenDocument:
    """The document, not yet written (render() writes it)."""
    odt = OpenDocumentText()
    odt._used_auto_styles = partial(_used_auto_styles, odt)  # see there
    styles = _Styles(odt, table)
    names = _RowStyles(styles)
    _page(odt, styles, table)
    _metadata(odt, table)
    _title_block(odt, styles, table)
    if not table.action_lines:
        odt.text.addElement(P(text=table.texts.no_activities))
    index = 0
    for number, line in enumerate(table.action_lines):
        heading = table.texts.action_line_heading % {"number": line.number, "title": line.title}
        # The first action line starts under the title; each further one on a new page.
        style = styles.heading1_new_page if number else styles.heading1
        odt.text.addElement(H(outlinelevel=1, stylename=style, text=heading))
        for theme in line.themes:
            odt.text.addElement(H(outlinelevel=2, stylename=styles.heading2, text=theme.title))
            index += 1
            _theme_table(odt, styles, names, theme, table, index)
    if table.follow_up:
        # The annex "Opvolging aanbevelingen", on a new page.
        style = styles.heading1_new_page if table.action_lines else styles.heading1
        odt.text.addElement(H(outlinelevel=1, stylename=style, text=table.texts.annex_title))
        for number, report in enumerate(table.follow_up, start=1):
            odt.text.addElement(H(outlinelevel=2, stylename=styles.heading2, text=report.title))
            _annex_table(odt, styles, names, report, table, number)
    return odt


def render(table: ProgressTable) -> bytes:
    buffer = BytesIO()
    document(table).write(buffer)
    return buffer.getvalue()
