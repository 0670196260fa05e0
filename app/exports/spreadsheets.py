"""The progress table as a spreadsheet, one row per activity, in the columns of
app/exports/columns.py: XLSX (XlsxWriter) and ODS (OpenDocument, written directly).

Both have the column labels in the export's language as the header row, frozen, with an
autofilter; typed columns (numbers as numbers, the last change as a real date and time, UTC);
widths to read by; the explanation wrapped; the status as the legend's label, with a list of
the seven labels to choose from when editing (the file is also the template for a bulk update).
Text that starts with =, +, - or @ is stored as text with an apostrophe in front, so no formula
runs when the file is opened.

Why ODS is written directly: odfpy and odswriter build a Python object (or DOM node) per cell
and take 10 to 20 seconds for the 100× programme (166,000 cells); the OpenDocument XML written
with the standard library's escaping and zipfile takes a fraction of a second. The format is
small and fixed: a manifest, the content with its automatic styles, the settings that freeze
the header row, the database range that carries the autofilter, and the page layout.

Printed, both are A4 landscape, scaled to one page wide, with the header row on every page.
"""

from __future__ import annotations

import re
import zipfile
from datetime import datetime
from io import BytesIO
from xml.sax.saxutils import escape, quoteattr

import xlsxwriter

from app.exports.columns import COLUMNS, KEYS
from app.exports.table import ProgressTable
from app.i18n import translations_for
from app.text import neutralise

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODS_MEDIA_TYPE = "application/vnd.oasis.opendocument.spreadsheet"

# Column widths in characters, by key; the explanation wraps.
WIDTHS = {
    "activity_id": 10,
    "version": 8,
    "action_line": 9,
    "action_line_title": 30,
    "theme": 26,
    "result_number": 10,
    "result": 36,
    "activity_label": 10,
    "activity": 42,
    "status": 28,
    "unconfirmed": 24,
    "explanation": 90,
    "organisations": 26,
    "last_change": 17,
}
WRAPPED = {"explanation", "result", "activity"}
# The annex "Opvolging aanbevelingen", a sheet of its own: report, number, recommendation,
# addressees, government response, follow-up (symbol and label), explanation; all text.
ANNEX_WIDTHS = (30, 6, 44, 34, 18, 24, 80)
ANNEX_WRAPPED = {0, 2, 3, 6}


def annex_labels(table: ProgressTable) -> list[str]:
    texts = table.texts
    return [
        translations_for(table.language).gettext("Report"),
        texts.number,
        texts.recommendation,
        texts.addressees,
        texts.response,
        texts.follow_up,
        texts.explanation,
    ]


def annex_rows(table: ProgressTable) -> list[tuple[str, ...]]:
    """One row per recommendation, in the reports' order, formulas neutralised; an empty
    follow-up cell: nothing reported for the period."""
    return [
        tuple(
            neutralise(value)
            for value in (
                report.title,
                line.number,
                line.title,
                line.addressees_text,
                line.verdict_label,
                f"{line.symbol} {line.status_label}" if line.status_code else "",
                line.explanation,
            )
        )
        for report in table.follow_up
        for line in report.rows
    ]


def _annex_lines(row: tuple[str, ...]) -> int:
    """How many lines the row's longest wrapped cell takes (wrapped_lines)."""
    return max(
        wrapped_lines(value, ANNEX_WIDTHS[index]) if index in ANNEX_WRAPPED else 1
        for index, value in enumerate(row)
    )


def _annex_sheet_name(table: ProgressTable) -> str:
    return table.texts.annex_title[:31]


