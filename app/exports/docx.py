"""The progress table as a Word document (python-docx): the annex to the letter to Parliament.

A4 landscape; the programme and period in the page header (with DRAFT for a period that is
not published), the legend and "Page X of Y" (right) in the page footer of every page; the
title "Programme results <programme>" and the state of affairs on the first page, with the
table starting under them; each further action line on a new page; per action line and theme
a table Nr. | Result (objective) | Activities / products | State of affairs | Explanation whose
header row repeats on every page (`w:tblHeader`) and whose rows never split across pages
(`w:cantSplit`); a result's number and title are one cell, merged down over its activities
(`w:vMerge`). The workflow state and the time the file was made are in the core properties.
"""

from __future__ import annotations

import re
from io import BytesIO
from xml.sax.saxutils import escape

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.shared import Cm, Mm, Pt, RGBColor
from docx.table import _Cell
from docx.text.paragraph import Paragraph

from app.exports.table import ActivityLine, ProgressTable, ResultBlock, ThemeBlock
from app.recommendations.followup import FollowUpReport

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# Column widths (cm) of the five columns, 26.7 cm in all (A4 landscape less 1.5 cm margins).
WIDTHS = (1.1, 5.2, 5.6, 3.6, 11.2)
# The annex "Opvolging aanbevelingen": Nr. | Recommendation | Addressees | Government response |
# Follow-up | Explanation, 26.7 cm as well.
ANNEX_WIDTHS = (1.1, 6.2, 4.6, 2.8, 3.2, 8.8)
MUTED = "595959"  # 7:1 on white
HEADER_FILL = "D9E6F2"
FONT = "Arial"


def _set(element: BaseOxmlElement, tag: str, **attributes: str) -> BaseOxmlElement:
    """Append <tag attributes/> to an oxml element and return it."""
    child = OxmlElement(tag)
    for name, value in attributes.items():
        child.set(qn(f"w:{name}"), value)
    element.append(child)
    return child


def _shade(cell: _Cell, fill: str) -> None:
    _set(cell._tc.get_or_add_tcPr(), "w:shd", val="clear", color="auto", fill=fill.lstrip("#"))


def _field(paragraph: Paragraph, instruction: str) -> None:
    """A simple field (PAGE, NUMPAGES) that Word fills in when it lays out the pages."""
    field = _set(paragraph._p, "w:fldSimple", instr=f" {instruction} ")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)


def page_numbers(paragraph: Paragraph, template: str) -> None:
    """'Page %(page)s of %(pages)s', translated, with the placeholders as fields."""
    for piece in re.split(r"(%\(page\)s|%\(pages\)s)", template):
        if piece == "%(page)s":
            _field(paragraph, "PAGE")
        elif piece == "%(pages)s":
            _field(paragraph, "NUMPAGES")
        elif piece:
            paragraph.add_run(piece)