# Row heights. LibreOffice lays out an XLSX row's wrapped text only when the row's height is
# stored (a row without one stays one line high and its lines overprint the rows below, on
# screen and in print); Excel grows such a row on opening, but keeps a stored height. So every
# row gets the height of its longest wrapped cell, estimated: the text wrapped at word
# boundaries (greedily, as both programs do) into lines of the column's width in characters
# (a column width is the number of digits "0" of the default font, Calibri 11, that fit; an
# average letter of running text is about 0.83 of a digit, so a line holds about 1.2 times
# its width in letters; the estimate takes 1.15, to err on the tall side: some space under a
# text rather than lines overprinted), a word longer than a line broken over as many lines as
# it takes; a line of Calibri 11 is 15 points.
LINE_HEIGHT = 15.0  # points, one line of the default font (Calibri 11; Carlito in LibreOffice)
LETTERS_PER_WIDTH = 1.15  # letters of running text on a line, per character of column width
HEADER_LETTER = 1.2  # a bold header letter, in widths of a digit "0" (capitals are wider)


def wrapped_lines(text: str, width: float) -> int:
    """How many lines `text` takes wrapped in a column `width` characters wide (a line holds
    LETTERS_PER_WIDTH letters per character): each paragraph (line break) on lines of its own,
    words placed greedily, a word longer than a line broken."""
    capacity = max(int(width * LETTERS_PER_WIDTH), 1)
    lines = 0
    for paragraph in text.split("\n"):
        used = 0  # characters on the current line; 0: no line begun
        lines += 1
        for word in paragraph.split():
            length = len(word)
            if used and used + 1 + length <= capacity:
                used += 1 + length
                continue
            if used:
                lines += 1
            # A word longer than a line takes whole lines, and its rest begins the next one.
            full, used = divmod(length, capacity)
            if used == 0:
                used = capacity
                full -= 1
            lines += full
    return lines


def row_height(texts: list[tuple[str, float]]) -> float:
    """The height in points of a row with these (text, column width) wrapped cells."""
    return LINE_HEIGHT * max([wrapped_lines(text, width) for text, width in texts] + [1])


def header_width(labels: list[str], width: float) -> float:
    """A column's width: `width`, or more, so that no word of its header (in any of
    `labels`, one per language the sheet is read in) is broken when the header wraps."""
    longest = max((len(word) for label in labels for word in label.split()), default=0)
    return max(width, float(int(longest * HEADER_LETTER + 0.999) + 1))


def header_height(labels: list[str], widths: list[float]) -> float:
    """The height in points of a header row of bold `labels` wrapped in columns `widths`."""
    return LINE_HEIGHT * max(
        [
            wrapped_lines(label, width / HEADER_LETTER / LETTERS_PER_WIDTH)
            for label, width in zip(labels, widths, strict=True)
        ]
        + [1]
    )


def _sheet_name(table: ProgressTable) -> str:
    return translations_for(table.language).gettext("Activities")[:31]


def _labels(table: ProgressTable) -> list[str]:
    translations = translations_for(table.language)
    return [translations.gettext(column.label) for column in COLUMNS]


# --- XLSX ------------------------------------------------------------------------------------


_EXCEL_EPOCH = datetime(1899, 12, 30)


def _excel_serial(moment: datetime) -> str:
    """A date and time as Excel's serial number (days since 1899-12-30), in UTC."""
    delta = moment.replace(tzinfo=None) - _EXCEL_EPOCH
    return repr(delta.days + delta.seconds / 86400 + delta.microseconds / 86_400_000_000)


def _widths(labels: list[str]) -> list[float]:
    """The columns' widths in characters: WIDTHS, widened where a header word is longer."""
    return [
        header_width([label], WIDTHS.get(column.key, 14))
        for column, label in zip(COLUMNS, labels, strict=True)
    ]


def _xlsx_rows(
    table: ProgressTable, styles: list[int], strings: dict[str, int], widths: list[float]
) -> tuple[str, int, int]:
    """The data rows as SpreadsheetML (<row> elements, each with the height its wrapped text
    takes: `row_height`), their number, and the number of text cells. Texts go into the
    shared string table `strings` (text → index, in order), as XlsxWriter's own cells do:
    titles, statuses, organisations and often explanations repeat from row to row, and a
    repeated text is then written (and compressed) once."""
    kinds = [column.kind for column in COLUMNS]
    wrapped = [
        (index, widths[index]) for index, column in enumerate(COLUMNS) if column.key in WRAPPED
    ]
    letters = [_column_letter(index) for index in range(len(COLUMNS))]
    # The XML after a text cell's reference, per column and text.
    tails: dict[tuple[int, str], str] = {}
    parts: list[str] = []
    append = parts.append
    number = 1
    references = 0
    for number, values in enumerate(table.column_rows(), start=2):  # noqa: B007
        height = row_height([(values[index] or "", width) for index, width in wrapped])
        cells = [f'<row r="{number}" ht="{height:g}" customHeight="1">']
        for index, value in enumerate(values):
            if value is None or value == "":
                continue
            kind = kinds[index]
            if kind == "text":
                references += 1
                tail = tails.get((index, value))
                if tail is None:
                    text = neutralise(value)
                    position = strings.get(text)
                    if position is None:
                        position = strings[text] = len(strings)
                    tail = tails[index, value] = (
                        f'" s="{styles[index]}" t="s"><v>{position}</v></c>'
                    )
                cells.append(f'<c r="{letters[index]}{number}{tail}')
            elif kind == "integer":
                cells.append(
                    f'<c r="{letters[index]}{number}" s="{styles[index]}"><v>{value}</v></c>'
                )
            else:
                cells.append(
                    f'<c r="{letters[index]}{number}" s="{styles[index]}">'
                    f"<v>{_excel_serial(value)}</v></c>"
                )
        cells.append("</row>")
        append("".join(cells))
    return "".join(parts), number - 1, references


_SST_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
)


# Excel reads _xHHHH_ in a text as an escaped character; a literal one is kept by escaping its
# underscore (_x005F_), as XlsxWriter does.
_EXCEL_ESCAPE = re.compile("(_x[0-9a-fA-F]{4}_)")


def _xlsx_text(value: str) -> str:
    return _text(_EXCEL_ESCAPE.sub(r"_x005F\1", value))


def _shared_strings(strings: dict[str, int], references: int) -> bytes:
    """The shared string table (xl/sharedStrings.xml) of `strings`, in their order."""
    items = "".join(f'<si><t xml:space="preserve">{_xlsx_text(text)}</t></si>' for text in strings)
    return f'{_SST_HEAD}count="{references}" uniqueCount="{len(strings)}">{items}</sst>'.encode()


def _xlsx_annex(
    workbook: xlsxwriter.Workbook,
    table: ProgressTable,
    header: xlsxwriter.format.Format,
    wrapped: xlsxwriter.format.Format,
    plain: xlsxwriter.format.Format,
) -> None:
    """The annex sheet, cell by cell (a few dozen rows), in the order annex_rows() gives:
    the shared strings follow that order (render_xlsx relies on it)."""
    sheet = workbook.add_worksheet(_annex_sheet_name(table))
    for index, width in enumerate(ANNEX_WIDTHS):
        sheet.set_column(index, index, width, wrapped if index in ANNEX_WRAPPED else plain)
    for index, label in enumerate(annex_labels(table)):
        sheet.write_string(0, index, label, header)
    rows = annex_rows(table)
    for number, row in enumerate(rows, start=1):
        # Excel works out a wrapped row's height when it opens the file, LibreOffice does
        # not: each row gets the height of its longest cell's lines (about 1.1 characters
        # of the column's width per character of text).
        sheet.set_row(number, LINE_HEIGHT * _annex_lines(row))
        for index, value in enumerate(row):
            if value:
                sheet.write_string(number, index, value)
    sheet.freeze_panes(1, 0)
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(0)
    sheet.autofilter(0, 0, max(len(rows), 1), len(ANNEX_WIDTHS) - 1)