def _setup(document: DocxDocument, table: ProgressTable) -> None:
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    section.left_margin = section.right_margin = Mm(15)
    section.top_margin, section.bottom_margin = Mm(18), Mm(18)
    section.header_distance = section.footer_distance = Mm(8)

    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(8.5)
    normal.paragraph_format.space_after = Pt(2)
    # The document language, for spelling and screen readers.
    defaults = document.styles.element.find(qn("w:docDefaults"))
    run_defaults = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    language = run_defaults.find(qn("w:lang"))
    if language is None:
        language = _set(run_defaults, "w:lang")
    tag = "nl-NL" if table.language == "nl" else "en-GB"
    language.set(qn("w:val"), tag)
    language.set(qn("w:eastAsia"), tag)
    # The headings as in the ODT and PDF: Arial, black, bold; python-docx's template gives them
    # the theme's font (which wins over a font name), colours and, for the title, a rule.
    for name, size, before, after in (
        ("Title", 20, 0, 4),
        ("Heading 1", 14, 6, 4),
        ("Heading 2", 11, 6, 3),
    ):
        style = document.styles[name]
        fonts = style.element.rPr.rFonts
        for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            fonts.attrib.pop(qn(theme), None)
        style.font.name = FONT
        style.font.size = Pt(size)
        style.font.bold = True
        style.font.color.rgb = RGBColor(0, 0, 0)
        style.paragraph_format.space_before = Pt(before)
        style.paragraph_format.space_after = Pt(after)
    title = document.styles["Title"].element.pPr
    for rule in title.findall(qn("w:pBdr")):
        title.remove(rule)

    # What the page does not say: the workflow state and when the file was made.
    properties = document.core_properties
    properties.title = table.title
    properties.subject = table.period.name
    properties.content_status = table.period.state_label
    properties.comments = table.description
    properties.author = properties.last_modified_by = "Voortgang"
    properties.language = tag
    properties.created = properties.modified = table.generated_at
    properties.revision = 1

    usable = Mm(297 - 30)
    header = section.header.paragraphs[0]
    header.paragraph_format.tab_stops.add_tab_stop(usable, WD_TAB_ALIGNMENT.RIGHT)
    header.add_run(table.header_text).font.size = Pt(8)
    if table.draft:
        header.add_run("\t")
        mark = header.add_run(table.texts.draft)
        mark.bold = True
        mark.font.size = Pt(10)
        mark.font.color.rgb = RGBColor(0xA9, 0x00, 0x61)

    footer = section.footer.paragraphs[0]
    footer.paragraph_format.tab_stops.add_tab_stop(usable, WD_TAB_ALIGNMENT.RIGHT)
    legend = footer.add_run(
        f"{table.texts.legend}: "
        + "   ".join(f"{entry.symbol} {entry.label}" for entry in table.legend)
        + "\t"
    )
    legend.font.size = Pt(7)
    page_numbers(footer, table.texts.page)


def _title_block(document: DocxDocument, table: ProgressTable) -> None:
    texts = table.texts
    if table.draft:
        notice = document.add_paragraph()
        notice.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = notice.add_run(texts.draft)
        run.bold = True
        run.font.size = Pt(28)
        run.font.color.rgb = RGBColor(0xA9, 0x00, 0x61)
        line = document.add_paragraph()
        line.alignment = WD_ALIGN_PARAGRAPH.CENTER
        line.add_run(texts.draft_notice % {"state": table.period.state_label}).bold = True
    document.add_paragraph(table.title, style="Title")
    document.add_paragraph().add_run(table.state_of_affairs).bold = True
    if table.selection:
        document.add_paragraph(f"{texts.selection}: " + "; ".join(table.selection))
    heading = document.add_paragraph()
    heading.paragraph_format.keep_with_next = True
    heading.add_run(texts.legend).bold = True
    # The legend in one row, each status as its cells in the table show it.
    legend = document.add_table(rows=1, cols=len(table.legend))
    legend.alignment = WD_TABLE_ALIGNMENT.LEFT
    legend.style = "Table Grid"
    legend.autofit = False
    width = Cm(sum(WIDTHS) / len(table.legend))
    for column in legend.columns:
        column.width = width
    for entry, cell in zip(table.legend, legend.rows[0].cells, strict=True):
        cell.width = width
        ink = RGBColor.from_string(entry.ink.lstrip("#").upper())
        paragraph = cell.paragraphs[0]
        run = paragraph.add_run(f"{entry.symbol} {entry.label}")
        run.bold = True
        run.font.color.rgb = ink
        _shade(cell, entry.colour)
    # What the marks by statuses that were not stated for the period mean.
    for note in table.unconfirmed_notes:
        document.add_paragraph(note).paragraph_format.space_before = Pt(3)


# --- The progress tables, as WordprocessingML ---------------------------------------------
# python-docx's run API looks up and creates properties element by element; the tables (most
# of the document) are written as XML text and parsed once per table by python-docx's own
# parser: the same elements, a fraction of the time.

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_TWIPS_PER_CM = 567


def _xml_text(text: str) -> str:
    return escape(_INVALID_XML.sub("", text))


def _run(text: str, *, bold: bool = False, italic: bool = False, colour: str = "",
         size: float = 0) -> str:  # fmt: skip
    properties = (
        ("<w:b/>" if bold else "")
        + ("<w:i/>" if italic else "")
        + (f'<w:color w:val="{colour}"/>' if colour else "")
        + (f'<w:sz w:val="{round(size * 2)}"/>' if size else "")
    )
    return (
        f"<w:r>{f'<w:rPr>{properties}</w:rPr>' if properties else ''}"
        f'<w:t xml:space="preserve">{_xml_text(text)}</w:t></w:r>'
    )