def render_xlsx(table: ProgressTable) -> bytes:
    """XlsxWriter writes the workbook: styles, the header row, column widths and formats, the
    frozen header, the autofilter, the list of statuses, the properties. The data rows are
    then written into its worksheet as SpreadsheetML: XlsxWriter's per-cell calls cost about
    6 µs a cell, 1 s for the 100× programme's 166,000 cells; the rows written directly take a
    fifth of that. The cells are the same a cell-by-cell write gives: numbers, shared strings
    (the shared string table is written anew with the header's and the data's texts), dates
    as serial numbers with a date format."""
    buffer = BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            # Every string is written as a string: never read as a formula, URL or number.
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "remove_timezone": True,  # the times are UTC; Excel has no time zones
        },
    )
    workbook.set_properties(
        {"title": table.title, "author": "Voortgang", "created": table.generated_at}
    )
    sheet = workbook.add_worksheet(_sheet_name(table))
    header = workbook.add_format({"bold": True, "bg_color": "#D9E6F2", "text_wrap": True})
    wrapped = workbook.add_format({"text_wrap": True, "valign": "top"})
    plain = workbook.add_format({"valign": "top"})
    moment = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm", "valign": "top"})
    formats = [
        moment if column.kind == "datetime" else wrapped if column.key in WRAPPED else plain
        for column in COLUMNS
    ]
    labels = _labels(table)
    widths = _widths(labels)
    for index, width in enumerate(widths):
        sheet.set_column(index, index, width, formats[index])
    for index, label in enumerate(labels):
        sheet.write_string(0, index, label, header)
    sheet.set_row(0, header_height(labels, widths))
    annex = [tuple(annex_labels(table)), *annex_rows(table)] if table.follow_up else []
    count = table.activity_count
    last_row = max(count, 1)
    sheet.freeze_panes(1, 0)
    # Printed: A4 landscape, one page wide, the header row on every page.
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(0)
    sheet.autofilter(0, 0, last_row, len(COLUMNS) - 1)
    status_column = KEYS.index("status")
    sheet.data_validation(
        1,
        status_column,
        last_row,
        status_column,
        {
            "validate": "list",
            "source": [entry.label for entry in table.legend],
            "error_type": "warning",
        },
    )
    if table.follow_up:
        _xlsx_annex(workbook, table, header, wrapped, plain)
    workbook.close()

    # The style numbers XlsxWriter gave the column formats, for the cells written below.
    styles = [fmt.xf_index for fmt in formats]
    # The header labels (and the annex sheet's texts) are the shared strings XlsxWriter wrote,
    # in the order written; the data's texts follow them, and the table is written anew with
    # all. XlsxWriter numbers its shared strings in the order they are written: the header labels,
    # then the annex sheet's texts.
    strings: dict[str, int] = {}
    written = [*labels, *(text for row in annex for text in row if text)] if annex else labels
    for label in written:
        strings.setdefault(label, len(strings))
    written_strings = len(strings)
    rows_xml, made, references = _xlsx_rows(table, styles, strings, widths)
    assert made == count
    last_cell = f"{_column_letter(len(COLUMNS) - 1)}{count + 1}"
    output = BytesIO()
    with (
        zipfile.ZipFile(BytesIO(buffer.getvalue())) as source,
        zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                xml = data.decode()
                xml = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{last_cell}"/>', xml)
                head, tail = xml.split("</sheetData>", 1)
                data = (head + rows_xml + "</sheetData>" + tail).encode()
            elif item.filename == "xl/sharedStrings.xml":
                if f'uniqueCount="{written_strings}"' not in data.decode():  # pragma: no cover
                    raise RuntimeError("XlsxWriter's shared strings are not the header labels")
                data = _shared_strings(strings, len(written) + references)
            target.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
    return output.getvalue()


# --- ODS -------------------------------------------------------------------------------------

_NAMESPACES = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
    'xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
    'xmlns:config="urn:oasis:names:tc:opendocument:xmlns:config:1.0" '
    'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
    'office:version="1.3"'
)
# Characters XML 1.0 does not allow (control characters other than tab and newline).
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: str) -> str:
    return escape(_INVALID_XML.sub("", value))


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _ods_cell(kind: str, value: object) -> str:
    if value is None or value == "":
        return "<table:table-cell/>"
    if kind == "integer":
        return (
            f'<table:table-cell office:value-type="float" office:value="{value}">'
            f"<text:p>{value}</text:p></table:table-cell>"
        )
    if kind == "datetime":
        assert isinstance(value, datetime)
        stamp = value.replace(tzinfo=None).isoformat(timespec="seconds")
        return (
            f'<table:table-cell office:value-type="date" office:date-value="{stamp}">'
            f"<text:p>{stamp[:16].replace('T', ' ')}</text:p></table:table-cell>"
        )
    assert isinstance(value, str)
    paragraphs = "</text:p><text:p>".join(_text(line) for line in neutralise(value).split("\n"))
    return (
        f'<table:table-cell office:value-type="string"><text:p>{paragraphs}</text:p>'
        "</table:table-cell>"
    )