def _paragraph(*runs: str, keep_with_next: bool = False) -> str:
    properties = "<w:pPr><w:keepNext/></w:pPr>" if keep_with_next else ""
    return f"<w:p>{properties}{''.join(runs)}</w:p>"


def _cell(width: float, *paragraphs: str, fill: str = "", span: int = 1, merge: str = "") -> str:
    """A table cell; `merge` "restart" begins a cell merged down over the next rows, "continue"
    is one of those further rows (Word shows the first one's content)."""
    properties = f'<w:tcW w:w="{round(width * _TWIPS_PER_CM)}" w:type="dxa"/>'
    if span > 1:
        properties += f'<w:gridSpan w:val="{span}"/>'
    if merge:
        properties += f'<w:vMerge w:val="{merge}"/>'
    if fill:
        properties += f'<w:shd w:val="clear" w:color="auto" w:fill="{fill.lstrip("#")}"/>'
    return f"<w:tc><w:tcPr>{properties}</w:tcPr>{''.join(paragraphs) or '<w:p/>'}</w:tc>"


def _row(*cells: str, header: bool = False) -> str:
    flags = "<w:cantSplit/>" + ("<w:tblHeader/>" if header else "")
    return f"<w:tr><w:trPr>{flags}</w:trPr>{''.join(cells)}</w:tr>"


def _result_cells(result: ResultBlock, first: bool) -> list[str]:
    """The result's number and title: written in its first row, merged down over the rest."""
    if not first:
        return [_cell(WIDTHS[0], merge="continue"), _cell(WIDTHS[1], merge="continue")]
    return [
        _cell(WIDTHS[0], _paragraph(_run(f"{result.number}.", bold=True)), merge="restart"),
        _cell(WIDTHS[1], _paragraph(_run(result.title, bold=True)), merge="restart"),
    ]


def _activity_cells(activity: ActivityLine, table: ProgressTable, inks: dict) -> list[str]:
    label = f"{activity.label}. " if activity.label else ""
    title = [_paragraph(_run(label + activity.title))]
    if table.show_organisations and activity.organisations:
        title.append(_paragraph(_run(table.organisation_names(activity), colour=MUTED, size=7.5)))
    fill, ink = inks.get(activity.status, ("", ""))
    status = [_paragraph(_run(f"{activity.symbol} {activity.status_label}", bold=True, colour=ink))]
    if activity.unconfirmed_mark:
        # Not stated for the period: said in words, under the status (the note under the
        # legend explains it).
        status.append(
            _paragraph(_run(activity.unconfirmed_mark, italic=True, colour=ink, size=7.5))
        )
    explanation = [_paragraph(_run(text)) for text in activity.paragraphs]
    return [
        _cell(WIDTHS[2], *title),
        _cell(WIDTHS[3], *status, fill=fill),
        _cell(WIDTHS[4], *explanation),
    ]


def _theme_table(theme: ThemeBlock, table: ProgressTable, inks: dict) -> str:
    texts = table.texts
    headers = (texts.number, texts.result, texts.activities, texts.status, texts.explanation)
    rows = [
        _row(
            *(
                _cell(width, _paragraph(_run(text, bold=True)), fill=HEADER_FILL)
                for width, text in zip(WIDTHS, headers, strict=True)
            ),
            header=True,
        )
    ]
    for result in theme.results:
        if result.note:
            # Kept with the result's first activity (Word keeps a row whose paragraphs are
            # "keep with next" on the page of the next row).
            note = _cell(
                sum(WIDTHS[2:]),
                _paragraph(_run(result.note, italic=True), keep_with_next=True),
                span=len(WIDTHS) - 2,
            )
            rows.append(_row(*_result_cells(result, True), note))
        for index, activity in enumerate(result.activities):
            first = index == 0 and not result.note
            rows.append(
                _row(*_result_cells(result, first), *_activity_cells(activity, table, inks))
            )
    grid = "".join(f'<w:gridCol w:w="{round(w * _TWIPS_PER_CM)}"/>' for w in WIDTHS)
    return (
        f"<w:tbl {nsdecls('w')}><w:tblPr>"
        '<w:tblStyle w:val="TableGrid"/>'
        f'<w:tblW w:w="{round(sum(WIDTHS) * _TWIPS_PER_CM)}" w:type="dxa"/>'
        '<w:tblLayout w:type="fixed"/><w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" '
        'w:firstColumn="1" w:lastColumn="0" w:noHBand="0" w:noVBand="1"/></w:tblPr>'
        f"<w:tblGrid>{grid}</w:tblGrid>{''.join(rows)}</w:tbl>"
    )