def _ods_content(table: ProgressTable, sheet: str) -> tuple[str, int]:
    """content.xml, and the number of data rows."""
    columns = "".join(
        f'<style:style style:name="co{index}" style:family="table-column">'
        f'<style:table-column-properties style:column-width="{width * 0.19:.2f}cm"/>'
        "</style:style>"
        for index, width in enumerate(_widths(_labels(table)))
    )
    styles = (
        "<office:automatic-styles>"
        + columns
        + '<number:date-style style:name="N1"><number:year number:style="long"/><number:text>-'
        '</number:text><number:month number:style="long"/><number:text>-</number:text>'
        '<number:day number:style="long"/><number:text> </number:text>'
        '<number:hours number:style="long"/><number:text>:</number:text>'
        '<number:minutes number:style="long"/></number:date-style>'
        '<style:style style:name="ro1" style:family="table-row">'
        '<style:table-row-properties style:use-optimal-row-height="true"/></style:style>'
        '<style:style style:name="ce1" style:family="table-cell">'
        '<style:table-cell-properties fo:background-color="#d9e6f2" fo:wrap-option="wrap"/>'
        '<style:text-properties fo:font-weight="bold"/></style:style>'
        '<style:style style:name="ce2" style:family="table-cell">'
        '<style:table-cell-properties fo:wrap-option="wrap" style:vertical-align="top"/>'
        "</style:style>"
        '<style:style style:name="ce3" style:family="table-cell" style:data-style-name="N1">'
        '<style:table-cell-properties style:vertical-align="top"/></style:style>'
        '<style:style style:name="ce4" style:family="table-cell">'
        '<style:table-cell-properties style:vertical-align="top"/></style:style>'
        '<style:style style:name="ta1" style:family="table" style:master-page-name="Default">'
        '<style:table-properties table:display="true"/></style:style>'
        + "".join(
            f'<style:style style:name="ca{index}" style:family="table-column">'
            f'<style:table-column-properties style:column-width="{width * 0.19:.2f}cm"/>'
            "</style:style>"
            for index, width in enumerate(ANNEX_WIDTHS)
        )
        # The annex's rows, by the number of lines their longest cell takes (_annex_lines).
        + "".join(
            f'<style:style style:name="ra{lines}" style:family="table-row">'
            f'<style:table-row-properties style:row-height="{lines * 0.45:.2f}cm" '
            'style:use-optimal-row-height="false"/></style:style>'
            for lines in range(1, 21)
        )
        + "</office:automatic-styles>"
    )
    cell_style = [
        "ce3" if column.kind == "datetime" else "ce2" if column.key in WRAPPED else "ce4"
        for column in COLUMNS
    ]
    kinds = [column.kind for column in COLUMNS]
    parts = [
        f"<?xml version='1.0' encoding='UTF-8'?><office:document-content {_NAMESPACES}>",
        styles,
        "<office:body><office:spreadsheet>"
        f'<table:table table:name={quoteattr(sheet)} table:style-name="ta1">',
        "".join(
            f'<table:table-column table:style-name="co{index}" '
            f'table:default-cell-style-name="{cell_style[index]}"/>'
            for index in range(len(COLUMNS))
        ),
        '<table:table-header-rows><table:table-row table:style-name="ro1">',
        "".join(
            f'<table:table-cell table:style-name="ce1" office:value-type="string">'
            f"<text:p>{_text(label)}</text:p></table:table-cell>"
            for label in _labels(table)
        ),
        "</table:table-row></table:table-header-rows>",
    ]
    append = parts.append
    # A cell's XML depends only on its column and value (ODS cells carry no address), and
    # titles, statuses, numbers and organisations repeat: each is written once.
    cached: dict[tuple[int, object], str] = {}
    rows = 0
    for values in table.column_rows():
        rows += 1
        cells = ["<table:table-row>"]
        for index, value in enumerate(values):
            cell = cached.get((index, value))
            if cell is None:
                cell = _ods_cell(kinds[index], value)
                if kinds[index] != "datetime":
                    cached[index, value] = cell
            cells.append(cell)
        cells.append("</table:table-row>")
        append("".join(cells))
    last = f"{_column_letter(len(COLUMNS) - 1)}{rows + 1}"
    quoted = "'" + sheet.replace("'", "''") + "'"
    append("</table:table>")
    if table.follow_up:
        append(_ods_annex(table))
    append(
        "<table:database-ranges>"
        '<table:database-range table:name="__Anonymous_Sheet_DB__0" '
        f"table:target-range-address={quoteattr(f'{quoted}.A1:{quoted}.{last}')} "
        'table:display-filter-buttons="true"/></table:database-ranges>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    return "".join(parts), rows


def _ods_annex(table: ProgressTable) -> str:
    """The annex sheet (a table of its own): its header row repeated when printed."""
    parts = [
        f'<table:table table:name={quoteattr(_annex_sheet_name(table))} table:style-name="ta1">',
        "".join(
            f'<table:table-column table:style-name="ca{index}" '
            f'table:default-cell-style-name="{"ce2" if index in ANNEX_WRAPPED else "ce4"}"/>'
            for index in range(len(ANNEX_WIDTHS))
        ),
        '<table:table-header-rows><table:table-row table:style-name="ro1">',
        "".join(
            f'<table:table-cell table:style-name="ce1" office:value-type="string">'
            f"<text:p>{_text(label)}</text:p></table:table-cell>"
            for label in annex_labels(table)
        ),
        "</table:table-row></table:table-header-rows>",
    ]
    for row in annex_rows(table):
        parts.append(f'<table:table-row table:style-name="ra{min(_annex_lines(row), 20)}">')
        for value in row:
            if not value:
                parts.append("<table:table-cell/>")
                continue
            paragraphs = "</text:p><text:p>".join(_text(line) for line in value.split("\n"))
            parts.append(
                f'<table:table-cell office:value-type="string"><text:p>{paragraphs}</text:p>'
                "</table:table-cell>"
            )
        parts.append("</table:table-row>")
    parts.append("</table:table>")
    return "".join(parts)


def _ods_settings(sheet: str) -> str:
    """Freeze the header row (LibreOffice's view settings: a horizontal split after row 1)."""

    def item(name: str, kind: str, value: object) -> str:
        return (
            f'<config:config-item config:name="{name}" config:type="{kind}">{value}'
            "</config:config-item>"
        )

    return (
        f"<?xml version='1.0' encoding='UTF-8'?><office:document-settings {_NAMESPACES}>"
        '<office:settings><config:config-item-set config:name="ooo:view-settings">'
        '<config:config-item-map-indexed config:name="Views"><config:config-item-map-entry>'
        + item("ViewId", "string", "view1")
        + '<config:config-item-map-named config:name="Tables">'
        f"<config:config-item-map-entry config:name={quoteattr(sheet)}>"
        + item("HorizontalSplitMode", "short", 0)
        + item("VerticalSplitMode", "short", 2)
        + item("HorizontalSplitPosition", "int", 0)
        + item("VerticalSplitPosition", "int", 1)
        + item("ActiveSplitRange", "short", 2)
        + item("PositionLeft", "int", 0)
        + item("PositionRight", "int", 0)
        + item("PositionTop", "int", 0)
        + item("PositionBottom", "int", 1)
        + "</config:config-item-map-entry></config:config-item-map-named>"
        + item("ActiveTable", "string", _text(sheet))
        + "</config:config-item-map-entry></config:config-item-map-indexed>"
        "</config:config-item-set></office:settings></office:document-settings>"
    )


def _ods_meta(table: ProgressTable) -> str:
    return (
        f"<?xml version='1.0' encoding='UTF-8'?><office:document-meta {_NAMESPACES}>"
        f"<office:meta><dc:title>{_text(table.title)}</dc:title>"
        f"<dc:language>{'nl-NL' if table.language == 'nl' else 'en-GB'}</dc:language>"
        f"<meta:generator>Voortgang</meta:generator>"
        f"<meta:creation-date>{table.generated_at.replace(tzinfo=None).isoformat(timespec='seconds')}"
        "</meta:creation-date></office:meta></office:document-meta>"
    )


_MANIFEST = (
    "<?xml version='1.0' encoding='UTF-8'?>"
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
    'manifest:version="1.3">'
    f'<manifest:file-entry manifest:full-path="/" manifest:version="1.3" '
    f'manifest:media-type="{ODS_MEDIA_TYPE}"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    '<manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>'
    '<manifest:file-entry manifest:full-path="settings.xml" manifest:media-type="text/xml"/>'
    '<manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)


def _ods_styles(table: ProgressTable) -> str:
    """styles.xml: printed as the XLSX is, A4 landscape scaled to one page wide (as many pages
    down as it takes: LibreOffice's loext:scale-to-X/Y), the header row on every page
    (table-header-rows), programme and period (and DRAFT) in the page header, "Page X of Y"
    at the right of the footer."""
    space = '<style:header-footer-properties fo:min-height="0.6cm" fo:margin="0.2cm"/>'  # printed
    draft = (
        f"<style:region-right><text:p>{_text(table.texts.draft)}</text:p></style:region-right>"
        if table.draft
        else ""
    )
    page = re.sub(
        r"%\((page|pages)\)s",
        lambda m: (
            '<text:page-number text:select-page="current">1</text:page-number>'
            if m.group(1) == "page"
            else "<text:page-count>1</text:page-count>"
        ),
        _text(table.texts.page),
    )
    return (
        f"<?xml version='1.0' encoding='UTF-8'?><office:document-styles {_NAMESPACES} "
        'xmlns:loext="urn:org:documentfoundation:names:experimental:office:xmlns:loext:1.0">'
        "<office:styles/><office:automatic-styles>"
        '<style:page-layout style:name="pm1"><style:page-layout-properties '
        'fo:page-width="29.7cm" fo:page-height="21cm" style:print-orientation="landscape" '
        'fo:margin-top="1.2cm" fo:margin-bottom="1.2cm" fo:margin-left="1.5cm" '
        'fo:margin-right="1.5cm" loext:scale-to-X="1" loext:scale-to-Y="0"/>'
        f"<style:header-style>{space}</style:header-style>"
        f"<style:footer-style>{space}</style:footer-style></style:page-layout>"
        "</office:automatic-styles><office:master-styles>"
        '<style:master-page style:name="Default" style:page-layout-name="pm1">'
        f"<style:header><style:region-left><text:p>{_text(table.header_text)}</text:p>"
        f"</style:region-left>{draft}</style:header>"
        f"<style:footer><style:region-right><text:p>{page}</text:p></style:region-right>"
        "</style:footer></style:master-page></office:master-styles></office:document-styles>"
    )


def render_ods(table: ProgressTable) -> bytes:
    sheet = _sheet_name(table)
    content, _ = _ods_content(table, sheet)
    buffer = BytesIO()
    # Level 1: the XML still shrinks about tenfold, in a third of the default level's time.
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        # The media type first and uncompressed: how a reader recognises the format.
        archive.writestr(
            zipfile.ZipInfo("mimetype"), ODS_MEDIA_TYPE, compress_type=zipfile.ZIP_STORED
        )
        archive.writestr("META-INF/manifest.xml", _MANIFEST)
        archive.writestr("content.xml", content)
        archive.writestr("styles.xml", _ods_styles(table))
        archive.writestr("settings.xml", _ods_settings(sheet))
        archive.writestr("meta.xml", _ods_meta(table))
    return buffer.getvalue()