def annex_headers(table: ProgressTable) -> tuple[str, ...]:
    texts = table.texts
    return (
        texts.number,
        texts.recommendation,
        texts.addressees,
        texts.response,
        texts.follow_up,
        texts.explanation,
    )


def _annex_table(report: FollowUpReport, table: ProgressTable) -> str:
    """One report's recommendations: the progress table's look (header row repeated, rows
    not split), the follow-up as symbol and label in bold (the legend has no colours)."""
    texts = table.texts
    widths = ANNEX_WIDTHS
    rows = [
        _row(
            *(
                _cell(width, _paragraph(_run(text, bold=True)), fill=HEADER_FILL)
                for width, text in zip(widths, annex_headers(table), strict=True)
            ),
            header=True,
        )
    ]
    for line in report.rows:
        status = (
            _run(f"{line.symbol} {line.status_label}", bold=True)
            if line.status_code
            else _run(texts.not_reported, italic=True, colour=MUTED)
        )
        response = (
            _run(line.verdict_label) if line.verdict else _run(texts.no_response, colour=MUTED)
        )
        rows.append(
            _row(
                _cell(widths[0], _paragraph(_run(line.number, bold=True))),
                _cell(widths[1], _paragraph(_run(line.title, bold=True))),
                _cell(widths[2], *(_paragraph(_run(name)) for name in line.addressees)),
                _cell(widths[3], _paragraph(response)),
                _cell(widths[4], _paragraph(status)),
                _cell(widths[5], *(_paragraph(_run(text)) for text in line.paragraphs)),
            )
        )
    grid = "".join(f'<w:gridCol w:w="{round(w * _TWIPS_PER_CM)}"/>' for w in widths)
    return (
        f"<w:tbl {nsdecls('w')}><w:tblPr>"
        '<w:tblStyle w:val="TableGrid"/>'
        f'<w:tblW w:w="{round(sum(widths) * _TWIPS_PER_CM)}" w:type="dxa"/>'
        '<w:tblLayout w:type="fixed"/><w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" '
        'w:firstColumn="1" w:lastColumn="0" w:noHBand="0" w:noVBand="1"/></w:tblPr>'
        f"<w:tblGrid>{grid}</w:tblGrid>{''.join(rows)}</w:tbl>"
    )


def _annex(document: DocxDocument, table: ProgressTable) -> None:
    """The annex "Opvolging aanbevelingen" on a new page: per report a heading and a table."""
    if not table.follow_up:
        return
    heading = document.add_paragraph(table.texts.annex_title, style="Heading 1")
    heading.paragraph_format.page_break_before = bool(table.action_lines)
    heading.paragraph_format.keep_with_next = True
    body = document.element.body
    for report in table.follow_up:
        document.add_paragraph(
            report.title, style="Heading 2"
        ).paragraph_format.keep_with_next = True
        body.sectPr.addprevious(parse_xml(_annex_table(report, table)))


def render(table: ProgressTable) -> bytes:
    document = Document()
    _setup(document, table)
    _title_block(document, table)
    # Fill and text colour of each status (the legend's, chosen for contrast).
    inks = {entry.status: (entry.colour, entry.ink.lstrip("#").upper()) for entry in table.legend}
    body = document.element.body
    if not table.action_lines:
        document.add_paragraph(table.texts.no_activities)
    for index, line in enumerate(table.action_lines):
        heading = table.texts.action_line_heading % {"number": line.number, "title": line.title}
        # The first action line starts under the title; each further one on a new page.
        paragraph = document.add_paragraph(heading, style="Heading 1")
        paragraph.paragraph_format.page_break_before = index > 0
        paragraph.paragraph_format.keep_with_next = True
        for theme in line.themes:
            document.add_paragraph(
                theme.title, style="Heading 2"
            ).paragraph_format.keep_with_next = True
            body.sectPr.addprevious(parse_xml(_theme_table(theme, table, inks)))
    _annex(document, table)
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()
